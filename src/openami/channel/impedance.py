"""Impedance from measurement: S-parameters → input and characteristic impedance, Touchstone files.

Conventions: frequencies in Hz (float64, shape (n_f,)), S-parameters complex128 of shape (n_f, n, n)
(frequency axis first) referred to one real reference impedance `z0` (Ω, 50 by default) at every port,
impedances in Ω, propagation constants γ = α + jβ in 1/m (α in Np/m, β in rad/m), lengths in m.

Relations used (Pozar, *Microwave Engineering*, §2 and Table 4.2; any transmission-line text):

* one port:           Z_in = Z0·(1 + S11)/(1 − S11),  S11 = (Z − Z0)/(Z + Z0)
* line section of length l measured open (Z_oc = Zc·coth γl) and shorted (Z_sc = Zc·tanh γl):
                      Zc = √(Z_oc·Z_sc),  γ = atanh(√(Z_sc/Z_oc))/l
* two-port:           S ↔ ABCD ↔ Z; a line section has ABCD [[cosh γl, Zc sinh γl], [sinh γl/Zc, cosh γl]],
                      so Z_oc = A/C, Z_sc = B/D, Zc = √(B/C), e^(γl) = A + B/Zc
* loaded line:        Z_in = Zc·(Z_L + Zc tanh γl)/(Zc + Z_L tanh γl)

Branches. The square roots take the principal branch (Re ≥ 0), which gives Re Zc ≥ 0 and α ≥ 0 for a
passive line. atanh and log are multivalued in β: the principal values give βl within (−π/2, π/2]
(atanh) or (−π, π] (log), i.e. only lines shorter than λ/4 (resp. λ/2) come out right at one frequency.
Over a sweep, `unwrap=True` (default) removes the jumps of βl along the frequency axis (period π for
atanh, 2π for log); that is correct when the first frequency is below the first ambiguity (l < λ/4,
resp. λ/2) and successive points change βl by less than half a period. Otherwise pass `unwrap=False` and
add the right multiple yourself.

The reference paper's method. Kim et al. (2002) take the line impedance from VNA data with their eqs. 11–12
(after Kwasniok et al., 1993). Eq. 12, V_P1/V_P2 = (1 + S11)/S21, is the voltage ratio of a two-port whose
port 2 sees the analyser's Z0 (`voltage_ratio_from_s`; it equals A + B/Z0). Eq. 11 as printed is circular:
the reflection factor K_R1 it uses contains the term Z_T2, which is itself defined through Z_L, the
impedance being solved for, so it cannot be evaluated from the measurement alone. openami uses the
standard relations above instead: Z_in from S11 for a terminated line, and Zc, γ from an open/short pair
or from the full two-port of a line section.

Touchstone. `read_touchstone` / `write_touchstone` go through scikit-rf (`skrf.Network`) but read the file
text themselves and hand it over as a string: `skrf.Network(path)` first tries to *unpickle* a file,
which must never happen to a measurement file of unknown origin. Malformed files raise
`ChannelModelError` naming the file.

Overhead-line estimates (for sanity checks of measured |Z|): the quasi-TEM impedance of wires in air over
a perfect ground, Z = (η0/2π)·P, P_ii = ln(2h_i/r_i), P_ij = ln(D'_ij/d_ij) (d: distance between wires,
D': distance to the image), η0/2π ≈ 59.96 Ω. A single wire gives 60·acosh(h/r) ≈ 60·ln(2h/r).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from openami.channel.errors import ChannelModelError
from openami.channel.twoport import abcd_to_s, s_to_abcd

__all__ = [
    "ETA0_OVER_2PI_OHM",
    "PAPER_MEASURED_IMPEDANCE_BANDS",
    "SParameters",
    "abcd_to_s",
    "impedance_to_s11",
    "line_from_abcd",
    "line_from_open_short",
    "line_input_impedance",
    "open_short_from_abcd",
    "read_touchstone",
    "s11_to_impedance",
    "s_to_abcd",
    "s_to_z",
    "single_wire_over_ground_z0",
    "voltage_ratio_from_s",
    "wires_over_ground_common_mode_z0",
    "wires_over_ground_z0_matrix",
    "write_touchstone",
    "z_to_s",
]

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]

ETA0_OVER_2PI_OHM = 376.730313668 / (2.0 * np.pi)
"""Free-space wave impedance over 2π (Ω), the factor of ln(2h/r) for a wire over ground (≈ 59.96 Ω)."""

PAPER_MEASURED_IMPEDANCE_BANDS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 15e6, 100.0, 380.0),
    (15e6, 30e6, 70.0, 230.0),
)
"""Kim et al. (2002) measured |Z|: (f_low Hz, f_high Hz, |Z| low Ω, |Z| high Ω) per band."""


def _z0(z0: float) -> float:
    v = float(z0)
    if not (np.isfinite(v) and v > 0):
        raise ChannelModelError(f"reference impedance must be real, positive and finite, got {z0!r}")
    return v


def _complex(x: npt.ArrayLike) -> ComplexArray:
    return np.asarray(x, dtype=np.complex128)


def _length(length_m: float) -> float:
    v = float(length_m)
    if not (np.isfinite(v) and v > 0):
        raise ChannelModelError(f"line length must be positive and finite, got {length_m!r}")
    return v


def _two_port(s: npt.ArrayLike, name: str = "S") -> ComplexArray:
    arr = _complex(s)
    if arr.ndim != 3 or arr.shape[1:] != (2, 2):
        raise ChannelModelError(f"{name} must have shape (n_f, 2, 2), got {arr.shape}")
    return arr


# --- one-port ----------------------------------------------------------------------------------------


def s11_to_impedance(s11: npt.ArrayLike, z0: float = 50.0) -> ComplexArray:
    """Z_in = Z0·(1 + S11)/(1 − S11) in Ω, shape of `s11`. S11 = 1 (open) gives inf."""
    s = _complex(s11)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _z0(z0) * (1.0 + s) / (1.0 - s)


def impedance_to_s11(z: npt.ArrayLike, z0: float = 50.0) -> ComplexArray:
    """S11 = (Z − Z0)/(Z + Z0), shape of `z` (Ω)."""
    zz = _complex(z)
    ref = _z0(z0)
    return (zz - ref) / (zz + ref)


def line_input_impedance(
    zc: npt.ArrayLike, gamma: npt.ArrayLike, length_m: float, z_load: npt.ArrayLike
) -> ComplexArray:
    """Z_in = Zc·(Z_L + Zc·tanh γl)/(Zc + Z_L·tanh γl) in Ω (inputs broadcast; Zc, Z_L in Ω, γ in 1/m)."""
    t = np.tanh(_complex(gamma) * _length(length_m))
    c = _complex(zc)
    zl = _complex(z_load)
    return c * (zl + c * t) / (c + zl * t)


# --- line sections -----------------------------------------------------------------------------------


def _unwrap_imag(x: ComplexArray, period: float) -> ComplexArray:
    if x.ndim == 0 or x.shape[0] < 2:
        return x
    return np.asarray(x.real + 1j * np.unwrap(x.imag, period=period, axis=0), dtype=np.complex128)


def line_from_open_short(
    z_oc: npt.ArrayLike, z_sc: npt.ArrayLike, length_m: float, *, unwrap: bool = True
) -> tuple[ComplexArray, ComplexArray]:
    """(Zc in Ω, γ in 1/m) of a line section from its input impedance open (Z_oc) and shorted (Z_sc).

    Zc = √(Z_oc·Z_sc), γ = atanh(√(Z_sc/Z_oc))/l, principal roots; with `unwrap`, βl is unwrapped
    (period π) along axis 0, the frequency axis. Inputs broadcast; shapes follow them.
    """
    oc = _complex(z_oc)
    sc = _complex(z_sc)
    if np.any((oc == 0) | ~np.isfinite(oc) | ~np.isfinite(sc)):
        raise ChannelModelError("Z_oc must be finite and non-zero, Z_sc finite")
    zc = np.asarray(np.sqrt(oc * sc), dtype=np.complex128)
    gl = np.asarray(np.arctanh(np.sqrt(sc / oc)), dtype=np.complex128)
    if unwrap:
        gl = _unwrap_imag(gl, np.pi)
    return zc, gl / _length(length_m)


def open_short_from_abcd(abcd: npt.ArrayLike) -> tuple[ComplexArray, ComplexArray]:
    """Input impedances (Ω, shape (n_f,)) of a two-port with port 2 open (A/C) and shorted (B/D)."""
    m = _two_port(abcd, "ABCD")
    with np.errstate(divide="ignore", invalid="ignore"):
        return m[:, 0, 0] / m[:, 1, 0], m[:, 0, 1] / m[:, 1, 1]


def line_from_abcd(abcd: npt.ArrayLike, length_m: float, *, unwrap: bool = True) -> tuple[ComplexArray, ComplexArray]:
    """(Zc in Ω, γ in 1/m), each of shape (n_f,), of a uniform line section from its ABCD (n_f, 2, 2).

    Zc = √(B/C) (principal root), e^(γl) = A + B/Zc, γl = log(A + B/Zc) with βl unwrapped (period 2π)
    along frequency when `unwrap`. Assumes a symmetric reciprocal section (A = D, AD − BC = 1).
    """
    m = _two_port(abcd, "ABCD")
    a, b, c = m[:, 0, 0], m[:, 0, 1], m[:, 1, 0]
    if np.any(c == 0) or np.any(b == 0):
        raise ChannelModelError("B and C of a line section must be non-zero (zero length or ideal element?)")
    zc = np.asarray(np.sqrt(b / c), dtype=np.complex128)
    gl = np.asarray(np.log(a + b / zc), dtype=np.complex128)
    if unwrap:
        gl = _unwrap_imag(gl, 2.0 * np.pi)
    return zc, gl / _length(length_m)


# --- two-port conversions (one real reference impedance z0 at both ports) -------------------------------


def _square(s: npt.ArrayLike) -> ComplexArray:
    arr = _complex(s)
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] < 1:
        raise ChannelModelError(f"expected shape (n_f, n, n), got {arr.shape}")
    return arr


def s_to_z(s: npt.ArrayLike, z0: float = 50.0) -> ComplexArray:
    """S (n_f, n, n) → impedance matrix Z = Z0·(I + S)(I − S)⁻¹ in Ω, same shape. Needs I − S invertible."""
    m = _square(s)
    eye = np.eye(m.shape[1], dtype=np.complex128)
    try:
        # Z = Z0 (I + S)(I − S)^-1  ⇔  Zᵀ = Z0 ((I − S)ᵀ)^-1 (I + S)ᵀ
        zt = np.linalg.solve(np.swapaxes(eye - m, 1, 2), np.swapaxes(eye + m, 1, 2))
    except np.linalg.LinAlgError as exc:
        raise ChannelModelError("I − S is singular (an open circuit): no impedance matrix") from exc
    return np.asarray(_z0(z0) * np.swapaxes(zt, 1, 2), dtype=np.complex128)


def z_to_s(z: npt.ArrayLike, z0: float = 50.0) -> ComplexArray:
    """Impedance matrix Z (n_f, n, n) in Ω → S = (Z − Z0·I)(Z + Z0·I)⁻¹, same shape."""
    m = _square(z)
    ref = _z0(z0)
    eye = np.eye(m.shape[1], dtype=np.complex128)
    try:
        st = np.linalg.solve(np.swapaxes(m + ref * eye, 1, 2), np.swapaxes(m - ref * eye, 1, 2))
    except np.linalg.LinAlgError as exc:
        raise ChannelModelError("Z + Z0·I is singular: no S-parameters at this reference") from exc
    return np.swapaxes(st, 1, 2)


def voltage_ratio_from_s(s11: npt.ArrayLike, s21: npt.ArrayLike) -> ComplexArray:
    """The paper's eq. 12: V_P1/V_P2 = (1 + S11)/S21 with port 2 terminated in Z0 (equals A + B/Z0)."""
    a = _complex(s11)
    b = _complex(s21)
    if np.any(b == 0):
        raise ChannelModelError("S21 = 0: no voltage ratio")
    return (1.0 + a) / b


