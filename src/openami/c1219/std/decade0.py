"""Decade 0, configuration: ST0 GEN_CONFIG_TBL … ST8 PROC_RESPONSE_TBL."""

from __future__ import annotations

from openami.c1219.schema import (
    BCD,
    BINARY,
    DATE,
    REST,
    STIME_DATE,
    STRING,
    UINT8,
    UINT16,
    ArrayOf,
    Bit,
    BitField,
    Field,
    If,
    Record,
    SetOf,
    Switch,
    Table,
)

__all__ = [
    "DEVICE_IDENT_TBL",
    "DEVICE_NAMEPLATE_TBL",
    "ED_MODE_BFLD",
    "ED_MODE_STATUS_TBL",
    "EVENT_RCD",
    "GENERAL_MFG_ID_TBL",
    "GEN_CONFIG_TBL",
    "PENDING_STATUS_TBL",
    "PROC_INITIATE_TBL",
    "PROC_RESPONSE_TBL",
    "TABLES",
    "TABLE_IDB_BFLD",
    "UTIL_INFO_TBL",
]

GEN_CONFIG = "GEN_CONFIG_TBL"

GEN_CONFIG_TBL = Table(
    0,
    GEN_CONFIG,
    Record(
        Field(
            "FORMAT_CONTROL_1",
            BitField(UINT8, Bit("DATA_ORDER", 0, 0), Bit("CHAR_FORMAT", 1, 3), Bit("MODEL_SELECT", 4, 6)),
        ),
        Field(
            "FORMAT_CONTROL_2",
            BitField(
                UINT8,
                Bit("TM_FORMAT", 0, 2),
                Bit("DATA_ACCESS_METHOD", 3, 4),
                Bit("ID_FORM", 5, 5),
                Bit("INT_FORMAT", 6, 7),
            ),
        ),
        Field("FORMAT_CONTROL_3", BitField(UINT8, Bit("NI_FORMAT1", 0, 3), Bit("NI_FORMAT2", 4, 7))),
        Field("DEVICE_CLASS", STRING(4)),
        Field("NAMEPLATE_TYPE", UINT8, "0 gas, 1 water, 2 electric"),
        Field("DEFAULT_SET_USED", UINT8, "0 none, 1 simple meter register, 2 demand, 3 TOU, 4 profile"),
        Field("MAX_PROC_PARM_LENGTH", UINT8, unit="octet"),
        Field("MAX_RESP_DATA_LEN", UINT8, unit="octet"),
        Field("STD_VERSION_NO", UINT8),
        Field("STD_REVISION_NO", UINT8),
        Field("DIM_STD_TBLS_USED", UINT8, unit="octet"),
        Field("DIM_MFG_TBLS_USED", UINT8, unit="octet"),
        Field("DIM_STD_PROC_USED", UINT8, unit="octet"),
        Field("DIM_MFG_PROC_USED", UINT8, unit="octet"),
        Field("DIM_MFG_STATUS_USED", UINT8, unit="octet"),
        Field("NBR_PENDING", UINT8),
        Field("STD_TBLS_USED", SetOf(f"{GEN_CONFIG}.DIM_STD_TBLS_USED")),
        Field("MFG_TBLS_USED", SetOf(f"{GEN_CONFIG}.DIM_MFG_TBLS_USED")),
        Field("STD_PROC_USED", SetOf(f"{GEN_CONFIG}.DIM_STD_PROC_USED")),
        Field("MFG_PROC_USED", SetOf(f"{GEN_CONFIG}.DIM_MFG_PROC_USED")),
        Field("STD_TBLS_WRITE", SetOf(f"{GEN_CONFIG}.DIM_STD_TBLS_USED")),
        Field("MFG_TBLS_WRITE", SetOf(f"{GEN_CONFIG}.DIM_MFG_TBLS_USED")),
    ),
    title="General configuration",
    source="c12-protocol-facts.md §7 (checked against the real 79-octet ST0 from EPRI c12test)",
)

# -- shared types ---------------------------------------------------------------------------------------
_ID_FORM = f"{GEN_CONFIG}.FORMAT_CONTROL_2.ID_FORM"


