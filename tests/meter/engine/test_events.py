"""Event log and ST3 status: codes and names from C12.19's list, sequence numbers, arguments, the
bounded log, service switch, tamper, reverse rotation, table writes and procedures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.std.decade7 import EVENT_CODES
from openami.meter.engine import (
    CurrentSourceLoad,
    EngineConfig,
    EngineError,
    EventCode,
    EventLog,
    Register,
    Spectrum,
    StatusFlag,
    harmonic_load,
)

from .support import T0, engine

STANDARD_NAMES = {
    EventCode.POWER_DOWN: "Primary power down",
    EventCode.POWER_UP: "Primary power up",
    EventCode.TIME_CHANGED_OLD: "Time changed (old time)",
    EventCode.TIME_CHANGED_NEW: "Time changed (new time)",
    EventCode.PROCEDURE_INVOKED: "Procedure invoked",
    EventCode.TABLE_WRITTEN: "Table written to",
    EventCode.EVENT_LOG_CLEARED: "Event log cleared",
    EventCode.DEMAND_RESET: "Demand reset occurred",
    EventCode.MEASUREMENT_ERROR: "Measurement error detected",
    EventCode.DEMAND_OVERLOAD: "Demand overload detected",
    EventCode.TAMPER: "Tamper attempt detected",
    EventCode.REVERSE_ROTATION: "Reverse rotation detected",
    EventCode.CONTROL_POINT_COMMAND: "Control point changed by a command",
}


def test_codes_are_the_standard_ones() -> None:
    assert set(STANDARD_NAMES) == set(EventCode)
    for code, name in STANDARD_NAMES.items():
        assert EVENT_CODES[code] == name


def test_st3_bits_are_the_standard_positions() -> None:
    from openami.c1219.schema import BitField, Field
    from openami.c1219.std.decade0 import ED_MODE_STATUS_TBL

    (status1,) = (f for f in ED_MODE_STATUS_TBL.record.elements if isinstance(f, Field) and f.name == "ED_STD_STATUS1")
    assert isinstance(status1, Field) and isinstance(status1.type, BitField)
    bits = {b.name: b.lo for b in status1.type.members}
    for flag in StatusFlag:
        assert flag.value == 1 << bits[f"{flag.name}_FLAG"]


def test_operations_log_the_right_events() -> None:
    eng = engine(mode="fast")
    load = harmonic_load(5.0, 1.0)
    eng.advance(T0 + 10, load)
    eng.table_written(53, user_id=3)
    eng.procedure_invoked(0x0809, user_id=3)  # SP9 with STD_VS_MFG = 1, as a TABLE_IDB value
    eng.tamper(b"\x01")
    eng.disconnect(user_id=5)
    eng.advance(T0 + 20, load)
    eng.connect(user_id=5)
    events = eng.events
    assert [e.code for e in events] == [10, 9, 47, 49, 49]
    assert [e.seq for e in events] == [0, 1, 2, 3, 4]
    assert events[0].argument == (53).to_bytes(2, "little") and events[0].user_id == 3
    assert events[1].argument == bytes([0x09, 0x08])
    assert events[2].argument == b"\x01" and eng.status & StatusFlag.TAMPER_DETECT
    assert (events[3].argument, events[3].time) == (b"\x00\x00", T0 + 10)
    assert (events[4].argument, events[4].time) == (b"\x00\x01", T0 + 20)
    assert all(e.name == EVENT_CODES[e.code] for e in events)
    assert events[0].table_idb == 10


def test_disconnected_service_carries_no_current() -> None:
    eng = engine()
    load = harmonic_load(5.0, 1.0)
    eng.advance(T0 + 5, load)
    before = eng.register(Register.WH_DELIVERED)
    eng.disconnect()
    eng.advance(T0 + 10, load)
    assert eng.register(Register.WH_DELIVERED) - before <= 1  # quantisation residue only
    assert eng.reading.irms_a < 0.01 and eng.reading.vrms_v == pytest.approx(220.0, rel=1e-4)
    assert not eng.reading.connected
    eng.connect()
    eng.advance(T0 + 15, load)
    assert eng.reading.irms_a == pytest.approx(5.0, rel=1e-3)


def test_reverse_energy_is_received_and_flagged_once() -> None:
    eng = engine(mode="fast")
    export = CurrentSourceLoad(Spectrum.sine(4.0, 3.14159265358979))  # current in antiphase: P < 0
    eng.advance(T0 + 30, export)
    assert eng.register(Register.WH_DELIVERED) == 0
    assert eng.register(Register.WH_RECEIVED) == pytest.approx(220 * 4 * 30 / 3.6, abs=1)
    assert eng.status & StatusFlag.REVERSE_ROTATION
    assert [e.code for e in eng.events] == [EventCode.REVERSE_ROTATION]
    assert eng.events[0].time == T0 + 1
    eng.clear_status(StatusFlag.REVERSE_ROTATION)
    assert not eng.status & StatusFlag.REVERSE_ROTATION
    eng.advance(T0 + 31, export)
    assert len(eng.events) == 2  # flagged again after the clear


def test_clear_status_all() -> None:
    eng = engine(mode="fast")
    eng.tamper()
    eng.power_fail()
    assert eng.status == StatusFlag.TAMPER_DETECT | StatusFlag.POWER_FAILURE
    eng.clear_status()
    assert eng.status == 0


def test_log_is_bounded_and_sequence_numbers_wrap() -> None:
    log = EventLog(capacity=3)
    log.next_seq = 0xFFFE
    for k in range(5):
        log.log(T0 + k, EventCode.TAMPER)
    assert [e.seq for e in log.entries] == [0, 1, 2]
    assert [e.time for e in log.entries] == [T0 + 2, T0 + 3, T0 + 4]
    assert log.overflow and len(log) == 3
    log.clear(T0 + 9, user_id=1)
    assert [(e.code, e.seq, e.user_id) for e in log.entries] == [(18, 3, 1)] and not log.overflow


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 0xFFFF), st.sampled_from(["little", "big"]))
def test_uint16_arguments_follow_the_data_order(value: int, order: str) -> None:
    log = EventLog(byteorder=order)  # type: ignore[arg-type]
    assert int.from_bytes(log.uint16(value), order) == value  # type: ignore[arg-type]


def test_big_endian_meter() -> None:
    eng = engine(EngineConfig(byteorder="big"), mode="fast")
    assert eng.table_written(0x0102).argument == b"\x01\x02"


def test_bad_event_arguments() -> None:
    log = EventLog()
    with pytest.raises(EngineError):
        log.log(T0, 0x800)
    with pytest.raises(EngineError):
        log.uint16(70000)
    with pytest.raises(EngineError):
        EventLog(capacity=0)
