"""Decade 2, data registers: ST20 DIM_REGS_TBL … ST28 PRESENT_REGISTER_DATA_TBL.

Every dimension and flag comes from ST21 ACT_REGS_TBL (bit 0 = least significant bit)::

    ACT_REGS_TBL (10 octets)
      REG_FUNC1_FLAGS  UINT8   SEASON_INFO_FIELD_FLAG b0, DATE_TIME_FIELD_FLAG b1, DEMAND_RESET_CTR_FLAG b2,
                               DEMAND_RESET_LOCK_FLAG b3, CUM_DEMAND_FLAG b4, CONT_CUM_DEMAND_FLAG b5,
                               TIME_REMAINING_FLAG b6
      REG_FUNC2_FLAGS  UINT8   SELF_READ_INHIBIT_OVERFLOW_FLAG b0, SELF_READ_SEQ_NBR_FLAG b1,
                               DAILY_SELF_READ_FLAG b2, WEEKLY_SELF_READ_FLAG b3, SELF_READ_DEMAND_RESET b4–5
      NBR_SELF_READS, NBR_SUMMATIONS, NBR_DEMANDS, NBR_COIN_VALUES, NBR_OCCUR, NBR_TIERS,
      NBR_PRESENT_DEMANDS, NBR_PRESENT_VALUES   UINT8 each

The register image (ST23, and the snapshots in ST24/25/26) is one shared definition::

    REGISTER_DATA_RCD = [NBR_DEMAND_RESETS UINT8]                 if DEMAND_RESET_CTR_FLAG
                        TOT_DATA_BLOCK  DATA_BLK_RCD
                        TIER_DATA_BLOCK ARRAY[NBR_TIERS] OF DATA_BLK_RCD
    DATA_BLK_RCD      = SUMMATIONS  ARRAY[NBR_SUMMATIONS] OF NI_FMAT1
                        DEMANDS     ARRAY[NBR_DEMANDS] OF DEMANDS_RCD
                        COINCIDENTS ARRAY[NBR_COIN_VALUES] OF COINCIDENTS_RCD
    DEMANDS_RCD       = [EVENT_TIME ARRAY[NBR_OCCUR] OF STIME_DATE]  if DATE_TIME_FIELD_FLAG
                        [CUM_DEMAND NI_FMAT1]                        if CUM_DEMAND_FLAG
                        [CONT_CUM_DEMAND NI_FMAT1]                   if CONT_CUM_DEMAND_FLAG
                        DEMAND ARRAY[NBR_OCCUR] OF NI_FMAT2
    COINCIDENTS_RCD   = COINCIDENT_VALUES ARRAY[NBR_OCCUR] OF NI_FMAT2

Source selections (ST22, ST27) are UINT8 indices into ST16 SOURCES_TBL (0xFF = not used); the n-th
selection names the source of the n-th value in ST23 / ST28, so a view joins ST22.SUMMATION_SELECT[i]
→ ST16 → ST12 UOM to label TOT_DATA_BLOCK.SUMMATIONS[i]. MIN_OR_MAX_FLAGS element i set = DEMAND_SELECT[i]
(and so DEMANDS[i]) is a maximum, clear = a minimum.

Sources: c12-protocol-facts.md §7 (ST21); the research notes' §3, which quote the C12.19-2008 table
definitions (ST22, ST23, ST27, ST28) as reproduced in NIST's n0mcli reader and cross-checked with the
Yukon and Aclara code, and a Landis+Gyr firmware header with the standard's names (ST24, ST25, ST26,
LIST_STATUS_BFLD).
"""

from __future__ import annotations

from openami.c1219.schema import (
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
    "ACT_REGS_TBL",
    "COINCIDENTS_RCD",
    "CURRENT_REG_DATA_TBL",
    "DATA_BLK_RCD",
    "DATA_SELECTION_TBL",
    "DEMANDS_RCD",
    "DIM_REGS_TBL",
    "LIST_STATUS_BFLD",
    "PRESENT_DEMAND_RCD",
    "PRESENT_REGISTER_DATA_TBL",
    "PRESENT_REGISTER_SELECT_TBL",
    "PREVIOUS_DEMAND_RESET_DATA_TBL",
    "PREVIOUS_SEASON_DATA_TBL",
    "REGISTER_DATA_RCD",
    "REGISTER_INFO_RCD",
    "REGS_RCD",
    "SELF_READ_DATA_RCD",
    "SELF_READ_DATA_TBL",
    "TABLES",
]

