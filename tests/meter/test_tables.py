"""The table store: every table reads back and decodes as a reader would decode it (from the meter's own
ST0 and ACT_* tables), partial reads by offset and by index give exactly the decoded element, and writes
of every kind round-trip or are refused with the right response code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.device import CONFIG_TABLES, config_from_tables
from openami.c1219.formats import CharFormat, DataOrder, Formats, TmFormat
from openami.c1219.layout import bind
from openami.c1219.ni import ni_codec
from openami.c1219.nodes import ArrayNode, RecordNode
from openami.c1219.procedures import CreditAction
from openami.c1219.std import STANDARD_TABLES
from openami.c1219.std.decade11 import ControlPointType
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    OkResponse,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
    ReadResponse,
    make_table_id,
    table_checksum,
)
from openami.errors import LocalProtocolError
from openami.meter.access import Clearance
from openami.meter.config import ControlPoint, Identity, Key, MeterConfig, SecuritySettings, Source
from openami.meter.responder import Responder
from openami.meter.tables import TableStore, to_ni

from .test_procedures import MASTER, PROGRAMMER, READER, FakeMeter, T

KEY = bytes(range(1, 17))

CONFIGS = {
    "default": MeterConfig(),
    "big-endian, TM 4, integer NI, BCD ids, UTF-8": MeterConfig(
        formats=Formats(
            data_order=DataOrder.MSB_FIRST,
            tm_format=TmFormat.UINT32_SECONDS,
            ni_format1=10,
            ni_format2=8,
            id_form=1,
            char_format=CharFormat.UTF_8,
        ),
        identity=Identity(serial="12345678", service_point_id="42"),
        tier_prices=(1, 3, 1, 1),
        security=SecuritySettings(keys=(Key(2, KEY), Key(5, KEY[::-1]))),
        tables=MeterConfig().default_tables() | {46},
    ),
    "TM 3, INT32_DEC4, two tiers, three occurrences, coincidents, BCD time": MeterConfig(
        formats=Formats(tm_format=TmFormat.UINT32_MINUTES, ni_format1=4, ni_format2=9),
        nbr_tiers=2,
        tier_prices=(Decimal("0.1"), Decimal("0.25")),
        nbr_occur=3,
        coincidents=((3, 0), (4, 0)),
        reset_exclusion_min=15,
        lp_int_format=64,
        lp_channels=(0, 1, 2),
        control_points=(ControlPoint(ControlPointType.SERVICE_DISCONNECT),),
        sources=(*MeterConfig().sources, Source("Wh received", 0, quadrants=(2, 3))),
        std_version=1,
    ),
    "BCD clock, small": MeterConfig(
        formats=Formats(tm_format=TmFormat.BCD, ni_format1=1, ni_format2=1),
        nbr_tiers=1,
        tier_prices=(0.2,),
        tier_switches=(),
        lp_blocks=1,
        lp_block_intervals=24,
        nbr_self_reads=0,
        history_entries=4,
        event_entries=4,
    ),
}


def busy_meter(config: MeterConfig) -> tuple[Responder, FakeMeter]:
    """A responder over an engine that has run for a while: energy, demand, profile, events, credit."""
    live = FakeMeter(
        tiers=config.nbr_tiers, channels=len(config.lp_channels), block_intervals=config.lp_block_intervals
    )
    for n in range(130):
        live.tier = 1 if 17 <= live.now.hour < 21 and config.nbr_tiers > 1 else 0
        live.consume(200 + n, 50 + n % 7, 800 + 10 * n)
        if n % 20 == 0:
            live.log_event(2, 0, bytes((n,)))
    live.modify_credit(CreditAction.ADD, 10, 1)
    return Responder(config, live), live


def read(responder: Responder, request: Any, clearance: Clearance = MASTER) -> bytes:
    answer = responder.answer(request, clearance, T)
    assert isinstance(answer, ReadResponse), (request, answer)
    return answer.data


@pytest.fixture(params=list(CONFIGS), scope="module")
def device(request: pytest.FixtureRequest) -> tuple[Responder, FakeMeter, dict[int, bytes]]:
    responder, live = busy_meter(CONFIGS[request.param])
    octets = {n: read(responder, FullRead(n)) for n in sorted(responder.store.numbers)}
    return responder, live, octets


# -- reads ---------------------------------------------------------------------------------------------------
def test_every_table_decodes_with_the_meters_own_configuration(device: Any) -> None:
    responder, _, octets = device
    reader = config_from_tables({n: octets[n] for n in CONFIG_TABLES if n in octets})
    st0 = bind(STANDARD_TABLES[0], reader).decode(octets[0])
    assert set(st0["STD_TBLS_USED"]) == set(octets)
    assert set(st0["STD_PROC_USED"]) == set(responder.config.procedures)
    assert set(st0["STD_TBLS_WRITE"]) == set(responder.config.writable)
    for number, data in octets.items():
        layout = bind(STANDARD_TABLES[number], reader)
        assert layout.encode(layout.decode(data)) == data, number
        assert data == responder.store.get(number)


def test_identity_and_dimensions_are_consistent(device: Any) -> None:
    responder, _, octets = device
    store, config = responder.store, responder.config
    st1, st21 = store.value(1), store.value(21)
    assert st1["MANUFACTURER"] == config.identity.manufacturer
    assert (st21["NBR_SUMMATIONS"], st21["NBR_TIERS"], st21["NBR_OCCUR"]) == (
        len(config.summations),
        config.nbr_tiers,
        config.nbr_occur,
    )
    assert len(store.value(23)["TIER_DATA_BLOCK"]) == config.nbr_tiers
    assert len(store.value(12)["UOM_ENTRY"]) == len(config.sources)
    assert len(store.value(64)["LP_DATA_SET1"]) == config.lp_blocks
    assert store.value(61)["LP_MEMORY_LEN"] == len(octets[64])
    assert store.value(51)["CALENDAR_TBL_SIZE"] == len(octets[54])
    assert len(store.value(42)["SECURITY_ENTRIES"]) == len(config.security.passwords)
    assert store.value(10) == store.value(11) and store.value(20) == st21


def test_live_tables_carry_the_engine_state(device: Any) -> None:
    responder, live, _ = device
    store = responder.store
    st23 = store.value(23)
    assert [float(v) for v in st23["TOT_DATA_BLOCK"]["SUMMATIONS"]] == pytest.approx(live.energy[0], rel=1e-4, abs=1)
    demand = st23["TOT_DATA_BLOCK"]["DEMANDS"][0]
    assert float(demand["DEMAND"][0]) == pytest.approx(live.demand_max, abs=1)
    assert len(demand["DEMAND"]) == responder.config.nbr_occur
    st52 = store.value(52)
    assert st52["CLOCK_CALENDAR"] == live.now
    st76 = store.value(76)
    kept = live.log[-responder.config.event_entries :]
    assert st76["NBR_VALID_ENTRIES"] == len(kept)
    newest = st76["EVENT_ENTRIES"][st76["LAST_ENTRY_ELEMENT"]]
    assert (newest["EVENT_SEQ_NBR"], newest["EVENT_CODE"]["TBL_PROC_NBR"]) == (kept[-1].seq, kept[-1].code)
    st63 = store.value(63)["LP_STATUS_SET1"]
    assert st63["NBR_VALID_BLOCKS"] == min(len(live.blocks), responder.config.lp_blocks)
    assert st63["NBR_VALID_INT"] == len(live.blocks[-1].intervals)
    last = store.value(64)["LP_DATA_SET1"][st63["LAST_BLOCK_ELEMENT"]]
    assert len(last["SIMPLE_INT_STATUS"]) == len(live.blocks[-1].intervals)
    assert float(last["LP_INT"][0]["INT_DATA"][0]) == pytest.approx(live.blocks[-1].intervals[0][0], abs=0.5)
    assert store.value(127)["STATISTICS"][0]["STATISTIC_VALUE"] == 1234
    assert float(store.value(116)["REMAINING_CREDIT"]) == pytest.approx(float(live.remaining))


def _paths(node: Any, prefix: str, depth: int) -> list[tuple[str, tuple[int, ...]]]:
    """(name path, index path) of elements down to ``depth`` levels (first two elements of arrays)."""
    out: list[tuple[str, tuple[int, ...]]] = []
    if depth == 0:
        return out
    if isinstance(node, RecordNode):
        for i, (name, child) in enumerate(node.fields):
            path = f"{prefix}.{name}" if prefix else name
            out.append((path, (i,)))
            out += [(p, (i, *rest)) for p, rest in _paths(child, path, depth - 1)]
    elif isinstance(node, ArrayNode):
        for i in range(min(2, node.count)):
            path = f"{prefix}[{i}]"
            out.append((path, (i,)))
            out += [(p, (i, *rest)) for p, rest in _paths(node.element, path, depth - 1)]
    return out


def test_partial_reads_give_the_decoded_element(device: Any) -> None:
    responder, _, octets = device
    for number in sorted(octets):
        layout = responder.store.layout(number)
        decoded = layout.decode(octets[number])
        for path, indices in _paths(layout.root, "", 3)[:40]:
            span = layout.locate(path)
            by_offset = read(responder, PartialReadOffset(number, span.offset, span.size))
            by_index = read(responder, PartialReadIndex(number, indices, 1))
            assert by_offset == by_index == octets[number][span.offset : span.offset + span.size]
            expected: Any = decoded
            for token in indices:
                expected = list(expected.values())[token] if isinstance(expected, dict) else expected[token]
            assert layout.decode_span(span, by_offset) == expected, (number, path)


def test_partial_read_of_several_elements(device: Any) -> None:
    responder, _, octets = device
    layout = responder.store.layout(23)
    tiers = [name for name, _ in layout.root.fields].index("TIER_DATA_BLOCK")
    count = responder.config.nbr_tiers
    span = layout.locate_index((tiers, 0), count)
    data = read(responder, PartialReadIndex(23, (tiers, 0), count))
    assert data == octets[23][span.offset : span.offset + span.size]
    blocks = layout.decode(octets[23])["TIER_DATA_BLOCK"]
    assert layout.decode_span(span, data) == (blocks if count > 1 else blocks[0])


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (FullRead(9), ResponseCode.ONP),  # not a table of this meter
        (FullRead(make_table_id(1, manufacturer=True)), ResponseCode.ONP),
        (FullRead(0x2001), ResponseCode.ONP),  # reserved id bits
        (FullRead(make_table_id(6, pending=True)), ResponseCode.ONP),
        (PartialReadOffset(1, 30, 3), ResponseCode.ONP),  # past ST1's 32 octets
        (PartialReadOffset(1, 33, 0), ResponseCode.ONP),
        (PartialReadIndex(1, (7,), 1), ResponseCode.ONP),  # ST1 has 7 fields
        (PartialReadIndex(1, (6,), 2), ResponseCode.ONP),
        (PartialReadIndex(1, (0,), 0), ResponseCode.ONP),
        (PartialReadIndex(1, (0, 0), 1), ResponseCode.ONP),  # MANUFACTURER has no elements
        (FullRead(42), ResponseCode.ISC),  # passwords: master only
    ],
)
def test_read_refusals(request_: Any, code: ResponseCode) -> None:
    responder, _ = busy_meter(MeterConfig())
    assert responder.answer(request_, READER, T) == ErrorResponse(code)


@pytest.fixture(scope="module")
def shared() -> Responder:
    """One meter for the property tests (module scope: hypothesis runs many examples against it)."""
    return busy_meter(MeterConfig())[0]


@settings(max_examples=200, deadline=None)
@given(number=st.sampled_from([1, 6, 23, 64, 76]), offset=st.integers(0, 2000), count=st.integers(0, 2000))
def test_random_offset_reads_are_slices_or_onp(shared: Responder, number: int, offset: int, count: int) -> None:
    responder = shared
    whole = read(responder, FullRead(number))
    answer = responder.answer(PartialReadOffset(number, offset, count), READER, T)
    if offset + count <= len(whole):
        assert answer == ReadResponse(whole[offset : offset + count])
    else:
        assert answer == ErrorResponse(ResponseCode.ONP)


# -- writes --------------------------------------------------------------------------------------------------
def test_full_write_round_trips_and_is_logged() -> None:
    responder, live = busy_meter(MeterConfig())
    layout = responder.store.layout(6)
    values = layout.decode(responder.store.get(6))
    values["OWNER_NAME"] = "CITY POWER".ljust(20)
    data = layout.encode(values)
    assert responder.answer(FullWrite(6, data), PROGRAMMER, T) == OkResponse()
    assert read(responder, FullRead(6)) == data
    assert live.log[-1].code == 10 and live.log[-1].argument == (6).to_bytes(2, "little")
    assert live.log[-1].user_id == PROGRAMMER.user_id


def test_partial_writes_by_offset_and_index_round_trip() -> None:
    responder, _ = busy_meter(MeterConfig())
    store = responder.store
    span = store.layout(6).locate("UTILITY_DIV")
    text = "NORTH DIVISION".ljust(20).encode()
    assert responder.answer(PartialWriteOffset(6, span.offset, text), PROGRAMMER, T) == OkResponse()
    assert store.value(6)["UTILITY_DIV"].strip() == "NORTH DIVISION"
    layout = store.layout(118)
    prices = [name for name, _ in layout.root.fields].index("TIER_PRICES")
    one = layout.locate_index((prices, 1), 1)
    codec_data = layout.encode({**store.value(118), "TIER_PRICES": [{"PRICE": 0.5}] * 4})
    new_price = codec_data[one.offset : one.offset + one.size]
    assert responder.answer(PartialWriteIndex(118, (prices, 1), new_price), PROGRAMMER, T) == OkResponse()
    assert [p["PRICE"] for p in store.value(118)["TIER_PRICES"]] == [0.12, 0.5, 0.12, 0.12]
    two = layout.locate_index((prices, 2), 2)
    both = codec_data[two.offset : two.offset + two.size]
    assert responder.answer(PartialWriteIndex(118, (prices, 2), both), PROGRAMMER, T) == OkResponse()
    assert [p["PRICE"] for p in store.value(118)["TIER_PRICES"]] == [0.12, 0.5, 0.5, 0.5]
    # not a whole number of elements
    assert responder.answer(PartialWriteIndex(118, (prices, 1), new_price[:3]), PROGRAMMER, T) == ErrorResponse(
        ResponseCode.ONP
    )


@pytest.mark.parametrize(
    ("request_", "clearance", "code"),
    [
        (FullWrite(9, b"x"), MASTER, ResponseCode.ONP),  # absent
        (FullWrite(make_table_id(6, manufacturer=True), b"x"), MASTER, ResponseCode.ONP),
        (FullWrite(1, bytes(32)), MASTER, ResponseCode.IAR),  # read-only (ST0 STD_TBLS_WRITE)
        (FullWrite(23, bytes(10)), MASTER, ResponseCode.IAR),  # live table
        (FullWrite(6, bytes(233)), READER, ResponseCode.ISC),  # no write clearance
        (FullWrite(6, bytes(233)), Clearance(), ResponseCode.ISC),  # anonymous
        (FullWrite(6, bytes(10)), MASTER, ResponseCode.ONP),  # wrong length
        (PartialWriteOffset(6, 230, b"1234"), MASTER, ResponseCode.ONP),  # past the end
        (PartialWriteIndex(6, (40,), b"x"), MASTER, ResponseCode.ONP),  # no field 40
        (PartialWriteOffset(6, 0, b"\xff" * 4), MASTER, ResponseCode.ERR),  # not ISO 646: undecodable
        (PartialWriteOffset(7, 0, b"\x00"), MASTER, ResponseCode.IAR),  # ST7: full writes only
    ],
)
def test_write_refusals_leave_the_table_alone(request_: Any, clearance: Clearance, code: ResponseCode) -> None:
    responder, live = busy_meter(MeterConfig())
    before = {n: responder.store.get(n) for n in (1, 6, 7, 23)}
    log = list(live.log)
    assert responder.answer(request_, clearance, T) == ErrorResponse(code)
    assert {n: responder.store.get(n) for n in before} == before
    assert live.log == log


def test_bad_checksum_and_unknown_codes_in_bodies() -> None:
    responder, _ = busy_meter(MeterConfig())
    body = bytearray(PartialWriteOffset(6, 0, b"ABCD").encode())
    body[-1] ^= 0x01
    assert responder.answer_body(bytes(body), MASTER, T) == b"\x01"  # ERR
    assert responder.answer_body(b"\x23", MASTER, T) == b"\x02"  # SNS: no such request code
    assert responder.answer_body(b"\x30\x00", MASTER, T) == b"\x01"  # truncated read: ERR
    good = FullRead(1).encode()
    assert responder.answer_body(good, MASTER, T) == ReadResponse(responder.store.get(1)).encode()
    data = responder.store.get(1)
    assert responder.answer_body(good, MASTER, T)[-1] == table_checksum(data)


def test_request_and_response_size_limits() -> None:
    responder, _ = busy_meter(MeterConfig(max_request_size=64, max_response_size=128))
    assert responder.answer(FullRead(64), READER, T) == ErrorResponse.too_large(ResponseCode.RSTL, 128)
    assert responder.answer(PartialReadOffset(64, 0, 124), READER, T) == ReadResponse(responder.store.get(64)[:124])
    assert responder.answer(PartialReadOffset(64, 0, 125), READER, T) == ErrorResponse.too_large(ResponseCode.RSTL, 128)
    assert responder.answer(FullWrite(6, bytes(233)), MASTER, T) == ErrorResponse.too_large(ResponseCode.RQTL, 64)


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(0, 240), data=st.binary(max_size=24))
def test_random_partial_writes_are_applied_whole_or_not_at_all(shared: Responder, offset: int, data: bytes) -> None:
    responder = shared
    before = responder.store.get(6)
    answer = responder.answer(PartialWriteOffset(6, offset, data), MASTER, T)
    after = responder.store.get(6)
    if answer == OkResponse():
        assert after == before[:offset] + data + before[offset + len(data) :]
    else:
        assert after == before
        fits = offset + len(data) <= len(before)
        assert answer == ErrorResponse(ResponseCode.ERR if fits else ResponseCode.ONP)
    responder.store.layout(6).decode(after)


# -- the store itself ----------------------------------------------------------------------------------------
def test_store_put_refuses_values_that_do_not_fit() -> None:
    store = TableStore(MeterConfig())
    with pytest.raises(LocalProtocolError):
        store.update(6, {"OWNER_NAME": "x" * 40})
    store.update(52, {"CLOCK_CALENDAR": dt.datetime(2030, 1, 2, 3, 4, 5)})
    assert store.value(52)["CLOCK_CALENDAR"] == dt.datetime(2030, 1, 2, 3, 4, 5)
    version = store.version(52)
    store.update(52, {})
    assert store.version(52) == version  # unchanged octets: no new version


@pytest.mark.parametrize(
    "changes",
    [
        {"writable": frozenset({0})},  # ST0 is a configuration table
        {"writable": frozenset({23})},  # live table
        {"procedures": frozenset({11})},  # not implemented
        {"summations": (9,)},  # no source 9
        {"tier_prices": (1.0,)},  # one price per tier
        {"formats": Formats(ni_format1=2)},  # FLOAT_CHAR
        {"tables": frozenset({0, 1, 8})},  # ST7 missing
        {"identity": Identity(serial="ABC"), "formats": Formats(id_form=1)},  # BCD ids need digits
    ],
)
def test_inconsistent_configurations_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError):
        TableStore(MeterConfig(**changes))


def test_initial_values_override_the_built_tables() -> None:
    store = TableStore(MeterConfig(initial={53: {"DST_TIME_AMT": 30}, 6: {"MISC_ID": "BUILDING 7"}}))
    assert store.value(53)["DST_TIME_AMT"] == 30
    assert store.value(6)["MISC_ID"].strip() == "BUILDING 7"


@pytest.mark.parametrize(
    ("code", "value", "expected"),
    [
        (10, 2.6, 3),  # INT48 rounds
        (10, 1e30, 2**47 - 1),  # and saturates
        (10, float("nan"), 0),
        (7, -1e12, -(2**23)),  # INT24
        (4, 1e12, Decimal("214748.3647")),  # INT32_DEC4
        (4, Decimal("1.23456"), Decimal("1.2346")),
        (6, -5, 0),  # FIXED_BCD4 is unsigned
        (6, 123456, 9999),
        (1, 1e300, 3.4028234663852886e38),  # FLOAT32
        (0, 1e300, 1e300),  # FLOAT64
    ],
)
def test_engine_values_are_fitted_to_the_ni_formats(code: int, value: Any, expected: Any) -> None:
    codec = ni_codec(code, Formats())
    fitted = to_ni(codec, value)
    assert fitted == expected
    codec.encode(fitted)


def test_out_of_range_engine_values_still_read() -> None:
    responder, live = busy_meter(CONFIGS["big-endian, TM 4, integer NI, BCD ids, UTF-8"])
    live.remaining = Decimal("1e40")
    live.energy[0][0] = 1e30
    st116 = responder.store.layout(116).decode(read(responder, FullRead(116)))
    assert st116["REMAINING_CREDIT"] == 2**47 - 1
    st23 = responder.store.layout(23).decode(read(responder, FullRead(23)))
    assert st23["TOT_DATA_BLOCK"]["SUMMATIONS"][0] == 2**47 - 1
