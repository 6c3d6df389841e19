"""Decade 4 security tables (ST40–ST46): properties on random configurations and hand-built octets."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.expr import UnboundReference
from openami.c1219.formats import DataOrder, Formats
from openami.c1219.layout import bind
from openami.c1219.schema import Table
from openami.c1219.std.decade4 import (
    ACCESS_CONTROL_TBL,
    ACT_SECURITY_LIMITING_TBL,
    DEFAULT_ACCESS_CONTROL_TBL,
    DIM_SECURITY_LIMITING_TBL,
    EXTENDED_KEY_TBL,
    KEY_TBL,
    SECURITY_TBL,
    TABLES,
)
from openami.errors import RemoteProtocolError

from ..harness import check_table, formats_strategy, gen_config_values


@st.composite
def security_configs(draw: st.DrawFn) -> DeviceConfig:
    """A random valid device: any formats and small ST41 dimensions."""
    formats = draw(formats_strategy())
    act = {
        "NBR_PASSWORDS": draw(st.integers(0, 4)),
        "PASSWORD_LEN": draw(st.integers(0, 20)),
        "NBR_KEYS": draw(st.integers(0, 4)),
        "KEY_LEN": draw(st.integers(0, 32)),
        "NBR_PERM_USED": draw(st.integers(0, 8)),
    }
    return DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(formats), "ACT_SECURITY_LIMITING_TBL": act}, formats)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st40_st41_properties(data: st.DataObject) -> None:
    formats = data.draw(formats_strategy())
    for table in (DIM_SECURITY_LIMITING_TBL, ACT_SECURITY_LIMITING_TBL):
        assert check_table(table, DeviceConfig(formats=formats), data).size == 6


@pytest.mark.parametrize(
    "table", [SECURITY_TBL, DEFAULT_ACCESS_CONTROL_TBL, ACCESS_CONTROL_TBL, KEY_TBL, EXTENDED_KEY_TBL]
)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_security_table_properties(table: Table, data: st.DataObject) -> None:
    check_table(table, data.draw(security_configs()), data)


@settings(max_examples=50, deadline=None)
@given(security_configs())
def test_sizes_follow_st41(config: DeviceConfig) -> None:
    act = config.tables["ACT_SECURITY_LIMITING_TBL"]
    assert bind(SECURITY_TBL, config).size == act["NBR_PASSWORDS"] * (act["PASSWORD_LEN"] + 1)
    assert bind(ACCESS_CONTROL_TBL, config).size == 4 * act["NBR_PERM_USED"]
    assert bind(DEFAULT_ACCESS_CONTROL_TBL, config).size == 8
    assert bind(KEY_TBL, config).size == act["NBR_KEYS"] * act["KEY_LEN"]
    assert bind(EXTENDED_KEY_TBL, config).size == act["NBR_KEYS"] * (act["KEY_LEN"] + 1)


def test_registry_tuple() -> None:
    assert [t.number for t in TABLES] == list(range(40, 47))


def test_missing_act_security_is_reported_by_name() -> None:
    with pytest.raises(UnboundReference, match="ACT_SECURITY_LIMITING_TBL"):
        bind(SECURITY_TBL, DeviceConfig())


# -- hand-built octets -------------------------------------------------------------------------------
def _config(st41: bytes, formats: Formats) -> DeviceConfig:
    base = DeviceConfig(formats=formats)
    return base.with_table("ACT_SECURITY_LIMITING_TBL", bind(ACT_SECURITY_LIMITING_TBL, base).decode(st41))


def _exact(table: Table, config: DeviceConfig, octets: bytes, value: dict[str, Any]) -> None:
    layout = bind(table, config)
    assert layout.decode(octets) == value
    assert layout.encode(value) == octets
    for cut in range(len(octets)):
        with pytest.raises(RemoteProtocolError):
            layout.decode(octets[:cut])
    with pytest.raises(RemoteProtocolError):
        layout.decode(octets + b"\xff")


def _groups(*numbers: int) -> dict[str, bool]:
    return {f"GROUP_PERM_{n}": n in numbers for n in range(8)}


LE = Formats(data_order=DataOrder.LSB_FIRST)
# ST41: 2 passwords of 8 octets, 3 keys of 16 octets, 3 ST44 entries (NBR_PERM_USED 3, little-endian 03 00)
ST41 = bytes.fromhex("02 08 03 10 0300")


def test_st41_hand_built_both_byte_orders() -> None:
    value = {"NBR_PASSWORDS": 2, "PASSWORD_LEN": 8, "NBR_KEYS": 3, "KEY_LEN": 16, "NBR_PERM_USED": 3}
    _exact(ACT_SECURITY_LIMITING_TBL, DeviceConfig(formats=LE), ST41, value)
    _exact(
        ACT_SECURITY_LIMITING_TBL,
        DeviceConfig(formats=Formats(data_order=DataOrder.MSB_FIRST)),
        bytes.fromhex("020803100003"),
        value,
    )


def test_st42_hand_built() -> None:
    config = _config(ST41, LE)
    # "PASSWORD" with groups 0..7 (0xFF), then "READER  " with group 1 only (0x02)
    octets = b"PASSWORD" + b"\xff" + b"READER  " + b"\x02"
    value = {
        "SECURITY_ENTRIES": [
            {"PASSWORD": b"PASSWORD", "ACCESS_PERMISSIONS": _groups(*range(8))},
            {"PASSWORD": b"READER  ", "ACCESS_PERMISSIONS": _groups(1)},
        ]
    }
    _exact(SECURITY_TBL, config, octets, value)


def _idc(number: int, *, mfg: bool = False, proc: bool = False, read: bool = False, write: bool = False) -> Any:
    return {
        "TBL_PROC_NBR": number,
        "STD_VS_MFG_FLAG": mfg,
        "PROC_FLAG": proc,
        "ANY_READ": read,
        "ANY_WRITE": write,
        "FLAG3": False,
    }


def test_st44_hand_built() -> None:
    config = _config(ST41, LE)
    octets = bytes.fromhex(
        "1720 02 01"  # ST23, ANY_READ (b13): 23 | 0x2000 = 0x2017; read group 1, write group 0
        "0910 00 04"  # SP9: 9 | PROC_FLAG (b12) = 0x1009; execute by group 2
        "0008 03 80"  # MT0: STD_VS_MFG_FLAG (b11) = 0x0800; read groups 0+1, write group 7
    )
    value = {
        "ACCESS_CONTROL": [
            {"TABLE_IDC": _idc(23, read=True), "READ_ACCESS": _groups(1), "WRITE_ACCESS": _groups(0)},
            {"TABLE_IDC": _idc(9, proc=True), "READ_ACCESS": _groups(), "WRITE_ACCESS": _groups(2)},
            {"TABLE_IDC": _idc(0, mfg=True), "READ_ACCESS": _groups(0, 1), "WRITE_ACCESS": _groups(7)},
        ]
    }
    _exact(ACCESS_CONTROL_TBL, config, octets, value)


def test_st43_hand_built() -> None:
    config = _config(ST41, LE)
    # tables: anyone reads (0x2000), group 0 writes; procedures (PROC_FLAG 0x1000): group 0 executes
    octets = bytes.fromhex("0020 00 01 0010 00 01")
    value = {
        "TABLE_DEFAULT": {"TABLE_IDC": _idc(0, read=True), "READ_ACCESS": _groups(), "WRITE_ACCESS": _groups(0)},
        "PROCEDURE_DEFAULT": {"TABLE_IDC": _idc(0, proc=True), "READ_ACCESS": _groups(), "WRITE_ACCESS": _groups(0)},
    }
    _exact(DEFAULT_ACCESS_CONTROL_TBL, config, octets, value)


def test_st45_holds_the_key_of_the_standards_example_8_at_key_id_2() -> None:
    """Example 8 (c12-protocol-facts.md §4 V6/V7) uses key id 2 with key 0102…0708: KEY_ENTRIES[2]."""
    config = _config(ST41, LE)
    key = bytes.fromhex("01020304050607080102030405060708")
    octets = bytes(16) + b"\x11" * 16 + key
    value = {"KEY_ENTRIES": [{"KEY": bytes(16)}, {"KEY": b"\x11" * 16}, {"KEY": key}]}
    _exact(KEY_TBL, config, octets, value)
    layout = bind(KEY_TBL, config)
    span = layout.locate("KEY_ENTRIES[2].KEY")
    assert (span.offset, span.size) == (32, 16)
    assert layout.decode_span(span, octets[32:48]) == key