# --- overhead-line estimates ---------------------------------------------------------------------------


def single_wire_over_ground_z0(height_m: npt.ArrayLike, radius_m: npt.ArrayLike) -> FloatArray:
    """(η0/2π)·acosh(h/r) ≈ 60·ln(2h/r) Ω: a lossless wire of radius r at height h over perfect ground.

    Inputs broadcast (m); requires h > r > 0. Returns float64 Ω.
    """
    h = np.asarray(height_m, dtype=np.float64)
    r = np.asarray(radius_m, dtype=np.float64)
    if np.any(~np.isfinite(h) | ~np.isfinite(r) | (r <= 0) | (h <= r)):
        raise ChannelModelError("need finite height > radius > 0")
    return np.asarray(ETA0_OVER_2PI_OHM * np.arccosh(h / r), dtype=np.float64)


def wires_over_ground_z0_matrix(x_m: npt.ArrayLike, height_m: npt.ArrayLike, radius_m: npt.ArrayLike) -> FloatArray:
    """Characteristic-impedance matrix (Ω, shape (n, n)) of n parallel wires in air over perfect ground.

    `x_m`, `height_m`, `radius_m`: horizontal position, height and radius of each wire, shape (n,), in m.
    Z = (η0/2π)·P with P_ii = ln(2h_i/r_i), P_ij = ln(D'_ij/d_ij) (thin wires, d_ij ≫ r).
    """
    x = np.atleast_1d(np.asarray(x_m, dtype=np.float64))
    h = np.atleast_1d(np.asarray(height_m, dtype=np.float64))
    r = np.atleast_1d(np.asarray(radius_m, dtype=np.float64))
    if not (x.shape == h.shape == r.shape) or x.ndim != 1:
        raise ChannelModelError("x, height and radius must be 1-D arrays of one length")
    if np.any(~np.isfinite(x) | ~np.isfinite(h) | ~np.isfinite(r) | (r <= 0) | (h <= r)):
        raise ChannelModelError("need finite positions, height > radius > 0")
    dx = x[:, None] - x[None, :]
    d = np.hypot(dx, h[:, None] - h[None, :])
    d_image = np.hypot(dx, h[:, None] + h[None, :])
    off = ~np.eye(x.size, dtype=bool)
    if np.any(d[off] <= (r[:, None] + r[None, :])[off]):
        raise ChannelModelError("wires overlap")
    p = np.empty_like(d)
    p[off] = np.log(d_image[off] / d[off])
    p[~off] = np.log(2.0 * h / r)
    return ETA0_OVER_2PI_OHM * p


