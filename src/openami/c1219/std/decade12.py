"""Decade 12, network (C12.22 nodes): ST120 DIM_NETWORK_TBL … ST127 NETWORK_STATISTICS_TBL.

Every dimension and flag comes from ST121 ACT_NETWORK_TBL (ST120 has the same layout and gives the
device's upper limits). ApTitle fields are 20 octets (``BINARY(20)``): the BER-encoded universal id
(OID or RELATIVE-OID TLV), zero-padded. Multi-byte integers follow ST0 DATA_ORDER.

Sources, by table:

- ST120/ST121: c12-protocol-facts.md §7 and Itron's ``CStdTable121`` (a head-end parser of real C12.22
  meters): bits 1–6 of the flags and every count are verified; bit 0 and bit 7 are not named by any
  public source (they decode under FILLER). Itron reads the table as 14 octets but decodes only the
  first 13: the 14th is kept here as a one-octet FILLER of unknown meaning.
- ST122/ST123/ST126/ST127: Itron's ``CStdTable122/123/126_2008/127`` (research notes §3, decade 12).
  ST122's ELECTRONIC_SERIAL_NUMBER condition (present when STATIC_APTITLE_FLAG is clear) is Itron's
  reading, low confidence. Units of RESPONSE_TIMEOUT are not in any public source (seconds assumed).
- ST124 FILTERING_RULES_TBL and ST125 INTERFACE_STATUS_TBL: no public layout found; written from
  knowledge of C12.19-2008 decade 12, to be checked against the standard.
"""

from __future__ import annotations

from enum import IntEnum

from openami.c1219.schema import (
    BINARY,
    FILL,
    INT48,
    STRING,
    UINT8,
    UINT16,
    UINT24,
    ArrayOf,
    Bit,
    BitField,
    Field,
    If,
    Record,
    Table,
)

__all__ = [
    "ACT_NETWORK_TBL",
    "DIM_NETWORK_TBL",
    "EXCEPTION_REPORT_TBL",
    "FILTERING_RULES_TBL",
    "INTERFACE_CTRL_TBL",
    "INTERFACE_STATUS_TBL",
    "NETWORK_STATISTICS_TBL",
    "REGISTRATION_STATUS_TBL",
    "TABLES",
    "StatisticCode",
    "statistic_name",
]

ACT = "ACT_NETWORK_TBL"
APTITLE = BINARY(20)
"""A 20-octet ApTitle field: BER universal id (``06 L oid`` or ``0D L relative-oid``), zero-padded."""
NATIVE_ADDRESS = BINARY(f"{ACT}.NATIVE_ADDRESS_LEN")

_KNOWN = "Itron CStdTable12x (head-end parser of real C12.22 meters; research notes §3 decade 12)"
_RECALLED = "from knowledge of C12.19-2008 decade 12; to be checked against the standard"


def _network_record() -> Record:
    return Record(
        Field(
            "NETWORK_FLAGS",
            BitField(
                UINT8,
                Bit("PROG_NATIVE_ADDRESS_FLAG", 1, doc="ST122 holds a programmable native address per interface"),
                Bit("PROG_BROADCAST_ADDRESS_FLAG", 2, doc="ST122 holds a programmable broadcast address"),
                Bit("STATIC_RELAY_FLAG", 3, doc="ST122 holds a static relay native address"),
                Bit("STATIC_APTITLE_FLAG", 4, doc="ST122 holds a static node ApTitle"),
                Bit("STATIC_MASTER_RELAY_FLAG", 5, doc="ST122 holds a static master relay ApTitle"),
                Bit("CLIENT_RESPONSE_CTRL_FLAG", 6, doc="ST122 holds retries and response timeout"),
            ),
        ),
        Field("NBR_INTERFACES", UINT8, "network interfaces (ST122, ST125)"),
        Field("NBR_REGISTRATIONS", UINT8, "simultaneous registrations (ST126)"),
        Field("NBR_FILTERING_RULES", UINT16, "ST124 entries"),
        Field("NBR_EXCEPTION_HOSTS", UINT16, "ST123 entries"),
        Field("NBR_EXCEPTION_EVENTS", UINT16, "events per ST123 host"),
        Field("NBR_STATISTICS", UINT16, "ST127 entries"),
        Field("NBR_MULTICAST_ADDRESSES", UINT8, "multicast ApTitles in ST122"),
        Field("NATIVE_ADDRESS_LEN", UINT8, "length of every native address", unit="octet"),
        Field("FILLER", FILL(1), "14th octet: in Itron's table size, never decoded; meaning unknown"),
    )


DIM_NETWORK_TBL = Table(
    120,
    "DIM_NETWORK_TBL",
    _network_record(),
    title="Dimension network",
    source="same layout as ST121 (c12-protocol-facts.md §7; Itron CStdTable121)",
)

