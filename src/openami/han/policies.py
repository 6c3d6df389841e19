"""Appliance load-control policies and the deadline-job planner.

An `AppliancePolicy` is what the head-end configures for one controllable appliance (one ST113 control
point): its priority, whether price, demand limits and demand-response events may switch it off
(interruptible), its minimum on and off times, its rated and maximum load, the price above which it is
switched off, and optionally a `DeadlineJob` ("run D seconds before deadline T at the lowest price").

**Priority** follows ST113 PRIORITY: 0..255, *0 is shed first, 255 last*. A higher number is more
important; demand-limit shedding goes from the lowest number upwards and restores from the highest
number downwards.

**Deadline planning** (`plan_deadline`): the time from ``now`` to the deadline is cut at the boundaries
of the `PriceCurve`'s slots (the first piece may be a partial slot). Each piece is either ON or OFF for
its whole length. A dynamic programme over the pieces, in time order, keeps for every state (run time
done so far — capped at the run time still needed —, ON or OFF, time spent in that state — capped at the
minimum on or off time) the cheapest cost and its choices. A switch ON is allowed only once the minimum
off time is reached, a switch OFF only once the minimum on time is reached (time already spent in the
current state before ``now`` counts). At the deadline the run time must be done and a final ON run must
have lasted the minimum on time. Cost = Σ price × piece length × rated power (price · W · s; only its
ordering matters). Pieces may be non-contiguous: the plan is the cheapest feasible set of pieces, not
the cheapest single window. Among plans of equal cost the DP keeps the first one reached (ties are
not otherwise specified: only the cost is guaranteed optimal). Exact: the state
space is finite because the capped durations take finitely many values.

Units: power in W, times in seconds of meter time, prices in the ST118 currency per kWh.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from openami.errors import LocalProtocolError

__all__ = [
    "AppliancePolicy",
    "DeadlineJob",
    "DeadlinePlan",
    "PriceCurve",
    "plan_deadline",
]

_EPS = 1e-9


def _finite(name: str, value: float, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LocalProtocolError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < low:
        raise LocalProtocolError(f"{name} must be finite and at least {low}, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class DeadlineJob:
    """Run ``run_s`` seconds in total before meter time ``deadline`` (s), at the lowest price.

    ``repeat_s`` > 0 renews the job that long after each deadline (86400: a daily job, ST113
    REQUIRED_RUN_TIME / DEADLINE); 0 runs it once.
    """

    run_s: float
    deadline: float
    repeat_s: float = 0.0

    def __post_init__(self) -> None:
        _finite("run_s", self.run_s)
        if not math.isfinite(self.deadline):
            raise LocalProtocolError(f"deadline must be finite, got {self.deadline!r}")
        _finite("repeat_s", self.repeat_s)
        if 0 < self.repeat_s < self.run_s:
            raise LocalProtocolError("repeat_s shorter than run_s can never be met")


@dataclass(frozen=True, slots=True)
class AppliancePolicy:
    """One appliance's policy (see the module docstring).

    ``priority`` 0..255 (0 shed first); ``interruptible`` False: price, demand limits and DR events never
    switch it off (only a direct command with ``override``); ``min_on_s`` / ``min_off_s`` shortest run
    and pause; ``rated_w`` its load when on (W, used when it is not measured and to plan); ``max_load_w``
    switched off while its measured load exceeds this (0: no limit); ``price_threshold`` switched off
    while the price in effect exceeds this (None: no threshold); ``default_on`` its state when no rule
    applies (a deadline job's appliance is off outside its planned run); ``deadline`` an optional job.
    """

    priority: int = 128
    interruptible: bool = True
    min_on_s: float = 0.0
    min_off_s: float = 0.0
    rated_w: float = 0.0
    max_load_w: float = 0.0
    price_threshold: float | None = None
    default_on: bool = True
    deadline: DeadlineJob | None = None

    def __post_init__(self) -> None:
        if isinstance(self.priority, bool) or not isinstance(self.priority, int) or not 0 <= self.priority <= 255:
            raise LocalProtocolError(f"priority is 0..255, got {self.priority!r}")
        if not isinstance(self.interruptible, bool) or not isinstance(self.default_on, bool):
            raise LocalProtocolError("interruptible and default_on must be bool")
        _finite("min_on_s", self.min_on_s)
        _finite("min_off_s", self.min_off_s)
        _finite("rated_w", self.rated_w)
        _finite("max_load_w", self.max_load_w)
        if self.price_threshold is not None:
            _finite("price_threshold", self.price_threshold, low=-math.inf)
        if self.deadline is not None and not isinstance(self.deadline, DeadlineJob):
            raise LocalProtocolError("deadline must be a DeadlineJob")


@dataclass(frozen=True, slots=True)
class PriceCurve:
    """A price forecast: ``prices[i]`` (currency/kWh) holds over [start + i·slot_s, start + (i+1)·slot_s)."""

    start: float
    slot_s: float
    prices: tuple[float, ...]

    def __post_init__(self) -> None:
        if not math.isfinite(self.start):
            raise LocalProtocolError(f"start must be finite, got {self.start!r}")
        if _finite("slot_s", self.slot_s) <= 0:
            raise LocalProtocolError("slot_s must be positive")
        object.__setattr__(self, "prices", tuple(_finite("price", p, low=-math.inf) for p in self.prices))
        if not self.prices:
            raise LocalProtocolError("a price curve needs at least one slot")

    @property
    def end(self) -> float:
        """End of the last slot (s)."""
        return self.start + len(self.prices) * self.slot_s

    def price_at(self, t: float) -> float | None:
        """The price at meter time ``t``, None outside the curve."""
        if not self.start <= t < self.end:
            return None
        return self.prices[min(len(self.prices) - 1, int((t - self.start) // self.slot_s))]

    def pieces(self, begin: float, end: float) -> list[tuple[float, float, float]]:
        """(start, end, price) of the curve's slots cut to [begin, end) (empty where the curve is absent)."""
        out: list[tuple[float, float, float]] = []
        lo, hi = max(begin, self.start), min(end, self.end)
        if hi - lo <= _EPS:
            return out
        i = int((lo - self.start) // self.slot_s)
        while i < len(self.prices):
            a = max(lo, self.start + i * self.slot_s)
            b = min(hi, self.start + (i + 1) * self.slot_s)
            if b - a > _EPS:
                out.append((a, b, self.prices[i]))
            if b >= hi - _EPS:
                break
            i += 1
        return out


@dataclass(frozen=True, slots=True)
class DeadlinePlan:
    """A plan: ON intervals (start, end) in meter seconds, its cost (price · W · s) and feasibility.

    ``feasible`` False means no plan meets the run time and the min on/off times before the deadline;
    the intervals are then "run as soon as allowed and keep running" (every piece ON after the
    minimum off time).
    """

    on: tuple[tuple[float, float], ...]
    cost: float
    feasible: bool

    def is_on(self, t: float) -> bool:
        """Whether the plan runs at meter time ``t``."""
        return any(a - _EPS <= t < b - _EPS for a, b in self.on)


def _merge(intervals: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    out: list[tuple[float, float]] = []
    for a, b in intervals:
        if out and abs(out[-1][1] - a) <= _EPS:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def plan_deadline(
    curve: PriceCurve,
    now: float,
    remaining_s: float,
    deadline: float,
    *,
    rated_w: float = 1.0,
    on: bool = False,
    in_state_s: float = math.inf,
    min_on_s: float = 0.0,
    min_off_s: float = 0.0,
) -> DeadlinePlan:
    """The cheapest ON pieces between ``now`` and ``deadline`` that total ``remaining_s`` (see the module
    docstring). ``on`` / ``in_state_s``: the appliance's state now and how long it has been in it.
    Time outside the curve is not available for running."""
    need = max(0.0, remaining_s)
    pieces = curve.pieces(now, deadline)
    if need <= _EPS:
        return DeadlinePlan((), 0.0, not on or in_state_s >= min_on_s - _EPS)

    def cap(is_on: bool, d: float) -> float:
        return min(d, min_on_s if is_on else min_off_s)

    # state -> (cost, choices as a tuple of bools)
    layer: dict[tuple[float, bool, float], tuple[float, tuple[bool, ...]]] = {(0.0, on, cap(on, in_state_s)): (0.0, ())}
    for a, b, price in pieces:
        length = b - a
        nxt: dict[tuple[float, bool, float], tuple[float, tuple[bool, ...]]] = {}
        for (done, is_on, dur), (cost, choices) in layer.items():
            for choose in (False, True):
                if choose != is_on and dur < (min_on_s if is_on else min_off_s) - _EPS:
                    continue
                new_dur = cap(choose, dur + length if choose == is_on else length)
                new_done = min(need, done + length) if choose else done
                new_cost = cost + (price * length * rated_w if choose else 0.0)
                key = (round(new_done, 6), choose, round(new_dur, 6))
                best = nxt.get(key)
                if best is None or new_cost < best[0] - 1e-12:
                    nxt[key] = (new_cost, (*choices, choose))
        layer = nxt
    finals = [
        (cost, choices)
        for (done, is_on, dur), (cost, choices) in layer.items()
        if done >= need - 1e-6 and (not is_on or dur >= min_on_s - 1e-6)
    ]
    if finals:
        cost, choices = min(finals, key=lambda item: item[0])
        return DeadlinePlan(_merge([(a, b) for (a, b, _), c in zip(pieces, choices, strict=True) if c]), cost, True)
    # infeasible: run as soon as allowed, to the deadline
    start = now if on else now + max(0.0, min_off_s - in_state_s)
    chosen = [(max(a, start), b) for a, b, _ in pieces if b > start + _EPS]
    cost = sum(p * (b - max(a, start)) * rated_w for a, b, p in pieces if b > start + _EPS)
    return DeadlinePlan(_merge(chosen), cost, False)