ACT = "ACT_REGS_TBL"
_F1 = f"{ACT}.REG_FUNC1_FLAGS"
_F2 = f"{ACT}.REG_FUNC2_FLAGS"

_SOURCES = "ST21 layout: c12-protocol-facts.md §7 (bits confirmed by NIST n0mcli, Landis+Gyr and Aclara headers)"

REGS_RCD = Record(
    Field(
        "REG_FUNC1_FLAGS",
        BitField(
            UINT8,
            Bit("SEASON_INFO_FIELD_FLAG", 0, doc="SEASON reported with snapshots (ST24–26)"),
            Bit("DATE_TIME_FIELD_FLAG", 1, doc="times reported (EVENT_TIME, END_DATE_TIME)"),
            Bit("DEMAND_RESET_CTR_FLAG", 2, doc="NBR_DEMAND_RESETS counted"),
            Bit("DEMAND_RESET_LOCK_FLAG", 3, doc="demand reset lockout supported"),
            Bit("CUM_DEMAND_FLAG", 4, doc="cumulative demand supported"),
            Bit("CONT_CUM_DEMAND_FLAG", 5, doc="continuous cumulative demand supported"),
            Bit("TIME_REMAINING_FLAG", 6, doc="time remaining in the demand interval reported (ST28)"),
        ),
    ),
    Field(
        "REG_FUNC2_FLAGS",
        BitField(
            UINT8,
            Bit("SELF_READ_INHIBIT_OVERFLOW_FLAG", 0),
            Bit("SELF_READ_SEQ_NBR_FLAG", 1, doc="SELF_READ_SEQ_NBR in ST26 entries"),
            Bit("DAILY_SELF_READ_FLAG", 2, doc="self read every day at 00:00"),
            Bit("WEEKLY_SELF_READ_FLAG", 3, doc="self read every Sunday at 00:00"),
            Bit(
                "SELF_READ_DEMAND_RESET", 4, 5, doc="0 none, 1 self read on demand reset, 2 reset on self read, 3 both"
            ),
        ),
    ),
    Field("NBR_SELF_READS", UINT8),
    Field("NBR_SUMMATIONS", UINT8),
    Field("NBR_DEMANDS", UINT8),
    Field("NBR_COIN_VALUES", UINT8),
    Field("NBR_OCCUR", UINT8),
    Field("NBR_TIERS", UINT8),
    Field("NBR_PRESENT_DEMANDS", UINT8),
    Field("NBR_PRESENT_VALUES", UINT8),
)
"""The 10-octet record shared by ST20 (maximum capabilities) and ST21 (values in use)."""

DIM_REGS_TBL = Table(20, "DIM_REGS_TBL", REGS_RCD, title="Dimension register limiting", source=_SOURCES)
ACT_REGS_TBL = Table(21, ACT, REGS_RCD, title="Actual register limiting", source=_SOURCES)

DATA_SELECTION_TBL = Table(
    22,
    "DATA_SELECTION_TBL",
    Record(
        Field("SUMMATION_SELECT", ArrayOf(UINT8, f"{ACT}.NBR_SUMMATIONS"), "ST16 source index per summation"),
        Field("DEMAND_SELECT", ArrayOf(UINT8, f"{ACT}.NBR_DEMANDS"), "ST16 source index per demand"),
        Field(
            "MIN_OR_MAX_FLAGS",
            SetOf(f"({ACT}.NBR_DEMANDS + 7) / 8"),
            "element i set: DEMAND_SELECT[i] is a maximum; clear: a minimum",
        ),
        Field("COINCIDENT_SELECT", ArrayOf(UINT8, f"{ACT}.NBR_COIN_VALUES"), "ST16 source index per coincident"),
        Field(
            "COIN_DEMAND_ASSOC",
            ArrayOf(UINT8, f"{ACT}.NBR_COIN_VALUES"),
            "index into DEMAND_SELECT of the demand each coincident value goes with",
        ),
    ),
    title="Data selection",
    source="research notes §3 ST22 (C12.19-2008 text as quoted by NIST n0mcli; Landis+Gyr header agrees)",
)

