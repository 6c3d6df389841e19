"""Decade 11, load control and pricing: ST110 DIM_LOAD_CONTROL_TBL … ST118 BILLING_CONTROL_TBL.

No public source gives these layouts field by field (the research notes found none for ST110–ST118):
every table here is written from knowledge of C12.19-2008 decade 11 and is to be checked against the
standard. They are designed as one coherent set for openami's price-driven load-control engine:

- ST110 (limits) / ST111 ACT_LOAD_CONTROL_TBL (actual) give every count and capability flag the other
  tables use: no dimension or IF in the decade refers to any other table (ST0 gives only the formats).
- A *control point* is one controllable load: the service disconnect switch, a load relay, or a HAN
  appliance reached by its ApTitle. ST113 holds its policy (priority, interruptible, rated and maximum
  load, price limit, minimum on/off times, daily run time before a deadline), ST112 its live state.
- ST114 schedules and ST115 conditions (price, tier, demand, load or credit against a threshold) drive
  control points; SP21 (direct load control) drives them by command; prepayment (ST116/ST117, SP22)
  opens the points flagged for it when credit runs out. ST112 says which of these set each point
  (`ControlSource`, matching event codes 49–52).
- ST118 holds the prices the head-end publishes: a currency, a price per TOU tier (optionally per
  consumption block), a standing charge and when the prices take effect.

Units: power in W, energy in kWh, money in the ST118 currency's major unit, levels in % (0 = off or
fully shed, 100 = on), durations as marked. NI_FMAT1 / NI_FMAT2 follow ST0 NI_FORMAT1 / NI_FORMAT2.
"""

from __future__ import annotations

from enum import IntEnum

from openami.c1219.schema import (
    BINARY,
    NI_FMAT1,
    NI_FMAT2,
    STIME_DATE,
    TIME,
    UINT8,
    UINT16,
    ArrayOf,
    Bit,
    BitField,
    Field,
    If,
    Record,
    SetOf,
    Table,
)

__all__ = [
    "ACT_LOAD_CONTROL_TBL",
    "BILLING_CONTROL_TBL",
    "DIM_LOAD_CONTROL_TBL",
    "LOAD_CONTROL_CONDITIONS_TBL",
    "LOAD_CONTROL_CONFIG_TBL",
    "LOAD_CONTROL_SCHEDULE_TBL",
    "LOAD_CONTROL_STATUS_TBL",
    "PREPAYMENT_CONTROL_TBL",
    "PREPAYMENT_STATUS_TBL",
    "TABLES",
    "Comparison",
    "ConditionSource",
    "ControlPointType",
    "ControlSource",
    "CreditAction",
    "compare",
]

ACT = "ACT_LOAD_CONTROL_TBL"
FLAGS = f"{ACT}.LOAD_CONTROL_FLAGS"
SOURCE = "from knowledge of C12.19-2008 decade 11; to be checked against the standard"
ALL_CONTROL_POINTS = 255
"""CONTROL_POINT value (ST114, SP21) meaning every control point."""
NO_SOURCE = 255
"""SOURCE_INDEX / LOAD_SOURCE_SELECT value meaning none."""


class ControlSource(IntEnum):
    """ST112 CONTROL_SOURCE: what set a control point's present level."""

    NONE = 0  # default state (ST113 DEFAULT_ON_FLAG)
    COMMAND = 1  # SP21 direct load control (event 49)
    SCHEDULE = 2  # an ST114 entry (event 50)
    CONDITION = 3  # an ST115 condition (event 51)
    PREPAYMENT = 4  # credit exhausted (event 52)
    CUSTOMER_OVERRIDE = 5
    DEMAND_LIMIT = 6  # ST113 MAX_LOAD exceeded


class ControlPointType(IntEnum):
    """ST113 CONTROL_POINT_TYPE."""

    UNSPECIFIED = 0
    SERVICE_DISCONNECT = 1
    LOAD_RELAY = 2
    HAN_DEVICE = 3
    THERMOSTAT = 4
    WATER_HEATER = 5
    EV_CHARGER = 6
    POOL_PUMP = 7


class ConditionSource(IntEnum):
    """ST115 CONDITION_SOURCE: the value a condition watches, and the unit of its THRESHOLD."""

    PRICE = 0  # price in effect (ST112 CURRENT_PRICE), currency/kWh
    PRICE_TIER = 1  # price tier in effect (ST112 CURRENT_PRICE_TIER), tier number
    DEMAND = 2  # present demand of ST16 source SOURCE_INDEX, W
    TOTAL_LOAD = 3  # ST112 TOTAL_LOAD, W
    REMAINING_CREDIT = 4  # ST116 REMAINING_CREDIT, currency
    CONTROL_POINT_LOAD = 5  # ST112 PRESENT_LOAD of control point SOURCE_INDEX, W


