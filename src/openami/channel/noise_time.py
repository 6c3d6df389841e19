"""Power-line noise in the time domain: impulsive (Middleton class A, Bernoulli–Gaussian), the reference
paper's impulses, mains-synchronous trains, narrowband carriers and Gaussian noise of a given PSD.

Conventions: samples are float64 volts across a 1 Ω reference (a mean square is a power in W), the
sample rate `fs_hz` is in Hz, time series of n samples start at t = 0 (sample i at t = i/fs), every random
generator takes the caller's `rng: np.random.Generator` (no global random state). Everything is
vectorised over samples.

Middleton class A (Middleton 1977; the form used throughout PLC work):

    p(z) = Σ_m e^(−A) A^m/m! · N(z; 0, σ_m²),  σ_m² = σ²·(m/A + Γ)/(1 + Γ)

A is the impulsive index (mean number of overlapping impulses), Γ the ratio of Gaussian to impulsive
power, σ² the total variance. Its moments: E[z²] = σ², kurtosis E[z⁴]/σ⁴ = 3·(1 + 1/(A·(1 + Γ)²)).
Keeping the terms m = 0 and m = 1 only (renormalised) gives a Bernoulli–Gaussian noise: background
N(0, σ₀²) always, plus N(0, σ₁² − σ₀²) with probability p = A/(1 + A).

Reference-paper impulses (Kim et al. 2002, model 6), with T_p = 4/f0 and rect(t/T_p) = 1 for 0 ≤ t < T_p:
damped  A_p·e^(−f0·t/4)·sin(2π f0 t)·rect(t/T_p) (the envelope falls only to A_p/e at T_p, as printed), and
burst   A_p·sin(2π f0 t)·rect(t/T_p).
Mains-synchronous impulses repeat every 1/(K·f_net), K = 1 or 2 (once or twice per mains cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lgamma, log
from typing import Literal

import numpy as np
import numpy.typing as npt

from openami.channel.errors import ChannelModelError
from openami.channel.noise_psd import NarrowbandInterferers

__all__ = [
    "BernoulliGaussianParameters",
    "ImpulseShape",
    "bernoulli_gaussian_noise",
    "burst_impulse",
    "class_a_noise",
    "class_a_pdf",
    "class_a_two_term",
    "colored_gaussian_noise",
    "damped_impulse",
    "impulse_duration",
    "mains_synchronous_impulses",
    "narrowband_noise",
    "rfft_frequencies",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ImpulseShape = Literal["damped", "burst"]


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ChannelModelError(f"{name} must be positive and finite, got {value!r}")
    return v


def _count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ChannelModelError(f"sample count must be a non-negative int, got {n!r}")
    return int(n)


# --- Middleton class A and Bernoulli–Gaussian -------------------------------------------------------


def _class_a_checked(a: float, gamma: float, sigma2: float) -> tuple[float, float, float]:
    return _positive("class-A impulsive index A", a), _positive("class-A Γ", gamma), _positive("σ²", sigma2)


def class_a_noise(
    n: int,
    a: float,
    gamma: float,
    sigma2: float,
    rng: np.random.Generator,
    *,
    return_states: bool = False,
) -> FloatArray | tuple[FloatArray, IntArray]:
    """n i.i.d. Middleton class-A samples, shape (n,) float64 V (variance `sigma2` in W on 1 Ω).

    Each sample draws its state m ~ Poisson(A) and then z ~ N(0, σ_m²). With `return_states` the states
    come back too, as an int64 array of shape (n,).
    """
    n = _count(n)
    a, gamma, sigma2 = _class_a_checked(a, gamma, sigma2)
    m = rng.poisson(a, size=n).astype(np.int64)
    var = sigma2 * (m / a + gamma) / (1.0 + gamma)
    z = rng.standard_normal(n) * np.sqrt(var)
    return (z, m) if return_states else z


def class_a_pdf(z: npt.ArrayLike, a: float, gamma: float, sigma2: float, *, tail: float = 1e-13) -> FloatArray:
    """The class-A density p(z) (1/V), shape of `z`; the Poisson series stops once its tail is below `tail`."""
    a, gamma, sigma2 = _class_a_checked(a, gamma, sigma2)
    zz = np.asarray(z, dtype=np.float64)
    out = np.zeros(zz.shape, dtype=np.float64)
    cumulative = 0.0
    m = 0
    while True:
        log_w = -a + m * log(a) - lgamma(m + 1)
        w = float(np.exp(log_w))
        var = sigma2 * (m / a + gamma) / (1.0 + gamma)
        out += w * np.exp(-(zz**2) / (2.0 * var)) / np.sqrt(2.0 * np.pi * var)
        cumulative += w
        m += 1
        if (1.0 - cumulative < tail and m > a) or m > 10_000:
            return out


@dataclass(frozen=True, slots=True)
class BernoulliGaussianParameters:
    """Impulse probability p, background variance σ_g² and impulse variance σ_i² (W on 1 Ω)."""

    p: float
    sigma2_background: float
    sigma2_impulse: float


def class_a_two_term(a: float, gamma: float, sigma2: float) -> BernoulliGaussianParameters:
    """Bernoulli–Gaussian equivalent of the class-A series truncated to m ∈ {0, 1} and renormalised.

    p = A/(1 + A), σ_g² = σ₀² = σ²Γ/(1 + Γ), σ_i² = σ₁² − σ₀² = σ²/(A·(1 + Γ)). Its variance is
    σ²·(1 + Γ(1 + A))/((1 + Γ)(1 + A)), below σ² by the power of the dropped terms m ≥ 2.
    """
    a, gamma, sigma2 = _class_a_checked(a, gamma, sigma2)
    return BernoulliGaussianParameters(
        p=a / (1.0 + a),
        sigma2_background=sigma2 * gamma / (1.0 + gamma),
        sigma2_impulse=sigma2 / (a * (1.0 + gamma)),
    )


def bernoulli_gaussian_noise(
    n: int,
    params: BernoulliGaussianParameters,
    rng: np.random.Generator,
    *,
    return_states: bool = False,
) -> FloatArray | tuple[FloatArray, npt.NDArray[np.bool_]]:
    """n samples of g + b·i, g ~ N(0, σ_g²), i ~ N(0, σ_i²), b ~ Bernoulli(p); shape (n,) float64 V.

    Variance σ_g² + p·σ_i²; E[z⁴] = 3·((1 − p)·σ_g⁴ + p·(σ_g² + σ_i²)²). With `return_states` the impulse
    indicators b (bool, shape (n,)) come back too.
    """
    n = _count(n)
    if not 0.0 <= params.p <= 1.0:
        raise ChannelModelError(f"impulse probability must lie in [0, 1], got {params.p}")
    if not (params.sigma2_background >= 0 and params.sigma2_impulse >= 0):
        raise ChannelModelError("Bernoulli–Gaussian variances must be non-negative")
    b = rng.random(n) < params.p
    var = params.sigma2_background + b * params.sigma2_impulse
    z = rng.standard_normal(n) * np.sqrt(var)
    return (z, b) if return_states else z


# --- the reference paper's impulses -----------------------------------------------------------------


def impulse_duration(f0_hz: float) -> float:
    """T_p = 4/f0 in s (four periods of the impulse's oscillation)."""
    return 4.0 / _positive("impulse frequency f0", f0_hz)


def damped_impulse(t_s: npt.ArrayLike, amplitude: float, f0_hz: float) -> FloatArray:
    """A_p·e^(−f0·t/4)·sin(2π f0 t) for 0 ≤ t < 4/f0, else 0. `t_s` in s, any shape; result in V, same shape."""
    t = np.asarray(t_s, dtype=np.float64)
    f0 = _positive("impulse frequency f0", f0_hz)
    inside = (t >= 0.0) & (t < 4.0 / f0)
    return np.where(inside, amplitude * np.exp(-f0 * t / 4.0) * np.sin(2.0 * np.pi * f0 * t), 0.0)


def burst_impulse(t_s: npt.ArrayLike, amplitude: float, f0_hz: float) -> FloatArray:
    """A_p·sin(2π f0 t) for 0 ≤ t < 4/f0, else 0. `t_s` in s, any shape; result in V, same shape."""
    t = np.asarray(t_s, dtype=np.float64)
    f0 = _positive("impulse frequency f0", f0_hz)
    inside = (t >= 0.0) & (t < 4.0 / f0)
    return np.where(inside, amplitude * np.sin(2.0 * np.pi * f0 * t), 0.0)


def mains_synchronous_impulses(
    n: int,
    fs_hz: float,
    amplitude: float,
    f0_hz: float,
    *,
    k: int = 2,
    f_net_hz: float = 60.0,
    t0_s: float = 0.0,
    shape: ImpulseShape = "damped",
) -> FloatArray:
    """A train of the paper's impulses starting at t0 + j/(k·f_net), j = 0, 1, …; shape (n,) float64 V.

    `k` = 1 (once per mains cycle) or 2 (twice: rectifiers, dimmers); f_net = 60 Hz (Korea) by default.
    Each impulse lasts T_p = 4/f0, which must be shorter than the period 1/(k·f_net) (no overlap).
    """
    n = _count(n)
    fs = _positive("sample rate", fs_hz)
    f_net = _positive("mains frequency", f_net_hz)
    if k not in (1, 2):
        raise ChannelModelError(f"mains-synchronous impulses repeat K = 1 or 2 times per cycle, got {k}")
    period = 1.0 / (k * f_net)
    if impulse_duration(f0_hz) >= period:
        raise ChannelModelError(f"impulse length 4/f0 = {4.0 / f0_hz:g} s does not fit in the period {period:g} s")
    if not 0.0 <= t0_s < period:
        raise ChannelModelError(f"t0 must lie in [0, {period:g}) s")
    t = np.arange(n, dtype=np.float64) / fs
    phase = (t - t0_s) / period
    # a start that rounding puts a hair before j·period still belongs to impulse j (tolerance 1e-9 period)
    j = np.floor(phase + 1e-9)
    local = np.maximum(phase - j, 0.0) * period
    local = np.where(j < 0, -1.0, local)  # nothing before the first impulse
    if shape == "damped":
        return damped_impulse(local, amplitude, f0_hz)
    if shape == "burst":
        return burst_impulse(local, amplitude, f0_hz)
    raise ChannelModelError(f"unknown impulse shape {shape!r}; use damped or burst")


# --- narrowband carriers and Gaussian noise of a given PSD -----------------------------------------


def narrowband_noise(n: int, fs_hz: float, interferers: NarrowbandInterferers) -> FloatArray:
    """Σ_c √(2·P_c)·cos(2π f_c t + φ_c) over the carriers, shape (n,) float64 V.

    Each carrier has mean square P_c (W on 1 Ω). Carriers above fs/2 alias; they are refused.
    """
    n = _count(n)
    fs = _positive("sample rate", fs_hz)
    if np.any(interferers.frequency_hz > fs / 2.0):
        raise ChannelModelError("a carrier lies above the Nyquist frequency fs/2")
    t = np.arange(n, dtype=np.float64) / fs
    out = np.zeros(n, dtype=np.float64)
    for fc, p, ph in zip(interferers.frequency_hz, interferers.power_w, interferers.phase_rad, strict=True):
        out += np.sqrt(2.0 * p) * np.cos(2.0 * np.pi * fc * t + ph)
    return out


def rfft_frequencies(n: int, fs_hz: float) -> FloatArray:
    """The grid k·fs/n, k = 0 … n//2 (Hz, shape (n//2 + 1,)) on which `colored_gaussian_noise` takes its PSD."""
    return np.asarray(np.fft.rfftfreq(_count(n), d=1.0 / _positive("sample rate", fs_hz)), dtype=np.float64)


def colored_gaussian_noise(n: int, fs_hz: float, psd_w_per_hz: npt.ArrayLike, rng: np.random.Generator) -> FloatArray:
    """Stationary Gaussian noise with a given one-sided PSD, shape (n,) float64 V.

    `psd_w_per_hz`: one-sided PSD (W/Hz) sampled on `rfft_frequencies(n, fs)`, shape (n//2 + 1,); set it to
    0 where a model does not apply. White Gaussian noise is shaped in the frequency domain by
    √(S(f)·fs/2) (circular: the series wraps around), so the mean square is ≈ ∫ S(f) df and the Welch
    estimate of the result is ≈ S(f).
    """
    n = _count(n)
    fs = _positive("sample rate", fs_hz)
    s = np.asarray(psd_w_per_hz, dtype=np.float64)
    if s.shape != (n // 2 + 1,):
        raise ChannelModelError(f"psd must have shape ({n // 2 + 1},) on rfft_frequencies(n, fs); got {s.shape}")
    if np.any(~np.isfinite(s) | (s < 0)):
        raise ChannelModelError("psd must be finite and non-negative")
    spectrum = np.fft.rfft(rng.standard_normal(n)) * np.sqrt(s * fs / 2.0)
    return np.fft.irfft(spectrum, n=n)
