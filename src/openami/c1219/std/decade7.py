"""Decade 7, history and event logs: ST70 DIM_LOG_TBL … ST76 EVENT_LOG_DATA_TBL, and the event codes.

ST70/ST71 dimension the logs, ST72 says which events the device supports, ST73/ST75 which events,
tables and procedures each log monitors, ST74/ST76 hold the logs (a header giving the list state, then a
fixed array of entries; LAST_ENTRY_ELEMENT and the ORDER/LIST_TYPE flags say where the newest is).

Sources: c12-protocol-facts.md §7 (ST71, ST74) and §8 (event codes 0–76, names also as in termineter's
``c1219/data.py``); the research notes (docs/c1219-sources.md §3) from termineter ``access/log.py``,
Itron PSEM ``StdTable71/76``, Aclara ``stdTbl76_t`` and an Elster-based reader (ST73 field order).

Edition rule for ST70/ST71 (an openami choice following termineter and Itron, which read the extra
octets when ST0 STD_VERSION_NO > 1): the tables are 9 octets when GEN_CONFIG_TBL.STD_VERSION_NO < 2
(C12.19-1997) and 12 octets otherwise, adding EXT_LOG_FLAGS (a UINT8 bit field whose bit names are in
no public source: it decodes to ``{}`` or ``{"FILLER": bits}``) and NBR_PROGRAM_TABLES UINT16.
LOG_FLAGS is one octet in both editions (facts §7's doubt resolved by the research notes).

Field names the public sources do not spell out, recalled from the standard (to be checked against
its text): HIST_FLAGS / EVENT_FLAGS (ST74/ST76 list status), HISTORY_TIME, HISTORY_SEQ_NBR,
HISTORY_CODE, HISTORY_ARGUMENT, HISTORY_ENTRIES / EVENT_ENTRIES, and the TABLE_IDB_BFLD member names
TBL_PROC_NBR (b0–10), STD_VS_MFG_FLAG (b11), SELECTOR (b12–15).
"""

from __future__ import annotations

from openami.c1219.schema import (
    BINARY,
    LTIME_DATE,
    UINT8,
    UINT16,
    UINT32,
    ArrayOf,
    Bit,
    BitField,
    Field,
    If,
    Record,
    SetOf,
    Table,
)
from openami.c1219.std.decade0 import TABLE_IDB_BFLD

__all__ = [
    "ACT_LOG_TBL",
    "DIM_LOG_TBL",
    "EVENTS_ID_TBL",
    "EVENT_CODES",
    "EVENT_LOG_CTRL_TBL",
    "EVENT_LOG_DATA_TBL",
    "HISTORY_LOG_CTRL_TBL",
    "HISTORY_LOG_DATA_TBL",
    "TABLES",
    "TABLE_IDB_BFLD",
    "event_name",
]

GEN = "GEN_CONFIG_TBL"
ACT_LOG = "ACT_LOG_TBL"
_RESEARCH = "research notes (docs/c1219-sources.md) §3"

# -- ST70 / ST71 ---------------------------------------------------------------------------------------
LOG_FLAGS_BFLD = BitField(
    UINT8,
    Bit("EVENT_NUMBER_FLAG", 0, doc="entries carry EVENT_NUMBER"),
    Bit("HIST_DATE_TIME_FLAG", 1, doc="history entries carry HISTORY_TIME"),
    Bit("HIST_SEQ_NBR_FLAG", 2, doc="history entries carry HISTORY_SEQ_NBR"),
    Bit("HIST_INHIBIT_OVF_FLAG", 3, doc="history log stops when full"),
    Bit("EVENT_INHIBIT_OVF_FLAG", 4, doc="event log stops when full"),
)

LOG_RCD = Record(
    Field("LOG_FLAGS", LOG_FLAGS_BFLD),
    Field("NBR_STD_EVENTS", UINT8, "octets of the standard-event SETs (8 events an octet)", unit="octet"),
    Field("NBR_MFG_EVENTS", UINT8, "octets of the manufacturer-event SETs", unit="octet"),
    Field("HIST_DATA_LENGTH", UINT8, "HISTORY_ARGUMENT length", unit="octet"),
    Field("EVENT_DATA_LENGTH", UINT8, "EVENT_ARGUMENT length", unit="octet"),
    Field("NBR_HISTORY_ENTRIES", UINT16),
    Field("NBR_EVENT_ENTRIES", UINT16),
    If(
        f"{GEN}.STD_VERSION_NO >= 2",
        Field("EXT_LOG_FLAGS", BitField(UINT8), "2008 edition; bit names not in public sources"),
        Field("NBR_PROGRAM_TABLES", UINT16, "2008 edition"),
    ),
)
"""ST70/ST71 layout: 9 octets (1997 edition) or 12 (2008 edition), see the module doc."""

_ST71_SOURCE = (
    "c12-protocol-facts.md §7 ST71; "
    + _RESEARCH
    + " (termineter access/log.py, Itron StdTable71: LOG_FLAGS 1 octet, 12 octets when STD_VERSION_NO > 1)"
)

