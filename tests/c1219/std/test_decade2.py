"""Decade 2 register tables (ST20–ST28): properties on random configurations and hand-built octets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import decode_self_describing
from openami.c1219.expr import UnboundReference
from openami.c1219.layout import bind
from openami.c1219.nodes import ArrayNode, Node, RecordNode, SetNode
from openami.c1219.schema import Table
from openami.c1219.std.decade0 import GEN_CONFIG_TBL
from openami.c1219.std.decade2 import (
    ACT_REGS_TBL,
    CURRENT_REG_DATA_TBL,
    DATA_SELECTION_TBL,
    DIM_REGS_TBL,
    PRESENT_REGISTER_DATA_TBL,
    PRESENT_REGISTER_SELECT_TBL,
    PREVIOUS_DEMAND_RESET_DATA_TBL,
    PREVIOUS_SEASON_DATA_TBL,
    SELF_READ_DATA_TBL,
    TABLES,
)
from openami.errors import RemoteProtocolError

from ..harness import check_table, formats_strategy, gen_config_values

REAL_ST0 = bytes.fromhex(  # EPRI c12test, via c12-protocol-facts.md §7: NI1 10 (INT48), NI2 9 (INT40), TM 2
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)

FUNC1 = (
    "SEASON_INFO_FIELD_FLAG",
    "DATE_TIME_FIELD_FLAG",
    "DEMAND_RESET_CTR_FLAG",
    "DEMAND_RESET_LOCK_FLAG",
    "CUM_DEMAND_FLAG",
    "CONT_CUM_DEMAND_FLAG",
    "TIME_REMAINING_FLAG",
)
FUNC2 = ("SELF_READ_INHIBIT_OVERFLOW_FLAG", "SELF_READ_SEQ_NBR_FLAG", "DAILY_SELF_READ_FLAG", "WEEKLY_SELF_READ_FLAG")
COUNTS = (
    "NBR_SELF_READS",
    "NBR_SUMMATIONS",
    "NBR_DEMANDS",
    "NBR_COIN_VALUES",
    "NBR_OCCUR",
    "NBR_TIERS",
    "NBR_PRESENT_DEMANDS",
    "NBR_PRESENT_VALUES",
)


@st.composite
def regs_configs(draw: st.DrawFn, max_dim: int = 3) -> DeviceConfig:
    """A random valid device: any formats, random ST21 flags, small ST21 counts."""
    formats = draw(formats_strategy())
    act = {
        "REG_FUNC1_FLAGS": draw(st.fixed_dictionaries({name: st.booleans() for name in FUNC1})),
        "REG_FUNC2_FLAGS": {
            **draw(st.fixed_dictionaries({name: st.booleans() for name in FUNC2})),
            "SELF_READ_DEMAND_RESET": draw(st.integers(0, 3)),
        },
        **{name: draw(st.integers(0, max_dim)) for name in COUNTS},
    }
    return DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(formats), "ACT_REGS_TBL": act}, formats)


def _check(table: Table, data: st.DataObject, max_dim: int = 3) -> None:
    check_table(table, data.draw(regs_configs(max_dim)), data)


# -- properties --------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st20_st21_properties(data: st.DataObject) -> None:
    formats = data.draw(formats_strategy())
    for table in (DIM_REGS_TBL, ACT_REGS_TBL):
        layout = check_table(table, DeviceConfig(formats=formats), data)
        assert layout.size == 10


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_st22_properties(data: st.DataObject) -> None:
    _check(DATA_SELECTION_TBL, data, max_dim=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_st23_properties(data: st.DataObject) -> None:
    _check(CURRENT_REG_DATA_TBL, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_st24_st25_properties(data: st.DataObject) -> None:
    config = data.draw(regs_configs(2))
    check_table(PREVIOUS_SEASON_DATA_TBL, config, data)
    check_table(PREVIOUS_DEMAND_RESET_DATA_TBL, config, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_st26_properties(data: st.DataObject) -> None:
    _check(SELF_READ_DATA_TBL, data, max_dim=2)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_st27_st28_properties(data: st.DataObject) -> None:
    config = data.draw(regs_configs(6))
    check_table(PRESENT_REGISTER_SELECT_TBL, config, data)
    check_table(PRESENT_REGISTER_DATA_TBL, config, data)


def _counts(node: Node) -> dict[str, int]:
    """Element counts of the arrays and sets directly in a bound record."""
    assert isinstance(node, RecordNode)
    return {name: child.count for name, child in node.fields if isinstance(child, ArrayNode | SetNode)}


@settings(max_examples=40, deadline=None)
@given(regs_configs())
def test_selections_line_up_with_the_register_arrays(config: DeviceConfig) -> None:
    """ST22 / ST27 have one selector per ST23 / ST28 value, so a view can join them by index."""
    act = config.tables["ACT_REGS_TBL"]
    st22 = _counts(bind(DATA_SELECTION_TBL, config).root)
    st23 = _counts(bind(CURRENT_REG_DATA_TBL, config).locate("TOT_DATA_BLOCK").node)
    assert st22["SUMMATION_SELECT"] == st23["SUMMATIONS"] == act["NBR_SUMMATIONS"]
    assert st22["DEMAND_SELECT"] == st23["DEMANDS"] == act["NBR_DEMANDS"]
    assert st22["COINCIDENT_SELECT"] == st23["COINCIDENTS"] == act["NBR_COIN_VALUES"]
    assert st22["MIN_OR_MAX_FLAGS"] >= act["NBR_DEMANDS"] > st22["MIN_OR_MAX_FLAGS"] - 8
    st27 = _counts(bind(PRESENT_REGISTER_SELECT_TBL, config).root)
    st28 = _counts(bind(PRESENT_REGISTER_DATA_TBL, config).root)
    assert st27["PRESENT_DEMAND_SELECT"] == st28["PRESENT_DEMAND"] == act["NBR_PRESENT_DEMANDS"]
    assert st27["PRESENT_VALUE_SELECT"] == st28["PRESENT_VALUE"] == act["NBR_PRESENT_VALUES"]


def test_registry_tuple_and_names() -> None:
    assert [t.number for t in TABLES] == list(range(20, 29))
    assert len({t.name for t in TABLES}) == 9


def test_missing_act_regs_is_reported_by_name() -> None:
    with pytest.raises(UnboundReference, match="ACT_REGS_TBL"):
        bind(CURRENT_REG_DATA_TBL, DeviceConfig())


# -- hand-built octets -------------------------------------------------------------------------------
# ST21 written by hand (10 octets):
#   0x16 REG_FUNC1_FLAGS = DATE_TIME_FIELD_FLAG (b1) | DEMAND_RESET_CTR_FLAG (b2) | CUM_DEMAND_FLAG (b4)
#   0x02 REG_FUNC2_FLAGS = SELF_READ_SEQ_NBR_FLAG (b1)
#   then NBR_SELF_READS 1, NBR_SUMMATIONS 2, NBR_DEMANDS 1, NBR_COIN_VALUES 1, NBR_OCCUR 1, NBR_TIERS 1,
#   NBR_PRESENT_DEMANDS 1, NBR_PRESENT_VALUES 2
ST21 = bytes.fromhex("16 02 01 02 01 01 01 01 01 02")

# ST23 under the real ST0 (little-endian, NI_FMAT1 = INT48 (6 octets), NI_FMAT2 = INT40 (5), TM_FORMAT 2 so
# STIME_DATE = YY MM DD hh mm, 5 binary octets) and the ST21 above. Layout: NBR_DEMAND_RESETS (1), then
# two DATA_BLK_RCDs of 33 octets = SUMMATIONS 2 × 6, DEMANDS 1 × (EVENT_TIME 5 + CUM_DEMAND 6 + DEMAND 5),
# COINCIDENTS 1 × 5. 1 + 33 + 33 = 67 octets.
ST23 = bytes.fromhex(
    "07"  # NBR_DEMAND_RESETS = 7
    # TOT_DATA_BLOCK
    "87d612000000"  # SUMMATIONS[0] = 0x12D687 = 1234567
    "feffffffffff"  # SUMMATIONS[1] = -2
    "18030f0e1e"  # DEMANDS[0].EVENT_TIME[0] = 24-03-15 14:30
    "881300000000"  # DEMANDS[0].CUM_DEMAND = 0x1388 = 5000
    "e110000000"  # DEMANDS[0].DEMAND[0] = 0x10E1 = 4321
    "c003000000"  # COINCIDENTS[0].COINCIDENT_VALUES[0] = 0x3C0 = 960
    # TIER_DATA_BLOCK[0]
    "40420f000000"  # SUMMATIONS[0] = 0x0F4240 = 1000000
    "000000000000"  # SUMMATIONS[1] = 0
    "18021d172d"  # EVENT_TIME[0] = 24-02-29 23:45
    "010000000000"  # CUM_DEMAND = 1
    "ffffffffff"  # DEMAND[0] = -1
    "0504030201"  # COINCIDENT_VALUES[0] = 0x0102030405
)
ST23_VALUE: dict[str, Any] = {
    "NBR_DEMAND_RESETS": 7,
    "TOT_DATA_BLOCK": {
        "SUMMATIONS": [1234567, -2],
        "DEMANDS": [{"EVENT_TIME": [dt.datetime(2024, 3, 15, 14, 30)], "CUM_DEMAND": 5000, "DEMAND": [4321]}],
        "COINCIDENTS": [{"COINCIDENT_VALUES": [960]}],
    },
    "TIER_DATA_BLOCK": [
        {
            "SUMMATIONS": [1000000, 0],
            "DEMANDS": [{"EVENT_TIME": [dt.datetime(2024, 2, 29, 23, 45)], "CUM_DEMAND": 1, "DEMAND": [-1]}],
            "COINCIDENTS": [{"COINCIDENT_VALUES": [0x0102030405]}],
        }
    ],
}


def _real_config() -> DeviceConfig:
    st0, _ = decode_self_describing(GEN_CONFIG_TBL, REAL_ST0, DeviceConfig())
    base = DeviceConfig({"GEN_CONFIG_TBL": st0})
    return base.with_table("ACT_REGS_TBL", bind(ACT_REGS_TBL, base).decode(ST21))


def _exact(table: Table, config: DeviceConfig, octets: bytes, value: dict[str, Any]) -> None:
    """Decode / encode both ways, and every prefix and a trailing octet are refused."""
    layout = bind(table, config)
    assert layout.size == len(octets)
    assert layout.decode(octets) == value
    assert layout.encode(value) == octets
    for cut in range(len(octets)):
        with pytest.raises(RemoteProtocolError):
            layout.decode(octets[:cut])
    with pytest.raises(RemoteProtocolError):
        layout.decode(octets + b"\x00")


def test_st21_hand_built() -> None:
    config = _real_config()
    act = config.tables["ACT_REGS_TBL"]
    assert act["REG_FUNC1_FLAGS"] == {
        "SEASON_INFO_FIELD_FLAG": False,
        "DATE_TIME_FIELD_FLAG": True,
        "DEMAND_RESET_CTR_FLAG": True,
        "DEMAND_RESET_LOCK_FLAG": False,
        "CUM_DEMAND_FLAG": True,
        "CONT_CUM_DEMAND_FLAG": False,
        "TIME_REMAINING_FLAG": False,
    }
    assert act["REG_FUNC2_FLAGS"]["SELF_READ_SEQ_NBR_FLAG"] is True
    assert act["REG_FUNC2_FLAGS"]["SELF_READ_DEMAND_RESET"] == 0
    assert [act[name] for name in COUNTS] == [1, 2, 1, 1, 1, 1, 1, 2]
    assert bind(ACT_REGS_TBL, config).encode(act) == ST21


def test_st23_hand_built() -> None:
    config = _real_config()
    _exact(CURRENT_REG_DATA_TBL, config, ST23, ST23_VALUE)
    layout = bind(CURRENT_REG_DATA_TBL, config)
    # partial reads: the tier block's demand sits at 1 + 33 + 12 + 5 + 6 = 57
    span = layout.locate("TIER_DATA_BLOCK[0].DEMANDS[0].DEMAND[0]")
    assert (span.offset, span.size) == (57, 5)
    assert layout.decode_span(span, ST23[57:62]) == -1
    # by index: field 2 (TIER_DATA_BLOCK), element 0, field 0 (SUMMATIONS) = octets 34..45
    span = layout.locate_index((2, 0, 0))
    assert (span.offset, span.size) == (34, 12)
    assert layout.decode_span(span, ST23[34:46]) == [1000000, 0]


def test_st25_carries_the_st23_image_after_the_reset_time() -> None:
    """ST25 = REGISTER_INFO (END_DATE_TIME, no SEASON: SEASON_INFO_FIELD_FLAG clear) + the ST23 octets."""
    config = _real_config()
    octets = bytes.fromhex("1803100000") + ST23  # END_DATE_TIME 24-03-16 00:00
    value = {"REGISTER_INFO": {"END_DATE_TIME": dt.datetime(2024, 3, 16)}, "PREV_DEMAND_RESET_DATA": ST23_VALUE}
    _exact(PREVIOUS_DEMAND_RESET_DATA_TBL, config, octets, value)


def test_st26_hand_built() -> None:
    config = _real_config()
    octets = (
        bytes.fromhex("06")  # LIST_STATUS: OVERFLOW_FLAG (b1) | LIST_TYPE_FLAG (b2)
        + bytes.fromhex("01 00 2a00 01")  # 1 valid, newest at element 0, LAST_ENTRY_SEQ_NBR 42, 1 unread
        + bytes.fromhex("2a00")  # SELF_READ_SEQ_NBR 42 (SELF_READ_SEQ_NBR_FLAG set)
        + bytes.fromhex("1803100000")  # END_DATE_TIME 24-03-16 00:00
        + ST23
    )
    value = {
        "LIST_STATUS": {
            "ORDER_FLAG": False,
            "OVERFLOW_FLAG": True,
            "LIST_TYPE_FLAG": True,
            "INHIBIT_OVERFLOW_FLAG": False,
        },
        "NBR_VALID_ENTRIES": 1,
        "LAST_ENTRY_ELEMENT": 0,
        "LAST_ENTRY_SEQ_NBR": 42,
        "NBR_UNREAD_ENTRIES": 1,
        "SELF_READS_ENTRIES": [
            {
                "SELF_READ_SEQ_NBR": 42,
                "REGISTER_INFO": {"END_DATE_TIME": dt.datetime(2024, 3, 16)},
                "SELF_READ_REGISTER_DATA": ST23_VALUE,
            }
        ],
    }
    _exact(SELF_READ_DATA_TBL, config, octets, value)


def test_st22_hand_built() -> None:
    config = _real_config()
    # SUMMATION_SELECT [0, 1]; DEMAND_SELECT [4]; MIN_OR_MAX_FLAGS SET(1) = {0} (a maximum);
    # COINCIDENT_SELECT [7]; COIN_DEMAND_ASSOC [0]
    octets = bytes.fromhex("0001 04 01 07 00")
    value = {
        "SUMMATION_SELECT": [0, 1],
        "DEMAND_SELECT": [4],
        "MIN_OR_MAX_FLAGS": frozenset({0}),
        "COINCIDENT_SELECT": [7],
        "COIN_DEMAND_ASSOC": [0],
    }
    _exact(DATA_SELECTION_TBL, config, octets, value)


def test_st28_hand_built_with_time_remaining() -> None:
    base = _real_config()
    act = dict(base.tables["ACT_REGS_TBL"])
    act["REG_FUNC1_FLAGS"] = {**act["REG_FUNC1_FLAGS"], "TIME_REMAINING_FLAG": True}
    config = base.with_table("ACT_REGS_TBL", act)
    # PRESENT_DEMAND[0] = {TIME_REMAINING 00:07:30 (TM 2 TIME = hh mm ss), DEMAND_VALUE INT40 1500 = 0x5DC}
    # PRESENT_VALUE = [INT48 240, INT48 -240]
    octets = bytes.fromhex("00071e dc05000000 f00000000000 10ffffffffff")
    value = {
        "PRESENT_DEMAND": [{"TIME_REMAINING": dt.time(0, 7, 30), "DEMAND_VALUE": 1500}],
        "PRESENT_VALUE": [240, -240],
    }
    _exact(PRESENT_REGISTER_DATA_TBL, config, octets, value)
    _exact(
        PRESENT_REGISTER_SELECT_TBL,
        config,
        bytes.fromhex("03 00 01"),
        {
            "PRESENT_DEMAND_SELECT": [3],
            "PRESENT_VALUE_SELECT": [0, 1],
        },
    )
