"""Decade 1 tables ST10–ST16: hand-built octets, the source bit walk, and the shared property checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import config_from_tables
from openami.c1219.formats import Formats
from openami.c1219.layout import bind
from openami.c1219.schema import Table
from openami.c1219.std.decade1 import (
    ACT_SOURCES_LIM_TBL,
    CONSTANTS_TBL,
    DATA_CONTROL_TBL,
    DEMAND_CONTROL_TBL,
    DIM_SOURCES_LIM_TBL,
    SOURCE_DEFINITION_TBL,
    TABLES,
    UOM_ENTRY_TBL,
    SourceIndex,
    source_indices,
)
from openami.c1219.uom import describe_uom
from openami.errors import LocalProtocolError

from ..harness import check_table, formats_strategy, gen_config_values

REAL_ST0 = bytes.fromhex(  # EPRI c12test, via c12-protocol-facts.md §7 (STD_VERSION_NO 1, NI1 INT48)
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)
FLAG_NAMES = [
    "PF_EXCLUDE_FLAG",
    "RESET_EXCLUDE_FLAG",
    "BLOCK_DEMAND_FLAG",
    "SLIDING_DEMAND_FLAG",
    "THERMAL_DEMAND_FLAG",
    "SET1_PRESENT_FLAG",
    "SET2_PRESENT_FLAG",
]


def with_st11(config: DeviceConfig, st11: bytes) -> DeviceConfig:
    """``config`` plus ST11 decoded from its octets (what config_from_tables does once ST11 is registered)."""
    return config.with_table("ACT_SOURCES_LIM_TBL", bind(ACT_SOURCES_LIM_TBL, config).decode(st11))


@pytest.fixture(scope="module")
def epri() -> DeviceConfig:
    return config_from_tables({0: REAL_ST0})


# -- ST10 / ST11 ----------------------------------------------------------------------------------------
def test_st11_on_a_1997_device(epri: DeviceConfig) -> None:
    # flags 0x8B: PF_EXCLUDE b0, RESET_EXCLUDE b1, SLIDING_DEMAND b3, b7 (1997: NO_OFFSET_FLAG)
    octets = bytes([0x8B, 4, 2, 3, 1, 1, 2, 6])
    value = bind(ACT_SOURCES_LIM_TBL, epri).decode(octets)
    assert value == {
        "SOURCE_FLAGS": {
            "PF_EXCLUDE_FLAG": True,
            "RESET_EXCLUDE_FLAG": True,
            "BLOCK_DEMAND_FLAG": False,
            "SLIDING_DEMAND_FLAG": True,
            "THERMAL_DEMAND_FLAG": False,
            "SET1_PRESENT_FLAG": False,
            "SET2_PRESENT_FLAG": False,
            "NO_OFFSET_FLAG": True,
        },
        "NBR_UOM_ENTRIES": 4,
        "NBR_DEMAND_CTRL_ENTRIES": 2,
        "DATA_CTRL_LENGTH": 3,
        "NBR_DATA_CTRL_ENTRIES": 1,
        "NBR_CONSTANTS_ENTRIES": 1,
        "CONSTANTS_SELECTOR": 2,
        "NBR_SOURCES": 6,
    }
    assert bind(ACT_SOURCES_LIM_TBL, epri).encode(value) == octets
    assert bind(DIM_SOURCES_LIM_TBL, epri).decode(octets) == value


def test_st11_bit7_on_a_2008_device() -> None:
    config = DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(Formats(), STD_VERSION_NO=2)})
    flags = bind(ACT_SOURCES_LIM_TBL, config).decode(bytes([0x80, 0, 0, 0, 0, 0, 2, 0]))["SOURCE_FLAGS"]
    assert flags["CONVERSION_ALG_FLAG"] is True
    assert "NO_OFFSET_FLAG" not in flags


# -- ST12 -----------------------------------------------------------------------------------------------
def test_st12_kwh_delivered_entry(epri: DeviceConfig) -> None:
    # ID_CODE 0 (W), TIME_BASE 0 (bulk), MULTIPLIER 2 (10^3) at b11, Q1 b14 and Q4 b17:
    # 0x1000 | 0x4000 | 0x20000 = 0x00025000, little-endian; then V instantaneous (ID 8, TIME_BASE 1 = 0x100).
    config = with_st11(epri, bytes([0, 2, 0, 0, 0, 0, 2, 2]))
    layout = bind(UOM_ENTRY_TBL, config)
    octets = bytes.fromhex("00500200 08010000")
    kwh, volts = layout.decode(octets)["UOM_ENTRY"]
    assert kwh["ID_CODE"] == 0 and kwh["TIME_BASE"] == 0 and kwh["MULTIPLIER"] == 2
    assert [kwh[f"Q{q}_ACCOUNTABILITY"] for q in (1, 2, 3, 4)] == [True, False, False, True]
    assert str(describe_uom(kwh)) == "kWh"
    assert describe_uom(kwh).quadrants == frozenset({1, 4})
    assert str(describe_uom(volts)) == "V"
    assert layout.encode({"UOM_ENTRY": [kwh, volts]}) == octets
    assert layout.locate_index((0, 1)).offset == 4


# -- ST13 -----------------------------------------------------------------------------------------------
def test_st13_sliding_demand_with_exclusions(epri: DeviceConfig) -> None:
    config = with_st11(epri, bytes([0x0B, 0, 2, 0, 0, 0, 2, 2]))  # PF + RESET exclusion, sliding
    layout = bind(DEMAND_CONTROL_TBL, config)
    value = layout.decode(bytes([10, 30, 5, 15, 5, 3, 15, 1]))
    assert value == {
        "RESET_EXCLUSION": 10,
        "P_FAIL_RECOGNTN_TM": 30,
        "P_FAIL_EXCLUSION": 5,
        "COLD_LOAD_PICKUP": 15,
        "INTERVAL_VALUE": [{"SUB_INT": 5, "INT_MULTIPLIER": 3}, {"SUB_INT": 15, "INT_MULTIPLIER": 1}],
    }
    assert layout.root.units == {
        "RESET_EXCLUSION": "min",
        "P_FAIL_RECOGNTN_TM": "s",
        "P_FAIL_EXCLUSION": "min",
        "COLD_LOAD_PICKUP": "min",
    }


def test_st13_block_demand_only(epri: DeviceConfig) -> None:
    config = with_st11(epri, bytes([0x04, 0, 2, 0, 0, 0, 2, 2]))
    value = bind(DEMAND_CONTROL_TBL, config).decode(bytes.fromhex("0f00 3c00"))
    assert value == {"INTERVAL_VALUE": [{"INT_LENGTH": 15}, {"INT_LENGTH": 60}]}


# -- ST14 -----------------------------------------------------------------------------------------------
def test_st14_raw_source_ids(epri: DeviceConfig) -> None:
    config = with_st11(epri, bytes([0, 0, 0, 4, 2, 0, 2, 2]))
    value = bind(DATA_CONTROL_TBL, config).decode(bytes.fromhex("01020304 0a0b0c0d"))
    assert value == {"SOURCE_ID": [bytes.fromhex("01020304"), bytes.fromhex("0a0b0c0d")]}


# -- ST15 -----------------------------------------------------------------------------------------------
def test_st15_electric_1997_with_and_without_offset(epri: DeviceConfig) -> None:
    # NI_FORMAT1 = 10 (INT48, little-endian) on the EPRI meter: 6 octets a value
    one, two = (1).to_bytes(6, "little"), (2).to_bytes(6, "little")
    with_offset = with_st11(epri, bytes([0x20, 0, 0, 0, 0, 1, 2, 1]))  # SET1_PRESENT
    layout = bind(CONSTANTS_TBL, with_offset)
    octets = two + bytes(6) + b"\x01" + (400).to_bytes(6, "little") + one
    assert layout.decode(octets) == {
        "SELECTION": [
            {
                "MULTIPLIER": 2,
                "OFFSET": 0,
                "SET1_CONSTANTS": {"SET_FLAGS": {"SET_APPLIED_FLAG": True}, "RATIO_F1": 400, "RATIO_P1": 1},
            }
        ]
    }
    no_offset = with_st11(epri, bytes([0x80, 0, 0, 0, 0, 2, 2, 1]))  # 1997 NO_OFFSET_FLAG
    assert bind(CONSTANTS_TBL, no_offset).decode(two + one) == {"SELECTION": [{"MULTIPLIER": 2}, {"MULTIPLIER": 1}]}


def test_st15_electric_2008_always_has_offset() -> None:
    config = DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(Formats(ni_format1=8), STD_VERSION_NO=2)})
    config = with_st11(config, bytes([0x80, 0, 0, 0, 0, 1, 2, 1]))  # b7 = CONVERSION_ALG_FLAG here
    layout = bind(CONSTANTS_TBL, config)
    assert layout.size == 8
    assert layout.decode(bytes.fromhex("0a000000 fbffffff")) == {"SELECTION": [{"MULTIPLIER": 10, "OFFSET": -5}]}


def test_st15_gas_records_and_reserved_selectors(epri: DeviceConfig) -> None:
    aga3 = bind(CONSTANTS_TBL, with_st11(epri, bytes([0, 0, 0, 0, 0, 1, 0, 1])))
    assert aga3.size == 18 * 6 + 1
    assert aga3.locate("SELECTION[0].GAS_AGA3_CORR.TAP_UP_DN").offset == 6 * (2 + 1 + 3 + 4)
    aga7 = bind(CONSTANTS_TBL, with_st11(epri, bytes([0, 0, 0, 0, 0, 1, 1, 1])))
    assert aga7.size == 10 * 6
    reserved = with_st11(epri, bytes([0, 0, 0, 0, 0, 1, 3, 1]))
    with pytest.raises(LocalProtocolError, match="CONSTANTS_SELECTOR"):
        bind(CONSTANTS_TBL, reserved)


def test_st15_decimal_ni_values() -> None:
    # NI code 4 (INT32 with four implied decimals): raw 12345 → 1.2345
    config = DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(Formats(ni_format1=4), STD_VERSION_NO=2)})
    config = with_st11(config, bytes([0, 0, 0, 0, 0, 1, 2, 1]))
    value = bind(CONSTANTS_TBL, config).decode((12345).to_bytes(4, "little") + bytes(4))
    assert value["SELECTION"][0]["MULTIPLIER"] == Decimal("1.2345")


# -- ST16 and the bit walk ------------------------------------------------------------------------------
def test_st16_and_the_bit_walk(epri: DeviceConfig) -> None:
    config = with_st11(epri, bytes([0, 3, 1, 0, 0, 1, 2, 4]))
    # source 0: UOM + DEMAND_CTRL + PULSE_ENGR (0x13); 1: nothing; 2: UOM + CONSTANTS (0x09);
    # 3: UOM + CONSTANT_TO_BE_APPLIED (0x21)
    value = bind(SOURCE_DEFINITION_TBL, config).decode(bytes([0x13, 0x00, 0x09, 0x21]))
    links = value["SOURCE_LINK"]
    assert links[0]["PULSE_ENGR_FLAG"] is True and links[3]["CONSTANT_TO_BE_APPLIED"] is True
    assert source_indices(links) == [
        SourceIndex(uom=0, demand_ctrl=0, data_ctrl=None, constants=None),
        SourceIndex(uom=None, demand_ctrl=None, data_ctrl=None, constants=None),
        SourceIndex(uom=1, demand_ctrl=None, data_ctrl=None, constants=0),
        SourceIndex(uom=2, demand_ctrl=None, data_ctrl=None, constants=None),
    ]


def test_bit_walk_refuses_what_is_not_a_decoded_link() -> None:
    with pytest.raises(LocalProtocolError):
        source_indices([0x13])  # type: ignore[list-item]


# -- properties -----------------------------------------------------------------------------------------
@st.composite
def configs(draw: st.DrawFn) -> DeviceConfig:
    """Random valid configurations for decade 1 (ST0 formats and edition, ST11 with small dimensions)."""
    formats = draw(formats_strategy())
    version = draw(st.sampled_from([1, 2]))
    flags: dict[str, Any] = {name: draw(st.booleans()) for name in FLAG_NAMES}
    flags["NO_OFFSET_FLAG" if version == 1 else "CONVERSION_ALG_FLAG"] = draw(st.booleans())
    st11 = {
        "SOURCE_FLAGS": flags,
        "NBR_UOM_ENTRIES": draw(st.integers(0, 5)),
        "NBR_DEMAND_CTRL_ENTRIES": draw(st.integers(0, 5)),
        "DATA_CTRL_LENGTH": draw(st.integers(0, 5)),
        "NBR_DATA_CTRL_ENTRIES": draw(st.integers(0, 5)),
        "NBR_CONSTANTS_ENTRIES": draw(st.integers(0, 3)),
        "CONSTANTS_SELECTOR": draw(st.integers(0, 2)),
        "NBR_SOURCES": draw(st.integers(0, 5)),
    }
    return DeviceConfig(
        {"GEN_CONFIG_TBL": gen_config_values(formats, STD_VERSION_NO=version), "ACT_SOURCES_LIM_TBL": st11}
    )


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.label)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_properties(table: Table, data: st.DataObject) -> None:
    check_table(table, data.draw(configs(), label="config"), data)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_bit_walk_counts_match_the_flags(data: st.DataObject) -> None:
    config = data.draw(configs())
    layout = bind(SOURCE_DEFINITION_TBL, config)
    raw = data.draw(st.binary(min_size=layout.size, max_size=layout.size))
    links = layout.decode(raw)["SOURCE_LINK"]
    walk = source_indices(links)
    for flag, attr in (("UOM_ENTRY_FLAG", "uom"), ("CONSTANTS_FLAG", "constants")):
        present = [getattr(w, attr) for w in walk if getattr(w, attr) is not None]
        assert present == list(range(sum(bool(link[flag]) for link in links)))
