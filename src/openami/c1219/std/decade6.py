"""Decade 6, load profile: ST60 DIM_LP_TBL … ST67 LP_DATA_SET4_TBL.

Up to four independent load-profile data sets. ST60/ST61 give the (maximum/actual) dimensions, ST62
selects the sources and the interval format of each set, ST63 tells where the newest block is, and
ST64–ST67 hold the blocks of interval data. The per-set parts of ST61–ST63 are present only for sets
whose data table (64 + set − 1) is in GEN_CONFIG_TBL.STD_TBLS_USED.

Sources (see each table's ``source``): c12-protocol-facts.md §7 (ST61), and the research notes
(docs/c1219-sources.md §3) built on NIST n0mcli ``c1219.h`` (which quotes the C12.19-2008 table text
for ST60–ST64), the Itron PSEM sources and the Yukon server's ST61/ST64 classes.

Edition rule for LP_FLAGS bit 12 (an openami choice, following the research notes; medium confidence):

- GEN_CONFIG_TBL.STD_VERSION_NO < 2 (C12.19-1997): bit 12 is ``CLOSURE_STATUS_FLAG`` and, when set,
  each ST64–67 block carries ``CLOSURE_STATUS`` (one UINT16 per channel: STATUS b0–3,
  NBR_VALID_INTERVAL b4–15) between END_READINGS and SIMPLE_INT_STATUS (Yukon and Itron readers).
- STD_VERSION_NO ≥ 2 (C12.19-2008): bit 12 is ``BLK_END_RD_INDICATOR_FLAG`` (END_READINGS are
  cumulative only across their block), a meaning only — no extra field in the block.

Interval data type: ST62 INT_FMT_CDEn is one of the single-bit codes in `INT_FMT_CODES`
(1 UINT8, 2 UINT16, 4 UINT32, 8 INT8, 16 INT16, 32 INT32, 64 NI_FMAT1, 128 NI_FMAT2); any other
code makes the ST64–67 layout fail to bind with `LocalProtocolError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openami.c1219.schema import (
    INT8,
    INT16,
    INT32,
    NI_FMAT1,
    NI_FMAT2,
    STIME_DATE,
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
    Switch,
    Table,
    Type,
)
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "ACT_LP_TBL",
    "CHANNEL_STATUS",
    "CLOSURE_STATUS_CODES",
    "DIM_LP_TBL",
    "INT_FMT_CODES",
    "LP_CTRL_TBL",
    "LP_DATA_SET1_TBL",
    "LP_DATA_SET2_TBL",
    "LP_DATA_SET3_TBL",
    "LP_DATA_SET4_TBL",
    "LP_STATUS_TBL",
    "TABLES",
    "ExtendedIntStatus",
    "extended_status_size",
]

GEN = "GEN_CONFIG_TBL"
ACT_LP = "ACT_LP_TBL"
SETS = (1, 2, 3, 4)
EDITION_1997 = f"{GEN}.STD_VERSION_NO < 2"
_RESEARCH = "research notes (docs/c1219-sources.md) §3 (NIST n0mcli c1219.h quoting the 2008 text; Itron PSEM)"

INT_FMT_CODES: dict[int, str] = {
    1: "UINT8",
    2: "UINT16",
    4: "UINT32",
    8: "INT8",
    16: "INT16",
    32: "INT32",
    64: "NI_FMAT1",
    128: "NI_FMAT2",
}
"""ST62 INT_FMT_CDEn → interval data type (the code is the matching ST61 LP_FMATS bit's value)."""

_INT_FMT_TYPES: dict[int, Type] = {
    1: UINT8,
    2: UINT16,
    4: UINT32,
    8: INT8,
    16: INT16,
    32: INT32,
    64: NI_FMAT1,
    128: NI_FMAT2,
}

CHANNEL_STATUS: dict[int, str] = {
    0: "no exception",
    1: "numeric overflow",
    2: "partial interval due to common state",
    3: "long interval due to common state",
    4: "skipped interval due to common state",
    5: "interval contains test mode data",
    6: "configuration changed during interval",
    7: "load profile recording stopped",
}
"""Channel status nibble codes of EXTENDED_INT_STATUS (8–15 reserved)."""

CLOSURE_STATUS_CODES: dict[int, str] = {
    0: "block not closed",
    1: "normal closure",
    2: "unspecified",
    3: "overflow",
    4: "test mode",
    5: "power failure",
    6: "clock adjusted forward",
    7: "clock adjusted backward",
    8: "recorder stopped",
    9: "configuration changed",
}
"""CLOSURE_STATUS.STATUS codes (1997 edition blocks) as Itron's reader names them — UNCERTAIN whether
these are the standard's words or Itron's."""


def _set_used(n: int) -> str:
    return f"{GEN}.STD_TBLS_USED[{63 + n}]"


# -- ST60 / ST61 ---------------------------------------------------------------------------------------
_LP_FLAG_BITS = (
    *(Bit(f"LP_SET{n}_INHIBIT_OVF_FLAG", n - 1) for n in SETS),
    Bit("BLK_END_READ_FLAG", 4),
    Bit("BLK_END_PULSE_FLAG", 5),
    *(Bit(f"SCALAR_DIVISOR_FLAG_SET{n}", 5 + n) for n in SETS),
    Bit("EXTENDED_INT_STATUS_FLAG", 10),
    Bit("SIMPLE_INT_STATUS_FLAG", 11),
)

LP_FLAGS_BFLD_1997 = BitField(UINT16, *_LP_FLAG_BITS, Bit("CLOSURE_STATUS_FLAG", 12))
LP_FLAGS_BFLD = BitField(UINT16, *_LP_FLAG_BITS, Bit("BLK_END_RD_INDICATOR_FLAG", 12))

LP_FMATS_BFLD = BitField(
    UINT8,
    Bit("INV_UINT8_FLAG", 0),
    Bit("INV_UINT16_FLAG", 1),
    Bit("INV_UINT32_FLAG", 2),
    Bit("INV_INT8_FLAG", 3),
    Bit("INV_INT16_FLAG", 4),
    Bit("INV_INT32_FLAG", 5),
    Bit("INV_NI_FMAT1_FLAG", 6),
    Bit("INV_NI_FMAT2_FLAG", 7),
)


def _lp_set_dims(n: int) -> If:
    return If(
        _set_used(n),
        Field(f"NBR_BLKS_SET{n}", UINT16, f"blocks in LP_DATA_SET{n}_TBL"),
        Field(f"NBR_BLK_INTS_SET{n}", UINT16, "intervals per block"),
        Field(f"NBR_CHNS_SET{n}", UINT8, "channels"),
        Field(f"MAX_INT_TIME_SET{n}", UINT8, "interval duration", unit="min"),
    )


LP_SET_RCD = Record(
    Field("LP_MEMORY_LEN", UINT32, "storage for load-profile data (ST64–67 together)", unit="octet"),
    If(
        EDITION_1997,
        Field("LP_FLAGS", LP_FLAGS_BFLD_1997, "1997 edition: bit 12 CLOSURE_STATUS_FLAG"),
        orelse=(Field("LP_FLAGS", LP_FLAGS_BFLD, "2008 edition: bit 12 BLK_END_RD_INDICATOR_FLAG"),),
    ),
    Field("LP_FMATS", LP_FMATS_BFLD, "interval formats the device can use"),
    *(_lp_set_dims(n) for n in SETS),
)
"""ST60/ST61 layout: LP_MEMORY_LEN UINT32, LP_FLAGS UINT16, LP_FMATS UINT8, then per used set
NBR_BLKS UINT16, NBR_BLK_INTS UINT16, NBR_CHNS UINT8, MAX_INT_TIME UINT8 (7 + 6 per set octets)."""

_ST61_SOURCE = "c12-protocol-facts.md §7 ST61; " + _RESEARCH + "; bit 12 by edition per Yukon/Itron (see module doc)"

DIM_LP_TBL = Table(60, "DIM_LP_TBL", LP_SET_RCD, title="Load profile dimension limits", source=_ST61_SOURCE)
ACT_LP_TBL = Table(61, ACT_LP, LP_SET_RCD, title="Actual load profile limiting", source=_ST61_SOURCE)

# -- ST62 --------------------------------------------------------------------------------------------
LP_SOURCE_SEL_RCD = Record(
    Field("CHNL_FLAG", BitField(UINT8, Bit("END_RDG_FLAG", 0)), "END_RDG_FLAG: channel has a block-end reading"),
    Field("LP_SOURCE_SELECT", UINT8, "interval data source: index into ST16 (0xFF unused)"),
    Field("END_BLK_RDG_SOURCE_SELECT", UINT8, "block-end reading source: index into ST16"),
)
"""One channel's sources (3 octets)."""


def _lp_ctrl_set(n: int) -> If:
    chns = f"{ACT_LP}.NBR_CHNS_SET{n}"
    return If(
        _set_used(n),
        Field(f"LP_SEL_SET{n}", ArrayOf(LP_SOURCE_SEL_RCD, chns)),
        Field(f"INT_FMT_CDE{n}", UINT8, "interval data format, see INT_FMT_CODES"),
        If(
            f"{ACT_LP}.LP_FLAGS.SCALAR_DIVISOR_FLAG_SET{n}",
            Field(f"SCALARS_SET{n}", ArrayOf(UINT16, chns), "value = raw × scalar ÷ divisor"),
            Field(f"DIVISOR_SET{n}", ArrayOf(UINT16, chns)),
        ),
    )


LP_CTRL_TBL = Table(
    62,
    "LP_CTRL_TBL",
    Record(*(_lp_ctrl_set(n) for n in SETS)),
    title="Load profile control",
    source=_RESEARCH + "; INT_FMT_CDE single-bit codes per n0mcli INT_FMT_ENUM, Itron LPDataFormats",
)

# -- ST63 --------------------------------------------------------------------------------------------
LP_SET_STATUS_BFLD = BitField(
    UINT8,
    Bit("ORDER", 0, doc="false ascending (block N older than N+1), true descending"),
    Bit("OVERFLOW_FLAG", 1),
    Bit("LIST_TYPE", 2, doc="false FIFO, true circular"),
    Bit("BLOCK_INHIBIT_OVERFLOW_FLAG", 3),
    Bit("INTERVAL_ORDER", 4, doc="false ascending, true descending within a block"),
    Bit("ACTIVE_MODE_FLAG", 5, doc="the set is collecting data"),
    Bit("TEST_MODE", 6, doc="the set is collecting test-mode data"),
)

LP_SET_STATUS_RCD = Record(
    Field("LP_SET_STATUS_FLAGS", LP_SET_STATUS_BFLD),
    Field("NBR_VALID_BLOCKS", UINT16),
    Field("LAST_BLOCK_ELEMENT", UINT16, "array index of the newest valid block"),
    Field("LAST_BLOCK_SEQ_NBR", UINT32, "sequence number of the newest valid block"),
    Field("NBR_UNREAD_BLOCKS", UINT16),
    Field("NBR_VALID_INT", UINT16, "valid intervals in the newest block"),
)
"""One set's status (13 octets)."""

LP_STATUS_TBL = Table(
    63,
    "LP_STATUS_TBL",
    Record(*(If(_set_used(n), Field(f"LP_STATUS_SET{n}", LP_SET_STATUS_RCD)) for n in SETS)),
    title="Load profile status",
    source=_RESEARCH + "; Yukon, Aclara agree on the 13-octet record",
)

# -- ST64..ST67 --------------------------------------------------------------------------------------
CLOSURE_STATUS_BFLD = BitField(UINT16, Bit("STATUS", 0, 3), Bit("NBR_VALID_INTERVAL", 4, 15))


def _lp_data_set(n: int) -> Table:
    """LP_DATA_SETn_TBL (ST 63 + n): ARRAY[NBR_BLKS_SETn] OF LP_BLKn_DAT_RCD.

    Block: BLK_END_TIME STIME_DATE; END_READINGS ARRAY[NBR_CHNS] OF {BLOCK_END_READ NI_FMAT1 if
    BLK_END_READ_FLAG, BLOCK_END_PULSE UINT32 if BLK_END_PULSE_FLAG}; CLOSURE_STATUS (1997 edition, see
    the module doc); SIMPLE_INT_STATUS SET((NBR_BLK_INTS + 7) / 8) if SIMPLE_INT_STATUS_FLAG (bit i =
    interval i valid); LP_INT ARRAY[NBR_BLK_INTS] OF {EXTENDED_INT_STATUS ARRAY[NBR_CHNS / 2 + 1] OF
    UINT8 if EXTENDED_INT_STATUS_FLAG (see `ExtendedIntStatus`), INT_DATA ARRAY[NBR_CHNS] OF the
    INT_FMT_CDEn type}.
    """
    flags = f"{ACT_LP}.LP_FLAGS"
    chns = f"{ACT_LP}.NBR_CHNS_SET{n}"
    ints = f"{ACT_LP}.NBR_BLK_INTS_SET{n}"
    readings = Record(
        If(f"{flags}.BLK_END_READ_FLAG", Field("BLOCK_END_READ", NI_FMAT1)),
        If(f"{flags}.BLK_END_PULSE_FLAG", Field("BLOCK_END_PULSE", UINT32, unit="pulse")),
    )
    interval = Record(
        If(
            f"{flags}.EXTENDED_INT_STATUS_FLAG",
            Field("EXTENDED_INT_STATUS", ArrayOf(UINT8, f"{chns} / 2 + 1"), "common flags + channel nibbles"),
        ),
        Field("INT_DATA", ArrayOf(Switch(f"LP_CTRL_TBL.INT_FMT_CDE{n}", _INT_FMT_TYPES), chns)),
    )
    block = Record(
        Field("BLK_END_TIME", STIME_DATE, "end time of the block's last interval"),
        Field("END_READINGS", ArrayOf(readings, chns)),
        If(
            f"{EDITION_1997} and {flags}.CLOSURE_STATUS_FLAG",
            Field("CLOSURE_STATUS", ArrayOf(CLOSURE_STATUS_BFLD, chns), "1997 edition only"),
        ),
        If(f"{flags}.SIMPLE_INT_STATUS_FLAG", Field("SIMPLE_INT_STATUS", SetOf(f"({ints} + 7) / 8"))),
        Field("LP_INT", ArrayOf(interval, ints)),
    )
    return Table(
        63 + n,
        f"LP_DATA_SET{n}_TBL",
        Record(Field(f"LP_DATA_SET{n}", ArrayOf(block, f"{ACT_LP}.NBR_BLKS_SET{n}"))),
        title=f"Load profile data set {n}",
        source=_RESEARCH + "; Itron LPBlockDataRecord; CLOSURE_STATUS per Yukon std_ansi_tbl_64.h (1997 edition)",
    )


LP_DATA_SET1_TBL = _lp_data_set(1)
LP_DATA_SET2_TBL = _lp_data_set(2)
LP_DATA_SET3_TBL = _lp_data_set(3)
LP_DATA_SET4_TBL = _lp_data_set(4)


# -- decoded view of EXTENDED_INT_STATUS -------------------------------------------------------------
def extended_status_size(nbr_chns: int) -> int:
    """Octets of EXTENDED_INT_STATUS for ``nbr_chns`` channels: ``nbr_chns // 2 + 1``."""
    return nbr_chns // 2 + 1


@dataclass(frozen=True, slots=True)
class ExtendedIntStatus:
    """EXTENDED_INT_STATUS of one interval, split into its common flags and channel nibbles.

    Layout: octet 0 high nibble = common flags (b4 DST, b5 power fail, b6 clock set forward,
    b7 clock set backward), octet 0 low nibble = channel 1; octet k ≥ 1 high nibble = channel 2k,
    low nibble = channel 2k + 1 (channels counted from 1; a last unused nibble is fill, written 0).
    ``channels[i]`` is the status code of channel i + 1 (see `CHANNEL_STATUS`).
    """

    channels: tuple[int, ...]
    dst: bool = False
    power_fail: bool = False
    clock_set_forward: bool = False
    clock_set_backward: bool = False

    @classmethod
    def from_octets(cls, octets: Sequence[int], nbr_chns: int) -> ExtendedIntStatus:
        """Split decoded EXTENDED_INT_STATUS octets (raises `RemoteProtocolError` for a wrong length)."""
        if len(octets) != extended_status_size(nbr_chns) or not all(0 <= o <= 0xFF for o in octets):
            raise RemoteProtocolError(
                f"EXTENDED_INT_STATUS for {nbr_chns} channels is {extended_status_size(nbr_chns)} octets,"
                f" got {list(octets)!r}"
            )
        channels = tuple(_nibble(octets, i) for i in range(nbr_chns))
        head = octets[0]
        return cls(channels, bool(head & 0x10), bool(head & 0x20), bool(head & 0x40), bool(head & 0x80))

    def to_octets(self) -> list[int]:
        """The EXTENDED_INT_STATUS octets (``len(channels) // 2 + 1`` of them)."""
        if not all(isinstance(c, int) and 0 <= c <= 15 for c in self.channels):
            raise LocalProtocolError(f"channel status codes are 0..15, got {self.channels!r}")
        octets = [0] * extended_status_size(len(self.channels))
        octets[0] = self.dst << 4 | self.power_fail << 5 | self.clock_set_forward << 6 | self.clock_set_backward << 7
        for i, code in enumerate(self.channels):
            index, shift = _nibble_place(i)
            octets[index] |= code << shift
        return octets


def _nibble_place(channel_index: int) -> tuple[int, int]:
    """(octet, shift) of 0-based channel ``channel_index``: odd indices high nibble, even low."""
    return (channel_index + 1) // 2, 4 if channel_index % 2 else 0


def _nibble(octets: Sequence[int], channel_index: int) -> int:
    index, shift = _nibble_place(channel_index)
    return octets[index] >> shift & 0x0F


TABLES = (
    DIM_LP_TBL,
    ACT_LP_TBL,
    LP_CTRL_TBL,
    LP_STATUS_TBL,
    LP_DATA_SET1_TBL,
    LP_DATA_SET2_TBL,
    LP_DATA_SET3_TBL,
    LP_DATA_SET4_TBL,
)
