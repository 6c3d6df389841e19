"""Timebase: injected wall time to simulated time, real time and accelerated; a driver loop."""

from __future__ import annotations

import pytest

from openami.meter.engine import EngineError, Register, Timebase, resistive_load

from .support import T0, engine


def test_real_time_and_accelerated() -> None:
    tb = Timebase(sim_origin=T0, wall_origin=1000.0)
    assert tb.sim_time(1000.0) == T0 and tb.sim_time(1010.5) == T0 + 10.5
    fast = Timebase(T0, 1000.0, factor=60.0)
    assert fast.sim_time(1001.0) == T0 + 60
    assert fast.wall_time(T0 + 120) == pytest.approx(1002.0)
    slower = fast.with_factor(1001.0, 2.0)
    assert slower.sim_time(1001.0) == T0 + 60 and slower.sim_time(1002.0) == T0 + 62


def test_driver_loop_on_injected_time() -> None:
    """What an asyncio driver does, with the wall clock injected: wake, advance, compute the next wake."""
    eng = engine(mode="fast")
    tb = Timebase(T0, 0.0, factor=900.0)  # 15 simulated minutes per wall second
    now = 0.0
    load = resistive_load(3600.0, 220.0)
    while eng.time < T0 + 3600:
        eng.advance(min(tb.sim_time(now), T0 + 3600), load)
        now = max(now + 0.37, tb.wall_time(eng.time + 1))  # the loop wakes at uneven times
    assert eng.time == T0 + 3600
    assert eng.register(Register.WH_DELIVERED) == 3_600_000
    assert len(eng.intervals) == 4


def test_bad_timebase() -> None:
    with pytest.raises(EngineError):
        Timebase(T0, 0.0, factor=0.0)
    with pytest.raises(EngineError):
        Timebase(float("inf"), 0.0)
