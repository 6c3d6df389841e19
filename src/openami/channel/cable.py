"""Cables and overhead lines from per-unit-length constants (R, L, G, C) with skin effect.

Every function takes frequencies `f_hz` of shape (n_f,) in Hz (> 0: the skin-effect models have no DC
limit) and returns arrays with the frequency axis first: R (Ω/m), L (H/m), G (S/m), C (F/m) as float64,
Zc (Ω) and γ = α + jβ (α in Np/m, β in rad/m) as complex128. Lengths are in m.

    Zc = √((R + jωL)/(G + jωC)),  γ = √((R + jωL)(G + jωC)),  H_matched(f) = e^(−γ·l)

Coaxial (single-core, screened) cable — the reference paper's model (Kim et al. 2002, §2) with the
radius fix. With inner-conductor radius r1, screen radius r2, skin depth t_i = √(2ρ_i/(ω μ0 μr)):

    R = ρ1/(2π r1 t1) + ρ2/(2π r2 t2),  L = μ0/(2π)·ln(r2/r1),  C = 2π ε0 εr/ln(r2/r1),  G = ω C tanδ

The paper prints R = ρ1/(π d t1) + ρ2/(π D t2) but then uses the radii d, D in it: that is the
diameter formula fed with radii, twice the correct value (`paper_printed_resistance` keeps it for
comparison). The skin-effect term holds for t ≪ r (above ~20 kHz for a 1 mm copper radius); it has
no DC floor.

Overhead conductors over ground — quasi-TEM, one driven conductor. Conductors i at (x_i, h_i) with radius
r_i; potential coefficients P̂_ij = ln(D'_ij/D_ij) (D: distance between conductors, r_i for i = j; D':
distance to the image below a perfectly conducting plane), capacitance matrix 2πε0·P̂⁻¹. The series
impedance matrix is

    Z_ij = jω μ0/(2π)·ln(D'_ij(p)/D_ij) + δ_ij·Z_int,i,   D'_ij(p) = √((h_i + h_j + 2p)² + (x_i − x_j)²)

with the complex penetration depth p = 1/√(jω μ0 (σ_e + jω ε0 ε_re)) of a homogeneous earth (Deri,
Tevan, Semlyen, Castanheira, IEEE Trans. PAS-100(8), 1981, "the complex ground return plane"; the
displacement term keeps it usable to 30 MHz) or p = 0 for a perfect ground. Z_int is the exact
internal impedance (Bessel functions) of a solid round aluminium conductor with the ACSR's DC
resistance — stranding and the steel core are ignored (the steel carries almost no HF current).
The line seen by a coupler is the driven conductor with the `grounded` ones at earth potential (their
rows Kron-reduced out of Z; C_red = 2πε0·(P̂⁻¹)_dd over driven + grounded); conductors left floating
carry neither current nor charge and drop out. Lossless limit: Z0 = (η0/2π)/(P̂⁻¹)_dd; one wire alone
gives Z0 = 60·ln(2h/r) (η0/2π ≈ 59.96 Ω).

22.9 kV line of the paper: phases H ACSR(-OC) 95 mm² × 3 and neutral N ACSR 58 mm² (multi-grounded
neutral, 22.9 kV-Y). Conductor data: KS / KEPCO 6/1 strandings as listed by LS Cable & System (58 mm²:
Al 6 × 3.5 mm + St 1 × 3.5 mm, Ø 10.5 mm; 95 mm²: Al 6 × 4.5 mm + St 1 × 4.5 mm, Ø 13.5 mm;
https://lsvinacns.vn, TACSR/ACSR size table). DC resistance at 20 °C computed from hard-drawn aluminium
(ρ = 2.8264e-8 Ω·m, 61 % IACS, IEC 60889) with the 1.6 % lay increment of a 6-wire layer implied by
IEC 61089 (code 100 A1/S1A: 100 mm², 0.2869 Ω/km): 0.301 Ω/km and 0.497 Ω/km. The covering of the
OC (outdoor covered) phase wire is ignored (a thin XLPE layer changes Z0 by about 2 %).
Geometry (ASSUMPTION, not from the paper): phases on a 2.4 m cross-arm at x = −0.9, 0, +0.9 m and a
mean height of 10.5 m (≈ 11.5 m at the pole on a 14 m pole, less 2/3 of a ~1.5 m sag), the neutral
1.2 m lower at x = 0.2 m. Results move by a few percent with these numbers. Lossless Z0 of this
geometry: single wire ≈ 482 Ω (consistent with the 480 Ω used for an overhead SWER line by Beqirllari,
Ozansoy, Gomes, Results in Engineering 2025), phase over the grounded neutral ≈ 436 Ω, phase with
the other three conductors at earth potential ≈ 384 Ω, the whole line against earth ≈ 246 Ω.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special  # type: ignore[import-untyped]

from openami.channel.errors import ChannelModelError

__all__ = [
    "ACSR",
    "EPS0_F_PER_M",
    "ETA0_OHM",
    "MU0_H_PER_M",
    "MV22K9_WIRES",
    "RHO_ALUMINIUM_HD",
    "RHO_COPPER",
    "CoaxCable",
    "Conductor",
    "LineConstants",
    "Mode",
    "OverheadLine",
    "TransmissionLine",
    "Wire",
    "matched_line_h",
    "mv_22k9_line",
    "paper_printed_resistance",
    "round_wire_internal_impedance",
    "single_wire_line",
    "skin_depth",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]

MU0_H_PER_M = 1.25663706212e-6
"""Vacuum permeability μ0 (H/m), CODATA 2018."""
EPS0_F_PER_M = 8.8541878128e-12
"""Vacuum permittivity ε0 (F/m), CODATA 2018."""
ETA0_OHM = math.sqrt(MU0_H_PER_M / EPS0_F_PER_M)
"""Impedance of free space η0 = √(μ0/ε0) ≈ 376.73 Ω."""
RHO_COPPER = 1.7241e-8
"""Resistivity of annealed copper at 20 °C (Ω·m; 100 % IACS)."""
RHO_ALUMINIUM_HD = 2.8264e-8
"""Resistivity of hard-drawn aluminium wire at 20 °C (Ω·m; 61 % IACS, IEC 60889)."""

_LAY_FACTOR_6_WIRE = 1.016  # resistance increment of a 6-wire layer (IEC 61089 tables, see module doc)


def _frequencies(f_hz: npt.ArrayLike) -> FloatArray:
    f = np.asarray(f_hz, dtype=np.float64)
    if f.ndim == 0:
        f = f.reshape(1)
    if f.ndim != 1 or f.size == 0:
        raise ChannelModelError(f"f_hz must be a non-empty 1-D array, got shape {f.shape}")
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ChannelModelError("frequencies must be finite and > 0 Hz (the skin-effect models have no DC limit)")
    return f


def _positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ChannelModelError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _length(length_m: float) -> float:
    if not (math.isfinite(length_m) and length_m >= 0):
        raise ChannelModelError(f"line length must be finite and ≥ 0 m, got {length_m!r}")
    return float(length_m)


def skin_depth(f_hz: npt.ArrayLike, rho_ohm_m: float, mu_r: float = 1.0) -> FloatArray:
    """Skin depth t = √(2ρ/(ω μ0 μr)) = √(ρ/(π f μ0 μr)) in m, shape (n_f,); f > 0 Hz, ρ in Ω·m."""
    f = _frequencies(f_hz)
    rho = _positive("rho_ohm_m", rho_ohm_m)
    mu = _positive("mu_r", mu_r)
    return np.sqrt(rho / (np.pi * f * MU0_H_PER_M * mu))


def round_wire_internal_impedance(f_hz: npt.ArrayLike, radius_m: float, rho_ohm_m: float) -> ComplexArray:
    """Internal impedance (Ω/m) of a solid round non-magnetic wire, exact: (ρ m/(2π r))·I0(m r)/I1(m r).

    m = √(jω μ0/ρ) = (1 + j)/t. Tends to ρ/(π r²) at low frequency and to ρ(1 + j)/(2π r t) when t ≪ r.
    Shape (n_f,), complex128.
    """
    f = _frequencies(f_hz)
    r = _positive("radius_m", radius_m)
    rho = _positive("rho_ohm_m", rho_ohm_m)
    m = np.sqrt(1j * 2.0 * np.pi * f * MU0_H_PER_M / rho)
    z = m * r
    ratio = special.ive(0, z) / special.ive(1, z)  # the exponential scalings cancel
    return np.asarray(rho * m / (2.0 * np.pi * r) * ratio, dtype=np.complex128)


@dataclass(frozen=True, eq=False)
class LineConstants:
    """Per-unit-length constants on a frequency grid: every field has shape (n_f,), float64.

    r_ohm_per_m, l_h_per_m, g_s_per_m, c_f_per_m; f_hz in Hz.
    """

    f_hz: FloatArray
    r_ohm_per_m: FloatArray
    l_h_per_m: FloatArray
    g_s_per_m: FloatArray
    c_f_per_m: FloatArray

    @property
    def series_z(self) -> ComplexArray:
        """R + jωL (Ω/m), (n_f,) complex128."""
        return self.r_ohm_per_m + 1j * 2.0 * np.pi * self.f_hz * self.l_h_per_m

    @property
    def shunt_y(self) -> ComplexArray:
        """G + jωC (S/m), (n_f,) complex128."""
        return self.g_s_per_m + 1j * 2.0 * np.pi * self.f_hz * self.c_f_per_m

    @property
    def zc(self) -> ComplexArray:
        """Characteristic impedance √(Z/Y) (Ω), principal root (Re ≥ 0), (n_f,) complex128."""
        return np.sqrt(self.series_z / self.shunt_y)

    @property
    def gamma(self) -> ComplexArray:
        """Propagation constant √(Z·Y) = α + jβ (1/m), principal root (α ≥ 0), (n_f,) complex128."""
        return np.sqrt(self.series_z * self.shunt_y)


def matched_line_h(line: TransmissionLine, f_hz: npt.ArrayLike, length_m: float) -> ComplexArray:
    """Transfer function e^(−γ l) of a matched line of `length_m` m: (n_f,) complex128."""
    return line.matched_line_h(f_hz, length_m)


class TransmissionLine(ABC):
    """A uniform two-conductor line described by its per-unit-length constants."""

    @abstractmethod
    def constants(self, f_hz: npt.ArrayLike) -> LineConstants:
        """R, L, G, C at `f_hz` (n_f,) Hz."""

    def zc(self, f_hz: npt.ArrayLike) -> ComplexArray:
        """Characteristic impedance (Ω), (n_f,) complex128."""
        return self.constants(f_hz).zc

    def gamma(self, f_hz: npt.ArrayLike) -> ComplexArray:
        """Propagation constant α + jβ (1/m), (n_f,) complex128."""
        return self.constants(f_hz).gamma

    def matched_line_h(self, f_hz: npt.ArrayLike, length_m: float) -> ComplexArray:
        """e^(−γ l) for a line of `length_m` m terminated in Zc: (n_f,) complex128."""
        return np.exp(-self.gamma(f_hz) * _length(length_m))


@dataclass(frozen=True)
class CoaxCable(TransmissionLine):
    """Single-core screened cable: inner radius r1, screen radius r2 (m), resistivities (Ω·m), εr, tanδ."""

    r_inner_m: float
    r_screen_m: float
    rho_inner_ohm_m: float = RHO_COPPER
    rho_screen_ohm_m: float = RHO_COPPER
    eps_r: float = 2.3  # XLPE
    tan_delta: float = 5e-4  # XLPE, order of magnitude at MHz frequencies
    name: str = "coax"

    def __post_init__(self) -> None:
        _positive("r_inner_m", self.r_inner_m)
        _positive("r_screen_m", self.r_screen_m)
        if self.r_screen_m <= self.r_inner_m:
            raise ChannelModelError("the screen radius must exceed the inner-conductor radius")
        _positive("rho_inner_ohm_m", self.rho_inner_ohm_m)
        _positive("rho_screen_ohm_m", self.rho_screen_ohm_m)
        if not (math.isfinite(self.eps_r) and self.eps_r >= 1.0):
            raise ChannelModelError(f"eps_r must be ≥ 1, got {self.eps_r!r}")
        if not (math.isfinite(self.tan_delta) and self.tan_delta >= 0.0):
            raise ChannelModelError(f"tan_delta must be ≥ 0, got {self.tan_delta!r}")

    def resistance(self, f_hz: npt.ArrayLike) -> FloatArray:
        """R = ρ1/(2π r1 t1) + ρ2/(2π r2 t2) (Ω/m), the paper's formula with radii: (n_f,)."""
        t1 = skin_depth(f_hz, self.rho_inner_ohm_m)
        t2 = skin_depth(f_hz, self.rho_screen_ohm_m)
        return self.rho_inner_ohm_m / (2.0 * np.pi * self.r_inner_m * t1) + self.rho_screen_ohm_m / (
            2.0 * np.pi * self.r_screen_m * t2
        )

    def constants(self, f_hz: npt.ArrayLike) -> LineConstants:
        f = _frequencies(f_hz)
        log_ratio = math.log(self.r_screen_m / self.r_inner_m)
        l_val = MU0_H_PER_M / (2.0 * math.pi) * log_ratio
        c_val = 2.0 * math.pi * EPS0_F_PER_M * self.eps_r / log_ratio
        return LineConstants(
            f_hz=f,
            r_ohm_per_m=self.resistance(f),
            l_h_per_m=np.full(f.shape, l_val),
            g_s_per_m=2.0 * np.pi * f * c_val * self.tan_delta,
            c_f_per_m=np.full(f.shape, c_val),
        )

    def lossless_z0(self) -> float:
        """√(L/C) = η0/(2π√εr)·ln(r2/r1) (Ω)."""
        return ETA0_OHM / (2.0 * math.pi * math.sqrt(self.eps_r)) * math.log(self.r_screen_m / self.r_inner_m)


