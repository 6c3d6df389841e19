"""The table engine on ST0 and on synthetic definitions that exercise every construct."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import config_from_tables, decode_self_describing
from openami.c1219.expr import Expr, UnboundReference
from openami.c1219.layout import bind
from openami.c1219.schema import (
    BCD,
    BINARY,
    BOOL,
    DATE,
    FILL,
    HTIME,
    HTIME_DATE,
    INT16,
    INT24,
    LTIME_DATE,
    NI_FMAT1,
    NI_FMAT2,
    REST,
    STIME,
    STIME_DATE,
    STRING,
    TIME,
    UINT8,
    UINT16,
    UINT32,
    ArrayOf,
    Bit,
    BitField,
    Field,
    If,
    Record,
    SetOf,
    Switch,
    Table,
)
from openami.c1219.std.decade0 import GEN_CONFIG_TBL
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

from .harness import check_table, formats_strategy, gen_config_values

REAL_ST0 = bytes.fromhex(  # EPRI c12test, via c12-protocol-facts.md §7
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)


def test_real_st0_decodes_to_the_published_values() -> None:
    value, layout = decode_self_describing(GEN_CONFIG_TBL, REAL_ST0, DeviceConfig())
    assert layout.size == 79
    assert value["DEVICE_CLASS"] == "EPRI"
    assert value["FORMAT_CONTROL_3"] == {"NI_FORMAT1": 10, "NI_FORMAT2": 9}
    assert value["FORMAT_CONTROL_1"]["DATA_ORDER"] == 0
    assert value["FORMAT_CONTROL_1"]["CHAR_FORMAT"] == 1
    assert value["FORMAT_CONTROL_2"]["TM_FORMAT"] == 2
    assert value["FORMAT_CONTROL_2"]["ID_FORM"] == 0
    assert value["NAMEPLATE_TYPE"] == 2
    assert value["STD_VERSION_NO"] == 1
    assert value["DIM_STD_PROC_USED"] == 3
    assert value["NBR_PENDING"] == 6
    assert value["STD_PROC_USED"] == frozenset([*range(3, 13), 14, 20])
    assert layout.encode(value) == REAL_ST0


def test_real_st0_sets_the_formats() -> None:
    formats = config_from_tables({0: REAL_ST0}).formats
    assert (formats.ni_format1, formats.ni_format2, formats.tm_format) == (10, 9, 2)


def test_st0_truncated_or_oversized_is_refused() -> None:
    for cut in range(len(REAL_ST0)):
        with pytest.raises(RemoteProtocolError):
            decode_self_describing(GEN_CONFIG_TBL, REAL_ST0[:cut], DeviceConfig())
    with pytest.raises(RemoteProtocolError):
        decode_self_describing(GEN_CONFIG_TBL, REAL_ST0 + b"\x00", DeviceConfig())


@given(st.binary(max_size=120))
@settings(max_examples=300)
def test_random_st0_decodes_or_raises_protocol_error(data: bytes) -> None:
    try:
        value, layout = decode_self_describing(GEN_CONFIG_TBL, data, DeviceConfig())
    except ProtocolError:
        return
    assert layout.encode(value) == data  # ST0 is all unsigned octets, strings and sets: one encoding


@given(formats_strategy(), st.data())
@settings(max_examples=60)
def test_st0_properties(formats, data) -> None:  # type: ignore[no-untyped-def]
    dims = data.draw(st.tuples(*(st.integers(0, 6) for _ in range(5))))
    values = gen_config_values(
        formats,
        DIM_STD_TBLS_USED=dims[0],
        DIM_MFG_TBLS_USED=dims[1],
        DIM_STD_PROC_USED=dims[2],
        DIM_MFG_PROC_USED=dims[3],
        DIM_MFG_STATUS_USED=dims[4],
    )
    check_table(GEN_CONFIG_TBL, DeviceConfig({"GEN_CONFIG_TBL": values}), data)


# -- a synthetic table with every construct -----------------------------------------------------------
KITCHEN_SINK = Table(
    2000,
    "TEST_KITCHEN_SINK_TBL",
    Record(
        Field("FLAGS", BitField(UINT16, Bit("HAS_EXTRA", 0), Bit("MODE", 1, 3), Bit("LEVEL", 8, 12))),
        Field("COUNT", UINT8),
        Field("NAME", STRING(8)),
        Field("SERIAL", BCD(4)),
        Field("RAW", BINARY(3)),
        Field("PAD", FILL(1)),
        Field("OK", BOOL),
        Field("SIGNED", INT24),
        Field("TOTAL", NI_FMAT1, unit="Wh"),
        Field("RATE", NI_FMAT2),
        Field("WHEN", LTIME_DATE),
        Field("START", STIME_DATE),
        Field("DAY", DATE),
        Field("AT", TIME),
        Field("SHORT_AT", STIME),
        Field("PRECISE", HTIME_DATE),
        Field("PRECISE_AT", HTIME),
        Field("USED", SetOf("TEST_DIM_TBL.SET_OCTETS")),
        If("TEST_DIM_TBL.WITH_EXTRA", Field("EXTRA", UINT32), orelse=(Field("NO_EXTRA", UINT8),)),
        Field(
            "ROWS",
            ArrayOf(
                Record(Field("A", INT16), Field("B", ArrayOf(NI_FMAT2, "TEST_DIM_TBL.NBR_B")), Field("C", UINT8)),
                "TEST_DIM_TBL.NBR_ROWS",
            ),
        ),
        Field("CHOICE", Switch("TEST_DIM_TBL.KIND", {0: UINT8, 1: INT16, 2: STRING(2)})),
        Field("GRID", ArrayOf(ArrayOf(UINT16, 3), "TEST_DIM_TBL.NBR_ROWS")),
        Field("TAIL", REST(5)),
    ),
    source="synthetic, for the engine's tests",
)


@st.composite
def kitchen_configs(draw: st.DrawFn) -> DeviceConfig:
    formats = draw(formats_strategy())
    dims = {
        "SET_OCTETS": draw(st.integers(0, 3)),
        "WITH_EXTRA": draw(st.booleans()),
        "NBR_B": draw(st.integers(0, 9)),
        "NBR_ROWS": draw(st.integers(0, 12)),
        "KIND": draw(st.integers(0, 2)),
    }
    return DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(formats), "TEST_DIM_TBL": dims}, formats)


@given(kitchen_configs(), st.data())
@settings(max_examples=200)
def test_every_construct_round_trips(config: DeviceConfig, data: st.DataObject) -> None:
    check_table(KITCHEN_SINK, config, data)


def test_offsets_by_path_and_index() -> None:
    config = DeviceConfig(
        {"TEST_DIM_TBL": {"SET_OCTETS": 2, "WITH_EXTRA": True, "NBR_B": 2, "NBR_ROWS": 3, "KIND": 1}}
    )
    layout = bind(KITCHEN_SINK, config)
    # FLAGS 2, COUNT 1, NAME 8, SERIAL 4, RAW 3, PAD 1, OK 1, SIGNED 3 → TOTAL at 23
    assert layout.locate("TOTAL").offset == 23
    rows = layout.locate("ROWS")
    row_size = 2 + 2 * 4 + 1  # INT16 + 2 × NI_FMAT2 (INT32 by default) + UINT8
    assert rows.size == 3 * row_size
    assert layout.locate("ROWS[2].C").offset == rows.offset + 2 * row_size + 2 + 8
    index_of_rows = [name for name, _ in layout.root.fields].index("ROWS")
    assert layout.locate_index((index_of_rows, 2, 2)).offset == layout.locate("ROWS[2].C").offset
    assert layout.locate_index((index_of_rows, 1), count=2).size == 2 * row_size
    with pytest.raises(LocalProtocolError):
        layout.locate("ROWS[3]")
    with pytest.raises(LocalProtocolError):
        layout.locate("NOPE")
    with pytest.raises(LocalProtocolError):
        layout.locate("ROWS[")


def test_unbound_reference_names_what_is_missing() -> None:
    with pytest.raises(UnboundReference) as info:
        bind(KITCHEN_SINK, DeviceConfig())
    assert info.value.name.startswith("TEST_DIM_TBL.")


def test_expressions() -> None:
    config = DeviceConfig({"A_TBL": {"N": 5, "S": frozenset({3}), "F": {"X": True}}})
    assert Expr("(A_TBL.N + 2) / 2").evaluate(config) == 3
    assert Expr("A_TBL.S[3] and not A_TBL.S[4]").evaluate(config) is True
    assert Expr("A_TBL.F.X or FALSE").evaluate(config) is True
    assert Expr("A_TBL.N > 4 and A_TBL.N <= 5").evaluate(config) is True
    for bad in ("__import__('os')", "A_TBL.N if 1 else 2", "lambda: 1", "A_TBL.N +"):
        with pytest.raises(LocalProtocolError):
            Expr(bad)


def test_encode_errors_name_the_field() -> None:
    config = DeviceConfig(
        {"TEST_DIM_TBL": {"SET_OCTETS": 1, "WITH_EXTRA": False, "NBR_B": 0, "NBR_ROWS": 0, "KIND": 0}}
    )
    layout = bind(KITCHEN_SINK, config)
    with pytest.raises(LocalProtocolError, match="missing"):
        layout.encode({"COUNT": 1})
    value = layout.decode(bytes(layout.size))
    with pytest.raises(LocalProtocolError, match="COUNT"):
        layout.encode({**value, "COUNT": 256})
    with pytest.raises(LocalProtocolError, match="USED"):
        layout.encode({**value, "USED": frozenset({8})})


def test_zeroed_clock_fields_survive_as_raw_times() -> None:
    config = DeviceConfig(
        {"TEST_DIM_TBL": {"SET_OCTETS": 0, "WITH_EXTRA": False, "NBR_B": 0, "NBR_ROWS": 0, "KIND": 0}}
    )
    layout = bind(KITCHEN_SINK, config)
    zeros = bytes(layout.size)
    value = layout.decode(zeros)
    assert str(value["WHEN"]) == "RawTime(000000000000)"
    assert value["AT"] == dt.time(0, 0, 0)
    assert layout.encode(value) == zeros
