"""Energy registers: exact integer accumulation with carry, quadrants, tiers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.meter.engine import EngineError, Register
from openami.meter.engine.registers import EnergyRegisters, energy_increments


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=300), st.integers(1, 4))
def test_counts_never_drift(steps: list[int], tiers: int) -> None:
    # increments that are exact binary fractions, so their true sum is known exactly
    regs = EnergyRegisters(1, tiers)
    total = Fraction(0)
    for s in steps:
        e = s / 64.0
        inc = np.zeros((1, len(Register)))
        inc[0, Register.VAH] = e
        regs.add(inc, np.array([tiers - 1]))
        total += Fraction(e)
    assert regs.value(0, Register.VAH) == int(total)  # floor
    assert regs.value(0, Register.VAH, tiers - 1) == int(total)
    assert regs.exact(0, Register.VAH) == pytest.approx(float(total), abs=1e-6)
    assert 0 <= regs.carry[0, 0, Register.VAH] < 1


def test_many_small_increments_add_up() -> None:
    regs = EnergyRegisters(2, 1)
    inc = np.zeros((2, len(Register)))
    inc[:, Register.WH_DELIVERED] = [0.1, 555.5555]
    for _ in range(36_000):
        regs.add(inc, np.zeros(2, dtype=int))
    assert regs.value(0, Register.WH_DELIVERED) in (3599, 3600)  # 0.1 is not a binary fraction
    assert regs.exact(0, Register.WH_DELIVERED) == pytest.approx(3600.0, rel=1e-12)
    assert regs.value(1, Register.WH_DELIVERED) in (19_999_997, 19_999_998)  # 555.5555 × 36000 = 19 999 998
    assert regs.exact(1, Register.WH_DELIVERED) == pytest.approx(19_999_998, rel=1e-12)
    assert regs.value(1, Register.WH_DELIVERED, 0) == regs.value(1, Register.WH_DELIVERED)


def test_quadrants_and_directions() -> None:
    # one second each of (P, Q) in the four quadrants; 3.6 J = 1 mWh, 3.6 var·s = 1 mvarh
    e = np.array([36.0, -72.0, -3.6, 7.2])
    q = np.array([3.6, 7.2, -10.8, -14.4])
    inc = energy_increments(e, q, np.full(4, 36.0))
    expected = {
        0: {Register.WH_DELIVERED: 10, Register.VARH_DELIVERED: 1, Register.VARH_Q1: 1},
        1: {Register.WH_RECEIVED: 20, Register.VARH_DELIVERED: 2, Register.VARH_Q2: 2},
        2: {Register.WH_RECEIVED: 1, Register.VARH_RECEIVED: 3, Register.VARH_Q3: 3},
        3: {Register.WH_DELIVERED: 2, Register.VARH_RECEIVED: 4, Register.VARH_Q4: 4},
    }
    for row, regs in expected.items():
        want = np.zeros(len(Register))
        want[Register.VAH] = 10
        for r, v in regs.items():
            want[r] = v
        assert inc[row] == pytest.approx(want)


def test_tiers_split_and_total_sums() -> None:
    regs = EnergyRegisters(1, 3)
    inc = np.zeros((1, len(Register)))
    inc[0, Register.WH_DELIVERED] = 5.0
    for tier in (0, 1, 1, 2, 2, 2):
        regs.add(inc, np.array([tier]))
    snap = regs.snapshot(0)
    assert [snap.value(Register.WH_DELIVERED, k) for k in range(3)] == [5, 10, 15]
    assert snap.value(Register.WH_DELIVERED) == 30


def test_bad_sizes() -> None:
    with pytest.raises(EngineError):
        EnergyRegisters(1, 0)
    with pytest.raises(EngineError):
        EnergyRegisters(0, 1)
