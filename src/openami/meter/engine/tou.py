"""Time-of-use calendar: the tier in force at a local time, in C12.19 ST54's terms.

A `TouCalendar` holds what ST54 CALENDAR_TBL holds (dimensions from ST51):

- ``seasons``: recurring dates (month, day) whose CALENDAR_ACTION starts season s (CALENDAR_CTRL 3 + s);
  the season in force on a date is the one of the latest start on or before it, wrapping over New Year.
  No seasons: season 0 all year.
- ``specials``: dates (recurring when ``year`` is None, else one-off) using special schedule k
  (CALENDAR_CTRL 19 + k) instead of the day's normal schedule.
- ``switches``: TIER_SWITCHES, each (DAY_SCH_NUM, hour, minute, NEW_TIER); a day schedule is the set of
  switches with its DAY_SCH_NUM.
- ``schedule_matrix``: DAILY_SCHEDULE_ID_MATRIX[season] = the day schedule number per day type, in the
  columns SATURDAY, SUNDAY, WEEKDAY (or SATURDAY, SUNDAY, MONDAY … FRIDAY with ``separate_weekdays``,
  ST51's SEPARATE_WEEKDAYS_FLAG), then one column per special schedule.

The tier at a time is the NEW_TIER of the latest switch of that day's schedule at or before the time of
day; before the day's first switch the previous day's last tier continues (tier 0 if that day has no
switches either). Calendar actions take effect at 00:00 local time. Times are integer seconds of local
time since 1970-01-01 00:00 (the meter adds its UTC offset); DST is not modelled.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from openami.meter.engine.errors import EngineError

__all__ = ["SeasonStart", "SpecialDate", "TierSwitch", "TouCalendar"]

DAY_S = 86_400
_EPOCH = dt.date(1970, 1, 1)


def _check_date(month: int, day: int) -> None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise EngineError(f"bad month/day {month}/{day}")


@dataclass(frozen=True, slots=True)
class TierSwitch:
    """One ST54 TIER_SWITCHES entry: at ``hour``:``minute`` of day schedule ``day_schedule``, ``tier`` starts."""

    day_schedule: int
    hour: int
    minute: int
    tier: int

    def __post_init__(self) -> None:
        if not (0 <= self.day_schedule <= 255 and 0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise EngineError(f"bad tier switch {self!r}")
        if not 0 <= self.tier <= 7:
            raise EngineError(f"NEW_TIER is 0..7, got {self.tier}")

    def to_bitfield(self) -> int:
        """ST54 TIER_SWITCH (UINT16): NEW_TIER b0–2, SWITCH_MIN b5–10, SWITCH_HOUR b11–15 (flags b3–4 zero)."""
        return self.tier | self.minute << 5 | self.hour << 11

    @classmethod
    def from_bitfield(cls, value: int, day_schedule: int) -> TierSwitch:
        """From an ST54 TIER_SWITCH value and its DAY_SCH_NUM."""
        return cls(day_schedule, value >> 11 & 0x1F, value >> 5 & 0x3F, value & 0x7)


@dataclass(frozen=True, slots=True)
class SeasonStart:
    """A recurring date (every year, 00:00) on which season ``season`` (0–15) starts."""

    month: int
    day: int
    season: int

    def __post_init__(self) -> None:
        _check_date(self.month, self.day)
        if not 0 <= self.season <= 15:
            raise EngineError(f"season is 0..15, got {self.season}")


@dataclass(frozen=True, slots=True)
class SpecialDate:
    """A date using special schedule ``schedule`` (0–11); every year when ``year`` is None."""

    month: int
    day: int
    schedule: int
    year: int | None = None

    def __post_init__(self) -> None:
        _check_date(self.month, self.day)
        if not 0 <= self.schedule <= 11:
            raise EngineError(f"special schedule is 0..11, got {self.schedule}")

    def matches(self, d: dt.date) -> bool:
        """Whether this special date falls on ``d``."""
        return d.month == self.month and d.day == self.day and (self.year is None or self.year == d.year)


@dataclass(frozen=True)
class TouCalendar:
    """A TOU calendar (see the module doc). Validated on construction."""

    switches: tuple[TierSwitch, ...]
    schedule_matrix: tuple[tuple[int, ...], ...]
    seasons: tuple[SeasonStart, ...] = ()
    specials: tuple[SpecialDate, ...] = ()
    separate_weekdays: bool = False
    _days: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        matrix = tuple(tuple(int(v) for v in row) for row in self.schedule_matrix)
        object.__setattr__(self, "switches", tuple(self.switches))
        object.__setattr__(self, "schedule_matrix", matrix)
        object.__setattr__(self, "seasons", tuple(sorted(self.seasons, key=lambda s: (s.month, s.day))))
        object.__setattr__(self, "specials", tuple(self.specials))
        if not matrix:
            raise EngineError("the schedule matrix needs one row per season")
        base = 7 if self.separate_weekdays else 3
        width = len(matrix[0])
        if width < base or any(len(row) != width for row in matrix) or width - base > 12:
            raise EngineError(f"every matrix row needs {base} day types + 0..12 special schedules")
        if any(not 0 <= v <= 255 for row in matrix for v in row):
            raise EngineError("day schedule numbers are 0..255")
        if any(s.season >= len(matrix) for s in self.seasons):
            raise EngineError("a season start names a season without a matrix row")
        if any(s.schedule >= width - base for s in self.specials):
            raise EngineError("a special date names a special schedule without a matrix column")
        days: dict[int, list[tuple[int, int]]] = {}
        for sw in self.switches:
            days.setdefault(sw.day_schedule, []).append((sw.hour * 3600 + sw.minute * 60, sw.tier))
        table: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        for num, entries in days.items():
            entries.sort()
            if len({t for t, _ in entries}) != len(entries):
                raise EngineError(f"day schedule {num} has two switches at the same minute")
            table[num] = (tuple(t for t, _ in entries), tuple(k for _, k in entries))
        object.__setattr__(self, "_days", table)

    @classmethod
    def flat(cls) -> TouCalendar:
        """One tier (0) all the time."""
        return cls((), ((0, 0, 0),))

    @property
    def max_tier(self) -> int:
        """The highest tier any switch selects (0 without switches)."""
        return max((s.tier for s in self.switches), default=0)

    def season_on(self, d: dt.date) -> int:
        """The season in force on date ``d``."""
        if not self.seasons:
            return 0
        key = (d.month, d.day)
        current = self.seasons[-1].season
        for s in self.seasons:
            if (s.month, s.day) <= key:
                current = s.season
        return current

    def day_schedule_on(self, d: dt.date) -> int:
        """The day schedule number (DAY_SCH_NUM) used on ``d``."""
        base = 7 if self.separate_weekdays else 3
        row = self.schedule_matrix[self.season_on(d)]
        for special in self.specials:
            if special.matches(d):
                return row[base + special.schedule]
        wd = d.weekday()
        if wd == 5:
            return row[0]
        if wd == 6:
            return row[1]
        return row[2 + wd] if self.separate_weekdays else row[2]

    def tier_at(self, local_s: int) -> tuple[int, int]:
        """(tier in force at local time ``local_s``, local time of the next possible change) in s."""
        days, tod = divmod(int(local_s), DAY_S)
        day = _EPOCH + dt.timedelta(days=days)
        secs, tiers = self._days.get(self.day_schedule_on(day), ((), ()))
        k = bisect.bisect_right(secs, tod) - 1
        start = days * DAY_S
        until = start + secs[k + 1] if k + 1 < len(secs) else start + DAY_S
        if k >= 0:
            return tiers[k], until
        prev = self._days.get(self.day_schedule_on(day - dt.timedelta(days=1)), ((), ()))[1]
        return (prev[-1] if prev else 0), until
