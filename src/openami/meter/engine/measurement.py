"""Per-second measurements from ADC codes (sampled mode) or from phasors (fast mode).

Sampled mode, per row of one second (n samples, n = sample rate):

- **Active energy** E = Σ v_k·i_k / f_s (J): the sum of instantaneous products over every sample, as a
  meter's energy accumulator does. Over any span of whole seconds it is exact whatever the window; the
  fraction of a mains cycle cut at a second's edge is returned by the next second (continuous phase).
- **Vrms, Irms, P, Q** from Hann-windowed spectra (periodic Hann w, X = rfft(w·v), Y = rfft(w·i)), by
  Parseval: V² = Σ_k c_k|X_k|² / (n·Σw²), P = Σ_k c_k Re(X_k·Y_k*) / (n·Σw²) with c_k = 2 (1 at Nyquist)
  for k ≥ 2. Bins 0 and 1 are left out: a DC offset under a Hann window lands exactly there, so these are
  AC values (a meter's DC-blocking filter). Hann² weighting makes the estimates insensitive to a
  non-integer number of cycles per second (leakage across the ≥ 2f ripple is below 1e-9).
- **Reactive power** Q = Σ_k c_k Im(X_k·Y_k*) / (n·Σw²), c_k = 2 (0 at Nyquist): the mean product of the
  Hilbert transform (every harmonic shifted by 90°) of v with i, i.e. **Budeanu's reactive power**
  Q_B = Σ_h V_h·I_h·sin(ψ_h − φ_h), positive when current lags. With harmonics the "analytic value" of Q
  is this sum over orders (IEEE 1459's Q_B, not the fundamental-only Q_1 nor Fryze's √(S² − P²)).
- **S** = Vrms·Irms (arithmetic apparent power), **PF** = P/S (0 when S = 0), signed like P.
- **Frequency** from positive-going zero crossings of the offset-corrected voltage, each interpolated
  linearly between samples: f = (crossings − 1)·f_s / (t_last − t_first); 0 with fewer than two.

Fast mode: exact sums over the phasor description, P = Σ Re(V_h·I_h*), Q = Σ Im(V_h·I_h*),
V = √(Σ|V_h|² + σ_v²), I likewise, f = mean of the linear frequency over the second.

All outputs are float64 arrays of shape (rows,); volts, amperes, W, var, VA, Hz, J.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = ["Measurements", "hann_window", "measure_codes", "measure_phasors", "zero_crossing_frequency"]

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
ComplexArray = npt.NDArray[np.complex128]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Measurements:
    """One second of measurements per row (all float64 (rows,) except ``clipped`` bool (rows,))."""

    vrms_v: FloatArray
    irms_a: FloatArray
    p_w: FloatArray
    q_var: FloatArray
    s_va: FloatArray
    pf: FloatArray
    freq_hz: FloatArray
    energy_j: FloatArray
    clipped: BoolArray

    @classmethod
    def zeros(cls, shape: int | tuple[int, ...]) -> Measurements:
        """All zero (a meter without supply), arrays of ``shape``."""
        z = np.zeros(shape)
        return cls(z, z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(shape, bool))


@lru_cache(maxsize=4)
def hann_window(n: int) -> FloatArray:
    """Periodic Hann window of length ``n`` (read-only float64)."""
    w: FloatArray = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    w.setflags(write=False)
    return w


@lru_cache(maxsize=4)
def _bin_weights(n: int) -> tuple[FloatArray, FloatArray, float]:
    """Parseval weights of rfft bins for power terms and for the Hilbert (reactive) term, and n·Σw²."""
    k = n // 2 + 1
    power = np.full(k, 2.0)
    power[:2] = 0.0
    if n % 2 == 0:
        power[-1] = 1.0
    hilbert = power.copy()
    if n % 2 == 0:
        hilbert[-1] = 0.0
    w = hann_window(n)
    for a in (power, hilbert):
        a.setflags(write=False)
    return power, hilbert, float(n * np.dot(w, w))


def zero_crossing_frequency(x: FloatArray, sample_rate: float) -> FloatArray:
    """Frequency (Hz) of each row of ``x`` (rows, n) from its positive-going zero crossings, or 0."""
    rows, n = x.shape
    neg = x < 0
    up = neg[:, :-1] & ~neg[:, 1:]
    count = up.sum(axis=1)
    first = np.argmax(up, axis=1)
    last = n - 2 - np.argmax(up[:, ::-1], axis=1)
    r = np.arange(rows)

    def when(k: npt.NDArray[np.intp]) -> FloatArray:
        a, b = x[r, k], x[r, k + 1]
        den = np.where(a != b, a - b, 1.0)
        t: FloatArray = k + a / den
        return t

    span = when(last) - when(first)
    ok = (count >= 2) & (span > 0)
    f: FloatArray = np.where(ok, (count - 1) * sample_rate / np.where(ok, span, 1.0), 0.0)
    return f


def measure_codes(
    codes_v: Float32Array,
    codes_i: Float32Array,
    v_offset: FloatArray,
    v_per_code: FloatArray,
    i_offset: FloatArray,
    i_per_code: FloatArray,
    clipped: BoolArray,
) -> Measurements:
    """Measurements from one second of codes per row.

    ``codes_v``/``codes_i`` (rows, n) with n the sample rate; ``v_offset``/``i_offset`` (rows,) calibration
    offsets (codes); ``v_per_code``/``i_per_code`` (rows,) calibrated V or A per code (gain·lsb);
    ``clipped`` (rows,) from the quantiser.
    """
    n = codes_v.shape[1]
    a = codes_v.astype(np.float64)
    a -= v_offset[:, None]
    b = codes_i.astype(np.float64)
    b -= i_offset[:, None]
    k = v_per_code * i_per_code
    energy = np.einsum("ij,ij->i", a, b) * (k / n)
    freq = zero_crossing_frequency(a, float(n))
    w = hann_window(n)
    a *= w
    b *= w
    x = np.fft.rfft(a, axis=1)
    del a
    y = np.fft.rfft(b, axis=1)
    del b
    power, hilbert, den = _bin_weights(n)
    xr, xi, yr, yi = x.real, x.imag, y.real, y.imag
    # einsum rather than BLAS: each row's sum then does not depend on how many rows are batched
    v2 = np.einsum("ij,j->i", xr * xr + xi * xi, power) / den
    i2 = np.einsum("ij,j->i", yr * yr + yi * yi, power) / den
    p = np.einsum("ij,j->i", xr * yr + xi * yi, power) * (k / den)
    q = np.einsum("ij,j->i", xi * yr - xr * yi, hilbert) * (k / den)
    vrms = np.sqrt(v2) * v_per_code
    irms = np.sqrt(i2) * i_per_code
    s = vrms * irms
    pf = np.divide(p, s, out=np.zeros_like(p), where=s > 0)
    return Measurements(vrms, irms, p, q, s, pf, freq, energy, clipped)


def measure_phasors(
    v_phasors: ComplexArray,
    i_phasors: ComplexArray,
    f_start: FloatArray,
    f_end: FloatArray,
    v_noise: FloatArray,
    i_noise: FloatArray,
    v_peak_limit: FloatArray,
    i_peak_limit: FloatArray,
) -> Measurements:
    """Exact measurements of one second per row from rms phasors (rows, H) (fast mode).

    ``v_noise``/``i_noise`` (rows,) rms noise added to the rms values; ``*_peak_limit`` (rows,) the ADC
    full scale: a row is flagged clipped when Σ√2|X_h| (the worst-case peak) exceeds it.
    """
    vi = v_phasors * i_phasors.conj()
    p = vi.real.sum(axis=1)
    q = vi.imag.sum(axis=1)
    vrms = np.sqrt((np.abs(v_phasors) ** 2).sum(axis=1) + v_noise**2)
    irms = np.sqrt((np.abs(i_phasors) ** 2).sum(axis=1) + i_noise**2)
    s = vrms * irms
    pf = np.divide(p, s, out=np.zeros_like(p), where=s > 0)
    powered = np.any(v_phasors != 0, axis=1)
    freq = np.where(powered, 0.5 * (f_start + f_end), 0.0)
    root2 = np.sqrt(2.0)
    clipped = (root2 * np.abs(v_phasors).sum(axis=1) > v_peak_limit) | (
        root2 * np.abs(i_phasors).sum(axis=1) > i_peak_limit
    )
    return Measurements(vrms, irms, p, q, s, pf, freq, p.copy(), clipped)
