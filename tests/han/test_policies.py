"""Policies validate their fields; the deadline planner finds the cheapest feasible plan (checked by brute
force over every ON/OFF assignment of a small price curve)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.errors import LocalProtocolError
from openami.han.policies import AppliancePolicy, DeadlineJob, PriceCurve, plan_deadline


@pytest.mark.parametrize(
    "kwargs",
    [
        {"priority": -1},
        {"priority": 256},
        {"priority": True},
        {"min_on_s": -1.0},
        {"min_off_s": math.nan},
        {"rated_w": math.inf},
        {"max_load_w": -5.0},
        {"price_threshold": math.nan},
        {"interruptible": 1},
    ],
)
def test_policy_rejects_bad_fields(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        AppliancePolicy(**kwargs)  # type: ignore[arg-type]


def test_job_and_curve_validation() -> None:
    with pytest.raises(LocalProtocolError):
        DeadlineJob(-1.0, 10.0)
    with pytest.raises(LocalProtocolError):
        DeadlineJob(10.0, math.inf)
    with pytest.raises(LocalProtocolError):
        DeadlineJob(3600.0, 10.0, repeat_s=60.0)
    with pytest.raises(LocalProtocolError):
        PriceCurve(0.0, 0.0, (1.0,))
    with pytest.raises(LocalProtocolError):
        PriceCurve(0.0, 60.0, ())
    curve = PriceCurve(100.0, 60.0, (1.0, 2.0))
    assert curve.price_at(99.0) is None
    assert curve.price_at(100.0) == 1.0
    assert curve.price_at(219.0) == 2.0
    assert curve.price_at(220.0) is None
    assert curve.pieces(130.0, 190.0) == [(130.0, 160.0, 1.0), (160.0, 190.0, 2.0)]


def _brute(prices: Sequence[float], need: int, min_on: int, min_off: int, on0: bool, held0: int) -> float | None:
    """Cheapest cost over all ON/OFF slot assignments meeting the run time and min on/off (slot units)."""
    best: float | None = None
    for bits in itertools.product((False, True), repeat=len(prices)):
        if sum(bits) < need:
            continue
        state, held, ok = on0, held0, True
        for b in bits:
            if b != state:
                if held < (min_on if state else min_off):
                    ok = False
                    break
                state, held = b, 1
            else:
                held += 1
        if not ok or (state and held < min_on):
            continue
        cost = sum(p for p, b in zip(prices, bits, strict=True) if b)
        best = cost if best is None or cost < best else best
    return best


@settings(max_examples=150, deadline=None)
@given(
    prices=st.lists(st.integers(0, 20).map(float), min_size=1, max_size=9),
    need=st.integers(1, 5),
    min_on=st.integers(0, 3),
    min_off=st.integers(0, 3),
    on0=st.booleans(),
    held0=st.integers(0, 4),
)
def test_plan_is_cheapest_feasible(
    prices: list[float], need: int, min_on: int, min_off: int, on0: bool, held0: int
) -> None:
    slot = 60.0
    curve = PriceCurve(0.0, slot, tuple(prices))
    plan = plan_deadline(
        curve,
        0.0,
        need * slot,
        len(prices) * slot,
        on=on0,
        in_state_s=held0 * slot,
        min_on_s=min_on * slot,
        min_off_s=min_off * slot,
    )
    expected = _brute(prices, need, min_on, min_off, on0, held0)
    assert plan.feasible == (expected is not None)
    if expected is not None:
        assert plan.cost == pytest.approx(expected * slot)
        run = sum(b - a for a, b in plan.on)
        assert run >= need * slot - 1e-6
        # the plan's intervals cost what the plan says (recomputed from the curve)
        recomputed = sum(price * (b - a) for lo, hi in plan.on for a, b, price in curve.pieces(lo, hi))
        assert recomputed == pytest.approx(plan.cost)


def test_deadline_job_on_24h_curve_picks_cheapest_hours() -> None:
    # 24 hourly prices: cheap at night (1..4 h), a cheap noon hour, dear evening
    prices = [5, 2, 1, 1, 3, 6, 7, 8, 8, 7, 6, 4, 2, 4, 6, 7, 9, 12, 12, 10, 8, 7, 6, 5]
    curve = PriceCurve(0.0, 3600.0, tuple(float(p) for p in prices))
    plan = plan_deadline(curve, 0.0, 3 * 3600.0, 24 * 3600.0)
    assert plan.feasible
    starts = sorted(h for a, b in plan.on for h in range(int(a // 3600), int(b // 3600)))
    assert sum(prices[h] for h in starts) == sum(sorted(prices)[:3])
    assert len(starts) == 3
    # with a 2-hour minimum run the single cheap hour at noon is no longer usable alone
    plan2 = plan_deadline(curve, 0.0, 3 * 3600.0, 24 * 3600.0, min_on_s=7200.0, min_off_s=3600.0)
    cost2 = _brute(prices, 3, 2, 1, False, 99)
    assert plan2.cost == pytest.approx(cost2 * 3600.0)  # type: ignore[operator]


def test_partial_first_slot_and_deadline_inside_curve() -> None:
    curve = PriceCurve(0.0, 100.0, (1.0, 5.0, 2.0, 9.0))
    plan = plan_deadline(curve, 150.0, 120.0, 300.0)
    # pieces: [150,200) at 5, [200,300) at 2 → needs both: 100 s at 2 + 20 s at 5 at least
    assert plan.feasible
    assert plan.on == ((150.0, 300.0),)
    assert plan.cost == pytest.approx(50 * 5.0 + 100 * 2.0)


def test_infeasible_plan_runs_as_soon_as_allowed() -> None:
    curve = PriceCurve(0.0, 60.0, (1.0, 1.0))
    plan = plan_deadline(curve, 0.0, 600.0, 120.0, min_off_s=30.0, in_state_s=0.0)
    assert not plan.feasible
    assert plan.on == ((30.0, 120.0),)
