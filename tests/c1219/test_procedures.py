"""ST7/ST8 procedure records and typed procedure parameters."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219 import procedures as p
from openami.c1219.formats import Formats
from openami.c1219.ni import ni_codec
from openami.c1219.nodes import ScalarNode
from openami.c1219.timefmt import RawTime, TimeCodec
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

from .harness import formats_strategy, is_canonical, same_value, value_strategy

PCAPS = Path("/work/shared/c1222-pcaps")
NDPI = PCAPS / "ndpi_c1222.pcapng"

LE, BE = Formats(data_order=0), Formats(data_order=1)


# -- ST7 / ST8 framing ---------------------------------------------------------------------------------
requests = st.builds(
    p.ProcedureRequest,
    procedure=st.integers(0, p.MAX_PROCEDURE),
    mfg=st.booleans(),
    selector=st.sampled_from(list(p.ResponseSelector)),
    seq_nbr=st.integers(0, 255),
    params=st.binary(max_size=40),
)
responses = st.builds(
    p.ProcedureResponse,
    procedure=st.integers(0, p.MAX_PROCEDURE),
    mfg=st.booleans(),
    seq_nbr=st.integers(0, 255),
    result=st.sampled_from(list(p.ResultCode)),
    data=st.binary(max_size=40),
    selector=st.sampled_from(list(p.ResponseSelector)),
)
orders = st.sampled_from([LE, BE])


def test_request_layout_by_hand() -> None:
    # c12-protocol-facts.md §6: number b0–10, mfg b11, selector b12–15, then SEQ_NBR and the parameters
    request = p.ProcedureRequest(52, True, p.ResponseSelector.NOW_AND_ON_COMPLETION, 7, b"\x01\x02")
    assert request.encode(LE) == bytes.fromhex("3438 07 0102")
    assert request.encode(BE) == bytes.fromhex("3834 07 0102")
    assert p.ProcedureRequest(10).encode() == bytes.fromhex("0a00 00")


def test_response_layout_by_hand() -> None:
    response = p.ProcedureResponse.decode(bytes.fromhex("0900 05 02 aa"), LE)
    assert response == p.ProcedureResponse(9, False, 5, p.ResultCode.INVALID_PARAMETER, b"\xaa")
    assert not response.ok
    assert str(response) == "SP9 REMOTE_RESET seq 5 INVALID_PARAMETER aa"


@settings(max_examples=150, deadline=None)
@given(requests, orders)
def test_request_round_trip_and_every_prefix(request: p.ProcedureRequest, formats: Formats) -> None:
    octets = request.encode(formats)
    assert len(octets) == 3 + len(request.params)
    assert p.ProcedureRequest.decode(octets, formats) == request
    for n in range(3):
        with pytest.raises(RemoteProtocolError):
            p.ProcedureRequest.decode(octets[:n], formats)
    # a longer ST7 is a request with longer parameters unless the device limit is given
    limit = len(request.params)
    assert p.ProcedureRequest.decode(octets, formats, max_params=limit) == request
    with pytest.raises(RemoteProtocolError):
        p.ProcedureRequest.decode(octets + b"\x00", formats, max_params=limit)
    with pytest.raises(LocalProtocolError):
        dataclasses.replace(request, params=request.params + b"\x00").encode(formats, max_params=limit)


@settings(max_examples=150, deadline=None)
@given(responses, orders)
def test_response_round_trip_and_every_prefix(response: p.ProcedureResponse, formats: Formats) -> None:
    octets = response.encode(formats)
    assert p.ProcedureResponse.decode(octets, formats) == response
    for n in range(4):
        with pytest.raises(RemoteProtocolError):
            p.ProcedureResponse.decode(octets[:n], formats)
    with pytest.raises(RemoteProtocolError):
        p.ProcedureResponse.decode(octets + b"\x00", formats, max_data=len(response.data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=12), orders)
def test_random_octets_decode_exactly_or_raise(octets: bytes, formats: Formats) -> None:
    for cls in (p.ProcedureRequest, p.ProcedureResponse):
        try:
            record = cls.decode(octets, formats)
        except ProtocolError:
            continue
        assert record.encode(formats) == octets


def test_reserved_selector_and_result_code_are_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="selector"):
        p.ProcedureRequest.decode(bytes.fromhex("0a40 00"), LE)  # selector 4
    with pytest.raises(RemoteProtocolError, match="RESULT_CODE"):
        p.ProcedureResponse.decode(bytes.fromhex("0a00 00 07"), LE)
    with pytest.raises(LocalProtocolError):
        p.ProcedureRequest(2048)
    with pytest.raises(LocalProtocolError):
        p.ProcedureRequest(1, seq_nbr=256)
    with pytest.raises(LocalProtocolError):
        p.ProcedureRequest(1, selector=4)  # type: ignore[arg-type]


def test_response_answers_request() -> None:
    request = p.SetDateTimeParams(dt.datetime(2024, 1, 2, 3, 4, 5)).request(seq_nbr=9)
    response = request.response(p.ResultCode.COMPLETED)
    assert response.ok and response.answers(request)
    assert not dataclasses.replace(response, seq_nbr=8).answers(request)
    assert request.standard is p.StandardProcedure.SET_DATE_TIME
    assert p.ProcedureRequest(9, mfg=True).standard is None


def test_standard_procedure_numbers() -> None:
    # c12-protocol-facts.md §6 (23/24 from Itron's list)
    assert p.StandardProcedure(9).name == "REMOTE_RESET"
    assert p.StandardProcedure(21).name == "DIRECT_LOAD_CONTROL"
    assert p.StandardProcedure(32).name == "SET_PRECISION_DATE_TIME"
    assert {25, 26} & {int(x) for x in p.StandardProcedure} == set()
    assert [int(r) for r in p.ResultCode] == list(range(7))


# -- the nDPI capture: one APDU with four ST7 writes and a read of ST8 -----------------------------------
def _full_writes(raw: bytes, table: int) -> list[tuple[bytes, int]]:
    """Every Full Write (0x40) of ``table`` in ``raw``: (data, checksum) where the checksum verifies."""
    found = []
    marker = bytes((0x40,)) + table.to_bytes(2, "big")
    at = raw.find(marker)
    while at >= 0:
        count = int.from_bytes(raw[at + 3 : at + 5], "big")
        data = raw[at + 5 : at + 5 + count]
        checksum = raw[at + 5 + count]
        if len(data) == count and (-sum(data)) & 0xFF == checksum:  # facts §3 table checksum
            found.append((data, checksum))
        at = raw.find(marker, at + 1)
    return found


def test_ndpi_capture_procedure_writes() -> None:
    if not NDPI.exists():
        pytest.skip(f"capture folder {PCAPS} is absent")
    raw = NDPI.read_bytes()
    writes = _full_writes(raw, 7)
    # read by eye from the hex: 34 08 | 0f 00 | 3e 08 | 25 08 = MFG 52, SP15, MFG 62, MFG 37 (LSB first)
    assert [w[0][:3].hex() for w in writes] == ["340800", "0f0000", "3e0800", "250800"]
    requests = [p.ProcedureRequest.decode(data, LE) for data, _ in writes]
    assert [(r.procedure, r.mfg) for r in requests] == [(52, True), (15, False), (62, True), (37, True)]
    assert all(r.selector is p.ResponseSelector.ON_COMPLETION and r.seq_nbr == 0 for r in requests)
    assert [r.params.hex() for r in requests] == ["3e08", "024954524efe", "0182", "24360507290000033c033cef330c005802"]
    assert [r.encode(LE) for r in requests] == [data for data, _ in writes]
    # SP15's six octets are an EVENT_RCD: EVENT_CODE 2 (non-time-based), EVENT_STORAGE "ITRN" FE
    sp15 = p.params_of(requests[1], LE)
    assert sp15 == p.ClearSpecificPendingTablesParams(2, b"ITRN\xfe")
    # the same APDU then reads ST8 (Full Read 0x30, table 8), right after the last write's checksum
    last = raw.find(writes[-1][0]) + len(writes[-1][0]) + 1
    assert raw[last : last + 4] == bytes.fromhex("03300008")  # service length 3, 30 0008


def test_ndpi_requests_agree_with_the_st7_table_definition() -> None:
    if not NDPI.exists():
        pytest.skip(f"capture folder {PCAPS} is absent")
    from openami.c1219.config import DeviceConfig
    from openami.c1219.layout import bind
    from openami.c1219.schema import BitField
    from openami.c1219.std.decade0 import PROC_INITIATE_TBL

    from .harness import gen_config_values

    config = DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(LE)})
    layout = bind(PROC_INITIATE_TBL, config)
    head = PROC_INITIATE_TBL.record.elements[0]
    assert isinstance(head.type, BitField)  # type: ignore[union-attr]
    number, mfg, selector = (m.name for m in head.type.members)  # type: ignore[union-attr]  # b0–10, b11, b12–15
    for data, _ in _full_writes(NDPI.read_bytes(), 7):
        table = layout.decode(data)
        request = p.ProcedureRequest.decode(data, LE)
        proc = table[head.name]  # type: ignore[union-attr]
        assert (proc[number], proc[mfg], proc[selector]) == (request.procedure, request.mfg, request.selector)
        assert table["SEQ_NBR"] == request.seq_nbr


# -- typed parameters ----------------------------------------------------------------------------------
def _ni1_values(formats: Formats) -> st.SearchStrategy[Any]:
    return value_strategy(ScalarNode(ni_codec(formats.ni_format1, formats)))


def _ltime_values(formats: Formats) -> st.SearchStrategy[Any]:
    return value_strategy(ScalarNode(TimeCodec("LTIME_DATE", formats)))


def params_strategy(formats: Formats) -> st.SearchStrategy[p.ProcedureParams]:
    """Random valid parameters of every registered procedure."""
    quals = st.builds(
        p.TimeDateQual,
        st.integers(0, 7),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    )
    pending = {
        "event_code": st.integers(0, 15),
        "event_storage": st.binary(min_size=5, max_size=5),
        "self_read": st.booleans(),
        "demand_reset": st.booleans(),
    }
    no_params = [cls for cls in p.PROCEDURE_PARAMS.values() if issubclass(cls, p.NoParams)]
    return st.one_of(
        st.sampled_from(no_params).map(lambda cls: cls()),
        st.builds(p.ChangeEndDeviceModeParams, st.integers(0, 15).map(p.EdMode)),
        st.builds(p.RemoteResetParams, st.booleans(), st.booleans(), st.booleans(), st.integers(0, 15)),
        st.builds(p.SetDateTimeParams, _ltime_values(formats), quals, st.booleans(), st.booleans(), st.booleans()),
        st.builds(p.ActivateSpecificPendingTablesParams, **pending),
        st.builds(p.ClearSpecificPendingTablesParams, **pending),
        st.builds(
            p.DirectLoadControlParams,
            st.integers(0, 255),
            st.sampled_from(list(p.LoadControlAction)),
            st.integers(0, 100),
            st.integers(0, 0xFFFF),
        ),
        st.builds(
            p.ModifyCreditParams, st.sampled_from(list(p.CreditAction)), _ni1_values(formats), st.integers(0, 2**32 - 1)
        ),
    )


def same_params(a: p.ProcedureParams, b: p.ProcedureParams) -> bool:
    return type(a) is type(b) and all(
        same_value(getattr(a, f.name), getattr(b, f.name))
        for f in dataclasses.fields(a)  # type: ignore[arg-type]
    )


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_params_round_trip_prefixes_and_garbage(data: st.DataObject) -> None:
    formats = data.draw(formats_strategy(), label="formats")
    params = data.draw(params_strategy(formats), label="params")
    octets = params.encode(formats)
    proc = int(params.PROCEDURE)
    decoded = p.decode_params(proc, octets, formats)
    assert same_params(decoded, params), (decoded, params)
    assert decoded.encode(formats) == octets
    request = params.request(seq_nbr=3, formats=formats)
    assert same_params(p.params_of(p.ProcedureRequest.decode(request.encode(formats), formats), formats), params)
    for n in range(len(octets)):
        with pytest.raises(RemoteProtocolError):
            p.decode_params(proc, octets[:n], formats)
    with pytest.raises(RemoteProtocolError):
        p.decode_params(proc, octets + data.draw(st.binary(min_size=1, max_size=4)), formats)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_params_random_octets(data: st.DataObject) -> None:
    formats = data.draw(formats_strategy(), label="formats")
    proc = data.draw(st.sampled_from(sorted(p.PROCEDURE_PARAMS)), label="proc")
    octets = data.draw(st.binary(max_size=30), label="octets")
    try:
        params = p.decode_params(proc, octets, formats)
    except RemoteProtocolError:
        return
    again = params.encode(formats)
    if is_canonical(formats):
        assert again == octets
    else:  # several encodings of one value (NaN payloads, FLOAT_CHAR layout, negative zero)
        assert same_params(p.decode_params(proc, again, formats), params)


def test_sp6_sp9_by_hand() -> None:
    # termineter: metering mode 0x01; remote reset demand reset 0x01, self read 0x02
    assert p.ChangeEndDeviceModeParams(p.EdMode.METERING).encode() == b"\x01"
    assert p.ChangeEndDeviceModeParams.decode(b"\x06").ed_mode == p.EdMode.TEST | p.EdMode.METER_SHOP
    assert p.RemoteResetParams(demand_reset=True).encode() == b"\x01"
    assert p.RemoteResetParams(self_read=True).encode() == b"\x02"
    assert p.RemoteResetParams.decode(b"\x2d") == p.RemoteResetParams(True, False, True, 5)  # 0b0_0101_1_0_1
    with pytest.raises(RemoteProtocolError):
        p.RemoteResetParams.decode(b"\x80")
    with pytest.raises(RemoteProtocolError):
        p.ChangeEndDeviceModeParams.decode(b"\x10")


def test_sp10_by_hand() -> None:
    when = dt.datetime(2024, 6, 1, 12, 30, 15)
    qual = p.TimeDateQual.for_datetime(when, dst=True)  # a Saturday: DAY_OF_WEEK 6, DST_FLAG b3
    assert qual.to_int() == 0x0E
    # TM_FORMAT 2: SET_MASK 07, YY MM DD hh mm ss, TIME_DATE_QUAL
    assert p.SetDateTimeParams(when, qual).encode(Formats(tm_format=2)) == bytes.fromhex("07 180601 0c1e0f 0e")
    # TM_FORMAT 3 (Itron SET_TIME_DATE_PROC_SIZE = 7): minutes since 1970 LSB first + seconds
    minutes = (when - dt.datetime(1970, 1, 1)) // dt.timedelta(minutes=1)
    octets = p.SetDateTimeParams(when, qual, set_date=False).encode(Formats(tm_format=3))
    assert octets == b"\x05" + minutes.to_bytes(4, "little") + b"\x0f\x0e"
    assert p.SetDateTimeParams.decode(octets, Formats(tm_format=3)).date_time == when
    with pytest.raises(RemoteProtocolError):
        p.SetDateTimeParams.decode(b"\x08" + octets[1:], Formats(tm_format=3))


def test_sp10_counter_past_year_9999_stays_raw() -> None:
    octets = bytes.fromhex("01 ffffffff 00 00")
    params = p.SetDateTimeParams.decode(octets, Formats(tm_format=3))
    assert params.date_time == RawTime(bytes.fromhex("ffffffff00"))
    assert params.encode(Formats(tm_format=3)) == octets


def test_sp21_sp22_by_hand() -> None:
    shed = p.DirectLoadControlParams(2, p.LoadControlAction.SHED, duration=90)
    assert shed.encode(LE) == bytes.fromhex("02 01 00 5a00")
    assert shed.encode(BE) == bytes.fromhex("02 01 00 005a")
    assert shed.level == 0
    assert p.DirectLoadControlParams(255, p.LoadControlAction.SET_LEVEL, 40).level == 40
    assert p.DirectLoadControlParams(0, p.LoadControlAction.RELEASE).level is None
    with pytest.raises(RemoteProtocolError):
        p.DirectLoadControlParams.decode(bytes.fromhex("00 03 65 0000"), LE)  # level 101 %
    with pytest.raises(RemoteProtocolError):
        p.DirectLoadControlParams.decode(bytes.fromhex("00 04 00 0000"), LE)  # action 4
    int32 = Formats(ni_format1=8)
    credit = p.ModifyCreditParams(p.CreditAction.ADD, 2000, reference=0x01020304)
    assert credit.encode(int32) == bytes.fromhex("00 04030201 d0070000")
    with pytest.raises(RemoteProtocolError):
        p.ModifyCreditParams.decode(bytes.fromhex("03 00000000 00000000"), int32)


def test_registry_and_misuse() -> None:
    assert sorted(p.PROCEDURE_PARAMS) == [0, 1, 2, 3, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 21, 22]
    assert all(int(cls.PROCEDURE) == n for n, cls in p.PROCEDURE_PARAMS.items())
    assert p.decode_params(3, b"") == p.ClearDataParams()
    with pytest.raises(RemoteProtocolError):
        p.decode_params(3, b"\x00")
    with pytest.raises(LocalProtocolError):
        p.decode_params(11, b"")
    with pytest.raises(LocalProtocolError):
        p.params_of(p.ProcedureRequest(3, mfg=True))
    with pytest.raises(LocalProtocolError):
        p.RemoteResetParams(new_season=16)
    with pytest.raises(LocalProtocolError):
        p.ModifyCreditParams(p.CreditAction.SET, "12")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        p.SetDateTimeParams(dt.date(2024, 1, 1)).encode()  # type: ignore[arg-type]