class Comparison(IntEnum):
    """ST115 CONDITION_FLAGS.COMPARISON: ``value <op> THRESHOLD`` makes the condition true."""

    GT = 0
    GE = 1
    LT = 2
    LE = 3
    EQ = 4
    NE = 5


class CreditAction(IntEnum):
    """ST116 CREDIT_ACTION and SP22 ACTION (events 53 added, 54 subtracted, 55 adjusted)."""

    ADD = 0
    SUBTRACT = 1
    SET = 2


def compare(comparison: Comparison, value: float, threshold: float) -> bool:
    """Whether ``value`` stands in ``comparison`` to ``threshold`` (an ST115 condition's test)."""
    if comparison == Comparison.GT:
        return value > threshold
    if comparison == Comparison.GE:
        return value >= threshold
    if comparison == Comparison.LT:
        return value < threshold
    if comparison == Comparison.LE:
        return value <= threshold
    if comparison == Comparison.EQ:
        return value == threshold
    return value != threshold


def _days(*, prefix: str = "") -> BitField:
    names = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")
    return BitField(UINT8, *(Bit(f"{prefix}{name}_FLAG", i) for i, name in enumerate(names)))


def _limiting_record() -> Record:
    return Record(
        Field(
            "LOAD_CONTROL_FLAGS",
            BitField(
                UINT16,
                Bit("DIRECT_LOAD_CONTROL_FLAG", 0, doc="SP21 accepted"),
                Bit("SCHEDULE_CONTROL_FLAG", 1, doc="ST114 schedules drive control points"),
                Bit("CONDITION_CONTROL_FLAG", 2, doc="ST115 conditions drive control points"),
                Bit("PREPAYMENT_FLAG", 3, doc="ST116/ST117 used, SP22 accepted"),
                Bit("BILLING_CONTROL_FLAG", 4, doc="ST118 prices used; ST112 shows the price in effect"),
                Bit("LEVEL_CONTROL_FLAG", 5, doc="levels 1..99 % allowed (else only 0 and 100)"),
                Bit("LOAD_MEASUREMENT_FLAG", 6, doc="ST112 carries measured loads"),
                Bit("DEMAND_LIMIT_FLAG", 7, doc="ST113 carries MAX_LOAD per control point"),
                Bit("REMOTE_CONTROL_POINT_FLAG", 8, doc="ST113 carries the ApTitle of remote (HAN) points"),
                Bit("RANDOMIZATION_FLAG", 9, doc="ST114 entries carry randomization windows"),
                Bit("EMERGENCY_CREDIT_FLAG", 10, doc="ST116/ST117 carry emergency credit"),
                Bit("DEBT_RECOVERY_FLAG", 11, doc="ST116/ST117 carry debt and its recovery"),
                Bit("STANDING_CHARGE_FLAG", 12, doc="ST118 carries a daily standing charge"),
                Bit("BLOCK_PRICING_FLAG", 13, doc="ST118 prices per consumption block within a tier"),
            ),
        ),
        Field("NBR_CONTROL_POINTS", UINT8, "ST112/ST113 entries"),
        Field("NBR_SCHEDULE_ENTRIES", UINT8, "ST114 entries"),
        Field("NBR_CONDITIONS", UINT8, "ST115 entries"),
        Field("NBR_PRICE_TIERS", UINT8, "ST118 tiers (TOU tier numbers 0..n-1)"),
        Field("NBR_PRICE_BLOCKS", UINT8, "ST118 blocks per tier when BLOCK_PRICING_FLAG"),
        Field("NBR_CREDIT_ENTRIES", UINT8, "ST116 credit history entries"),
    )


DIM_LOAD_CONTROL_TBL = Table(
    110, "DIM_LOAD_CONTROL_TBL", _limiting_record(), title="Dimension load control limiting", source=SOURCE
)

ACT_LOAD_CONTROL_TBL = Table(111, ACT, _limiting_record(), title="Actual load control limiting", source=SOURCE)

