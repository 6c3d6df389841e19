"""The Home Area Network: appliance policies for the meter's load-control engine (more to come)."""

from openami.han.policies import AppliancePolicy, DeadlineJob, DeadlinePlan, PriceCurve, plan_deadline

__all__ = ["AppliancePolicy", "DeadlineJob", "DeadlinePlan", "PriceCurve", "plan_deadline"]