def paper_printed_resistance(f_hz: npt.ArrayLike, cable: CoaxCable) -> FloatArray:
    """R as printed in the paper, ρ1/(π r1 t1) + ρ2/(π r2 t2) with radii: twice the correct value."""
    return 2.0 * cable.resistance(f_hz)


@dataclass(frozen=True)
class Conductor:
    """A bare overhead conductor: outer radius (m), DC resistance at 20 °C (Ω/m), current-carrying ρ."""

    name: str
    radius_m: float
    r_dc_ohm_per_m: float
    rho_ohm_m: float = RHO_ALUMINIUM_HD
    source: str = ""

    def __post_init__(self) -> None:
        _positive("radius_m", self.radius_m)
        _positive("r_dc_ohm_per_m", self.r_dc_ohm_per_m)
        _positive("rho_ohm_m", self.rho_ohm_m)

    @property
    def equivalent_radius_m(self) -> float:
        """Radius of the solid wire of resistivity ρ with the same DC resistance: √(ρ/(π R_dc))."""
        return math.sqrt(self.rho_ohm_m / (math.pi * self.r_dc_ohm_per_m))

    def internal_impedance(self, f_hz: npt.ArrayLike) -> ComplexArray:
        """Internal impedance (Ω/m), (n_f,) complex128: solid-wire Bessel model (see module doc)."""
        return round_wire_internal_impedance(f_hz, self.equivalent_radius_m, self.rho_ohm_m)


