"""Decade 5, time and time of use: ST50 DIM_TIME_TOU_TBL … ST56 TIME_REMAIN_TBL.

Layouts (dimensions and flags from ST51 ACT_TIME_TOU_TBL; bit 0 = least significant bit; the sizes of
LTIME_DATE, DATE and TIME follow ST0 TM_FORMAT, see `openami.c1219.timefmt`)::

    ST50/51  TIME_FUNC_FLAG1 UINT8 (TOU_SELF_READ_FLAG b0, SEASON_SELF_READ_FLAG b1, SEASON_DEMAND_RESET_FLAG b2,
                                    SEASON_CHNG_ARMED_FLAG b3, SORT_DATES_FLAG b4, ANCHOR_DATE_FLAG b5)
             TIME_FUNC_FLAG2 UINT8 (CAP_DST_AUTO_FLAG b0, SEPARATE_WEEKDAYS_FLAG b1, SEPARATE_SUM_DEMANDS_FLAG b2,
                                    SORT_TIER_SWITCHES_FLAG b3, CAP_TM_ZN_OFFSET_FLAG b4)
             CALENDAR_FUNC UINT8 (NBR_SEASONS b0–3, NBR_SPECIAL_SCHED b4–7)
             NBR_NON_RECURR_DATES UINT8, NBR_RECURR_DATES UINT8, NBR_TIER_SWITCHES UINT16,
             CALENDAR_TBL_SIZE UINT16                                                    (9 octets)
    ST52     CLOCK_CALENDAR LTIME_DATE, TIME_DATE_QUAL UINT8
    ST53     DST_TIME_EFF TIME, DST_TIME_AMT UINT8 (min), [TIME_ZONE_OFFSET INT16 (min) if CAP_TM_ZN_OFFSET_FLAG],
             [STD_TIME_EFF TIME if ST0 STD_VERSION_NO >= 2]
    ST54     [ANCHOR_DATE DATE if ANCHOR_DATE_FLAG]
             NON_RECURR_DATES[NBR_NON_RECURR_DATES] of {NON_RECURR_DATE DATE, CALENDAR_ACTION UINT8}
             RECURR_DATES[NBR_RECURR_DATES] of {RECURR_DATE RDATE, CALENDAR_ACTION UINT8}
             TIER_SWITCHES[NBR_TIER_SWITCHES] of {TIER_SWITCH UINT16, DAY_SCH_NUM UINT8}
             DAILY_SCHEDULE_ID_MATRIX[NBR_SEASONS][(7 if SEPARATE_WEEKDAYS_FLAG else 3) + NBR_SPECIAL_SCHED] UINT8
    ST55     CLOCK_CALENDAR LTIME_DATE, TIME_DATE_QUAL UINT8, STATUS UINT16
    ST56     TIER_TIME_REMAIN UINT16 (min)  — or SUMM_TIER_TIME_REMAIN, DEMAND_TIER_TIME_REMAIN UINT16 (min) when
             SEPARATE_SUM_DEMANDS_FLAG —, SELF_READ_DAYS_REMAIN UINT8 (days)

CALENDAR_ACTION: CALENDAR_CTRL b0–4 (0 none, 1 DST on, 2 DST off, 3–18 season 0–15, 19–30 special schedule
0–11, 31 end of list), DEMAND_RESET_FLAG b5, SELF_READ_FLAG b6; actions happen at 00:00 of the date.
TIER_SWITCH: NEW_TIER b0–2, SUMMATION_SWITCH_FLAG b3, DEMANDS_SWITCH_FLAG b4 (both used only with
SEPARATE_SUM_DEMANDS_FLAG), SWITCH_MIN b5–10, SWITCH_HOUR b11–15; DAY_SCH_NUM is the day type the switch
belongs to (the values held in DAILY_SCHEDULE_ID_MATRIX). Matrix columns per season: SATURDAY, SUNDAY,
WEEKDAY — or SATURDAY, SUNDAY, MONDAY … FRIDAY with SEPARATE_WEEKDAYS_FLAG — then the special schedules.

Sources: c12-protocol-facts.md §7 (ST51, ST52, ST55) and the research notes §3 (ST53–ST56 from a
Landis+Gyr firmware header with the standard's names and comments, Itron's and Hexing's head-end
decoders, the Microchip MM100 demo; ST52's DST_SUPPORTED_FLAG b7 from the 2008 text quoted by NIST
n0mcli). DATE under TM_FORMAT 3/4 is an openami choice (see `openami.c1219.timefmt`).
"""

