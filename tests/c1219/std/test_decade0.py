"""Decade 0 tables ST1–ST8: hand-built and published octets, and the shared property checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import config_from_tables
from openami.c1219.formats import Formats, TmFormat
from openami.c1219.layout import bind
from openami.c1219.schema import Table
from openami.c1219.std.decade0 import (
    DEVICE_IDENT_TBL,
    DEVICE_NAMEPLATE_TBL,
    ED_MODE_STATUS_TBL,
    GENERAL_MFG_ID_TBL,
    PENDING_STATUS_TBL,
    PROC_INITIATE_TBL,
    PROC_RESPONSE_TBL,
    TABLES,
    UTIL_INFO_TBL,
)
from openami.errors import LocalProtocolError, RemoteProtocolError

from ..harness import check_table, formats_strategy, gen_config_values

REAL_ST0 = bytes.fromhex(  # EPRI c12test, via c12-protocol-facts.md §7
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)


@pytest.fixture(scope="module")
def epri() -> DeviceConfig:
    """The configuration of the EPRI test meter: ISO 646 chars, TM 2, NI 10/9, ID_FORM 0, electric, v1."""
    return config_from_tables({0: REAL_ST0})


def small_config(formats: Formats, **overrides: Any) -> DeviceConfig:
    return DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(formats, **overrides)})


# -- ST1 ------------------------------------------------------------------------------------------------
def test_st1_serial_number_is_where_the_standards_example_8_reads_it(epri: DeviceConfig) -> None:
    # c12-protocol-facts.md §4 V6/V7 (IEEE 1703 "Example 8"): Partial Read ST1 offset 0x10 count 16
    # returns "MANUFACTURER SN ".
    layout = bind(GENERAL_MFG_ID_TBL, epri)
    assert layout.size == 32
    span = layout.locate("MFG_SERIAL_NUMBER")
    assert (span.offset, span.size) == (0x10, 16)
    assert layout.decode_span(span, b"MANUFACTURER SN ") == "MANUFACTURER SN "


def test_st1_whole_table(epri: DeviceConfig) -> None:
    octets = b"EPRI" + b"C12TEST " + bytes([1, 2, 3, 4]) + b"MANUFACTURER SN "
    value = bind(GENERAL_MFG_ID_TBL, epri).decode(octets)
    assert value == {
        "MANUFACTURER": "EPRI",
        "ED_MODEL": "C12TEST ",
        "HW_VERSION_NUMBER": 1,
        "HW_REVISION_NUMBER": 2,
        "FW_VERSION_NUMBER": 3,
        "FW_REVISION_NUMBER": 4,
        "MFG_SERIAL_NUMBER": "MANUFACTURER SN ",
    }
    assert bind(GENERAL_MFG_ID_TBL, epri).encode(value) == octets


def test_st1_bcd_serial_number_with_id_form_1() -> None:
    config = small_config(Formats(id_form=1))
    octets = b"ACME" + b"MODEL-1 " + bytes(4) + bytes.fromhex("0000001234567890")
    value = bind(GENERAL_MFG_ID_TBL, config).decode(octets)
    assert value["MFG_SERIAL_NUMBER"] == 1234567890
    with pytest.raises(RemoteProtocolError):  # 0xA is not a BCD digit
        bind(GENERAL_MFG_ID_TBL, config).decode(octets[:-1] + b"\x9a")


# -- ST2 ------------------------------------------------------------------------------------------------
def test_st2_electric_nameplate(epri: DeviceConfig) -> None:
    # values in the style of the MM100 meter firmware defaults (E_KT "0.3   ", E_CLASS_MAX_AMPS "200   ",
    # E_TA "30    ", E_FREQ 4, E_NO_OF_ELEMENTS 1, E_BASE_TYPE 9, volts 3/3; 33-octet table);
    # E_ELEMENTS = 9 << 6 | 1 << 3 | 4 = 0x024C, E_VOLTS = 0x33, little-endian.
    octets = b"7.2   " + b"0.3   " + b"\x01" + b"2S   " + bytes.fromhex("4c02") + b"\x33" + b"200   " + b"30    "
    layout = bind(DEVICE_NAMEPLATE_TBL, epri)
    assert layout.size == 33
    value = layout.decode(octets)
    assert value == {
        "E_KH": "7.2   ",
        "E_KT": "0.3   ",
        "E_INPUT_SCALAR": 1,
        "E_ED_CONFIG": "2S   ",
        "E_ELEMENTS": {"E_FREQ": 4, "E_NO_OF_ELEMENTS": 1, "E_BASE_TYPE": 9, "E_ACCURACY_CLASS": 0},
        "E_VOLTS": {"E_ELEMENTS_VOLTS": 3, "E_ED_SUPPLY_VOLTS": 3},
        "E_CLASS_MAX_AMPS": "200   ",
        "E_TA": "30    ",
    }
    assert layout.encode(value) == octets
    assert layout.root.units["E_TA"] == "A"


@pytest.mark.parametrize(("nameplate", "first", "size"), [(0, "G_ED_TYPE", 20), (1, "W_ED_TYPE", 20), (3, None, 0)])
def test_st2_follows_nameplate_type(nameplate: int, first: str | None, size: int) -> None:
    layout = bind(DEVICE_NAMEPLATE_TBL, small_config(Formats(), NAMEPLATE_TYPE=nameplate))
    assert layout.size == size
    assert [name for name, _ in layout.root.fields][:1] == ([first] if first else [])


# -- ST3 ------------------------------------------------------------------------------------------------
def test_st3_mode_and_status(epri: DeviceConfig) -> None:
    layout = bind(ED_MODE_STATUS_TBL, epri)
    assert layout.size == 1 + 2 + 1 + 13  # EPRI DIM_MFG_STATUS_USED = 13
    mfg = bytes(range(13))
    value = layout.decode(b"\x01" + bytes.fromhex("0108") + b"\x00" + mfg)
    assert value["ED_MODE"] == {
        "METERING_FLAG": True,
        "TEST_MODE_FLAG": False,
        "METER_SHOP_MODE_FLAG": False,
        "FACTORY_FLAG": False,
    }
    status = value["ED_STD_STATUS1"]
    assert {k for k, v in status.items() if v} == {"UNPROGRAMMED_FLAG", "POWER_FAILURE_FLAG"}
    assert len(status) == 14
    assert value["ED_STD_STATUS2"] == {}
    assert value["ED_MFG_STATUS"] == mfg
    # bits the standard does not name are kept
    value = layout.decode(b"\x81" + bytes.fromhex("00c0") + b"\x05" + mfg)
    assert value["ED_MODE"]["FILLER"] == 0x80
    assert value["ED_STD_STATUS1"]["FILLER"] == 0xC000
    assert value["ED_STD_STATUS2"] == {"FILLER": 5}


# -- ST4 ------------------------------------------------------------------------------------------------
def test_st4_pending_entries() -> None:
    config = small_config(
        Formats(tm_format=TmFormat.UINT8),
        DIM_STD_TBLS_USED=2,
        DIM_MFG_TBLS_USED=1,
        NBR_PENDING=2,
        STD_TBLS_USED=frozenset(),
    )
    layout = bind(PENDING_STATUS_TBL, config)
    assert layout.size == 2 + 1 + 5 + 1 + 2 * 8
    octets = (
        bytes.fromhex("0018")  # ST11 and ST12 can be written pending (bits 11, 12)
        + b"\x01"  # MT0
        + bytes([24, 3, 15, 12, 30])  # 2024-03-15 12:30
        + b"\x01"
        + bytes.fromhex("00 1803010000 3510")  # EVENT_CODE 0, storage, ST53 (0x035) pending (b12)
        + bytes.fromhex("30 0000000000 0208")  # self read + demand reset flags, MT2
    )
    value = layout.decode(octets)
    assert value["STANDARD_PENDING"] == frozenset({11, 12})
    assert value["MANUFACT_PENDING"] == frozenset({0})
    assert value["LAST_ACTIVATION_DATE_TIME"] == dt.datetime(2024, 3, 15, 12, 30)
    assert value["NBR_PENDING_ACTIVATION"] == 1
    first, second = value["PENDING_TABLES"]
    assert first["EVENT"] == {
        "EVENT_SELECTOR": {"EVENT_CODE": 0, "SELF_READ_FLAG": False, "DEMAND_RESET_FLAG": False},
        "EVENT_STORAGE": bytes.fromhex("1803010000"),
    }
    assert first["TABLE_SELECTOR"] == {
        "TBL_PROC_NBR": 53,
        "STD_VS_MFG_FLAG": False,
        "PENDING_FLAG": True,
        "EUDT_FLAG": False,
    }
    assert second["EVENT"]["EVENT_SELECTOR"] == {"EVENT_CODE": 0, "SELF_READ_FLAG": True, "DEMAND_RESET_FLAG": True}
    assert second["TABLE_SELECTOR"] == {
        "TBL_PROC_NBR": 2,
        "STD_VS_MFG_FLAG": True,
        "PENDING_FLAG": False,
        "EUDT_FLAG": False,
    }
    assert layout.encode(value) == octets


# -- ST5, ST6 -------------------------------------------------------------------------------------------
def test_st5_identification_per_id_form() -> None:
    chars = bind(DEVICE_IDENT_TBL, small_config(Formats(id_form=0)))
    assert chars.decode(b"METER-0001          ") == {"IDENTIFICATION": "METER-0001          "}
    digits = bind(DEVICE_IDENT_TBL, small_config(Formats(id_form=1)))
    assert digits.size == 10
    assert digits.decode(bytes.fromhex("00000000000000012345")) == {"IDENTIFICATION": 12345}


def test_st6_sizes_and_the_2008_firmware_date(epri: DeviceConfig) -> None:
    layout = bind(UTIL_INFO_TBL, epri)
    assert layout.size == 20 * 7 + 10 * 3 + 8 + 6 + 6 + 10 + 30 == 230
    assert layout.locate("COORDINATE_1").offset == 140
    assert layout.locate("MISC_ID").offset == 200
    assert "FW_LOAD_DATE" not in layout.root.by_name
    v2 = bind(UTIL_INFO_TBL, small_config(Formats(tm_format=TmFormat.UINT8), STD_VERSION_NO=2))
    assert v2.size == 233 and v2.locate("FW_LOAD_DATE").offset == 230
    bcd = bind(UTIL_INFO_TBL, small_config(Formats(id_form=1), STD_VERSION_NO=1))
    assert bcd.size == 230 - 5 * 10
    assert bcd.locate("COORDINATE_1").offset == 90


# -- ST7, ST8 -------------------------------------------------------------------------------------------
def test_st7_remote_reset_request(epri: DeviceConfig) -> None:
    # SP9 REMOTE_RESET, selector 0, sequence 5, ACTION_FLAG demand reset (facts §6, research notes §5)
    layout = bind(PROC_INITIATE_TBL, epri)
    assert (layout.size, layout.max_size) == (3, 3 + 19)  # EPRI MAX_PROC_PARM_LENGTH = 19
    octets = bytes.fromhex("09 00 05 01")
    value = layout.decode(octets)
    assert value == {
        "PROC": {"TBL_PROC_NBR": 9, "STD_VS_MFG_FLAG": False, "SELECTOR": 0},
        "SEQ_NBR": 5,
        "PARM": b"\x01",
    }
    assert layout.encode(value) == octets
    # manufacturer procedure 2, selector 3 (respond now and on completion): 0x3802 little-endian
    assert layout.decode(bytes.fromhex("0238 07"))["PROC"] == {
        "TBL_PROC_NBR": 2,
        "STD_VS_MFG_FLAG": True,
        "SELECTOR": 3,
    }
    with pytest.raises(RemoteProtocolError):
        layout.decode(bytes.fromhex("0900 05") + bytes(20))
    with pytest.raises(LocalProtocolError):
        layout.encode({**value, "PARM": bytes(20)})


def test_st8_response(epri: DeviceConfig) -> None:
    layout = bind(PROC_RESPONSE_TBL, epri)
    assert (layout.size, layout.max_size) == (4, 4 + 24)  # EPRI MAX_RESP_DATA_LEN = 24
    value = layout.decode(bytes.fromhex("0a00 2a 02"))
    assert value == {
        "PROC": {"TBL_PROC_NBR": 10, "STD_VS_MFG_FLAG": False, "SELECTOR": 0},
        "SEQ_NBR": 42,
        "RESULT_CODE": 2,
        "RESP_DATA": b"",
    }
    assert layout.decode(bytes.fromhex("0a00 2a 00 aabb"))["RESP_DATA"] == b"\xaa\xbb"
    with pytest.raises(RemoteProtocolError):
        layout.decode(bytes.fromhex("0a00 2a"))


def test_every_table_binds_to_the_real_configuration(epri: DeviceConfig) -> None:
    assert [t.number for t in TABLES] == list(range(9))
    for table in TABLES[1:]:
        assert bind(table, epri).size > 0


# -- properties -----------------------------------------------------------------------------------------
@st.composite
def configs(draw: st.DrawFn) -> DeviceConfig:
    """Random valid configurations for decade 0, with small dimensions."""
    formats = draw(formats_strategy())
    dim_std = draw(st.integers(0, 3))
    dim_mfg = draw(st.integers(0, 2))
    return small_config(
        formats,
        NAMEPLATE_TYPE=draw(st.integers(0, 3)),
        STD_VERSION_NO=draw(st.sampled_from([1, 2])),
        DIM_STD_TBLS_USED=dim_std,
        DIM_MFG_TBLS_USED=dim_mfg,
        DIM_MFG_STATUS_USED=draw(st.integers(0, 4)),
        NBR_PENDING=draw(st.integers(0, 3)),
        MAX_PROC_PARM_LENGTH=draw(st.integers(0, 6)),
        MAX_RESP_DATA_LEN=draw(st.integers(0, 6)),
        STD_TBLS_USED=frozenset(range(dim_std * 8)),
        STD_TBLS_WRITE=frozenset(),
        MFG_TBLS_USED=frozenset(range(dim_mfg * 8)),
    )


@pytest.mark.parametrize("table", TABLES[1:], ids=lambda t: t.label)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_properties(table: Table, data: st.DataObject) -> None:
    check_table(table, data.draw(configs(), label="config"), data)
