"""The Home Area Network: appliance load models (`loads`), appliances as C12.22 nodes with their own
tables (`appliance`), the meter's permit-join window and HAN registry (`pairing`), and the policies the
meter's load-control engine applies to each appliance (`policies`)."""

from openami.han.appliance import Appliance, ApplianceIdentity
from openami.han.pairing import HanRegistry, JoinAccepted, JoinRefused, PermitJoin
from openami.han.policies import AppliancePolicy, DeadlineJob, DeadlinePlan, PriceCurve, plan_deadline

__all__ = [
    "Appliance",
    "ApplianceIdentity",
    "AppliancePolicy",
    "DeadlineJob",
    "DeadlinePlan",
    "HanRegistry",
    "JoinAccepted",
    "JoinRefused",
    "PermitJoin",
    "PriceCurve",
    "plan_deadline",
]
