"""The values the load-control engine takes and gives: measurements, DR events, conditions, decisions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from openami.c1219.std.decade11 import (
    NO_SOURCE,
    Comparison,
    ConditionSource,
    ControlSource,
)
from openami.errors import LocalProtocolError

__all__ = ["CommandResult", "Condition", "DrEvent", "EventSink", "Measurements", "SwitchDecision"]


class EventSink(Protocol):
    """Where switch events go (``LiveData.log_event`` of the meter has this shape)."""

    def log_event(self, code: int, user_id: int, argument: bytes) -> None:
        """Append event ``code`` with ``argument`` octets, stamped with the meter clock."""


@dataclass(frozen=True, slots=True)
class SwitchDecision:
    """Switch control point ``point`` ON (``on``) or OFF at meter time ``time`` (s), and why."""

    point: int
    on: bool
    reason: str
    source: ControlSource
    time: float
    source_index: int = NO_SOURCE


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A direct command's outcome: ``accepted`` False when refused (non-interruptible point switched off
    without override); ``decisions`` the switches made at once (a deferred command acts at a later step)."""

    accepted: bool
    decisions: tuple[SwitchDecision, ...]


@dataclass(frozen=True, slots=True)
class Measurements:
    """One step's measurements: premise load ``total_w`` (W) and, where known, each point's load (W)."""

    total_w: float
    loads_w: Mapping[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = [self.total_w, *self.loads_w.values()]
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise LocalProtocolError("measurements must be finite numbers")


@dataclass(frozen=True, slots=True)
class DrEvent:
    """A demand-response event: from ``start`` for ``duration_s`` (s), ``criticality`` 1..9, on
    ``points`` (None: every point). It sheds interruptible points with priority < min(256, 32·c)."""

    event_id: int
    start: float
    duration_s: float
    criticality: int = 1
    points: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.duration_s) and self.duration_s > 0):
            raise LocalProtocolError("DR event start must be finite and duration positive")
        if isinstance(self.criticality, bool) or not 1 <= self.criticality <= 9:
            raise LocalProtocolError(f"DR criticality is 1..9, got {self.criticality!r}")

    @property
    def end(self) -> float:
        return self.start + self.duration_s

    @property
    def shed_below(self) -> int:
        """Interruptible points with a priority below this are shed."""
        return min(256, 32 * self.criticality)

    def applies(self, point: int, priority: int, now: float) -> bool:
        return (
            self.start <= now < self.end
            and (self.points is None or point in self.points)
            and priority < self.shed_below
        )


@dataclass(frozen=True, slots=True)
class Condition:
    """An ST115 condition: ``value <comparison> threshold`` held ``min_duration_s`` sheds ``points`` (level
    0 only); it clears once the test fails with ``hysteresis`` margin (value back past threshold ∓ it)."""

    index: int
    source: ConditionSource
    comparison: Comparison
    threshold: float
    points: frozenset[int]
    hysteresis: float = 0.0
    min_duration_s: float = 0.0
    source_index: int = NO_SOURCE
