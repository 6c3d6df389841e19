"""Link budget of a power-line hop: SNR under a transmit mask, Shannon capacity, BER curves, frame errors.

Inputs are plain arrays on a frequency grid (Hz, increasing, shape (n_f,)): the channel transfer function
H (complex, dimensionless, from multipath/two-port models), the one-sided noise PSD (W/Hz, from the noise
models) and the transmit PSD (W/Hz, an array or a `PsdMask`). Per carrier, SNR = |H|²·S_tx/N.

`frame_error_rate(link, frame_bytes)` is the fast analytic figure the HAN transport uses. The frame's
8·frame_bytes bits fill whole OFDM symbols carrier by carrier (the last symbol partly), each frame a new
burst. A frame is received when every carrier symbol it occupies is right. Coherent modems use the exact
symbol error probability at each carrier's SNR (`modulation.carrier_symbol_error`): PER = 1 − Π_k
(1 − P_k)^(n_k). Differential modems share each sample between two decisions, so their errors come in
pairs; `modulation.dpsk_chain_error` solves each chain (along time on a carrier for G3, along the carriers
of a symbol for PRIME) exactly, which treating the decisions as independent would overestimate by up to
~20 % relative at PER ≈ 0.3. With `model="mean-ber"` the textbook shortcut is used instead: the BER
averaged over the carriers used, PER = 1 − (1 − BER)^(8·frame_bytes); it is exact for BPSK/QPSK on a
flat channel and optimistic on a frequency-selective one. FEC is NOT modelled (no convolutional,
Reed–Solomon or turbo code, no interleaving, no repetition): the figures are those of the uncoded PHY,
pessimistic against real G3-PLC/PRIME/HomePlug frames.

With impulsive noise (`ImpulsiveNoise`, Bernoulli–Gaussian), the noise in each FFT bin is taken as Gaussian
given the number m of impulse samples in the symbol's FFT window, with PSD N + (m/N_fft)·N_impulse,
m ~ Binomial(N_fft, p) (the analysis of Ghosh, "Analysis of the effect of impulse noise on multicarrier
and single carrier QAM systems", IEEE Trans. Commun. 44(2), 1996), and decisions are independent given
m. A single impulse in a window gives non-circular bin noise, so for sparse impulses this is optimistic;
`simulate_frame_errors` simulates the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]

from openami.channel.errors import ChannelModelError
from openami.channel.modulation import ber_awgn, carrier_bit_error, carrier_symbol_error, dpsk_chain_error
from openami.channel.ofdm import OfdmModem, PsdMask, simulate_bursts

__all__ = [
    "BerCurve",
    "ErrorRateEstimate",
    "ImpulsiveNoise",
    "Link",
    "ber_curve",
    "binomial_interval",
    "frame_error_rate",
    "shannon_capacity",
    "simulate_frame_errors",
    "snr_db",
    "snr_linear",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
CiMethod = Literal["exact", "wilson"]
_CHAIN_STEPS = 12  # decisions solved exactly before the chain's stationary hazard takes over


def _grid(f_hz: npt.ArrayLike) -> FloatArray:
    f = np.asarray(f_hz, dtype=np.float64)
    if f.ndim != 1 or f.size < 2 or not np.all(np.isfinite(f)) or np.any(np.diff(f) <= 0) or f[0] < 0:
        raise ChannelModelError("f_hz must be a 1-D increasing grid of ≥ 2 finite frequencies ≥ 0 Hz")
    return f


def _tx_psd(f: FloatArray, tx_psd_w_hz: PsdMask | npt.ArrayLike) -> FloatArray:
    s = tx_psd_w_hz.psd_w_hz(f) if isinstance(tx_psd_w_hz, PsdMask) else np.asarray(tx_psd_w_hz, dtype=np.float64)
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ChannelModelError("transmit PSD must be finite and ≥ 0 W/Hz")
    return s


def snr_linear(
    f_hz: npt.ArrayLike, h: npt.ArrayLike, noise_psd_w_hz: npt.ArrayLike, tx_psd_w_hz: PsdMask | npt.ArrayLike
) -> FloatArray:
    """|H|²·S_tx/N per frequency. h: (..., n_f) complex; noise and tx PSD (W/Hz) broadcast against it
    (a `PsdMask` is evaluated on f_hz). Returns (..., n_f) float64; +inf where N = 0."""
    f = _grid(f_hz)
    hh = np.asarray(h, dtype=np.complex128)
    n = np.asarray(noise_psd_w_hz, dtype=np.float64)
    if hh.ndim == 0 or hh.shape[-1] != f.size:
        raise ChannelModelError(f"h must have a last axis of {f.size} frequencies, got shape {hh.shape}")
    if not np.all(np.isfinite(hh)) or not np.all(np.isfinite(n)) or np.any(n < 0):
        raise ChannelModelError("h must be finite and the noise PSD finite and ≥ 0 W/Hz")
    s = _tx_psd(f, tx_psd_w_hz)
    try:
        shape = np.broadcast_shapes(hh.shape, n.shape, s.shape)
    except ValueError as exc:
        raise ChannelModelError(f"shapes do not broadcast: h {hh.shape}, noise {n.shape}, tx {s.shape}") from exc
    if shape != hh.shape:
        raise ChannelModelError(f"noise/tx PSD shapes {n.shape}, {s.shape} must broadcast to h's {hh.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.abs(hh) ** 2 * s / n
    return np.asarray(np.where(np.isnan(out), 0.0, out), dtype=np.float64)


def snr_db(
    f_hz: npt.ArrayLike, h: npt.ArrayLike, noise_psd_w_hz: npt.ArrayLike, tx_psd_w_hz: PsdMask | npt.ArrayLike
) -> FloatArray:
    """10·log10(|H|²·S_tx/N) per frequency, dB (−inf where nothing is sent); shapes as `snr_linear`."""
    with np.errstate(divide="ignore"):
        return np.asarray(10.0 * np.log10(snr_linear(f_hz, h, noise_psd_w_hz, tx_psd_w_hz)), dtype=np.float64)


def _value_at(f: FloatArray, y: FloatArray, x: float) -> FloatArray:
    """Linear interpolation of y (..., n_f) on f at the single point x (f[0] ≤ x ≤ f[-1])."""
    i = int(np.clip(np.searchsorted(f, x, side="right"), 1, f.size - 1))
    w = (x - f[i - 1]) / (f[i] - f[i - 1])
    return np.asarray(y[..., i - 1] * (1.0 - w) + y[..., i] * w, dtype=np.float64)


def shannon_capacity(
    f_hz: npt.ArrayLike, snr_linear_values: npt.ArrayLike, band: tuple[float, float]
) -> float | FloatArray:
    """Capacity ∫ log2(1 + SNR(f)) df over `band` (Hz, inside the grid), bit/s.

    snr_linear_values: (..., n_f) ≥ 0 on f_hz. The integrand is interpolated linearly at the band edges and
    integrated by the trapezoid rule on the grid points inside. Returns a float, or (...) for a batch.
    """
    f = _grid(f_hz)
    snr = np.asarray(snr_linear_values, dtype=np.float64)
    lo, hi = float(band[0]), float(band[1])
    if snr.ndim == 0 or snr.shape[-1] != f.size or np.any(np.isnan(snr)) or np.any(snr < 0):
        raise ChannelModelError(f"SNR must be ≥ 0 with a last axis of {f.size} frequencies")
    if not (f[0] <= lo < hi <= f[-1]):
        raise ChannelModelError(f"band {band} must lie inside the grid [{f[0]}, {f[-1]}] Hz with low < high")
    y = np.log2(1.0 + snr)
    inside = (f > lo) & (f < hi)
    xs = np.concatenate([[lo], f[inside], [hi]])
    ys = np.concatenate([_value_at(f, y, lo)[..., None], y[..., inside], _value_at(f, y, hi)[..., None]], axis=-1)
    cap = np.trapezoid(ys, xs, axis=-1)
    return float(cap) if np.ndim(cap) == 0 else np.asarray(cap, dtype=np.float64)


@dataclass(frozen=True)
class ImpulsiveNoise:
    """Bernoulli–Gaussian impulsive noise: each sample is hit with `probability`; a hit adds a Gaussian
    sample of variance impulse_psd_w_hz·fs/2, i.e. white noise of one-sided PSD `impulse_psd_w_hz` while
    the impulse lasts. Added to the background noise of the link."""

    probability: float
    impulse_psd_w_hz: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0 or not np.isfinite(self.impulse_psd_w_hz) or self.impulse_psd_w_hz < 0:
            raise ChannelModelError("impulsive noise needs 0 ≤ probability ≤ 1 and a finite PSD ≥ 0 W/Hz")

    def samples(self, shape: tuple[int, ...], sample_rate_hz: float, rng: np.random.Generator) -> FloatArray:
        """Impulsive samples of the given shape at `sample_rate_hz` (√W across 1 Ω, like the signal)."""
        hits = rng.random(shape) < self.probability
        sigma = np.sqrt(self.impulse_psd_w_hz * sample_rate_hz / 2.0)
        return np.where(hits, rng.standard_normal(shape) * sigma, 0.0)

    def hits_distribution(self, window: int, tail: float = 1e-12) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Numbers of hits m in a window of `window` samples and their probabilities (Binomial, tail cut)."""
        if self.probability == 0.0 or self.impulse_psd_w_hz == 0.0:
            return np.zeros(1, dtype=np.int64), np.ones(1)
        top = int(stats.binom.isf(tail, window, self.probability)) + 1
        m = np.arange(0, min(window, top) + 1, dtype=np.int64)
        pmf = np.asarray(stats.binom.pmf(m, window, self.probability), dtype=np.float64)
        return m, pmf / pmf.sum()