from __future__ import annotations

from openami.c1219.schema import (
    DATE,
    INT16,
    LTIME_DATE,
    RDATE,
    TIME,
    UINT8,
    UINT16,
    ArrayOf,
    Bit,
    BitField,
    Field,
    If,
    Record,
    Table,
)

__all__ = [
    "ACT_TIME_TOU_TBL",
    "CALENDAR_ACTION_BFLD",
    "CALENDAR_TBL",
    "CLOCK_STATE_TBL",
    "CLOCK_TBL",
    "DIM_TIME_TOU_TBL",
    "TABLES",
    "TIER_SWITCH_BFLD",
    "TIME_DATE_QUAL_BFLD",
    "TIME_OFFSET_TBL",
    "TIME_REMAIN_TBL",
    "TIME_TOU_RCD",
]

ACT = "ACT_TIME_TOU_TBL"
_F1 = f"{ACT}.TIME_FUNC_FLAG1"
_F2 = f"{ACT}.TIME_FUNC_FLAG2"
_CAL = f"{ACT}.CALENDAR_FUNC"

TIME_TOU_RCD = Record(
    Field(
        "TIME_FUNC_FLAG1",
        BitField(
            UINT8,
            Bit("TOU_SELF_READ_FLAG", 0, doc="self read on TOU events"),
            Bit("SEASON_SELF_READ_FLAG", 1, doc="self read on a season change"),
            Bit("SEASON_DEMAND_RESET_FLAG", 2, doc="demand reset on a season change"),
            Bit("SEASON_CHNG_ARMED_FLAG", 3, doc="season change waits for the next demand reset"),
            Bit("SORT_DATES_FLAG", 4, doc="NON_RECURR_DATES must be sorted by date"),
            Bit("ANCHOR_DATE_FLAG", 5, doc="ST54 carries ANCHOR_DATE (for periodic RDATEs)"),
        ),
    ),
    Field(
        "TIME_FUNC_FLAG2",
        BitField(
            UINT8,
            Bit("CAP_DST_AUTO_FLAG", 0, doc="DST changes without ST54 dates"),
            Bit("SEPARATE_WEEKDAYS_FLAG", 1, doc="a schedule per weekday (7 day columns, else 3)"),
            Bit("SEPARATE_SUM_DEMANDS_FLAG", 2, doc="summation and demand tiers switch independently"),
            Bit("SORT_TIER_SWITCHES_FLAG", 3, doc="TIER_SWITCHES must be sorted"),
            Bit("CAP_TM_ZN_OFFSET_FLAG", 4, doc="ST53 carries TIME_ZONE_OFFSET"),
        ),
    ),
    Field("CALENDAR_FUNC", BitField(UINT8, Bit("NBR_SEASONS", 0, 3), Bit("NBR_SPECIAL_SCHED", 4, 7))),
    Field("NBR_NON_RECURR_DATES", UINT8),
    Field("NBR_RECURR_DATES", UINT8),
    Field("NBR_TIER_SWITCHES", UINT16, "tier switches of all day types together"),
    Field("CALENDAR_TBL_SIZE", UINT16, "size of ST54 (the anchor date counted even if unused)", unit="octet"),
)
"""The 9-octet record shared by ST50 (maximum capabilities) and ST51 (values in use)."""

_LIMITS_SOURCE = "c12-protocol-facts.md §7 ST51; Landis+Gyr header and C12Adapter-based reader agree (9 octets)"

DIM_TIME_TOU_TBL = Table(50, "DIM_TIME_TOU_TBL", TIME_TOU_RCD, title="Dimension time and TOU", source=_LIMITS_SOURCE)
ACT_TIME_TOU_TBL = Table(51, ACT, TIME_TOU_RCD, title="Actual time and TOU", source=_LIMITS_SOURCE)

