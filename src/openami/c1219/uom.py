"""Units of measure of ST12 UOM_ENTRY_TBL: the code tables and a typed reading of one entry.

An ST12 entry (UOM_ENTRY_BFLD, a UINT32; see `openami.c1219.std.decade1`) says what a data source
measures: ID_CODE (the quantity), TIME_BASE (instantaneous, demand, or a bulk quantity integrated over
time), MULTIPLIER (a power of ten applied *after* all other conversion constants), the quadrants and
net-flow accounting, SEGMENTATION (phases) and HARMONIC. `describe_uom` turns a decoded entry into a
`Unit` whose ``str()`` is the usual symbol ("kWh", "kW", "V"); `scale` applies the multiplier.

Sources (research notes §4 and the ST12 part of §3; the standard's text is not public):

- ID_CODE 0–62 (electric) and 190–200 (generic): Aclara meter firmware ``uomIdCodes_t`` (2008 list,
  comments quoting the standard); 27, 28 and 63 are not listed there (reserved here).
- ID_CODE 64–88 (gas) and 128–145 (water): Landis+Gyr firmware header "UOM ID_CODE used in table 12"
  (1997 list); the 1997 list lost some unit symbols — 71–75 (temperatures in a second and third unit)
  are our reading (°C wet bulb, °F, K), UNCERTAIN. 70 is °C per Aclara.
- TIME_BASE: Aclara ``timeBase_t``, L+G; MULTIPLIER: Yukon ``MULTIPLIER_e``, L+G, Aclara's "ID_CODE 0
  with MULTIPLIER 2 is kW" (0 → 10⁰, 1 → 10², 2 → 10³, 3 → 10⁶, 4 → 10⁹, 5 → 10⁻², 6 → 10⁻³, 7 → 10⁻⁶);
  SEGMENTATION: Aclara ``segmentation_t``, L+G.

The unit of a bulk quantity (TIME_BASE 0 or 5) is the time integral of the rate: W → Wh, A → Ah, and
gas / water flows (m³/h) → volumes (m³). Symbols are ours (IEC style: "var", "VA", "m³").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any, overload

from openami.errors import LocalProtocolError

__all__ = [
    "ID_CODES",
    "MULTIPLIER_EXPONENTS",
    "IdCode",
    "Segmentation",
    "TimeBase",
    "Unit",
    "commodity_of",
    "describe_uom",
    "scale",
]


class TimeBase(IntEnum):
    """ST12 TIME_BASE (b8–10): how the quantity relates to time."""

    BULK = 0
    """Bulk quantity of commodity: a dial reading, the integral over time (W → Wh)."""
    INSTANTANEOUS = 1
    """A sampled instantaneous value."""
    PERIOD_BASED = 2
    """Computed over one period of the fundamental frequency (power, RMS)."""
    SUB_BLOCK_AVERAGE_DEMAND = 3
    BLOCK_AVERAGE_DEMAND = 4
    NET_BULK = 5
    """Relative dial reading: the bulk quantity between two times T1..T2."""
    THERMAL = 6
    """Thermal (demand) quantity."""
    EVENT = 7
    """Event quantity: a number of occurrences."""


class Segmentation(IntEnum):
    """ST12 SEGMENTATION (b19–21): the phases measured (0 also = not phase related)."""

    ALL_PHASES = 0
    A_B = 1
    B_C = 2
    C_A = 3
    NEUTRAL_GROUND = 4
    A_N = 5
    B_N = 6
    C_N = 7

    @property
    def label(self) -> str:
        """The phases as text: "all phases", "A-B", …, "N-G", "A-N" …"""
        return _SEGMENT_LABELS[self]


_SEGMENT_LABELS = ("all phases", "A-B", "B-C", "C-A", "N-G", "A-N", "B-N", "C-N")

MULTIPLIER_EXPONENTS: Mapping[int, int] = {0: 0, 1: 2, 2: 3, 3: 6, 4: 9, 5: -2, 6: -3, 7: -6}
"""ST12 MULTIPLIER (b11–13) → power of ten."""

_PREFIXES = {0: "", 2: "h", 3: "k", 6: "M", 9: "G", -2: "c", -3: "m", -6: "µ"}


@dataclass(frozen=True, slots=True)
class IdCode:
    """One ST12 ID_CODE: the quantity, its unit ``symbol`` ("" when dimensionless or a state), the
    symbol of its time integral for bulk time bases (None when integrating makes no sense), and
    whether SI prefixes apply (kW yes; %, °, ft³ no)."""

    code: int
    quantity: str
    symbol: str
    bulk_symbol: str | None = None
    si: bool = False


def _codes() -> dict[int, IdCode]:
    rows: list[tuple[int, str, str, str | None, bool]] = [
        # electric, 0..62 (Aclara uomIdCodes_t)
        (0, "active power", "W", "Wh", True),
        (1, "reactive power", "var", "varh", True),
        (2, "apparent power", "VA", "VAh", True),
        (3, "phasor power", "VA", "VAh", True),
        (4, "quantity power Q(60)", "Q", "Qh", True),
        (5, "quantity power Q(45)", "Q", "Qh", True),
        (6, "phasor reactive power", "var", "varh", True),
        (7, "distortion volt-amperes", "VA", "VAh", True),
        (8, "RMS voltage", "V", "Vh", True),
        (9, "average voltage", "V", "Vh", True),
        (10, "RMS voltage squared", "V²", "V²h", True),
        (11, "instantaneous voltage", "V", "Vh", True),
        (12, "RMS current", "A", "Ah", True),
        (13, "average current", "A", "Ah", True),
        (14, "RMS current squared", "A²", "A²h", True),
        (15, "instantaneous current", "A", "Ah", True),
        (16, "THD voltage (IEEE)", "%", None, False),
        (17, "THD current (IEEE)", "%", None, False),
        (18, "THD voltage (Industry Canada)", "%", None, False),
        (19, "THD current (Industry Canada)", "%", None, False),
        (20, "voltage phase angle V-VA", "°", None, False),
        (21, "voltage phase angle Vx-Vy", "°", None, False),
        (22, "current phase angle I-VA", "°", None, False),
        (23, "current phase angle Ix-Iy", "°", None, False),
        (24, "power factor (apparent power)", "", None, False),
        (25, "power factor (phasor power)", "", None, False),
        (26, "average power factor", "", None, False),
        (29, "time of day", "", None, False),
        (30, "date", "", None, False),
        (31, "time of day and date", "", None, False),
        (32, "interval timer", "", None, False),
        (33, "frequency", "Hz", None, True),
        (34, "counter", "", None, False),
        (35, "sense input (on/off)", "", None, False),
        (36, "pulse output form A", "", None, False),
        (37, "pulse output form B", "", None, False),
        (38, "pulse output form C", "", None, False),
        (39, "zero flow duration", "", None, False),
        (40, "voltage sag", "", None, False),
        (41, "voltage swell", "", None, False),
        (42, "power outage (system mains)", "", None, False),
        (43, "voltage excursion low", "", None, False),
        (44, "voltage excursion high", "", None, False),
        (45, "normal voltage level", "", None, False),
        (46, "phase voltage imbalance", "", None, False),
        (47, "voltage THD excess", "", None, False),
        (48, "current THD excess", "", None, False),
        (49, "power outage (end device)", "", None, False),
        (50, "number of power outages", "", None, False),
        (51, "number of demand resets", "", None, False),
        (52, "number of times programmed", "", None, False),
        (53, "minutes on battery carryover", "min", None, False),
        (54, "inversion tampers", "", None, False),
        (55, "removal tampers", "", None, False),
        (56, "reprogram tampers", "", None, False),
        (57, "power loss tampers", "", None, False),
        (58, "reverse rotation tampers", "", None, False),
        (59, "physical tampers", "", None, False),
        (60, "encoder tampers", "", None, False),
        (61, "watchdog timeout recoveries", "", None, False),
        (62, "diagnostic alarms", "", None, False),
        # gas, 64..88 (L+G 1997 list; 70 °C per Aclara; 71–75 units UNCERTAIN)
        (64, "gas volume, uncorrected", "m³/h", "m³", False),
        (65, "gas volume, corrected to base conditions", "m³/h", "m³", False),
        (66, "gas volume, corrected to base pressure without supercompressibility", "m³/h", "m³", False),
        (67, "gas volume, uncorrected", "ft³/h", "ft³", False),
        (68, "gas volume, corrected to base conditions", "ft³/h", "ft³", False),
        (69, "gas volume, corrected to base pressure without supercompressibility", "ft³/h", "ft³", False),
        (70, "dry bulb temperature", "°C", None, False),
        (71, "wet bulb temperature", "°C", None, False),
        (72, "dry bulb temperature", "°F", None, False),
        (73, "wet bulb temperature", "°F", None, False),
        (74, "dry bulb temperature", "K", None, False),
        (75, "wet bulb temperature", "K", None, False),
        (76, "energy flow", "J/h", "J", True),
        (77, "energy flow", "therm/h", "therm", False),
        (78, "static pressure", "Pa", None, True),
        (79, "differential pressure", "Pa", None, True),
        (80, "static pressure", "psi", None, False),
        (81, "differential pressure", "psi", None, False),
        (82, "pressure", "g/cm²", None, False),
        (83, "pressure", "m Hg", None, False),
        (84, "pressure", "in Hg", None, False),
        (85, "pressure", "in H2O", None, False),
        (86, "pressure", "bar", None, True),
        (87, "relative humidity", "%RH", None, False),
        (88, "odorant", "ppm", None, False),
        # water, 128..145 (L+G 1997 list)
        (128, "liquid volume", "m³/h", "m³", False),
        (129, "liquid volume", "ft³/h", "ft³", False),
        (130, "liquid volume (US gallons)", "gal/h", "gal", False),
        (131, "liquid volume (imperial gallons)", "imp gal/h", "imp gal", False),
        (132, "liquid volume", "acre-ft/h", "acre-ft", False),
        (133, "lead", "ppm", None, False),
        (134, "turbidity", "", None, False),
        (135, "chlorine", "ppm", None, False),
        (136, "pH", "pH", None, False),
        (137, "corrosion", "", None, False),
        (138, "ionization", "", None, False),
        (139, "sulphur dioxide", "ppm", None, False),
        (140, "liquid volume", "L", "L", True),
        (141, "liquid volume", "ft³", "ft³", False),
        (142, "differential pressure", "lb/ft²", None, False),
        (143, "water column", "in H2O", None, False),
        (144, "water column", "ft H2O", None, False),
        (145, "pressure", "atm", None, False),
        # generic, 190..200 (Aclara; 190–193 also L+G)
        (190, "local currency", "", None, False),
        (191, "length", "in", None, False),
        (192, "length", "ft", None, False),
        (193, "length", "m", None, True),
        (194, "differential value", "", None, False),
        (195, "power level", "dBm", None, False),
        (196, "percent capacity", "%", None, False),
        (197, "time", "s", None, True),
        (198, "angle", "°", None, False),
        (199, "frequency", "Hz", None, True),
        (200, "bandwidth", "Hz", None, True),
    ]
    return {code: IdCode(code, quantity, symbol, bulk, si) for code, quantity, symbol, bulk, si in rows}


ID_CODES: Mapping[int, IdCode] = _codes()
"""The known ST12 ID_CODEs (others are reserved or not in a public source)."""


def commodity_of(id_code: int) -> str:
    """The ID_CODE block: "electric" (0–63), "gas" (64–127), "water" (128–189) or "generic" (190–255)."""
    if id_code < 64:
        return "electric"
    if id_code < 128:
        return "gas"
    if id_code < 190:
        return "water"
    return "generic"


@dataclass(frozen=True, slots=True)
class Unit:
    """A described ST12 entry. ``symbol`` is the unit after the time base (bulk W → "Wh") without the
    multiplier; ``str()`` adds the multiplier as an SI prefix where one applies ("kWh"), else as
    "10^n ", and " [NFS]" when the entry does not follow the standard's definitions."""

    id_code: int
    quantity: str
    symbol: str
    multiplier_exponent: int
    time_base: TimeBase
    segmentation: Segmentation
    quadrants: frozenset[int] = frozenset()
    net_flow: bool = False
    harmonic: bool = False
    id_resource: int = 0
    nfs: bool = False
    known: bool = True
    prefixable: bool = False

    @property
    def commodity(self) -> str:
        """The commodity of the ID_CODE block: "electric", "gas", "water" or "generic"."""
        return commodity_of(self.id_code)

    @property
    def factor(self) -> Decimal:
        """10 ** multiplier_exponent, exactly."""
        return Decimal(1).scaleb(self.multiplier_exponent)

    def __str__(self) -> str:
        base = self.symbol or self.quantity
        exp = self.multiplier_exponent
        if exp == 0:
            text = base
        elif self.prefixable and self.symbol:
            text = _PREFIXES[exp] + self.symbol
        else:
            text = f"10^{exp} {base}"
        return text + (" [NFS]" if self.nfs else "")