def _acsr(name: str, wire_mm: float, overall_mm: float) -> Conductor:
    area = 6.0 * math.pi * (wire_mm * 1e-3) ** 2 / 4.0  # six aluminium wires
    return Conductor(
        name=name,
        radius_m=overall_mm * 1e-3 / 2.0,
        r_dc_ohm_per_m=RHO_ALUMINIUM_HD * _LAY_FACTOR_6_WIRE / area,
        rho_ohm_m=RHO_ALUMINIUM_HD,
        source=(
            f"KS/KEPCO 6/1 ACSR, Al 6 × {wire_mm} mm + St 1 × {wire_mm} mm, Ø {overall_mm} mm (LS Cable & System "
            "size table); R_dc from 61 % IACS aluminium with the IEC 61089 6-wire lay increment"
        ),
    )


ACSR: MappingProxyType[str, Conductor] = MappingProxyType(
    {
        "H ACSR 95": _acsr("H ACSR 95", 4.5, 13.5),  # phase conductor of the 22.9 kV line
        "N ACSR 58": _acsr("N ACSR 58", 3.5, 10.5),  # neutral conductor
    }
)
"""ACSR presets by the paper's names: 'H ACSR 95' (phase), 'N ACSR 58' (neutral)."""


@dataclass(frozen=True)
class Wire:
    """A conductor at horizontal position x_m (m) and mean height above ground height_m (m)."""

    conductor: Conductor
    x_m: float
    height_m: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.x_m):
            raise ChannelModelError("x_m must be finite")
        _positive("height_m", self.height_m)
        if self.height_m <= self.conductor.radius_m:
            raise ChannelModelError("a wire must be above ground (height > radius)")


