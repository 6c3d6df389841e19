"""Power-line noise in the frequency domain: background PSD models, narrowband lines, Welch, RBW conversion.

Conventions: frequencies in Hz (float64), PSDs one-sided in W/Hz inside (dBm/Hz only through the helpers
below), time series in V across a 1 Ω reference so that a mean square is a power in W.

Background models
-----------------
* Vines/Hooijen narrowband background (Vines, Trussell, Gale, O'Neal, "Noise on residential power
  distribution circuits", IEEE Trans. EMC 26(4), 1984; Hooijen, "A channel model for the residential power
  circuit used as a digital communications medium", IEEE Trans. EMC 40(4), 1998):

      N(f) = 10^(K − 3.95·10⁻⁵·f)  W/Hz,  f in Hz,  K ~ Gaussian(μ = −8.64, σ = 0.5)

  best case K = μ − 2σ, worst case K = μ + 2σ. Kim et al. (2002, the reference paper, its model 5) print
  the exponent as ``K − 3.95·10⁵·f``: the sign of the power of ten is lost. As printed the formula is
  unusable: at 20 MHz the exponent is −8.64 − 3.95·10⁵·2·10⁷ ≈ −7.9·10¹², beyond the float64 range
  (smallest subnormal ≈ 10⁻³²⁴), so ``10.0 ** (-8.64 - 3.95e5 * 20e6)`` evaluates to exactly 0.0 W/Hz
  (−∞ dBm/Hz) — and so it does for any f above about 1 mHz. With f in MHz it still gives ≈ 10⁻⁷⁹⁰⁰⁰⁰⁰.
  openami implements the corrected exponent only.

  Validity: Vines et al. measured 5–100 kHz (abstract of the 1984 paper); Hooijen uses the model for the
  CENELEC narrowband bands, which end at 148.5 kHz. openami accepts 5 kHz ≤ f ≤ 150 kHz and refuses
  anything else with `ChannelModelError` (100–150 kHz is an extrapolation beyond Vines's measurements).
  Above 1 MHz use the broadband model.

* Esmailian, Kschischang, Gulak, "In-building power lines as high-speed communication channels: channel
  characterization and a test channel ensemble", Int. J. Commun. Syst. 16(5), 2003:

      N(f) = a + b·f_MHz^c  dBm/Hz,  worst a = −145, b = 53.23, c = −0.337;  best a = −140, b = 38.75, c = −0.720

  valid in the band the paper models, 1–30 MHz (its abstract); other frequencies are refused. The
  "random" case draws u ~ U(0, 1) from the caller's `rng` and interpolates *in dB* between the two curves,
  N = (1 − u)·N_best + u·N_worst, so every random PSD lies between the published envelopes (worst is above
  best everywhere in 1–30 MHz). Drawing a, b, c independently (as some public generators do) does not
  keep the curve inside the envelopes.

Spectrum-analyser levels
------------------------
A spectrum analyser shows the power inside its resolution bandwidth B, not a density: a reading P dBm is
a PSD of P − 10·log10(B_eq) dBm/Hz, B_eq = enbw_factor·B being the filter's equivalent noise bandwidth
(≈ 1.065·B for a Gaussian RBW filter; openami's default factor is 1). The reference paper's noise level
"−75 dBm at 20 MHz" (RBW not stated) therefore means:

>>> [round(float(analyzer_dbm_to_psd_dbm_per_hz(-75.0, b)), 1) for b in (10e3, 30e3, 100e3, 1e6)]
[-115.0, -119.8, -125.0, -135.0]

The Esmailian model at 20 MHz gives −125.6 dBm/Hz (worst) and −135.5 dBm/Hz (best): the paper's reading
agrees with it for an RBW between about 100 kHz and 1 MHz. Log-averaged noise on an analyser also reads
≈ 2.5 dB low; correct for it before converting if the trace was log-averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import signal  # type: ignore[import-untyped]

from openami.channel.errors import ChannelModelError

__all__ = [
    "DEFAULT_INTERFERER_BANDS_HZ",
    "DEFAULT_INTERFERER_LEVEL_DBM",
    "ESMAILIAN_BEST",
    "ESMAILIAN_F_MAX_HZ",
    "ESMAILIAN_F_MIN_HZ",
    "ESMAILIAN_WORST",
    "HOOIJEN_F_MAX_HZ",
    "HOOIJEN_F_MIN_HZ",
    "HOOIJEN_K_MEAN",
    "HOOIJEN_K_STD",
    "HOOIJEN_SLOPE_PER_HZ",
    "EsmailianCase",
    "EsmailianParameters",
    "HooijenCase",
    "NarrowbandInterferers",
    "analyzer_dbm_to_psd_dbm_per_hz",
    "dbm_to_w",
    "esmailian_psd",
    "esmailian_psd_dbm_per_hz",
    "hooijen_k",
    "hooijen_psd",
    "narrowband_psd",
    "psd_dbm_per_hz_to_analyzer_dbm",
    "random_narrowband_interferers",
    "w_to_dbm",
    "welch_psd",
]

FloatArray = npt.NDArray[np.float64]

# --- Vines / Hooijen narrowband background ------------------------------------------------------------

HOOIJEN_K_MEAN = -8.64
"""Mean of the Gaussian level K (log10 W/Hz) of the Vines/Hooijen model."""
HOOIJEN_K_STD = 0.5
"""Standard deviation of K."""
HOOIJEN_SLOPE_PER_HZ = 3.95e-5
"""Decay of log10 N per Hz (the corrected sign: N falls by one decade every 25.3 kHz)."""
HOOIJEN_F_MIN_HZ = 5e3
"""Lowest frequency the Vines/Hooijen model accepts (Vines et al. 1984 measured from 5 kHz)."""
HOOIJEN_F_MAX_HZ = 150e3
"""Highest frequency accepted (CENELEC bands end at 148.5 kHz; Vines et al. measured up to 100 kHz)."""

HooijenCase = Literal["best", "mean", "worst", "random"]


def _frequencies(f_hz: npt.ArrayLike, f_min: float, f_max: float, model: str) -> FloatArray:
    f = np.asarray(f_hz, dtype=np.float64)
    bad = ~np.isfinite(f) | (f < f_min) | (f > f_max)
    if np.any(bad):
        worst = f[bad].ravel()[0]
        raise ChannelModelError(
            f"{model} is valid for {f_min:g} Hz <= f <= {f_max:g} Hz only; got f = {worst:g} Hz "
            f"({int(np.count_nonzero(bad))} of {f.size} frequencies outside)"
        )
    return f


def hooijen_k(
    case: HooijenCase = "mean", rng: np.random.Generator | None = None, size: int | None = None
) -> float | FloatArray:
    """The level K (log10 of W/Hz at f = 0) of the Vines/Hooijen model.

    ``best`` = μ − 2σ = −9.64, ``mean`` = μ = −8.64, ``worst`` = μ + 2σ = −7.64; ``random`` draws
    K ~ N(μ, σ²) from `rng` (required), a float or, with `size`, an array of shape (size,) float64.
    """
    if case == "best":
        return HOOIJEN_K_MEAN - 2.0 * HOOIJEN_K_STD
    if case == "mean":
        return HOOIJEN_K_MEAN
    if case == "worst":
        return HOOIJEN_K_MEAN + 2.0 * HOOIJEN_K_STD
    if case == "random":
        if rng is None:
            raise ChannelModelError("hooijen_k('random') needs an rng (np.random.Generator)")
        if size is None:
            return float(rng.normal(HOOIJEN_K_MEAN, HOOIJEN_K_STD))
        return rng.normal(HOOIJEN_K_MEAN, HOOIJEN_K_STD, size=size)
    raise ChannelModelError(f"unknown Hooijen case {case!r}; use best, mean, worst or random")


def hooijen_psd(f_hz: npt.ArrayLike, k: float | npt.ArrayLike = HOOIJEN_K_MEAN) -> FloatArray:
    """Corrected Vines/Hooijen background PSD N(f) = 10^(K − 3.95·10⁻⁵·f) in W/Hz.

    `f_hz`: frequencies in Hz, any shape, all within [HOOIJEN_F_MIN_HZ, HOOIJEN_F_MAX_HZ] or
    `ChannelModelError`. `k`: a float, or an array of levels (e.g. random draws), in which case the result
    has shape ``k.shape + f.shape`` (one PSD per K, batch axis first). Returns float64 W/Hz.
    """
    f = _frequencies(f_hz, HOOIJEN_F_MIN_HZ, HOOIJEN_F_MAX_HZ, "the Vines/Hooijen background model")
    k_arr = np.asarray(k, dtype=np.float64)
    if not np.all(np.isfinite(k_arr)):
        raise ChannelModelError("Hooijen level K must be finite")
    exponent = k_arr.reshape(k_arr.shape + (1,) * f.ndim) - HOOIJEN_SLOPE_PER_HZ * f
    return np.power(10.0, exponent)


# --- Esmailian broadband background -------------------------------------------------------------------

ESMAILIAN_F_MIN_HZ = 1e6
"""Lowest frequency of the Esmailian model (the paper covers 1–30 MHz)."""
ESMAILIAN_F_MAX_HZ = 30e6
"""Highest frequency of the Esmailian model."""


@dataclass(frozen=True, slots=True)
class EsmailianParameters:
    """N(f) = a + b·f_MHz^c dBm/Hz (a, b in dB, c dimensionless)."""

    a: float
    b: float
    c: float


ESMAILIAN_WORST = EsmailianParameters(a=-145.0, b=53.23, c=-0.337)
"""Worst case of Esmailian et al. (2003)."""
ESMAILIAN_BEST = EsmailianParameters(a=-140.0, b=38.75, c=-0.720)
"""Best case of Esmailian et al. (2003)."""

EsmailianCase = Literal["best", "worst", "random"]


def _esmailian_db(f_mhz: FloatArray, p: EsmailianParameters) -> FloatArray:
    return p.a + p.b * np.power(f_mhz, p.c)


def esmailian_psd_dbm_per_hz(
    f_hz: npt.ArrayLike,
    case: EsmailianCase | EsmailianParameters = "worst",
    *,
    rng: np.random.Generator | None = None,
    mix: float | None = None,
) -> FloatArray:
    """Esmailian et al. background PSD in dBm/Hz, same shape as `f_hz` (Hz, within 1–30 MHz).

    `case`: ``"worst"``, ``"best"``, explicit `EsmailianParameters`, or ``"random"``: a mix
    u ∈ [0, 1] (`mix`, or drawn uniformly from `rng`) interpolating in dB, (1 − u)·best + u·worst.
    """
    f = _frequencies(f_hz, ESMAILIAN_F_MIN_HZ, ESMAILIAN_F_MAX_HZ, "the Esmailian broadband noise model")
    f_mhz = f / 1e6
    if isinstance(case, EsmailianParameters):
        return _esmailian_db(f_mhz, case)
    if case == "worst":
        return _esmailian_db(f_mhz, ESMAILIAN_WORST)
    if case == "best":
        return _esmailian_db(f_mhz, ESMAILIAN_BEST)
    if case == "random":
        if mix is None:
            if rng is None:
                raise ChannelModelError("the random Esmailian case needs an rng or an explicit mix")
            mix = float(rng.uniform(0.0, 1.0))
        if not 0.0 <= mix <= 1.0:
            raise ChannelModelError(f"Esmailian mix must lie in [0, 1], got {mix}")
        return (1.0 - mix) * _esmailian_db(f_mhz, ESMAILIAN_BEST) + mix * _esmailian_db(f_mhz, ESMAILIAN_WORST)
    raise ChannelModelError(f"unknown Esmailian case {case!r}; use best, worst, random or EsmailianParameters")


def esmailian_psd(
    f_hz: npt.ArrayLike,
    case: EsmailianCase | EsmailianParameters = "worst",
    *,
    rng: np.random.Generator | None = None,
    mix: float | None = None,
) -> FloatArray:
    """`esmailian_psd_dbm_per_hz` converted to W/Hz (float64, shape of `f_hz`)."""
    return dbm_to_w(esmailian_psd_dbm_per_hz(f_hz, case, rng=rng, mix=mix))


# --- units and spectrum-analyser conversion -----------------------------------------------------------


def dbm_to_w(p_dbm: npt.ArrayLike) -> FloatArray:
    """dBm → W (also dBm/Hz → W/Hz): 10^((P − 30)/10). Shape of the input, float64."""
    return np.power(10.0, (np.asarray(p_dbm, dtype=np.float64) - 30.0) / 10.0)


def w_to_dbm(p_w: npt.ArrayLike) -> FloatArray:
    """W → dBm (also W/Hz → dBm/Hz): 10·log10(P) + 30; 0 W gives −inf. Negative powers are refused."""
    p = np.asarray(p_w, dtype=np.float64)
    if np.any(p < 0):
        raise ChannelModelError("a power cannot be negative")
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(p) + 30.0


def _rbw(rbw_hz: npt.ArrayLike, enbw_factor: float) -> FloatArray:
    b = np.asarray(rbw_hz, dtype=np.float64) * enbw_factor
    if np.any(~np.isfinite(b) | (b <= 0)):
        raise ChannelModelError("resolution bandwidth and ENBW factor must be positive and finite")
    return b


def analyzer_dbm_to_psd_dbm_per_hz(
    level_dbm: npt.ArrayLike, rbw_hz: npt.ArrayLike, *, enbw_factor: float = 1.0
) -> FloatArray:
    """Spectrum-analyser reading (dBm in RBW `rbw_hz`) → PSD in dBm/Hz: P − 10·log10(enbw_factor·RBW).

    Inputs broadcast together; returns float64 dBm/Hz. The reference paper's "−75 dBm at 20 MHz" (RBW not
    stated) at RBW 10 kHz, 100 kHz and 1 MHz:

    >>> analyzer_dbm_to_psd_dbm_per_hz(-75.0, [10e3, 100e3, 1e6]).round(1).tolist()
    [-115.0, -125.0, -135.0]
    """
    return np.asarray(level_dbm, dtype=np.float64) - 10.0 * np.log10(_rbw(rbw_hz, enbw_factor))


def psd_dbm_per_hz_to_analyzer_dbm(
    psd_dbm_per_hz: npt.ArrayLike, rbw_hz: npt.ArrayLike, *, enbw_factor: float = 1.0
) -> FloatArray:
    """PSD in dBm/Hz → the level a spectrum analyser shows at RBW `rbw_hz`: PSD + 10·log10(enbw_factor·RBW)."""
    return np.asarray(psd_dbm_per_hz, dtype=np.float64) + 10.0 * np.log10(_rbw(rbw_hz, enbw_factor))


# --- narrowband interferers -------------------------------------------------------------------------

DEFAULT_INTERFERER_BANDS_HZ: tuple[tuple[float, float], ...] = ((0.5e6, 1.0e6), (3.0e6, 7.0e6))
"""Bands where the reference paper saw narrowband interference (medium- and short-wave broadcasting)."""
DEFAULT_INTERFERER_LEVEL_DBM: tuple[float, float] = (-70.0, -40.0)
"""Default range of carrier powers (dBm, uniform in dB). An openami choice, not a published figure."""


@dataclass(frozen=True, slots=True)
class NarrowbandInterferers:
    """A set of n_c sinusoidal carriers: frequency (Hz), power (W, mean square on 1 Ω), phase (rad).

    All three are float64 arrays of shape (n_c,).
    """

    frequency_hz: FloatArray
    power_w: FloatArray
    phase_rad: FloatArray

    def __post_init__(self) -> None:
        shapes = {np.shape(self.frequency_hz), np.shape(self.power_w), np.shape(self.phase_rad)}
        if len(shapes) != 1 or np.ndim(self.frequency_hz) != 1:
            raise ChannelModelError("interferer frequency, power and phase must be 1-D arrays of one length")
        if np.any(~np.isfinite(self.frequency_hz) | (self.frequency_hz < 0)):
            raise ChannelModelError("interferer frequencies must be finite and non-negative")
        if np.any(~np.isfinite(self.power_w) | (self.power_w < 0)):
            raise ChannelModelError("interferer powers must be finite and non-negative")

    @classmethod
    def from_dbm(
        cls, frequency_hz: npt.ArrayLike, power_dbm: npt.ArrayLike, phase_rad: npt.ArrayLike | None = None
    ) -> NarrowbandInterferers:
        """Carriers from frequencies (Hz) and powers (dBm); phases default to 0."""
        f = np.atleast_1d(np.asarray(frequency_hz, dtype=np.float64))
        p = np.broadcast_to(dbm_to_w(power_dbm), f.shape).copy()
        ph = np.zeros_like(f) if phase_rad is None else np.broadcast_to(np.asarray(phase_rad, np.float64), f.shape)
        return cls(f, p, np.array(ph, dtype=np.float64))


def random_narrowband_interferers(
    rng: np.random.Generator,
    *,
    bands_hz: tuple[tuple[float, float], ...] = DEFAULT_INTERFERER_BANDS_HZ,
    count: int | tuple[int, ...] = 3,
    level_dbm: tuple[float, float] = DEFAULT_INTERFERER_LEVEL_DBM,
) -> NarrowbandInterferers:
    """Draw carriers uniformly in each band (Hz), powers uniform in dB within `level_dbm`, phases in [0, 2π).

    `count`: carriers per band (one int for all bands, or one per band). Carriers come out band by band.
    """
    counts = (count,) * len(bands_hz) if isinstance(count, int) else tuple(count)
    if len(counts) != len(bands_hz) or any(c < 0 for c in counts):
        raise ChannelModelError("count must be a non-negative int or one non-negative int per band")
    for lo, hi in bands_hz:
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
            raise ChannelModelError(f"bad interferer band ({lo}, {hi}) Hz")
    lo_dbm, hi_dbm = level_dbm
    if not lo_dbm <= hi_dbm:
        raise ChannelModelError("level_dbm must be (low, high)")
    freqs = np.concatenate(
        [rng.uniform(lo, hi, size=c) for (lo, hi), c in zip(bands_hz, counts, strict=True)] or [np.empty(0)]
    )
    n = freqs.size
    power = dbm_to_w(rng.uniform(lo_dbm, hi_dbm, size=n))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=n)
    return NarrowbandInterferers(freqs.astype(np.float64), power, phase)


def narrowband_psd(f_hz: npt.ArrayLike, interferers: NarrowbandInterferers, rbw_hz: float) -> FloatArray:
    """PSD (W/Hz, shape of `f_hz`) of the carriers as seen with a Gaussian RBW filter of noise bandwidth `rbw_hz`.

    Each carrier of power P at f_c becomes the line (P/B)·exp(−π((f − f_c)/B)²), whose integral over f is P
    and whose peak, read back through `psd_dbm_per_hz_to_analyzer_dbm(·, B)`, is P: what an analyser shows.
    """
    b = float(_rbw(rbw_hz, 1.0))
    f = np.asarray(f_hz, dtype=np.float64)
    out = np.zeros(f.shape, dtype=np.float64)
    for fc, p in zip(interferers.frequency_hz, interferers.power_w, strict=True):
        out += (p / b) * np.exp(-np.pi * ((f - fc) / b) ** 2)
    return out


# --- PSD estimation -----------------------------------------------------------------------------------


def welch_psd(
    x: npt.ArrayLike,
    fs_hz: float,
    *,
    nperseg: int = 1024,
    window: str = "hann",
    average: Literal["mean", "median"] = "mean",
) -> tuple[FloatArray, FloatArray]:
    """One-sided Welch PSD of real time series (scipy.signal.welch, 50 % overlap, mean detrend).

    `x`: shape (n,) or (n_batch, n), time axis last, in V on 1 Ω. Returns (f, psd): f of shape
    (nperseg//2 + 1,) in Hz, psd of shape (..., nperseg//2 + 1) in W/Hz. White noise of variance σ²
    sampled at fs has the level 2σ²/fs. `nperseg` is clipped to the series length.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[-1] < 2:
        raise ChannelModelError("welch_psd needs x of shape (n,) or (n_batch, n) with n >= 2")
    if not (np.isfinite(fs_hz) and fs_hz > 0):
        raise ChannelModelError("sample rate must be positive")
    if nperseg < 2:
        raise ChannelModelError("nperseg must be at least 2")
    seg = min(nperseg, arr.shape[-1])
    f, p = signal.welch(arr, fs=fs_hz, window=window, nperseg=seg, scaling="density", average=average, axis=-1)
    return np.asarray(f, dtype=np.float64), np.asarray(p, dtype=np.float64)
