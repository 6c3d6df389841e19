"""Decade 11 (load control and pricing, ST110–ST118): properties, sizes from the design, examples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.device import decode_self_describing
from openami.c1219.formats import Formats
from openami.c1219.layout import bind
from openami.c1219.std import decade11 as d11
from openami.errors import RemoteProtocolError

from ..harness import check_table, formats_strategy

FLAG_NAMES = [b.name for b in d11.ACT_LOAD_CONTROL_TBL.record.elements[0].type.members]  # type: ignore[union-attr]

# Sizes in octets from c12-protocol-facts.md §7 / research notes §1–2 (independent of the codecs)
NI_SIZE = {0: 8, 1: 4, 2: 12, 3: 6, 4: 4, 5: 3, 6: 2, 7: 3, 8: 4, 9: 5, 10: 6, 11: 8, 12: 4, 13: 21}
STIME_DATE_SIZE = {0: 0, 1: 5, 2: 5, 3: 4, 4: 4}
TIME_SIZE = {0: 0, 1: 3, 2: 3, 3: 4, 4: 4}


@st.composite
def load_control_configs(draw: st.DrawFn) -> DeviceConfig:
    """Random formats and a small, valid ST111 (every capability flag random)."""
    formats = draw(formats_strategy())
    flags: dict[str, Any] = draw(st.fixed_dictionaries({name: st.booleans() for name in FLAG_NAMES}))
    if draw(st.booleans()):
        flags["FILLER"] = draw(st.sampled_from([0x4000, 0x8000, 0xC000]))
    act = {
        "LOAD_CONTROL_FLAGS": flags,
        "NBR_CONTROL_POINTS": draw(st.integers(0, 5)),
        "NBR_SCHEDULE_ENTRIES": draw(st.integers(0, 4)),
        "NBR_CONDITIONS": draw(st.integers(0, 4)),
        "NBR_PRICE_TIERS": draw(st.integers(0, 4)),
        "NBR_PRICE_BLOCKS": draw(st.integers(0, 3)),
        "NBR_CREDIT_ENTRIES": draw(st.integers(0, 3)),
    }
    config = DeviceConfig(formats=formats)
    layout = bind(d11.ACT_LOAD_CONTROL_TBL, config)
    return config.with_table("ACT_LOAD_CONTROL_TBL", layout.decode(layout.encode(act)))


class Sizes:
    """The sizes one configuration gives the primitive types."""

    def __init__(self, config: DeviceConfig) -> None:
        f = config.formats
        self.ni1, self.ni2 = NI_SIZE[f.ni_format1], NI_SIZE[f.ni_format2]
        self.stime_date, self.time = STIME_DATE_SIZE[int(f.tm_format)], TIME_SIZE[int(f.tm_format)]
        self.act = config.lookup("ACT_LOAD_CONTROL_TBL")
        self.flags = self.act["LOAD_CONTROL_FLAGS"]

    def flag(self, name: str) -> int:
        return int(self.flags[f"{name}_FLAG"])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st110_st111_properties(data: st.DataObject) -> None:
    config = data.draw(load_control_configs())
    for table in (d11.DIM_LOAD_CONTROL_TBL, d11.ACT_LOAD_CONTROL_TBL):
        assert check_table(table, config, data).size == 8


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st112_status_properties(data: st.DataObject) -> None:
    config = data.draw(load_control_configs())
    s = Sizes(config)
    layout = check_table(d11.LOAD_CONTROL_STATUS_TBL, config, data)
    point = 4 + s.stime_date + 2 + s.flag("LOAD_MEASUREMENT") * s.ni2
    head = s.flag("BILLING_CONTROL") * (1 + s.ni1) + s.flag("LOAD_MEASUREMENT") * s.ni2
    assert layout.size == head + s.act["NBR_CONTROL_POINTS"] * point


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st113_config_properties(data: st.DataObject) -> None:
    config = data.draw(load_control_configs())
    s = Sizes(config)
    layout = check_table(d11.LOAD_CONTROL_CONFIG_TBL, config, data)
    point = 4 + s.ni1 * (2 + s.flag("DEMAND_LIMIT")) + 8 + s.time + 20 * s.flag("REMOTE_CONTROL_POINT")
    assert layout.size == s.act["NBR_CONTROL_POINTS"] * point


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st114_st115_properties(data: st.DataObject) -> None:
    config = data.draw(load_control_configs())
    s = Sizes(config)
    schedule = check_table(d11.LOAD_CONTROL_SCHEDULE_TBL, config, data)
    entry = 3 + s.stime_date + 3 + 2 * s.flag("RANDOMIZATION")
    assert schedule.size == s.act["NBR_SCHEDULE_ENTRIES"] * entry
    conditions = check_table(d11.LOAD_CONTROL_CONDITIONS_TBL, config, data)
    set_octets = (s.act["NBR_CONTROL_POINTS"] + 7) // 8
    assert conditions.size == s.act["NBR_CONDITIONS"] * (3 + 2 * s.ni1 + 2 + set_octets + 1)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st116_st117_prepayment_properties(data: st.DataObject) -> None:
    config = data.draw(load_control_configs())
    s = Sizes(config)
    status = check_table(d11.PREPAYMENT_STATUS_TBL, config, data)
    head = 1 + s.ni1 * (1 + s.flag("EMERGENCY_CREDIT") + s.flag("DEBT_RECOVERY")) + s.stime_date
    assert status.size == head + s.act["NBR_CREDIT_ENTRIES"] * (s.stime_date + 1 + 2 * s.ni1)
    control = check_table(d11.PREPAYMENT_CONTROL_TBL, config, data)
    extra = s.flag("EMERGENCY_CREDIT") * s.ni1 + s.flag("DEBT_RECOVERY") * (s.ni1 + 1)
    assert control.size == 1 + 2 * s.ni1 + extra + 2 * s.time + 1


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_st118_billing_properties(data: st.DataObject) -> None:
    config = data.draw(load_control_configs())
    s = Sizes(config)
    layout = check_table(d11.BILLING_CONTROL_TBL, config, data)
    tier = 2 * s.ni1 * s.act["NBR_PRICE_BLOCKS"] if s.flag("BLOCK_PRICING") else s.ni1
    head = 3 + s.stime_date + s.flag("STANDING_CHARGE") * s.ni1
    assert layout.size == head + s.act["NBR_PRICE_TIERS"] * tier


# -- hand-built octets: little-endian, TM_FORMAT 2 (binary YY MM DD hh mm), NI_FORMAT1 4 (INT32, 4 decimals),
# NI_FORMAT2 8 (INT32) ---------------------------------------------------------------------------------
FORMATS = Formats(tm_format=2, ni_format1=4, ni_format2=8)
# flags 0x1056: SCHEDULE b1, CONDITION b2, BILLING b4, LOAD_MEASUREMENT b6, STANDING_CHARGE b12
ST111 = bytes.fromhex("5610 02 01 01 02 00 00")


def _config() -> DeviceConfig:
    config = DeviceConfig(formats=FORMATS)
    return config.with_table("ACT_LOAD_CONTROL_TBL", bind(d11.ACT_LOAD_CONTROL_TBL, config).decode(ST111))


def test_st111_example() -> None:
    value = bind(d11.ACT_LOAD_CONTROL_TBL, DeviceConfig(formats=FORMATS)).decode(ST111)
    on = {name for name, bit in value["LOAD_CONTROL_FLAGS"].items() if bit}
    assert on == {
        "SCHEDULE_CONTROL_FLAG",
        "CONDITION_CONTROL_FLAG",
        "BILLING_CONTROL_FLAG",
        "LOAD_MEASUREMENT_FLAG",
        "STANDING_CHARGE_FLAG",
    }
    assert (value["NBR_CONTROL_POINTS"], value["NBR_SCHEDULE_ENTRIES"], value["NBR_CONDITIONS"]) == (2, 1, 1)
    assert (value["NBR_PRICE_TIERS"], value["NBR_PRICE_BLOCKS"], value["NBR_CREDIT_ENTRIES"]) == (2, 0, 0)


def test_st111_reads_like_a_configuration_table() -> None:
    # device.config_from_tables reads ST111/ST121 through decode_self_describing
    value, layout = decode_self_describing(d11.ACT_LOAD_CONTROL_TBL, ST111, DeviceConfig(formats=FORMATS))
    assert layout.size == 8 and value["NBR_CONTROL_POINTS"] == 2
    with pytest.raises(RemoteProtocolError):
        decode_self_describing(d11.ACT_LOAD_CONTROL_TBL, ST111 + b"\x00", DeviceConfig(formats=FORMATS))


def test_st118_example_prices() -> None:
    octets = bytes.fromhex(
        "d203"  # CURRENCY_CODE 978 (EUR)
        "01"  # BILLING_PERIOD_START_DAY 1
        "1806010000"  # PRICE_EFFECTIVE_TIME 2024-06-01 00:00
        "c4090000"  # STANDING_CHARGE 2500 → 0.2500 per day
        "b0040000"  # tier 0: 1200 → 0.1200 per kWh
        "b80b0000"  # tier 1: 3000 → 0.3000 per kWh
    )
    value = bind(d11.BILLING_CONTROL_TBL, _config()).decode(octets)
    assert value == {
        "CURRENCY_CODE": 978,
        "BILLING_PERIOD_START_DAY": 1,
        "PRICE_EFFECTIVE_TIME": dt.datetime(2024, 6, 1, 0, 0),
        "STANDING_CHARGE": Decimal("0.25"),
        "TIER_PRICES": [{"PRICE": Decimal("0.12")}, {"PRICE": Decimal("0.3")}],
    }
    with pytest.raises(RemoteProtocolError):
        bind(d11.BILLING_CONTROL_TBL, _config()).decode(octets + b"\x00")


def test_st112_example_status() -> None:
    octets = bytes.fromhex(
        "01"  # CURRENT_PRICE_TIER 1
        "b80b0000"  # CURRENT_PRICE 0.3000
        "10270000"  # TOTAL_LOAD 10000 W
        # point 0: supplied, level 100, default, no source, since 2024-06-01 12:30, open-ended, 1500 W
        "01 64 00 ff 180601 0c1e 0000 dc050000"
        # point 1: shed by condition 0 at 2024-06-01 17:00 for 45 min, 0 W
        "00 00 03 00 180601 1100 2d00 00000000"
    )
    value = bind(d11.LOAD_CONTROL_STATUS_TBL, _config()).decode(octets)
    assert value["CURRENT_PRICE_TIER"] == 1
    assert value["CURRENT_PRICE"] == Decimal("0.3")
    assert value["TOTAL_LOAD"] == 10000
    first, second = value["CONTROL_POINT_STATUS"]
    assert first["STATUS_FLAGS"]["SUPPLY_ON_FLAG"] is True
    assert first["CONTROL_LEVEL"] == 100
    assert first["LAST_CHANGE"] == dt.datetime(2024, 6, 1, 12, 30)
    assert first["PRESENT_LOAD"] == 1500
    assert d11.ControlSource(second["CONTROL_SOURCE"]) is d11.ControlSource.CONDITION
    assert second["SOURCE_INDEX"] == 0
    assert second["REMAINING_DURATION"] == 45
    assert second["STATUS_FLAGS"]["SUPPLY_ON_FLAG"] is False


def test_st115_example_condition() -> None:
    octets = bytes.fromhex(
        "03"  # enabled, COMPARISON 1 (GE)
        "00 ff"  # CONDITION_SOURCE PRICE, no source index
        "b80b0000 f4010000"  # THRESHOLD 0.3000, HYSTERESIS 0.0500
        "3c00"  # MIN_DURATION 60 s
        "02"  # CONTROL_POINTS {1}
        "00"  # CONTROL_LEVEL 0 %
    )
    (condition,) = bind(d11.LOAD_CONTROL_CONDITIONS_TBL, _config()).decode(octets)["CONDITIONS"]
    assert condition["CONDITION_FLAGS"] == {"CONDITION_ENABLED_FLAG": True, "COMPARISON": 1, "AUTO_RESTORE_FLAG": False}
    assert d11.ConditionSource(condition["CONDITION_SOURCE"]) is d11.ConditionSource.PRICE
    assert (condition["THRESHOLD"], condition["HYSTERESIS"]) == (Decimal("0.3"), Decimal("0.05"))
    assert condition["MIN_DURATION"] == 60
    assert condition["CONTROL_POINTS"] == frozenset({1})
    comparison = d11.Comparison(condition["CONDITION_FLAGS"]["COMPARISON"])
    assert d11.compare(comparison, Decimal("0.3"), condition["THRESHOLD"]) is True
    assert d11.compare(comparison, Decimal("0.2999"), condition["THRESHOLD"]) is False


@pytest.mark.parametrize(
    ("comparison", "expected"),
    [
        (d11.Comparison.GT, (False, False, True)),
        (d11.Comparison.GE, (False, True, True)),
        (d11.Comparison.LT, (True, False, False)),
        (d11.Comparison.LE, (True, True, False)),
        (d11.Comparison.EQ, (False, True, False)),
        (d11.Comparison.NE, (True, False, True)),
    ],
)
def test_compare(comparison: d11.Comparison, expected: tuple[bool, bool, bool]) -> None:
    assert tuple(d11.compare(comparison, v, 5) for v in (4, 5, 6)) == expected


def test_enums_follow_event_codes_49_to_52() -> None:
    # c12-protocol-facts.md §8: 49 command, 50 schedule, 51 condition, 52 prepayment
    sources = [d11.ControlSource.COMMAND, d11.ControlSource.SCHEDULE, d11.ControlSource.CONDITION]
    assert [48 + s for s in (*sources, d11.ControlSource.PREPAYMENT)] == [49, 50, 51, 52]
    # 53 added to, 54 subtracted from, 55 adjusted remaining credit
    assert [53 + a for a in d11.CreditAction] == [53, 54, 55]


def test_tables_are_numbered_in_decade_11_and_flagged() -> None:
    assert [t.number for t in d11.TABLES] == list(range(110, 119))
    assert all(t.decade == 11 and "to be checked against the standard" in t.source for t in d11.TABLES)
