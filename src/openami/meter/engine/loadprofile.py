"""Load profile: interval records with status, kept in a per-meter ring of numpy arrays.

Intervals of ``interval_s`` end when the meter's local time is a multiple of ``interval_s``. A record
holds the interval's end (meter time, s), one integer per channel and the status flags. Energy channels
are the increase of a total register over the interval (its units: mWh, mvarh, mVAh), so the records of
a span add up exactly to the registers' increase. With ``voltage_channel`` the last channel is the mean
Vrms (mV) over the seconds with supply (0 if none).

Status (`IntervalStatus`): POWER_FAIL if the supply was off at any time during the interval;
CLOCK_SET_FORWARD / CLOCK_SET_BACKWARD if the clock was set during it; PARTIAL when fewer seconds than
``interval_s`` elapsed in it (start-up mid-interval, clock set forward), LONG when more did (clock set
back within the interval); SKIPPED for intervals jumped over by a clock set forward (zero values);
OVERFLOW if a value did not fit the int32 channel. `IntervalRecord.extended_status` maps these onto
C12.19 EXTENDED_INT_STATUS (common flags power fail / clock forward / clock backward; channel codes 1
overflow, 2 partial, 3 long, 4 skipped).

A clock change that stays within the current interval only flags it; one that leaves it closes the
interval at its nominal end, records the skipped intervals (forward, up to the ring's capacity) and
opens a new interval at the new time carrying the clock flag.

Memory per meter: capacity × (8 + 4·channels + 1) bytes plus ~64 bytes of accumulators.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

import numpy as np
import numpy.typing as npt

from openami.c1219.std.decade6 import ExtendedIntStatus
from openami.meter.engine.errors import EngineError
from openami.meter.engine.registers import Register

__all__ = ["IntervalRecord", "IntervalStatus", "LoadProfile", "LoadProfileConfig"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_I32 = np.iinfo(np.int32)


class IntervalStatus(IntFlag):
    """Status flags of one load-profile interval."""

    POWER_FAIL = 0x01
    CLOCK_SET_FORWARD = 0x02
    CLOCK_SET_BACKWARD = 0x04
    PARTIAL = 0x08
    LONG = 0x10
    SKIPPED = 0x20
    OVERFLOW = 0x40


@dataclass(frozen=True, slots=True)
class IntervalRecord:
    """One interval: end (meter time, s), channel values, status."""

    end_time: int
    values: tuple[int, ...]
    status: IntervalStatus

    def extended_status(self) -> ExtendedIntStatus:
        """The record's C12.19 EXTENDED_INT_STATUS (same channel code on every channel)."""
        s = self.status
        code = 0
        for flag, value in (
            (IntervalStatus.LONG, 3),
            (IntervalStatus.PARTIAL, 2),
            (IntervalStatus.SKIPPED, 4),
            (IntervalStatus.OVERFLOW, 1),
        ):
            if s & flag:
                code = value
        return ExtendedIntStatus(
            (code,) * len(self.values),
            power_fail=bool(s & IntervalStatus.POWER_FAIL),
            clock_set_forward=bool(s & IntervalStatus.CLOCK_SET_FORWARD),
            clock_set_backward=bool(s & IntervalStatus.CLOCK_SET_BACKWARD),
        )


@dataclass(frozen=True, slots=True)
class LoadProfileConfig:
    """Interval length (s, dividing a day), ring capacity (intervals), energy channels, voltage channel."""

    interval_s: int = 900
    capacity: int = 1344
    channels: tuple[Register, ...] = (
        Register.WH_DELIVERED,
        Register.WH_RECEIVED,
        Register.VARH_DELIVERED,
        Register.VARH_RECEIVED,
    )
    voltage_channel: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.interval_s, int) and 60 <= self.interval_s <= 86_400 and 86_400 % self.interval_s == 0):
            raise EngineError(f"interval_s must divide a day and be >= 60 s, got {self.interval_s!r}")
        if not 1 <= self.capacity <= 100_000:
            raise EngineError(f"capacity is 1..100000 intervals, got {self.capacity}")
        object.__setattr__(self, "channels", tuple(Register(c) for c in self.channels))
        if not self.channels and not self.voltage_channel:
            raise EngineError("a load profile needs at least one channel")

    @property
    def n_channels(self) -> int:
        """Channels per record."""
        return len(self.channels) + (1 if self.voltage_channel else 0)