ACT_NETWORK_TBL = Table(
    121,
    ACT,
    _network_record(),
    title="Actual network",
    source="c12-protocol-facts.md §7; " + _KNOWN + " (14 octets)",
)

INTERFACE_CTRL_TBL = Table(
    122,
    "INTERFACE_CTRL_TBL",
    Record(
        If(
            f"not {ACT}.NETWORK_FLAGS.STATIC_APTITLE_FLAG",
            Field("ELECTRONIC_SERIAL_NUMBER", APTITLE, "the node's ESN (BER universal id); condition per Itron"),
        ),
        Field(
            "INTERFACE_CTRL_ENTRIES",
            ArrayOf(
                Record(
                    If(f"{ACT}.NETWORK_FLAGS.PROG_NATIVE_ADDRESS_FLAG", Field("NATIVE_ADDRESS", NATIVE_ADDRESS)),
                    If(
                        f"{ACT}.NETWORK_FLAGS.PROG_BROADCAST_ADDRESS_FLAG",
                        Field("BROADCAST_ADDRESS", NATIVE_ADDRESS),
                    ),
                    If(f"{ACT}.NETWORK_FLAGS.STATIC_RELAY_FLAG", Field("RELAY_NATIVE_ADDRESS", NATIVE_ADDRESS)),
                    If(f"{ACT}.NETWORK_FLAGS.STATIC_APTITLE_FLAG", Field("NODE_APTITLE", APTITLE)),
                    If(f"{ACT}.NETWORK_FLAGS.STATIC_MASTER_RELAY_FLAG", Field("MASTER_RELAY_APTITLE", APTITLE)),
                    If(
                        f"{ACT}.NETWORK_FLAGS.CLIENT_RESPONSE_CTRL_FLAG",
                        Field("NBR_RETRIES", UINT8, "retries of an unanswered request"),
                        Field("RESPONSE_TIMEOUT", UINT16, "unit not in public sources (seconds assumed)", unit="s"),
                    ),
                ),
                f"{ACT}.NBR_INTERFACES",
            ),
        ),
        Field("MULTICAST_ADDRESSES", ArrayOf(APTITLE, f"{ACT}.NBR_MULTICAST_ADDRESSES")),
    ),
    title="Interface control",
    source=_KNOWN + "; ESN condition low confidence",
)

EXCEPTION_REPORT_TBL = Table(
    123,
    "EXCEPTION_REPORT_TBL",
    Record(
        Field(
            "EXCEPTION_REPORT",
            ArrayOf(
                Record(
                    Field("APTITLE_NOTIFY", APTITLE, "host to notify"),
                    Field("MAX_NUMBER_OF_RETRIES", UINT8),
                    Field("RETRY_DELAY", UINT16, unit="s"),
                    Field("EXCLUSION_PERIOD", UINT16, "minimum time between two reports to this host", unit="s"),
                    Field(
                        "EVENT_REPORTED",
                        ArrayOf(UINT16, f"{ACT}.NBR_EXCEPTION_EVENTS"),
                        "event codes (ST72 numbering; 2048 + n = manufacturer event n)",
                    ),
                ),
                f"{ACT}.NBR_EXCEPTION_HOSTS",
            ),
        ),
    ),
    title="Exception report",
    source=_KNOWN + " (25 + 2 x NBR_EXCEPTION_EVENTS octets per host)",
)

FILTERING_RULES_TBL = Table(
    124,
    "FILTERING_RULES_TBL",
    Record(
        Field(
            "FILTERING_RULES",
            ArrayOf(
                Record(
                    Field("INTERFACE_ID", UINT8, "index into ST122/ST125 interfaces; 255 = every interface"),
                    Field(
                        "FILTERING_FLAGS",
                        BitField(
                            UINT8,
                            Bit("RULE_ENABLED_FLAG", 0),
                            Bit("ACCEPT_FLAG", 1, doc="1 forward/accept matching messages, 0 discard them"),
                            Bit("MATCH_CALLING_FLAG", 2, doc="1 match the calling ApTitle, 0 the called"),
                        ),
                    ),
                    Field("APTITLE_PATTERN", APTITLE, "an ApTitle matches when its arcs start with these"),
                ),
                f"{ACT}.NBR_FILTERING_RULES",
            ),
        ),
    ),
    title="Filtering rules",
    source=_RECALLED,
)

