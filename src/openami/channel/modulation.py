"""Sub-carrier modulations of the OFDM links and their analytic error rates in Gaussian noise.

Coherent: BPSK, QPSK and 16-QAM, Gray-mapped, unit mean symbol energy, detected after a one-tap equaliser
with perfect channel knowledge. Differential: DBPSK and DQPSK, phase steps in units of π/4 (DBPSK 0 / π,
DQPSK ±π/4, ±3π/4 Gray-mapped), detected from z = y · conj(y_ref) without channel knowledge.

Bits are ``uint8`` arrays whose last axis holds the bits of one carrier symbol (most significant first);
symbols are ``complex128``. SNR arguments are linear per-carrier Es/N0 (signal energy in the FFT bin over
the noise in the same bin); Eb/N0 = Es/N0 / bits per symbol.

Analytic error rates (sources):

- BPSK and Gray QPSK: Pb = Q(√(2 Eb/N0)) (Proakis, *Digital Communications*, 4th ed., §5.2).
- Gray 16-QAM, exact: Pb = ¼[3 Q(x) + 2 Q(3x) − Q(5x)], x = √(0.8 Eb/N0) (Cho & Yoon, "On the general BER
  expression of one- and two-dimensional amplitude modulations", IEEE Trans. Commun. 50(7), 2002); the usual
  approximation Pb ≈ ¾ Q(√(0.8 Eb/N0)) (Proakis §5.2.9, M-QAM with Gray coding) is `ber_16qam_gray_approx`.
- DBPSK: Pb = ½ e^(−Eb/N0) (Proakis §5.2.8).
- Gray DQPSK, differential detection: Pb = Q1(a, b) − ½ I0(ab) e^(−(a²+b²)/2), a = √(2γb(1 − 1/√2)),
  b = √(2γb(1 + 1/√2)) (Proakis §5.2.8), Q1 the Marcum Q function.
- Both DPSK results are the equal-SNR case of one binary test: the sign of Re(y1 · conj(y2)) when the two
  noisy samples have SNRs γ1, γ2 and their signals differ in phase by an angle with cosine c. With
  u = y1 + y2, v = y1 − y2 (independent once each sample is scaled to unit noise), the error probability is
  P(|u| < |v|) = Q1(α, β) − ½ I0(αβ) e^(−(α²+β²)/2), α² = (γ1 + γ2 − 2√(γ1γ2)|c|)/2,
  β² = (γ1 + γ2 + 2√(γ1γ2)|c|)/2 (Proakis, Appendix B; Stein 1964), or one minus that when c < 0.
  `dpsk_decision_error` uses it for differential detection across carriers of unequal SNR and for the
  phase rotation arg(H_k · conj(H_{k−1})) that frequency-differential detection sees.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import special, stats  # type: ignore[import-untyped]

from openami.channel.errors import ChannelModelError

__all__ = [
    "COHERENT_MODULATIONS",
    "DIFFERENTIAL_MODULATIONS",
    "MODULATIONS",
    "Modulation",
    "ber_16qam_gray_approx",
    "ber_awgn",
    "bits_per_symbol",
    "carrier_bit_error",
    "carrier_symbol_error",
    "constellation",
    "demap_symbols",
    "differential_decide",
    "differential_steps",
    "dpsk_chain_error",
    "dpsk_decision_error",
    "map_symbols",
    "q_function",
]

Modulation = Literal["bpsk", "qpsk", "16qam", "dbpsk", "dqpsk"]
MODULATIONS: Final[tuple[Modulation, ...]] = ("bpsk", "qpsk", "16qam", "dbpsk", "dqpsk")
COHERENT_MODULATIONS: Final[frozenset[str]] = frozenset({"bpsk", "qpsk", "16qam"})
DIFFERENTIAL_MODULATIONS: Final[frozenset[str]] = frozenset({"dbpsk", "dqpsk"})

_BITS: Final[dict[str, int]] = {"bpsk": 1, "qpsk": 2, "16qam": 4, "dbpsk": 1, "dqpsk": 2}
_SQRT10: Final[float] = float(np.sqrt(10.0))

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
BitArray = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.int64]


def _check_modulation(modulation: str) -> None:
    if modulation not in _BITS:
        raise ChannelModelError(f"unknown modulation {modulation!r}; expected one of {MODULATIONS}")


def bits_per_symbol(modulation: str) -> int:
    """Bits carried by one carrier symbol of `modulation` (1, 2 or 4)."""
    _check_modulation(modulation)
    return _BITS[modulation]


def _check_bits(bits: npt.ArrayLike, width: int) -> BitArray:
    b = np.asarray(bits)
    if b.ndim == 0 or b.shape[-1] != width:
        raise ChannelModelError(f"bits must have a last axis of length {width}, got shape {b.shape}")
    is_int = np.issubdtype(b.dtype, np.integer) or b.dtype == np.bool_
    if b.size and (not is_int or b.min() < 0 or b.max() > 1):
        raise ChannelModelError("bits must be integers 0 or 1")
    return b.astype(np.uint8, copy=False)


def map_symbols(modulation: str, bits: npt.ArrayLike) -> ComplexArray:
    """Gray-map coherent bits, shape (..., b) uint8, to unit-energy symbols, shape (...) complex128.

    BPSK: 0 → +1, 1 → −1. QPSK: (b0, b1) → ((1 − 2b0) + j(1 − 2b1))/√2. 16-QAM: per axis 4-PAM with
    (b0, b1) → (1 − 2b0)(3 − 2b1) ∈ {+3, +1, −1, −3} (Gray: neighbours differ in one bit), I from b0 b1,
    Q from b2 b3, scaled by 1/√10.
    """
    if modulation not in COHERENT_MODULATIONS:
        raise ChannelModelError(f"map_symbols needs a coherent modulation, got {modulation!r}")
    b = _check_bits(bits, _BITS[modulation]).astype(np.float64)
    if modulation == "bpsk":
        return np.asarray(1.0 - 2.0 * b[..., 0], dtype=np.complex128)
    if modulation == "qpsk":
        return np.asarray(((1.0 - 2.0 * b[..., 0]) + 1j * (1.0 - 2.0 * b[..., 1])) / np.sqrt(2.0), dtype=np.complex128)
    i = (1.0 - 2.0 * b[..., 0]) * (3.0 - 2.0 * b[..., 1])
    q = (1.0 - 2.0 * b[..., 2]) * (3.0 - 2.0 * b[..., 3])
    return np.asarray((i + 1j * q) / _SQRT10, dtype=np.complex128)


def demap_symbols(modulation: str, z: npt.ArrayLike) -> BitArray:
    """Hard decisions on equalised symbols, shape (...) complex → bits (..., b) uint8 (nearest point)."""
    if modulation not in COHERENT_MODULATIONS:
        raise ChannelModelError(f"demap_symbols needs a coherent modulation, got {modulation!r}")
    zz = np.asarray(z, dtype=np.complex128)
    re, im = zz.real, zz.imag
    if modulation == "bpsk":
        return (re < 0)[..., None].astype(np.uint8)
    if modulation == "qpsk":
        return np.stack([re < 0, im < 0], axis=-1).astype(np.uint8)
    thr = 2.0 / _SQRT10
    return np.stack([re < 0, np.abs(re) < thr, im < 0, np.abs(im) < thr], axis=-1).astype(np.uint8)


def constellation(modulation: str) -> tuple[BitArray, ComplexArray]:
    """All bit patterns, shape (2^b, b), and their coherent constellation points, shape (2^b,)."""
    width = bits_per_symbol(modulation)
    patterns = ((np.arange(2**width)[:, None] >> np.arange(width - 1, -1, -1)) & 1).astype(np.uint8)
    return patterns, map_symbols(modulation, patterns)


def differential_steps(modulation: str, bits: npt.ArrayLike) -> IntArray:
    """Phase steps, in units of π/4, for differential bits (..., b) → (...) int64 in 0..7.

    DBPSK: 0 → 0, 1 → π. DQPSK (Gray, π/4-offset): the step is the angle of (1 − 2b0) + j(1 − 2b1), so
    00 → π/4, 10 → 3π/4, 11 → −3π/4, 01 → −π/4.
    """
    if modulation == "dbpsk":
        return 4 * _check_bits(bits, 1)[..., 0].astype(np.int64)
    if modulation == "dqpsk":
        b = _check_bits(bits, 2).astype(np.int64)
        table = np.array([[1, 7], [3, 5]], dtype=np.int64)  # [b0][b1]
        return table[b[..., 0], b[..., 1]]
    raise ChannelModelError(f"differential_steps needs a differential modulation, got {modulation!r}")


def differential_decide(modulation: str, z: npt.ArrayLike) -> BitArray:
    """Bits (..., b) from the differential statistic z = y · conj(y_ref), shape (...) complex."""
    zz = np.asarray(z, dtype=np.complex128)
    if modulation == "dbpsk":
        return (zz.real < 0)[..., None].astype(np.uint8)
    if modulation == "dqpsk":
        return np.stack([zz.real < 0, zz.imag < 0], axis=-1).astype(np.uint8)
    raise ChannelModelError(f"differential_decide needs a differential modulation, got {modulation!r}")


def q_function(x: npt.ArrayLike) -> FloatArray:
    """Gaussian tail Q(x) = P(N(0, 1) > x), accurate far into the tail (scipy.special.ndtr(−x))."""
    return np.asarray(special.ndtr(-np.asarray(x, dtype=np.float64)), dtype=np.float64)


def _nonneg(x: npt.ArrayLike, what: str) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(a)) or np.any(a < 0):
        raise ChannelModelError(f"{what} must be ≥ 0 (linear), got min {np.nanmin(a) if a.size else a}")
    return a


def _marcum_difference(alpha2: FloatArray, beta2: FloatArray) -> FloatArray:
    """Q1(α, β) − ½ I0(αβ) e^(−(α²+β²)/2) for α ≤ β, from squared arguments; clipped to [0, ½]."""
    sf = stats.ncx2.sf(beta2, 2.0, alpha2)
    ab = np.sqrt(alpha2 * beta2)
    # I0(ab) e^{-(a²+b²)/2} = i0e(ab) e^{ab - (a²+b²)/2} = i0e(ab) e^{-(b-a)²/2}
    second = 0.5 * special.i0e(ab) * np.exp(-0.5 * (np.sqrt(beta2) - np.sqrt(alpha2)) ** 2)
    out = np.asarray(sf - second, dtype=np.float64)
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 0.5)


def dpsk_decision_error(snr_1: npt.ArrayLike, snr_2: npt.ArrayLike, cos_angle: npt.ArrayLike) -> FloatArray:
    """Probability that the decision sign(Re(y1 · conj(y2))) is wrong when the intended sign is +.

    snr_1, snr_2: linear SNRs |s_i|²/E|n_i|² of the two samples (independent circular Gaussian noise);
    cos_angle: cosine of the phase difference between their signals, measured so that the data intends
    a positive sign (a negative cosine means the channel rotated the signal past the decision boundary,
    and the result exceeds ½). Shapes broadcast. See the module docstring for the formula.
    """
    g1 = _nonneg(snr_1, "snr_1")
    g2 = _nonneg(snr_2, "snr_2")
    c = np.asarray(cos_angle, dtype=np.float64)
    g1, g2, c = np.broadcast_arrays(g1, g2, c)
    cross = 2.0 * np.sqrt(g1 * g2) * np.abs(c)
    alpha2 = np.maximum(0.5 * (g1 + g2 - cross), 0.0)
    beta2 = 0.5 * (g1 + g2 + cross)
    p = _marcum_difference(alpha2, beta2)
    return np.where(c >= 0, p, 1.0 - p)


def _ebn0_to_snr(modulation: str, ebn0: npt.ArrayLike) -> FloatArray:
    return _nonneg(ebn0, "Eb/N0") * bits_per_symbol(modulation)


def carrier_bit_error(
    modulation: str,
    snr: npt.ArrayLike,
    snr_ref: npt.ArrayLike | None = None,
    phase_offset_rad: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Bit error probability of one carrier at linear Es/N0 `snr` (any shape, broadcast).

    Coherent modulations ignore `snr_ref` and `phase_offset_rad` (perfect channel knowledge). Differential
    ones compare with a reference sample of SNR `snr_ref` (default: equal to `snr`, as for time-differential
    detection on a static channel) whose signal phase differs by the channel rotation `phase_offset_rad`
    on top of the data step (0 for time-differential; arg(H_k · conj(H_{k−1})) across carriers).
    """
    _check_modulation(modulation)
    g = _nonneg(snr, "snr")
    if modulation == "bpsk":
        return q_function(np.sqrt(2.0 * g))
    if modulation == "qpsk":
        return q_function(np.sqrt(g))
    if modulation == "16qam":
        x = np.sqrt(g / 5.0)
        return 0.25 * (3.0 * q_function(x) + 2.0 * q_function(3.0 * x) - q_function(5.0 * x))
    g_ref = g if snr_ref is None else _nonneg(snr_ref, "snr_ref")
    phi = np.asarray(phase_offset_rad, dtype=np.float64)
    if modulation == "dbpsk":
        return dpsk_decision_error(g, g_ref, np.cos(phi))
    # DQPSK: each symbol has one bit tested at angle π/4 + φ and one at π/4 − φ from its decision axis.
    return 0.5 * (
        dpsk_decision_error(g, g_ref, np.cos(np.pi / 4 + phi)) + dpsk_decision_error(g, g_ref, np.cos(np.pi / 4 - phi))
    )


