"""The metering front end: supply waveform synthesis and a 16-bit ΣΔ ADC model with calibration.

Modelled on TI's MSP430 metering chips (MSP430F42x/F67xx/i20xx, SD16/SD24 converters): the modulator
runs at f_M = 1.048576 MHz, the decimation filter at OSR 256 gives 4096 samples/s per channel (TI
application notes for the MSP430FE42x watt-hour meter, SLAA638 for the i20xx); each conversion can be
delayed by 0–255 modulator clocks through the SD24PREx preload register, which is how the chips correct
the phase error between the current and the voltage channel (SLAU144 ch. 27, SLAA638 §2). The ADC is
modelled at its output: ideal anti-alias and decimation filters (no sinc passband droop), then

    code = clip(rint(x_in·(1 + gain_error)/lsb + offset_error + noise/lsb), −2^(b−1), 2^(b−1) − 1)

with lsb = full_scale / (2^(b−1) − 1) (V or A per code, full_scale the peak input at the largest code).
The current channel is sampled ``i_delay_error_s`` later than the voltage channel (sensor phase error as a
time delay, i.e. a phase error growing with frequency) plus ``phase_ticks`` modulator clocks of
correction (negative ticks stand for delaying the voltage channel instead). Calibration recovers volts
and amperes as ``(code − offset)·gain·lsb``.

Synthesis: the supply frequency is linear within each simulated second (f_start → f_end) so the phase
is θ(τ) = θ0 + 2π(f_start·τ + ½(f_end − f_start)·τ²), continuous across seconds. Voltage and current are
harmonic sums (see `openami.meter.engine.loads` for the convention). Samples are built in float32 (phase
reduced modulo one cycle in float64 first, harmonics by the angle-addition recurrence), which keeps the
synthesis error near 1e-6 of full scale, well under the 16-bit step (3e-5 of full scale).

Array conventions: one row per (meter, second); rows first; samples along axis 1; float32 samples,
float64 parameters; volts, amperes, hertz, radians, seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openami.meter.engine.errors import EngineError
from openami.meter.engine.loads import Spectrum

__all__ = [
    "AdcConfig",
    "Calibration",
    "FrequencyDrift",
    "SupplyConfig",
    "grid_frequency",
    "quantize",
    "synthesize",
]

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
ComplexArray = npt.NDArray[np.complex128]
BoolArray = npt.NDArray[np.bool_]

MODULATOR_HZ = 1_048_576.0
"""SD16/SD24 modulator clock f_M (Hz): 4096 samples/s × OSR 256."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise EngineError(message)


@dataclass(frozen=True, slots=True)
class FrequencyDrift:
    """Deterministic wander of the supply frequency around nominal, relative to the engine's start t0:

    f(t) = f_nom + offset_hz + clip(ramp_hz_per_s·(t − t0), ±ramp_limit_hz) + wander_hz·sin(2π(t − t0)/wander_period_s)

    (Hz; a grid's frequency is common to every meter on it, so it carries no randomness.)
    """

    offset_hz: float = 0.0
    ramp_hz_per_s: float = 0.0
    ramp_limit_hz: float = 0.5
    wander_hz: float = 0.0
    wander_period_s: float = 300.0

    def __post_init__(self) -> None:
        values = (self.offset_hz, self.ramp_hz_per_s, self.ramp_limit_hz, self.wander_hz, self.wander_period_s)
        _check(all(math.isfinite(v) for v in values), "frequency drift values must be finite")
        _check(self.ramp_limit_hz >= 0 and self.wander_period_s > 0, "ramp limit >= 0 and wander period > 0")
        _check(abs(self.offset_hz) + self.ramp_limit_hz + abs(self.wander_hz) <= 5.0, "drift beyond ±5 Hz")

    def frequency_hz(self, nominal_hz: float, dt_s: float) -> float:
        """f at ``dt_s`` seconds after the engine's start."""
        return float(
            grid_frequency(
                np.array([nominal_hz]),
                np.array([self.offset_hz]),
                np.array([self.ramp_hz_per_s]),
                np.array([self.ramp_limit_hz]),
                np.array([self.wander_hz]),
                np.array([self.wander_period_s]),
                np.array([float(dt_s)]),
            )[0]
        )


def grid_frequency(
    nominal: FloatArray,
    offset: FloatArray,
    ramp: FloatArray,
    limit: FloatArray,
    wander: FloatArray,
    period: FloatArray,
    dt: FloatArray,
) -> FloatArray:
    """`FrequencyDrift`'s formula on broadcastable float64 arrays (Hz, Hz/s, s); returns Hz."""
    out: FloatArray = nominal + offset + np.clip(ramp * dt, -limit, limit) + wander * np.sin(2 * np.pi * dt / period)
    return out