class LoadProfile:
    """Load-profile rings and open-interval accumulators of ``n`` meters sharing one config."""

    __slots__ = (
        "_chan",
        "config",
        "count",
        "cur_status",
        "elapsed",
        "end_time",
        "head",
        "start_counts",
        "status",
        "v_n",
        "v_sum",
        "values",
    )

    def __init__(self, n: int, config: LoadProfileConfig, totals: IntArray) -> None:
        """``totals`` (n, N_REGISTERS) the registers' totals when the first intervals open."""
        self.config = config
        cap, ch = config.capacity, config.n_channels
        self._chan = np.array([int(c) for c in config.channels], dtype=np.intp)
        self.end_time: IntArray = np.zeros((n, cap), dtype=np.int64)
        self.values: npt.NDArray[np.int32] = np.zeros((n, cap, ch), dtype=np.int32)
        self.status: npt.NDArray[np.uint8] = np.zeros((n, cap), dtype=np.uint8)
        self.head: IntArray = np.zeros(n, dtype=np.int64)
        self.count: IntArray = np.zeros(n, dtype=np.int64)
        self.start_counts: IntArray = totals[:, self._chan].copy()
        self.v_sum: FloatArray = np.zeros(n)
        self.v_n: IntArray = np.zeros(n, dtype=np.int64)
        self.elapsed: IntArray = np.zeros(n, dtype=np.int64)
        self.cur_status: IntArray = np.zeros(n, dtype=np.int64)

    def accumulate(self, vrms: FloatArray, powered: BoolArray) -> None:
        """One elapsed second: mean-voltage sums and the power-fail flag."""
        self.elapsed += 1
        if powered.all():
            self.v_sum += vrms
            self.v_n += 1
            return
        self.v_sum += np.where(powered, vrms, 0.0)
        self.v_n += powered
        self.cur_status[~powered] |= IntervalStatus.POWER_FAIL

    def flag(self, meter: int, flags: IntervalStatus) -> None:
        """Add ``flags`` to the open interval of ``meter``."""
        self.cur_status[meter] |= int(flags)

    def _write(self, idx: npt.NDArray[np.intp], end: IntArray, values: IntArray, status: IntArray) -> None:
        over = np.any((values > _I32.max) | (values < _I32.min), axis=1)
        status = status | np.where(over, int(IntervalStatus.OVERFLOW), 0)
        pos = self.head[idx]
        self.end_time[idx, pos] = end
        self.values[idx, pos] = np.clip(values, _I32.min, _I32.max).astype(np.int32)
        self.status[idx, pos] = status.astype(np.uint8)
        self.head[idx] = (pos + 1) % self.config.capacity
        self.count[idx] = np.minimum(self.count[idx] + 1, self.config.capacity)

    def close(self, idx: npt.NDArray[np.intp], end_time: IntArray, totals: IntArray, extra: int = 0) -> None:
        """Close the open intervals of meters ``idx`` at meter times ``end_time`` (len(idx),), given the
        registers' totals (n, N_REGISTERS); ``extra`` status flags are added. New intervals open."""
        if idx.size == 0:
            return
        now = totals[idx][:, self._chan]
        energy = now - self.start_counts[idx]
        if self.config.voltage_channel:
            n = self.v_n[idx]
            mv = np.rint(self.v_sum[idx] / np.maximum(n, 1) * 1000.0).astype(np.int64)
            energy = np.concatenate([energy, np.where(n > 0, mv, 0)[:, None]], axis=1)
        el = self.elapsed[idx]
        status = self.cur_status[idx] | extra
        status = status | np.where(el < self.config.interval_s, int(IntervalStatus.PARTIAL), 0)
        status = status | np.where(el > self.config.interval_s, int(IntervalStatus.LONG), 0)
        self._write(idx, end_time, energy, status)
        self.start_counts[idx] = now
        self.v_sum[idx] = 0.0
        self.v_n[idx] = 0
        self.elapsed[idx] = 0
        self.cur_status[idx] = 0

    def skip(self, meter: int, end_times: list[int], flags: IntervalStatus) -> None:
        """Record intervals ending at ``end_times`` as SKIPPED (zero values) with ``flags``."""
        for end in end_times[-self.config.capacity :]:
            idx = np.array([meter], dtype=np.intp)
            zero = np.zeros((1, self.config.n_channels), dtype=np.int64)
            self._write(idx, np.array([end]), zero, np.array([int(IntervalStatus.SKIPPED | flags)]))

    def records(self, meter: int) -> tuple[IntervalRecord, ...]:
        """Meter ``meter``'s stored intervals, oldest first."""
        n, cap = int(self.count[meter]), self.config.capacity
        first = (int(self.head[meter]) - n) % cap
        out = []
        for k in range(n):
            p = (first + k) % cap
            out.append(
                IntervalRecord(
                    int(self.end_time[meter, p]),
                    tuple(int(v) for v in self.values[meter, p]),
                    IntervalStatus(int(self.status[meter, p])),
                )
            )
        return tuple(out)

    @property
    def nbytes(self) -> int:
        """Bytes of array state."""
        arrays = (self.end_time, self.values, self.status, self.head, self.count, self.start_counts)
        return int(sum(a.nbytes for a in arrays) + 4 * self.v_sum.nbytes)
