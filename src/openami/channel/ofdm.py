"""OFDM modems of the power-line link: transmit PSD masks, carrier grids, and a bit-by-bit simulator.

Masks (one-sided transmit PSD, W/Hz; `PsdMask`):

- `homeplug_mask`: −50 dBm/Hz in 1.8–30 MHz (HomePlug AV / IEEE 1901 FFT-OFDM), with the amateur bands
  of `AMATEUR_NOTCHES_HZ` notched 30 dB deep (HomePlug agreed with the ARRL to stay about 30 dB below the
  Part 15 level in the ham bands). `homeplug_conservative_mask`: the same at −55 dBm/Hz.
- `cenelec_a_mask`: CENELEC A, 3–95 kHz. Default level −22.6 dBm/Hz: EN 50065-1's maximum transmitter
  output of 134 dBµV (5 V rms) into a 50 Ω load, 0.5 W, spread evenly over the 92 kHz band. It is a
  regulatory upper bound converted to a PSD, not a measured modem PSD (real G3-PLC/PRIME transmitters
  often inject less); pass `level_dbm_hz` to use another figure.

Grids (`OfdmGrid`): a real baseband OFDM signal (Hermitian IFFT) with carriers at k·fs/N.

- `homeplug_grid`: fs = 75 MHz, N = 3072 → 24.414 kHz spacing, carriers where the mask is active
  (1.8–30 MHz minus the notches: 999 carriers; HomePlug AV's own tone mask adds guard carriers and keeps
  917), cyclic prefix 417 samples (5.56 µs, the shortest HomePlug AV guard interval).
- `g3_grid`: G3-PLC CENELEC A (ITU-T G.9903): fs = 400 kHz, N = 256 → 1.5625 kHz, carriers 23–58
  (35.9–90.6 kHz, 36 carriers), cyclic prefix 30 samples. G3 modulates differentially in **time**: each
  carrier is referred to the same carrier of the previous symbol (the first data symbol to a reference).
- `prime_grid`: PRIME (ITU-T G.9904): fs = 250 kHz, N = 512 → 488.3 Hz, carriers 86–182 (42.0–88.9 kHz,
  1 pilot + 96 data), cyclic prefix 48 samples. PRIME modulates differentially in **frequency**: each
  carrier is referred to its lower neighbour in the same symbol, the first (pilot) carrier being the
  reference.

Simulation (`simulate_bursts`), vectorised over bursts, symbols and carriers: bits → carrier symbols scaled
to the transmit PSD → channel → IFFT + cyclic prefix → one time stream per burst → + Gaussian noise of the
given one-sided PSD (white, or coloured by shaping white noise in the frequency domain) + optional
impulsive samples → CP removal, FFT → one-tap equaliser (coherent, perfect channel knowledge) or
differential detection → bits. The channel is applied as per-carrier gains H(f_k) on the transmit spectrum
(circular convolution); with a cyclic prefix at least as long as the channel memory this is *exactly* the
linear convolution with the impulse response (the reason OFDM has a CP), and it needs H only at the
carriers. For channels longer than the CP pass `impulse_response` (taps at fs): the stream is then
linearly convolved and the inter-symbol interference is simulated. Signal levels: a carrier with PSD S
(W/Hz) has FFT amplitude √(S·N·fs/2); white noise of one-sided PSD N0 has sample variance N0·fs/2, so the
per-carrier SNR is |H|²·S/N0. Coloured noise is seen through the receiver's rectangular window: a noise
PSD that changes steeply over a few carriers leaks into its neighbours, which the analytic per-carrier
model (link.py) ignores.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import fft, signal  # type: ignore[import-untyped]

from openami.channel.errors import ChannelModelError
from openami.channel.modulation import (
    COHERENT_MODULATIONS,
    DIFFERENTIAL_MODULATIONS,
    Modulation,
    bits_per_symbol,
    demap_symbols,
    differential_decide,
    differential_steps,
    map_symbols,
)

__all__ = [
    "AMATEUR_NOTCHES_HZ",
    "CENELEC_A_BAND_HZ",
    "HOMEPLUG_BAND_HZ",
    "Differential",
    "OfdmGrid",
    "OfdmModem",
    "PsdMask",
    "cenelec_a_mask",
    "g3_grid",
    "g3_modem",
    "homeplug_conservative_mask",
    "homeplug_grid",
    "homeplug_mask",
    "homeplug_modem",
    "prime_grid",
    "prime_modem",
    "simulate_bursts",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
IntArray = npt.NDArray[np.int64]
BitArray = npt.NDArray[np.uint8]
Differential = Literal["time", "frequency"]

# Amateur HF allocations inside 1.8–30 MHz that HomePlug notches: the US bands of 47 CFR §97.301
# (HomePlug 1.0/AV notch them after joint tests with the ARRL). (low, high) in Hz, edges notched.
AMATEUR_NOTCHES_HZ: Final[tuple[tuple[float, float], ...]] = (
    (1.800e6, 2.000e6),  # 160 m
    (3.500e6, 4.000e6),  # 80 m
    (5.330e6, 5.407e6),  # 60 m (the five US channels 5.332–5.405 MHz)
    (7.000e6, 7.300e6),  # 40 m
    (10.100e6, 10.150e6),  # 30 m
    (14.000e6, 14.350e6),  # 20 m
    (18.068e6, 18.168e6),  # 17 m
    (21.000e6, 21.450e6),  # 15 m
    (24.890e6, 24.990e6),  # 12 m
    (28.000e6, 29.700e6),  # 10 m
)
HOMEPLUG_BAND_HZ: Final[tuple[float, float]] = (1.8e6, 30.0e6)
CENELEC_A_BAND_HZ: Final[tuple[float, float]] = (3.0e3, 95.0e3)
_EN50065_MAX_VRMS: Final[float] = 5.0  # 134 dBµV, EN 50065-1 band A maximum output level
_EN50065_LOAD_OHM: Final[float] = 50.0


def _freqs(f_hz: npt.ArrayLike) -> FloatArray:
    f = np.asarray(f_hz, dtype=np.float64)
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ChannelModelError("frequencies must be finite and ≥ 0 Hz")
    return f


@dataclass(frozen=True)
class PsdMask:
    """A flat transmit PSD mask: `level_dbm_hz` inside `band_hz` (edges included), `notch_depth_db` lower
    inside each notch (edges included), nothing (0 W/Hz) outside the band."""

    name: str
    band_hz: tuple[float, float]
    level_dbm_hz: float
    notches_hz: tuple[tuple[float, float], ...] = ()
    notch_depth_db: float = 30.0
    source: str = ""

    def __post_init__(self) -> None:
        lo, hi = self.band_hz
        if not (0 <= lo < hi) or not np.isfinite(self.level_dbm_hz) or self.notch_depth_db < 0:
            raise ChannelModelError(f"bad mask {self.name!r}: band {self.band_hz}, level {self.level_dbm_hz}")
        for n_lo, n_hi in self.notches_hz:
            if not n_lo < n_hi:
                raise ChannelModelError(f"bad notch ({n_lo}, {n_hi}) in mask {self.name!r}")

    def in_band(self, f_hz: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True where `f_hz` (any shape, Hz) lies inside the band."""
        f = _freqs(f_hz)
        return (f >= self.band_hz[0]) & (f <= self.band_hz[1])

    def in_notch(self, f_hz: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True where `f_hz` (any shape, Hz) lies inside one of the notches."""
        f = _freqs(f_hz)
        out = np.zeros(f.shape, dtype=bool)
        for lo, hi in self.notches_hz:
            out |= (f >= lo) & (f <= hi)
        return out

    def active(self, f_hz: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True where the mask allows the full level: in the band and outside every notch."""
        return self.in_band(f_hz) & ~self.in_notch(f_hz)

    def psd_dbm_hz(self, f_hz: npt.ArrayLike) -> FloatArray:
        """Mask level in dBm/Hz at `f_hz` (same shape); −inf outside the band."""
        f = _freqs(f_hz)
        level = np.where(self.in_notch(f), self.level_dbm_hz - self.notch_depth_db, self.level_dbm_hz)
        return np.where(self.in_band(f), level, -np.inf)

    def psd_w_hz(self, f_hz: npt.ArrayLike) -> FloatArray:
        """Mask level in W/Hz at `f_hz` (same shape); 0 outside the band."""
        return np.asarray(10.0 ** ((self.psd_dbm_hz(f_hz) - 30.0) / 10.0), dtype=np.float64)


def homeplug_mask(level_dbm_hz: float = -50.0) -> PsdMask:
    """HomePlug AV / IEEE 1901-like mask: `level_dbm_hz` in 1.8–30 MHz, amateur bands 30 dB down."""
    return PsdMask(
        name="homeplug",
        band_hz=HOMEPLUG_BAND_HZ,
        level_dbm_hz=level_dbm_hz,
        notches_hz=AMATEUR_NOTCHES_HZ,
        notch_depth_db=30.0,
        source="HomePlug AV / IEEE 1901: -50 dBm/Hz 1.8-30 MHz; notches: US amateur bands (47 CFR 97.301), "
        "about 30 dB deep (HomePlug-ARRL)",
    )


def homeplug_conservative_mask() -> PsdMask:
    """The HomePlug-like mask at −55 dBm/Hz (a conservative variant)."""
    return replace(homeplug_mask(-55.0), name="homeplug-55")


def cenelec_a_mask(level_dbm_hz: float | None = None) -> PsdMask:
    """CENELEC A (3–95 kHz) mask; default level from EN 50065-1's 134 dBµV into 50 Ω over the band."""
    if level_dbm_hz is None:
        power_w = _EN50065_MAX_VRMS**2 / _EN50065_LOAD_OHM
        level_dbm_hz = 10.0 * np.log10(power_w / (CENELEC_A_BAND_HZ[1] - CENELEC_A_BAND_HZ[0])) + 30.0
    return PsdMask(
        name="cenelec-a",
        band_hz=CENELEC_A_BAND_HZ,
        level_dbm_hz=float(level_dbm_hz),
        source="EN 50065-1 band A: 134 dBuV (5 V rms) into 50 ohm spread over 3-95 kHz (upper bound)",
    )


@dataclass(frozen=True, eq=False)
class OfdmGrid:
    """A real-baseband OFDM carrier grid.

    sample_rate_hz: fs; n_fft: N (even); cp_samples: cyclic prefix length; carriers: FFT bin indices in
    use, shape (K,) int64, strictly increasing, 0 < k < N/2 (carrier frequency k·fs/N).
    """

    name: str
    sample_rate_hz: float
    n_fft: int
    cp_samples: int
    carriers: IntArray = field(repr=False)

    def __post_init__(self) -> None:
        c = np.asarray(self.carriers, dtype=np.int64)
        if self.sample_rate_hz <= 0 or self.n_fft < 4 or self.n_fft % 2 or self.cp_samples < 0:
            raise ChannelModelError(f"bad OFDM grid {self.name!r}")
        if c.ndim != 1 or c.size == 0 or np.any(np.diff(c) <= 0) or c[0] <= 0 or c[-1] >= self.n_fft // 2:
            raise ChannelModelError(f"carriers of {self.name!r} must be increasing bins in 1..N/2-1")
        c.setflags(write=False)
        object.__setattr__(self, "carriers", c)

    @property
    def spacing_hz(self) -> float:
        """Carrier spacing fs/N in Hz."""
        return self.sample_rate_hz / self.n_fft

    @property
    def carrier_frequencies_hz(self) -> FloatArray:
        """Carrier frequencies, shape (K,), Hz."""
        return np.asarray(self.carriers * self.spacing_hz, dtype=np.float64)

    @property
    def symbol_samples(self) -> int:
        """Samples per OFDM symbol, N + CP."""
        return self.n_fft + self.cp_samples

    @property
    def symbol_duration_s(self) -> float:
        """Duration of one OFDM symbol including the cyclic prefix, s."""
        return self.symbol_samples / self.sample_rate_hz


def homeplug_grid(mask: PsdMask | None = None, *, cp_samples: int = 417) -> OfdmGrid:
    """HomePlug AV-like grid: 3072-point FFT at 75 MHz, carriers where `mask` (default HomePlug) is active."""
    m = homeplug_mask() if mask is None else mask
    n_fft, fs = 3072, 75.0e6
    bins = np.arange(1, n_fft // 2)
    return OfdmGrid("homeplug", fs, n_fft, cp_samples, bins[m.active(bins * fs / n_fft)])


def g3_grid() -> OfdmGrid:
    """G3-PLC CENELEC A grid: 256-point FFT at 400 kHz, carriers 23–58, CP 30 samples."""
    return OfdmGrid("g3-cenelec-a", 400.0e3, 256, 30, np.arange(23, 59))


def prime_grid() -> OfdmGrid:
    """PRIME grid: 512-point FFT at 250 kHz, carriers 86–182 (86 is the pilot), CP 48 samples."""
    return OfdmGrid("prime", 250.0e3, 512, 48, np.arange(86, 183))


@dataclass(frozen=True, eq=False)
class OfdmModem:
    """A modulation on a grid. Differential modulations need `differential` ("time" or "frequency");
    coherent ones must leave it None. With "frequency" the lowest carrier is the per-symbol reference."""

    grid: OfdmGrid
    modulation: Modulation
    differential: Differential | None = None

    def __post_init__(self) -> None:
        if self.modulation in COHERENT_MODULATIONS:
            if self.differential is not None:
                raise ChannelModelError(f"{self.modulation} is coherent; differential must be None")
        elif self.modulation in DIFFERENTIAL_MODULATIONS:
            if self.differential not in ("time", "frequency"):
                raise ChannelModelError(f"{self.modulation} needs differential='time' or 'frequency'")
            if self.differential == "frequency" and self.grid.carriers.size < 2:
                raise ChannelModelError("frequency-differential detection needs at least two carriers")
        else:
            bits_per_symbol(self.modulation)  # raises for unknown names

    @property
    def bits_per_carrier(self) -> int:
        """Bits per carrier symbol."""
        return bits_per_symbol(self.modulation)

    @property
    def data_carriers(self) -> IntArray:
        """Bins carrying data, shape (K_d,): all carriers, or all but the reference for "frequency"."""
        return self.grid.carriers[1:] if self.differential == "frequency" else self.grid.carriers

    @property
    def bits_per_symbol(self) -> int:
        """Data bits per OFDM symbol."""
        return int(self.data_carriers.size) * self.bits_per_carrier

    @property
    def reference_symbols(self) -> int:
        """Extra symbols a burst starts with (1 for time-differential, else 0)."""
        return 1 if self.differential == "time" else 0

    def burst_samples(self, n_symbols: int) -> int:
        """Time samples of a burst of `n_symbols` data symbols (reference symbol included)."""
        return (n_symbols + self.reference_symbols) * self.grid.symbol_samples


def homeplug_modem(modulation: Modulation = "qpsk", *, mask: PsdMask | None = None) -> OfdmModem:
    """A coherent modem (BPSK, QPSK, 16-QAM) on the HomePlug-like grid."""
    return OfdmModem(homeplug_grid(mask), modulation)


def g3_modem(modulation: Modulation = "dbpsk") -> OfdmModem:
    """A modem on the G3-PLC CENELEC A grid; DBPSK/DQPSK are differential in time, as in G3-PLC."""
    return OfdmModem(g3_grid(), modulation, "time" if modulation in DIFFERENTIAL_MODULATIONS else None)


def prime_modem(modulation: Modulation = "dbpsk") -> OfdmModem:
    """A modem on the PRIME grid; DBPSK/DQPSK are differential in frequency, as in PRIME."""
    return OfdmModem(prime_grid(), modulation, "frequency" if modulation in DIFFERENTIAL_MODULATIONS else None)


def _per_carrier(value: complex | npt.ArrayLike, k: int, what: str) -> ComplexArray:
    a = np.asarray(value, dtype=np.complex128)
    if a.ndim == 0:
        a = np.full(k, a, dtype=np.complex128)
    if a.shape != (k,) or not np.all(np.isfinite(a)):
        raise ChannelModelError(f"{what} must be a finite scalar or shape ({k},), got shape {a.shape}")
    return a


def _noise_scale(
    noise_psd_w_hz: float | npt.ArrayLike, noise_f_hz: npt.ArrayLike | None, fs: float
) -> FloatArray | float:
    """Validate the noise PSD: the sample std of white noise (float), or the PSD array to shape with."""
    psd = np.asarray(noise_psd_w_hz, dtype=np.float64)
    if not np.all(np.isfinite(psd)) or np.any(psd < 0):
        raise ChannelModelError("noise PSD must be finite and ≥ 0 W/Hz")
    if noise_f_hz is None:
        if psd.ndim != 0:
            raise ChannelModelError("a noise PSD array needs noise_f_hz (same shape)")
        return float(np.sqrt(psd * fs / 2.0))
    f = _freqs(noise_f_hz)
    if f.ndim != 1 or f.shape != psd.shape or f.size < 2 or np.any(np.diff(f) <= 0):
        raise ChannelModelError("noise_f_hz must be increasing, shape (n_f,) like noise_psd_w_hz")
    if np.all(psd == psd[0]):  # white after all: no need to shape it
        return float(np.sqrt(psd[0] * fs / 2.0))
    return psd


def _gaussian_noise(
    shape: tuple[int, int],
    scale: FloatArray | float,
    noise_f_hz: npt.ArrayLike | None,
    fs: float,
    rng: np.random.Generator,
) -> FloatArray:
    """Real noise, shape (bursts, samples): white of std `scale`, or coloured to the PSD `scale` on f."""
    if isinstance(scale, float):
        return rng.standard_normal(shape) * scale
    n_fast = int(fft.next_fast_len(shape[1], real=True))
    spectrum = fft.rfft(rng.standard_normal((shape[0], n_fast)), axis=1)
    f_bins = np.arange(n_fast // 2 + 1) * (fs / n_fast)
    psd = np.interp(f_bins, np.asarray(noise_f_hz, dtype=np.float64), scale)  # held constant beyond the grid
    spectrum *= np.sqrt(psd * fs / 2.0)
    return np.asarray(fft.irfft(spectrum, n=n_fast, axis=1)[:, : shape[1]], dtype=np.float64)


def _carrier_symbols(modem: OfdmModem, bits: BitArray, rng: np.random.Generator) -> ComplexArray:
    """Unit-magnitude carrier symbols, shape (bursts, ref + S, K), for bits (bursts, S, K_d, b)."""
    nb, ns = bits.shape[:2]
    k = modem.grid.carriers.size
    if modem.differential is None:
        return map_symbols(modem.modulation, bits)
    steps = differential_steps(modem.modulation, bits)
    if modem.differential == "time":
        ref = 2 * rng.integers(0, 4, size=(nb, 1, k))  # reference symbol: random QPSK phases
        phase = np.cumsum(np.concatenate([ref, steps], axis=1), axis=1) % 8
    else:
        pilot = 2 * rng.integers(0, 4, size=(nb, ns, 1))
        phase = np.cumsum(np.concatenate([pilot, steps], axis=2), axis=2) % 8
    return np.asarray(np.exp(1j * np.pi / 4 * phase), dtype=np.complex128)


def _detect(modem: OfdmModem, y: ComplexArray, eq: ComplexArray) -> BitArray:
    """Bits (bursts, S, K_d, b) from received carrier values y (bursts, ref + S, K)."""
    if modem.differential is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            return demap_symbols(modem.modulation, y / eq)
    if modem.differential == "time":
        return differential_decide(modem.modulation, y[:, 1:, :] * np.conj(y[:, :-1, :]))
    return differential_decide(modem.modulation, y[:, :, 1:] * np.conj(y[:, :, :-1]))


def simulate_bursts(
    modem: OfdmModem,
    bits: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    noise_psd_w_hz: float | npt.ArrayLike,
    noise_f_hz: npt.ArrayLike | None = None,
    tx_psd_w_hz: float | npt.ArrayLike = 1.0,
    gain: complex | npt.ArrayLike | None = None,
    impulse_response: npt.ArrayLike | None = None,
    impulsive_noise: npt.ArrayLike | None = None,
    max_chunk_samples: int = 1 << 21,
) -> BitArray:
    """Send `bits` through the modem and the channel; return the detected bits (same shape, uint8).

    bits: (n_bursts, n_symbols, modem.bits_per_symbol), 0/1; each burst is a separate transmission
    (time-differential bursts start with a reference symbol). noise_psd_w_hz: one-sided noise PSD, a scalar
    (white) or an array on `noise_f_hz` (Hz, increasing; linearly interpolated, held beyond its ends).
    tx_psd_w_hz: transmit PSD per carrier, scalar or (K,) on `modem.grid.carriers`. gain: channel H at the
    carriers, scalar or (K,) complex (default 1), applied as circular convolution; or impulse_response:
    real taps at fs, length ≤ N, linearly convolved (ISI when longer than CP + 1). impulsive_noise: extra
    real samples, shape (n_bursts, modem.burst_samples(n_symbols)). The receiver knows the channel.
    """
    grid = modem.grid
    k, n_fft, fs, cp = grid.carriers.size, grid.n_fft, grid.sample_rate_hz, grid.cp_samples
    b = np.asarray(bits)
    if b.ndim != 3 or b.shape[2] != modem.bits_per_symbol or b.shape[1] == 0:
        raise ChannelModelError(f"bits must have shape (n_bursts, n_symbols ≥ 1, {modem.bits_per_symbol})")
    nb, ns = b.shape[:2]
    b4 = b.reshape(nb, ns, modem.data_carriers.size, modem.bits_per_carrier)
    tx = _per_carrier(tx_psd_w_hz, k, "tx_psd_w_hz")
    if np.any(tx.imag != 0) or np.any(tx.real < 0):
        raise ChannelModelError("tx_psd_w_hz must be real and ≥ 0 W/Hz")
    amp = np.sqrt(tx.real * n_fft * fs / 2.0)
    taps: FloatArray | None = None
    if impulse_response is not None:
        if gain is not None:
            raise ChannelModelError("give either gain or impulse_response, not both")
        taps = np.asarray(impulse_response, dtype=np.float64)
        if taps.ndim != 1 or not 1 <= taps.size <= n_fft or not np.all(np.isfinite(taps)):
            raise ChannelModelError(f"impulse_response must be 1-D real with 1..{n_fft} finite taps")
        h = np.fft.rfft(taps, n=n_fft)[grid.carriers]
    else:
        h = _per_carrier(1.0 if gain is None else gain, k, "gain")
    scale = _noise_scale(noise_psd_w_hz, noise_f_hz, fs)
    burst_len = modem.burst_samples(ns)
    imp: FloatArray | None = None
    if impulsive_noise is not None:
        imp = np.asarray(impulsive_noise, dtype=np.float64)
        if imp.shape != (nb, burst_len) or not np.all(np.isfinite(imp)):
            raise ChannelModelError(f"impulsive_noise must be finite with shape ({nb}, {burst_len})")
    tx_coef = amp * (h if taps is None else 1.0)
    out = np.empty((nb, ns, modem.data_carriers.size, modem.bits_per_carrier), dtype=np.uint8)
    per_chunk = max(1, max_chunk_samples // burst_len)
    for start in range(0, nb, per_chunk):
        stop = min(nb, start + per_chunk)
        x = _carrier_symbols(modem, b4[start:stop], rng) * tx_coef
        spec = np.zeros((*x.shape[:2], n_fft // 2 + 1), dtype=np.complex128)
        spec[..., grid.carriers] = x
        t = np.fft.irfft(spec, n=n_fft, axis=-1)
        stream = np.concatenate([t[..., n_fft - cp :], t], axis=-1).reshape(stop - start, burst_len)
        if taps is not None:
            stream = signal.oaconvolve(stream, taps[None, :], axes=1)[:, :burst_len]
        stream = stream + _gaussian_noise((stop - start, burst_len), scale, noise_f_hz, fs, rng)
        if imp is not None:
            stream = stream + imp[start:stop]
        rx = stream.reshape(stop - start, -1, grid.symbol_samples)[..., cp:]
        y = np.fft.rfft(rx, axis=-1)[..., grid.carriers]
        out[start:stop] = _detect(modem, y, amp * h)
    return out.reshape(nb, ns, modem.bits_per_symbol)
