"""Decade 12 (network, ST120–ST127): properties, sizes against Itron's parser, hand-built examples."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import decode_self_describing
from openami.c1219.formats import Formats
from openami.c1219.layout import bind
from openami.c1219.std import decade12 as d12
from openami.errors import RemoteProtocolError

from ..harness import check_table, formats_strategy

FLAG_NAMES = [b.name for b in d12.ACT_NETWORK_TBL.record.elements[0].type.members]  # type: ignore[union-attr]


@st.composite
def network_configs(draw: st.DrawFn) -> DeviceConfig:
    """Random formats and a small, valid ST121 (flags random, unnamed bits 0 and 7 sometimes set)."""
    formats = draw(formats_strategy())
    flags: dict[str, Any] = draw(st.fixed_dictionaries({name: st.booleans() for name in FLAG_NAMES}))
    filler = draw(st.sampled_from([0, 0x01, 0x80, 0x81]))
    if filler:
        flags["FILLER"] = filler
    act = {
        "NETWORK_FLAGS": flags,
        "NBR_INTERFACES": draw(st.integers(0, 3)),
        "NBR_REGISTRATIONS": draw(st.integers(0, 3)),
        "NBR_FILTERING_RULES": draw(st.integers(0, 3)),
        "NBR_EXCEPTION_HOSTS": draw(st.integers(0, 3)),
        "NBR_EXCEPTION_EVENTS": draw(st.integers(0, 4)),
        "NBR_STATISTICS": draw(st.integers(0, 4)),
        "NBR_MULTICAST_ADDRESSES": draw(st.integers(0, 2)),
        "NATIVE_ADDRESS_LEN": draw(st.integers(0, 8)),
        "FILLER": draw(st.binary(min_size=1, max_size=1)),
    }
    config = DeviceConfig(formats=formats)
    layout = bind(d12.ACT_NETWORK_TBL, config)
    return config.with_table("ACT_NETWORK_TBL", layout.decode(layout.encode(act)))


def _act(config: DeviceConfig) -> Any:
    return config.lookup("ACT_NETWORK_TBL")


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st120_st121_properties_and_size(data: st.DataObject) -> None:
    config = data.draw(network_configs())
    for table in (d12.DIM_NETWORK_TBL, d12.ACT_NETWORK_TBL):
        layout = check_table(table, config, data)
        assert layout.size == 14  # Itron CStdTable121: TABLE121_SIZE = 14


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st122_properties_and_itron_size(data: st.DataObject) -> None:
    config = data.draw(network_configs())
    layout = check_table(d12.INTERFACE_CTRL_TBL, config, data)
    act = _act(config)
    flags = act["NETWORK_FLAGS"]
    n = act["NATIVE_ADDRESS_LEN"]
    # Itron CStdTable121.SizeOfTable122, term by term
    entry = (
        n * (flags["PROG_NATIVE_ADDRESS_FLAG"] + flags["PROG_BROADCAST_ADDRESS_FLAG"] + flags["STATIC_RELAY_FLAG"])
        + 20 * (flags["STATIC_APTITLE_FLAG"] + flags["STATIC_MASTER_RELAY_FLAG"])
        + 3 * flags["CLIENT_RESPONSE_CTRL_FLAG"]
    )
    esn = 0 if flags["STATIC_APTITLE_FLAG"] else 20
    assert layout.size == esn + entry * act["NBR_INTERFACES"] + 20 * act["NBR_MULTICAST_ADDRESSES"]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st123_properties_and_itron_size(data: st.DataObject) -> None:
    config = data.draw(network_configs())
    layout = check_table(d12.EXCEPTION_REPORT_TBL, config, data)
    act = _act(config)
    assert layout.size == act["NBR_EXCEPTION_HOSTS"] * (25 + 2 * act["NBR_EXCEPTION_EVENTS"])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st124_st125_properties(data: st.DataObject) -> None:
    config = data.draw(network_configs())
    act = _act(config)
    assert check_table(d12.FILTERING_RULES_TBL, config, data).size == 22 * act["NBR_FILTERING_RULES"]
    status = check_table(d12.INTERFACE_STATUS_TBL, config, data)
    assert status.size == act["NBR_INTERFACES"] * (20 + 1 + 2 * act["NATIVE_ADDRESS_LEN"] + 2)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st126_st127_properties_and_itron_sizes(data: st.DataObject) -> None:
    config = data.draw(network_configs())
    act = _act(config)
    registrations = check_table(d12.REGISTRATION_STATUS_TBL, config, data)
    assert registrations.size == act["NBR_REGISTRATIONS"] * (49 + act["NATIVE_ADDRESS_LEN"])
    statistics = check_table(d12.NETWORK_STATISTICS_TBL, config, data)
    assert statistics.size == 9 * act["NBR_STATISTICS"]


# -- hand-built octets (layout per Itron CStdTable121/126/127; values read off the octets) ----------
ST121 = bytes.fromhex("7e 02 01 0300 0100 0400 0500 01 04 00")


def _config_from_st121(data: bytes, formats: Formats) -> DeviceConfig:
    config = DeviceConfig(formats=formats)
    return config.with_table("ACT_NETWORK_TBL", bind(d12.ACT_NETWORK_TBL, config).decode(data))


def test_st121_example_little_endian() -> None:
    value = bind(d12.ACT_NETWORK_TBL, DeviceConfig()).decode(ST121)
    assert value["NETWORK_FLAGS"] == {name: True for name in FLAG_NAMES}  # 0x7E: bits 1..6
    assert value["NBR_INTERFACES"] == 2
    assert value["NBR_REGISTRATIONS"] == 1
    assert value["NBR_FILTERING_RULES"] == 3
    assert value["NBR_EXCEPTION_HOSTS"] == 1
    assert value["NBR_EXCEPTION_EVENTS"] == 4
    assert value["NBR_STATISTICS"] == 5
    assert value["NBR_MULTICAST_ADDRESSES"] == 1
    assert value["NATIVE_ADDRESS_LEN"] == 4
    assert value["FILLER"] == b"\x00"


def test_st121_reads_like_a_configuration_table() -> None:
    # device.config_from_tables reads ST111/ST121 through decode_self_describing
    value, layout = decode_self_describing(d12.ACT_NETWORK_TBL, ST121, DeviceConfig())
    assert layout.size == 14 and value["NATIVE_ADDRESS_LEN"] == 4
    with pytest.raises(RemoteProtocolError):
        decode_self_describing(d12.ACT_NETWORK_TBL, ST121[:13], DeviceConfig())


def test_st121_example_big_endian() -> None:
    octets = bytes.fromhex("10 01 01 0003 0000 0000 0102 00 06 00")
    value = bind(d12.ACT_NETWORK_TBL, DeviceConfig(formats=Formats(data_order=1))).decode(octets)
    assert value["NETWORK_FLAGS"]["STATIC_APTITLE_FLAG"] is True
    assert value["NETWORK_FLAGS"]["PROG_NATIVE_ADDRESS_FLAG"] is False
    assert value["NBR_FILTERING_RULES"] == 3
    assert value["NBR_STATISTICS"] == 0x0102
    assert value["NATIVE_ADDRESS_LEN"] == 6


def test_st121_unnamed_bits_round_trip() -> None:
    layout = bind(d12.ACT_NETWORK_TBL, DeviceConfig())
    octets = bytes.fromhex("81 00 00 0000 0000 0000 0000 00 00 ff")
    value = layout.decode(octets)
    assert value["NETWORK_FLAGS"]["FILLER"] == 0x81
    assert value["FILLER"] == b"\xff"
    assert layout.encode(value) == octets


def test_st126_example() -> None:
    config = _config_from_st121(ST121, Formats())
    master = bytes.fromhex("0d037bc175") + bytes(15)  # relative ApTitle .123.8437
    node = bytes.fromhex("0d027b04") + bytes(16)  # relative ApTitle .123.4
    octets = bytes.fromhex("00 0a000001") + master + node + bytes.fromhex("3c00 805101 100e00")
    value = bind(d12.REGISTRATION_STATUS_TBL, config).decode(octets)
    (entry,) = value["REGISTRATION_STATUS"]
    assert entry["INTERFACE_ID"] == 0
    assert entry["RELAY_NATIVE_ADDRESS"] == bytes.fromhex("0a000001")
    assert entry["MASTER_RELAY_APTITLE"] == master
    assert entry["NODE_APTITLE"] == node
    assert entry["REGISTRATION_DELAY"] == 60
    assert entry["REGISTRATION_PERIOD"] == 86400
    assert entry["REGISTRATION_COUNT_DOWN"] == 3600
    with pytest.raises(RemoteProtocolError):
        bind(d12.REGISTRATION_STATUS_TBL, config).decode(octets[:-1])


def test_st127_example_and_statistic_names() -> None:
    config = _config_from_st121(ST121, Formats())
    octets = bytes.fromhex(
        "00 0300 e80300000000"  # PDUs sent: 1000
        "01 1100 b5ffffffffff"  # signal strength dBm: -75 (INT48 two's complement)
        "00 0108 070000000000"  # manufacturer statistic 1: 7
        "00 2800 000000000000"  # code 40: unassigned standard code
        "00 0000 000000000000"  # no statistic
    )
    value = bind(d12.NETWORK_STATISTICS_TBL, config).decode(octets)
    codes = [(s["INTERFACE_ID"], s["STATISTIC_CODE"], s["STATISTIC_VALUE"]) for s in value["STATISTICS"]]
    assert codes == [(0, 3, 1000), (1, 17, -75), (0, 0x0801, 7), (0, 40, 0), (0, 0, 0)]
    names = [d12.statistic_name(code) for _, code, _ in codes]
    assert names == ["PDUS_SENT", "SIGNAL_STRENGTH_DBM", "MFG_1", "STD_40", "NO_STATISTIC"]


def test_st122_esn_present_without_static_aptitle() -> None:
    # flags 0x02: PROG_NATIVE_ADDRESS only; 1 interface, native address 2 octets, no multicast
    octets121 = bytes.fromhex("02 01 00 0000 0000 0000 0000 00 02 00")
    config = _config_from_st121(octets121, Formats())
    esn = bytes.fromhex("0d0401020304") + bytes(14)
    value = bind(d12.INTERFACE_CTRL_TBL, config).decode(esn + b"\xab\xcd")
    assert value == {
        "ELECTRONIC_SERIAL_NUMBER": esn,
        "INTERFACE_CTRL_ENTRIES": [{"NATIVE_ADDRESS": b"\xab\xcd"}],
        "MULTICAST_ADDRESSES": [],
    }


def test_statistic_codes_are_the_itron_list() -> None:
    assert len(d12.StatisticCode) == 23
    assert d12.StatisticCode(22).name == "DEREGISTRATIONS_REQUESTED"
    assert d12.statistic_name(0x0800 | 0x07FF) == "MFG_2047"


def test_tables_are_numbered_in_decade_12() -> None:
    assert [t.number for t in d12.TABLES] == list(range(120, 128))
    assert all(t.decade == 12 and t.source for t in d12.TABLES)