def carrier_symbol_error(
    modulation: str,
    snr: npt.ArrayLike,
    snr_ref: npt.ArrayLike | None = None,
    phase_offset_rad: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Probability that a carrier symbol has at least one bit wrong (arguments as `carrier_bit_error`).

    Exact for BPSK, QPSK (independent I/Q), 16-QAM (1 − (1 − 1.5 Q(√(Es/5N0)))²) and DBPSK. DQPSK treats
    its two bit decisions as independent (they share the noise of z; at the error rates that matter for a
    frame the joint error term is negligible).
    """
    _check_modulation(modulation)
    g = _nonneg(snr, "snr")
    if modulation == "bpsk":
        return q_function(np.sqrt(2.0 * g))
    if modulation == "qpsk":
        p = q_function(np.sqrt(g))
        return p * (2.0 - p)
    if modulation == "16qam":
        p = 1.5 * q_function(np.sqrt(g / 5.0))
        return p * (2.0 - p)
    g_ref = g if snr_ref is None else _nonneg(snr_ref, "snr_ref")
    phi = np.asarray(phase_offset_rad, dtype=np.float64)
    if modulation == "dbpsk":
        return dpsk_decision_error(g, g_ref, np.cos(phi))
    p1 = dpsk_decision_error(g, g_ref, np.cos(np.pi / 4 + phi))
    p2 = dpsk_decision_error(g, g_ref, np.cos(np.pi / 4 - phi))
    return 1.0 - (1.0 - p1) * (1.0 - p2)


def ber_awgn(modulation: str, ebn0_linear: npt.ArrayLike) -> FloatArray:
    """Analytic bit error rate in AWGN versus linear Eb/N0 (any shape): the formulas of the module docstring."""
    return carrier_bit_error(modulation, _ebn0_to_snr(modulation, ebn0_linear))


def ber_16qam_gray_approx(ebn0_linear: npt.ArrayLike) -> FloatArray:
    """The common Gray 16-QAM approximation ¾ Q(√(0.8 Eb/N0)) (nearest-neighbour errors only)."""
    return 0.75 * q_function(np.sqrt(0.8 * _nonneg(ebn0_linear, "Eb/N0")))


def _phase_masses(snr: FloatArray, n_bins: int) -> FloatArray:
    """Masses, shape (*snr.shape, n_bins), of the phase error of √snr + CN(0, 1) on n_bins uniform bins
    centred on −π + (i + ½)·2π/n_bins (midpoint rule on the Rician phase density)."""
    d = 2.0 * np.pi / n_bins
    c = -np.pi + (np.arange(n_bins) + 0.5) * d
    a = np.sqrt(snr)[..., None]
    b = a * np.cos(c)
    # p(ψ) = e^{-γ}/(2π) + √γ cos ψ e^{-γ sin²ψ} (1 + erf(√γ cos ψ)) / (2√π)
    rician = b / (2.0 * np.sqrt(np.pi)) * np.exp(-((a * np.sin(c)) ** 2)) * special.erfc(-b)
    p = np.exp(-(a**2)) / (2.0 * np.pi) + rician
    p = np.maximum(p, 0.0)
    return np.asarray(p / p.sum(axis=-1, keepdims=True), dtype=np.float64)


def _arc_masses(v: FloatArray, arcs: tuple[tuple[FloatArray, float], ...]) -> list[FloatArray]:
    """Mass of v (..., n) (uniform inside each bin, periodic) over arcs [t, t + width) in bin units: one
    result (..., n) per (starts (n,), width) of `arcs`. Arcs are summed from whichever
    end of the bin range is closer (prefix sums from bin 0, suffix sums from bin n), so masses in the
    tails near ±π stay accurate far below the rounding error of the total."""
    n = v.shape[-1]
    zero = np.zeros((*v.shape[:-1], 1))
    prefix = np.concatenate([zero, np.cumsum(v, axis=-1)], axis=-1)  # mass of bins < k, k = 0..n
    suffix = np.concatenate([np.cumsum(v[..., ::-1], axis=-1)[..., ::-1], zero], axis=-1)  # bins ≥ k

    def below(t: FloatArray) -> FloatArray:  # mass in [0, t), 0 ≤ t ≤ n, t (n,)
        k = np.minimum(np.floor(t).astype(np.int64), n - 1)
        return np.asarray(prefix[..., k] + (t - k) * v[..., k], dtype=np.float64)

    def above(t: FloatArray) -> FloatArray:  # mass in [t, n), 0 ≤ t ≤ n
        k = np.minimum(np.floor(t).astype(np.int64), n - 1)
        return np.asarray(suffix[..., k] - (t - k) * v[..., k], dtype=np.float64)

    out = []
    for starts, width in arcs:
        lo = np.mod(starts, n)
        hi = lo + width
        mass = np.empty(v.shape)
        wrap = np.nonzero(hi > n)[0]
        top = np.nonzero((hi <= n) & (lo >= n / 2))[0]
        bottom = np.nonzero((hi <= n) & (lo < n / 2))[0]
        mass[..., wrap] = above(lo[wrap]) + below(hi[wrap] - n)
        mass[..., top] = above(lo[top]) - above(hi[top])
        mass[..., bottom] = below(hi[bottom]) - below(lo[bottom])
        out.append(np.maximum(mass, 0.0))
    return out


def dpsk_chain_error(
    modulation: str,
    snr: npt.ArrayLike,
    n_decisions: int,
    phase_offset_rad: npt.ArrayLike = 0.0,
    *,
    n_bins: int = 2048,
) -> FloatArray:
    """P(at least one error among the first j differential decisions of a chain), j = 1..n_decisions.

    A chain is samples y_0 (the reference), y_1, …, y_J; decision j compares y_j with y_{j−1}, so
    consecutive decisions share a sample and their errors are correlated (the "error pairs" of DPSK).
    Decision j is right when the phase error difference ψ_j − ψ_{j−1} + φ_j lies within ±π/2 (DBPSK) or
    ±π/4 (Gray DQPSK, whole symbol right); the ψ_j are independent Rician phases. The probability is
    computed exactly up to discretisation by propagating the phase distribution of the last sample
    through the chain on `n_bins` phase bins.

    snr: (..., J + 1) or (..., 1) (the same SNR for every sample), linear. phase_offset_rad: scalar or
    (J,), the channel rotation between consecutive samples, common to every chain of the batch. Returns
    (..., J), non-decreasing in j.
    """
    if modulation not in DIFFERENTIAL_MODULATIONS:
        raise ChannelModelError(f"dpsk_chain_error needs a differential modulation, got {modulation!r}")
    if n_decisions < 1 or n_bins < 64 or n_bins % 8:
        raise ChannelModelError("need n_decisions ≥ 1 and n_bins a multiple of 8, ≥ 64")
    g = np.atleast_1d(_nonneg(snr, "snr"))
    if g.shape[-1] not in (1, n_decisions + 1):
        raise ChannelModelError(f"snr needs a last axis of 1 or {n_decisions + 1}, got {g.shape}")
    lead = g.shape[:-1]
    phi_in = np.asarray(phase_offset_rad, dtype=np.float64)
    if phi_in.ndim > 1 or phi_in.size not in (1, n_decisions) or not np.all(np.isfinite(phi_in)):
        raise ChannelModelError(f"phase_offset_rad must be finite, a scalar or shape ({n_decisions},)")
    phi = np.broadcast_to(phi_in.reshape(-1), (n_decisions,))
    masses = _phase_masses(g, n_bins)  # (..., 1 or J+1, n)
    d = 2.0 * np.pi / n_bins
    half_width = (np.pi / 2 if modulation == "dbpsk" else np.pi / 4) / d  # in bins
    centre = np.arange(n_bins) + 0.5
    v = masses[..., 0, :]
    lost = np.zeros((*lead, n_decisions))
    total = np.zeros(lead)
    for j in range(1, n_decisions + 1):
        pm = masses[..., j if g.shape[-1] > 1 else 0, :]
        # previous phase must lie in (ψ_j + φ_j − w, ψ_j + φ_j + w) for decision j to be right
        start = centre + phi[j - 1] / d - half_width
        width = 2.0 * half_width
        inside, outside = _arc_masses(v, ((start, width), (start + width, n_bins - width)))
        total = total + np.sum(pm * outside, axis=-1)
        lost[..., j - 1] = total
        v = pm * inside
    return np.asarray(np.clip(lost, 0.0, 1.0), dtype=np.float64)