TIME_DATE_QUAL_BFLD = BitField(
    UINT8,
    Bit("DAY_OF_WEEK", 0, 2, doc="0 Sunday … 6 Saturday, 7 not given"),
    Bit("DST_FLAG", 3, doc="daylight saving time in effect"),
    Bit("GMT_FLAG", 4, doc="the time is UTC"),
    Bit("TM_ZN_APPLIED_FLAG", 5, doc="the time zone offset is applied"),
    Bit("DST_APPLIED_FLAG", 6, doc="the DST offset is applied"),
    Bit("DST_SUPPORTED_FLAG", 7, doc="2008 edition; filler (0) before"),
)
"""Qualifiers of a clock value (ST52, ST55, SP10 SET_DATE_TIME)."""

CLOCK_TBL = Table(
    52,
    "CLOCK_TBL",
    Record(
        Field("CLOCK_CALENDAR", LTIME_DATE, "the device's present date and time"),
        Field("TIME_DATE_QUAL", TIME_DATE_QUAL_BFLD),
    ),
    title="Clock",
    source="c12-protocol-facts.md §7; research notes §1 (TIME_DATE_QUAL b7 from the 2008 text, NIST n0mcli)",
)

TIME_OFFSET_TBL = Table(
    53,
    "TIME_OFFSET_TBL",
    Record(
        Field("DST_TIME_EFF", TIME, "time of day of the DST change (dates from ST54 or CAP_DST_AUTO_FLAG)"),
        Field("DST_TIME_AMT", UINT8, "DST shift", unit="min"),
        If(f"{_F2}.CAP_TM_ZN_OFFSET_FLAG", Field("TIME_ZONE_OFFSET", INT16, "e.g. -360 = UTC-6", unit="min")),
        If("GEN_CONFIG_TBL.STD_VERSION_NO >= 2", Field("STD_TIME_EFF", TIME, "time of day DST ends (2008)")),
    ),
    title="Time offset",
    source=(
        "research notes §3 ST53 (Landis+Gyr header, Itron size rule, MM100 11-octet instance with TM 4; "
        "STD_TIME_EFF only when STD_VERSION_NO >= 2 per a public C# reader — medium confidence)"
    ),
)

CALENDAR_ACTION_BFLD = BitField(
    UINT8,
    Bit("CALENDAR_CTRL", 0, 4, doc="0 none, 1 DST on, 2 DST off, 3–18 season 0–15, 19–30 special 0–11, 31 end"),
    Bit("DEMAND_RESET_FLAG", 5, doc="demand reset at 00:00 of the date"),
    Bit("SELF_READ_FLAG", 6, doc="self read at 00:00 of the date"),
)
"""What happens on a calendar date (ST54)."""

TIER_SWITCH_BFLD = BitField(
    UINT16,
    Bit("NEW_TIER", 0, 2, doc="the tier that becomes active"),
    Bit("SUMMATION_SWITCH_FLAG", 3, doc="switches the summation tier (SEPARATE_SUM_DEMANDS_FLAG only)"),
    Bit("DEMANDS_SWITCH_FLAG", 4, doc="switches the demand tier (SEPARATE_SUM_DEMANDS_FLAG only)"),
    Bit("SWITCH_MIN", 5, 10, doc="minute of the switch"),
    Bit("SWITCH_HOUR", 11, 15, doc="hour of the switch"),
)
"""A tier switch within a day (ST54)."""