@dataclass(frozen=True, eq=False)
class Link:
    """One PLC hop: a modem, the channel H and noise PSD on a grid, the transmit PSD, optional impulses.

    f_hz: (n_f,) increasing, covering every carrier of the modem; h: (n_f,) complex; noise_psd_w_hz: (n_f,)
    > 0 W/Hz; tx_psd: (n_f,) W/Hz or a `PsdMask`. Carrier values are interpolated linearly (real and
    imaginary parts of H separately: the grid must resolve the channel's phase, i.e. Δf·max delay ≪ 1).
    """

    modem: OfdmModem
    f_hz: npt.ArrayLike
    h: npt.ArrayLike
    noise_psd_w_hz: npt.ArrayLike
    tx_psd: PsdMask | npt.ArrayLike
    impulsive: ImpulsiveNoise | None = None
    _f: FloatArray = field(init=False, repr=False)
    _h: ComplexArray = field(init=False, repr=False)
    _noise: FloatArray = field(init=False, repr=False)
    _tx: FloatArray = field(init=False, repr=False)
    _per_cache: dict[tuple[str, int], float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        f = _grid(self.f_hz)
        h = np.asarray(self.h, dtype=np.complex128)
        noise = np.asarray(self.noise_psd_w_hz, dtype=np.float64)
        tx = _tx_psd(f, self.tx_psd)
        if h.shape != f.shape or noise.shape != f.shape or tx.shape != f.shape:
            raise ChannelModelError(f"h, noise and tx PSD must all have the grid's shape {f.shape}")
        if not np.all(np.isfinite(h)) or not np.all(np.isfinite(noise)) or np.any(noise <= 0):
            raise ChannelModelError("h must be finite and the noise PSD finite and > 0 W/Hz")
        fc = self.modem.grid.carrier_frequencies_hz
        if fc[0] < f[0] or fc[-1] > f[-1]:
            raise ChannelModelError(f"grid {f[0]}..{f[-1]} Hz does not cover the carriers {fc[0]}..{fc[-1]} Hz")
        for name, value in (("_f", f), ("_h", h), ("_noise", noise), ("_tx", tx), ("_per_cache", {})):
            object.__setattr__(self, name, value)

    @classmethod
    def flat(
        cls, modem: OfdmModem, snr_db_value: float, *, impulsive: ImpulsiveNoise | None = None, gain: float = 1.0
    ) -> Link:
        """A flat channel (H = `gain`), white noise and a flat −50 dBm/Hz transmit PSD giving the per-carrier
        SNR `snr_db_value` (Es/N0, dB) on every carrier. `gain` must be > 0."""
        if not np.isfinite(snr_db_value) or not gain > 0:
            raise ChannelModelError("Link.flat needs a finite SNR (dB) and a gain > 0")
        fc = modem.grid.carrier_frequencies_hz
        f = np.array([fc[0] - modem.grid.spacing_hz, fc[-1] + modem.grid.spacing_hz])
        s = 1e-8
        n = s * gain**2 / 10.0 ** (snr_db_value / 10.0)
        return cls(modem, f, np.full(2, gain, dtype=np.complex128), np.full(2, n), np.full(2, s), impulsive)

    @cached_property
    def carrier_gain(self) -> ComplexArray:
        """H at the modem's carriers, shape (K,) complex."""
        fc = self.modem.grid.carrier_frequencies_hz
        return np.interp(fc, self._f, self._h.real) + 1j * np.interp(fc, self._f, self._h.imag)

    @cached_property
    def carrier_tx_psd_w_hz(self) -> FloatArray:
        """Transmit PSD at the carriers, shape (K,), W/Hz."""
        return np.asarray(np.interp(self.modem.grid.carrier_frequencies_hz, self._f, self._tx), dtype=np.float64)

    @cached_property
    def carrier_noise_psd_w_hz(self) -> FloatArray:
        """Background noise PSD at the carriers, shape (K,), W/Hz."""
        return np.asarray(np.interp(self.modem.grid.carrier_frequencies_hz, self._f, self._noise), dtype=np.float64)

    @cached_property
    def carrier_snr(self) -> FloatArray:
        """Per-carrier Es/N0 without impulses, shape (K,), linear."""
        return np.abs(self.carrier_gain) ** 2 * self.carrier_tx_psd_w_hz / self.carrier_noise_psd_w_hz

    def _hits(self) -> tuple[npt.NDArray[np.int64], FloatArray]:
        if self.impulsive is None:
            return np.zeros(1, dtype=np.int64), np.ones(1)
        return self.impulsive.hits_distribution(self.modem.grid.n_fft)

    @cached_property
    def _conditional_snr(self) -> FloatArray:
        """SNR per carrier given m hits in the FFT window, shape (M, K)."""
        m, _ = self._hits()
        extra = 0.0 if self.impulsive is None else self.impulsive.impulse_psd_w_hz
        noise = self.carrier_noise_psd_w_hz[None, :] + (m[:, None] / self.modem.grid.n_fft) * extra
        return np.abs(self.carrier_gain[None, :]) ** 2 * self.carrier_tx_psd_w_hz[None, :] / noise

    def _decision_error(self, symbol: bool) -> FloatArray:
        """Per data carrier decision error probability given the hits: (M, K_d), or (M, M, K_d) for
        time-differential (axes: m of the symbol, m of its reference)."""
        fn = carrier_symbol_error if symbol else carrier_bit_error
        g = self._conditional_snr
        mod = self.modem.modulation
        if self.modem.differential is None:
            return fn(mod, g)
        if self.modem.differential == "time":
            return fn(mod, g[:, None, :], g[None, :, :])
        h = self.carrier_gain
        phi = np.angle(h[1:] * np.conj(h[:-1]))
        return fn(mod, g[:, 1:], g[:, :-1], phi[None, :])

    @cached_property
    def _log_success(self) -> FloatArray:
        with np.errstate(divide="ignore"):
            return np.log1p(-np.minimum(self._decision_error(symbol=True), 1.0))

    @cached_property
    def _bit_error(self) -> FloatArray:
        return self._decision_error(symbol=False)

    def _weights(self) -> FloatArray:
        """Probability weights over the hit axes of `_decision_error` ((M,) or (M, M))."""
        _, pmf = self._hits()
        return np.outer(pmf, pmf) if self.modem.differential == "time" else pmf

    @cached_property
    def carrier_bit_error_rate(self) -> FloatArray:
        """Analytic BER per data carrier (impulses averaged), shape (K_d,)."""
        w = self._weights()
        return np.asarray(np.tensordot(w, self._bit_error, axes=w.ndim), dtype=np.float64)

    @cached_property
    def _time_chains(self) -> tuple[FloatArray, FloatArray]:
        """Time-differential chains per carrier: cumulative error after 1.._CHAIN_STEPS decisions (K, J0)
        and the stationary hazard (probability the next decision fails given none has), shape (K,)."""
        unique, inverse = np.unique(self.carrier_snr, return_inverse=True)
        cum = dpsk_chain_error(self.modem.modulation, unique[:, None], _CHAIN_STEPS)
        with np.errstate(invalid="ignore", divide="ignore"):
            hazard = (cum[:, -1] - cum[:, -2]) / (1.0 - cum[:, -2])
        hazard = np.clip(np.nan_to_num(hazard, nan=1.0), 0.0, 1.0)
        return cum[inverse], hazard[inverse]

    @cached_property
    def _frequency_chain(self) -> FloatArray:
        """Frequency-differential chain over one symbol: cumulative error after 1..K_d carriers, (K_d,)."""
        h = self.carrier_gain
        phi = np.angle(h[1:] * np.conj(h[:-1]))
        return dpsk_chain_error(self.modem.modulation, self.carrier_snr, h.size - 1, phi)

    def carriers_used(self, frame_bytes: int) -> tuple[int, int]:
        """(full OFDM symbols, data carriers used in the last partial symbol) of a frame."""
        if isinstance(frame_bytes, bool) or not isinstance(frame_bytes, int | np.integer) or frame_bytes < 0:
            raise ChannelModelError(f"frame_bytes must be an integer ≥ 0, got {frame_bytes!r}")
        full, rest = divmod(8 * int(frame_bytes), self.modem.bits_per_symbol)
        return full, rest // self.modem.bits_per_carrier


def _independent_per(link: Link, full: int, partial: int) -> float:
    """PER with independent carrier decisions, averaged over the impulse hits of each symbol."""
    w = link._weights()
    log_s = link._log_success
    log_ok = 0.0
    for n_symbols, n_carriers in ((full, log_s.shape[-1]), (1, partial)):
        if n_symbols == 0 or n_carriers == 0:
            continue
        per_symbol = np.exp(log_s[..., :n_carriers].sum(axis=-1))  # success given the hits
        p_ok = float(np.sum(w * per_symbol))
        if p_ok <= 0.0:
            return 1.0
        log_ok += n_symbols * np.log(p_ok)
    return float(-np.expm1(log_ok))


def _chain_per(link: Link, full: int, partial: int) -> float:
    """PER of a differential modem in Gaussian noise with the decision chains solved exactly."""
    with np.errstate(divide="ignore"):
        if link.modem.differential == "time":
            cum, hazard = link._time_chains
            n_k = np.full(cum.shape[0], full) + (np.arange(cum.shape[0]) < partial)  # decisions per carrier
            j0 = cum.shape[1]
            direct = np.log1p(-np.minimum(cum[np.arange(cum.shape[0]), np.clip(n_k, 1, j0) - 1], 1.0))
            # beyond j0 decisions the chain's hazard is stationary: S_n = S_j0 · (1 − hazard)^(n − j0)
            log_ok_k = np.where(n_k > j0, direct + (n_k - j0) * np.log1p(-hazard), direct)
            log_ok = float(np.sum(np.where(n_k > 0, log_ok_k, 0.0)))
        else:
            chain = link._frequency_chain
            log_ok = full * float(np.log1p(-min(float(chain[-1]), 1.0)))
            if partial:
                log_ok += float(np.log1p(-min(float(chain[partial - 1]), 1.0)))
    return float(-np.expm1(log_ok))


def frame_error_rate(link: Link, frame_bytes: int, *, model: Literal["carrier", "mean-ber"] = "carrier") -> float:
    """Analytic probability that an uncoded frame of `frame_bytes` bytes has at least one bit error.

    model "carrier" (default): PER = 1 − P(every carrier symbol of the frame is right), from the exact
    per-carrier symbol error of the modulation; differential modems in Gaussian noise solve their
    decision chains exactly (`modulation.dpsk_chain_error`); with impulsive noise the decisions are taken
    as independent given the hits of each symbol's window. "mean-ber": PER = 1 − (1 − BER)^(8·frame_bytes)
    with the analytic BER averaged over the carriers the frame uses. Results are cached per frame length.
    """
    if model not in ("carrier", "mean-ber"):
        raise ChannelModelError(f"unknown model {model!r}; expected 'carrier' or 'mean-ber'")
    full, partial = link.carriers_used(frame_bytes)
    if full == 0 and partial == 0:
        return 0.0
    key = (model, int(frame_bytes))
    cached = link._per_cache.get(key)
    if cached is not None:
        return cached
    if model == "mean-ber":
        ber = link.carrier_bit_error_rate
        mean = (full * ber.sum() + ber[:partial].sum()) / (full * ber.size + partial)
        per = float(-np.expm1(8 * int(frame_bytes) * np.log1p(-min(float(mean), 1.0))))
    elif link.modem.differential is not None and link.impulsive is None:
        per = _chain_per(link, full, partial)
    else:
        per = _independent_per(link, full, partial)
    link._per_cache[key] = per
    return per


@dataclass(frozen=True)
class ErrorRateEstimate:
    """A simulated error rate: `n_errors` of `n_trials`, with a two-sided binomial confidence interval."""

    n_trials: int
    n_errors: int
    rate: float
    ci_low: float
    ci_high: float
    confidence: float

    def contains(self, value: float) -> bool:
        """True when `value` lies inside the confidence interval."""
        return self.ci_low <= value <= self.ci_high


def binomial_interval(
    n_errors: int, n_trials: int, confidence: float = 0.95, method: CiMethod = "exact"
) -> ErrorRateEstimate:
    """Clopper–Pearson ("exact") or Wilson interval for n_errors of n_trials (scipy.stats.binomtest)."""
    if n_trials <= 0 or not 0 <= n_errors <= n_trials or not 0.0 < confidence < 1.0:
        raise ChannelModelError("need 0 ≤ n_errors ≤ n_trials, n_trials ≥ 1 and 0 < confidence < 1")
    ci = stats.binomtest(int(n_errors), int(n_trials)).proportion_ci(confidence_level=confidence, method=method)
    return ErrorRateEstimate(
        int(n_trials), int(n_errors), n_errors / n_trials, float(ci.low), float(ci.high), confidence
    )


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ChannelModelError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")


def simulate_frame_errors(
    link: Link,
    frame_bytes: int,
    n_frames: int,
    rng: np.random.Generator,
    *,
    confidence: float = 0.95,
    max_chunk_samples: int = 1 << 21,
) -> ErrorRateEstimate:
    """Frame error rate by bit-level simulation of `n_frames` random uncoded frames over the link.

    Each frame is one burst of ceil(8·frame_bytes / bits per symbol) OFDM symbols (padded with random bits)
    through H at the carriers, the link's noise PSD coloured in the time domain and, when the link has
    them, Bernoulli–Gaussian impulses. Returns the count with a Clopper–Pearson interval.
    """
    _check_rng(rng)
    full, partial = link.carriers_used(frame_bytes)
    if n_frames < 1 or (full == 0 and partial == 0):
        raise ChannelModelError("need n_frames ≥ 1 and frame_bytes ≥ 1")
    modem = link.modem
    n_bits = 8 * frame_bytes
    n_symbols = full + (1 if partial else 0)
    burst = modem.burst_samples(n_symbols)
    per_chunk = max(1, max_chunk_samples // burst)
    errors = 0
    for start in range(0, n_frames, per_chunk):
        count = min(per_chunk, n_frames - start)
        bits = rng.integers(0, 2, size=(count, n_symbols, modem.bits_per_symbol), dtype=np.uint8)
        imp = None
        if link.impulsive is not None:
            imp = link.impulsive.samples((count, burst), modem.grid.sample_rate_hz, rng)
        rx = simulate_bursts(
            modem,
            bits,
            rng,
            noise_psd_w_hz=link._noise,
            noise_f_hz=link._f,
            tx_psd_w_hz=link.carrier_tx_psd_w_hz,
            gain=link.carrier_gain,
            impulsive_noise=imp,
            max_chunk_samples=max_chunk_samples,
        )
        wrong = (rx != bits).reshape(count, -1)[:, :n_bits]
        errors += int(np.count_nonzero(wrong.any(axis=1)))
    return binomial_interval(errors, n_frames, confidence)


@dataclass(frozen=True, eq=False)
class BerCurve:
    """Simulated and analytic BER versus SNR in AWGN. All arrays have shape (n_points,).

    ebn0_db: Eb/N0 (dB); snr_db: per-carrier Es/N0 (dB); n_bits, n_errors: simulated counts; ber: their
    ratio; ci_low, ci_high: binomial interval at `confidence`; ber_analytic: `modulation.ber_awgn`.
    """

    modulation: str
    differential: str | None
    ebn0_db: FloatArray
    snr_db: FloatArray
    n_bits: npt.NDArray[np.int64]
    n_errors: npt.NDArray[np.int64]
    ber: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    ber_analytic: FloatArray
    confidence: float


def ber_curve(
    modem: OfdmModem,
    snr_db_grid: npt.ArrayLike,
    n_bits: int,
    rng: np.random.Generator,
    *,
    snr_kind: Literal["ebn0", "esn0"] = "ebn0",
    confidence: float = 0.95,
    ci_method: CiMethod = "exact",
    burst_symbols: int = 64,
) -> BerCurve:
    """Simulate at least `n_bits` bits per point through a flat channel in white Gaussian noise.

    snr_db_grid: (n_points,) dB, Eb/N0 (`snr_kind="ebn0"`) or per-carrier Es/N0 ("esn0"). Bits are sent in
    bursts of `burst_symbols` OFDM symbols (each time-differential burst adds its reference symbol).
    """
    _check_rng(rng)
    grid_db = np.atleast_1d(np.asarray(snr_db_grid, dtype=np.float64))
    if grid_db.ndim != 1 or not np.all(np.isfinite(grid_db)) or n_bits < 1 or burst_symbols < 1:
        raise ChannelModelError("need a finite 1-D SNR grid, n_bits ≥ 1 and burst_symbols ≥ 1")
    if snr_kind not in ("ebn0", "esn0"):
        raise ChannelModelError(f"snr_kind must be 'ebn0' or 'esn0', got {snr_kind!r}")
    b = modem.bits_per_carrier
    esn0_db = grid_db + 10.0 * np.log10(b) if snr_kind == "ebn0" else grid_db
    ebn0_db = esn0_db - 10.0 * np.log10(b)
    n_symbols = -(-n_bits // modem.bits_per_symbol)
    per_burst = min(burst_symbols, n_symbols)
    n_bursts = -(-n_symbols // per_burst)
    sims, errs = [], []
    for es in esn0_db:
        bits = rng.integers(0, 2, size=(n_bursts, per_burst, modem.bits_per_symbol), dtype=np.uint8)
        rx = simulate_bursts(modem, bits, rng, noise_psd_w_hz=10.0 ** (-es / 10.0), tx_psd_w_hz=1.0)
        sims.append(bits.size)
        errs.append(int(np.count_nonzero(rx != bits)))
    est = [binomial_interval(e, n, confidence, ci_method) for e, n in zip(errs, sims, strict=True)]
    return BerCurve(
        modulation=modem.modulation,
        differential=modem.differential,
        ebn0_db=ebn0_db,
        snr_db=esn0_db,
        n_bits=np.asarray(sims, dtype=np.int64),
        n_errors=np.asarray(errs, dtype=np.int64),
        ber=np.array([e.rate for e in est]),
        ci_low=np.array([e.ci_low for e in est]),
        ci_high=np.array([e.ci_high for e in est]),
        ber_analytic=ber_awgn(modem.modulation, 10.0 ** (ebn0_db / 10.0)),
        confidence=confidence,
    )
