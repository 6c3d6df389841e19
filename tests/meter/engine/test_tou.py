"""TOU calendar: tiers at switch boundaries, weekdays/weekends, seasons, special dates, carry-over from
the previous day, ST54 bit fields, and the engine's tier registers switching on time."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.meter.engine import (
    EngineConfig,
    EngineError,
    Register,
    SeasonStart,
    SpecialDate,
    TierSwitch,
    TouCalendar,
    resistive_load,
)

from .support import T0, engine

H = 3600


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> int:
    return int(dt.datetime(y, m, d, hh, mm, ss, tzinfo=dt.UTC).timestamp())


# day schedules: 0 weekday (off-peak 0, peak 2 from 17:00 to 21:00, shoulder 1 from 07:00), 1 weekend
# (tier 0 all day), 2 holiday (tier 3 from 10:00); seasons: 0 winter, 1 summer (May 1 – Oct 1)
WEEKDAY = (TierSwitch(0, 0, 0, 0), TierSwitch(0, 7, 0, 1), TierSwitch(0, 17, 0, 2), TierSwitch(0, 21, 0, 0))
SUMMER = (TierSwitch(3, 0, 0, 0), TierSwitch(3, 14, 30, 2), TierSwitch(3, 19, 0, 0))
HOLIDAY = (TierSwitch(2, 10, 0, 3),)
CAL = TouCalendar(
    switches=(*WEEKDAY, TierSwitch(1, 0, 0, 0), *HOLIDAY, *SUMMER),
    # columns: SATURDAY, SUNDAY, WEEKDAY, special 0
    schedule_matrix=((1, 1, 0, 2), (1, 1, 3, 2)),
    seasons=(SeasonStart(5, 1, 1), SeasonStart(10, 1, 0)),
    specials=(SpecialDate(12, 25, 0), SpecialDate(7, 5, 0, year=2024)),
)


@pytest.mark.parametrize(
    ("when", "tier"),
    [
        (local(2024, 1, 8, 6, 59, 59), 0),  # Monday, winter
        (local(2024, 1, 8, 7, 0, 0), 1),
        (local(2024, 1, 8, 16, 59, 59), 1),
        (local(2024, 1, 8, 17, 0, 0), 2),
        (local(2024, 1, 8, 20, 59, 59), 2),
        (local(2024, 1, 8, 21, 0, 0), 0),
        (local(2024, 1, 13, 18, 0, 0), 0),  # Saturday
        (local(2024, 1, 14, 18, 0, 0), 0),  # Sunday
        (local(2024, 6, 3, 15, 0, 0), 2),  # Monday, summer
        (local(2024, 6, 3, 17, 30, 0), 2),
        (local(2024, 6, 3, 19, 0, 0), 0),
        (local(2024, 4, 30, 15, 0, 0), 1),  # last day of winter
        (local(2024, 10, 1, 15, 0, 0), 1),  # winter again
        (local(2024, 12, 25, 9, 59, 59), 0),  # holiday before its first switch: Dec 24's last tier (0)
        (local(2024, 12, 25, 10, 0, 0), 3),
        (local(2024, 7, 5, 12, 0, 0), 3),  # one-off special date
    ],
)
def test_tier_at(when: int, tier: int) -> None:
    assert CAL.tier_at(when)[0] == tier


def test_one_off_special_date_applies_only_in_its_year() -> None:
    assert CAL.tier_at(local(2025, 7, 4, 12))[0] == 0  # Friday, summer, 12:00 (before 14:30)
    assert CAL.tier_at(local(2024, 7, 5, 12))[0] == 3
    assert CAL.tier_at(local(2025, 7, 5, 12))[0] == 0  # Saturday 2025, no special


def test_carry_over_from_the_previous_day() -> None:
    cal = TouCalendar((TierSwitch(0, 22, 0, 1), TierSwitch(0, 6, 0, 0)), ((0, 0, 0),))
    assert cal.tier_at(local(2024, 3, 5, 3))[0] == 1  # 22:00 yesterday → night tier
    assert cal.tier_at(local(2024, 3, 5, 6))[0] == 0
    empty = TouCalendar((TierSwitch(0, 8, 0, 2),), ((1, 1, 0),))
    assert empty.tier_at(local(2024, 3, 4, 7))[0] == 0  # Monday 07:00, Sunday has no switches
    assert empty.tier_at(local(2024, 3, 5, 7))[0] == 2  # Tuesday 07:00, Monday ended in tier 2


def test_separate_weekdays() -> None:
    cal = TouCalendar(
        (TierSwitch(0, 0, 0, 0), TierSwitch(5, 0, 0, 1), TierSwitch(6, 0, 0, 2)),
        ((6, 6, 0, 0, 5, 0, 0),),  # SAT, SUN, MON, TUE, WED, THU, FRI
        separate_weekdays=True,
    )
    days = [cal.tier_at(local(2024, 1, d, 12))[0] for d in range(8, 15)]  # Mon 8 … Sun 14
    assert days == [0, 0, 1, 0, 0, 2, 2]


@settings(max_examples=150, deadline=None)
@given(st.integers(local(2023, 1, 1), local(2026, 12, 31)))
def test_tier_is_constant_until_the_reported_change(t: int) -> None:
    tier, until = CAL.tier_at(t)
    assert t < until <= t + 86_400
    assert CAL.tier_at(until - 1)[0] == tier
    assert CAL.tier_at((t + until) // 2)[0] == tier


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 7), st.integers(0, 255))
def test_tier_switch_bitfield_round_trip(hour: int, minute: int, tier: int, day: int) -> None:
    sw = TierSwitch(day, hour, minute, tier)
    value = sw.to_bitfield()
    assert 0 <= value <= 0xFFFF
    assert value & 0x7 == tier and value >> 5 & 0x3F == minute and value >> 11 == hour  # ST54 layout
    assert TierSwitch.from_bitfield(value, day) == sw


def test_engine_tiers_switch_at_boundaries() -> None:
    cal = TouCalendar((TierSwitch(0, 0, 0, 0), TierSwitch(0, 0, 10, 1), TierSwitch(0, 0, 20, 2)), ((0, 0, 0),))
    eng = engine(EngineConfig(calendar=cal, tiers=3), mode="fast")
    load = resistive_load(3600.0, 220.0)  # 1 Wh per second = 1000 mWh
    eng.advance(T0 + 599, load)
    assert eng.tier == 0
    eng.advance(T0 + 600, load)
    assert eng.tier == 1
    eng.advance(T0 + 1500, load)
    regs = eng.registers
    assert [regs.value(Register.WH_DELIVERED, k) for k in range(3)] == [600_000, 600_000, 300_000]
    assert regs.value(Register.WH_DELIVERED) == 1_500_000


def test_utc_offset_shifts_the_local_day() -> None:
    cal = TouCalendar((TierSwitch(0, 0, 0, 0), TierSwitch(0, 1, 0, 1)), ((0, 0, 0),))
    eng = engine(EngineConfig(calendar=cal, tiers=2, utc_offset_s=-3600), mode="fast")
    assert eng.tier == 1  # T0 is 23:00 local the day before
    eng.advance(T0 + 3600, resistive_load(100.0, 220.0))
    assert eng.tier == 0


def test_set_clock_changes_the_tier_at_once() -> None:
    cal = TouCalendar((TierSwitch(0, 0, 0, 0), TierSwitch(0, 12, 0, 1)), ((0, 0, 0),))
    eng = engine(EngineConfig(calendar=cal, tiers=2), mode="fast")
    assert eng.tier == 0
    eng.set_clock(T0 + 13 * H)
    assert eng.tier == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: TierSwitch(0, 24, 0, 0),
        lambda: TierSwitch(0, 0, 60, 0),
        lambda: TierSwitch(0, 0, 0, 8),
        lambda: SeasonStart(13, 1, 0),
        lambda: SeasonStart(1, 1, 16),
        lambda: SpecialDate(1, 32, 0),
        lambda: TouCalendar((), ()),
        lambda: TouCalendar((), ((0, 0),)),
        lambda: TouCalendar((), ((0, 0, 0),), seasons=(SeasonStart(1, 1, 1),)),
        lambda: TouCalendar((), ((0, 0, 0),), specials=(SpecialDate(1, 1, 0),)),
        lambda: TouCalendar((TierSwitch(0, 1, 0, 1), TierSwitch(0, 1, 0, 2)), ((0, 0, 0),)),
        lambda: EngineConfig(calendar=TouCalendar((TierSwitch(0, 1, 0, 5),), ((0, 0, 0),)), tiers=4),
    ],
)
def test_bad_calendars(make: object) -> None:
    with pytest.raises(EngineError):
        make()  # type: ignore[operator]


def test_flat_calendar() -> None:
    flat = TouCalendar.flat()
    assert flat.tier_at(T0) == (0, T0 + 86_400) and flat.max_tier == 0
