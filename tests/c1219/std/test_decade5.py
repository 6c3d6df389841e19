"""Decade 5 time and TOU tables (ST50–ST56): properties on random configurations and hand-built octets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.expr import UnboundReference
from openami.c1219.formats import Formats, TmFormat
from openami.c1219.layout import bind
from openami.c1219.nodes import ArrayNode
from openami.c1219.schema import Table
from openami.c1219.std.decade5 import (
    ACT_TIME_TOU_TBL,
    CALENDAR_TBL,
    CLOCK_STATE_TBL,
    CLOCK_TBL,
    DIM_TIME_TOU_TBL,
    TABLES,
    TIME_OFFSET_TBL,
    TIME_REMAIN_TBL,
)
from openami.errors import ProtocolError, RemoteProtocolError

from ..harness import check_table, formats_strategy, gen_config_values

FLAG1 = (
    "TOU_SELF_READ_FLAG",
    "SEASON_SELF_READ_FLAG",
    "SEASON_DEMAND_RESET_FLAG",
    "SEASON_CHNG_ARMED_FLAG",
    "SORT_DATES_FLAG",
    "ANCHOR_DATE_FLAG",
)
FLAG2 = (
    "CAP_DST_AUTO_FLAG",
    "SEPARATE_WEEKDAYS_FLAG",
    "SEPARATE_SUM_DEMANDS_FLAG",
    "SORT_TIER_SWITCHES_FLAG",
    "CAP_TM_ZN_OFFSET_FLAG",
)


@st.composite
def tou_configs(draw: st.DrawFn) -> DeviceConfig:
    """A random valid device: any formats, ST0 edition 1 or 2, random ST51 flags and small dimensions."""
    formats = draw(formats_strategy())
    act = {
        "TIME_FUNC_FLAG1": draw(st.fixed_dictionaries({name: st.booleans() for name in FLAG1})),
        "TIME_FUNC_FLAG2": draw(st.fixed_dictionaries({name: st.booleans() for name in FLAG2})),
        "CALENDAR_FUNC": {"NBR_SEASONS": draw(st.integers(0, 3)), "NBR_SPECIAL_SCHED": draw(st.integers(0, 3))},
        "NBR_NON_RECURR_DATES": draw(st.integers(0, 4)),
        "NBR_RECURR_DATES": draw(st.integers(0, 4)),
        "NBR_TIER_SWITCHES": draw(st.integers(0, 6)),
        "CALENDAR_TBL_SIZE": draw(st.integers(0, 0xFFFF)),
    }
    st0 = gen_config_values(formats, STD_VERSION_NO=draw(st.sampled_from([1, 2])))
    return DeviceConfig({"GEN_CONFIG_TBL": st0, "ACT_TIME_TOU_TBL": act}, formats)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_st50_st51_properties(data: st.DataObject) -> None:
    formats = data.draw(formats_strategy())
    for table in (DIM_TIME_TOU_TBL, ACT_TIME_TOU_TBL):
        assert check_table(table, DeviceConfig(formats=formats), data).size == 9


@pytest.mark.parametrize("table", [CLOCK_TBL, TIME_OFFSET_TBL, CALENDAR_TBL, CLOCK_STATE_TBL, TIME_REMAIN_TBL])
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_time_table_properties(table: Table, data: st.DataObject) -> None:
    check_table(table, data.draw(tou_configs()), data)


@settings(max_examples=50, deadline=None)
@given(tou_configs())
def test_calendar_matrix_shape(config: DeviceConfig) -> None:
    act = config.tables["ACT_TIME_TOU_TBL"]
    matrix = bind(CALENDAR_TBL, config).root.by_name["DAILY_SCHEDULE_ID_MATRIX"]
    days = 7 if act["TIME_FUNC_FLAG2"]["SEPARATE_WEEKDAYS_FLAG"] else 3
    assert isinstance(matrix, ArrayNode) and isinstance(matrix.element, ArrayNode)
    assert matrix.count == act["CALENDAR_FUNC"]["NBR_SEASONS"]
    assert matrix.element.count == days + act["CALENDAR_FUNC"]["NBR_SPECIAL_SCHED"]


def test_registry_tuple() -> None:
    assert [t.number for t in TABLES] == list(range(50, 57))


def test_missing_act_time_tou_is_reported_by_name() -> None:
    with pytest.raises(UnboundReference, match="ACT_TIME_TOU_TBL"):
        bind(CALENDAR_TBL, DeviceConfig())


# -- hand-built octets -------------------------------------------------------------------------------
def _exact(table: Table, config: DeviceConfig, octets: bytes, value: dict[str, Any]) -> None:
    layout = bind(table, config)
    assert layout.decode(octets) == value
    assert layout.encode(value) == octets
    for cut in range(len(octets)):
        with pytest.raises(RemoteProtocolError):
            layout.decode(octets[:cut])
    with pytest.raises(RemoteProtocolError):
        layout.decode(octets + b"\x00")


TM2 = Formats(tm_format=TmFormat.UINT8)
# ST51 by hand: TIME_FUNC_FLAG1 0x24 = SEASON_DEMAND_RESET_FLAG (b2) | ANCHOR_DATE_FLAG (b5);
# TIME_FUNC_FLAG2 0x14 = SEPARATE_SUM_DEMANDS_FLAG (b2) | CAP_TM_ZN_OFFSET_FLAG (b4);
# CALENDAR_FUNC 0x11 = 1 season, 1 special schedule; 1 non-recurring date, 1 recurring date, 2 tier switches;
# CALENDAR_TBL_SIZE 20 (= the ST54 below under TM 2: 3 + 4 + 3 + 2 × 3 + 1 × (3 + 1))
ST51 = bytes.fromhex("24 14 11 01 01 0200 1400")


def _config(formats: Formats = TM2, version: int = 2, **flag2: bool) -> DeviceConfig:
    base = DeviceConfig({"GEN_CONFIG_TBL": gen_config_values(formats, STD_VERSION_NO=version)}, formats)
    act = bind(ACT_TIME_TOU_TBL, base).decode(ST51)
    act["TIME_FUNC_FLAG2"] = {**act["TIME_FUNC_FLAG2"], **flag2}
    return base.with_table("ACT_TIME_TOU_TBL", act)


def test_st51_hand_built() -> None:
    value = bind(ACT_TIME_TOU_TBL, DeviceConfig(formats=TM2)).decode(ST51)
    assert value["TIME_FUNC_FLAG1"] == {
        "TOU_SELF_READ_FLAG": False,
        "SEASON_SELF_READ_FLAG": False,
        "SEASON_DEMAND_RESET_FLAG": True,
        "SEASON_CHNG_ARMED_FLAG": False,
        "SORT_DATES_FLAG": False,
        "ANCHOR_DATE_FLAG": True,
    }
    assert value["TIME_FUNC_FLAG2"] == {
        "CAP_DST_AUTO_FLAG": False,
        "SEPARATE_WEEKDAYS_FLAG": False,
        "SEPARATE_SUM_DEMANDS_FLAG": True,
        "SORT_TIER_SWITCHES_FLAG": False,
        "CAP_TM_ZN_OFFSET_FLAG": True,
    }
    assert value["CALENDAR_FUNC"] == {"NBR_SEASONS": 1, "NBR_SPECIAL_SCHED": 1}
    assert (value["NBR_NON_RECURR_DATES"], value["NBR_RECURR_DATES"], value["NBR_TIER_SWITCHES"]) == (1, 1, 2)
    assert value["CALENDAR_TBL_SIZE"] == 20
    assert bind(ACT_TIME_TOU_TBL, DeviceConfig(formats=TM2)).encode(value) == ST51


def test_st54_hand_built_and_its_size_matches_calendar_tbl_size() -> None:
    config = _config()
    octets = bytes.fromhex(
        "180101"  # ANCHOR_DATE 24-01-01 (TM 2 DATE: YY MM DD)
        "180c19 13"  # NON_RECURR_DATE 24-12-25, CALENDAR_CTRL 19 = special schedule 0
        "0108 23"  # RDATE 0x0801: MONTH 1 (b0-3), DAY 1 (b11-15); action 0x23: season 0 (3) | DEMAND_RESET (b5)
        "d93b 00"  # 0x3BD9: SWITCH_HOUR 7 (<<11), SWITCH_MIN 30 (<<5), switch flags b3 b4, NEW_TIER 1; day type 0
        "18b0 00"  # 0xB018: 22:00, both switch flags, NEW_TIER 0; day type 0
        "01010002"  # season 0: SATURDAY 1, SUNDAY 1, WEEKDAY 0, special schedule 0 → 2
    )
    assert bind(CALENDAR_TBL, config).size == len(octets) == config.tables["ACT_TIME_TOU_TBL"]["CALENDAR_TBL_SIZE"]

    def action(ctrl: int, reset: bool = False) -> dict[str, Any]:
        return {"CALENDAR_CTRL": ctrl, "DEMAND_RESET_FLAG": reset, "SELF_READ_FLAG": False}

    def switch(hour: int, minute: int, tier: int) -> dict[str, Any]:
        return {
            "NEW_TIER": tier,
            "SUMMATION_SWITCH_FLAG": True,
            "DEMANDS_SWITCH_FLAG": True,
            "SWITCH_MIN": minute,
            "SWITCH_HOUR": hour,
        }

    value = {
        "ANCHOR_DATE": dt.date(2024, 1, 1),
        "NON_RECURR_DATES": [{"NON_RECURR_DATE": dt.date(2024, 12, 25), "CALENDAR_ACTION": action(19)}],
        "RECURR_DATES": [
            {"RECURR_DATE": {"MONTH": 1, "OFFSET": 0, "WEEKDAY": 0, "DAY": 1}, "CALENDAR_ACTION": action(3, True)}
        ],
        "TIER_SWITCHES": [
            {"TIER_SWITCH": switch(7, 30, 1), "DAY_SCH_NUM": 0},
            {"TIER_SWITCH": switch(22, 0, 0), "DAY_SCH_NUM": 0},
        ],
        "DAILY_SCHEDULE_ID_MATRIX": [[1, 1, 0, 2]],
    }
    _exact(CALENDAR_TBL, config, octets, value)
    # with separate weekdays the row is SATURDAY, SUNDAY, MONDAY … FRIDAY + 1 special = 8 columns
    wide = _config(SEPARATE_WEEKDAYS_FLAG=True)
    assert bind(CALENDAR_TBL, wide).size == len(octets) + 4


QUAL = {  # 0x65: DAY_OF_WEEK 5 (Friday, 0 = Sunday), TM_ZN_APPLIED_FLAG (b5), DST_APPLIED_FLAG (b6)
    "DAY_OF_WEEK": 5,
    "DST_FLAG": False,
    "GMT_FLAG": False,
    "TM_ZN_APPLIED_FLAG": True,
    "DST_APPLIED_FLAG": True,
    "DST_SUPPORTED_FLAG": False,
}


def test_st52_hand_built() -> None:
    assert dt.date(2024, 3, 15).isoweekday() % 7 == QUAL["DAY_OF_WEEK"]  # the date below is a Friday
    octets = bytes.fromhex("18030f0e1e2d 65")  # TM 2 LTIME_DATE 24-03-15 14:30:45, TIME_DATE_QUAL 0x65
    value = {"CLOCK_CALENDAR": dt.datetime(2024, 3, 15, 14, 30, 45), "TIME_DATE_QUAL": QUAL}
    _exact(CLOCK_TBL, _config(), octets, value)
    # TM 4: UINT32 seconds since 1970, little-endian: 2024-03-15 14:30:45 = 1710513045 = 0x65F45B95
    assert int(dt.datetime(2024, 3, 15, 14, 30, 45).replace(tzinfo=dt.UTC).timestamp()) == 0x65F45B95
    _exact(CLOCK_TBL, _config(Formats(tm_format=TmFormat.UINT32_SECONDS)), bytes.fromhex("955bf465 65"), value)


def test_st53_mm100_defaults_under_tm4() -> None:
    """MM100 demo defaults (research notes §3): 02:00, 60 min, UTC-6, 02:00 — 11 octets with TM 4."""
    config = _config(Formats(tm_format=TmFormat.UINT32_SECONDS))
    octets = bytes.fromhex("201c0000 3c 98fe 201c0000")  # 7200 s, 60, -360 (0xFE98), 7200 s
    value = {
        "DST_TIME_EFF": dt.time(2, 0),
        "DST_TIME_AMT": 60,
        "TIME_ZONE_OFFSET": -360,
        "STD_TIME_EFF": dt.time(2, 0),
    }
    _exact(TIME_OFFSET_TBL, config, octets, value)


def test_st53_first_edition_without_time_zone() -> None:
    config = _config(version=1, CAP_TM_ZN_OFFSET_FLAG=False)
    _exact(TIME_OFFSET_TBL, config, bytes.fromhex("020000 3c"), {"DST_TIME_EFF": dt.time(2, 0), "DST_TIME_AMT": 60})


def test_st55_hand_built_both_tier_forms() -> None:
    clock = bytes.fromhex("18030f0e1e2d 65")
    head = {"CLOCK_CALENDAR": dt.datetime(2024, 3, 15, 14, 30, 45), "TIME_DATE_QUAL": QUAL}
    # separate summation / demand tiers: 0x1F0A = SEASON 1 (<<12), SPECIAL_SCHD_ACTIVE 15 (<<8),
    # TIER_DRIVE 0, CURR_DEMAND_TIER 1 (<<3), CURR_SUMM_TIER 2
    status = {"CURR_SUMM_TIER": 2, "CURR_DEMAND_TIER": 1, "TIER_DRIVE": 0, "SPECIAL_SCHD_ACTIVE": 15, "SEASON": 1}
    _exact(CLOCK_STATE_TBL, _config(), clock + bytes.fromhex("0a1f"), {**head, "STATUS": status})
    # one tier: 0x0043 = TIER_DRIVE 1 (<<6), CURR_TIER 3
    single = {"CURR_TIER": 3, "TIER_DRIVE": 1, "SPECIAL_SCHD_ACTIVE": 0, "SEASON": 0}
    config = _config(SEPARATE_SUM_DEMANDS_FLAG=False)
    _exact(CLOCK_STATE_TBL, config, clock + bytes.fromhex("4300"), {**head, "STATUS": single})


def test_st56_hand_built_both_tier_forms() -> None:
    value = {"SUMM_TIER_TIME_REMAIN": 90, "DEMAND_TIER_TIME_REMAIN": 15, "SELF_READ_DAYS_REMAIN": 6}
    _exact(TIME_REMAIN_TBL, _config(), bytes.fromhex("5a00 0f00 06"), value)
    config = _config(SEPARATE_SUM_DEMANDS_FLAG=False)
    _exact(TIME_REMAIN_TBL, config, bytes.fromhex("5a00 06"), {"TIER_TIME_REMAIN": 90, "SELF_READ_DAYS_REMAIN": 6})


@pytest.mark.parametrize("tm_format", [3, 4])
def test_st52_far_future_counters_decode_or_raise_protocol_error(tm_format: int) -> None:
    """A counter of 0xFFFFFFFF minutes (year ~10136) must not leak OverflowError from datetime."""
    layout = bind(CLOCK_TBL, _config(Formats(tm_format=TmFormat(tm_format))))
    octets = bytes.fromhex("ffffffff" + "00" * (layout.size - 4))
    try:
        value = layout.decode(octets)
    except ProtocolError:
        return
    assert layout.encode(value) == octets
