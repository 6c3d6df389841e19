"""Real-time or accelerated runs on an injected clock.

The engine never reads a clock. A driver (asyncio loop, test, CLI) passes its wall-clock reading ``now``
(s, any monotonic origin) to a `Timebase`, which maps it to simulated time:

    sim = sim_origin + factor·(now − wall_origin)

factor 1 is real time, 60 runs a minute per second. The driver then calls
``engine.advance(timebase.sim_time(now), loads)`` and sleeps until `Timebase.wall_time` of the engine's
next second (``engine.time + 1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openami.meter.engine.errors import EngineError

__all__ = ["Timebase"]


@dataclass(frozen=True, slots=True)
class Timebase:
    """Maps wall time (s, injected) to simulated time (s since 1970 UTC) at ``factor`` × real time."""

    sim_origin: float
    wall_origin: float
    factor: float = 1.0

    def __post_init__(self) -> None:
        values = (self.sim_origin, self.wall_origin, self.factor)
        if not (all(math.isfinite(v) for v in values) and self.factor > 0):
            raise EngineError(f"origins must be finite and factor > 0, got {values!r}")

    def sim_time(self, now: float) -> float:
        """Simulated time at wall time ``now``."""
        return self.sim_origin + self.factor * (now - self.wall_origin)

    def wall_time(self, sim: float) -> float:
        """Wall time at which simulated time reaches ``sim`` (when to wake the driver)."""
        return self.wall_origin + (sim - self.sim_origin) / self.factor

    def with_factor(self, now: float, factor: float) -> Timebase:
        """A timebase continuing from ``now`` without a jump, at a new ``factor``."""
        return Timebase(self.sim_time(now), now, factor)