CALENDAR_TBL = Table(
    54,
    "CALENDAR_TBL",
    Record(
        If(f"{_F1}.ANCHOR_DATE_FLAG", Field("ANCHOR_DATE", DATE, "start of periodic recurring dates")),
        Field(
            "NON_RECURR_DATES",
            ArrayOf(
                Record(Field("NON_RECURR_DATE", DATE), Field("CALENDAR_ACTION", CALENDAR_ACTION_BFLD)),
                f"{ACT}.NBR_NON_RECURR_DATES",
            ),
        ),
        Field(
            "RECURR_DATES",
            ArrayOf(
                Record(Field("RECURR_DATE", RDATE), Field("CALENDAR_ACTION", CALENDAR_ACTION_BFLD)),
                f"{ACT}.NBR_RECURR_DATES",
            ),
        ),
        Field(
            "TIER_SWITCHES",
            ArrayOf(
                Record(
                    Field("TIER_SWITCH", TIER_SWITCH_BFLD),
                    Field("DAY_SCH_NUM", UINT8, "the day type this switch belongs to"),
                ),
                f"{ACT}.NBR_TIER_SWITCHES",
            ),
        ),
        If(
            f"{_F2}.SEPARATE_WEEKDAYS_FLAG",
            Field(
                "DAILY_SCHEDULE_ID_MATRIX",
                ArrayOf(ArrayOf(UINT8, f"7 + {_CAL}.NBR_SPECIAL_SCHED"), f"{_CAL}.NBR_SEASONS"),
                "per season: SATURDAY, SUNDAY, MONDAY … FRIDAY, then the special schedules",
            ),
            orelse=(
                Field(
                    "DAILY_SCHEDULE_ID_MATRIX",
                    ArrayOf(ArrayOf(UINT8, f"3 + {_CAL}.NBR_SPECIAL_SCHED"), f"{_CAL}.NBR_SEASONS"),
                    "per season: SATURDAY, SUNDAY, WEEKDAY, then the special schedules",
                ),
            ),
        ),
    ),
    title="Calendar",
    source=(
        "research notes §3 ST54 (Landis+Gyr header, Itron C1219_CalendarRcd, Hexing Table54 with sample "
        "octets); RDATE members in openami.c1219.schema; DATE under TM 3/4 an openami choice"
    ),
)

_STATUS_TAIL = (
    Bit("TIER_DRIVE", 6, 7, doc="0 tiers follow TIER_SWITCHES, 1–3 not controlled by the standard"),
    Bit("SPECIAL_SCHD_ACTIVE", 8, 11, doc="0–11 active special schedule, 15 none"),
    Bit("SEASON", 12, 15, doc="present season"),
)

CLOCK_STATE_TBL = Table(
    55,
    "CLOCK_STATE_TBL",
    Record(
        Field("CLOCK_CALENDAR", LTIME_DATE, "the device's present date and time"),
        Field("TIME_DATE_QUAL", TIME_DATE_QUAL_BFLD),
        If(
            f"{_F2}.SEPARATE_SUM_DEMANDS_FLAG",
            Field(
                "STATUS",
                BitField(UINT16, Bit("CURR_SUMM_TIER", 0, 2), Bit("CURR_DEMAND_TIER", 3, 5), *_STATUS_TAIL),
            ),
            orelse=(Field("STATUS", BitField(UINT16, Bit("CURR_TIER", 0, 2), *_STATUS_TAIL)),),
        ),
    ),
    title="Clock state",
    source="c12-protocol-facts.md §7 ST55; research notes §3 (Landis+Gyr header: the separate-tier form)",
)

TIME_REMAIN_TBL = Table(
    56,
    "TIME_REMAIN_TBL",
    Record(
        If(
            f"{_F2}.SEPARATE_SUM_DEMANDS_FLAG",
            Field("SUMM_TIER_TIME_REMAIN", UINT16, "until the next summation tier change", unit="min"),
            Field("DEMAND_TIER_TIME_REMAIN", UINT16, "until the next demand tier change", unit="min"),
            orelse=(Field("TIER_TIME_REMAIN", UINT16, "until the next tier change", unit="min"),),
        ),
        Field("SELF_READ_DAYS_REMAIN", UINT8, "until the next scheduled self read", unit="day"),
    ),
    title="Time remaining",
    source="research notes §3 ST56 (Landis+Gyr header; the C12Adapter-based reader agrees)",
)

TABLES = (
    DIM_TIME_TOU_TBL,
    ACT_TIME_TOU_TBL,
    CLOCK_TBL,
    TIME_OFFSET_TBL,
    CALENDAR_TBL,
    CLOCK_STATE_TBL,
    TIME_REMAIN_TBL,
)
