"""Load-profile intervals: values, alignment, status for start-up, outages and clock changes, the ring,
EXTENDED_INT_STATUS mapping. Fast mode: a 1800 W resistive load at 220 V gives exactly 0.5 Wh/s."""

from __future__ import annotations

import pytest

from openami.meter.engine import (
    EngineConfig,
    EngineError,
    EventCode,
    IntervalRecord,
    IntervalStatus,
    LoadProfileConfig,
    Register,
    ScheduleLoad,
    StatusFlag,
    resistive_load,
    rl_load,
)

from .support import T0, engine

LOAD = resistive_load(1800.0, 220.0)
S = IntervalStatus
WH = 500  # mWh per second


def test_intervals_hold_energy_and_mean_voltage() -> None:
    eng = engine(mode="fast")
    eng.advance(T0 + 3600, LOAD)
    recs = eng.intervals
    assert [r.end_time for r in recs] == [T0 + 900 * k for k in range(1, 5)]
    assert all(r.values == (900 * WH, 0, 0, 0, 220_000) and r.status == 0 for r in recs)
    assert sum(r.values[0] for r in recs) == eng.register(Register.WH_DELIVERED)


def test_intervals_add_up_to_the_registers_exactly() -> None:
    load = ScheduleLoad([(T0, rl_load(1234.5, 0.77, 220.0, 60.0)), (T0 + 1111, rl_load(321.0, 0.93, 220.0, 60.0))])
    eng = engine(start=T0 + 77)
    eng.advance(T0 + 77 + 2 * 900 + 823, load)
    recs = eng.intervals
    assert len(recs) == 3
    assert recs[0].status == S.PARTIAL
    regs = eng.registers
    for ch, reg in enumerate(LoadProfileConfig().channels):
        assert sum(r.values[ch] for r in recs) <= regs.value(reg)
    # the open interval holds the rest: close it by advancing to the next boundary
    eng.advance(T0 + 3600, load)
    assert sum(r.values[0] for r in eng.intervals) == eng.register(Register.WH_DELIVERED)
    assert sum(r.values[2] for r in eng.intervals) == eng.register(Register.VARH_DELIVERED)


def test_partial_first_interval() -> None:
    eng = engine(mode="fast", start=T0 + 300)
    eng.advance(T0 + 1800, LOAD)
    first, second = eng.intervals
    assert (first.end_time, first.values[0], first.status) == (T0 + 900, 600 * WH, S.PARTIAL)
    assert (second.values[0], second.status) == (900 * WH, 0)


def test_outage_flags_the_interval_and_logs_events() -> None:
    eng = engine(mode="fast")
    eng.advance(T0 + 1000, LOAD)
    eng.power_fail()
    eng.advance(T0 + 1200, LOAD)
    eng.power_restore()
    eng.advance(T0 + 1800, LOAD)
    eng.power_fail()
    eng.advance(T0 + 2700, LOAD)  # a whole interval without supply
    eng.power_restore()
    eng.advance(T0 + 3600, LOAD)
    a, b, c, d = eng.intervals
    assert a.status == 0 and a.values[0] == 900 * WH
    assert b.status == S.POWER_FAIL and b.values == (700 * WH, 0, 0, 0, 220_000)
    assert c.status == S.POWER_FAIL and c.values == (0, 0, 0, 0, 0)
    assert d.status == S.POWER_FAIL  # supply returned at its very start
    assert [(e.code, e.time) for e in eng.events] == [
        (EventCode.POWER_DOWN, T0 + 1000),
        (EventCode.POWER_UP, T0 + 1200),
        (EventCode.POWER_DOWN, T0 + 1800),
        (EventCode.POWER_UP, T0 + 2700),
    ]
    assert eng.status & StatusFlag.POWER_FAILURE
    assert eng.reading.powered
    ext = b.extended_status()
    assert ext.power_fail and not ext.clock_set_forward and ext.channels == (0,) * 5