def wires_over_ground_common_mode_z0(x_m: npt.ArrayLike, height_m: npt.ArrayLike, radius_m: npt.ArrayLike) -> float:
    """Common-mode impedance (Ω) of the wires driven together against ground: 1/(1ᵀ·Z⁻¹·1)."""
    z = wires_over_ground_z0_matrix(x_m, height_m, radius_m)
    return float(1.0 / np.sum(np.linalg.inv(z)))


# --- Touchstone ----------------------------------------------------------------------------------------


class SParameters(NamedTuple):
    """S-parameters: frequency (n_f,) float64 Hz, s (n_f, n, n) complex128, z0 (n_f, n) complex128 Ω."""

    frequency_hz: FloatArray
    s: ComplexArray
    z0: ComplexArray


def _ports_from_suffix(path: Path) -> int:
    suffix = path.suffix.lower()
    if len(suffix) >= 4 and suffix[:2] == ".s" and suffix[-1] == "p" and suffix[2:-1].isdigit():
        n = int(suffix[2:-1])
        if n >= 1:
            return n
    raise ChannelModelError(f"{path.name}: not a Touchstone 1.x name (expected .s1p, .s2p, ...)")


def read_touchstone(path: str | Path) -> SParameters:
    """Read a Touchstone .sNp file (v1 syntax, any format/unit line) through scikit-rf.

    Returns frequencies in Hz (strictly increasing), S (n_f, n, n) and the port reference impedances.
    A file that does not parse, has the wrong number of values, non-finite or non-increasing frequencies
    or non-finite S raises `ChannelModelError` with the file name; a missing file raises `OSError`.
    """
    p = Path(path)
    nports = _ports_from_suffix(p)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    import skrf  # type: ignore[import-untyped]

    buffer = io.StringIO(text)
    buffer.name = p.name  # skrf takes the port count from the .sNp suffix of the name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = skrf.Network(buffer)
        f = np.asarray(net.f, dtype=np.float64)
        s = np.asarray(net.s, dtype=np.complex128)
        z0 = np.asarray(net.z0, dtype=np.complex128)
    except ChannelModelError:
        raise
    except Exception as exc:  # skrf raises ValueError, IndexError, KeyError, ... on malformed text
        raise ChannelModelError(f"{p.name}: malformed Touchstone file ({type(exc).__name__}: {exc})") from exc
    if f.ndim != 1 or f.size == 0 or s.shape != (f.size, nports, nports):
        raise ChannelModelError(f"{p.name}: expected S of shape (n_f, {nports}, {nports}), got {s.shape}")
    if np.any(~np.isfinite(f)) or np.any(f < 0) or np.any(np.diff(f) <= 0):
        raise ChannelModelError(f"{p.name}: frequencies must be finite, non-negative and strictly increasing")
    if np.any(~np.isfinite(s)):
        raise ChannelModelError(f"{p.name}: non-finite S-parameter values")
    return SParameters(f, s, np.broadcast_to(z0, (f.size, nports)).copy())


