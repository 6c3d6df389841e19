"""Link budget: SNR under a mask, Shannon capacity, frame error rate (analytic and simulated)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from openami.channel.errors import ChannelModelError
from openami.channel.link import (
    ImpulsiveNoise,
    Link,
    binomial_interval,
    frame_error_rate,
    shannon_capacity,
    simulate_frame_errors,
    snr_db,
    snr_linear,
)
from openami.channel.ofdm import OfdmModem, g3_modem, homeplug_mask, homeplug_modem, prime_modem

CONFIDENCE = 0.99
MODEMS = {
    "homeplug-bpsk": lambda: homeplug_modem("bpsk"),
    "homeplug-qpsk": lambda: homeplug_modem("qpsk"),
    "homeplug-16qam": lambda: homeplug_modem("16qam"),
    "g3-dbpsk": lambda: g3_modem("dbpsk"),
    "g3-dqpsk": lambda: g3_modem("dqpsk"),
    "prime-dbpsk": lambda: prime_modem("dbpsk"),
    "prime-dqpsk": lambda: prime_modem("dqpsk"),
}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(77)


def two_path(f: np.ndarray, tau_s: float, echo: float) -> np.ndarray:
    return 1.0 + echo * np.exp(-2j * np.pi * f * tau_s)


def selective_link(modem: OfdmModem, snr_db_value: float, tau_s: float, echo: float) -> tuple[Link, Link]:
    """A two-path link and a flat link with the same mean |H|² over the carriers."""
    fc = modem.grid.carrier_frequencies_hz
    f = np.linspace(fc[0] - 2e3, fc[-1] + 2e3, 20001)
    h = two_path(f, tau_s, echo)
    s = 1e-8
    n = np.full(f.size, s / 10 ** (snr_db_value / 10))
    mean_gain2 = float(np.mean(np.abs(two_path(fc, tau_s, echo)) ** 2))
    flat = Link(modem, f, np.full(f.size, np.sqrt(mean_gain2), dtype=complex), n, np.full(f.size, s))
    return Link(modem, f, h, n, np.full(f.size, s)), flat


# --- SNR and capacity ------------------------------------------------------------------------------------


def test_snr_of_flat_channel_and_white_noise_is_closed_form() -> None:
    f = np.linspace(2e6, 28e6, 101)
    h = np.full(f.size, 0.1 * np.exp(0.3j))  # -20 dB
    noise = np.full(f.size, 1e-15)  # -120 dBm/Hz
    out = snr_db(f, h, noise, np.full(f.size, 1e-8))  # -50 dBm/Hz
    assert np.allclose(out, -20.0 - 50.0 + 120.0)
    batch = snr_db(f, np.stack([h, 2 * h]), noise, homeplug_mask())
    assert batch.shape == (2, f.size)
    notched = homeplug_mask().in_notch(f)
    assert np.allclose(batch[1, ~notched], 20 * np.log10(0.2) - 50 + 120)
    assert np.allclose(batch[1, notched], 20 * np.log10(0.2) - 80 + 120)
    assert np.all(np.isneginf(snr_db(f, h, noise, np.zeros(f.size))))


def test_snr_rejects_bad_shapes_and_values() -> None:
    f = np.linspace(1e6, 2e6, 5)
    with pytest.raises(ChannelModelError):
        snr_linear(f, np.ones(4), np.ones(5), np.ones(5))
    with pytest.raises(ChannelModelError):
        snr_linear(f, np.ones(5), -np.ones(5), np.ones(5))
    with pytest.raises(ChannelModelError):
        snr_linear(f[::-1], np.ones(5), np.ones(5), np.ones(5))
    with pytest.raises(ChannelModelError):
        snr_linear(f, np.ones(5), np.ones((3, 5)), np.ones(5))


def test_shannon_capacity_of_flat_band() -> None:
    f = np.arange(1.0e6, 30.0e6, 0.37e6)
    snr = np.full(f.size, 15.0)
    band = (2.1e6, 27.95e6)  # edges off the grid
    assert shannon_capacity(f, snr, band) == pytest.approx((band[1] - band[0]) * np.log2(16.0), rel=1e-12)
    batch = shannon_capacity(f, np.stack([snr, np.full(f.size, 3.0)]), band)
    assert isinstance(batch, np.ndarray)
    assert np.allclose(batch, (band[1] - band[0]) * np.log2([16.0, 4.0]), rtol=1e-12)


def test_shannon_capacity_integrates_a_linear_spectral_efficiency_exactly() -> None:
    f = np.linspace(0.0, 10e6, 57)
    a, b = 1.0, 4e-7  # log2(1 + SNR) = a + b·f
    snr = 2 ** (a + b * f) - 1
    lo, hi = 1.234e6, 8.765e6
    expected = a * (hi - lo) + b * (hi**2 - lo**2) / 2
    assert shannon_capacity(f, snr, (lo, hi)) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ChannelModelError):
        shannon_capacity(f, snr, (5e6, 11e6))


# --- frame error rate: analytic ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODEMS))
def test_frame_error_rate_is_monotone_with_the_right_limits(name: str) -> None:
    modem = MODEMS[name]()
    snrs = np.arange(-10.0, 36.0, 1.5)
    pers = np.array([frame_error_rate(Link.flat(modem, s), 64) for s in snrs])
    assert np.all(np.diff(pers) <= 1e-15)
    assert pers[0] > 0.999
    assert pers[-1] < 1e-9
    lengths = [1, 2, 8, 33, 64, 200, 1500]
    link = Link.flat(modem, float(snrs[np.argmin(np.abs(pers - 0.3))]))
    by_length = [frame_error_rate(link, n) for n in lengths]
    assert np.all(np.diff(by_length) >= 0)
    assert frame_error_rate(link, 0) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(list(MODEMS)), st.floats(-5, 25), st.floats(0.1, 5), st.integers(1, 400))
def test_frame_error_rate_monotone_property(name: str, snr: float, step: float, n_bytes: int) -> None:
    modem = MODEMS[name]()
    lo, hi = Link.flat(modem, snr), Link.flat(modem, snr + step)
    assert frame_error_rate(hi, n_bytes) <= frame_error_rate(lo, n_bytes) + 1e-12
    assert frame_error_rate(lo, n_bytes) <= frame_error_rate(lo, n_bytes + 1) + 1e-12
    assert 0.0 <= frame_error_rate(lo, n_bytes) <= 1.0


def test_flat_channel_per_equals_the_closed_form() -> None:
    snr = 10 ** (7.0 / 10)
    n_bytes = 50
    # BPSK: every bit independent with BER Q(√(2γ)); QPSK: Q(√γ) per bit, I and Q independent
    bpsk = frame_error_rate(Link.flat(homeplug_modem("bpsk"), 7.0), n_bytes)
    assert bpsk == pytest.approx(1 - (1 - stats.norm.sf(np.sqrt(2 * snr))) ** (8 * n_bytes), rel=1e-9)
    qpsk_link = Link.flat(homeplug_modem("qpsk"), 7.0)
    expected = 1 - (1 - stats.norm.sf(np.sqrt(snr))) ** (8 * n_bytes)
    assert frame_error_rate(qpsk_link, n_bytes) == pytest.approx(expected, rel=1e-9)
    assert frame_error_rate(qpsk_link, n_bytes, model="mean-ber") == pytest.approx(expected, rel=1e-9)
    dbpsk = Link.flat(g3_modem("dbpsk"), 7.0)
    expected_ber = 0.5 * np.exp(-snr)
    mean_ber = frame_error_rate(dbpsk, n_bytes, model="mean-ber")
    assert mean_ber == pytest.approx(1 - (1 - expected_ber) ** (8 * n_bytes), rel=1e-9)


def test_two_path_notch_raises_the_per() -> None:
    for modem, tau in [(homeplug_modem("qpsk"), 0.7e-6), (g3_modem("dbpsk"), 40e-6), (prime_modem("dqpsk"), 60e-6)]:
        selective, flat = selective_link(modem, 12.0, tau, 0.7)
        assert frame_error_rate(selective, 100) > frame_error_rate(flat, 100)
        assert frame_error_rate(selective, 100, model="mean-ber") > frame_error_rate(flat, 100, model="mean-ber")


def test_link_rejects_bad_arguments() -> None:
    modem = g3_modem("dbpsk")
    f = np.linspace(30e3, 100e3, 10)
    ones = np.ones(10)
    with pytest.raises(ChannelModelError):
        Link(modem, f, ones[:-1], ones, ones)
    with pytest.raises(ChannelModelError):
        Link(modem, f, ones, np.zeros(10), ones)
    with pytest.raises(ChannelModelError):
        Link(modem, np.linspace(50e3, 100e3, 10), ones, ones, ones)  # misses the lowest carriers
    link = Link(modem, f, ones, ones, ones)
    with pytest.raises(ChannelModelError):
        frame_error_rate(link, -1)
    with pytest.raises(ChannelModelError):
        frame_error_rate(link, 10, model="coded")  # type: ignore[arg-type]
    with pytest.raises(ChannelModelError):
        ImpulsiveNoise(1.5, 1e-9)
    with pytest.raises(ChannelModelError):
        binomial_interval(5, 3)


# --- frame error rate: simulation against analysis --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "snr", "n_bytes"),
    [("homeplug-qpsk", 9.0, 40), ("homeplug-16qam", 16.0, 40), ("g3-dbpsk", 8.0, 40), ("prime-dqpsk", 12.0, 40)],
)
def test_frame_error_rate_agrees_with_simulation_flat(name: str, snr: float, n_bytes: int, rng) -> None:  # type: ignore[no-untyped-def]
    link = Link.flat(MODEMS[name](), snr)
    analytic = frame_error_rate(link, n_bytes)
    assert 0.05 < analytic < 0.95  # a moderate SNR: the check has power
    sim = simulate_frame_errors(link, n_bytes, 600, rng, confidence=CONFIDENCE)
    assert sim.contains(analytic)


@pytest.mark.parametrize(
    ("name", "snr", "tau"), [("homeplug-qpsk", 13.0, 0.7e-6), ("g3-dqpsk", 15.0, 40e-6), ("prime-dbpsk", 11.0, 60e-6)]
)
def test_frame_error_rate_agrees_with_simulation_two_path(name: str, snr: float, tau: float, rng) -> None:  # type: ignore[no-untyped-def]
    link, _ = selective_link(MODEMS[name](), snr, tau, 0.5)
    analytic = frame_error_rate(link, 24)
    assert 0.05 < analytic < 0.95
    assert simulate_frame_errors(link, 24, 600, rng, confidence=CONFIDENCE).contains(analytic)


def test_coloured_noise_link_agrees_with_simulation(rng: np.random.Generator) -> None:
    modem = g3_modem("dqpsk")
    f = np.linspace(0.0, 200e3, 2001)
    noise = 1e-8 / 10 ** (13.0 / 10) * 10 ** (-0.3 * (f - 60e3) / 60e3)  # falls 3 dB per 60 kHz
    link = Link(modem, f, np.ones(f.size), noise, np.full(f.size, 1e-8))
    assert np.ptp(10 * np.log10(link.carrier_snr)) > 2.5
    analytic = frame_error_rate(link, 30)
    assert 0.05 < analytic < 0.95
    assert simulate_frame_errors(link, 30, 800, rng, confidence=CONFIDENCE).contains(analytic)


def test_dense_impulsive_noise_agrees_with_simulation(rng: np.random.Generator) -> None:
    # ~13 impulse samples per 256-sample window: bin noise close to Gaussian given the count (Ghosh 1996)
    modem = g3_modem("dbpsk")
    background = 1e-8 / 10 ** (12.0 / 10)
    link = Link.flat(modem, 12.0, impulsive=ImpulsiveNoise(0.05, 20 * background))
    analytic = frame_error_rate(link, 30)
    assert analytic > 100 * frame_error_rate(Link.flat(modem, 12.0), 30)
    assert 0.01 < analytic < 0.95
    assert simulate_frame_errors(link, 30, 1000, rng, confidence=CONFIDENCE).contains(analytic)


def test_impulse_samples_have_the_stated_statistics(rng: np.random.Generator) -> None:
    imp = ImpulsiveNoise(0.1, 2e-9)
    x = imp.samples((400_000,), 1e6, rng)
    hits = np.count_nonzero(x)
    ci = stats.binomtest(hits, x.size).proportion_ci(CONFIDENCE)
    assert ci.low <= 0.1 <= ci.high
    variance = np.var(x[x != 0])  # σ² = PSD·fs/2 = 1e-3
    assert variance == pytest.approx(1e-3, rel=0.03)
    m, pmf = imp.hits_distribution(256)
    assert pmf.sum() == pytest.approx(1.0)
    assert np.sum(m * pmf) == pytest.approx(25.6, rel=1e-6)
