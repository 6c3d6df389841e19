"""Impulse response, discrete-path view, delay spread and coherence bandwidth of a channel.

Impulse response (`impulse_response`): the inverse FFT of the windowed complex H(f) on a uniform grid
f_n = f_0 + nΔf (never of |H|), zero padded to `n_fft` points:

    h[i] = (1/Σw) · Σ_n w_n·H(f_n)·e^(+j2π n i/n_fft),   t_i = i/(n_fft·Δf)  (s), 0 ≤ t < 1/Δf

The grid's first point is put at DC, so h is the complex envelope of the band-limited response (with the
phase reference f_0); |h|² is the power delay profile (PDP). Dividing by Σw (the window's coherent gain)
makes one path g·e^(−j2πfτ) peak at |h| = |g| at t = τ (exactly when τ falls on a sample). Delays alias
modulo 1/Δf. Windows: any name scipy.signal.get_window knows ("hann" default, "boxcar", "hamming",
"blackman", ("kaiser", β), …), symmetric.

Discrete-path view (`discrete_paths`): the stems (τ_i, g_i·e^(−α(f_ref)·d_i)) with α(f) = a0 + a1 f^k,
i.e. the multipath model's own impulse response at one reference frequency (the paper's
h(τ) = Σ |ρ_v| e^(jφ_v) δ(τ − τ_v), 3N parameters).

Delay statistics from a PDP P(t) (`delay_stats`; `discrete_delay_stats` uses P_i = amp_i²), over the
samples within `threshold_db` of the peak (all samples when None):

    mean excess delay τ̄ = Σ P·(t − t_0)/Σ P   (t_0: first sample above the threshold)
    rms delay spread   σ_τ = √(Σ P·(t − t̄)²/Σ P)

Coherence bandwidth (`coherence_bandwidth`): the smallest frequency shift Δ at which the magnitude of the
normalised frequency correlation R(Δ) = Σ_n H(f_n + Δ) H*(f_n) / √(Σ|H(f_n + Δ)|² Σ|H(f_n)|²) (sums over
the overlapping samples) falls below `level` (0.9 or 0.5 in use), linearly interpolated between grid
steps; NaN if it never does within the grid. The rule of thumb (`coherence_bandwidth_rule`,
Rappaport, *Wireless Communications*, §5.4.2): B_c ≈ 1/(50 σ_τ) at 0.9 and ≈ 1/(5 σ_τ) at 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal  # type: ignore[import-untyped]

from openami.channel.errors import ChannelModelError
from openami.channel.multipath import is_uniform_grid, path_delays

__all__ = [
    "DelayStats",
    "ImpulseResponse",
    "coherence_bandwidth",
    "coherence_bandwidth_rule",
    "delay_stats",
    "discrete_delay_stats",
    "discrete_paths",
    "impulse_response",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
Window = str | tuple[str, float]


def _grid(f_hz: npt.ArrayLike, n: int) -> tuple[float, float]:
    f = np.asarray(f_hz, dtype=np.float64)
    if f.ndim != 1 or f.size != n:
        raise ChannelModelError(f"f_hz must be 1-D with the length of H's last axis ({n}), got {f.shape}")
    if not is_uniform_grid(f):
        raise ChannelModelError("the frequency grid must be uniform, increasing, with at least 2 points")
    return float(f[0]), float((f[-1] - f[0]) / (f.size - 1))


@dataclass(frozen=True, eq=False)
class ImpulseResponse:
    """t_s (n_fft,) in s and h (..., n_fft) complex128 (dimensionless per sample, see module doc)."""

    t_s: FloatArray
    h: ComplexArray

    @property
    def pdp(self) -> FloatArray:
        """Power delay profile |h|², shape of h."""
        return np.asarray(np.abs(self.h) ** 2, dtype=np.float64)


def impulse_response(
    f_hz: npt.ArrayLike,
    h_f: npt.ArrayLike,
    *,
    window: Window = "hann",
    n_fft: int | None = None,
    oversample: int = 4,
) -> ImpulseResponse:
    """Impulse response of H (…, n_f) on the uniform grid f_hz (n_f,): IFFT with window and zero padding.

    n_fft defaults to the power of two ≥ oversample·n_f; it must be ≥ n_f.
    """
    h = np.asarray(h_f, dtype=np.complex128)
    if h.ndim == 0 or h.shape[-1] < 2:
        raise ChannelModelError("H must have at least 2 frequency samples on its last axis")
    if not np.all(np.isfinite(h)):
        raise ChannelModelError("H must be finite")
    n = h.shape[-1]
    _, df = _grid(f_hz, n)
    if oversample < 1:
        raise ChannelModelError("oversample must be ≥ 1")
    size = 1 << math.ceil(math.log2(oversample * n)) if n_fft is None else int(n_fft)
    if size < n:
        raise ChannelModelError(f"n_fft must be ≥ the number of frequencies ({n}), got {size}")
    try:
        w = np.asarray(signal.get_window(window, n, fftbins=False), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ChannelModelError(f"unknown window {window!r}: {exc}") from exc
    gain = float(np.sum(w))
    if not gain > 0:
        raise ChannelModelError(f"window {window!r} has no coherent gain")
    hh = np.fft.ifft(h * w, n=size, axis=-1) * (size / gain)
    t = np.arange(size, dtype=np.float64) / (size * df)
    return ImpulseResponse(t_s=t, h=np.asarray(hh, dtype=np.complex128))


def discrete_paths(
    g: npt.ArrayLike,
    d_m: npt.ArrayLike,
    a0: float,
    a1: float,
    k: float,
    *,
    f_ref_hz: float,
    tau_s: npt.ArrayLike | None = None,
    eps_r: float = 4.0,
) -> tuple[FloatArray, FloatArray]:
    """Stems of the multipath model at f_ref: (τ (…, P) s, g·e^(−(a0 + a1 f_ref^k) d) (…, P)), sorted by τ."""
    gg = np.asarray(g, dtype=np.float64)
    dd = np.asarray(d_m, dtype=np.float64)
    if gg.shape != dd.shape or gg.ndim == 0:
        raise ChannelModelError("g and d_m must have the same shape (…, n_paths)")
    if not (math.isfinite(f_ref_hz) and f_ref_hz >= 0):
        raise ChannelModelError("f_ref_hz must be finite and ≥ 0")
    if not (math.isfinite(k) and k > 0 and math.isfinite(a0) and a0 >= 0 and math.isfinite(a1) and a1 >= 0):
        raise ChannelModelError("need a0 ≥ 0, a1 ≥ 0 and k > 0")
    tau = path_delays(dd, eps_r) if tau_s is None else np.asarray(tau_s, dtype=np.float64)
    if tau.shape != gg.shape or not np.all(np.isfinite(tau)) or np.any(tau < 0):
        raise ChannelModelError("tau_s must have the shape of g, finite and ≥ 0")
    amp = gg * np.exp(-(a0 + a1 * f_ref_hz**k) * dd)
    order = np.argsort(tau, axis=-1, kind="stable")
    return np.take_along_axis(tau, order, axis=-1), np.take_along_axis(amp, order, axis=-1)


@dataclass(frozen=True)
class DelayStats:
    """Delay statistics of a power delay profile (all in s)."""

    first_arrival_s: float
    mean_excess_delay_s: float
    rms_delay_spread_s: float


def _stats(t: FloatArray, p: FloatArray) -> DelayStats:
    total = float(np.sum(p))
    if not total > 0:
        raise ChannelModelError("the power delay profile has no power")
    t0 = float(t[np.flatnonzero(p > 0)[0]])
    mean_t = float(np.sum(p * t) / total)
    var = float(np.sum(p * (t - mean_t) ** 2) / total)
    return DelayStats(t0, mean_t - t0, math.sqrt(max(var, 0.0)))


def delay_stats(t_s: npt.ArrayLike, pdp: npt.ArrayLike, *, threshold_db: float | None = None) -> DelayStats:
    """Mean excess delay and rms delay spread of a PDP: t_s (n,) s increasing, pdp (n,) ≥ 0 (linear power)."""
    t = np.asarray(t_s, dtype=np.float64)
    p = np.asarray(pdp, dtype=np.float64)
    if t.ndim != 1 or p.shape != t.shape or t.size == 0:
        raise ChannelModelError("t_s and pdp must be 1-D arrays of the same length")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(t))) or np.any(p < 0) or np.any(np.diff(t) <= 0):
        raise ChannelModelError("pdp must be finite and ≥ 0, t_s finite and increasing")
    if threshold_db is not None:
        if not (math.isfinite(threshold_db) and threshold_db <= 0):
            raise ChannelModelError("threshold_db must be ≤ 0 dB (relative to the peak)")
        p = np.where(p >= np.max(p) * 10.0 ** (threshold_db / 10.0), p, 0.0)
    return _stats(t, p)


def discrete_delay_stats(tau_s: npt.ArrayLike, amp: npt.ArrayLike) -> DelayStats:
    """Delay statistics of discrete paths (τ_i s, amplitudes a_i; power a_i²), any order: shapes (P,)."""
    t = np.asarray(tau_s, dtype=np.float64)
    a = np.asarray(amp, dtype=np.float64)
    if t.ndim != 1 or a.shape != t.shape or t.size == 0 or not np.all(np.isfinite(t)) or not np.all(np.isfinite(a)):
        raise ChannelModelError("tau_s and amp must be finite 1-D arrays of the same length")
    order = np.argsort(t, kind="stable")
    return _stats(t[order], a[order] ** 2)


def coherence_bandwidth(f_hz: npt.ArrayLike, h_f: npt.ArrayLike, level: float = 0.9) -> float:
    """Coherence bandwidth (Hz) of H (n_f,) on a uniform grid, from the frequency correlation at `level`."""
    h = np.asarray(h_f, dtype=np.complex128)
    if h.ndim != 1 or h.size < 2 or not np.all(np.isfinite(h)):
        raise ChannelModelError("H must be a finite 1-D array with at least 2 samples")
    _, df = _grid(f_hz, h.size)
    if not 0.0 < level < 1.0:
        raise ChannelModelError("level must be in (0, 1)")
    n = h.size
    spec = np.fft.fft(h, 2 * n)
    r = np.fft.ifft(spec * np.conj(spec))[:n]  # r[k] = Σ_m H[m + k]·H*[m]
    power = np.abs(h) ** 2
    csum = np.concatenate([[0.0], np.cumsum(power)])
    lags = np.arange(n)
    upper = csum[n] - csum[lags]  # Σ_{m ≥ k} |H_m|²
    lower = csum[n - lags]  # Σ_{m < n − k} |H_m|²
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.abs(r) / np.sqrt(upper * lower)
    below = np.flatnonzero(~(rho >= level))  # NaN (no power in the overlap) counts as decorrelated
    if below.size == 0:
        return math.nan
    kk = int(below[0])
    if kk == 0:
        return 0.0
    r0, r1 = float(rho[kk - 1]), float(rho[kk])
    frac = (r0 - level) / (r0 - r1) if math.isfinite(r1) and r0 != r1 else 1.0
    return (kk - 1 + frac) * df


def coherence_bandwidth_rule(rms_delay_spread_s: float, level: float = 0.9) -> float:
    """Rule of thumb B_c ≈ 1/(50 σ_τ) (level 0.9) or 1/(5 σ_τ) (level 0.5), in Hz."""
    if not (math.isfinite(rms_delay_spread_s) and rms_delay_spread_s > 0):
        raise ChannelModelError("the rms delay spread must be > 0 s")
    if level == 0.9:
        return 1.0 / (50.0 * rms_delay_spread_s)
    if level == 0.5:
        return 1.0 / (5.0 * rms_delay_spread_s)
    raise ChannelModelError("the rule of thumb exists for level 0.9 and 0.5 only")