DIM_LOG_TBL = Table(70, "DIM_LOG_TBL", LOG_RCD, title="Log dimension limits", source=_ST71_SOURCE)
ACT_LOG_TBL = Table(71, ACT_LOG, LOG_RCD, title="Actual log dimensions", source=_ST71_SOURCE)

# -- ST72 / ST73 / ST75 ------------------------------------------------------------------------------
EVENTS_ID_TBL = Table(
    72,
    "EVENTS_ID_TBL",
    Record(
        Field("STD_EVENTS_SUPPORTED", SetOf(f"{ACT_LOG}.NBR_STD_EVENTS"), "standard event codes supported"),
        Field("MFG_EVENTS_SUPPORTED", SetOf(f"{ACT_LOG}.NBR_MFG_EVENTS"), "manufacturer event codes supported"),
    ),
    title="Events identification",
    source=_RESEARCH + " (Itron table-71-sized SETs; names from an Elster-based reader)",
)


def _monitored_record() -> Record:
    return Record(
        Field("STD_EVENTS_MONITORED_FLAGS", SetOf(f"{ACT_LOG}.NBR_STD_EVENTS")),
        Field("MFG_EVENTS_MONITORED_FLAGS", SetOf(f"{ACT_LOG}.NBR_MFG_EVENTS")),
        Field("STD_TBLS_MONITORED_FLAGS", SetOf(f"{GEN}.DIM_STD_TBLS_USED"), "tables whose writes are logged"),
        Field("MFG_TBLS_MONITORED_FLAGS", SetOf(f"{GEN}.DIM_MFG_TBLS_USED")),
        Field("STD_PROC_MONITORED_FLAGS", SetOf(f"{GEN}.DIM_STD_PROC_USED"), "procedures whose calls are logged"),
        Field("MFG_PROC_MONITORED_FLAGS", SetOf(f"{GEN}.DIM_MFG_PROC_USED")),
    )


HISTORY_LOG_CTRL_TBL = Table(
    73,
    "HISTORY_LOG_CTRL_TBL",
    _monitored_record(),
    title="History log control",
    source=_RESEARCH + " (field names and order from an Elster-based reader; dimensions per the standard)",
)

EVENT_LOG_CTRL_TBL = Table(
    75,
    "EVENT_LOG_CTRL_TBL",
    _monitored_record(),
    title="Event log control",
    source=_RESEARCH + " (same six SETs as ST73, from the standard as recalled)",
)

# -- ST74 / ST76 -------------------------------------------------------------------------------------
# TABLE_IDB_BFLD (decade 0): in the logs, TBL_PROC_NBR is the event code (see `EVENT_CODES`).

LIST_FLAGS_BFLD = BitField(
    UINT8,
    Bit("ORDER", 0, doc="false ascending (entry N older than N+1), true descending"),
    Bit("OVERFLOW_FLAG", 1),
    Bit("LIST_TYPE", 2, doc="false FIFO, true circular"),
    Bit("INHIBIT_OVERFLOW_FLAG", 3),
)


def _list_header(flags_name: str) -> tuple[Field, ...]:
    """The 11-octet list header shared by ST74 and ST76."""
    return (
        Field(flags_name, LIST_FLAGS_BFLD),
        Field("NBR_VALID_ENTRIES", UINT16),
        Field("LAST_ENTRY_ELEMENT", UINT16, "array index of the newest valid entry"),
        Field("LAST_ENTRY_SEQ_NBR", UINT32, "sequence number of the newest valid entry"),
        Field("NBR_UNREAD_ENTRIES", UINT16),
    )


HISTORY_ENTRY_RCD = Record(
    If(f"{ACT_LOG}.LOG_FLAGS.HIST_DATE_TIME_FLAG", Field("HISTORY_TIME", LTIME_DATE)),
    If(f"{ACT_LOG}.LOG_FLAGS.EVENT_NUMBER_FLAG", Field("EVENT_NUMBER", UINT16)),
    If(f"{ACT_LOG}.LOG_FLAGS.HIST_SEQ_NBR_FLAG", Field("HISTORY_SEQ_NBR", UINT16)),
    Field("USER_ID", UINT16, "0 the device itself, 1 manual, else the user id of the session"),
    Field("HISTORY_CODE", TABLE_IDB_BFLD),
    Field("HISTORY_ARGUMENT", BINARY(f"{ACT_LOG}.HIST_DATA_LENGTH")),
)

HISTORY_LOG_DATA_TBL = Table(
    74,
    "HISTORY_LOG_DATA_TBL",
    Record(
        *_list_header("HIST_FLAGS"),
        Field("HISTORY_ENTRIES", ArrayOf(HISTORY_ENTRY_RCD, f"{ACT_LOG}.NBR_HISTORY_ENTRIES")),
    ),
    title="History log data",
    source="c12-protocol-facts.md §7 ST74; " + _RESEARCH + " (termineter, Itron SizeOfTable74)",
)