LOAD_CONTROL_STATUS_TBL = Table(
    112,
    "LOAD_CONTROL_STATUS_TBL",
    Record(
        If(
            f"{FLAGS}.BILLING_CONTROL_FLAG",
            Field("CURRENT_PRICE_TIER", UINT8, "index into ST118 TIER_PRICES in effect"),
            Field("CURRENT_PRICE", NI_FMAT1, "energy price in effect", unit="currency/kWh"),
        ),
        If(f"{FLAGS}.LOAD_MEASUREMENT_FLAG", Field("TOTAL_LOAD", NI_FMAT2, "premise demand now", unit="W")),
        Field(
            "CONTROL_POINT_STATUS",
            ArrayOf(
                Record(
                    Field(
                        "STATUS_FLAGS",
                        BitField(
                            UINT8,
                            Bit("SUPPLY_ON_FLAG", 0, doc="the load is supplied (level > 0)"),
                            Bit("OVERRIDE_ACTIVE_FLAG", 1, doc="the customer overrode the control"),
                            Bit("COMMAND_FAILED_FLAG", 2, doc="the last change was not confirmed (remote point)"),
                            Bit("RECONNECT_ARMED_FLAG", 3, doc="waiting for the customer to reconnect"),
                            Bit("DEMAND_LIMIT_EXCEEDED_FLAG", 4, doc="load above ST113 MAX_LOAD"),
                        ),
                    ),
                    Field("CONTROL_LEVEL", UINT8, "0 off / fully shed … 100 on", unit="%"),
                    Field("CONTROL_SOURCE", UINT8, "`ControlSource` that set the level"),
                    Field("SOURCE_INDEX", UINT8, "ST114 entry or ST115 condition that set it; 255 none"),
                    Field("LAST_CHANGE", STIME_DATE, "when the level last changed"),
                    Field("REMAINING_DURATION", UINT16, "until the control ends; 0 = open-ended", unit="min"),
                    If(f"{FLAGS}.LOAD_MEASUREMENT_FLAG", Field("PRESENT_LOAD", NI_FMAT2, unit="W")),
                ),
                f"{ACT}.NBR_CONTROL_POINTS",
            ),
        ),
    ),
    title="Load control status",
    source=SOURCE,
)

LOAD_CONTROL_CONFIG_TBL = Table(
    113,
    "LOAD_CONTROL_CONFIG_TBL",
    Record(
        Field(
            "CONTROL_POINT_CONFIG",
            ArrayOf(
                Record(
                    Field(
                        "CONTROL_POINT_FLAGS",
                        BitField(
                            UINT8,
                            Bit("CONTROL_ENABLED_FLAG", 0),
                            Bit("INTERRUPTIBLE_FLAG", 1, doc="price, demand and conditions may shed it"),
                            Bit("CUSTOMER_OVERRIDE_FLAG", 2, doc="the customer may override a shed"),
                            Bit("DEFAULT_ON_FLAG", 3, doc="level 100 when no control applies, else 0"),
                            Bit("PREPAYMENT_DISCONNECT_FLAG", 4, doc="opened when the credit is exhausted"),
                            Bit("MANUAL_RECONNECT_FLAG", 5, doc="after a disconnect, the customer recloses"),
                        ),
                    ),
                    Field("CONTROL_POINT_TYPE", UINT8, "`ControlPointType`"),
                    Field("PRIORITY", UINT8, "0 is shed first, 255 last"),
                    Field("LOAD_SOURCE_SELECT", UINT8, "ST16 source measuring this load; 255 none"),
                    Field("RATED_LOAD", NI_FMAT1, "nominal load when on", unit="W"),
                    If(
                        f"{FLAGS}.DEMAND_LIMIT_FLAG",
                        Field("MAX_LOAD", NI_FMAT1, "shed while its load exceeds this; 0 = no limit", unit="W"),
                    ),
                    Field("PRICE_LIMIT", NI_FMAT1, "shed while the price exceeds this; 0 = none", unit="currency/kWh"),
                    Field("MIN_ON_TIME", UINT16, "shortest run once switched on", unit="s"),
                    Field("MIN_OFF_TIME", UINT16, "shortest pause once switched off", unit="s"),
                    Field("MAX_OFF_TIME", UINT16, "longest shed; 0 = no limit", unit="min"),
                    Field("REQUIRED_RUN_TIME", UINT16, "run time needed each day before DEADLINE", unit="min"),
                    Field("DEADLINE", TIME, "time of day by which REQUIRED_RUN_TIME must be done"),
                    If(
                        f"{FLAGS}.REMOTE_CONTROL_POINT_FLAG",
                        Field("NODE_APTITLE", BINARY(20), "remote point's ApTitle (BER, zero-padded); 0 = local"),
                    ),
                ),
                f"{ACT}.NBR_CONTROL_POINTS",
            ),
        ),
    ),
    title="Load control configuration",
    source=SOURCE,
)