INTERFACE_STATUS_TBL = Table(
    125,
    "INTERFACE_STATUS_TBL",
    Record(
        Field(
            "INTERFACE_STATUS",
            ArrayOf(
                Record(
                    Field("INTERFACE_NAME", STRING(20), "e.g. 'WAN', 'PLC', 'ZIGBEE'"),
                    Field(
                        "INTERFACE_STATUS_FLAGS",
                        BitField(
                            UINT8,
                            Bit("INTERFACE_ENABLED_FLAG", 0),
                            Bit("LINK_UP_FLAG", 1, doc="the link layer is connected"),
                            Bit("REGISTERED_FLAG", 2, doc="the node is registered through this interface"),
                            Bit("RELAY_FLAG", 3, doc="the node relays for other nodes on this interface"),
                        ),
                    ),
                    Field("NATIVE_ADDRESS", NATIVE_ADDRESS, "address in use"),
                    Field("BROADCAST_ADDRESS", NATIVE_ADDRESS, "broadcast address in use"),
                    Field("MAX_APDU_SIZE", UINT16, "largest APDU carried without segmentation", unit="octet"),
                ),
                f"{ACT}.NBR_INTERFACES",
            ),
        ),
    ),
    title="Interface status",
    source=_RECALLED,
)

REGISTRATION_STATUS_TBL = Table(
    126,
    "REGISTRATION_STATUS_TBL",
    Record(
        Field(
            "REGISTRATION_STATUS",
            ArrayOf(
                Record(
                    Field("INTERFACE_ID", UINT8, "interface the registration goes through (unnamed by Itron)"),
                    Field("RELAY_NATIVE_ADDRESS", NATIVE_ADDRESS, "relay on this route"),
                    Field("MASTER_RELAY_APTITLE", APTITLE),
                    Field("NODE_APTITLE", APTITLE, "title the master relay assigned"),
                    Field("REGISTRATION_DELAY", UINT16, "max random delay before the first registration", unit="s"),
                    Field("REGISTRATION_PERIOD", UINT24, "registration lifetime", unit="s"),
                    Field("REGISTRATION_COUNT_DOWN", UINT24, "time left before it expires", unit="s"),
                ),
                f"{ACT}.NBR_REGISTRATIONS",
            ),
        ),
    ),
    title="Registration status",
    source=_KNOWN + " (2008 as balloted: 49 + NATIVE_ADDRESS_LEN octets per registration)",
)

NETWORK_STATISTICS_TBL = Table(
    127,
    "NETWORK_STATISTICS_TBL",
    Record(
        Field(
            "STATISTICS",
            ArrayOf(
                Record(
                    Field("INTERFACE_ID", UINT8, "interface counted (unnamed by Itron)"),
                    Field("STATISTIC_CODE", UINT16, "`StatisticCode`; 2048 + n = manufacturer statistic n"),
                    Field("STATISTIC_VALUE", INT48),
                ),
                f"{ACT}.NBR_STATISTICS",
            ),
        ),
    ),
    title="Network statistics",
    source=_KNOWN + " (9 octets per statistic)",
)


class StatisticCode(IntEnum):
    """ST127 standard STATISTIC_CODE values (names after Itron's resource strings)."""

    NO_STATISTIC = 0
    BYTES_SENT = 1
    BYTES_RECEIVED = 2
    PDUS_SENT = 3
    PDUS_RECEIVED = 4
    PDUS_FORWARDED = 5
    PDUS_DROPPED = 6
    TRANSMISSION_ERRORS = 7
    RECEPTION_ERRORS = 8
    COLLISIONS = 9
    MESSAGE_OVERRUNS = 10
    FRAMING_ERRORS = 11
    CHECKSUM_ERRORS = 12
    ACTIVE_ASSOCIATIONS = 13
    ASSOCIATION_TIMEOUTS = 14
    SIGNAL_CARRIERS_LOST = 15
    SIGNAL_STRENGTH_PERCENT = 16
    SIGNAL_STRENGTH_DBM = 17
    REGISTRATIONS_SENT = 18
    REGISTRATIONS_RECEIVED = 19
    REGISTRATIONS_DENIED = 20
    REGISTRATIONS_FAILED = 21
    DEREGISTRATIONS_REQUESTED = 22


MFG_STATISTIC = 0x0800
"""Bit 11 of STATISTIC_CODE: a manufacturer statistic."""


def statistic_name(code: int) -> str:
    """A readable name of a STATISTIC_CODE: ``"PDUS_SENT"``, ``"MFG_1"``, ``"STD_40"`` (unassigned)."""
    if code & MFG_STATISTIC:
        return f"MFG_{code & 0x07FF}"
    try:
        return StatisticCode(code).name
    except ValueError:
        return f"STD_{code}"


TABLES = (
    DIM_NETWORK_TBL,
    ACT_NETWORK_TBL,
    INTERFACE_CTRL_TBL,
    EXCEPTION_REPORT_TBL,
    FILTERING_RULES_TBL,
    INTERFACE_STATUS_TBL,
    REGISTRATION_STATUS_TBL,
    NETWORK_STATISTICS_TBL,
)