@dataclass(frozen=True)
class OverheadLine(TransmissionLine):
    """Wires over earth; `driven` is the signal conductor, `grounded` are held at earth potential.

    earth_resistivity_ohm_m None means a perfectly conducting ground (no earth-return loss); otherwise a
    homogeneous earth of that resistivity and relative permittivity earth_eps_r (complex-depth model).
    """

    wires: tuple[Wire, ...]
    driven: int = 0
    grounded: tuple[int, ...] = ()
    earth_resistivity_ohm_m: float | None = None
    earth_eps_r: float = 10.0
    name: str = "overhead line"

    def __post_init__(self) -> None:
        n = len(self.wires)
        if n == 0:
            raise ChannelModelError("an overhead line needs at least one wire")
        if not 0 <= self.driven < n:
            raise ChannelModelError(f"driven wire index {self.driven} out of range")
        if any(not 0 <= g < n or g == self.driven for g in self.grounded) or len(set(self.grounded)) != len(
            self.grounded
        ):
            raise ChannelModelError("grounded wires must be distinct indices other than the driven one")
        for i in range(n):
            for j in range(i):
                wi, wj = self.wires[i], self.wires[j]
                if (
                    math.hypot(wi.x_m - wj.x_m, wi.height_m - wj.height_m)
                    <= wi.conductor.radius_m + wj.conductor.radius_m
                ):
                    raise ChannelModelError(f"wires {j} and {i} overlap")
        if self.earth_resistivity_ohm_m is not None:
            _positive("earth_resistivity_ohm_m", self.earth_resistivity_ohm_m)
        if not (math.isfinite(self.earth_eps_r) and self.earth_eps_r >= 1.0):
            raise ChannelModelError("earth_eps_r must be ≥ 1")

    @property
    def _active(self) -> tuple[int, ...]:
        return (self.driven, *self.grounded)

    def potential_coefficients(self) -> FloatArray:
        """P̂_ij = ln(D'_ij/D_ij) over the driven and grounded wires (driven first): (n, n) float64."""
        ws = [self.wires[i] for i in self._active]
        n = len(ws)
        p = np.empty((n, n), dtype=np.float64)
        for i, wi in enumerate(ws):
            for j, wj in enumerate(ws):
                if i == j:
                    p[i, j] = math.log(2.0 * wi.height_m / wi.conductor.radius_m)
                else:
                    dx = wi.x_m - wj.x_m
                    p[i, j] = math.log(
                        math.hypot(dx, wi.height_m + wj.height_m) / math.hypot(dx, wi.height_m - wj.height_m)
                    )
        return p

    def lossless_z0(self) -> float:
        """Z0 = (η0/2π)/(P̂⁻¹)_dd (Ω): the line's impedance with lossless conductors and ground."""
        inv = np.linalg.inv(self.potential_coefficients())
        return float(ETA0_OHM / (2.0 * math.pi) / inv[0, 0])

    def complex_depth(self, f_hz: npt.ArrayLike) -> ComplexArray:
        """Complex penetration depth p (m) of the earth return, (n_f,) complex128 (zeros: perfect ground)."""
        f = _frequencies(f_hz)
        if self.earth_resistivity_ohm_m is None:
            return np.zeros(f.shape, dtype=np.complex128)
        w = 2.0 * np.pi * f
        sigma = 1.0 / self.earth_resistivity_ohm_m
        depth = 1.0 / np.sqrt(1j * w * MU0_H_PER_M * (sigma + 1j * w * EPS0_F_PER_M * self.earth_eps_r))
        return np.asarray(depth, dtype=np.complex128)

    def series_impedance_matrix(self, f_hz: npt.ArrayLike) -> ComplexArray:
        """Z (Ω/m) over the driven and grounded wires (driven first): (n_f, n, n) complex128."""
        f = _frequencies(f_hz)
        w = 2.0 * np.pi * f
        p = self.complex_depth(f)
        ws = [self.wires[i] for i in self._active]
        n = len(ws)
        z = np.empty((f.size, n, n), dtype=np.complex128)
        k = 1j * w * MU0_H_PER_M / (2.0 * np.pi)
        for i, wi in enumerate(ws):
            for j, wj in enumerate(ws):
                dx = wi.x_m - wj.x_m
                far = np.sqrt((wi.height_m + wj.height_m + 2.0 * p) ** 2 + dx**2)
                near = wi.conductor.radius_m if i == j else math.hypot(dx, wi.height_m - wj.height_m)
                z[:, i, j] = k * np.log(far / near)
            z[:, i, i] += wi.conductor.internal_impedance(f)
        return z

    def constants(self, f_hz: npt.ArrayLike) -> LineConstants:
        f = _frequencies(f_hz)
        z = self.series_impedance_matrix(f)
        z_red = z[:, 0, 0]
        if len(self._active) > 1:
            z_red = z_red - np.einsum("fi,fi->f", z[:, 0, 1:], np.linalg.solve(z[:, 1:, 1:], z[:, 1:, 0:1])[..., 0])
        c_red = 2.0 * np.pi * EPS0_F_PER_M * np.linalg.inv(self.potential_coefficients())[0, 0]
        w = 2.0 * np.pi * f
        return LineConstants(
            f_hz=f,
            r_ohm_per_m=np.ascontiguousarray(z_red.real),
            l_h_per_m=np.ascontiguousarray(z_red.imag / w),
            g_s_per_m=np.zeros(f.shape),
            c_f_per_m=np.full(f.shape, c_red),
        )