# -- the register image shared by ST23, ST24, ST25 and ST26 ------------------------------------------
COINCIDENTS_RCD = Record(
    Field("COINCIDENT_VALUES", ArrayOf(NI_FMAT2, f"{ACT}.NBR_OCCUR")),
)
"""Values coincident with one demand, one per occurrence (NI_FMAT2)."""

DEMANDS_RCD = Record(
    If(
        f"{_F1}.DATE_TIME_FIELD_FLAG",
        Field("EVENT_TIME", ArrayOf(STIME_DATE, f"{ACT}.NBR_OCCUR"), "time of each minimum / maximum"),
    ),
    If(f"{_F1}.CUM_DEMAND_FLAG", Field("CUM_DEMAND", NI_FMAT1)),
    If(f"{_F1}.CONT_CUM_DEMAND_FLAG", Field("CONT_CUM_DEMAND", NI_FMAT1)),
    Field("DEMAND", ArrayOf(NI_FMAT2, f"{ACT}.NBR_OCCUR"), "[0] the largest maximum / smallest minimum"),
)
"""One demand register: all EVENT_TIMEs first, then the cumulative values, then the NBR_OCCUR values."""

DATA_BLK_RCD = Record(
    Field("SUMMATIONS", ArrayOf(NI_FMAT1, f"{ACT}.NBR_SUMMATIONS")),
    Field("DEMANDS", ArrayOf(DEMANDS_RCD, f"{ACT}.NBR_DEMANDS")),
    Field("COINCIDENTS", ArrayOf(COINCIDENTS_RCD, f"{ACT}.NBR_COIN_VALUES")),
)
"""One block of registers (the total block, or one tier's)."""

REGISTER_DATA_RCD = Record(
    If(f"{_F1}.DEMAND_RESET_CTR_FLAG", Field("NBR_DEMAND_RESETS", UINT8)),
    Field("TOT_DATA_BLOCK", DATA_BLK_RCD, "registers independent of time of use"),
    Field("TIER_DATA_BLOCK", ArrayOf(DATA_BLK_RCD, f"{ACT}.NBR_TIERS"), "registers per TOU tier"),
)
"""The whole ST23 image; ST24/25/26 carry snapshots of it."""

REGISTER_INFO_RCD = Record(
    If(f"{_F1}.DATE_TIME_FIELD_FLAG", Field("END_DATE_TIME", STIME_DATE, "when the snapshot was taken")),
    If(f"{_F1}.SEASON_INFO_FIELD_FLAG", Field("SEASON", UINT8, "season in force at the snapshot")),
)
"""When (and in which season) a register snapshot was taken; empty when neither flag is set."""

CURRENT_REG_DATA_TBL = Table(
    23,
    "CURRENT_REG_DATA_TBL",
    REGISTER_DATA_RCD,
    title="Current register data",
    source=(
        "research notes §3 ST23 (C12.19-2008 text as quoted by NIST n0mcli; parse order identical in Yukon "
        "std_ansi_tbl_23.cpp and the Aclara and Landis+Gyr headers)"
    ),
)

_SNAPSHOT_SOURCE = "research notes §3 ST24/25/26 (Landis+Gyr firmware header with the standard's names; Aclara agrees)"

PREVIOUS_SEASON_DATA_TBL = Table(
    24,
    "PREVIOUS_SEASON_DATA_TBL",
    Record(
        Field("REGISTER_INFO", REGISTER_INFO_RCD),
        Field("PREV_SEASON_REG_DATA", REGISTER_DATA_RCD, "ST23 as it was at the last season change"),
    ),
    title="Previous season data",
    source=_SNAPSHOT_SOURCE,
)

PREVIOUS_DEMAND_RESET_DATA_TBL = Table(
    25,
    "PREVIOUS_DEMAND_RESET_DATA_TBL",
    Record(
        Field("REGISTER_INFO", REGISTER_INFO_RCD),
        Field("PREV_DEMAND_RESET_DATA", REGISTER_DATA_RCD, "ST23 as it was at the last demand reset"),
    ),
    title="Previous demand reset data",
    source=_SNAPSHOT_SOURCE,
)

