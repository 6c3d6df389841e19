"""Procedures through ST7/ST8: each one changes a small working engine (`FakeMeter`), ST8 reports the
result code, bad parameters give INVALID_PARAMETER and missing rights NO_AUTHORIZATION.

`FakeMeter` is a tiny but working implementation of `openami.meter.procedures.LiveData` (registers
that accumulate, a demand maximum, a log, a clock, control points, a credit balance), shared by the
other tests of this folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.procedures import (
    ActivateSpecificPendingTablesParams,
    ChangeEndDeviceModeParams,
    ClearSpecificPendingTablesParams,
    CreditAction,
    DirectLoadControlParams,
    EdMode,
    LoadControlAction,
    ModifyCreditParams,
    PendingEventCode,
    ProcedureRequest,
    ProcedureResponse,
    RemoteResetParams,
    ResponseSelector,
    ResultCode,
    SetDateTimeParams,
    TimeDateQual,
)
from openami.c1219.std.decade11 import ControlSource
from openami.c1219.timefmt import TimeCodec
from openami.c1222.codes import ResponseCode
from openami.c1222.security import SecurityMode
from openami.c1222.services import ErrorResponse, FullRead, FullWrite, OkResponse, ReadResponse, make_table_id
from openami.meter.access import Clearance
from openami.meter.config import GROUP_MASTER, GROUP_OPERATE, GROUP_PROGRAM, GROUP_READ, MeterConfig, SecuritySettings
from openami.meter.procedures import (
    ClockReading,
    ControlPointState,
    CreditRecord,
    CreditState,
    DemandReading,
    DeviceStatus,
    LoadProfileData,
    LogEntry,
    LpBlock,
    NetworkState,
    RegisterBlock,
    RegisterReadings,
    RegistrationState,
)
from openami.meter.responder import Responder

START = dt.datetime(2026, 3, 2, 8, 30, 0)
MASTER = Clearance(groups=0xFF, authenticated=True, user_id=7)
OPERATOR = Clearance(groups=GROUP_READ | GROUP_OPERATE, authenticated=True, user_id=3)
PROGRAMMER = Clearance(groups=GROUP_READ | GROUP_PROGRAM, authenticated=True, user_id=4)
READER = Clearance(groups=GROUP_READ, authenticated=True, user_id=2)
T = 1000.0


@dataclass
class FakeMeter:
    """A small working engine: energy accumulates per tier, a block demand keeps its maximum, the log
    numbers its entries, load-profile intervals fill blocks, control points and credit keep state."""

    now: dt.datetime = START
    tiers: int = 4
    channels: int = 2
    block_intervals: int = 96
    disconnect_index: int = 0
    switch_works: bool = True
    tier: int = 0
    dst: bool = False
    mode: int = EdMode.METERING
    flags: int = 0
    mfg_flags: int = 0
    energy: list[list[float]] = field(default_factory=list)  # [block 0 total, 1.. tiers][summation]
    demand_max: float = 0.0
    demand_time: dt.datetime | None = None
    resets: int = 0
    lp_active: bool = True
    blocks: list[LpBlock] = field(default_factory=list)
    lp_seq: int = 0
    log: list[LogEntry] = field(default_factory=list)
    points: list[ControlPointState] = field(default_factory=lambda: [ControlPointState(), ControlPointState()])
    remaining: Decimal = Decimal("20")
    credit_log: list[CreditRecord] = field(default_factory=list)
    credit_time: dt.datetime | None = None
    qual: TimeDateQual | None = None

    def __post_init__(self) -> None:
        if not self.energy:
            self.energy = [[0.0, 0.0] for _ in range(self.tiers + 1)]

    # -- driving the fake ------------------------------------------------------------------------------------
    def consume(self, wh: float, varh: float, demand_w: float) -> None:
        """One interval of consumption in the present tier; keeps the maximum demand; fills the profile."""
        for block in (self.energy[0], self.energy[1 + self.tier]):
            block[0] += wh
            block[1] += varh
        if demand_w > self.demand_max:
            self.demand_max, self.demand_time = demand_w, self.now
        self.now += dt.timedelta(minutes=15)
        if not self.lp_active:
            return
        if not self.blocks or len(self.blocks[-1].intervals) == self.block_intervals:
            self.blocks.append(LpBlock(self.now, (0.0,) * self.channels, ()))
            self.lp_seq += 1 if len(self.blocks) > 1 else 0
        last = self.blocks[-1]
        pad = (0.0,) * max(0, self.channels - 2)  # channels past Wh and varh read 0
        readings = (self.energy[0][0], self.energy[0][1], *pad)[: self.channels]
        self.blocks[-1] = LpBlock(self.now, readings, (*last.intervals, (wh, varh, *pad)[: self.channels]))

    # -- LiveData: readers --------------------------------------------------------------------------------------
    def clock(self) -> ClockReading:
        return ClockReading(self.now, dst=self.dst, tier=self.tier)

    def registers(self) -> RegisterReadings:
        def block(values: list[float]) -> RegisterBlock:
            demand = DemandReading((self.demand_max,), (self.demand_time,))
            return RegisterBlock(tuple(values), (demand,))

        return RegisterReadings(
            total=block(self.energy[0]),
            tiers=tuple(block(e) for e in self.energy[1:]),
            demand_resets=self.resets,
            present_demands=(self.demand_max,),
            present_values=(240.0, 5.0),
            time_remaining_s=300,
        )

    def status(self) -> DeviceStatus:
        return DeviceStatus(self.mode, self.flags)

    def load_profile(self) -> LoadProfileData:
        return LoadProfileData(self.lp_active, tuple(self.blocks), self.lp_seq)

    def events(self) -> Sequence[LogEntry]:
        return self.log

    def control_points(self) -> Sequence[ControlPointState]:
        return self.points

    def credit(self) -> CreditState:
        return CreditState(self.remaining, self.credit_time, tuple(reversed(self.credit_log)))

    def network(self) -> NetworkState:
        registration = RegistrationState(".123.8437", ".123.1", b"\x01\x02", 10, 3600, 1800)
        return NetworkState((registration,), {(0, 1): 1234, (0, 3): 17})

    # -- LiveData: hooks ------------------------------------------------------------------------------------------
    def log_event(self, code: int, user_id: int, argument: bytes) -> None:
        self.log.append(LogEntry(self.now, code, len(self.log) + 1, user_id, argument))

    def clear_data(self) -> None:
        self.energy = [[0.0, 0.0] for _ in range(self.tiers + 1)]
        self.demand_max, self.demand_time, self.blocks, self.log = 0.0, None, [], []

    def set_mode(self, mode: int) -> None:
        self.mode = mode

    def clear_status_flags(self, standard: bool) -> None:
        if standard:
            self.flags = 0
        else:
            self.mfg_flags = 0

    def demand_reset(self) -> None:
        self.demand_max, self.demand_time = 0.0, None
        self.resets += 1

    def set_clock(self, when: dt.datetime, qual: TimeDateQual | None) -> None:
        self.now, self.qual = when, qual
        if qual is not None:
            self.dst = qual.dst

    def start_load_profile(self) -> None:
        self.lp_active = True

    def stop_load_profile(self) -> None:
        self.lp_active = False

    def set_control_point(self, index: int, level: int | None, duration_min: int) -> bool:
        if not self.switch_works:
            return False
        source = ControlSource.NONE if level is None else ControlSource.COMMAND
        self.points[index] = ControlPointState(100 if level is None else level, source, self.now, duration_min)
        return True

    def set_disconnect(self, open_switch: bool) -> bool:
        if not self.switch_works:
            return False
        level = 0 if open_switch else 100
        self.points[self.disconnect_index] = ControlPointState(level, ControlSource.COMMAND, self.now)
        return True

    def modify_credit(self, action: CreditAction, amount: float | Decimal, reference: int) -> Decimal:
        value = Decimal(str(amount))
        if action == CreditAction.ADD:
            self.remaining += value
        elif action == CreditAction.SUBTRACT:
            self.remaining -= value
        else:
            self.remaining = value
        self.credit_time = self.now
        self.credit_log.append(CreditRecord(self.now, action, value, self.remaining))
        return self.remaining


def meter(config: MeterConfig | None = None, live: FakeMeter | None = None) -> tuple[Responder, FakeMeter]:
    live = live if live is not None else FakeMeter()
    return Responder(config if config is not None else MeterConfig(), live), live


def run(
    responder: Responder,
    procedure: int,
    params: bytes = b"",
    clearance: Clearance = MASTER,
    *,
    seq: int = 1,
    selector: ResponseSelector = ResponseSelector.ON_COMPLETION,
    now: float = T,
) -> ProcedureResponse:
    """Write ST7 and read ST8 back through the responder; the ST7 write must be accepted."""
    formats = responder.config.formats
    request = ProcedureRequest(procedure, selector=selector, seq_nbr=seq, params=params)
    answer = responder.answer(FullWrite(7, request.encode(formats)), clearance, now)
    assert answer == OkResponse(), answer
    read = responder.answer(FullRead(8), clearance, now)
    assert isinstance(read, ReadResponse)
    return ProcedureResponse.decode(read.data, formats)


def value(responder: Responder, number: int) -> dict:  # type: ignore[type-arg]
    read = responder.answer(FullRead(number), MASTER, T)
    assert isinstance(read, ReadResponse), read
    return responder.store.layout(number).decode(read.data)


def codes(live: FakeMeter) -> list[int]:
    return [e.code for e in live.log]


# -- the framing ---------------------------------------------------------------------------------------------
def test_st8_echoes_the_request_and_the_procedure_is_logged() -> None:
    responder, live = meter()
    response = run(responder, 7, seq=42)
    assert (response.procedure, response.seq_nbr, response.result) == (7, 42, ResultCode.COMPLETED)
    assert codes(live) == [9]
    assert live.log[0].user_id == MASTER.user_id
    assert value(responder, 7)["SEQ_NBR"] == 42


def test_unknown_and_unconfigured_procedures_are_unrecognized() -> None:
    responder, _ = meter(MeterConfig(procedures=frozenset({3, 7})))
    assert run(responder, 11).result == ResultCode.UNRECOGNIZED  # no implementation
    assert run(responder, 9, RemoteResetParams(demand_reset=True).encode()).result == ResultCode.UNRECOGNIZED
    request = ProcedureRequest(3, mfg=True, seq_nbr=1)
    assert responder.answer(FullWrite(7, request.encode()), MASTER, T) == OkResponse()
    assert ProcedureResponse.decode(value_octets(responder, 8)).result == ResultCode.UNRECOGNIZED


def value_octets(responder: Responder, number: int) -> bytes:
    read = responder.answer(FullRead(number), MASTER, T)
    assert isinstance(read, ReadResponse)
    return read.data


@pytest.mark.parametrize(
    ("clearance", "procedure", "params", "allowed"),
    [
        (OPERATOR, 3, b"", False),  # clear data: master only
        (MASTER, 3, b"", True),
        (OPERATOR, 22, ModifyCreditParams(CreditAction.ADD, 5).encode(MeterConfig().formats), False),
        (OPERATOR, 21, DirectLoadControlParams(1, LoadControlAction.SHED).encode(), True),
        (PROGRAMMER, 21, DirectLoadControlParams(1, LoadControlAction.SHED).encode(), False),
        (PROGRAMMER, 6, ChangeEndDeviceModeParams(EdMode.TEST).encode(), True),
        (OPERATOR, 6, ChangeEndDeviceModeParams(EdMode.TEST).encode(), False),
    ],
)
def test_procedure_rights_follow_st44(clearance: Clearance, procedure: int, params: bytes, allowed: bool) -> None:
    responder, live = meter()
    before = list(live.log)
    result = run(responder, procedure, params, clearance).result
    assert result == (ResultCode.COMPLETED if allowed else ResultCode.NO_AUTHORIZATION)
    if not allowed:
        assert live.log == before  # nothing happened


def test_st7_needs_write_clearance_for_the_table_itself() -> None:
    responder, live = meter()
    request = ProcedureRequest(7, seq_nbr=1).encode()
    assert responder.answer(FullWrite(7, request), READER, T) == ErrorResponse(ResponseCode.ISC)
    assert responder.answer(FullWrite(7, request), Clearance(), T) == ErrorResponse(ResponseCode.ISC)
    assert live.log == []


@pytest.mark.parametrize(
    ("procedure", "params"),
    [
        (6, b""),  # SP6 needs ED_MODE
        (6, b"\x10"),  # reserved bit
        (6, bytes((EdMode.FACTORY,))),  # no metering/test/shop mode
        (9, b"\x00"),  # nothing asked
        (9, b"\x80"),  # reserved bit
        (10, b"\x01\x02"),  # short
        (16, b"\x00"),  # SP16 takes none
        (21, b"\x00\x09\x00\x00\x00"),  # ACTION 9
        (21, b"\x00\x03\x65\x00\x00"),  # level 101 %
        (21, b"\x09\x01\x00\x00\x00"),  # no control point 9
        (22, b"\x00"),  # short
        (13, bytes(6)),  # nothing pending matches
        (15, b"\x02ABC"),  # short EVENT_RCD
    ],
)
def test_bad_parameters_are_invalid(procedure: int, params: bytes) -> None:
    responder, live = meter()
    before = (live.mode, list(live.points), live.remaining)
    assert run(responder, procedure, params).result == ResultCode.INVALID_PARAMETER
    assert (live.mode, list(live.points), live.remaining) == before


@settings(max_examples=150, deadline=None)
@given(procedure=st.integers(0, 40), params=st.binary(max_size=32), selector=st.sampled_from(list(ResponseSelector)))
def test_any_st7_write_gets_an_answer_and_a_defined_result(procedure: int, params: bytes, selector: int) -> None:
    responder, _ = meter()
    request = ProcedureRequest(procedure, selector=ResponseSelector(selector), seq_nbr=5, params=params)
    answer = responder.answer(FullWrite(7, request.encode()), MASTER, T)
    assert answer == OkResponse()
    st8 = ProcedureResponse.decode(value_octets(responder, 8))
    if selector == ResponseSelector.NEVER or (selector == ResponseSelector.ON_EXCEPTION and st8.seq_nbr != 5):
        assert st8.seq_nbr == 0  # untouched
    else:
        assert st8.seq_nbr == 5 and st8.procedure == procedure


# -- each procedure ------------------------------------------------------------------------------------------
def test_sp3_clears_the_engine_and_the_snapshots() -> None:
    responder, live = meter()
    live.consume(250, 80, 1000)
    assert run(responder, 9, RemoteResetParams(demand_reset=True).encode()).ok
    assert value(responder, 25)["PREV_DEMAND_RESET_DATA"]["TOT_DATA_BLOCK"]["SUMMATIONS"] == [250.0, 80.0]
    assert run(responder, 3).ok
    assert live.energy[0] == [0.0, 0.0] and live.blocks == []
    assert value(responder, 25)["PREV_DEMAND_RESET_DATA"]["TOT_DATA_BLOCK"]["SUMMATIONS"] == [0.0, 0.0]
    assert value(responder, 26)["NBR_VALID_ENTRIES"] == 0
    assert codes(live) == [16, 18, 9]


def test_sp6_changes_mode_and_logs_the_transitions() -> None:
    responder, live = meter()
    assert run(responder, 6, ChangeEndDeviceModeParams(EdMode.TEST).encode()).ok
    assert live.mode == EdMode.TEST
    assert codes(live) == [31, 32, 9]  # metering stopped, test started
    assert value(responder, 3)["ED_MODE"]["TEST_MODE_FLAG"] is True


@pytest.mark.parametrize("procedure", [7, 8])
def test_sp7_sp8_clear_status_flags(procedure: int) -> None:
    responder, live = meter()
    live.flags, live.mfg_flags = 0b1000000000, 0x5
    assert value(responder, 3)["ED_STD_STATUS1"]["LOW_LOSS_POTENTIAL_FLAG"] is True
    assert run(responder, procedure).ok
    assert (live.flags == 0) == (procedure == 7) and (live.mfg_flags == 0) == (procedure == 8)


def test_sp9_demand_reset_snapshots_st23_and_self_reads() -> None:
    responder, live = meter()
    live.consume(300, 90, 1200)
    live.tier = 1
    live.consume(200, 50, 2500)
    st23 = value(responder, 23)
    assert run(responder, 9, RemoteResetParams(demand_reset=True).encode()).ok
    assert (live.resets, live.demand_max) == (1, 0.0)
    st25 = value(responder, 25)
    assert st25["PREV_DEMAND_RESET_DATA"] == st23
    assert st25["REGISTER_INFO"]["END_DATE_TIME"] == live.now.replace(second=0)
    st26 = value(responder, 26)  # ST21 couples a self read to the demand reset
    assert st26["NBR_VALID_ENTRIES"] == 1
    assert st26["SELF_READS_ENTRIES"][0]["SELF_READ_REGISTER_DATA"] == st23
    assert codes(live) == [21, 20, 9]
    assert value(responder, 23)["NBR_DEMAND_RESETS"] == 1
    assert value(responder, 23)["TOT_DATA_BLOCK"]["DEMANDS"][0]["DEMAND"] == [0.0]


def test_sp9_self_reads_go_round_the_list() -> None:
    responder, live = meter(MeterConfig(nbr_self_reads=2))
    for n in range(3):
        live.consume(100, 10, 500)
        assert run(responder, 9, RemoteResetParams(self_read=True).encode(), seq=n).ok
    st26 = value(responder, 26)
    assert (st26["NBR_VALID_ENTRIES"], st26["LAST_ENTRY_ELEMENT"], st26["LAST_ENTRY_SEQ_NBR"]) == (2, 0, 2)
    assert st26["LIST_STATUS"]["OVERFLOW_FLAG"] is True
    newest = st26["SELF_READS_ENTRIES"][0]["SELF_READ_REGISTER_DATA"]["TOT_DATA_BLOCK"]["SUMMATIONS"]
    assert newest == [300.0, 30.0]
    assert live.resets == 0


def test_sp9_reset_exclusion_is_a_timing_constraint() -> None:
    responder, live = meter(MeterConfig(reset_exclusion_min=30))
    reset = RemoteResetParams(demand_reset=True).encode()
    assert run(responder, 9, reset).ok
    live.now += dt.timedelta(minutes=10)
    assert run(responder, 9, reset, seq=2).result == ResultCode.TIMING_CONSTRAINT
    live.now += dt.timedelta(minutes=25)
    assert run(responder, 9, reset, seq=3).ok
    assert live.resets == 2


def test_sp9_season_change_conflicts() -> None:
    responder, _ = meter()
    params = RemoteResetParams(season_change=True, new_season=1).encode()
    assert run(responder, 9, params).result == ResultCode.CONFLICT_WITH_SETUP


@pytest.mark.parametrize(("set_date", "set_time"), [(True, True), (True, False), (False, True)])
def test_sp10_sets_the_clock_by_mask(set_date: bool, set_time: bool) -> None:
    responder, live = meter()
    old = live.now
    target = dt.datetime(2027, 7, 4, 12, 0, 30)
    qual = TimeDateQual.for_datetime(target, dst=True)
    params = SetDateTimeParams(target, qual, set_time=set_time, set_date=set_date).encode(responder.config.formats)
    assert run(responder, 10, params).ok
    expected = dt.datetime.combine(target.date() if set_date else old.date(), target.time() if set_time else old.time())
    assert live.now == expected and live.qual == qual
    codec = TimeCodec("LTIME_DATE", responder.config.formats)
    assert [(e.code, e.argument) for e in live.log[:2]] == [(3, codec.encode(old)), (4, codec.encode(expected))]
    assert value(responder, 52)["CLOCK_CALENDAR"] == expected
    assert value(responder, 52)["TIME_DATE_QUAL"]["DST_FLAG"] is True


def test_sp10_refuses_an_invalid_date() -> None:
    responder, live = meter()
    raw = bytes((7,)) + bytes((26, 13, 40, 0, 0, 0)) + b"\x00"  # month 13 → RawTime
    assert run(responder, 10, raw).result == ResultCode.INVALID_PARAMETER
    assert live.now == START


def pending_write(responder: Responder, number: int, event: bytes, data: bytes, clearance: Clearance = MASTER):  # type: ignore[no-untyped-def]
    return responder.answer(FullWrite(make_table_id(number, pending=True), event + data), clearance, T)


def test_sp12_to_sp15_pending_tables() -> None:
    responder, live = meter()
    layout = responder.store.layout(118)
    prices = layout.decode(responder.store.get(118))
    prices["TIER_PRICES"][1]["PRICE"] = 0.55
    new = layout.encode(prices)
    event_a = ActivateSpecificPendingTablesParams(PendingEventCode.NON_TIME_BASED, b"PRICE").encode()
    event_b = ActivateSpecificPendingTablesParams(PendingEventCode.NON_TIME_BASED, b"OTHER").encode()
    assert pending_write(responder, 118, event_a, new) == OkResponse()
    assert pending_write(responder, 118, event_b, new) == OkResponse()
    st4 = value(responder, 4)
    assert st4["NBR_PENDING_ACTIVATION"] == 2
    assert [t["TABLE_SELECTOR"]["TBL_PROC_NBR"] for t in st4["PENDING_TABLES"][:2]] == [118, 118]
    assert responder.store.get(118) != new  # not applied yet
    # SP15 drops the OTHER entry, SP13 activates PRICE
    assert run(responder, 15, ClearSpecificPendingTablesParams(2, b"OTHER").encode()).ok
    assert run(responder, 13, ActivateSpecificPendingTablesParams(2, b"NOPE!").encode(), seq=2).result == (
        ResultCode.INVALID_PARAMETER
    )
    assert run(responder, 13, event_a, seq=3).ok
    assert responder.store.get(118) == new
    assert codes(live).count(29) == 1 and codes(live).count(28) == 1
    st4 = value(responder, 4)
    assert st4["NBR_PENDING_ACTIVATION"] == 0
    assert st4["LAST_ACTIVATION_DATE_TIME"] == live.now.replace(second=0)
    # SP12 activates all, SP14 clears all
    prices["TIER_PRICES"][0]["PRICE"] = 0.01
    assert pending_write(responder, 118, event_b, layout.encode(prices)) == OkResponse()
    assert run(responder, 14, seq=4).ok and value(responder, 4)["NBR_PENDING_ACTIVATION"] == 0
    assert pending_write(responder, 118, event_b, layout.encode(prices)) == OkResponse()
    assert run(responder, 12, seq=5).ok
    assert responder.store.get(118) == layout.encode(prices)


def test_pending_activation_by_time() -> None:
    responder, live = meter()
    when = START + dt.timedelta(hours=1)
    storage = TimeCodec("STIME_DATE", responder.config.formats).encode(when).ljust(5, b"\0")
    event = ActivateSpecificPendingTablesParams(PendingEventCode.ABSOLUTE_TIME, storage, self_read=True).encode()
    st6 = responder.store.layout(6)
    values = st6.decode(responder.store.get(6))
    values["OWNER_NAME"] = "NEW OWNER".ljust(20)
    assert pending_write(responder, 6, event, st6.encode(values)) == OkResponse()
    responder.poll(T)
    assert value(responder, 6)["OWNER_NAME"].strip() == "OPENAMI UTILITY"
    live.now = when
    responder.poll(T + 1)
    assert value(responder, 6)["OWNER_NAME"].strip() == "NEW OWNER"
    assert 28 in codes(live) and 21 in codes(live)  # activation logged, the self read it asked for done


def test_pending_writes_are_checked() -> None:
    responder, _ = meter()
    event = ActivateSpecificPendingTablesParams(2, b"XXXXX").encode()
    assert pending_write(responder, 42, event, b"") == ErrorResponse(ResponseCode.IAR)  # ST42 not pending
    assert pending_write(responder, 118, event, b"\x00") == ErrorResponse(ResponseCode.ONP)  # wrong length
    assert pending_write(responder, 118, b"\xff" + bytes(5), responder.store.get(118)) == ErrorResponse(
        ResponseCode.ERR
    )
    assert pending_write(responder, 118, event, responder.store.get(118), READER) == ErrorResponse(ResponseCode.ISC)
    for _ in range(4):
        assert pending_write(responder, 118, event, responder.store.get(118)) == OkResponse()
    assert pending_write(responder, 118, event, responder.store.get(118)) == ErrorResponse(ResponseCode.ONP)


def test_pending_procedures_conflict_without_st4() -> None:
    config = MeterConfig(nbr_pending=0, pending_tables=frozenset())
    responder, _ = meter(config)
    assert 4 not in responder.store.numbers
    assert run(responder, 12).result == ResultCode.CONFLICT_WITH_SETUP


def test_sp16_sp17_start_and_stop_the_load_profile() -> None:
    responder, live = meter()
    assert run(responder, 17).ok and live.lp_active is False
    assert value(responder, 63)["LP_STATUS_SET1"]["LP_SET_STATUS_FLAGS"]["ACTIVE_MODE_FLAG"] is False
    assert run(responder, 16, seq=2).ok and live.lp_active is True
    tables = MeterConfig().default_tables() - {60, 61, 62, 63, 64}
    responder, _ = meter(MeterConfig(tables=tables))
    assert run(responder, 16).result == ResultCode.CONFLICT_WITH_SETUP


@pytest.mark.parametrize(
    ("action", "level", "expected"),
    [
        (LoadControlAction.SHED, 0, 0),
        (LoadControlAction.RESTORE, 0, 100),
        (LoadControlAction.SET_LEVEL, 40, 40),
        (LoadControlAction.RELEASE, 0, 100),
    ],
)
def test_sp21_drives_a_load_point(action: LoadControlAction, level: int, expected: int) -> None:
    responder, live = meter()
    params = DirectLoadControlParams(1, action, level, duration=30).encode()
    assert run(responder, 21, params, OPERATOR).ok
    assert live.points[1].level == expected
    point = value(responder, 112)["CONTROL_POINT_STATUS"][1]
    assert point["CONTROL_LEVEL"] == expected and point["STATUS_FLAGS"]["SUPPLY_ON_FLAG"] == (expected > 0)
    assert live.log[0].code == 49 and live.log[0].argument == bytes((1, 255 if action == 0 else expected))


def test_sp21_disconnects_and_reconnects_the_service() -> None:
    responder, live = meter()
    switch = responder.config.service_disconnect
    assert switch == 0
    assert run(responder, 21, DirectLoadControlParams(switch, LoadControlAction.SHED).encode()).ok
    assert live.points[0].level == 0
    assert value(responder, 112)["CONTROL_POINT_STATUS"][0]["STATUS_FLAGS"]["SUPPLY_ON_FLAG"] is False
    assert run(responder, 21, DirectLoadControlParams(switch, LoadControlAction.RESTORE).encode(), seq=2).ok
    assert live.points[0].level == 100
    half = DirectLoadControlParams(switch, LoadControlAction.SET_LEVEL, 50).encode()
    assert run(responder, 21, half, seq=3).result == ResultCode.INVALID_PARAMETER
    # "all control points" leaves the main switch alone
    assert run(responder, 21, DirectLoadControlParams(255, LoadControlAction.SHED).encode(), seq=4).ok
    assert (live.points[0].level, live.points[1].level) == (100, 0)
    live.switch_works = False
    shed = DirectLoadControlParams(switch, LoadControlAction.SHED).encode()
    assert run(responder, 21, shed, seq=5).result == ResultCode.NOT_COMPLETED


def test_sp21_conflicts_with_the_setup() -> None:
    responder, _ = meter(MeterConfig(level_control=False))
    half = DirectLoadControlParams(1, LoadControlAction.SET_LEVEL, 50).encode()
    assert run(responder, 21, half).result == ResultCode.CONFLICT_WITH_SETUP
    responder, _ = meter(MeterConfig(procedures=MeterConfig().procedures - {21}))
    assert run(responder, 21, half).result == ResultCode.UNRECOGNIZED


def test_sp22_modifies_credit_once_per_reference() -> None:
    responder, live = meter()
    formats = responder.config.formats
    add = ModifyCreditParams(CreditAction.ADD, Decimal("12.5"), reference=77).encode(formats)
    response = run(responder, 22, add)
    assert response.ok and live.remaining == Decimal("32.5")
    assert ModifyCreditParams.decode(bytes(5) + response.data, formats).amount == 32.5
    assert run(responder, 22, add, seq=2).ok and live.remaining == Decimal("32.5")  # repeated reference
    subtract = ModifyCreditParams(CreditAction.SUBTRACT, 30, reference=78).encode(formats)
    assert run(responder, 22, subtract, seq=3).ok and live.remaining == Decimal("2.5")
    st116 = value(responder, 116)
    assert st116["REMAINING_CREDIT"] == 2.5
    assert st116["PREPAYMENT_STATUS_FLAGS"]["LOW_CREDIT_FLAG"] is True
    assert st116["CREDIT_HISTORY"][0]["CREDIT_AFTER"] == 2.5
    assert [c for c in codes(live) if c != 9] == [53, 54]
    negative = ModifyCreditParams(CreditAction.ADD, -5, reference=79).encode(formats)
    assert run(responder, 22, negative, seq=4).result == ResultCode.INVALID_PARAMETER
    nan = ModifyCreditParams(CreditAction.SET, float("nan"), reference=80).encode(formats)
    assert run(responder, 22, nan, seq=5).result == ResultCode.INVALID_PARAMETER
    assert live.remaining == Decimal("2.5")
    responder, _ = meter(MeterConfig(prepayment=False))
    assert run(responder, 22, add).result == ResultCode.CONFLICT_WITH_SETUP


# -- busy ----------------------------------------------------------------------------------------------------
def test_a_long_procedure_makes_st7_busy_until_it_completes() -> None:
    responder, live = meter(MeterConfig(procedure_durations=((3, 5.0),)))
    live.consume(100, 10, 300)
    response = run(responder, 3, selector=ResponseSelector.NOW_AND_ON_COMPLETION, now=T)
    assert response.result == ResultCode.NOT_COMPLETED
    assert live.energy[0][0] == 100  # not yet
    again = ProcedureRequest(7, seq_nbr=2).encode()
    assert responder.answer(FullWrite(7, again), MASTER, T + 1) == ErrorResponse(ResponseCode.BSY)
    assert responder.next_timer() == T + 5
    responder.poll(T + 5)
    assert live.energy[0][0] == 0
    assert ProcedureResponse.decode(value_octets(responder, 8)).result == ResultCode.COMPLETED
    assert responder.answer(FullWrite(7, again), MASTER, T + 6) == OkResponse()


def test_secured_procedures_need_the_mode() -> None:
    security = SecuritySettings(min_write_mode=SecurityMode.ENCRYPTED)
    responder, _ = meter(MeterConfig(security=security))
    request = FullWrite(7, ProcedureRequest(7, seq_nbr=1).encode())
    assert responder.answer(request, MASTER, T) == ErrorResponse(ResponseCode.ISC)
    secured = Clearance(groups=GROUP_MASTER, authenticated=True, security_mode=SecurityMode.ENCRYPTED)
    assert responder.answer(request, secured, T) == OkResponse()
