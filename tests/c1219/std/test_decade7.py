"""Decade 7 (history and event logs, ST70–ST76) and the event code names."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import decode_self_describing
from openami.c1219.formats import Formats, TmFormat
from openami.c1219.layout import bind
from openami.c1219.std import decade7 as d7
from openami.c1219.std.decade0 import GEN_CONFIG_TBL
from openami.errors import RemoteProtocolError

from ..harness import check_table, formats_strategy, gen_config_values

REAL_ST0 = bytes.fromhex(  # EPRI c12test, via c12-protocol-facts.md §7 (uses ST70–ST76, STD_VERSION_NO 1)
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)

LOG_FLAG_NAMES = [b.name for b in d7.LOG_FLAGS_BFLD.members]


@st.composite
def log_configs(draw: st.DrawFn) -> DeviceConfig:
    """A valid configuration for decade 7: ST0 (random formats, edition, manufacturer dimensions) and ST71."""
    formats = draw(formats_strategy())
    version = draw(st.sampled_from([1, 2]))
    gen = gen_config_values(
        formats,
        STD_VERSION_NO=version,
        DIM_STD_TBLS_USED=draw(st.integers(0, 20)),
        DIM_MFG_TBLS_USED=draw(st.integers(0, 3)),
        DIM_STD_PROC_USED=draw(st.integers(0, 5)),
        DIM_MFG_PROC_USED=draw(st.integers(0, 3)),
    )
    gen["STD_TBLS_USED"] = gen["STD_TBLS_WRITE"] = frozenset(range(8 * gen["DIM_STD_TBLS_USED"]))
    gen["STD_PROC_USED"] = frozenset(range(8 * gen["DIM_STD_PROC_USED"]))
    config = DeviceConfig({"GEN_CONFIG_TBL": gen})
    act: dict[str, Any] = {
        "LOG_FLAGS": draw(st.fixed_dictionaries({name: st.booleans() for name in LOG_FLAG_NAMES})),
        "NBR_STD_EVENTS": draw(st.integers(0, 10)),
        "NBR_MFG_EVENTS": draw(st.integers(0, 3)),
        "HIST_DATA_LENGTH": draw(st.integers(0, 4)),
        "EVENT_DATA_LENGTH": draw(st.integers(0, 4)),
        "NBR_HISTORY_ENTRIES": draw(st.integers(0, 5)),
        "NBR_EVENT_ENTRIES": draw(st.integers(0, 5)),
    }
    if version >= 2:
        act["EXT_LOG_FLAGS"] = {"FILLER": draw(st.integers(1, 255))} if draw(st.booleans()) else {}
        act["NBR_PROGRAM_TABLES"] = draw(st.integers(0, 0xFFFF))
    layout = bind(d7.ACT_LOG_TBL, config)
    return config.with_table("ACT_LOG_TBL", layout.decode(layout.encode(act)))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st70_st71_properties(data: st.DataObject) -> None:
    config = data.draw(log_configs())
    version = config.lookup("GEN_CONFIG_TBL.STD_VERSION_NO")
    for table in (d7.DIM_LOG_TBL, d7.ACT_LOG_TBL):
        layout = check_table(table, config, data)
        assert layout.size == (9 if version < 2 else 12)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_event_id_and_control_properties(data: st.DataObject) -> None:
    config = data.draw(log_configs())
    act = config.lookup("ACT_LOG_TBL")
    gen = config.lookup("GEN_CONFIG_TBL")
    layout = check_table(d7.EVENTS_ID_TBL, config, data)
    assert layout.size == act["NBR_STD_EVENTS"] + act["NBR_MFG_EVENTS"]
    expected = (
        act["NBR_STD_EVENTS"]
        + act["NBR_MFG_EVENTS"]
        + sum(gen[k] for k in ("DIM_STD_TBLS_USED", "DIM_MFG_TBLS_USED", "DIM_STD_PROC_USED", "DIM_MFG_PROC_USED"))
    )
    for table in (d7.HISTORY_LOG_CTRL_TBL, d7.EVENT_LOG_CTRL_TBL):
        assert check_table(table, config, data).size == expected


def _ltime_size(formats: Formats) -> int:
    return {TmFormat.NO_CLOCK: 0, TmFormat.BCD: 6, TmFormat.UINT8: 6, TmFormat.UINT32_MINUTES: 5}.get(
        formats.tm_format, 4
    )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_st74_properties(data: st.DataObject) -> None:
    config = data.draw(log_configs())
    act = config.lookup("ACT_LOG_TBL")
    flags = act["LOG_FLAGS"]
    layout = check_table(d7.HISTORY_LOG_DATA_TBL, config, data)
    entry = (
        (_ltime_size(config.formats) if flags["HIST_DATE_TIME_FLAG"] else 0)
        + (2 if flags["EVENT_NUMBER_FLAG"] else 0)
        + (2 if flags["HIST_SEQ_NBR_FLAG"] else 0)
        + 4
        + act["HIST_DATA_LENGTH"]
    )
    assert layout.size == 11 + act["NBR_HISTORY_ENTRIES"] * entry


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_st76_properties(data: st.DataObject) -> None:
    config = data.draw(log_configs())
    act = config.lookup("ACT_LOG_TBL")
    layout = check_table(d7.EVENT_LOG_DATA_TBL, config, data)
    entry = _ltime_size(config.formats) + (2 if act["LOG_FLAGS"]["EVENT_NUMBER_FLAG"] else 0) + 6
    assert layout.size == 11 + act["NBR_EVENT_ENTRIES"] * (entry + act["EVENT_DATA_LENGTH"])


# -- hand-built octets -------------------------------------------------------------------------------
def _epri_config() -> DeviceConfig:
    st0, _ = decode_self_describing(GEN_CONFIG_TBL, REAL_ST0, DeviceConfig())
    return DeviceConfig({"GEN_CONFIG_TBL": st0})


# ST71, 1997 layout (termineter/Itron: 9 octets): LOG_FLAGS 0x07 (EVENT_NUMBER, HIST_DATE_TIME, HIST_SEQ_NBR),
# 2 octets of standard events (16 codes), 1 of manufacturer events, history argument 2 octets, event
# argument 1 octet, 3 history entries, 2 event entries (UINT16 LSB first).
ST71_OCTETS = bytes.fromhex("07 02 01 02 01 0300 0200")


def _epri_log_config() -> DeviceConfig:
    config = _epri_config()
    return config.with_table("ACT_LOG_TBL", bind(d7.ACT_LOG_TBL, config).decode(ST71_OCTETS))


def test_st71_known_octets_1997() -> None:
    layout = bind(d7.ACT_LOG_TBL, _epri_config())
    value = layout.decode(ST71_OCTETS)
    assert value == {
        "LOG_FLAGS": {
            "EVENT_NUMBER_FLAG": True,
            "HIST_DATE_TIME_FLAG": True,
            "HIST_SEQ_NBR_FLAG": True,
            "HIST_INHIBIT_OVF_FLAG": False,
            "EVENT_INHIBIT_OVF_FLAG": False,
        },
        "NBR_STD_EVENTS": 2,
        "NBR_MFG_EVENTS": 1,
        "HIST_DATA_LENGTH": 2,
        "EVENT_DATA_LENGTH": 1,
        "NBR_HISTORY_ENTRIES": 3,
        "NBR_EVENT_ENTRIES": 2,
    }
    assert layout.encode(value) == ST71_OCTETS
    with pytest.raises(RemoteProtocolError):
        layout.decode(ST71_OCTETS + b"\x00\x00\x00")  # the 2008 length is refused under a 1997 ST0


def test_st71_known_octets_2008() -> None:
    st0 = dict(_epri_config().lookup("GEN_CONFIG_TBL"), STD_VERSION_NO=2)
    layout = bind(d7.ACT_LOG_TBL, DeviceConfig({"GEN_CONFIG_TBL": st0}))
    octets = ST71_OCTETS + bytes.fromhex("81 1400")
    value = layout.decode(octets)
    assert value["EXT_LOG_FLAGS"] == {"FILLER": 0x81}
    assert value["NBR_PROGRAM_TABLES"] == 20
    assert layout.encode(value) == octets
    with pytest.raises(RemoteProtocolError):
        layout.decode(ST71_OCTETS)


def test_st72_st73_known_octets() -> None:
    config = _epri_log_config()
    # standard events 1, 2 (power down / up), 9, 10 (procedure invoked, table written); manufacturer event 0
    st72 = bind(d7.EVENTS_ID_TBL, config)
    value = st72.decode(bytes.fromhex("0606 01"))
    assert value == {"STD_EVENTS_SUPPORTED": frozenset({1, 2, 9, 10}), "MFG_EVENTS_SUPPORTED": frozenset({0})}
    # ST73 under the EPRI ST0: 2 + 1 + DIM_STD_TBLS_USED 13 + DIM_MFG_TBLS_USED 13 + 3 + 5 octets
    st73 = bind(d7.HISTORY_LOG_CTRL_TBL, config)
    assert st73.size == 2 + 1 + 13 + 13 + 3 + 5
    octets = bytes.fromhex("0006 00") + bytes(12) + b"\x04" + bytes(13) + bytes.fromhex("000400") + bytes(5)
    monitored = st73.decode(octets)
    assert monitored["STD_EVENTS_MONITORED_FLAGS"] == frozenset({9, 10})
    assert monitored["STD_TBLS_MONITORED_FLAGS"] == frozenset({98})  # bit 2 of octet 12
    assert monitored["STD_PROC_MONITORED_FLAGS"] == frozenset({10})  # SP10 set date/time
    assert st73.encode(monitored) == octets


def test_st74_known_octets() -> None:
    config = _epri_log_config()
    layout = bind(d7.HISTORY_LOG_DATA_TBL, config)
    header = bytes.fromhex("06 0200 0100 0a000000 0100")  # circular, overflowed; 2 valid, newest at 1
    entry1 = bytes([24, 1, 31, 23, 59, 30]) + bytes.fromhex("0700 0900 0200 1400 0000")
    entry2 = bytes([24, 2, 1, 0, 0, 5]) + bytes.fromhex("0800 0a00 0000 0a08 3412")
    entry3 = bytes(6 + 8 + 2)  # an unused entry of zeros: the all-zero LTIME_DATE is not a date
    octets = header + entry1 + entry2 + entry3
    value = layout.decode(octets)
    assert value["HIST_FLAGS"] == {
        "ORDER": False,
        "OVERFLOW_FLAG": True,
        "LIST_TYPE": True,
        "INHIBIT_OVERFLOW_FLAG": False,
    }
    assert (value["NBR_VALID_ENTRIES"], value["LAST_ENTRY_ELEMENT"], value["LAST_ENTRY_SEQ_NBR"]) == (2, 1, 10)
    first, second, third = value["HISTORY_ENTRIES"]
    assert first["HISTORY_TIME"] == dt.datetime(2024, 1, 31, 23, 59, 30)
    assert (first["EVENT_NUMBER"], first["HISTORY_SEQ_NBR"], first["USER_ID"]) == (7, 9, 2)
    assert first["HISTORY_CODE"] == {"TBL_PROC_NBR": 20, "STD_VS_MFG_FLAG": False, "SELECTOR": 0}
    assert d7.event_name(first["HISTORY_CODE"]["TBL_PROC_NBR"]) == "Demand reset occurred"
    assert second["HISTORY_CODE"] == {"TBL_PROC_NBR": 10, "STD_VS_MFG_FLAG": True, "SELECTOR": 0}
    assert second["HISTORY_ARGUMENT"] == b"\x34\x12"
    assert d7.event_name(10, manufacturer=True) == "manufacturer event 10"
    assert third["HISTORY_TIME"].data == bytes(6)
    assert layout.encode(value) == octets
    for cut in (0, 10, len(octets) - 1):
        with pytest.raises(RemoteProtocolError):
            layout.decode(octets[:cut])


def test_st76_known_octets() -> None:
    # Aclara's instance (research notes): TM 2, no EVENT_NUMBER, 1-octet argument → 13-octet entries
    config = _epri_config()
    act = bind(d7.ACT_LOG_TBL, config).decode(bytes.fromhex("00 02 01 02 01 0300 0200"))
    config = config.with_table("ACT_LOG_TBL", act)
    layout = bind(d7.EVENT_LOG_DATA_TBL, config)
    header = bytes.fromhex("00 0100 0000 2a000000 0000")
    entry1 = bytes([24, 6, 1, 12, 0, 0]) + bytes.fromhex("2a00 0000 0100 ff")
    entry2 = bytes([24, 6, 1, 12, 5, 0]) + bytes.fromhex("2b00 0100 0200 00")
    octets = header + entry1 + entry2
    assert layout.size == 11 + 2 * 13
    value = layout.decode(octets)
    first, second = value["EVENT_ENTRIES"]
    assert first == {
        "EVENT_TIME": dt.datetime(2024, 6, 1, 12, 0),
        "EVENT_SEQ_NBR": 42,
        "USER_ID": 0,
        "EVENT_CODE": {"TBL_PROC_NBR": 1, "STD_VS_MFG_FLAG": False, "SELECTOR": 0},
        "EVENT_ARGUMENT": b"\xff",
    }
    assert d7.event_name(first["EVENT_CODE"]["TBL_PROC_NBR"]) == "Primary power down"
    assert d7.event_name(second["EVENT_CODE"]["TBL_PROC_NBR"]) == "Primary power up"
    assert layout.encode(value) == octets


# -- event codes -------------------------------------------------------------------------------------
def test_event_codes_cover_0_to_76() -> None:
    assert sorted(d7.EVENT_CODES) == list(range(77))
    # spot checks against c12-protocol-facts.md §8
    assert d7.EVENT_CODES[0] == "No event"
    assert d7.EVENT_CODES[18] == "Event log cleared"
    assert d7.EVENT_CODES[48] == "Reverse rotation detected"
    assert d7.EVENT_CODES[53] == "Added to remaining credit"
    assert d7.EVENT_CODES[73] == "Read secured table"
    assert d7.event_name(77) == "reserved event 77"


def test_tables_tuple() -> None:
    assert [t.number for t in d7.TABLES] == [70, 71, 72, 73, 74, 75, 76]
    assert {t.name for t in d7.TABLES} >= {"ACT_LOG_TBL", "HISTORY_LOG_DATA_TBL", "EVENT_LOG_DATA_TBL"}
