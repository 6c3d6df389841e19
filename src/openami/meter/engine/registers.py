"""Energy registers: exact integer accumulators per meter, total and per TOU tier.

Each register counts whole milli-units (mWh, mvarh, mVAh) in an int64 and keeps the fraction below one
milli-unit in a float64 carry in [0, 1): adding e milli-units sets ``count += floor(carry + e)`` and
``carry = frac(carry + e)``, so nothing is rounded away and the count never drifts (an int64 of mWh lasts
10^15 kWh). Layout: ``counts`` and ``carry`` have shape (n_meters, 1 + n_tiers, n_registers); index 0 on
axis 1 is the total, 1 + k is tier k (C12.19 ST23's TOT_DATA_BLOCK and TIER_DATA_BLOCK[k]).

Registers and quadrants (signs of active P and Budeanu reactive Q, seen from the supply):
WH_DELIVERED P ≥ 0, WH_RECEIVED P < 0, VARH_DELIVERED Q ≥ 0 (lagging, quadrants I + II),
VARH_RECEIVED Q < 0 (III + IV), VAH apparent (S·t, both directions), VARH_Q1 … VARH_Q4 by quadrant
(I: P ≥ 0, Q ≥ 0; II: P < 0, Q ≥ 0; III: P < 0, Q < 0; IV: P ≥ 0, Q < 0). One second's energy is
classified by the signs of that second's P and Q.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from openami.meter.engine.errors import EngineError

__all__ = ["REGISTER_UNITS", "EnergyRegisters", "Register", "RegisterSnapshot", "energy_increments"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

J_PER_MILLI_WH = 3.6
"""1 mWh = 3.6 J (and 1 mvarh = 3.6 var·s, 1 mVAh = 3.6 VA·s)."""


class Register(IntEnum):
    """Energy registers (index on the last axis of `EnergyRegisters.counts`)."""

    WH_DELIVERED = 0
    WH_RECEIVED = 1
    VARH_DELIVERED = 2
    VARH_RECEIVED = 3
    VAH = 4
    VARH_Q1 = 5
    VARH_Q2 = 6
    VARH_Q3 = 7
    VARH_Q4 = 8


REGISTER_UNITS: dict[Register, str] = {
    Register.WH_DELIVERED: "mWh",
    Register.WH_RECEIVED: "mWh",
    Register.VARH_DELIVERED: "mvarh",
    Register.VARH_RECEIVED: "mvarh",
    Register.VAH: "mVAh",
    Register.VARH_Q1: "mvarh",
    Register.VARH_Q2: "mvarh",
    Register.VARH_Q3: "mvarh",
    Register.VARH_Q4: "mvarh",
}
"""Unit of one count of each register."""

N_REGISTERS = len(Register)


def energy_increments(energy_j: FloatArray, q_var: FloatArray, s_va: FloatArray, seconds: float = 1.0) -> FloatArray:
    """Register increments (n, N_REGISTERS) in milli-units for one span of ``seconds`` per meter.

    ``energy_j`` (n,) active energy (J, signed), ``q_var`` (n,) reactive power (var, signed), ``s_va``
    (n,) apparent power (VA).
    """
    n = energy_j.shape[0]
    rows = np.arange(n)
    out = np.zeros((n, N_REGISTERS))
    q = q_var * seconds
    neg_p, neg_q = energy_j < 0, q < 0
    qa = np.abs(q) / J_PER_MILLI_WH
    out[rows, neg_p.astype(np.intp)] = np.abs(energy_j) / J_PER_MILLI_WH
    out[rows, Register.VARH_DELIVERED + neg_q] = qa
    out[:, Register.VAH] = s_va * (seconds / J_PER_MILLI_WH)
    # quadrant I..IV = 5..8: I (+,+), II (−,+), III (−,−), IV (+,−)
    out[rows, Register.VARH_Q1 + (neg_p ^ neg_q) + 2 * neg_q] = qa
    return out


@dataclass(frozen=True, slots=True)
class RegisterSnapshot:
    """One meter's registers: ``total[r]`` and ``tiers[k][r]`` in the units of `REGISTER_UNITS`."""

    total: tuple[int, ...]
    tiers: tuple[tuple[int, ...], ...]

    def value(self, register: Register, tier: int | None = None) -> int:
        """A register's count, total (``tier`` None) or of one tier."""
        return (self.total if tier is None else self.tiers[tier])[register]


class EnergyRegisters:
    """Integer energy registers of ``n`` meters with ``tiers`` TOU tiers (see the module doc)."""

    __slots__ = ("carry", "counts", "tiers")

    def __init__(self, n: int, tiers: int) -> None:
        if n < 1 or not 1 <= tiers <= 8:
            raise EngineError(f"need n >= 1 meters and 1..8 tiers, got {n}, {tiers}")
        self.tiers = tiers
        self.counts: IntArray = np.zeros((n, 1 + tiers, N_REGISTERS), dtype=np.int64)
        self.carry: FloatArray = np.zeros((n, 1 + tiers, N_REGISTERS))

    def add(self, increments: FloatArray, tier: npt.NDArray[np.integer]) -> None:
        """Add ``increments`` (n, N_REGISTERS) milli-units, ≥ 0, to the totals and to tier ``tier`` (n,)."""
        rows = np.arange(self.counts.shape[0])[:, None]
        cols = np.empty((rows.shape[0], 2), dtype=np.intp)
        cols[:, 0] = 0
        cols[:, 1] = tier
        cols[:, 1] += 1
        acc = self.carry[rows, cols]
        acc += increments[:, None, :]
        whole = np.floor(acc)
        self.carry[rows, cols] = acc - whole
        self.counts[rows, cols] += whole.astype(np.int64)

    def value(self, meter: int, register: Register, tier: int | None = None) -> int:
        """One count: meter ``meter``'s ``register``, total or of ``tier``."""
        return int(self.counts[meter, 0 if tier is None else tier + 1, register])

    def snapshot(self, meter: int) -> RegisterSnapshot:
        """Meter ``meter``'s registers as plain integers."""
        c = self.counts[meter]
        return RegisterSnapshot(tuple(int(v) for v in c[0]), tuple(tuple(int(v) for v in row) for row in c[1:]))

    def exact(self, meter: int, register: Register, tier: int | None = None) -> float:
        """Count plus carry (milli-units, float) — for tests and display."""
        index = 0 if tier is None else tier + 1
        return float(self.counts[meter, index, register]) + float(self.carry[meter, index, register])

    @property
    def nbytes(self) -> int:
        """Bytes of array state."""
        return int(self.counts.nbytes + self.carry.nbytes)
