"""The meter's price-driven load-control engine (sans-IO, driven by ``now``).

`LoadControlEngine` keeps one `openami.han.policies.AppliancePolicy` per control point (ST113 index) and
decides ON/OFF at every `LoadControlEngine.step` from the measured premise load, the price in effect,
the demand limit, demand-response (DR) events, ST115 conditions, deadline jobs and direct commands
(SP21). It returns `SwitchDecision` values for the driver to carry out (switch a `SwitchedLoad`, send a
HAN command) and logs every switch through an `EventSink` — the meter's ``LiveData.log_event`` fits.

Rules, for each point, highest precedence first:

1. A direct command (SP21 / head-end) holds the point ON or OFF until released or its duration ends.
   It respects the minimum on/off times and never switches a non-interruptible point off, unless given
   ``override=True`` (then both are bypassed).
2. Otherwise the base state: a deadline job's plan (`openami.han.policies.plan_deadline`; OFF outside
   the planned pieces and once the run is done), else the policy's ``default_on``.
3. Interruptible points only: OFF while a DR event targeting them is active and their priority is below
   the event's cut (criticality c → priority < min(256, 32·c): c = 8 or 9 sheds every interruptible
   point); OFF while an enabled ST115 condition with level 0 holds; OFF while the price in effect exceeds
   ``price_threshold``; OFF while the point's measured load exceeds ``max_load_w``.
4. Premise demand limit: while the projected load (measured total, minus the loads switched off, plus
   the rated loads switched on, at this step) exceeds the limit, interruptible, uncommanded ON points
   that have run their minimum on time are shed, **lowest ST113 priority number first** (0 is shed
   first, 255 last; ties: higher point index first). An interruptible point switched on automatically
   is admitted only if the projected load plus its rated load stays within the limit — within the limit minus
   ``hysteresis_w`` when it had been shed by the limit — most important first.
5. Minimum on/off times hold for every automatic change: a change due earlier waits (no chatter).

Sources and events (`ControlSource`, event codes of C12.19's list): COMMAND → 49, SCHEDULE (DR events,
ST114 entries, deadline plans) → 50, CONDITION (price threshold, ST115) and DEMAND_LIMIT (premise limit,
per-point MAX_LOAD) → 51. A switch back to a point's base state is attributed to the rule that had
held it. Event argument: 3 octets (control point, new level 0 / 100, `ControlSource`).

Time: ``now`` is meter time in seconds (the engine's clock, s since 1970); `to_status` turns it into
naive datetimes through ``local_time`` (default: the same seconds read as UTC). Power in W, prices in
the ST118 currency per kWh. Not done: levels between 0 and 100 (a level > 0 is ON), recurring ST114
entries and ST114 levels > 0 (ignored), ST115 non-auto-restore latching (every condition auto-restores),
ST113 MAX_OFF_TIME, customer override.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from openami.c1219.procedures import DirectLoadControlParams, LoadControlAction
from openami.c1219.std.decade11 import (
    ALL_CONTROL_POINTS,
    NO_SOURCE,
    Comparison,
    ConditionSource,
    ControlPointType,
    ControlSource,
    compare,
)
from openami.errors import LocalProtocolError
from openami.han.policies import AppliancePolicy, DeadlineJob, DeadlinePlan, PriceCurve, plan_deadline
from openami.meter.loadcontrol_types import (
    CommandResult,
    Condition,
    DrEvent,
    EventSink,
    Measurements,
    SwitchDecision,
)
from openami.meter.procedures import ControlPointState

__all__ = [
    "EVENT_FOR_SOURCE",
    "CommandResult",
    "Condition",
    "DrEvent",
    "EventSink",
    "LoadControlEngine",
    "Measurements",
    "SwitchDecision",
]

EVENT_FOR_SOURCE: Mapping[ControlSource, int] = {
    ControlSource.NONE: 51,
    ControlSource.COMMAND: 49,
    ControlSource.SCHEDULE: 50,
    ControlSource.CONDITION: 51,
    ControlSource.PREPAYMENT: 52,
    ControlSource.CUSTOMER_OVERRIDE: 49,
    ControlSource.DEMAND_LIMIT: 51,
}
"""Event code (C12.19 list: 49 command, 50 schedule, 51 condition, 52 prepayment) logged per source."""

_EPS = 1e-9


@dataclass
class _Point:
    policy: AppliancePolicy
    on: bool
    since: float
    source: ControlSource = ControlSource.NONE
    source_index: int = NO_SOURCE
    last_change: float | None = None
    command: bool | None = None
    command_until: float | None = None
    override: bool = False
    limit_shed: bool = False
    job: DeadlineJob | None = None
    run_done_s: float = 0.0
    plan: DeadlinePlan | None = None
    plan_stamp: tuple[int, float] | None = None
    load_w: float = 0.0


@dataclass
class _CondState:
    true_since: float | None = None
    active: bool = False


@dataclass(frozen=True, slots=True)
class _Want:
    on: bool
    source: ControlSource
    reason: str
    index: int = NO_SOURCE


class LoadControlEngine:
    """The load-control engine (see the module docstring). ``sink`` receives every switch event;
    ``user_id`` goes into them; ``period_s`` is the control period `next_timer` asks for."""

    def __init__(self, sink: EventSink | None = None, *, period_s: float = 1.0, user_id: int = 0) -> None:
        if not (math.isfinite(period_s) and period_s > 0):
            raise LocalProtocolError("period_s must be positive")
        self.sink = sink
        self.period_s = float(period_s)
        self.user_id = user_id
        self.points: dict[int, _Point] = {}
        self.count = 0
        self.tier_prices: tuple[float, ...] = ()
        self.tier = 0
        self.realtime_price: float | None = None
        self.curve: PriceCurve | None = None
        self._curve_version = 0
        self.demand_limit_w: float | None = None
        self.hysteresis_w = 0.0
        self.dr_events: dict[int, DrEvent] = {}
        self.conditions: list[Condition] = []
        self._cond_state: dict[int, _CondState] = {}
        self._now: float | None = None
        self._last = Measurements(0.0)

    # -- configuration -------------------------------------------------------------------------------------------
    def add_appliance(self, point: int, policy: AppliancePolicy, *, now: float = 0.0, on: bool | None = None) -> None:
        """Manage control point ``point`` (0..254) under ``policy``; it starts ``on`` (default: its base
        state) at meter time ``now``."""
        if isinstance(point, bool) or not 0 <= point < ALL_CONTROL_POINTS:
            raise LocalProtocolError(f"control point is 0..254, got {point!r}")
        state = (policy.default_on and policy.deadline is None) if on is None else on
        self.points[point] = _Point(policy, state, now, job=policy.deadline)
        self.count = max(self.count, point + 1)

    def set_policy(self, point: int, policy: AppliancePolicy) -> None:
        """Replace a point's policy (its state and timers carry on; a new deadline job restarts)."""
        p = self._point(point)
        if policy.deadline != p.policy.deadline:
            p.job, p.run_done_s, p.plan = policy.deadline, 0.0, None
        p.policy = policy

    def set_tier_prices(self, prices: Sequence[float]) -> None:
        """ST118 prices per TOU tier (currency/kWh)."""
        if not all(math.isfinite(x) for x in prices):
            raise LocalProtocolError("prices must be finite")
        self.tier_prices = tuple(float(x) for x in prices)

    def set_tier(self, tier: int) -> None:
        """The TOU tier in effect (ST55 CURR_TIER)."""
        self.tier = tier

    def set_price(self, price: float | None) -> None:
        """A real-time price (currency/kWh) that overrides the tier price; None goes back to tiers."""
        if price is not None and not math.isfinite(price):
            raise LocalProtocolError("price must be finite")
        self.realtime_price = price

    @property
    def price(self) -> float | None:
        """The price in effect: the real-time price, else the current tier's price, else None."""
        if self.realtime_price is not None:
            return self.realtime_price
        return self.tier_prices[self.tier] if 0 <= self.tier < len(self.tier_prices) else None

    def set_price_curve(self, curve: PriceCurve | None) -> None:
        """The price forecast deadline jobs are planned against (every plan is redone)."""
        self.curve = curve
        self._curve_version += 1

    def set_demand_limit(self, limit_w: float | None, hysteresis_w: float = 0.0) -> None:
        """Premise demand limit (W; None: none) and the margin below it needed to restore a shed load."""
        if limit_w is not None and not (math.isfinite(limit_w) and limit_w >= 0):
            raise LocalProtocolError("demand limit must be finite and ≥ 0")
        if not (math.isfinite(hysteresis_w) and hysteresis_w >= 0):
            raise LocalProtocolError("hysteresis must be finite and ≥ 0")
        self.demand_limit_w, self.hysteresis_w = limit_w, float(hysteresis_w)

    def add_dr_event(self, event: DrEvent) -> None:
        """Schedule (or replace, by ``event_id``) a DR event."""
        self.dr_events[event.event_id] = event

    def cancel_dr_event(self, event_id: int) -> bool:
        """Cancel a DR event; its points are restored at the next step. False if unknown."""
        return self.dr_events.pop(event_id, None) is not None

    def set_conditions(self, conditions: Sequence[Condition]) -> None:
        """Replace the ST115 conditions."""
        self.conditions = list(conditions)
        self._cond_state = {c.index: _CondState() for c in conditions}

    # -- commands --------------------------------------------------------------------------------------------------
    def command(
        self, now: float, point: int, on: bool | None, *, duration_s: float = 0.0, override: bool = False
    ) -> CommandResult:
        """Direct command: hold ``point`` (255: every managed point) ON / OFF, or release it (None), for
        ``duration_s`` (0: until the next command). Applied at once through a `step` with the last
        measurements."""
        targets = sorted(self.points) if point == ALL_CONTROL_POINTS else [point]
        for t in targets:
            self._point(t)
        accepted = True
        for t in targets:
            p = self.points[t]
            if on is False and not p.policy.interruptible and not override:
                accepted = False
                continue
            p.command, p.override = on, override and on is not None
            p.command_until = now + duration_s if on is not None and duration_s > 0 else None
            if on is None:
                p.source = ControlSource.COMMAND
        decisions = self.step(now, self._last) if self._now is None or now >= self._now else []
        return CommandResult(accepted, tuple(decisions))

    def apply_sp21(self, params: DirectLoadControlParams, now: float, *, override: bool = False) -> CommandResult:
        """SP21: SHED → OFF, RESTORE → ON, SET_LEVEL → ON if level > 0, RELEASE → release; DURATION in min."""
        level = params.level
        on = None if params.action == LoadControlAction.RELEASE else bool(level)
        return self.command(now, params.control_point, on, duration_s=params.duration * 60.0, override=override)

    # -- the control step ------------------------------------------------------------------------------------------
    def next_timer(self, now: float) -> float:
        """When the engine next wants `step`: the next control period or DR event boundary."""
        out = now + self.period_s
        for ev in self.dr_events.values():
            for t in (ev.start, ev.end):
                if now < t < out:
                    out = t
        return out

    def step(self, now: float, measurements: Measurements) -> list[SwitchDecision]:
        """Decide at meter time ``now`` from ``measurements``; returns (and logs) the switches made."""
        if self._now is not None and now < self._now - _EPS:
            raise LocalProtocolError(f"time went backwards: {now} < {self._now}")
        elapsed = 0.0 if self._now is None else now - self._now
        self._now, self._last = now, measurements
        for pt, p in self.points.items():
            if p.on and p.job is not None:
                p.run_done_s += elapsed
            p.load_w = measurements.loads_w.get(pt, p.policy.rated_w if p.on else 0.0)
            if p.command_until is not None and now >= p.command_until:
                p.command, p.command_until, p.override = None, None, False
            while p.job is not None and now >= p.job.deadline:
                if p.job.repeat_s > 0:
                    p.job = replace(p.job, deadline=p.job.deadline + p.job.repeat_s)
                else:
                    p.job = None
                p.run_done_s, p.plan = 0.0, None
        for eid in [e.event_id for e in self.dr_events.values() if now >= e.end]:
            del self.dr_events[eid]
        active = self._conditions(now, measurements)
        wants = {pt: self._want(pt, p, now, active) for pt, p in self.points.items()}
        wants = self._limit(now, measurements, wants)
        decisions: list[SwitchDecision] = []
        for pt in sorted(wants):
            p, w = self.points[pt], wants[pt]
            if w.on == p.on:
                if w.on and p.limit_shed:
                    p.limit_shed = False
                continue
            source = w.source if w.source != ControlSource.NONE else p.source
            decision = SwitchDecision(pt, w.on, w.reason, ControlSource(source), now, w.index)
            p.on, p.since, p.last_change = w.on, now, now
            p.source, p.source_index = decision.source, w.index
            if w.on:
                p.limit_shed = False
            decisions.append(decision)
            if self.sink is not None:
                argument = bytes((pt, 100 if w.on else 0, int(decision.source)))
                self.sink.log_event(EVENT_FOR_SOURCE[decision.source], self.user_id, argument)
        return decisions

    def _may_switch(self, p: _Point, on: bool, now: float) -> bool:
        if p.override and p.command is not None:
            return True
        held = now - p.since
        return held >= (p.policy.min_off_s if on else p.policy.min_on_s) - _EPS

    def _base(self, pt: int, p: _Point, now: float) -> _Want:
        if p.policy.deadline is None:
            return _Want(p.policy.default_on, ControlSource.NONE, "default state")
        job = p.job
        if job is None or p.run_done_s >= job.run_s - _EPS:
            return _Want(False, ControlSource.SCHEDULE, "deadline job done")
        if self.curve is None:
            return _Want(True, ControlSource.SCHEDULE, "deadline job (no price curve)")
        stamp = (self._curve_version, job.deadline)
        slot = int((now - self.curve.start) // self.curve.slot_s)
        stale = p.plan is None or p.plan_stamp is None or p.plan_stamp[0] != stamp[0]
        if not stale and p.plan is not None and p.plan.is_on(now) != p.on and p.plan_stamp != (stamp[0], slot):
            stale = True  # the plan was disturbed (shed, command): plan again, at most once per slot
        if stale:
            p.plan = plan_deadline(
                self.curve,
                now,
                job.run_s - p.run_done_s,
                job.deadline,
                rated_w=max(p.policy.rated_w, 1.0),
                on=p.on,
                in_state_s=now - p.since,
                min_on_s=p.policy.min_on_s,
                min_off_s=p.policy.min_off_s,
            )
            p.plan_stamp = (stamp[0], slot)
        assert p.plan is not None
        return _Want(p.plan.is_on(now), ControlSource.SCHEDULE, "deadline plan")

    def _want(self, pt: int, p: _Point, now: float, active: Mapping[int, Condition]) -> _Want:
        if p.command is not None:
            want = _Want(p.command, ControlSource.COMMAND, "direct command")
        else:
            want = self._base(pt, p, now)
            if p.policy.interruptible and want.on:
                want = self._shed_rules(pt, p, now, active) or want
        if want.on != p.on and not self._may_switch(p, want.on, now):
            return _Want(p.on, p.source, "minimum on/off time", p.source_index)
        return want

    def _shed_rules(self, pt: int, p: _Point, now: float, active: Mapping[int, Condition]) -> _Want | None:
        for ev in sorted(self.dr_events.values(), key=lambda e: e.event_id):
            if ev.applies(pt, p.policy.priority, now):
                return _Want(False, ControlSource.SCHEDULE, f"DR event {ev.event_id}", ev.event_id & 0xFF)
        for index, cond in active.items():
            if pt in cond.points:
                return _Want(False, ControlSource.CONDITION, f"condition {index}", index)
        price, limit = self.price, p.policy.price_threshold
        if price is not None and limit is not None and price > limit:
            return _Want(False, ControlSource.CONDITION, f"price {price} above {limit}")
        if p.policy.max_load_w > 0 and p.load_w > p.policy.max_load_w:
            return _Want(False, ControlSource.DEMAND_LIMIT, f"load {p.load_w} W above its maximum")
        return None

    def _limit(self, now: float, m: Measurements, wants: dict[int, _Want]) -> dict[int, _Want]:
        limit = self.demand_limit_w
        if limit is None:
            for p in self.points.values():
                p.limit_shed = False
            return wants
        projected = m.total_w - sum(
            self.points[pt].load_w for pt, w in wants.items() if self.points[pt].on and not w.on
        )
        out = dict(wants)
        importance = sorted(self.points, key=lambda pt: (-self.points[pt].policy.priority, pt))
        for pt in importance:  # switch-ons, most important first
            p, w = self.points[pt], wants[pt]
            if not w.on or p.on:
                continue
            room = limit - (self.hysteresis_w if p.limit_shed else 0.0)
            exempt = w.source == ControlSource.COMMAND or not p.policy.interruptible
            if exempt or projected + p.policy.rated_w <= room + _EPS:
                projected += p.policy.rated_w
            else:
                p.limit_shed = True
                out[pt] = _Want(False, ControlSource.DEMAND_LIMIT, "held off by the demand limit")
        for pt in reversed(importance):  # shedding, least important first
            if projected <= limit + _EPS:
                break
            p, w = self.points[pt], out[pt]
            if not (p.on and w.on) or not p.policy.interruptible or p.command is not None:
                continue
            if not self._may_switch(p, False, now):
                continue
            projected -= p.load_w
            p.limit_shed = True
            out[pt] = _Want(False, ControlSource.DEMAND_LIMIT, f"demand above the {limit} W limit")
        return out

    def _conditions(self, now: float, m: Measurements) -> dict[int, Condition]:
        active: dict[int, Condition] = {}
        for c in self.conditions:
            state = self._cond_state.setdefault(c.index, _CondState())
            value = self._condition_value(c, m)
            if value is None:
                continue
            if not state.active:
                if compare(c.comparison, value, c.threshold):
                    state.true_since = now if state.true_since is None else state.true_since
                    state.active = now - state.true_since >= c.min_duration_s - _EPS
                else:
                    state.true_since = None
            else:
                margin = c.hysteresis if c.comparison in (Comparison.GT, Comparison.GE) else -c.hysteresis
                if not compare(c.comparison, value, c.threshold - margin):
                    state.active, state.true_since = False, None
            if state.active:
                active[c.index] = c
        return active

    def _condition_value(self, c: Condition, m: Measurements) -> float | None:
        if c.source == ConditionSource.PRICE:
            return self.price
        if c.source == ConditionSource.PRICE_TIER:
            return float(self.tier)
        if c.source in (ConditionSource.DEMAND, ConditionSource.TOTAL_LOAD):
            return m.total_w
        if c.source == ConditionSource.CONTROL_POINT_LOAD and c.source_index in self.points:
            return self.points[c.source_index].load_w
        return None

    def _point(self, point: int) -> _Point:
        try:
            return self.points[point]
        except KeyError:
            raise LocalProtocolError(f"control point {point} is not managed") from None

    # -- status for the head-end -------------------------------------------------------------------------------------
    def control_point_states(
        self, now: float, local_time: Callable[[float], dt.datetime] | None = None
    ) -> list[ControlPointState]:
        """`ControlPointState` per control point 0..count-1 (for ``LiveData.control_points``); points not
        managed here read level 100, source NONE, load 0 (the meter fills in its disconnect switch)."""
        conv = local_time or _utc
        out = []
        for pt in range(self.count):
            p = self.points.get(pt)
            if p is None:
                out.append(ControlPointState())
                continue
            until = p.command_until
            left = 0 if until is None else max(0, math.ceil((until - now) / 60))
            changed = None if p.last_change is None else conv(p.last_change)
            out.append(ControlPointState(100 if p.on else 0, int(p.source), changed, left, p.load_w if p.on else 0.0))
        return out

    def to_status(self, now: float, local_time: Callable[[float], dt.datetime] | None = None) -> dict[str, Any]:
        """ST112 LOAD_CONTROL_STATUS_TBL values (all flags set in ST111): LAST_CHANGE is a naive datetime
        or None (never changed; the caller writes zero octets)."""
        states = self.control_point_states(now, local_time)
        points = []
        for pt, s in enumerate(states):
            p = self.points.get(pt)
            points.append(
                {
                    "STATUS_FLAGS": {
                        "SUPPLY_ON_FLAG": s.level > 0,
                        "OVERRIDE_ACTIVE_FLAG": False,
                        "COMMAND_FAILED_FLAG": False,
                        "RECONNECT_ARMED_FLAG": False,
                        "DEMAND_LIMIT_EXCEEDED_FLAG": p is not None and p.limit_shed,
                    },
                    "CONTROL_LEVEL": s.level,
                    "CONTROL_SOURCE": s.source,
                    "SOURCE_INDEX": NO_SOURCE if p is None else p.source_index,
                    "LAST_CHANGE": s.last_change,
                    "REMAINING_DURATION": min(s.remaining_min, 0xFFFF),
                    "PRESENT_LOAD": s.load_w,
                }
            )
        return {
            "CURRENT_PRICE_TIER": self.tier & 0xFF,
            "CURRENT_PRICE": 0.0 if self.price is None else self.price,
            "TOTAL_LOAD": self._last.total_w,
            "CONTROL_POINT_STATUS": points,
        }

    # -- from the decade 11 tables -----------------------------------------------------------------------------------
    @classmethod
    def from_tables(
        cls,
        st111: Mapping[str, Any],
        st113: Mapping[str, Any],
        st114: Mapping[str, Any] | None = None,
        st115: Mapping[str, Any] | None = None,
        st118: Mapping[str, Any] | None = None,
        *,
        now: float = 0.0,
        sink: EventSink | None = None,
        to_seconds: Callable[[dt.datetime], float] | None = None,
        period_s: float = 1.0,
    ) -> LoadControlEngine:
        """An engine from decoded ST111/ST113 (and optionally ST114, ST115, ST118) values. SERVICE_DISCONNECT
        and disabled points are left to the meter. DEADLINE (time of day) → a daily `DeadlineJob` for its
        next occurrence after ``now``; ``to_seconds`` turns table datetimes into meter seconds (default:
        naive datetimes read as UTC). ST114: enabled, non-recurring entries with level 0 become
        criticality-9 DR events (event id = entry index)."""
        conv = to_seconds or _seconds
        engine = cls(sink, period_s=period_s)
        points = st113.get("CONTROL_POINT_CONFIG", [])
        engine.count = int(st111.get("NBR_CONTROL_POINTS", len(points)))
        for index, cfg in enumerate(points):
            flags = cfg["CONTROL_POINT_FLAGS"]
            if (
                not flags.get("CONTROL_ENABLED_FLAG")
                or cfg["CONTROL_POINT_TYPE"] == ControlPointType.SERVICE_DISCONNECT
            ):
                continue
            job = None
            if cfg.get("REQUIRED_RUN_TIME", 0) > 0 and isinstance(cfg.get("DEADLINE"), dt.time):
                t: dt.time = cfg["DEADLINE"]
                deadline = math.floor(now / 86400) * 86400 + t.hour * 3600 + t.minute * 60 + t.second
                deadline += 86400 if deadline <= now else 0
                job = DeadlineJob(cfg["REQUIRED_RUN_TIME"] * 60.0, float(deadline), 86400.0)
            limit = float(cfg.get("PRICE_LIMIT", 0))
            policy = AppliancePolicy(
                priority=int(cfg["PRIORITY"]),
                interruptible=bool(flags.get("INTERRUPTIBLE_FLAG")),
                min_on_s=float(cfg.get("MIN_ON_TIME", 0)),
                min_off_s=float(cfg.get("MIN_OFF_TIME", 0)),
                rated_w=max(0.0, float(cfg.get("RATED_LOAD", 0))),
                max_load_w=max(0.0, float(cfg.get("MAX_LOAD", 0))),
                price_threshold=limit if limit > 0 else None,
                default_on=bool(flags.get("DEFAULT_ON_FLAG")),
                deadline=job,
            )
            engine.add_appliance(index, policy, now=now)
        if st118 is not None:
            prices = []
            for tier in st118.get("TIER_PRICES", []):
                price = tier["PRICE"] if "PRICE" in tier else (tier["BLOCKS"][0]["PRICE"] if tier.get("BLOCKS") else 0)
                prices.append(float(price))
            engine.set_tier_prices(prices)
        for index, entry in enumerate((st114 or {}).get("SCHEDULE_ENTRIES", [])):
            sflags = entry["SCHEDULE_FLAGS"]
            start = entry["START_TIME"]
            if not sflags.get("ENTRY_ENABLED_FLAG") or sflags.get("RECURRING_FLAG") or entry["CONTROL_LEVEL"] != 0:
                continue
            if not isinstance(start, dt.datetime) or entry["DURATION"] == 0:
                continue
            target = entry["CONTROL_POINT"]
            scope = None if target == ALL_CONTROL_POINTS else frozenset({target})
            engine.add_dr_event(DrEvent(index, conv(start), entry["DURATION"] * 60.0, 9, scope))
        conditions = []
        for index, c in enumerate((st115 or {}).get("CONDITIONS", [])):
            cflags = c["CONDITION_FLAGS"]
            if not cflags.get("CONDITION_ENABLED_FLAG") or c["CONTROL_LEVEL"] != 0:
                continue
            if c["CONDITION_SOURCE"] not in set(ConditionSource) or cflags["COMPARISON"] not in set(Comparison):
                continue
            conditions.append(
                Condition(
                    index,
                    ConditionSource(c["CONDITION_SOURCE"]),
                    Comparison(cflags["COMPARISON"]),
                    float(c["THRESHOLD"]),
                    frozenset(c["CONTROL_POINTS"]),
                    float(c["HYSTERESIS"]),
                    float(c["MIN_DURATION"]),
                    int(c["SOURCE_INDEX"]),
                )
            )
        engine.set_conditions(conditions)
        return engine


def _utc(t: float) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=round(t))


def _seconds(when: dt.datetime) -> float:
    return (when - dt.datetime(1970, 1, 1)).total_seconds()