EVENT_ENTRY_RCD = Record(
    Field("EVENT_TIME", LTIME_DATE, "always present (unlike ST74's HISTORY_TIME)"),
    If(f"{ACT_LOG}.LOG_FLAGS.EVENT_NUMBER_FLAG", Field("EVENT_NUMBER", UINT16)),
    Field("EVENT_SEQ_NBR", UINT16),
    Field("USER_ID", UINT16),
    Field("EVENT_CODE", TABLE_IDB_BFLD),
    Field("EVENT_ARGUMENT", BINARY(f"{ACT_LOG}.EVENT_DATA_LENGTH")),
)

EVENT_LOG_DATA_TBL = Table(
    76,
    "EVENT_LOG_DATA_TBL",
    Record(
        *_list_header("EVENT_FLAGS"),
        Field("EVENT_ENTRIES", ArrayOf(EVENT_ENTRY_RCD, f"{ACT_LOG}.NBR_EVENT_ENTRIES")),
    ),
    title="Event log data",
    source=_RESEARCH + " (Itron StdTable76 ParseHeaderData/ParseEventData, Aclara stdTbl76_t)",
)

# -- event codes -------------------------------------------------------------------------------------
EVENT_CODES: dict[int, str] = {
    0: "No event",
    1: "Primary power down",
    2: "Primary power up",
    3: "Time changed (old time)",
    4: "Time changed (new time)",
    5: "Time changed (old time, STIME_DATE argument)",
    6: "Time changed (new time, STIME_DATE argument)",
    7: "End device accessed for read",
    8: "End device accessed for write",
    9: "Procedure invoked",
    10: "Table written to",
    11: "End device programmed",
    12: "Communication terminated normally",
    13: "Communication terminated abnormally",
    14: "Reset list pointers",
    15: "Updated list pointers",
    16: "History log cleared",
    17: "History log pointers updated",
    18: "Event log cleared",
    19: "Event log pointers updated",
    20: "Demand reset occurred",
    21: "Self read occurred",
    22: "Daylight saving time on",
    23: "Daylight saving time off",
    24: "Season changed",
    25: "Rate change",
    26: "Special schedule activated",
    27: "Tier switch change",
    28: "Pending table activated",
    29: "Pending table activation cleared",
    30: "Metering mode started",
    31: "Metering mode stopped",
    32: "Test mode started",
    33: "Test mode stopped",
    34: "Meter shop mode started",
    35: "Meter shop mode stopped",
    36: "End device reprogrammed",
    37: "Configuration error detected",
    38: "Self check error detected",
    39: "RAM failure detected",
    40: "ROM failure detected",
    41: "Non-volatile memory failure detected",
    42: "Clock error detected",
    43: "Measurement error detected",
    44: "Low battery detected",
    45: "Low loss potential detected",
    46: "Demand overload detected",
    47: "Tamper attempt detected",
    48: "Reverse rotation detected",
    49: "Control point changed by a command",
    50: "Control point changed by the schedule",
    51: "Control point changed by a condition",
    52: "Control point changed for prepayment",
    53: "Added to remaining credit",
    54: "Subtracted from remaining credit",
    55: "Adjusted remaining credit",
    56: "End device sealed",
    57: "End device unsealed",
    58: "Procedure invoked (with values)",
    59: "Table written to (with values)",
    60: "End device programmed (with values)",
    61: "End device sealed (with values)",
    62: "End device unsealed (with values)",
    63: "Procedure invoked (with signature)",
    64: "Table written to (with signature)",
    65: "End device programmed (with signature)",
    66: "End device sealed (with signature)",
    67: "End device unsealed (with signature)",
    68: "Procedure invoked (with signature and values)",
    69: "Table written to (with signature and values)",
    70: "End device programmed (with signature and values)",
    71: "End device sealed (with signature and values)",
    72: "End device unsealed (with signature and values)",
    73: "Read secured table",
    74: "Read secured register",
    75: "Read secured table (with values)",
    76: "Read secured register (with values)",
}
"""Standard event codes 0–76 (TABLE_IDB_BFLD.TBL_PROC_NBR with STD_VS_MFG_FLAG false): facts §8; the
wording of 58–72 as in termineter's ``c1219/data.py``."""


def event_name(code: int, manufacturer: bool = False) -> str:
    """A readable name of an event code (``"manufacturer event 5"``, ``"reserved event 99"``)."""
    if manufacturer:
        return f"manufacturer event {code}"
    return EVENT_CODES.get(code, f"reserved event {code}")


TABLES = (
    DIM_LOG_TBL,
    ACT_LOG_TBL,
    EVENTS_ID_TBL,
    HISTORY_LOG_CTRL_TBL,
    HISTORY_LOG_DATA_TBL,
    EVENT_LOG_CTRL_TBL,
    EVENT_LOG_DATA_TBL,
)
