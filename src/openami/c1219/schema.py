"""The declarative table schema: one definition per table, mirroring the standard's table syntax.

A definition is plain frozen data. `openami.c1219.layout.bind` resolves it against a `DeviceConfig`
(formats from ST0, dimensions and flags from the ACT_* tables) into a `Layout` that decodes, encodes,
sizes and locates elements. Example (the shape of ST61's per-set dimensions)::

    LP_SET_RCD = Record(
        Field("NBR_BLKS_SET1", UINT16),
        Field("NBR_BLK_INTS_SET1", UINT16),
        Field("NBR_CHNS_SET1", UINT8),
        Field("MAX_INT_TIME_SET1", UINT8, unit="min"),
    )
    ACT_LP = Table(61, "ACT_LP_TBL", Record(
        Field("LP_MEMORY_LEN", UINT32, unit="octet"),
        Field("LP_FLAGS", BitField(UINT16, Bit("SET1_INHIBIT_OVF_FLAG", 0), ...)),
        If("GEN_CONFIG_TBL.STD_TBLS_USED[64]", Field("LP_DATA_SET1", LP_SET_RCD)),
    ))

Types: `Prim` (resolved by the formats: UINT8…, INT8…, NI_FMAT1/2, the date/time types, STRING(n),
BINARY(n), BCD(n), FILL(n)), `Record`, `ArrayOf` (dimension from an expression), `SetOf` (SET(n): n octets
of flags), `BitField` (named bit ranges of an unsigned integer) and `Switch` (the type
chosen by a selector expression). `If` includes fields when its condition holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from openami.c1219.expr import Expr
from openami.errors import LocalProtocolError

__all__ = [
    "BCD",
    "BINARY",
    "BOOL",
    "DATE",
    "FILL",
    "HTIME",
    "HTIME_DATE",
    "INT8",
    "INT16",
    "INT24",
    "INT32",
    "INT40",
    "INT48",
    "INT64",
    "LTIME_DATE",
    "NI_FMAT1",
    "NI_FMAT2",
    "RDATE",
    "REST",
    "STIME",
    "STIME_DATE",
    "STRING",
    "TIME",
    "UINT8",
    "UINT16",
    "UINT24",
    "UINT32",
    "UINT40",
    "UINT48",
    "UINT64",
    "ArrayOf",
    "Bit",
    "BitField",
    "Dim",
    "Element",
    "Field",
    "If",
    "Prim",
    "Record",
    "SetOf",
    "Switch",
    "Table",
    "Type",
]

Dim = int | Expr


def _dim(value: int | str | Expr) -> Dim:
    if isinstance(value, str):
        return Expr(value)
    if isinstance(value, int) and value < 0:
        raise LocalProtocolError(f"negative dimension {value}")
    return value


@dataclass(frozen=True)
class Prim:
    """A primitive type, resolved against the formats at bind time.

    ``kind`` is one of ``UINT``, ``INT`` (``size`` octets), ``NI1``/``NI2`` (ST0 NI_FORMAT1/2),
    ``BCD``, ``STRING``, ``BINARY``, ``FILL`` (``size`` octets), ``BOOL`` (one octet), ``REST`` (the
    rest of the table, at most ``size`` octets; only as a table's last field), or a date/time type
    name (``HTIME_DATE``, ``LTIME_DATE``, ``STIME_DATE``, ``DATE``, ``HTIME``, ``TIME``, ``STIME``).
    """

    kind: str
    size: Dim = 0


UINT8, UINT16, UINT24, UINT32 = (Prim("UINT", n) for n in (1, 2, 3, 4))
UINT40, UINT48, UINT64 = (Prim("UINT", n) for n in (5, 6, 8))
INT8, INT16, INT24, INT32 = (Prim("INT", n) for n in (1, 2, 3, 4))
INT40, INT48, INT64 = (Prim("INT", n) for n in (5, 6, 8))
NI_FMAT1 = Prim("NI1")
NI_FMAT2 = Prim("NI2")
BOOL = Prim("BOOL", 1)
HTIME_DATE = Prim("HTIME_DATE")
LTIME_DATE = Prim("LTIME_DATE")
STIME_DATE = Prim("STIME_DATE")
DATE = Prim("DATE")
TIME = Prim("TIME")
STIME = Prim("STIME")
HTIME = Prim("HTIME")


def STRING(n: int | str) -> Prim:
    """STRING(n): ``n`` octets of characters in ST0 CHAR_FORMAT."""
    return Prim("STRING", _dim(n))


def BINARY(n: int | str) -> Prim:
    """BINARY(n): ``n`` raw octets."""
    return Prim("BINARY", _dim(n))


def BCD(n: int | str) -> Prim:
    """``n`` octets of BCD digits, most significant first."""
    return Prim("BCD", _dim(n))


def REST(max_size: int | str) -> Prim:
    """The rest of the table, 0..``max_size`` octets (ST7/ST8 procedure data); last field only."""
    return Prim("REST", _dim(max_size))


def FILL(n: int | str) -> Prim:
    """FILL(n): ``n`` octets of filler (kept raw so a re-encode is exact)."""
    return Prim("FILL", _dim(n))


@dataclass(frozen=True)
class Bit:
    """Bits ``lo..hi`` (bit 0 = least significant) of a bit field; one bit decodes to `bool`."""

    name: str
    lo: int
    hi: int | None = None
    doc: str = ""

    @property
    def top(self) -> int:
        return self.lo if self.hi is None else self.hi

    @property
    def is_flag(self) -> bool:
        return self.hi is None


@dataclass(frozen=True)
class BitField:
    """An unsigned integer (UINT8/16/32/64) read as named bit ranges; unnamed bits come back as FILLER."""

    base: Prim
    members: tuple[Bit, ...]

    def __init__(self, base: Prim, *members: Bit) -> None:
        if base.kind != "UINT" or not isinstance(base.size, int) or base.size not in (1, 2, 3, 4, 8):
            raise LocalProtocolError(f"a bit field needs an unsigned integer base, got {base}")
        used = 0
        for bit in members:
            if not 0 <= bit.lo <= bit.top < base.size * 8:
                raise LocalProtocolError(f"bit field member {bit.name} bits {bit.lo}..{bit.top} out of range")
            mask = ((1 << (bit.top - bit.lo + 1)) - 1) << bit.lo
            if used & mask:
                raise LocalProtocolError(f"bit field member {bit.name} overlaps another member")
            used |= mask
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "members", tuple(members))


RDATE = BitField(UINT16, Bit("MONTH", 0, 3), Bit("OFFSET", 4, 7), Bit("WEEKDAY", 8, 10), Bit("DAY", 11, 15))
"""Recurring date (UINT16): MONTH b0–3, OFFSET b4–7, WEEKDAY b8–10, DAY b11–15. Public sources (a
vendor head-end's ST54 decoder) give this general form; MONTH 0/13/14/15 select periodic, monthly,
weekly and other forms whose exact semantics are left to the calendar logic."""


@dataclass(frozen=True)
class SetOf:
    """SET(n): ``n`` octets of flags (8n elements), element k in bit k % 8 of octet k // 8.

    Decodes to `frozenset[int]` of the elements whose bit is set (ST0's STD_TBLS_USED etc.).
    """

    dim: Dim

    def __init__(self, dim: int | str | Expr) -> None:
        object.__setattr__(self, "dim", _dim(dim))


@dataclass(frozen=True)
class ArrayOf:
    """ARRAY[dim] OF element; decodes to a `list`."""

    element: Type
    dim: Dim

    def __init__(self, element: Type, dim: int | str | Expr) -> None:
        object.__setattr__(self, "element", element)
        object.__setattr__(self, "dim", _dim(dim))


@dataclass(frozen=True)
class Switch:
    """The type chosen by ``selector`` among ``cases`` (``default`` when no case matches)."""

    selector: Expr
    cases: tuple[tuple[int, Type], ...]
    default: Type | None = None

    def __init__(self, selector: str | Expr, cases: Mapping[int, Type], default: Type | None = None) -> None:
        object.__setattr__(self, "selector", Expr(selector) if isinstance(selector, str) else selector)
        object.__setattr__(self, "cases", tuple(sorted(cases.items())))
        object.__setattr__(self, "default", default)


@dataclass(frozen=True)
class Field:
    """One named element; ``unit`` names the physical unit where the standard fixes one."""

    name: str
    type: Type
    doc: str = ""
    unit: str | None = None


@dataclass(frozen=True)
class If:
    """``IF condition THEN fields [ELSE fields]`` inside a record."""

    condition: Expr
    then: tuple[Element, ...]
    orelse: tuple[Element, ...] = field(default=())

    def __init__(self, condition: str | Expr, *then: Element, orelse: tuple[Element, ...] = ()) -> None:
        object.__setattr__(self, "condition", Expr(condition) if isinstance(condition, str) else condition)
        object.__setattr__(self, "then", tuple(then))
        object.__setattr__(self, "orelse", tuple(orelse))


Element = Field | If


@dataclass(frozen=True)
class Record:
    """PACKED RECORD: elements in order, no padding; decodes to a `dict` keyed by field name."""

    elements: tuple[Element, ...]

    def __init__(self, *elements: Element) -> None:
        names = [e.name for e in _flatten(elements)]
        dup = {n for n in names if names.count(n) > 1}
        # a name may appear in both branches of one IF; only the same name twice at one level is an error
        if dup and not all(_in_exclusive_branches(elements, n) for n in dup):
            raise LocalProtocolError(f"duplicate field names in record: {sorted(dup)}")
        object.__setattr__(self, "elements", tuple(elements))


def _flatten(elements: tuple[Element, ...]) -> list[Field]:
    out: list[Field] = []
    for e in elements:
        if isinstance(e, Field):
            out.append(e)
        else:
            out.extend(_flatten(e.then))
            out.extend(_flatten(e.orelse))
    return out


def _in_exclusive_branches(elements: tuple[Element, ...], name: str) -> bool:
    plain = [e for e in elements if isinstance(e, Field) and e.name == name]
    if plain:
        return False
    return all(
        sum(f.name == name for f in _flatten(e.then)) <= 1 and sum(f.name == name for f in _flatten(e.orelse)) <= 1
        for e in elements
        if isinstance(e, If)
    )


Type = Prim | Record | ArrayOf | SetOf | BitField | Switch


@dataclass(frozen=True)
class Table:
    """A standard (ST n) or manufacturer (MT n) table definition.

    ``source`` says where the layout comes from (the facts file, a public implementation, or the
    standard as recalled — the last to be checked against the standard's text when available).
    """

    number: int
    name: str
    record: Record
    title: str = ""
    source: str = ""
    manufacturer: bool = False

    @property
    def label(self) -> str:
        return f"{'MT' if self.manufacturer else 'ST'}{self.number}"

    @property
    def decade(self) -> int:
        return self.number // 10