def single_wire_line(
    conductor: Conductor, height_m: float, earth_resistivity_ohm_m: float | None = None
) -> OverheadLine:
    """One wire at `height_m` m over ground (Z0 ≈ 60·ln(2h/r) when lossless)."""
    return OverheadLine(
        wires=(Wire(conductor, 0.0, height_m),),
        earth_resistivity_ohm_m=earth_resistivity_ohm_m,
        name=f"{conductor.name} at {height_m:g} m",
    )


MV22K9_WIRES: tuple[Wire, ...] = (
    Wire(ACSR["H ACSR 95"], -0.9, 10.5),
    Wire(ACSR["H ACSR 95"], 0.0, 10.5),
    Wire(ACSR["H ACSR 95"], 0.9, 10.5),
    Wire(ACSR["N ACSR 58"], 0.2, 9.3),
)
"""Assumed 22.9 kV geometry: phases a, b, c then the neutral (see the module docstring)."""

Mode = Literal["single-wire", "phase-neutral", "phase-all-grounded"]


def mv_22k9_line(mode: Mode = "phase-neutral", *, earth_resistivity_ohm_m: float | None = None) -> OverheadLine:
    """The paper's 22.9 kV line as seen from a coupler on phase a.

    "single-wire": phase a alone over earth (the other wires float); "phase-neutral": phase a against the
    grounded neutral and earth (b, c float; the default: a capacitive coupler between a phase and the
    multi-grounded neutral); "phase-all-grounded": b, c and the neutral at earth potential.
    """
    grounded = {"single-wire": (), "phase-neutral": (3,), "phase-all-grounded": (1, 2, 3)}
    if mode not in grounded:
        raise ChannelModelError(f"unknown mode {mode!r}; expected one of {sorted(grounded)}")
    return OverheadLine(
        wires=MV22K9_WIRES,
        driven=0,
        grounded=grounded[mode],
        earth_resistivity_ohm_m=earth_resistivity_ohm_m,
        name=f"22.9 kV line, {mode}",
    )