def write_touchstone(
    path: str | Path,
    frequency_hz: npt.ArrayLike,
    s: npt.ArrayLike,
    z0: float = 50.0,
    *,
    comment: str | None = None,
) -> None:
    """Write S (n_f, n, n) at frequencies (n_f,) Hz to a Touchstone v1 file (real/imaginary, Hz).

    The suffix of `path` must be .sNp with N = n. Values are written with repr precision, so a read back
    returns the same numbers.
    """
    p = Path(path)
    nports = _ports_from_suffix(p)
    f = np.asarray(frequency_hz, dtype=np.float64)
    sp = _square(s)
    if f.ndim != 1 or sp.shape != (f.size, nports, nports) or f.size == 0:
        raise ChannelModelError(f"{p.name}: need f (n_f,) and S (n_f, {nports}, {nports}); got {f.shape}, {sp.shape}")
    if np.any(~np.isfinite(f)) or np.any(f < 0) or np.any(np.diff(f) <= 0):
        raise ChannelModelError("frequencies must be finite, non-negative and strictly increasing")
    if np.any(~np.isfinite(sp)):
        raise ChannelModelError("S-parameters must be finite")
    import skrf  # untyped: the ignore on the import in read_touchstone covers the module

    net = skrf.Network(
        frequency=skrf.Frequency.from_f(f, unit="hz"), s=sp, z0=_z0(z0), name=p.stem, comments=comment or ""
    )
    text = net.write_touchstone(return_string=True, form="ri", skrf_comment=False)
    p.write_text(str(text), encoding="utf-8")
