"""Two-port networks as ABCD (chain) matrices, frequency axis first.

An ABCD array has shape (n_f, 2, 2) or (batch, n_f, 2, 2), complex128, and relates the port voltages
(V, volts) and currents (I, amperes; I1 into port 1, I2 out of port 2) as

    [V1]   [A  B] [V2]
    [I1] = [C  D] [I2]      A, D dimensionless, B in Ω, C in S.

A chain of sections is the matrix product in signal order (`cascade`). Port 1 is the source side.

Transfer function (`transfer_function`), source EMF E_S with impedance Z_S, load Z_L (Ω):

    "emf"        H = V_L / E_S       = Z_L / (A Z_L + B + C Z_S Z_L + D Z_S)          (default)
    "insertion"  H = V_L / V_L,direct = (Z_S + Z_L) / (A Z_L + B + C Z_S Z_L + D Z_S)  (1 for a through)
    "voltage"    H = V_L / V1         = Z_L / (A Z_L + B)

The "emf" form is the one used for PLC channels built from ABCD sections (e.g. Esmailian, Kschischang,
Gulak, "In-building power lines as high-speed communication channels", Int. J. Commun. Syst. 16, 2003);
it includes the source divider, so a matched line (Z_S = Z_L = Zc) gives e^(−γl)/2 in "emf" form and
e^(−γl) in the "insertion" and "voltage" forms.

Elements: a line section [[cosh γl, Zc sinh γl], [sinh γl/Zc, cosh γl]]; a series impedance [[1, Z], [0, 1]];
a shunt admittance [[1, 0], [Y, 1]]; an ideal transformer n:1 [[n, 0], [0, 1/n]]; a branch tap is the shunt
admittance of a stub line's input, Y = (C Z_T + D)/(A Z_T + B) of the stub terminated in Z_T (open:
Y = tanh(γl)/Zc; short: Y = 1/(Zc tanh γl)).

The 22.9 kV capacitive coupler (`capacitive_coupler`) is modelled as a high-pass two-port, seen from the
modem (port 1) towards the line (port 2): a shunt drain inductance L_d across the modem side, then the
series coupling capacitor C_c (with an optional series loss resistance), optionally behind an ideal
matching transformer. Defaults (ASSUMPTION, not from the paper): C_c = 5.1 nF — a rated MV coupling
capacitor (the value used by Beqirllari, Ozansoy, Gomes, Results in Engineering 2025, for MV overhead
PLC) — and L_d = 5 µH, which puts the high-pass corner 1/(2π√(L_d C_c)) near 1 MHz, the bottom of the
1–30 MHz band. Narrowband couplers use a larger drain coil (0.2–2 mH). `reverse` turns a two-port around
(for the receiving coupler, line on port 1).

S ↔ ABCD (`s_to_abcd`, `abcd_to_s`) use one real reference impedance z0 at both ports (Pozar,
*Microwave Engineering*, Table 4.2): A = ((1+S11)(1−S22) + S12 S21)/(2 S21), B = z0((1+S11)(1+S22) −
S12 S21)/(2 S21), C = ((1−S11)(1−S22) − S12 S21)/(2 S21 z0), D = ((1−S11)(1+S22) + S12 S21)/(2 S21);
S11 = (A + B/z0 − C z0 − D)/Δ, S12 = 2(AD − BC)/Δ, S21 = 2/Δ, S22 = (−A + B/z0 − C z0 + D)/Δ with
Δ = A + B/z0 + C z0 + D.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from openami.channel.errors import ChannelModelError

__all__ = [
    "abcd_to_s",
    "branch_tap",
    "capacitive_coupler",
    "cascade",
    "ideal_transformer",
    "identity",
    "input_impedance",
    "line_section",
    "output_impedance",
    "reverse",
    "s_to_abcd",
    "series_impedance",
    "shunt_admittance",
    "shunt_impedance",
    "transfer_function",
]

ComplexArray = npt.NDArray[np.complex128]
Normalization = Literal["emf", "insertion", "voltage"]


def _complex(x: npt.ArrayLike, name: str) -> ComplexArray:
    a = np.asarray(x, dtype=np.complex128)
    if not np.all(np.isfinite(a)):
        raise ChannelModelError(f"{name} must be finite")
    return a


def _abcd(m: npt.ArrayLike, name: str = "abcd") -> ComplexArray:
    a = np.asarray(m, dtype=np.complex128)
    if a.ndim < 3 or a.shape[-2:] != (2, 2):
        raise ChannelModelError(f"{name} must have shape (n_f, 2, 2) or (batch, n_f, 2, 2), got {a.shape}")
    return a


def _assemble(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike, d: npt.ArrayLike) -> ComplexArray:
    aa, bb, cc, dd = np.broadcast_arrays(*(np.asarray(v, dtype=np.complex128) for v in (a, b, c, d)))
    if aa.ndim == 0:
        aa, bb, cc, dd = (v.reshape(1) for v in (aa, bb, cc, dd))
    out = np.empty((*aa.shape, 2, 2), dtype=np.complex128)
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1] = aa, bb, cc, dd
    return out


def identity(n_f: int) -> ComplexArray:
    """The through connection: (n_f, 2, 2) identity matrices."""
    if n_f < 1:
        raise ChannelModelError("n_f must be ≥ 1")
    return np.broadcast_to(np.eye(2, dtype=np.complex128), (n_f, 2, 2)).copy()


def line_section(zc: npt.ArrayLike, gamma: npt.ArrayLike, length_m: float) -> ComplexArray:
    """A uniform line of `length_m` m with Zc (Ω) and γ (1/m), each (n_f,) (or broadcastable): (n_f, 2, 2)."""
    if not (math.isfinite(length_m) and length_m >= 0):
        raise ChannelModelError(f"line length must be finite and ≥ 0 m, got {length_m!r}")
    z = _complex(zc, "zc")
    if np.any(z == 0):
        raise ChannelModelError("zc must be non-zero")
    gl = _complex(gamma, "gamma") * length_m
    ch, sh = np.cosh(gl), np.sinh(gl)
    return _assemble(ch, z * sh, sh / z, ch)


def series_impedance(z: npt.ArrayLike) -> ComplexArray:
    """A series element of impedance Z (Ω), (n_f,): [[1, Z], [0, 1]], (n_f, 2, 2)."""
    zz = _complex(z, "z")
    return _assemble(np.ones_like(zz), zz, np.zeros_like(zz), np.ones_like(zz))


def shunt_admittance(y: npt.ArrayLike) -> ComplexArray:
    """A shunt element of admittance Y (S), (n_f,): [[1, 0], [Y, 1]], (n_f, 2, 2)."""
    yy = _complex(y, "y")
    return _assemble(np.ones_like(yy), np.zeros_like(yy), yy, np.ones_like(yy))


def shunt_impedance(z: npt.ArrayLike) -> ComplexArray:
    """A shunt element of impedance Z (Ω) ≠ 0: `shunt_admittance(1/Z)`."""
    zz = _complex(z, "z")
    if np.any(zz == 0):
        raise ChannelModelError("a shunt impedance of 0 Ω shorts the line")
    return shunt_admittance(1.0 / zz)


def ideal_transformer(n: float, n_f: int) -> ComplexArray:
    """Ideal transformer with turns ratio n:1 (port 1 : port 2): [[n, 0], [0, 1/n]], (n_f, 2, 2)."""
    if not (math.isfinite(n) and n > 0):
        raise ChannelModelError(f"turns ratio must be > 0, got {n!r}")
    return _assemble(np.full(n_f, n), np.zeros(n_f), np.zeros(n_f), np.full(n_f, 1.0 / n))


def branch_tap(
    zc: npt.ArrayLike, gamma: npt.ArrayLike, length_m: float, z_term: npt.ArrayLike | None = None
) -> ComplexArray:
    """Shunt two-port of a branch line (stub) of `length_m` m terminated in `z_term` (Ω; None: open).

    Y_in = (Zc + Z_T tanh γl)/(Zc (Z_T + Zc tanh γl)); open end: tanh(γl)/Zc. (n_f, 2, 2).
    """
    stub = line_section(zc, gamma, length_m)
    a, b, c, d = stub[..., 0, 0], stub[..., 0, 1], stub[..., 1, 0], stub[..., 1, 1]
    if z_term is None:
        y = c / a
    else:
        zt = _complex(z_term, "z_term")
        den = a * zt + b
        if np.any(den == 0):
            raise ChannelModelError("the branch presents a short circuit (Y_in infinite)")
        y = (c * zt + d) / den
    return shunt_admittance(y)


def capacitive_coupler(
    f_hz: npt.ArrayLike,
    c_coupling_f: float = 5.1e-9,
    l_drain_h: float = 5e-6,
    *,
    r_series_ohm: float = 0.0,
    turns_ratio: float = 1.0,
) -> ComplexArray:
    """High-pass model of an MV capacitive coupler, modem side = port 1, line side = port 2: (n_f, 2, 2).

    Modem → [ideal transformer turns_ratio:1] → shunt L_d → series (R + 1/(jωC_c)) → line. f > 0 Hz.
    """
    f = np.asarray(f_hz, dtype=np.float64)
    if f.ndim != 1 or f.size == 0 or not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ChannelModelError("f_hz must be a non-empty 1-D array of finite frequencies > 0 Hz")
    for name, v in (("c_coupling_f", c_coupling_f), ("l_drain_h", l_drain_h)):
        if not (math.isfinite(v) and v > 0):
            raise ChannelModelError(f"{name} must be > 0, got {v!r}")
    if not (math.isfinite(r_series_ohm) and r_series_ohm >= 0):
        raise ChannelModelError("r_series_ohm must be ≥ 0")
    w = 2.0 * np.pi * f
    drain = shunt_impedance(1j * w * l_drain_h)
    capacitor = series_impedance(r_series_ohm + 1.0 / (1j * w * c_coupling_f))
    return cascade(ideal_transformer(turns_ratio, f.size), drain, capacitor)


def cascade(*sections: npt.ArrayLike) -> ComplexArray:
    """Chain two-ports in signal order (port 2 of each to port 1 of the next): matrix product, broadcast."""
    if not sections:
        raise ChannelModelError("cascade needs at least one two-port")
    out = _abcd(sections[0], "section 0")
    for i, s in enumerate(sections[1:], start=1):
        m = _abcd(s, f"section {i}")
        try:
            out = np.matmul(out, m)
        except ValueError as exc:
            raise ChannelModelError(f"section {i} has shape {m.shape}, incompatible with {out.shape}") from exc
    return out


def reverse(abcd: npt.ArrayLike) -> ComplexArray:
    """The same reciprocal two-port seen from the other side: [[D, B], [C, A]]/(AD − BC)."""
    m = _abcd(abcd)
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    det = a * d - b * c
    if np.any(det == 0):
        raise ChannelModelError("singular two-port (AD − BC = 0)")
    return _assemble(d / det, b / det, c / det, a / det)


def input_impedance(abcd: npt.ArrayLike, z_load: npt.ArrayLike) -> ComplexArray:
    """Impedance (Ω) at port 1 with port 2 loaded by Z_L: (A Z_L + B)/(C Z_L + D); shape of A."""
    m = _abcd(abcd)
    zl = _complex(z_load, "z_load")
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    return np.asarray((a * zl + b) / (c * zl + d), dtype=np.complex128)


def output_impedance(abcd: npt.ArrayLike, z_source: npt.ArrayLike) -> ComplexArray:
    """Impedance (Ω) looking into port 2 with port 1 driven from Z_S: (D Z_S + B)/(C Z_S + A)."""
    m = _abcd(abcd)
    zs = _complex(z_source, "z_source")
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    return np.asarray((d * zs + b) / (c * zs + a), dtype=np.complex128)


def transfer_function(
    abcd: npt.ArrayLike, z_source: npt.ArrayLike, z_load: npt.ArrayLike, *, normalization: Normalization = "emf"
) -> ComplexArray:
    """Voltage transfer function of a loaded two-port (see the module docstring), shape of A."""
    m = _abcd(abcd)
    zs = _complex(z_source, "z_source")
    zl = _complex(z_load, "z_load")
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    if normalization == "voltage":
        return np.asarray(zl / (a * zl + b), dtype=np.complex128)
    den = a * zl + b + c * zs * zl + d * zs
    if normalization == "emf":
        return np.asarray(zl / den, dtype=np.complex128)
    if normalization == "insertion":
        return np.asarray((zs + zl) / den, dtype=np.complex128)
    raise ChannelModelError(f"unknown normalization {normalization!r}")


def _z0(z0: float) -> float:
    if not (math.isfinite(z0) and z0 > 0):
        raise ChannelModelError(f"reference impedance must be a real number > 0 Ω, got {z0!r}")
    return float(z0)


def s_to_abcd(s: npt.ArrayLike, z0: float = 50.0) -> ComplexArray:
    """ABCD of a two-port from its S-parameters (…, 2, 2) referred to real z0 (Ω) at both ports."""
    sm = _abcd(s, "s")
    r = _z0(z0)
    s11, s12, s21, s22 = sm[..., 0, 0], sm[..., 0, 1], sm[..., 1, 0], sm[..., 1, 1]
    if np.any(s21 == 0):
        raise ChannelModelError("S21 = 0: the two-port has no ABCD matrix")
    den = 2.0 * s21
    return _assemble(
        ((1 + s11) * (1 - s22) + s12 * s21) / den,
        r * ((1 + s11) * (1 + s22) - s12 * s21) / den,
        ((1 - s11) * (1 - s22) - s12 * s21) / (den * r),
        ((1 - s11) * (1 + s22) + s12 * s21) / den,
    )


def abcd_to_s(abcd: npt.ArrayLike, z0: float = 50.0) -> ComplexArray:
    """S-parameters (…, 2, 2) referred to real z0 (Ω) at both ports from an ABCD array."""
    m = _abcd(abcd)
    r = _z0(z0)
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    delta = a + b / r + c * r + d
    if np.any(delta == 0):
        raise ChannelModelError("degenerate two-port (A + B/z0 + C z0 + D = 0)")
    return _assemble(
        (a + b / r - c * r - d) / delta,
        2.0 * (a * d - b * c) / delta,
        2.0 / delta,
        (-a + b / r - c * r + d) / delta,
    )