@dataclass(frozen=True, slots=True)
class SupplyConfig:
    """The single-phase supply: ``voltage_rms`` V fundamental (110, 220, …) at ``frequency_hz`` Hz nominal,
    voltage ``harmonics`` as (order ≥ 2, rms relative to the fundamental, phase rad), and a frequency drift."""

    voltage_rms: float = 220.0
    frequency_hz: float = 60.0
    harmonics: tuple[tuple[int, float, float], ...] = ()
    drift: FrequencyDrift = FrequencyDrift()

    def __post_init__(self) -> None:
        _check(math.isfinite(self.voltage_rms) and 0 < self.voltage_rms <= 1000, "voltage_rms in (0, 1000] V")
        _check(math.isfinite(self.frequency_hz) and 40 <= self.frequency_hz <= 70, "frequency_hz in [40, 70] Hz")
        object.__setattr__(self, "harmonics", tuple((int(h), float(r), float(p)) for h, r, p in self.harmonics))
        for h, rel, _ in self.harmonics:
            _check(h >= 2 and 0 <= rel <= 1, f"voltage harmonic ({h}, {rel}) needs order >= 2, 0 <= rel <= 1")
        _check(len({h for h, _, _ in self.harmonics}) == len(self.harmonics), "voltage harmonic orders repeat")

    def voltage_spectrum(self) -> Spectrum:
        """The voltage as a `Spectrum` (fundamental at phase 0)."""
        orders = (1, *(h for h, _, _ in self.harmonics))
        rms = (self.voltage_rms, *(self.voltage_rms * r for _, r, _ in self.harmonics))
        phases = (0.0, *(p for _, _, p in self.harmonics))
        return Spectrum(orders, rms, phases)


@dataclass(frozen=True, slots=True)
class AdcConfig:
    """The two ΣΔ channels (voltage, current) and their analogue errors.

    ``sample_rate_hz`` samples/s per channel (an integer: one second is one block); ``bits`` resolution;
    ``v_full_scale_v`` / ``i_full_scale_a`` the peak input at the largest code (None: 1.25·√2·nominal
    voltage and 1.25·√2·``i_max_a``); gain errors relative (0.01 = reads 1 % high); offset errors in codes;
    ``i_delay_error_s`` the current channel's sampling delay against the voltage channel (s); noise rms
    referred to the input (V, A, white over the band); ``modulator_hz`` the modulator clock (phase ticks).
    """

    sample_rate_hz: int = 4096
    bits: int = 16
    v_full_scale_v: float | None = None
    i_full_scale_a: float | None = None
    i_max_a: float = 100.0
    v_gain_error: float = 0.0
    i_gain_error: float = 0.0
    v_offset_error: float = 0.0
    i_offset_error: float = 0.0
    i_delay_error_s: float = 0.0
    v_noise_v: float = 0.0
    i_noise_a: float = 0.0
    modulator_hz: float = MODULATOR_HZ

    def __post_init__(self) -> None:
        _check(isinstance(self.sample_rate_hz, int) and 256 <= self.sample_rate_hz <= 65536, "sample rate 256..65536")
        _check(isinstance(self.bits, int) and 8 <= self.bits <= 24, "bits in 8..24")
        for name in ("v_full_scale_v", "i_full_scale_a"):
            value = getattr(self, name)
            _check(value is None or (math.isfinite(value) and value > 0), f"{name} must be positive")
        values = (self.i_max_a, self.v_gain_error, self.i_gain_error, self.v_offset_error, self.i_offset_error)
        _check(all(math.isfinite(v) for v in values) and self.i_max_a > 0, "ADC values must be finite, i_max > 0")
        _check(abs(self.v_gain_error) < 0.5 and abs(self.i_gain_error) < 0.5, "gain errors within ±50 %")
        _check(abs(self.i_delay_error_s) < 1e-3, "current delay error below 1 ms")
        _check(self.v_noise_v >= 0 and self.i_noise_a >= 0, "noise rms must be >= 0")
        _check(math.isfinite(self.modulator_hz) and self.modulator_hz > 0, "modulator_hz must be positive")

    @property
    def code_max(self) -> int:
        """The largest code, 2^(bits−1) − 1 (the smallest is −2^(bits−1))."""
        return int(2 ** (self.bits - 1) - 1)

    def v_lsb(self, nominal_v: float) -> float:
        """Volts per code for a supply of ``nominal_v`` V rms."""
        fs = self.v_full_scale_v if self.v_full_scale_v is not None else 1.25 * math.sqrt(2) * nominal_v
        return fs / self.code_max

    def i_lsb(self) -> float:
        """Amperes per code."""
        fs = self.i_full_scale_a if self.i_full_scale_a is not None else 1.25 * math.sqrt(2) * self.i_max_a
        return fs / self.code_max


