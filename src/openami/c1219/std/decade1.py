"""Decade 1, data sources: ST10 DIM_SOURCES_LIM_TBL … ST16 SOURCE_DEFINITION_TBL.

ST11 gives the dimensions and flags of ST12–ST16. ST16 says, per data source, which of ST12 (unit of
measure), ST13 (demand control), ST14 (data control) and ST15 (constants) hold an entry for it; the
entries are not indexed by source number but in order of the sources whose flag is set (the standard's
"bit walk") — `source_indices` does that walk. Unit codes of ST12 entries: `openami.c1219.uom`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openami.c1219.schema import (
    BINARY,
    NI_FMAT1,
    UINT8,
    UINT16,
    UINT32,
    ArrayOf,
    Bit,
    BitField,
    Field,
    If,
    Record,
    Switch,
    Table,
)
from openami.errors import LocalProtocolError

__all__ = [
    "ACT_SOURCES_LIM_TBL",
    "CONSTANTS_TBL",
    "DATA_CONTROL_TBL",
    "DEMAND_CONTROL_TBL",
    "DIM_SOURCES_LIM_TBL",
    "SOURCE_DEFINITION_TBL",
    "TABLES",
    "UOM_ENTRY_BFLD",
    "UOM_ENTRY_TBL",
    "SourceIndex",
    "source_indices",
]

ACT = "ACT_SOURCES_LIM_TBL"
_FLAGS = f"{ACT}.SOURCE_FLAGS"
_V2 = "GEN_CONFIG_TBL.STD_VERSION_NO >= 2"

# -- ST10 / ST11 ----------------------------------------------------------------------------------------
_FLAG_BITS = (
    Bit("PF_EXCLUDE_FLAG", 0, doc="power-fail exclusion in use (ST13 P_FAIL_* present)"),
    Bit("RESET_EXCLUDE_FLAG", 1, doc="reset exclusion in use (ST13 RESET_EXCLUSION present)"),
    Bit("BLOCK_DEMAND_FLAG", 2),
    Bit("SLIDING_DEMAND_FLAG", 3, doc="ST13 intervals are SUB_INT × INT_MULTIPLIER"),
    Bit("THERMAL_DEMAND_FLAG", 4),
    Bit("SET1_PRESENT_FLAG", 5, doc="ST15 electric records carry SET1_CONSTANTS"),
    Bit("SET2_PRESENT_FLAG", 6, doc="ST15 electric records carry SET2_CONSTANTS"),
)
SOURCE_FLAGS_BFLD = Switch(
    _V2,
    {
        0: BitField(UINT8, *_FLAG_BITS, Bit("NO_OFFSET_FLAG", 7, doc="ST15 electric records have no OFFSET")),
        1: BitField(UINT8, *_FLAG_BITS, Bit("CONVERSION_ALG_FLAG", 7, doc="Annex K conversion algorithm")),
    },
)
"""SOURCE_FLAGS (UINT8), b0–b6 as named; b7 depends on the edition: NO_OFFSET_FLAG in C12.19-1997
(STD_VERSION_NO 1; the Yukon head-end's ST11/ST15 parsers for GE/Itron meters), CONVERSION_ALG_FLAG in
the 2008 edition (STD_VERSION_NO ≥ 2; NIST n0mcli's quoted text, Hexing firmware)."""


def _sources_lim(number: int, name: str, title: str) -> Table:
    return Table(
        number,
        name,
        Record(
            Field("SOURCE_FLAGS", SOURCE_FLAGS_BFLD),
            Field("NBR_UOM_ENTRIES", UINT8, "entries in ST12"),
            Field("NBR_DEMAND_CTRL_ENTRIES", UINT8, "entries in ST13"),
            Field("DATA_CTRL_LENGTH", UINT8, "octets of one ST14 entry", unit="octet"),
            Field("NBR_DATA_CTRL_ENTRIES", UINT8, "entries in ST14"),
            Field("NBR_CONSTANTS_ENTRIES", UINT8, "entries in ST15"),
            Field("CONSTANTS_SELECTOR", UINT8, "ST15 record: 0 gas AGA3, 1 gas AGA7, 2 electric"),
            Field("NBR_SOURCES", UINT8, "entries in ST16"),
        ),
        title=title,
        source="c12-protocol-facts.md §7; L+G firmware, Yukon and NIST n0mcli structs agree (8 octets); "
        "SOURCE_FLAGS b7 by edition as in SOURCE_FLAGS_BFLD",
    )


DIM_SOURCES_LIM_TBL = _sources_lim(10, "DIM_SOURCES_LIM_TBL", "Dimension sources limiting")
"""ST10 (8 octets): the maximum dimensions of ST12–ST16; same layout as ST11."""
ACT_SOURCES_LIM_TBL = _sources_lim(11, ACT, "Actual sources limiting")
"""ST11 (8 octets): SOURCE_FLAGS(1) NBR_UOM_ENTRIES NBR_DEMAND_CTRL_ENTRIES DATA_CTRL_LENGTH
NBR_DATA_CTRL_ENTRIES NBR_CONSTANTS_ENTRIES CONSTANTS_SELECTOR NBR_SOURCES (1 each)."""

# -- ST12 -----------------------------------------------------------------------------------------------
UOM_ENTRY_BFLD = BitField(
    UINT32,
    Bit("ID_CODE", 0, 7, "physical quantity (uom.ID_CODES)"),
    Bit("TIME_BASE", 8, 10, "uom.TimeBase"),
    Bit("MULTIPLIER", 11, 13, "power of ten (uom.MULTIPLIER_EXPONENTS)"),
    Bit("Q1_ACCOUNTABILITY", 14),
    Bit("Q2_ACCOUNTABILITY", 15),
    Bit("Q3_ACCOUNTABILITY", 16),
    Bit("Q4_ACCOUNTABILITY", 17),
    Bit("NET_FLOW_ACCOUNTABILITY", 18, doc="0 quadrants added as absolute values, 1 net"),
    Bit("SEGMENTATION", 19, 21, "uom.Segmentation"),
    Bit("HARMONIC", 22, doc="harmonic component only"),
    Bit("ID_RESOURCE", 23, 27),
    Bit("NFS", 31, doc="does not follow the standard's unit definitions"),
)
"""UOM_ENTRY_BFLD (UINT32): ID_CODE b0–7, TIME_BASE b8–10, MULTIPLIER b11–13, Q1..Q4_ACCOUNTABILITY b14–17,
NET_FLOW_ACCOUNTABILITY b18, SEGMENTATION b19–21, HARMONIC b22, ID_RESOURCE b23–27, b28–30 reserved
(FILLER), NFS b31."""

UOM_ENTRY_TBL = Table(
    12,
    "UOM_ENTRY_TBL",
    Record(Field("UOM_ENTRY", ArrayOf(UOM_ENTRY_BFLD, f"{ACT}.NBR_UOM_ENTRIES"))),
    title="Units of measure",
    source="c12-protocol-facts.md §7; research notes §4 (NIST n0mcli quoted text, Yukon, Aclara, L+G)",
)
"""ST12: UOM_ENTRY[NBR_UOM_ENTRIES] of UOM_ENTRY_BFLD (4 octets each)."""

# -- ST13 -----------------------------------------------------------------------------------------------
INT_CONTROL_RCD = Record(
    If(
        f"{_FLAGS}.SLIDING_DEMAND_FLAG",
        Field("SUB_INT", UINT8, "sub-interval length", unit="min"),
        Field("INT_MULTIPLIER", UINT8, "sub-intervals per demand interval"),
        orelse=(Field("INT_LENGTH", UINT16, "demand interval length", unit="min"),),
    )
)

DEMAND_CONTROL_TBL = Table(
    13,
    "DEMAND_CONTROL_TBL",
    Record(
        If(
            f"{_FLAGS}.RESET_EXCLUDE_FLAG",
            Field("RESET_EXCLUSION", UINT8, "time after a demand reset during which resets are refused", unit="min"),
        ),
        If(
            f"{_FLAGS}.PF_EXCLUDE_FLAG",
            Field("P_FAIL_RECOGNTN_TM", UINT8, "outage length before it counts as a power failure", unit="s"),
            Field("P_FAIL_EXCLUSION", UINT8, "demand calculation inhibited after a power failure", unit="min"),
            Field("COLD_LOAD_PICKUP", UINT8, "cold-load pickup time after a power failure", unit="min"),
        ),
        Field("INTERVAL_VALUE", ArrayOf(INT_CONTROL_RCD, f"{ACT}.NBR_DEMAND_CTRL_ENTRIES")),
    ),
    title="Demand control",
    source="research notes ST13 (L+G firmware struct, Aclara struct agree)",
)
"""ST13: [RESET_EXCLUSION(1)] [P_FAIL_RECOGNTN_TM(1) P_FAIL_EXCLUSION(1) COLD_LOAD_PICKUP(1)]
INTERVAL_VALUE[NBR_DEMAND_CTRL_ENTRIES] of {SUB_INT(1) INT_MULTIPLIER(1)} (sliding) or {INT_LENGTH(2)}."""

# -- ST14 -----------------------------------------------------------------------------------------------
DATA_CONTROL_TBL = Table(
    14,
    "DATA_CONTROL_TBL",
    Record(
        Field(
            "SOURCE_ID",
            ArrayOf(BINARY(f"{ACT}.DATA_CTRL_LENGTH"), f"{ACT}.NBR_DATA_CTRL_ENTRIES"),
            "manufacturer-defined source identifiers",
        )
    ),
    title="Data control",
    source="research notes ST14 (L+G firmware, Aclara)",
)
"""ST14: SOURCE_ID[NBR_DATA_CTRL_ENTRIES] of DATA_CTRL_LENGTH raw octets (manufacturer-defined)."""

# -- ST15 -----------------------------------------------------------------------------------------------
SET_APPLIED_RCD = Record(
    Field("SET_FLAGS", BitField(UINT8, Bit("SET_APPLIED_FLAG", 0))),
    Field("RATIO_F1", NI_FMAT1, "ratio of the flow (current) transformer"),
    Field("RATIO_P1", NI_FMAT1, "ratio of the pressure (voltage) transformer"),
)
_SETS = (
    If(f"{_FLAGS}.SET1_PRESENT_FLAG", Field("SET1_CONSTANTS", SET_APPLIED_RCD)),
    If(f"{_FLAGS}.SET2_PRESENT_FLAG", Field("SET2_CONSTANTS", SET_APPLIED_RCD)),
)
ELECTRIC_CONSTANTS_RCD = Record(
    Field("MULTIPLIER", NI_FMAT1),
    If(f"{_V2} or not {_FLAGS}.NO_OFFSET_FLAG", Field("OFFSET", NI_FMAT1)),
    *_SETS,
)
_GAS_PRESSURE_RCD = Record(
    Field("GAS_PRESS_ZERO", NI_FMAT1),
    Field("GAS_PRESS_FULLSCALE", NI_FMAT1),
    Field("BASE_PRESSURE", NI_FMAT1),
)
_GAS_TEMP_RCD = Record(
    Field("GAS_TEMP_ZERO", NI_FMAT1),
    Field("GAS_TEMP_FULLSCALE", NI_FMAT1),
    Field("BASE_TEMP", NI_FMAT1),
)
_GAS_ENERGY_RCD = Record(Field("GAS_ENERGY_ZERO", NI_FMAT1), Field("GAS_ENERGY_FULL", NI_FMAT1))
GAS_CONSTANTS_AGA3_RCD = Record(
    Field("GAS_DP_PARM", Record(Field("GAS_DP_ZERO", NI_FMAT1), Field("GAS_DP_FULLSCALE", NI_FMAT1))),
    Field("GAS_DP_SHUTOFF", Record(Field("GAS_SHUTOFF", NI_FMAT1))),
    Field("GAS_PRESS_PARM", _GAS_PRESSURE_RCD),
    Field(
        "GAS_AGA3_CORR",
        Record(
            Field("AUX_CORR_FCTR", NI_FMAT1),
            Field("GAS_AGA3_CORR_FCTR", NI_FMAT1),
            Field("PIPE_ORIF_DIA", Record(Field("PIPE_DIA", NI_FMAT1), Field("ORIF_DIA", NI_FMAT1))),
            Field("TAP_UP_DN", UINT8, "pressure tap upstream / downstream"),
            Field("GAS_PRESS_PARM", _GAS_PRESSURE_RCD),
            Field("GAS_TEMP_PARM", _GAS_TEMP_RCD),
        ),
    ),
    Field("GAS_ENERGY", _GAS_ENERGY_RCD),
)
GAS_CONSTANTS_AGA7_RCD = Record(
    Field(
        "GAS_AGA7_CORR",
        Record(
            Field("GAS_PRESS_PARM", _GAS_PRESSURE_RCD),
            Field("GAS_TEMP_PARM", _GAS_TEMP_RCD),
            Field("AUX_CORR_FCTR", NI_FMAT1),
            Field("GAS_AGA7_CORR", NI_FMAT1),
        ),
    ),
    Field("GAS_ENERGY", _GAS_ENERGY_RCD),
)

CONSTANTS_TBL = Table(
    15,
    "CONSTANTS_TBL",
    Record(
        Field(
            "SELECTION",
            ArrayOf(
                Switch(
                    f"{ACT}.CONSTANTS_SELECTOR",
                    {0: GAS_CONSTANTS_AGA3_RCD, 1: GAS_CONSTANTS_AGA7_RCD, 2: ELECTRIC_CONSTANTS_RCD},
                ),
                f"{ACT}.NBR_CONSTANTS_ENTRIES",
            ),
        )
    ),
    title="Constants",
    source="electric: research notes ST15 (L+G, Aclara) and the Yukon head-end parser (OFFSET absent when "
    "1997 NO_OFFSET_FLAG); gas AGA3/AGA7: field names and order from the Yukon head-end's structs, "
    "all values read as NI_FMAT1 and TAP_UP_DN as UINT8 — types UNCERTAIN (Yukon never parses them)",
)
"""ST15: SELECTION[NBR_CONSTANTS_ENTRIES], each chosen by CONSTANTS_SELECTOR (other selectors do not bind).

Electric (2): MULTIPLIER NI1, [OFFSET NI1], [SET1_CONSTANTS], [SET2_CONSTANTS], each set
{SET_FLAGS(1) RATIO_F1 NI1 RATIO_P1 NI1}. Gas AGA3 (0): 18 NI1 values + TAP_UP_DN(1); gas AGA7 (1): 10 NI1
values (UNCERTAIN types).
"""

# -- ST16 -----------------------------------------------------------------------------------------------
SOURCE_LINK_BFLD = BitField(
    UINT8,
    Bit("UOM_ENTRY_FLAG", 0, doc="the source has an ST12 entry"),
    Bit("DEMAND_CTRL_FLAG", 1, doc="… an ST13 entry"),
    Bit("DATA_CTRL_FLAG", 2, doc="… an ST14 entry"),
    Bit("CONSTANTS_FLAG", 3, doc="… an ST15 entry"),
    Bit("PULSE_ENGR_FLAG", 4, doc="0 pulses, 1 engineering units"),
    Bit("CONSTANT_TO_BE_APPLIED", 5, doc="the ST15 constants are still to be applied by the reader"),
)

SOURCE_DEFINITION_TBL = Table(
    16,
    "SOURCE_DEFINITION_TBL",
    Record(Field("SOURCE_LINK", ArrayOf(SOURCE_LINK_BFLD, f"{ACT}.NBR_SOURCES"))),
    title="Source definition",
    source="research notes ST16 (NIST n0mcli quoted text, L+G, Aclara agree)",
)
"""ST16: SOURCE_LINK[NBR_SOURCES] of UINT8 (UOM_ENTRY b0, DEMAND_CTRL b1, DATA_CTRL b2, CONSTANTS b3,
PULSE_ENGR b4, CONSTANT_TO_BE_APPLIED b5)."""

TABLES = (
    DIM_SOURCES_LIM_TBL,
    ACT_SOURCES_LIM_TBL,
    UOM_ENTRY_TBL,
    DEMAND_CONTROL_TBL,
    DATA_CONTROL_TBL,
    CONSTANTS_TBL,
    SOURCE_DEFINITION_TBL,
)


# -- the bit walk -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceIndex:
    """Where one data source's entries are: element numbers in ST12–ST15 (None when it has none)."""

    uom: int | None
    demand_ctrl: int | None
    data_ctrl: int | None
    constants: int | None


_WALK = (
    ("UOM_ENTRY_FLAG", "uom"),
    ("DEMAND_CTRL_FLAG", "demand_ctrl"),
    ("DATA_CTRL_FLAG", "data_ctrl"),
    ("CONSTANTS_FLAG", "constants"),
)


def source_indices(source_link: Sequence[Mapping[str, Any]]) -> list[SourceIndex]:
    """Per source (ST16 SOURCE_LINK, decoded), its element numbers in ST12, ST13, ST14 and ST15.

    The n-th ST12 entry belongs to the n-th source whose UOM_ENTRY_FLAG is set, and likewise for the
    other three tables. Raises `LocalProtocolError` for a value that is not a decoded SOURCE_LINK.
    """
    counters = dict.fromkeys((attr for _, attr in _WALK), 0)
    out: list[SourceIndex] = []
    for number, link in enumerate(source_link):
        if not isinstance(link, Mapping):
            raise LocalProtocolError(f"SOURCE_LINK[{number}] needs a decoded bit field, got {link!r}")
        found: dict[str, int | None] = {}
        for flag, attr in _WALK:
            if link.get(flag, False):
                found[attr] = counters[attr]
                counters[attr] += 1
            else:
                found[attr] = None
        out.append(SourceIndex(**found))
    return out