def test_clock_set_forward_within_an_interval() -> None:
    eng = engine(mode="fast")
    eng.advance(T0 + 100, LOAD)
    eng.set_clock(T0 + 400)
    eng.advance(T0 + 600, LOAD)  # meter clock T0 + 900
    (rec,) = eng.intervals
    assert rec.end_time == T0 + 900 and rec.values[0] == 600 * WH
    assert rec.status == S.CLOCK_SET_FORWARD | S.PARTIAL
    assert rec.extended_status().clock_set_forward and rec.extended_status().channels == (2,) * 5


def test_clock_set_forward_across_intervals_records_skipped_ones() -> None:
    eng = engine(mode="fast")
    eng.advance(T0 + 100, LOAD)
    eng.set_clock(T0 + 2000)
    eng.advance(T0 + 800, LOAD)  # meter T0 + 2700
    a, b, c = eng.intervals
    assert (a.end_time, a.values[0], a.status) == (T0 + 900, 100 * WH, S.CLOCK_SET_FORWARD | S.PARTIAL)
    assert (b.end_time, b.values, b.status) == (T0 + 1800, (0,) * 5, S.CLOCK_SET_FORWARD | S.SKIPPED)
    assert (c.end_time, c.values[0], c.status) == (T0 + 2700, 700 * WH, S.CLOCK_SET_FORWARD | S.PARTIAL)
    assert b.extended_status().channels == (4,) * 5
    assert [e.code for e in eng.events] == [EventCode.TIME_CHANGED_OLD, EventCode.TIME_CHANGED_NEW]
    assert [e.time for e in eng.events] == [T0 + 100, T0 + 2000]


def test_clock_set_back_within_an_interval_makes_it_long() -> None:
    eng = engine(mode="fast")
    eng.advance(T0 + 600, LOAD)
    eng.set_clock(T0 + 300)
    eng.advance(T0 + 1200, LOAD)  # meter T0 + 900
    (rec,) = eng.intervals
    assert rec.values[0] == 1200 * WH and rec.status == S.CLOCK_SET_BACKWARD | S.LONG
    assert rec.extended_status().clock_set_backward and rec.extended_status().channels == (3,) * 5


def test_clock_set_back_across_intervals() -> None:
    eng = engine(mode="fast")
    eng.advance(T0 + 1000, LOAD)
    eng.set_clock(T0 + 500)
    eng.advance(T0 + 1400, LOAD)  # meter T0 + 900
    a, b, c = eng.intervals
    assert a.status == 0
    assert (b.end_time, b.values[0], b.status) == (T0 + 1800, 100 * WH, S.CLOCK_SET_BACKWARD | S.PARTIAL)
    assert (c.end_time, c.values[0], c.status) == (T0 + 900, 400 * WH, S.CLOCK_SET_BACKWARD | S.PARTIAL)


def test_ring_keeps_the_newest_intervals() -> None:
    eng = engine(EngineConfig(load_profile=LoadProfileConfig(interval_s=300, capacity=4)), mode="fast")
    eng.advance(T0 + 3000, LOAD)
    assert [r.end_time for r in eng.intervals] == [T0 + 300 * k for k in range(7, 11)]


def test_custom_channels_without_voltage() -> None:
    lp = LoadProfileConfig(interval_s=600, channels=(Register.VAH, Register.WH_DELIVERED), voltage_channel=False)
    eng = engine(EngineConfig(load_profile=lp), mode="fast")
    eng.advance(T0 + 600, LOAD)
    (rec,) = eng.intervals
    assert rec.values == (600 * WH, 600 * WH)


def test_extended_status_octets() -> None:
    rec = IntervalRecord(T0, (1, 2, 3), S.POWER_FAIL | S.CLOCK_SET_BACKWARD | S.PARTIAL)
    # octet 0: b5 power fail, b7 clock backward, low nibble channel 1; octet 1: channel 2 high, 3 low
    assert rec.extended_status().to_octets() == [0x20 | 0x80 | 0x2, 0x22]


@pytest.mark.parametrize(
    "kw", [{"interval_s": 700}, {"interval_s": 30}, {"capacity": 0}, {"channels": (), "voltage_channel": False}]
)
def test_bad_load_profile_config(kw: dict[str, object]) -> None:
    with pytest.raises(EngineError):
        LoadProfileConfig(**kw)  # type: ignore[arg-type]
