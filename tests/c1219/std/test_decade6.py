"""Decade 6 (load profile, ST60–ST67): property checks under random configurations, hand-built octets."""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import decode_self_describing
from openami.c1219.expr import UnboundReference
from openami.c1219.formats import Formats, TmFormat
from openami.c1219.layout import bind
from openami.c1219.schema import Table
from openami.c1219.std import decade6 as d6
from openami.c1219.std.decade0 import GEN_CONFIG_TBL
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

from ..harness import check_table, formats_strategy, gen_config_values, layout_values

REAL_ST0 = bytes.fromhex(  # EPRI c12test, via c12-protocol-facts.md §7 (uses ST60–ST64, STD_VERSION_NO 1)
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)

LP_DATA_TABLES = (d6.LP_DATA_SET1_TBL, d6.LP_DATA_SET2_TBL, d6.LP_DATA_SET3_TBL, d6.LP_DATA_SET4_TBL)
OTHER_TABLES = frozenset(range(64)) | frozenset(range(68, 160))


def _canonical(table: Table, config: DeviceConfig, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as the engine decodes it (what a configuration built from octets holds)."""
    layout = bind(table, config)
    return layout.decode(layout.encode(value))


def _gen_config(formats: Formats, version: int, sets: frozenset[int]) -> DeviceConfig:
    used = OTHER_TABLES | {63 + n for n in sets}
    return DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(formats, STD_VERSION_NO=version, STD_TBLS_USED=used)})


@st.composite
def lp_configs(draw: st.DrawFn, max_ints: int = 5, with_ctrl: bool = True) -> DeviceConfig:
    """A valid configuration for decade 6: ST0 (random formats, edition, used sets), ST61 and ST62."""
    formats = draw(formats_strategy())
    version = draw(st.sampled_from([1, 2]))
    sets = draw(st.frozensets(st.sampled_from(d6.SETS), min_size=1))
    config = _gen_config(formats, version, sets)
    bfld = d6.LP_FLAGS_BFLD_1997 if version < 2 else d6.LP_FLAGS_BFLD
    act: dict[str, Any] = {
        "LP_MEMORY_LEN": draw(st.integers(0, 2**32 - 1)),
        "LP_FLAGS": draw(st.fixed_dictionaries({b.name: st.booleans() for b in bfld.members})),
        "LP_FMATS": draw(st.fixed_dictionaries({b.name: st.booleans() for b in d6.LP_FMATS_BFLD.members})),
    }
    for n in sorted(sets):
        act[f"NBR_BLKS_SET{n}"] = draw(st.integers(0, 3))
        act[f"NBR_BLK_INTS_SET{n}"] = draw(st.integers(0, max_ints))
        act[f"NBR_CHNS_SET{n}"] = draw(st.integers(0, 5))
        act[f"MAX_INT_TIME_SET{n}"] = draw(st.sampled_from([1, 5, 15, 30, 60]))
    config = config.with_table("ACT_LP_TBL", _canonical(d6.ACT_LP_TBL, config, act))
    if not with_ctrl:
        return config
    ctrl = draw(layout_values(bind(d6.LP_CTRL_TBL, config)))
    for n in sets:
        ctrl[f"INT_FMT_CDE{n}"] = draw(st.sampled_from(sorted(d6.INT_FMT_CODES)))
    return config.with_table("LP_CTRL_TBL", _canonical(d6.LP_CTRL_TBL, config, ctrl))


def _used_sets(config: DeviceConfig) -> list[int]:
    return [n for n in d6.SETS if 63 + n in config.lookup("GEN_CONFIG_TBL.STD_TBLS_USED")]


# -- property checks ---------------------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st60_st61_properties(data: st.DataObject) -> None:
    config = data.draw(lp_configs(with_ctrl=False))
    for table in (d6.DIM_LP_TBL, d6.ACT_LP_TBL):
        layout = check_table(table, config, data)
        assert layout.size == 7 + 6 * len(_used_sets(config))


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st62_properties(data: st.DataObject) -> None:
    config = data.draw(lp_configs(with_ctrl=False))
    check_table(d6.LP_CTRL_TBL, config, data)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st63_properties(data: st.DataObject) -> None:
    config = data.draw(lp_configs(with_ctrl=False))
    layout = check_table(d6.LP_STATUS_TBL, config, data)
    assert layout.size == 13 * len(_used_sets(config))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_lp_data_set_properties(data: st.DataObject) -> None:
    # up to 12 intervals a block, so the numpy column path (arrays of >= 8) runs too
    config = data.draw(lp_configs(max_ints=12))
    n = data.draw(st.sampled_from(_used_sets(config)))
    layout = check_table(LP_DATA_TABLES[n - 1], config, data)
    assert layout.size == _expected_set_size(config, n)


def _expected_set_size(config: DeviceConfig, n: int) -> int:
    """ST64–67 size from the layout rules, computed independently of the engine."""
    formats = config.formats
    flags = config.lookup("ACT_LP_TBL.LP_FLAGS")
    chns = config.lookup(f"ACT_LP_TBL.NBR_CHNS_SET{n}")
    ints = config.lookup(f"ACT_LP_TBL.NBR_BLK_INTS_SET{n}")
    blks = config.lookup(f"ACT_LP_TBL.NBR_BLKS_SET{n}")
    ni_sizes = {0: 8, 1: 4, 2: 12, 3: 6, 4: 4, 5: 3, 6: 2, 7: 3, 8: 4, 9: 5, 10: 6, 11: 8, 12: 4, 13: 21}
    stime = {0: 0, 1: 5, 2: 5, 3: 4, 4: 4}[formats.tm_format]
    fmt = config.lookup(f"LP_CTRL_TBL.INT_FMT_CDE{n}")
    ni = ni_sizes[formats.ni_format1 if fmt == 64 else formats.ni_format2]
    value_size = {1: 1, 2: 2, 4: 4, 8: 1, 16: 2, 32: 4}.get(fmt, ni)
    reading = (ni_sizes[formats.ni_format1] if flags["BLK_END_READ_FLAG"] else 0) + (
        4 if flags["BLK_END_PULSE_FLAG"] else 0
    )
    closure = 2 * chns if flags.get("CLOSURE_STATUS_FLAG") else 0
    simple = (ints + 7) // 8 if flags["SIMPLE_INT_STATUS_FLAG"] else 0
    ext = chns // 2 + 1 if flags["EXTENDED_INT_STATUS_FLAG"] else 0
    block = stime + chns * reading + closure + simple + ints * (ext + chns * value_size)
    return int(blks * block)


# -- hand-built octets -------------------------------------------------------------------------------
def _epri_config() -> DeviceConfig:
    st0, _ = decode_self_describing(GEN_CONFIG_TBL, REAL_ST0, DeviceConfig())
    return DeviceConfig({"GEN_CONFIG_TBL": st0})


# ST61 under the EPRI ST0 (set 1 only, LSB first). LP_FLAGS 0x1C10: BLK_END_READ b4, EXTENDED_INT_STATUS
# b10, SIMPLE_INT_STATUS b11, bit 12 (CLOSURE_STATUS_FLAG, a 1997-edition device). LP_FMATS 0x12: UINT16 b1,
# INT16 b4. Set 1: 2 blocks, 3 intervals, 2 channels, 15 minutes.
ST61_OCTETS = bytes.fromhex("00000100 101c 12 0200 0300 02 0f")


def test_st61_known_octets() -> None:
    config = _epri_config()
    layout = bind(d6.ACT_LP_TBL, config)
    value = layout.decode(ST61_OCTETS)
    assert value["LP_MEMORY_LEN"] == 65536
    flags = value["LP_FLAGS"]
    assert flags["BLK_END_READ_FLAG"] and flags["EXTENDED_INT_STATUS_FLAG"] and flags["SIMPLE_INT_STATUS_FLAG"]
    assert flags["CLOSURE_STATUS_FLAG"] and "BLK_END_RD_INDICATOR_FLAG" not in flags
    assert not flags["BLK_END_PULSE_FLAG"] and not flags["SCALAR_DIVISOR_FLAG_SET1"]
    assert [k for k, v in value["LP_FMATS"].items() if v] == ["INV_UINT16_FLAG", "INV_INT16_FLAG"]
    assert (value["NBR_BLKS_SET1"], value["NBR_BLK_INTS_SET1"], value["NBR_CHNS_SET1"]) == (2, 3, 2)
    assert value["MAX_INT_TIME_SET1"] == 15
    assert "NBR_BLKS_SET2" not in value  # ST65 is not in the EPRI device's STD_TBLS_USED
    assert layout.encode(value) == ST61_OCTETS
    for cut in range(len(ST61_OCTETS)):
        with pytest.raises(RemoteProtocolError):
            layout.decode(ST61_OCTETS[:cut])


def test_st61_bit12_is_named_by_edition() -> None:
    config = _gen_config(Formats(), 2, frozenset({1}))
    value = bind(d6.ACT_LP_TBL, config).decode(ST61_OCTETS)
    assert value["LP_FLAGS"]["BLK_END_RD_INDICATOR_FLAG"] and "CLOSURE_STATUS_FLAG" not in value["LP_FLAGS"]


# ST62 for set 1 (2 channels): channel 1 END_RDG_FLAG, source 3, end source 4; channel 2 no end reading,
# source 5, end source 0xFF; INT_FMT_CDE1 16 (INT16).
ST62_OCTETS = bytes.fromhex("01 03 04 00 05 ff 10")


def _epri_lp_config() -> DeviceConfig:
    config = _epri_config()
    config = config.with_table("ACT_LP_TBL", bind(d6.ACT_LP_TBL, config).decode(ST61_OCTETS))
    ctrl = bind(d6.LP_CTRL_TBL, config).decode(ST62_OCTETS)
    return config.with_table("LP_CTRL_TBL", ctrl)


def test_st62_known_octets() -> None:
    config = _epri_lp_config()
    value = config.lookup("LP_CTRL_TBL")
    assert value["LP_SEL_SET1"] == [
        {"CHNL_FLAG": {"END_RDG_FLAG": True}, "LP_SOURCE_SELECT": 3, "END_BLK_RDG_SOURCE_SELECT": 4},
        {"CHNL_FLAG": {"END_RDG_FLAG": False}, "LP_SOURCE_SELECT": 5, "END_BLK_RDG_SOURCE_SELECT": 0xFF},
    ]
    assert d6.INT_FMT_CODES[value["INT_FMT_CDE1"]] == "INT16"
    assert "SCALARS_SET1" not in value
    assert bind(d6.LP_CTRL_TBL, config).encode(dict(value)) == ST62_OCTETS


def test_st63_known_octets() -> None:
    # flags 0x25: ORDER descending b0, LIST_TYPE circular b2, ACTIVE_MODE b5; 2 valid blocks, newest at 1,
    # sequence number 0x01020304, 1 unread, 3 valid intervals
    octets = bytes.fromhex("25 0200 0100 04030201 0100 0300")
    layout = bind(d6.LP_STATUS_TBL, _epri_config())
    value = layout.decode(octets)["LP_STATUS_SET1"]
    assert value["LP_SET_STATUS_FLAGS"] == {
        "ORDER": True,
        "OVERFLOW_FLAG": False,
        "LIST_TYPE": True,
        "BLOCK_INHIBIT_OVERFLOW_FLAG": False,
        "INTERVAL_ORDER": False,
        "ACTIVE_MODE_FLAG": True,
        "TEST_MODE": False,
    }
    assert (value["NBR_VALID_BLOCKS"], value["LAST_BLOCK_ELEMENT"], value["LAST_BLOCK_SEQ_NBR"]) == (2, 1, 0x01020304)
    assert (value["NBR_UNREAD_BLOCKS"], value["NBR_VALID_INT"]) == (1, 3)
    assert layout.encode(layout.decode(octets)) == octets


def _block(minute: int, reads: tuple[int, int], ints: list[tuple[bytes, tuple[int, int]]]) -> bytes:
    """One EPRI-config block by hand: STIME_DATE (TM 2: YY MM DD hh mm), 2 × INT48 readings (NI1 = 10),
    2 × CLOSURE_STATUS UINT16, SIMPLE_INT_STATUS SET(1), 3 × (2 status octets + 2 × INT16)."""
    out = bytes([24, 3, 15, 10, minute])
    out += b"".join(r.to_bytes(6, "little", signed=True) for r in reads)
    out += struct.pack("<HH", 0x0031, 0x0021)  # STATUS 1 normal closure, 3 / 2 valid intervals
    out += bytes([0b101])  # intervals 0 and 2 valid
    for status, values in ints:
        out += status + struct.pack("<hh", *values)
    return out


def test_st64_known_octets_1997_edition() -> None:
    config = _epri_lp_config()
    layout = bind(d6.LP_DATA_SET1_TBL, config)
    ints = [
        (bytes([0x00, 0x00]), (100, -2)),
        (bytes([0x25, 0x10]), (-32768, 32767)),  # power fail; ch1 test mode (5), ch2 overflow (1)
        (bytes([0x00, 0x40]), (0, 0)),  # ch2 skipped (4)
    ]
    octets = _block(45, (123456789012, -5), ints) + _block(0, (0, 1), ints)
    value = layout.decode(octets)
    first = value["LP_DATA_SET1"][0]
    assert first["BLK_END_TIME"] == dt.datetime(2024, 3, 15, 10, 45)
    assert first["END_READINGS"] == [{"BLOCK_END_READ": 123456789012}, {"BLOCK_END_READ": -5}]
    assert first["CLOSURE_STATUS"] == [
        {"STATUS": 1, "NBR_VALID_INTERVAL": 3},
        {"STATUS": 1, "NBR_VALID_INTERVAL": 2},
    ]
    assert first["SIMPLE_INT_STATUS"] == frozenset({0, 2})
    assert [i["INT_DATA"] for i in first["LP_INT"]] == [[100, -2], [-32768, 32767], [0, 0]]
    status = d6.ExtendedIntStatus.from_octets(first["LP_INT"][1]["EXTENDED_INT_STATUS"], 2)
    assert status.power_fail and not status.dst and status.channels == (5, 1)
    assert d6.CHANNEL_STATUS[status.channels[0]] == "interval contains test mode data"
    assert d6.ExtendedIntStatus.from_octets(first["LP_INT"][2]["EXTENDED_INT_STATUS"], 2).channels == (0, 4)
    assert value["LP_DATA_SET1"][1]["BLK_END_TIME"] == dt.datetime(2024, 3, 15, 10, 0)
    assert layout.encode(value) == octets
    # partial read of one interval
    span = layout.locate("LP_DATA_SET1[1].LP_INT[1]")
    assert span.offset == len(octets) // 2 + 5 + 12 + 4 + 1 + 6 and span.size == 6
    assert layout.decode_span(span, octets[span.offset : span.offset + span.size]) == first["LP_INT"][1]


def test_st64_2008_edition_has_no_closure_status() -> None:
    config = _epri_lp_config()
    st0 = dict(config.lookup("GEN_CONFIG_TBL"), STD_VERSION_NO=2)
    config2 = DeviceConfig({"GEN_CONFIG_TBL": st0})
    config2 = config2.with_table("ACT_LP_TBL", bind(d6.ACT_LP_TBL, config2).decode(ST61_OCTETS))
    config2 = config2.with_table("LP_CTRL_TBL", config.lookup("LP_CTRL_TBL"))
    old, new = bind(d6.LP_DATA_SET1_TBL, config), bind(d6.LP_DATA_SET1_TBL, config2)
    assert old.size - new.size == 2 * 2 * 2  # 2 blocks × 2 channels × UINT16
    assert "CLOSURE_STATUS" not in new.root.by_name["LP_DATA_SET1"].element.by_name  # type: ignore[attr-defined]


def test_st64_needs_a_valid_interval_format_and_a_used_set() -> None:
    config = _epri_lp_config()
    bad = config.with_table("LP_CTRL_TBL", dict(config.lookup("LP_CTRL_TBL"), INT_FMT_CDE1=3))
    with pytest.raises(LocalProtocolError, match="INT_FMT_CDE1"):
        bind(d6.LP_DATA_SET1_TBL, bad)
    with pytest.raises(UnboundReference):
        bind(d6.LP_DATA_SET2_TBL, config)  # ST65 is not used by the EPRI device


def test_st64_block_time_past_year_9999_decodes_or_is_refused() -> None:
    # TM_FORMAT 3: STIME_DATE is UINT32 minutes since 1970; 0xFC000000 minutes is past the year 9999 (found
    # by test_lp_data_set_properties before timefmt caught OverflowError): decode (RawTime) or ProtocolError.
    gen = gen_config_values(Formats(tm_format=TmFormat.UINT32_MINUTES), STD_TBLS_USED=OTHER_TABLES | {64})
    config = DeviceConfig({"GEN_CONFIG_TBL": gen})
    act: dict[str, Any] = {"LP_MEMORY_LEN": 0, "LP_FLAGS": {}, "LP_FMATS": {}, "NBR_BLKS_SET1": 1}
    act.update(NBR_BLK_INTS_SET1=0, NBR_CHNS_SET1=0, MAX_INT_TIME_SET1=15)
    config = config.with_table("ACT_LP_TBL", _canonical(d6.ACT_LP_TBL, config, act))
    config = config.with_table("LP_CTRL_TBL", {"LP_SEL_SET1": [], "INT_FMT_CDE1": 2})
    layout = bind(d6.LP_DATA_SET1_TBL, config)
    octets = (0xFC000000).to_bytes(4, "little")
    try:
        value = layout.decode(octets)
    except ProtocolError:
        return
    assert layout.encode(value) == octets


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_every_interval_format(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(sorted(d6.INT_FMT_CODES)))
    config = _epri_lp_config()
    config = config.with_table("LP_CTRL_TBL", dict(config.lookup("LP_CTRL_TBL"), INT_FMT_CDE1=code))
    layout = check_table(d6.LP_DATA_SET1_TBL, config, data)
    size = {1: 1, 2: 2, 4: 4, 8: 1, 16: 2, 32: 4, 64: 6, 128: 5}[code]  # NI1 INT48, NI2 INT40
    assert layout.size == 2 * (5 + 2 * 6 + 2 * 2 + 1 + 3 * (2 + 2 * size))


# -- EXTENDED_INT_STATUS view ------------------------------------------------------------------------
def test_extended_status_known_octets() -> None:
    # octet 0: DST b4, clock set backward b7, channel 1 = 2; octet 1: ch 2 = 3 (high), ch 3 = 6 (low);
    # octet 2: ch 4 = 7 (high), low nibble fill
    status = d6.ExtendedIntStatus.from_octets([0x92, 0x36, 0x70], 4)
    assert status == d6.ExtendedIntStatus((2, 3, 6, 7), dst=True, clock_set_backward=True)
    assert status.to_octets() == [0x92, 0x36, 0x70]
    assert d6.ExtendedIntStatus.from_octets([0x41], 1) == d6.ExtendedIntStatus((1,), clock_set_forward=True)
    assert d6.ExtendedIntStatus((), power_fail=True).to_octets() == [0x20]


@given(
    st.lists(st.integers(0, 15), max_size=9),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_extended_status_round_trip(channels: list[int], a: bool, b: bool, c: bool, d: bool) -> None:
    status = d6.ExtendedIntStatus(tuple(channels), a, b, c, d)
    octets = status.to_octets()
    assert len(octets) == d6.extended_status_size(len(channels)) == len(channels) // 2 + 1
    assert d6.ExtendedIntStatus.from_octets(octets, len(channels)) == status


def test_extended_status_errors() -> None:
    with pytest.raises(RemoteProtocolError):
        d6.ExtendedIntStatus.from_octets([0, 0], 4)
    with pytest.raises(RemoteProtocolError):
        d6.ExtendedIntStatus.from_octets([256], 1)
    with pytest.raises(LocalProtocolError):
        d6.ExtendedIntStatus((16,)).to_octets()


def test_tables_tuple() -> None:
    assert [t.number for t in d6.TABLES] == list(range(60, 68))
    assert [t.name for t in d6.TABLES[4:]] == [f"LP_DATA_SET{n}_TBL" for n in d6.SETS]