LIST_STATUS_BFLD = BitField(
    UINT8,
    Bit("ORDER_FLAG", 0, doc="0 ascending (entry N older than N+1), 1 descending"),
    Bit("OVERFLOW_FLAG", 1, doc="an entry was lost because the list was full of unread entries"),
    Bit("LIST_TYPE_FLAG", 2, doc="0 FIFO, 1 circular"),
    Bit("INHIBIT_OVERFLOW_FLAG", 3, doc="copy of SELF_READ_INHIBIT_OVERFLOW_FLAG"),
)
"""Status of a list of entries (ST26's self reads; ST74/ST76 use the same bits)."""

SELF_READ_DATA_RCD = Record(
    If(f"{_F2}.SELF_READ_SEQ_NBR_FLAG", Field("SELF_READ_SEQ_NBR", UINT16)),
    Field("REGISTER_INFO", REGISTER_INFO_RCD),
    Field("SELF_READ_REGISTER_DATA", REGISTER_DATA_RCD),
)

SELF_READ_DATA_TBL = Table(
    26,
    "SELF_READ_DATA_TBL",
    Record(
        Field("LIST_STATUS", LIST_STATUS_BFLD),
        Field("NBR_VALID_ENTRIES", UINT8),
        Field("LAST_ENTRY_ELEMENT", UINT8, "array index of the newest entry (valid when NBR_VALID_ENTRIES > 0)"),
        Field("LAST_ENTRY_SEQ_NBR", UINT16),
        Field("NBR_UNREAD_ENTRIES", UINT8, "changed only by procedures SP4 / SP5"),
        Field("SELF_READS_ENTRIES", ArrayOf(SELF_READ_DATA_RCD, f"{ACT}.NBR_SELF_READS")),
    ),
    title="Self read data",
    source=_SNAPSHOT_SOURCE + "; header widths and the name SELF_READS_ENTRIES from that header only",
)

PRESENT_REGISTER_SELECT_TBL = Table(
    27,
    "PRESENT_REGISTER_SELECT_TBL",
    Record(
        Field("PRESENT_DEMAND_SELECT", ArrayOf(UINT8, f"{ACT}.NBR_PRESENT_DEMANDS"), "ST16 source index"),
        Field("PRESENT_VALUE_SELECT", ArrayOf(UINT8, f"{ACT}.NBR_PRESENT_VALUES"), "ST16 source index"),
    ),
    title="Present register selection",
    source="research notes §3 ST27 (C12.19-2008 text as quoted by NIST n0mcli; Landis+Gyr header agrees)",
)

PRESENT_DEMAND_RCD = Record(
    If(
        f"{_F1}.TIME_REMAINING_FLAG",
        Field("TIME_REMAINING", TIME, "time left in the present demand interval (a TIME of day type)"),
    ),
    Field("DEMAND_VALUE", NI_FMAT2),
)

PRESENT_REGISTER_DATA_TBL = Table(
    28,
    "PRESENT_REGISTER_DATA_TBL",
    Record(
        Field("PRESENT_DEMAND", ArrayOf(PRESENT_DEMAND_RCD, f"{ACT}.NBR_PRESENT_DEMANDS")),
        Field("PRESENT_VALUE", ArrayOf(NI_FMAT1, f"{ACT}.NBR_PRESENT_VALUES")),
    ),
    title="Present register data",
    source="research notes §3 ST28 (C12.19-2008 text as quoted by NIST n0mcli; Landis+Gyr header agrees)",
)

TABLES = (
    DIM_REGS_TBL,
    ACT_REGS_TBL,
    DATA_SELECTION_TBL,
    CURRENT_REG_DATA_TBL,
    PREVIOUS_SEASON_DATA_TBL,
    PREVIOUS_DEMAND_RESET_DATA_TBL,
    SELF_READ_DATA_TBL,
    PRESENT_REGISTER_SELECT_TBL,
    PRESENT_REGISTER_DATA_TBL,
)