LOAD_CONTROL_SCHEDULE_TBL = Table(
    114,
    "LOAD_CONTROL_SCHEDULE_TBL",
    Record(
        Field(
            "SCHEDULE_ENTRIES",
            ArrayOf(
                Record(
                    Field("CONTROL_POINT", UINT8, "index into ST113; 255 = every control point"),
                    Field(
                        "SCHEDULE_FLAGS",
                        BitField(
                            UINT8,
                            Bit("ENTRY_ENABLED_FLAG", 0),
                            Bit("RECURRING_FLAG", 1, doc="repeat at START_TIME's time of day on DAYS_OF_WEEK"),
                            Bit("OVERRIDABLE_FLAG", 2, doc="the customer may override this entry"),
                        ),
                    ),
                    Field("DAYS_OF_WEEK", _days(), "days a recurring entry runs"),
                    Field("START_TIME", STIME_DATE, "first (or only) start"),
                    Field("DURATION", UINT16, "0 = until the next entry for the point", unit="min"),
                    Field("CONTROL_LEVEL", UINT8, unit="%"),
                    If(
                        f"{FLAGS}.RANDOMIZATION_FLAG",
                        Field("START_RANDOMIZATION", UINT8, "random delay of the start, 0..this", unit="min"),
                        Field("END_RANDOMIZATION", UINT8, "random delay of the end, 0..this", unit="min"),
                    ),
                ),
                f"{ACT}.NBR_SCHEDULE_ENTRIES",
            ),
        ),
    ),
    title="Load control schedule",
    source=SOURCE,
)

LOAD_CONTROL_CONDITIONS_TBL = Table(
    115,
    "LOAD_CONTROL_CONDITIONS_TBL",
    Record(
        Field(
            "CONDITIONS",
            ArrayOf(
                Record(
                    Field(
                        "CONDITION_FLAGS",
                        BitField(
                            UINT8,
                            Bit("CONDITION_ENABLED_FLAG", 0),
                            Bit("COMPARISON", 1, 3, doc="`Comparison`"),
                            Bit("AUTO_RESTORE_FLAG", 4, doc="release the points when the condition clears"),
                        ),
                    ),
                    Field("CONDITION_SOURCE", UINT8, "`ConditionSource`"),
                    Field("SOURCE_INDEX", UINT8, "ST16 source or control point watched; 255 none"),
                    Field("THRESHOLD", NI_FMAT1, "in the unit of CONDITION_SOURCE"),
                    Field("HYSTERESIS", NI_FMAT1, "the condition clears only this far back past THRESHOLD"),
                    Field("MIN_DURATION", UINT16, "how long the test must hold before acting", unit="s"),
                    Field("CONTROL_POINTS", SetOf(f"({ACT}.NBR_CONTROL_POINTS + 7) / 8"), "points acted on"),
                    Field("CONTROL_LEVEL", UINT8, "level while the condition holds", unit="%"),
                ),
                f"{ACT}.NBR_CONDITIONS",
            ),
        ),
    ),
    title="Load control conditions",
    source=SOURCE,
)

PREPAYMENT_STATUS_TBL = Table(
    116,
    "PREPAYMENT_STATUS_TBL",
    Record(
        Field(
            "PREPAYMENT_STATUS_FLAGS",
            BitField(
                UINT8,
                Bit("PREPAYMENT_ACTIVE_FLAG", 0),
                Bit("LOW_CREDIT_FLAG", 1, doc="credit at or below ST117 LOW_CREDIT_THRESHOLD"),
                Bit("CREDIT_EXHAUSTED_FLAG", 2, doc="credit at or below ST117 DISCONNECT_THRESHOLD"),
                Bit("EMERGENCY_CREDIT_AVAILABLE_FLAG", 3),
                Bit("EMERGENCY_CREDIT_IN_USE_FLAG", 4),
                Bit("SUPPLY_INTERRUPTED_FLAG", 5, doc="prepayment opened the disconnect points"),
                Bit("FRIENDLY_PERIOD_FLAG", 6, doc="inside an ST117 no-disconnect period"),
            ),
        ),
        Field("REMAINING_CREDIT", NI_FMAT1, "negative when in debt", unit="currency"),
        If(f"{FLAGS}.EMERGENCY_CREDIT_FLAG", Field("EMERGENCY_CREDIT_REMAINING", NI_FMAT1, unit="currency")),
        If(f"{FLAGS}.DEBT_RECOVERY_FLAG", Field("DEBT_REMAINING", NI_FMAT1, unit="currency")),
        Field("LAST_CREDIT_UPDATE", STIME_DATE),
        Field(
            "CREDIT_HISTORY",
            ArrayOf(
                Record(
                    Field("CREDIT_TIME", STIME_DATE),
                    Field("CREDIT_ACTION", UINT8, "`CreditAction`"),
                    Field("CREDIT_AMOUNT", NI_FMAT1, unit="currency"),
                    Field("CREDIT_AFTER", NI_FMAT1, "REMAINING_CREDIT after the update", unit="currency"),
                ),
                f"{ACT}.NBR_CREDIT_ENTRIES",
            ),
            "newest first",
        ),
    ),
    title="Prepayment status",
    source=SOURCE,
)