def _ident(chars: int) -> Switch:
    """An identifier that follows ST0 ID_FORM: STRING(chars) when 0, BCD(chars / 2) (chars digits) when 1."""
    return Switch(_ID_FORM, {0: STRING(chars), 1: BCD(chars // 2)})


TABLE_IDB_BFLD = BitField(
    UINT16, Bit("TBL_PROC_NBR", 0, 10), Bit("STD_VS_MFG_FLAG", 11, doc="true: manufacturer"), Bit("SELECTOR", 12, 15)
)
"""TABLE_IDB_BFLD (UINT16): table or procedure number b0–10, STD_VS_MFG_FLAG b11 (true: manufacturer),
SELECTOR b12–15 (for ST7: 0 respond on completion, 1 on exception, 2 never, 3 now and on completion).
Facts §6 (which calls b11 the manufacturer flag); member names as in decade4 / decade7."""

# -- ST1 ------------------------------------------------------------------------------------------------
GENERAL_MFG_ID_TBL = Table(
    1,
    "GENERAL_MFG_ID_TBL",
    Record(
        Field("MANUFACTURER", STRING(4)),
        Field("ED_MODEL", STRING(8)),
        Field("HW_VERSION_NUMBER", UINT8),
        Field("HW_REVISION_NUMBER", UINT8),
        Field("FW_VERSION_NUMBER", UINT8),
        Field("FW_REVISION_NUMBER", UINT8),
        Field("MFG_SERIAL_NUMBER", _ident(16), "16 characters (ID_FORM 0) or 16 BCD digits (ID_FORM 1)"),
    ),
    title="General manufacturer identification",
    source="c12-protocol-facts.md §7 (32 octets; MFG_SERIAL_NUMBER at offset 16 matches the standard's "
    "Example 8 partial read); ID_FORM switch as for ST5",
)
"""ST1: MANUFACTURER(4) ED_MODEL(8) HW/FW version and revision (1 each) MFG_SERIAL_NUMBER(16 chars or 8 BCD)."""

# -- ST2 ------------------------------------------------------------------------------------------------
_NAMEPLATE = f"{GEN_CONFIG}.NAMEPLATE_TYPE"

_ELECTRIC_NAMEPLATE = (
    Field("E_KH", STRING(6), "watt-hours per revolution or pulse, as characters (e.g. '7.2   ')"),
    Field("E_KT", STRING(6), "test output constant, as characters"),
    Field("E_INPUT_SCALAR", UINT8, "divisor applied to input pulses"),
    Field("E_ED_CONFIG", STRING(5), "form number per ANSI C12.10 (e.g. '2S   ')"),
    Field(
        "E_ELEMENTS",
        BitField(
            UINT16,
            Bit("E_FREQ", 0, 2, "2 = 50 Hz, 3 = 50 or 60 Hz, 4 = 60 Hz"),
            Bit("E_NO_OF_ELEMENTS", 3, 5, "1 = 1, 2 = 2, 3 = 2½, 4 = 3 elements"),
            Bit("E_BASE_TYPE", 6, 9),
            Bit("E_ACCURACY_CLASS", 10, 15),
        ),
    ),
    Field("E_VOLTS", BitField(UINT8, Bit("E_ELEMENTS_VOLTS", 0, 3), Bit("E_ED_SUPPLY_VOLTS", 4, 7))),
    Field("E_CLASS_MAX_AMPS", STRING(6), "class (maximum) current, as characters", unit="A"),
    Field("E_TA", STRING(6), "test amperes, as characters", unit="A"),
)
# Gas and water nameplates: no public source found; an openami reconstruction from memory of the
# standard's intent (type code, pulse scalar, nameplate ratings as characters like the electric record).
_GAS_NAMEPLATE = (
    Field("G_ED_TYPE", UINT8, "meter type code (UNCERTAIN layout)"),
    Field("G_INPUT_SCALAR", UINT8, "divisor applied to input pulses (UNCERTAIN layout)"),
    Field("G_ED_SIZE", STRING(6), "nameplate capacity, as characters (UNCERTAIN layout)"),
    Field("G_MAX_PRESSURE", STRING(6), "maximum allowed operating pressure, as characters (UNCERTAIN layout)"),
    Field("G_GEAR_DRIVE_SIZE", STRING(6), "volume per index drive revolution, as characters (UNCERTAIN layout)"),
)
_WATER_NAMEPLATE = (
    Field("W_ED_TYPE", UINT8, "meter type code (UNCERTAIN layout)"),
    Field("W_INPUT_SCALAR", UINT8, "divisor applied to input pulses (UNCERTAIN layout)"),
    Field("W_ED_SIZE", STRING(6), "nominal size, as characters (UNCERTAIN layout)"),
    Field("W_MAX_FLOW_RATE", STRING(6), "maximum flow rate, as characters (UNCERTAIN layout)"),
    Field("W_MAX_PRESSURE", STRING(6), "maximum operating pressure, as characters (UNCERTAIN layout)"),
)

DEVICE_NAMEPLATE_TBL = Table(
    2,
    "DEVICE_NAMEPLATE_TBL",
    Record(
        If(f"{_NAMEPLATE} == 0", *_GAS_NAMEPLATE),
        If(f"{_NAMEPLATE} == 1", *_WATER_NAMEPLATE),
        If(f"{_NAMEPLATE} == 2", *_ELECTRIC_NAMEPLATE),
    ),
    title="Device nameplate",
    source="electric (NAMEPLATE_TYPE 2): research notes ST2 field list and bit fields (C12RDR reader, L+G "
    "firmware); E_KH/E_KT/E_CLASS_MAX_AMPS/E_TA are STRING(6) per the C12RDR reader and MM100 firmware "
    "defaults ('200   ', 33-octet table) — the notes' NI_FMAT1 reading is not followed. Gas (0) and water (1): "
    "not in any public source, openami reconstruction from memory, UNCERTAIN",
)
"""ST2, chosen by ST0 NAMEPLATE_TYPE (0 gas, 1 water, 2 electric; fields flattened into the table record).

Electric (33 octets): E_KH(6) E_KT(6) E_INPUT_SCALAR(1) E_ED_CONFIG(5) E_ELEMENTS(UINT16: E_FREQ b0–2,
E_NO_OF_ELEMENTS b3–5, E_BASE_TYPE b6–9, E_ACCURACY_CLASS b10–15) E_VOLTS(UINT8: E_ELEMENTS_VOLTS b0–3,
E_ED_SUPPLY_VOLTS b4–7) E_CLASS_MAX_AMPS(6) E_TA(6). Gas / water (20 octets each): UNCERTAIN
reconstructions. Other NAMEPLATE_TYPE values give an empty table.
"""

# -- ST3 ------------------------------------------------------------------------------------------------
ED_MODE_BFLD = BitField(
    UINT8, Bit("METERING_FLAG", 0), Bit("TEST_MODE_FLAG", 1), Bit("METER_SHOP_MODE_FLAG", 2), Bit("FACTORY_FLAG", 3)
)
"""ED_MODE (UINT8): METERING b0, TEST_MODE b1, METER_SHOP_MODE b2, FACTORY b3 (also SP6's parameter)."""

ED_MODE_STATUS_TBL = Table(
    3,
    "ED_MODE_STATUS_TBL",
    Record(
        Field("ED_MODE", ED_MODE_BFLD),
        Field(
            "ED_STD_STATUS1",
            BitField(
                UINT16,
                Bit("UNPROGRAMMED_FLAG", 0),
                Bit("CONFIGURATION_ERROR_FLAG", 1),
                Bit("SELF_CHK_ERROR_FLAG", 2),
                Bit("RAM_FAILURE_FLAG", 3),
                Bit("ROM_FAILURE_FLAG", 4),
                Bit("NONVOL_MEM_FAILURE_FLAG", 5),
                Bit("CLOCK_ERROR_FLAG", 6),
                Bit("MEASUREMENT_ERROR_FLAG", 7),
                Bit("LOW_BATTERY_FLAG", 8),
                Bit("LOW_LOSS_POTENTIAL_FLAG", 9),
                Bit("DEMAND_OVERLOAD_FLAG", 10),
                Bit("POWER_FAILURE_FLAG", 11),
                Bit("TAMPER_DETECT_FLAG", 12),
                Bit("REVERSE_ROTATION_FLAG", 13),
            ),
        ),
        Field("ED_STD_STATUS2", BitField(UINT8), "no standard flags defined; set bits come back as FILLER"),
        Field("ED_MFG_STATUS", BINARY(f"{GEN_CONFIG}.DIM_MFG_STATUS_USED"), "manufacturer status octets"),
    ),
    title="End device mode and status",
    source="c12-protocol-facts.md §7; flag names from the C12RDR reader and MM100 firmware (agree)",
)
"""ST3: ED_MODE(1) ED_STD_STATUS1(2) ED_STD_STATUS2(1) ED_MFG_STATUS(DIM_MFG_STATUS_USED octets, raw)."""

# -- ST4 ------------------------------------------------------------------------------------------------
EVENT_RCD = Record(
    Field(
        "EVENT_SELECTOR",
        BitField(UINT8, Bit("EVENT_CODE", 0, 3), Bit("SELF_READ_FLAG", 4), Bit("DEMAND_RESET_FLAG", 5)),
    ),
    Field("EVENT_STORAGE", BINARY(5), "activation trigger, read per EVENT_CODE (0: an STIME_DATE)"),
)
"""EVENT_RCD (6 octets): the activation trigger of a pending table, also the prefix of a pending write."""

PENDING_STATUS_TBL = Table(
    4,
    "PENDING_STATUS_TBL",
    Record(
        Field("STANDARD_PENDING", SetOf(f"{GEN_CONFIG}.DIM_STD_TBLS_USED"), "tables that can be written pending"),
        Field("MANUFACT_PENDING", SetOf(f"{GEN_CONFIG}.DIM_MFG_TBLS_USED")),
        Field("LAST_ACTIVATION_DATE_TIME", STIME_DATE),
        Field("NBR_PENDING_ACTIVATION", UINT8, "activations not yet done"),
        Field(
            "PENDING_TABLES",
            ArrayOf(
                Record(
                    Field("EVENT", EVENT_RCD),
                    Field(
                        "TABLE_SELECTOR",
                        BitField(
                            UINT16,
                            Bit("TBL_PROC_NBR", 0, 10),
                            Bit("STD_VS_MFG_FLAG", 11),
                            Bit("PENDING_FLAG", 12, doc="not activated yet"),
                            Bit("EUDT_FLAG", 13, doc="extended user-defined table (2008)"),
                        ),
                    ),
                ),
                f"{GEN_CONFIG}.NBR_PENDING",
            ),
        ),
    ),
    title="Pending status",
    source="research notes ST4 (L+G firmware struct); TABLE_SELECTOR bits from MM100 firmware (MFG b11, "
    "PENDING b12, EUDT b13; b11 named STD_VS_MFG_FLAG as in TABLE_IDB_BFLD); EVENT_STORAGE kept raw "
    "(its reading per EVENT_CODE is not in a public source)",
)
"""ST4: STANDARD_PENDING SET(DIM_STD_TBLS_USED), MANUFACT_PENDING SET(DIM_MFG_TBLS_USED),
LAST_ACTIVATION_DATE_TIME STIME_DATE, NBR_PENDING_ACTIVATION UINT8, PENDING_TABLES[NBR_PENDING] of
{EVENT: EVENT_RCD (6 octets), TABLE_SELECTOR UINT16}."""

# -- ST5, ST6 -------------------------------------------------------------------------------------------
DEVICE_IDENT_TBL = Table(
    5,
    "DEVICE_IDENT_TBL",
    Record(Field("IDENTIFICATION", _ident(20), "20 characters (ID_FORM 0) or 20 BCD digits (ID_FORM 1)")),
    title="Device identification",
    source="c12-protocol-facts.md §7 (ID_FORM 0 → 20 characters, 1 → 10 octets BCD)",
)
"""ST5: IDENTIFICATION, 20 characters or 10 octets of BCD per ST0 ID_FORM."""

UTIL_INFO_TBL = Table(
    6,
    "UTIL_INFO_TBL",
    Record(
        Field("OWNER_NAME", STRING(20)),
        Field("UTILITY_DIV", STRING(20)),
        Field("SERVICE_POINT_ID", _ident(20)),
        Field("ELEC_ADDR", _ident(20)),
        Field("DEVICE_ID", _ident(20)),
        Field("UTIL_SER_NO", _ident(20)),
        Field("CUSTOMER_ID", _ident(20)),
        Field("COORDINATE_1", BINARY(10)),
        Field("COORDINATE_2", BINARY(10)),
        Field("COORDINATE_3", BINARY(10)),
        Field("TARIFF_ID", STRING(8)),
        Field("EX1_SW_VENDOR", STRING(4)),
        Field("EX1_SW_VERSION_NUMBER", UINT8),
        Field("EX1_SW_REVISION_NUMBER", UINT8),
        Field("EX2_SW_VENDOR", STRING(4)),
        Field("EX2_SW_VERSION_NUMBER", UINT8),
        Field("EX2_SW_REVISION_NUMBER", UINT8),
        Field("PROGRAMMER_NAME", STRING(10)),
        Field("MISC_ID", STRING(30)),
        If(f"{GEN_CONFIG}.STD_VERSION_NO >= 2", Field("FW_LOAD_DATE", DATE, "UNCERTAIN: 2008 addition")),
    ),
    title="Utility information",
    source="c12-protocol-facts.md §7; names and sizes from the C12RDR reader, L+G and MM100 firmware (agree); "
    "IDs follow ID_FORM (L+G); COORDINATE_n raw as in C12RDR; FW_LOAD_DATE only in MM100/Hexing "
    "firmware for 2008 devices — its presence rule (STD_VERSION_NO >= 2) is our reading, UNCERTAIN",
)
"""ST6: OWNER_NAME(20) UTILITY_DIV(20), five IDs (20 chars or 10 BCD octets each), COORDINATE_1..3(10 raw),
TARIFF_ID(8), EX1/EX2 software vendor(4) version(1) revision(1), PROGRAMMER_NAME(10), MISC_ID(30)
[, FW_LOAD_DATE DATE when STD_VERSION_NO >= 2]."""

# -- ST7, ST8 -------------------------------------------------------------------------------------------
PROC_INITIATE_TBL = Table(
    7,
    "PROC_INITIATE_TBL",
    Record(
        Field("PROC", TABLE_IDB_BFLD, "procedure number, manufacturer flag and response selector"),
        Field("SEQ_NBR", UINT8, "chosen by the initiator, echoed in ST8"),
        Field("PARM", REST(f"{GEN_CONFIG}.MAX_PROC_PARM_LENGTH"), "procedure parameters", unit="octet"),
    ),
    title="Procedure initiate",
    source="c12-protocol-facts.md §6; L+G firmware struct (PROC, SEQ_NBR, PARM[MAX_PROC_PARM_LENGTH])",
)
"""ST7 (written to run a procedure): PROC TABLE_IDB_BFLD(2) SEQ_NBR(1) PARM(0..MAX_PROC_PARM_LENGTH)."""

PROC_RESPONSE_TBL = Table(
    8,
    "PROC_RESPONSE_TBL",
    Record(
        Field("PROC", TABLE_IDB_BFLD),
        Field("SEQ_NBR", UINT8),
        Field(
            "RESULT_CODE",
            UINT8,
            "0 completed, 1 accepted not completed, 2 invalid parameter, 3 conflicts with setup, "
            "4 timing constraint, 5 no authorization, 6 unrecognized procedure",
        ),
        Field("RESP_DATA", REST(f"{GEN_CONFIG}.MAX_RESP_DATA_LEN"), "procedure response data", unit="octet"),
    ),
    title="Procedure response",
    source="c12-protocol-facts.md §6; L+G firmware struct",
)
"""ST8 (read for the result): PROC(2) SEQ_NBR(1) RESULT_CODE(1) RESP_DATA(0..MAX_RESP_DATA_LEN)."""

TABLES = (
    GEN_CONFIG_TBL,
    GENERAL_MFG_ID_TBL,
    DEVICE_NAMEPLATE_TBL,
    ED_MODE_STATUS_TBL,
    PENDING_STATUS_TBL,
    DEVICE_IDENT_TBL,
    UTIL_INFO_TBL,
    PROC_INITIATE_TBL,
    PROC_RESPONSE_TBL,
)