_QUADRANTS = ("Q1_ACCOUNTABILITY", "Q2_ACCOUNTABILITY", "Q3_ACCOUNTABILITY", "Q4_ACCOUNTABILITY")
_FLAGS = (*_QUADRANTS, "NET_FLOW_ACCOUNTABILITY", "HARMONIC", "NFS")


def _member(entry: Mapping[str, Any], name: str, top: int, default: int | None = None) -> int:
    value = entry.get(name, default)
    if value is None:
        raise LocalProtocolError(f"UOM entry needs {name}")
    if not isinstance(value, int) or not 0 <= value <= top:
        raise LocalProtocolError(f"UOM entry {name} must be 0..{top}, got {value!r}")
    return int(value)


def describe_uom(entry: Mapping[str, Any]) -> Unit:
    """The `Unit` of one decoded ST12 UOM_ENTRY (a dict of its bit-field members).

    ID_CODE, TIME_BASE and MULTIPLIER are required; the flags default to false. Unknown (reserved or
    manufacturer) ID_CODEs give a `Unit` with ``known=False``. Raises `LocalProtocolError` for a value
    that is not a decoded UOM entry.
    """
    if not isinstance(entry, Mapping):
        raise LocalProtocolError(f"describe_uom needs a decoded UOM_ENTRY mapping, got {entry!r}")
    code = _member(entry, "ID_CODE", 255)
    time_base = TimeBase(_member(entry, "TIME_BASE", 7))
    exponent = MULTIPLIER_EXPONENTS[_member(entry, "MULTIPLIER", 7)]
    segmentation = Segmentation(_member(entry, "SEGMENTATION", 7, 0))
    flags = {name: bool(_member(entry, name, 1, 0)) for name in _FLAGS}
    info = ID_CODES.get(code)
    if info is None:
        quantity, symbol, prefixable = f"ID_CODE {code}", "", False
    else:
        bulk = time_base in (TimeBase.BULK, TimeBase.NET_BULK) and info.bulk_symbol is not None
        quantity, prefixable = info.quantity, info.si
        symbol = info.bulk_symbol if bulk and info.bulk_symbol is not None else info.symbol
    return Unit(
        id_code=code,
        quantity=quantity,
        symbol=symbol,
        multiplier_exponent=exponent,
        time_base=time_base,
        segmentation=segmentation,
        quadrants=frozenset(q for q, name in enumerate(_QUADRANTS, 1) if flags[name]),
        net_flow=flags["NET_FLOW_ACCOUNTABILITY"],
        harmonic=flags["HARMONIC"],
        id_resource=_member(entry, "ID_RESOURCE", 31, 0),
        nfs=flags["NFS"],
        known=info is not None,
        prefixable=prefixable,
    )


@overload
def scale(raw_value: int, unit: Unit) -> int | Decimal: ...
@overload
def scale(raw_value: Decimal, unit: Unit) -> Decimal: ...
@overload
def scale(raw_value: float, unit: Unit) -> float: ...
def scale(raw_value: int | float | Decimal, unit: Unit) -> int | float | Decimal:
    """``raw_value`` × 10 ** ``unit.multiplier_exponent``, in the unit ``unit.symbol``.

    Exact for `int` (an `int` for positive exponents, a `Decimal` for negative ones) and `Decimal`;
    a `float` stays a `float`. Raises `LocalProtocolError` for other types.
    """
    exp = unit.multiplier_exponent
    if isinstance(raw_value, bool) or not isinstance(raw_value, int | float | Decimal):
        raise LocalProtocolError(f"scale needs a number, got {raw_value!r}")
    power: int = 10 ** abs(exp)
    if isinstance(raw_value, float):
        return raw_value * power if exp >= 0 else raw_value / power
    if isinstance(raw_value, int) and exp >= 0:
        return raw_value * power
    return Decimal(raw_value).scaleb(exp)