PREPAYMENT_CONTROL_TBL = Table(
    117,
    "PREPAYMENT_CONTROL_TBL",
    Record(
        Field(
            "PREPAYMENT_CONTROL_FLAGS",
            BitField(
                UINT8,
                Bit("PREPAYMENT_ENABLE_FLAG", 0),
                Bit("AUTO_DISCONNECT_FLAG", 1, doc="open ST113 PREPAYMENT_DISCONNECT points when exhausted"),
                Bit("AUTO_RECONNECT_FLAG", 2, doc="reclose them when credit returns (else arm them)"),
                Bit("AUTO_EMERGENCY_CREDIT_FLAG", 3, doc="grant emergency credit without a request"),
            ),
        ),
        Field("LOW_CREDIT_THRESHOLD", NI_FMAT1, "warn at or below", unit="currency"),
        Field("DISCONNECT_THRESHOLD", NI_FMAT1, "exhausted at or below (usually 0)", unit="currency"),
        If(f"{FLAGS}.EMERGENCY_CREDIT_FLAG", Field("EMERGENCY_CREDIT_LIMIT", NI_FMAT1, unit="currency")),
        If(
            f"{FLAGS}.DEBT_RECOVERY_FLAG",
            Field("DEBT_RECOVERY_RATE", NI_FMAT1, "debt recovered each day", unit="currency/day"),
            Field("DEBT_RECOVERY_PERCENT", UINT8, "largest share of a credit taken for debt", unit="%"),
        ),
        Field("FRIENDLY_START", TIME, "start of the daily no-disconnect period"),
        Field("FRIENDLY_END", TIME, "its end (equal to the start: none)"),
        Field("FRIENDLY_DAYS", _days(), "days with a no-disconnect period"),
    ),
    title="Prepayment control",
    source=SOURCE,
)

BILLING_CONTROL_TBL = Table(
    118,
    "BILLING_CONTROL_TBL",
    Record(
        Field("CURRENCY_CODE", UINT16, "ISO 4217 numeric code (840 USD, 978 EUR)"),
        Field("BILLING_PERIOD_START_DAY", UINT8, "day of month block accumulators restart (1..28)"),
        Field("PRICE_EFFECTIVE_TIME", STIME_DATE, "when these prices apply"),
        If(
            f"{FLAGS}.STANDING_CHARGE_FLAG",
            Field("STANDING_CHARGE", NI_FMAT1, "fixed charge", unit="currency/day"),
        ),
        Field(
            "TIER_PRICES",
            ArrayOf(
                Record(
                    If(
                        f"{FLAGS}.BLOCK_PRICING_FLAG",
                        Field(
                            "BLOCKS",
                            ArrayOf(
                                Record(
                                    Field(
                                        "BLOCK_THRESHOLD",
                                        NI_FMAT1,
                                        "period consumption from which PRICE applies",
                                        unit="kWh",
                                    ),
                                    Field("PRICE", NI_FMAT1, unit="currency/kWh"),
                                ),
                                f"{ACT}.NBR_PRICE_BLOCKS",
                            ),
                        ),
                        orelse=(Field("PRICE", NI_FMAT1, unit="currency/kWh"),),
                    ),
                ),
                f"{ACT}.NBR_PRICE_TIERS",
            ),
            "indexed by the TOU tier in effect (ST55 CURR_TIER)",
        ),
    ),
    title="Billing control",
    source=SOURCE,
)

TABLES = (
    DIM_LOAD_CONTROL_TBL,
    ACT_LOAD_CONTROL_TBL,
    LOAD_CONTROL_STATUS_TBL,
    LOAD_CONTROL_CONFIG_TBL,
    LOAD_CONTROL_SCHEDULE_TBL,
    LOAD_CONTROL_CONDITIONS_TBL,
    PREPAYMENT_STATUS_TBL,
    PREPAYMENT_CONTROL_TBL,
    BILLING_CONTROL_TBL,
)