@dataclass(frozen=True, slots=True)
class Calibration:
    """Calibration constants as a meter stores them: gains (multipliers on offset-free codes), offsets
    (codes) and the phase correction in modulator ticks added to the current channel's sampling delay."""

    v_gain: float = 1.0
    i_gain: float = 1.0
    v_offset: float = 0.0
    i_offset: float = 0.0
    phase_ticks: int = 0

    def __post_init__(self) -> None:
        _check(all(math.isfinite(v) for v in (self.v_gain, self.i_gain, self.v_offset, self.i_offset)), "finite")
        _check(self.v_gain > 0 and self.i_gain > 0, "calibration gains must be positive")
        _check(isinstance(self.phase_ticks, int) and -255 <= self.phase_ticks <= 255, "phase ticks in −255..255")

    @classmethod
    def ideal(cls, adc: AdcConfig) -> Calibration:
        """The constants a perfect factory calibration finds for ``adc``'s errors (phase to one tick)."""
        return cls(
            v_gain=1.0 / (1.0 + adc.v_gain_error),
            i_gain=1.0 / (1.0 + adc.i_gain_error),
            v_offset=adc.v_offset_error,
            i_offset=adc.i_offset_error,
            phase_ticks=round(-adc.i_delay_error_s * adc.modulator_hz),
        )

    def current_delay_s(self, adc: AdcConfig) -> float:
        """The current channel's net sampling delay (s) after correction."""
        return adc.i_delay_error_s + self.phase_ticks / adc.modulator_hz


def synthesize(
    theta0: FloatArray,
    f_start: FloatArray,
    f_end: FloatArray,
    v_phasors: ComplexArray,
    i_phasors: ComplexArray,
    samples: int,
) -> tuple[Float32Array, Float32Array]:
    """Voltage and current samples of one second per row.

    ``theta0`` (rows,) rad: fundamental phase at sample 0; ``f_start``/``f_end`` (rows,) Hz; phasors
    (rows, H) complex rms, column h−1 = order h (current phasors already rotated for any sampling delay);
    ``samples`` per second. Returns two float32 arrays (rows, samples): volts and amperes.
    """
    rows = theta0.shape[0]
    tau = np.arange(samples, dtype=np.float64) / samples
    cyc = (theta0 / (2 * np.pi))[:, None] + f_start[:, None] * tau + (0.5 * (f_end - f_start))[:, None] * (tau * tau)
    cyc -= np.floor(cyc)
    cyc *= 2 * np.pi
    angle = cyc.astype(np.float32)
    del cyc
    c1, s1 = np.cos(angle), np.sin(angle)
    v = np.zeros((rows, samples), dtype=np.float32)
    i = np.zeros((rows, samples), dtype=np.float32)
    used = np.flatnonzero(np.any(v_phasors != 0, axis=0) | np.any(i_phasors != 0, axis=0))
    if used.size == 0:
        return v, i
    ch, sh = c1, s1
    tmp = np.empty_like(angle)
    for h in range(1, int(used[-1]) + 2):
        if h > 1:
            ch, sh = ch * c1 - sh * s1, sh * c1 + ch * s1
        for phasors, out in ((v_phasors, v), (i_phasors, i)):
            col = phasors[:, h - 1]
            if not np.any(col != 0):
                continue
            a = (math.sqrt(2) * col.real).astype(np.float32)[:, None]
            b = (math.sqrt(2) * col.imag).astype(np.float32)[:, None]
            np.multiply(ch, a, out=tmp)
            out += tmp
            np.multiply(sh, b, out=tmp)
            out -= tmp
    return v, i


def quantize(
    x: Float32Array,
    scale: FloatArray,
    offset: FloatArray,
    code_max: int,
    noise: Float32Array | None = None,
    noise_rms: FloatArray | None = None,
) -> tuple[Float32Array, BoolArray]:
    """ADC codes of ``x`` (rows, n) in place: rint(x·scale + noise·noise_rms·scale + offset), clipped.

    ``scale`` (rows,) codes per input unit, i.e. (1 + gain_error)/lsb; ``offset`` (rows,) codes;
    ``noise`` standard normal (rows, n) or None; ``noise_rms`` (rows,) in input units. Returns the codes
    (float32 holding integers) and a (rows,) flag telling which rows clipped.
    """
    x *= scale.astype(np.float32)[:, None]
    if noise is not None and noise_rms is not None:
        noise *= (noise_rms * scale).astype(np.float32)[:, None]
        x += noise
    x += offset.astype(np.float32)[:, None]
    np.rint(x, out=x)
    low = float(-code_max - 1)
    clipped: BoolArray = np.any(x > code_max, axis=1) | np.any(x < low, axis=1)
    np.clip(x, low, float(code_max), out=x)
    return x, clipped
