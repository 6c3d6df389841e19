"""Demand: block and sliding (rolling) demand of delivered active power, maximum demand with its time,
cumulative demand and demand reset — vectorised over meters.

Demand is the delivered energy of an interval divided by the interval's length (W). The interval is
``subintervals`` × ``subinterval_s`` seconds: one subinterval is block demand, several is sliding demand
recomputed at every subinterval end over the last ``subintervals`` subintervals. Subinterval ends are
aligned to the meter's local clock (local time a multiple of ``subinterval_s``). The energy before the
first aligned boundary after a start or a clock change off a boundary is discarded (a partial
subinterval), and a sliding demand is computed only once its window is full.

The maximum is kept for the total (index 0) and per TOU tier (index 1 + k, the tier in force at the
interval's end) with the meter time of the interval end that set it. A demand reset adds each maximum
to the cumulative demand (C12.19's CUM_DEMAND), clears the maxima and counts the reset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openami.meter.engine.errors import EngineError

__all__ = ["DemandConfig", "DemandSnapshot", "DemandState"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class DemandConfig:
    """Subinterval length (s, dividing a day, ≥ 60), number of subintervals (1 = block demand), and the
    demand overload threshold (W; None = no overload detection)."""

    subinterval_s: int = 900
    subintervals: int = 1
    overload_w: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.subinterval_s, int) and 60 <= self.subinterval_s <= 86_400):
            raise EngineError(f"subinterval_s is 60..86400 s, got {self.subinterval_s!r}")
        if 86_400 % self.subinterval_s:
            raise EngineError(f"subinterval_s must divide a day, got {self.subinterval_s}")
        if not (isinstance(self.subintervals, int) and 1 <= self.subintervals <= 60):
            raise EngineError(f"subintervals is 1..60, got {self.subintervals!r}")
        if self.overload_w is not None and not self.overload_w > 0:
            raise EngineError("overload_w must be positive")

    @property
    def interval_s(self) -> int:
        """The demand interval (s)."""
        return self.subinterval_s * self.subintervals


@dataclass(frozen=True, slots=True)
class DemandSnapshot:
    """One meter's demand: W values; tuples indexed 0 = total, 1 + k = tier k; times in meter s (None if
    no maximum yet)."""

    present_w: float
    max_w: tuple[float, ...]
    max_time: tuple[int | None, ...]
    cumulative_w: tuple[float, ...]
    resets: int


class DemandState:
    """Demand accumulators of ``n`` meters sharing one `DemandConfig`, with ``tiers`` TOU tiers."""

    __slots__ = (
        "acc",
        "config",
        "cumulative",
        "filled",
        "max_time",
        "max_w",
        "pos",
        "present",
        "resets",
        "valid",
        "window",
    )

    def __init__(self, n: int, config: DemandConfig, tiers: int, local_time: IntArray) -> None:
        """``local_time`` (n,) the meters' local clocks at start (a start on a boundary counts in full)."""
        self.config = config
        k = config.subintervals
        self.acc: FloatArray = np.zeros(n)
        self.window: FloatArray = np.zeros((n, k))
        self.pos: IntArray = np.zeros(n, dtype=np.int64)
        self.filled: IntArray = np.zeros(n, dtype=np.int64)
        self.valid: BoolArray = local_time % config.subinterval_s == 0
        self.present: FloatArray = np.zeros(n)
        self.max_w: FloatArray = np.zeros((n, 1 + tiers))
        self.max_time: IntArray = np.full((n, 1 + tiers), -1, dtype=np.int64)
        self.cumulative: FloatArray = np.zeros((n, 1 + tiers))
        self.resets: IntArray = np.zeros(n, dtype=np.int64)

    def accumulate(self, wh: FloatArray) -> None:
        """Add delivered energy ``wh`` (n,) Wh, ≥ 0, to the current subinterval."""
        self.acc += wh

    def boundary(
        self, mask: BoolArray, tier: npt.NDArray[np.integer], meter_time: IntArray
    ) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Close the subinterval of the meters in ``mask`` (n,) at ``meter_time`` (n,) with ``tier`` (n,).

        Returns the meters whose demand was computed and their demand (W).
        """
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return idx, np.zeros(0)
        fresh = idx[~self.valid[idx]]
        ok = idx[self.valid[idx]]
        self.valid[fresh] = True
        k = self.config.subintervals
        self.window[ok, self.pos[ok]] = self.acc[ok]
        self.pos[ok] = (self.pos[ok] + 1) % k
        self.filled[ok] = np.minimum(self.filled[ok] + 1, k)
        self.acc[idx] = 0.0
        full = ok[self.filled[ok] >= k]
        demand = self.window[full].sum(axis=1) * (3600.0 / self.config.interval_s)
        self.present[full] = demand
        for col in (np.zeros(full.size, dtype=np.intp), np.asarray(tier, dtype=np.intp)[full] + 1):
            better = demand > self.max_w[full, col]
            self.max_w[full[better], col[better]] = demand[better]
            self.max_time[full[better], col[better]] = meter_time[full[better]]
        return full, demand

    def restart(self, meter: int, local_time: int) -> None:
        """Forget the partial subinterval and the sliding window of ``meter`` after its clock was set to
        ``local_time`` (local s)."""
        self.acc[meter] = 0.0
        self.window[meter] = 0.0
        self.pos[meter] = 0
        self.filled[meter] = 0
        self.valid[meter] = local_time % self.config.subinterval_s == 0

    def snapshot(self, meter: int) -> DemandSnapshot:
        """Meter ``meter``'s demand values."""
        return DemandSnapshot(
            float(self.present[meter]),
            tuple(float(v) for v in self.max_w[meter]),
            tuple(int(t) if t >= 0 else None for t in self.max_time[meter]),
            tuple(float(v) for v in self.cumulative[meter]),
            int(self.resets[meter]),
        )

    def reset(self, meter: int) -> DemandSnapshot:
        """Demand reset of ``meter``: returns the values before the reset."""
        before = self.snapshot(meter)
        self.cumulative[meter] += self.max_w[meter]
        self.max_w[meter] = 0.0
        self.max_time[meter] = -1
        self.resets[meter] += 1
        return before

    @property
    def nbytes(self) -> int:
        """Bytes of array state."""
        arrays = (self.acc, self.window, self.pos, self.filled, self.valid, self.present, self.max_w)
        return int(sum(a.nbytes for a in arrays) + self.max_time.nbytes + self.cumulative.nbytes + self.resets.nbytes)
