"""Noise models: published formulas at hand-computed points, class-A / Bernoulli–Gaussian moments against
theory, the reference paper's impulses, mains-synchronous trains, narrowband lines, Welch and RBW."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal  # type: ignore[import-untyped]

from openami.channel.errors import ChannelModelError
from openami.channel.noise import (
    ESMAILIAN_BEST,
    ESMAILIAN_WORST,
    BernoulliGaussianParameters,
    NarrowbandInterferers,
    analyzer_dbm_to_psd_dbm_per_hz,
    bernoulli_gaussian_noise,
    burst_impulse,
    class_a_noise,
    class_a_pdf,
    class_a_two_term,
    colored_gaussian_noise,
    damped_impulse,
    dbm_to_w,
    esmailian_psd,
    esmailian_psd_dbm_per_hz,
    hooijen_k,
    hooijen_psd,
    impulse_duration,
    mains_synchronous_impulses,
    narrowband_noise,
    narrowband_psd,
    psd_dbm_per_hz_to_analyzer_dbm,
    random_narrowband_interferers,
    rfft_frequencies,
    w_to_dbm,
    welch_psd,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20020707)


# --- Vines / Hooijen ------------------------------------------------------------------------------------


def test_hooijen_at_hand_computed_points() -> None:
    # mean K = −8.64 at 50 kHz: −8.64 − 3.95e−5·50 000 = −8.64 − 1.975 = −10.615; 10^−10.615 = 2.4266e−11 W/Hz
    assert hooijen_psd(50e3) == pytest.approx(2.4266e-11, rel=1e-4)
    # best K = −8.64 − 2·0.5 = −9.64 at 100 kHz: −9.64 − 3.95 = −13.59; 10^−13.59 = 2.5704e−14 W/Hz
    assert hooijen_psd(100e3, hooijen_k("best")) == pytest.approx(2.5704e-14, rel=1e-4)
    # worst K = −8.64 + 1 = −7.64 at 10 kHz: −7.64 − 0.395 = −8.035; 10^−8.035 = 9.2257e−9 W/Hz = −50.35 dBm/Hz
    assert hooijen_psd(10e3, hooijen_k("worst")) == pytest.approx(9.2257e-9, rel=1e-4)
    assert w_to_dbm(hooijen_psd(10e3, -7.64)) == pytest.approx(-50.35, abs=1e-2)
    # both ends of the accepted range: 5 kHz (−8.8375 → 1.4537e−9), 150 kHz (−14.565 → 2.7227e−15)
    assert hooijen_psd([5e3, 150e3]) == pytest.approx([1.4537e-9, 2.7227e-15], rel=1e-4)


def test_hooijen_cases() -> None:
    assert hooijen_k("best") == pytest.approx(-9.64)
    assert hooijen_k("mean") == pytest.approx(-8.64)
    assert hooijen_k("worst") == pytest.approx(-7.64)
    with pytest.raises(ChannelModelError):
        hooijen_k("random")  # no rng
    with pytest.raises(ChannelModelError):
        hooijen_k("typical")  # type: ignore[arg-type]


def test_hooijen_random_k_is_gaussian(rng: np.random.Generator) -> None:
    n = 40_000
    k = np.asarray(hooijen_k("random", rng, size=n))
    assert k.shape == (n,)
    # the sample mean has standard error 0.5/√n = 0.0025; allow 5 standard errors
    assert abs(k.mean() + 8.64) < 5 * 0.5 / math.sqrt(n)
    assert k.std() == pytest.approx(0.5, rel=0.02)
    single = hooijen_k("random", rng)
    assert isinstance(single, float)


def test_hooijen_batch_of_levels_puts_batch_first() -> None:
    f = np.array([10e3, 20e3, 40e3])
    psd = hooijen_psd(f, np.array([-9.0, -8.0]))
    assert psd.shape == (2, 3)
    # one decade apart in K means a factor 10 at every frequency
    assert psd[1] / psd[0] == pytest.approx(np.full(3, 10.0))


@pytest.mark.parametrize("f", [4.9e3, 150.1e3, 1e6, 20e6, 0.0, -10e3, math.nan, math.inf])
def test_hooijen_refuses_outside_its_range(f: float) -> None:
    with pytest.raises(ChannelModelError, match="Hooijen"):
        hooijen_psd(f)


def test_hooijen_refuses_array_with_one_bad_frequency() -> None:
    with pytest.raises(ChannelModelError, match="1 of 3"):
        hooijen_psd([10e3, 50e3, 200e3])


@settings(max_examples=100)
@given(st.one_of(st.floats(max_value=4999.0), st.floats(min_value=150_001.0)))
def test_hooijen_refuses_any_frequency_outside(f: float) -> None:
    with pytest.raises(ChannelModelError):
        hooijen_psd(f)


def test_paper_printed_exponent_is_unusable() -> None:
    # Kim et al. print 10^(K − 3.95·10⁵·f): at 20 MHz the exponent is −8.64 − 7.9e12, far beyond float64,
    # so the printed model says the noise is exactly 0 W/Hz; openami refuses to extrapolate instead.
    assert 10.0 ** (-8.64 - 3.95e5 * 20e6) == 0.0
    assert 10.0 ** (-8.64 - 3.95e5 * 1e-3) == 0.0  # already at 1 mHz
    with pytest.raises(ChannelModelError):
        hooijen_psd(20e6)


# --- Esmailian -----------------------------------------------------------------------------------------


def test_esmailian_at_hand_computed_points() -> None:
    # at 1 MHz f^c = 1: worst −145 + 53.23 = −91.77, best −140 + 38.75 = −101.25 dBm/Hz
    assert esmailian_psd_dbm_per_hz(1e6, "worst") == pytest.approx(-91.77)
    assert esmailian_psd_dbm_per_hz(1e6, "best") == pytest.approx(-101.25)
    # at 10 MHz: 10^−0.337 = 0.460257 → 53.23·0.460257 = 24.4995 → −120.5005
    #            10^−0.720 = 0.190546 → 38.75·0.190546 = 7.38366 → −132.6163
    assert esmailian_psd_dbm_per_hz(10e6, "worst") == pytest.approx(-120.5005, abs=1e-3)
    assert esmailian_psd_dbm_per_hz(10e6, "best") == pytest.approx(-132.6163, abs=1e-3)
    # at 20 MHz: 20^−0.337 = e^(−0.337·2.995732) = 0.364381 → 19.3960 → −125.604
    assert esmailian_psd_dbm_per_hz(20e6, "worst") == pytest.approx(-125.604, abs=1e-3)
    # −91.77 dBm/Hz = 10^(−12.177) W/Hz = 6.6527e−13 W/Hz
    assert esmailian_psd(1e6, "worst") == pytest.approx(6.6527e-13, rel=1e-4)


def test_esmailian_explicit_parameters_match_named_cases() -> None:
    f = np.linspace(1e6, 30e6, 50)
    assert np.allclose(esmailian_psd_dbm_per_hz(f, ESMAILIAN_WORST), esmailian_psd_dbm_per_hz(f, "worst"))
    assert np.allclose(esmailian_psd_dbm_per_hz(f, ESMAILIAN_BEST), esmailian_psd_dbm_per_hz(f, "best"))


def test_esmailian_random_lies_between_best_and_worst(rng: np.random.Generator) -> None:
    f = np.linspace(1e6, 30e6, 200)
    best = esmailian_psd_dbm_per_hz(f, "best")
    worst = esmailian_psd_dbm_per_hz(f, "worst")
    assert np.all(worst > best)
    for _ in range(50):
        r = esmailian_psd_dbm_per_hz(f, "random", rng=rng)
        assert np.all(r >= best - 1e-12) and np.all(r <= worst + 1e-12)
    # mix = 0.25 at 10 MHz: 0.75·(−132.6163) + 0.25·(−120.5005) = −129.5874
    assert esmailian_psd_dbm_per_hz(10e6, "random", mix=0.25) == pytest.approx(-129.5874, abs=1e-3)
    with pytest.raises(ChannelModelError):
        esmailian_psd_dbm_per_hz(10e6, "random")
    with pytest.raises(ChannelModelError):
        esmailian_psd_dbm_per_hz(10e6, "random", mix=1.5)


@pytest.mark.parametrize("f", [0.0, 0.5e6, 0.999e6, 30.01e6, 100e6, math.nan])
def test_esmailian_refuses_outside_1_to_30_mhz(f: float) -> None:
    with pytest.raises(ChannelModelError, match="Esmailian"):
        esmailian_psd_dbm_per_hz(f)


# --- units and RBW -------------------------------------------------------------------------------------


def test_rbw_conversion_of_the_papers_reading() -> None:
    # −75 dBm in 100 kHz: −75 − 10·log10(1e5) = −75 − 50 = −125 dBm/Hz; in 10 kHz: −75 − 40 = −115 dBm/Hz
    assert analyzer_dbm_to_psd_dbm_per_hz(-75.0, 100e3) == pytest.approx(-125.0)
    assert analyzer_dbm_to_psd_dbm_per_hz(-75.0, 10e3) == pytest.approx(-115.0)
    # a Gaussian RBW filter of 10 kHz has ENBW ≈ 1.065·10 kHz: −75 − 10·log10(10 650) = −115.2735
    assert analyzer_dbm_to_psd_dbm_per_hz(-75.0, 10e3, enbw_factor=1.065) == pytest.approx(-115.2735, abs=1e-4)
    with pytest.raises(ChannelModelError):
        analyzer_dbm_to_psd_dbm_per_hz(-75.0, 0.0)


def test_docstring_examples_hold() -> None:
    # the −75 dBm-at-20-MHz conversions quoted in the module and function docstrings
    from openami.channel import noise_psd

    result = doctest.testmod(noise_psd)
    assert result.attempted >= 2 and result.failed == 0


@settings(max_examples=200)
@given(
    st.floats(min_value=-200, max_value=50),
    st.floats(min_value=1.0, max_value=1e8),
    st.floats(min_value=0.5, max_value=2.0),
)
def test_rbw_round_trip(level: float, rbw: float, enbw: float) -> None:
    psd = analyzer_dbm_to_psd_dbm_per_hz(level, rbw, enbw_factor=enbw)
    assert psd_dbm_per_hz_to_analyzer_dbm(psd, rbw, enbw_factor=enbw) == pytest.approx(level, abs=1e-9)


@settings(max_examples=200)
@given(st.floats(min_value=-250, max_value=100))
def test_dbm_watt_round_trip(p_dbm: float) -> None:
    assert w_to_dbm(dbm_to_w(p_dbm)) == pytest.approx(p_dbm, abs=1e-9)


def test_dbm_watt_points() -> None:
    assert dbm_to_w(0.0) == pytest.approx(1e-3)
    assert dbm_to_w(30.0) == pytest.approx(1.0)
    assert w_to_dbm(0.0) == -np.inf
    with pytest.raises(ChannelModelError):
        w_to_dbm(-1.0)


# --- Middleton class A ---------------------------------------------------------------------------------


def _class_a_state_moment(a: float, gamma: float, sigma2: float, k: int) -> float:
    """E[σ_m^(2k)] by summing the Poisson series directly (independent of the code under test)."""
    total = 0.0
    for m in range(200):
        w = math.exp(-a + m * math.log(a) - math.lgamma(m + 1))
        total += w * (sigma2 * (m / a + gamma) / (1 + gamma)) ** k
    return total


@pytest.mark.parametrize(
    ("a", "gamma", "sigma2"),
    [(1.0, 0.1, 1.0), (0.1, 0.01, 2.0), (0.1, 0.1, 0.5), (0.01, 0.001, 1.0), (0.3, 1.0, 3.0)],
)
def test_class_a_moments_match_theory(rng: np.random.Generator, a: float, gamma: float, sigma2: float) -> None:
    n = 2_000_000
    z, m = class_a_noise(n, a, gamma, sigma2, rng, return_states=True)
    assert z.shape == (n,) and z.dtype == np.float64 and m.dtype == np.int64
    # Gaussian mixture: E[z^2k] = (2k − 1)!!·E[σ_m^2k]
    e2 = _class_a_state_moment(a, gamma, sigma2, 1)
    e4 = 3 * _class_a_state_moment(a, gamma, sigma2, 2)
    e8 = 105 * _class_a_state_moment(a, gamma, sigma2, 4)
    assert e2 == pytest.approx(sigma2)
    # closed form of the kurtosis: 3·(1 + 1/(A·(1 + Γ)²))
    assert e4 / e2**2 == pytest.approx(3 * (1 + 1 / (a * (1 + gamma) ** 2)))
    # standard errors of the sample moments: √(Var[z²]/n) = √((E z⁴ − σ⁴)/n), √((E z⁸ − (E z⁴)²)/n)
    se2 = math.sqrt((e4 - e2**2) / n)
    se4 = math.sqrt((e8 - e4**2) / n)
    m2 = float(np.mean(z**2))
    m4 = float(np.mean(z**4))
    assert abs(m2 - e2) < 5 * se2
    assert abs(m4 - e4) < 5 * se4
    kurt = m4 / m2**2
    assert kurt == pytest.approx(e4 / e2**2, rel=5 * se4 / e4 + 10 * se2 / e2)
    assert abs(float(np.mean(z))) < 5 * math.sqrt(e2 / n)
    # states: Poisson(A); P(m = 0) = e^(−A) within 5 binomial standard errors
    p0 = math.exp(-a)
    assert abs(float(np.mean(m == 0)) - p0) < 5 * math.sqrt(p0 * (1 - p0) / n)
    assert abs(float(m.mean()) - a) < 5 * math.sqrt(a / n)


def test_class_a_pdf_is_a_density_with_variance_sigma2() -> None:
    a, gamma, sigma2 = 0.1, 0.01, 1.0
    z = np.linspace(-60, 60, 600_001)
    p = class_a_pdf(z, a, gamma, sigma2)
    dz = z[1] - z[0]
    assert float(np.sum(p) * dz) == pytest.approx(1.0, abs=1e-6)
    assert float(np.sum(z**2 * p) * dz) == pytest.approx(sigma2, rel=1e-5)
    # p(0) by hand: Σ_m e^−A A^m/m! / √(2π σ_m²); the m = 0 term dominates: σ_0² = 0.01/1.01
    p0 = sum(
        math.exp(-a) * a**m / math.factorial(m) / math.sqrt(2 * math.pi * (m / a + gamma) / (1 + gamma))
        for m in range(30)
    )
    assert class_a_pdf(0.0, a, gamma, sigma2) == pytest.approx(p0, rel=1e-10)


def test_class_a_histogram_matches_pdf(rng: np.random.Generator) -> None:
    a, gamma, sigma2 = 0.5, 0.05, 1.0
    n = 500_000
    z = class_a_noise(n, a, gamma, sigma2, rng)
    assert isinstance(z, np.ndarray)
    edges = np.array([-3.0, -1.0, -0.3, -0.1, 0.0, 0.1, 0.3, 1.0, 3.0])
    counts, _ = np.histogram(z, bins=edges)
    fine = np.linspace(-3, 3, 120_001)
    pdf = class_a_pdf(fine, a, gamma, sigma2)
    for i in range(len(edges) - 1):
        sel = (fine >= edges[i]) & (fine <= edges[i + 1])
        prob = float(np.trapezoid(pdf[sel], fine[sel]))
        assert abs(counts[i] / n - prob) < 5 * math.sqrt(prob * (1 - prob) / n) + 1e-5


@pytest.mark.parametrize(("a", "gamma", "sigma2"), [(0.0, 0.1, 1.0), (1.0, -0.1, 1.0), (1.0, 0.1, 0.0)])
def test_class_a_refuses_bad_parameters(rng: np.random.Generator, a: float, gamma: float, sigma2: float) -> None:
    with pytest.raises(ChannelModelError):
        class_a_noise(10, a, gamma, sigma2, rng)


def test_class_a_is_reproducible_with_a_seed() -> None:
    z1 = class_a_noise(1000, 0.1, 0.01, 1.0, np.random.default_rng(7))
    z2 = class_a_noise(1000, 0.1, 0.01, 1.0, np.random.default_rng(7))
    assert isinstance(z1, np.ndarray) and isinstance(z2, np.ndarray)
    assert np.array_equal(z1, z2)


# --- Bernoulli–Gaussian ----------------------------------------------------------------------------------


def test_bernoulli_gaussian_moments(rng: np.random.Generator) -> None:
    p, sg2, si2 = 0.1, 1.0, 100.0
    n = 2_000_000
    z, b = bernoulli_gaussian_noise(n, BernoulliGaussianParameters(p, sg2, si2), rng, return_states=True)
    # variance 1 + 0.1·100 = 11; E z⁴ = 3·(0.9·1 + 0.1·101²) = 3·1021 = 3063; E z⁸ = 105·(0.9 + 0.1·101⁴)
    e2, e4, e8 = 11.0, 3063.0, 105 * (0.9 + 0.1 * 101.0**4)
    assert abs(float(np.mean(z**2)) - e2) < 5 * math.sqrt((e4 - e2**2) / n)
    assert abs(float(np.mean(z**4)) - e4) < 5 * math.sqrt((e8 - e4**2) / n)
    assert abs(float(b.mean()) - p) < 5 * math.sqrt(p * (1 - p) / n)
    # the background alone (b = 0) has variance σ_g²
    assert float(np.var(z[~b])) == pytest.approx(sg2, rel=0.01)


def test_class_a_two_term_truncation() -> None:
    # A = 0.1, Γ = 0.01, σ² = 1: p = 0.1/1.1, σ_g² = 0.01/1.01, σ_i² = 1/(0.1·1.01)
    bg = class_a_two_term(0.1, 0.01, 1.0)
    assert bg.p == pytest.approx(0.0909091, rel=1e-6)
    assert bg.sigma2_background == pytest.approx(0.00990099, rel=1e-6)
    assert bg.sigma2_impulse == pytest.approx(9.90099, rel=1e-6)
    # variance of the truncation: (1 + Γ(1 + A))/((1 + Γ)(1 + A)) = 1.011/1.111 = 0.909991
    assert bg.sigma2_background + bg.p * bg.sigma2_impulse == pytest.approx(0.909991, rel=1e-6)


def test_bernoulli_gaussian_two_term_is_close_to_class_a_for_small_a(rng: np.random.Generator) -> None:
    # for A = 0.01 the dropped terms m ≥ 2 carry ~A/2 of the power: moments agree within a few per cent
    a, gamma = 0.01, 0.01
    z = bernoulli_gaussian_noise(1_000_000, class_a_two_term(a, gamma, 1.0), rng)
    assert isinstance(z, np.ndarray)
    assert float(np.mean(z**2)) == pytest.approx(1.0, rel=0.05)


def test_bernoulli_gaussian_refuses_bad_probability(rng: np.random.Generator) -> None:
    with pytest.raises(ChannelModelError):
        bernoulli_gaussian_noise(10, BernoulliGaussianParameters(1.5, 1.0, 1.0), rng)
    with pytest.raises(ChannelModelError):
        bernoulli_gaussian_noise(-1, BernoulliGaussianParameters(0.5, 1.0, 1.0), rng)


# --- impulses -------------------------------------------------------------------------------------------


def test_damped_impulse_shape() -> None:
    f0, ap = 1e6, 2.0
    assert impulse_duration(f0) == pytest.approx(4e-6)
    # zero before 0 and from T_p = 4 µs on
    assert np.all(damped_impulse(np.array([-1e-9, -1e-6, 4e-6, 4.5e-6, 1e-3]), ap, f0) == 0.0)
    # sin peaks at t = (j + 1/4)/f0: value A_p·e^(−(j + 1/4)/4); j = 0 → 2·e^(−1/16) = 1.87882
    assert damped_impulse(0.25e-6, ap, f0) == pytest.approx(1.87882, rel=1e-5)
    # j = 3 → 2·e^(−3.25/4) = 2·e^(−0.8125) = 2·0.443747 = 0.887495
    assert damped_impulse(3.25e-6, ap, f0) == pytest.approx(0.887495, rel=1e-5)
    # successive peaks decay by e^(−1/4)
    peaks = damped_impulse(np.array([0.25, 1.25, 2.25, 3.25]) * 1e-6, ap, f0)
    assert peaks[1:] / peaks[:-1] == pytest.approx(np.full(3, math.exp(-0.25)))
    t = np.linspace(-1e-6, 6e-6, 70_001)
    x = damped_impulse(t, ap, f0)
    assert x.shape == t.shape
    assert np.all(np.abs(x) <= ap * np.exp(-f0 * np.clip(t, 0, None) / 4) + 1e-12)
    assert float(np.max(x)) == pytest.approx(1.88, abs=0.01)


def test_burst_impulse_shape() -> None:
    f0, ap = 2e6, 0.5
    tp = 2e-6
    assert burst_impulse(np.array([-1e-9, tp, 2 * tp]), ap, f0) == pytest.approx([0.0, 0.0, 0.0])
    assert burst_impulse(0.125e-6, ap, f0) == pytest.approx(0.5)  # a quarter period: sin = 1
    assert burst_impulse(0.375e-6, ap, f0) == pytest.approx(-0.5)
    fs = 1e9
    t = np.arange(-100, 3000) / fs
    x = burst_impulse(t, ap, f0)
    assert float(np.max(np.abs(x))) == pytest.approx(ap, rel=1e-4)
    # energy over four whole periods: A_p²·T_p/2 = 0.25·2e−6/2 = 2.5e−7
    assert float(np.sum(x**2) / fs) == pytest.approx(2.5e-7, rel=1e-3)
    with pytest.raises(ChannelModelError):
        burst_impulse(t, ap, 0.0)


@pytest.mark.parametrize("k", [1, 2])
def test_mains_synchronous_period(k: int) -> None:
    fs, f_net, f0 = 12e6, 60.0, 1e6
    period_samples = round(fs / (k * f_net))  # 200 000 (K = 1) or 100 000 (K = 2): exact
    n = 5 * period_samples + 1234
    x = mains_synchronous_impulses(n, fs, 1.0, f0, k=k, f_net_hz=f_net)
    assert x.shape == (n,)
    assert np.allclose(x[period_samples:], x[:-period_samples], atol=1e-9)
    # each period holds one impulse: 4 µs = 48 samples, the rest is zero
    one = x[:period_samples]
    nz = np.flatnonzero(np.abs(one) > 1e-12)
    assert nz.min() >= 0 and nz.max() < 48
    expected = damped_impulse(np.arange(48) / fs, 1.0, f0)
    assert np.allclose(one[:48], expected, atol=1e-9)
    # impulse starts (first active sample after a gap of more than 1000 samples): every period_samples
    active = np.flatnonzero(np.abs(x) > 1e-6)
    starts = active[np.concatenate(([True], np.diff(active) > 1000))]
    assert starts.size == 6
    assert np.array_equal(np.diff(starts), np.full(5, period_samples))
    assert starts[0] == 1  # sin(0) = 0 at t = 0, the first non-zero sample is the next one


def test_mains_synchronous_offset_and_burst_shape() -> None:
    fs, f0 = 10e6, 0.5e6
    period = 1 / 120.0
    t0 = 1e-3
    n = int(0.03 * fs)
    x = mains_synchronous_impulses(n, fs, 3.0, f0, k=2, t0_s=t0, shape="burst")
    t = np.arange(n) / fs
    assert np.all(x[t < t0] == 0.0)
    active = np.abs(x) > 1e-9
    # active samples lie within T_p = 8 µs after t0 + j/120
    local = np.mod(t[active] - t0, period)
    assert np.all(local < 8e-6 + 1 / fs)
    assert float(np.max(x)) == pytest.approx(3.0, rel=1e-3)
    groups = np.unique(np.floor((t[active] - t0) / period))
    assert groups.tolist() == [0.0, 1.0, 2.0, 3.0]  # 30 ms − 1 ms holds 4 starts (1, 9.33, 17.67, 26 ms)


def test_mains_synchronous_refusals() -> None:
    with pytest.raises(ChannelModelError):
        mains_synchronous_impulses(100, 1e6, 1.0, 1e5, k=3)
    with pytest.raises(ChannelModelError):
        mains_synchronous_impulses(100, 1e6, 1.0, 100.0, k=2)  # T_p = 40 ms > 8.3 ms
    with pytest.raises(ChannelModelError):
        mains_synchronous_impulses(100, 1e6, 1.0, 1e5, shape="square")  # type: ignore[arg-type]
    with pytest.raises(ChannelModelError):
        mains_synchronous_impulses(100, -1.0, 1.0, 1e5)


# --- narrowband interferers -------------------------------------------------------------------------------


def test_random_interferers_fall_in_default_bands(rng: np.random.Generator) -> None:
    nb = random_narrowband_interferers(rng, count=4)
    assert nb.frequency_hz.shape == (8,)
    lo, hi = nb.frequency_hz[:4], nb.frequency_hz[4:]
    assert np.all((lo >= 0.5e6) & (lo <= 1e6)) and np.all((hi >= 3e6) & (hi <= 7e6))
    p_dbm = w_to_dbm(nb.power_w)
    assert np.all((p_dbm >= -70) & (p_dbm <= -40))
    assert np.all((nb.phase_rad >= 0) & (nb.phase_rad < 2 * np.pi))
    custom = random_narrowband_interferers(rng, bands_hz=((10e6, 11e6),), count=(2,), level_dbm=(-50, -50))
    assert np.all((custom.frequency_hz >= 10e6) & (custom.frequency_hz <= 11e6))
    assert w_to_dbm(custom.power_w) == pytest.approx([-50.0, -50.0])
    with pytest.raises(ChannelModelError):
        random_narrowband_interferers(rng, count=(1, 2, 3))


def test_narrowband_psd_peaks_lie_in_configured_bands(rng: np.random.Generator) -> None:
    nb = random_narrowband_interferers(rng, count=3)
    rbw = 10e3
    f = np.arange(0.0, 10e6, 1e3)
    psd = narrowband_psd(f, nb, rbw)
    peaks, _ = signal.find_peaks(psd, height=float(nb.power_w.min()) / rbw / 2)
    assert 1 <= peaks.size <= 6
    pf = f[peaks]
    assert np.all(((pf >= 0.5e6) & (pf <= 1e6)) | ((pf >= 3e6) & (pf <= 7e6)))
    # every carrier has a peak within one grid step unless another carrier lies within 2 RBW of it
    for fc in nb.frequency_hz:
        others = np.abs(nb.frequency_hz - fc)
        if np.count_nonzero(others < 2 * rbw) == 1:
            assert np.min(np.abs(pf - fc)) <= 1e3


def test_narrowband_psd_line_reads_back_as_carrier_power() -> None:
    nb = NarrowbandInterferers.from_dbm([800e3], [-50.0])
    rbw = 9e3
    f = np.arange(700e3, 900e3, 10.0)
    psd = narrowband_psd(f, nb, rbw)
    # the line integrates to the carrier power, 10^(−8) W
    assert float(np.trapezoid(psd, f)) == pytest.approx(1e-8, rel=1e-6)
    # its peak read by an analyser of that RBW is the carrier power
    assert psd_dbm_per_hz_to_analyzer_dbm(w_to_dbm(psd.max()), rbw) == pytest.approx(-50.0, abs=1e-6)


def test_narrowband_time_series_power_and_spectrum(rng: np.random.Generator) -> None:
    nb = random_narrowband_interferers(rng, count=2)
    fs = 20e6
    n = 2**18
    x = narrowband_noise(n, fs, nb)
    assert x.shape == (n,)
    # mean square = Σ P_c (cross terms average out over many cycles)
    assert float(np.mean(x**2)) == pytest.approx(float(nb.power_w.sum()), rel=0.02)
    f, p = welch_psd(x, fs, nperseg=4096)
    top = f[np.argsort(p)[-1]]
    assert (0.5e6 <= top <= 1e6) or (3e6 <= top <= 7e6)
    with pytest.raises(ChannelModelError):
        narrowband_noise(10, 1e6, nb)  # carriers above fs/2


# --- Welch and Gaussian noise with a PSD ------------------------------------------------------------------


def test_welch_of_white_noise_has_its_level(rng: np.random.Generator) -> None:
    sigma2, fs = 4.0, 1e6
    x = rng.normal(0.0, math.sqrt(sigma2), size=2**20)
    f, p = welch_psd(x, fs, nperseg=1024)
    assert f.shape == (513,) and p.shape == (513,)
    level = 2 * sigma2 / fs  # one-sided: 2σ²/fs = 8e−6 W/Hz
    interior = p[1:-1]
    assert float(interior.mean()) == pytest.approx(level, rel=0.01)
    assert np.all(np.abs(interior / level - 1) < 0.25)
    # integral of the PSD is the variance
    assert float(np.trapezoid(p, f)) == pytest.approx(sigma2, rel=0.01)


def test_welch_batch_axis_first(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 8192))
    f, p = welch_psd(x, 1e3, nperseg=256)
    assert f.shape == (129,) and p.shape == (3, 129)
    with pytest.raises(ChannelModelError):
        welch_psd(np.zeros((2, 2, 2)), 1e3)


def test_colored_noise_white_level(rng: np.random.Generator) -> None:
    n, fs, s = 2**16, 1e6, 3e-6
    x = colored_gaussian_noise(n, fs, np.full(n // 2 + 1, s), rng)
    # a flat one-sided PSD S over [0, fs/2] has power S·fs/2 = 1.5
    assert float(np.var(x)) == pytest.approx(1.5, rel=0.03)


def test_colored_noise_follows_esmailian_psd(rng: np.random.Generator) -> None:
    n, fs = 2**19, 80e6
    f = rfft_frequencies(n, fs)
    band = (f >= 1e6) & (f <= 30e6)
    target = np.zeros_like(f)
    target[band] = esmailian_psd(f[band], "worst")
    x = colored_gaussian_noise(n, fs, target, rng)
    fw, pw = welch_psd(x, fs, nperseg=2048)
    check = (fw >= 2e6) & (fw <= 28e6)
    want = esmailian_psd_dbm_per_hz(fw[check], "worst")
    got = w_to_dbm(pw[check])
    assert np.all(np.abs(got - want) < 1.0)
    # power ≈ ∫ S df over 1–30 MHz
    assert float(np.mean(x**2)) == pytest.approx(float(np.trapezoid(target, f)), rel=0.03)


def test_colored_noise_refuses_wrong_grid(rng: np.random.Generator) -> None:
    with pytest.raises(ChannelModelError):
        colored_gaussian_noise(100, 1e3, np.ones(50), rng)
    with pytest.raises(ChannelModelError):
        colored_gaussian_noise(100, 1e3, -np.ones(51), rng)
