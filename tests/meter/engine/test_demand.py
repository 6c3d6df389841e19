"""Block and sliding demand, maximum with its time and tier, cumulative demand, demand reset, overload.

Fast mode is used: demand logic is the same in both modes, and a resistive load then draws exactly the
power it was built for, so expected demands are plain arithmetic."""

from __future__ import annotations

import pytest

from openami.meter.engine import (
    CurrentSourceLoad,
    DemandConfig,
    EngineConfig,
    EngineError,
    EventCode,
    ScheduleLoad,
    Spectrum,
    StatusFlag,
    TierSwitch,
    TouCalendar,
    resistive_load,
)

from .support import T0, engine


def steps(*items: tuple[int, float]) -> ScheduleLoad:
    """A schedule of (offset from T0 in s, power W) at 220 V; 0 W draws nothing."""
    nothing = CurrentSourceLoad(Spectrum.zero())
    return ScheduleLoad((T0 + t, resistive_load(p, 220.0) if p > 0 else nothing) for t, p in items)


def test_block_demand_max_and_time() -> None:
    eng = engine(EngineConfig(demand=DemandConfig(900, 1)), mode="fast")
    eng.advance(T0 + 2700, steps((0, 1000.0), (900, 3000.0), (1800, 2000.0)))
    d = eng.demand
    assert d.present_w == pytest.approx(2000.0)
    assert d.max_w[0] == pytest.approx(3000.0)
    assert d.max_time[0] == T0 + 1800
    assert d.max_w[1] == pytest.approx(3000.0) and d.max_w[2:] == (0.0, 0.0, 0.0)  # all in tier 0
    assert d.resets == 0 and d.cumulative_w[0] == 0.0


def test_sliding_demand() -> None:
    eng = engine(EngineConfig(demand=DemandConfig(300, 3)), mode="fast")
    load = steps((0, 1000.0), (600, 3000.0), (900, 0.0))
    seen = []
    for k in range(1, 7):
        eng.advance(T0 + 300 * k, load)
        seen.append(eng.demand.present_w)
    assert seen == pytest.approx([0.0, 0.0, 5000 / 3, 4000 / 3, 1000.0, 0.0], abs=1e-6)
    assert eng.demand.max_w[0] == pytest.approx(5000 / 3)
    assert eng.demand.max_time[0] == T0 + 900
    assert DemandConfig(300, 3).interval_s == 900


def test_demand_reset() -> None:
    eng = engine(EngineConfig(demand=DemandConfig(900, 1)), mode="fast")
    load = steps((0, 1000.0), (900, 3000.0), (1800, 2000.0))
    eng.advance(T0 + 1800, load)
    before = eng.demand_reset(user_id=7)
    assert before.max_w[0] == pytest.approx(3000.0) and before.resets == 0
    after = eng.demand
    assert after.max_w[0] == 0.0 and after.max_time[0] is None
    assert after.cumulative_w[0] == pytest.approx(3000.0)
    assert after.resets == 1
    ev = eng.events[-1]
    assert (ev.code, ev.time, ev.user_id) == (EventCode.DEMAND_RESET, T0 + 1800, 7)
    eng.advance(T0 + 2700, load)
    assert eng.demand.max_w[0] == pytest.approx(2000.0) and eng.demand.max_time[0] == T0 + 2700


def test_partial_first_subinterval_is_discarded() -> None:
    eng = engine(EngineConfig(demand=DemandConfig(900, 1)), mode="fast", start=T0 + 100)
    eng.advance(T0 + 900, steps((0, 5000.0)))
    assert eng.demand.max_w[0] == 0.0
    eng.advance(T0 + 1800, steps((0, 5000.0), (900, 1000.0)))
    assert eng.demand.max_w[0] == pytest.approx(1000.0)


def test_clock_change_restarts_demand() -> None:
    eng = engine(EngineConfig(demand=DemandConfig(900, 1)), mode="fast")
    load = steps((0, 1000.0))
    eng.advance(T0 + 450, load)
    eng.set_clock(T0 + 600)
    eng.advance(T0 + 750, load)  # meter clock reaches T0 + 900: partial subinterval discarded
    assert eng.demand.max_w[0] == 0.0
    eng.advance(T0 + 1650, load)
    assert eng.demand.max_w[0] == pytest.approx(1000.0) and eng.demand.max_time[0] == T0 + 1800


def test_demand_per_tier() -> None:
    cal = TouCalendar((TierSwitch(0, 0, 0, 0), TierSwitch(0, 0, 15, 1)), ((0, 0, 0),))
    eng = engine(EngineConfig(demand=DemandConfig(900, 1), calendar=cal), mode="fast")
    eng.advance(T0 + 1800, steps((0, 4000.0), (900, 1500.0)))
    d = eng.demand
    assert d.max_w[1] == pytest.approx(4000.0) and d.max_time[1] == T0 + 900  # 00:00–00:15 is tier 0
    assert d.max_w[2] == pytest.approx(1500.0) and d.max_time[2] == T0 + 1800
    assert d.max_w[0] == pytest.approx(4000.0)


def test_demand_overload_flag_and_event() -> None:
    eng = engine(EngineConfig(demand=DemandConfig(900, 1, overload_w=2500.0)), mode="fast")
    eng.advance(T0 + 2700, steps((0, 1000.0), (900, 3000.0), (1800, 3500.0)))
    assert eng.status & StatusFlag.DEMAND_OVERLOAD
    overloads = [e for e in eng.events if e.code == EventCode.DEMAND_OVERLOAD]
    assert [e.time for e in overloads] == [T0 + 1800]  # latched: logged once


@pytest.mark.parametrize("args", [(30, 1), (7, 1), (900, 0), (900, 61), (1000, 1)])
def test_bad_demand_config(args: tuple[int, int]) -> None:
    with pytest.raises(EngineError):
        DemandConfig(*args)
    with pytest.raises(EngineError):
        DemandConfig(900, 1, overload_w=0.0)
