"""OFDM modems: constellations, grids, masks, and simulated BER against the analytic AWGN curves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from openami.channel.errors import ChannelModelError
from openami.channel.link import ber_curve
from openami.channel.modulation import (
    ber_16qam_gray_approx,
    ber_awgn,
    carrier_bit_error,
    constellation,
    demap_symbols,
    dpsk_chain_error,
    dpsk_decision_error,
    map_symbols,
)
from openami.channel.ofdm import (
    AMATEUR_NOTCHES_HZ,
    OfdmModem,
    cenelec_a_mask,
    g3_grid,
    g3_modem,
    homeplug_conservative_mask,
    homeplug_grid,
    homeplug_mask,
    homeplug_modem,
    prime_grid,
    prime_modem,
    simulate_bursts,
)

# Amateur HF allocations of 47 CFR §97.301 (typed here independently of the module's table), MHz.
US_AMATEUR_BANDS_MHZ = [
    (1.8, 2.0),
    (3.5, 4.0),
    (7.0, 7.3),
    (10.1, 10.15),
    (14.0, 14.35),
    (18.068, 18.168),
    (21.0, 21.45),
    (24.89, 24.99),
    (28.0, 29.7),
]
CONFIDENCE = 0.99


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def q(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(stats.norm.sf(x))


# --- masks and grids -------------------------------------------------------------------------------------


def test_homeplug_mask_notches_where_the_table_says() -> None:
    mask = homeplug_mask()
    centres = np.array([(lo + hi) / 2 for lo, hi in US_AMATEUR_BANDS_MHZ] + [5.3665]) * 1e6
    assert np.all(mask.psd_dbm_hz(centres) == -80.0)  # -50 dBm/Hz, 30 dB notch
    between = np.array([2.5, 5.0, 6.0, 8.5, 12.0, 16.0, 20.0, 23.0, 26.5, 29.85]) * 1e6
    assert np.all(mask.psd_dbm_hz(between) == -50.0)
    assert np.allclose(mask.psd_w_hz(between), 1e-8)  # -50 dBm/Hz = 1e-8 W/Hz
    assert np.all(mask.psd_w_hz(np.array([1.0e6, 1.79e6, 30.01e6, 40e6])) == 0.0)
    for lo, hi in AMATEUR_NOTCHES_HZ:
        assert mask.psd_dbm_hz(np.array([lo, hi])).tolist() == [-80.0, -80.0]
    assert homeplug_conservative_mask().psd_dbm_hz(np.array([12e6]))[0] == -55.0


def test_cenelec_a_mask_level_from_en50065_total_power() -> None:
    mask = cenelec_a_mask()
    # 5 V rms into 50 ohm = 0.5 W over 92 kHz
    expected_dbm_hz = 10 * np.log10(0.5 / 92e3 * 1e3)
    assert mask.psd_dbm_hz(np.array([50e3]))[0] == pytest.approx(expected_dbm_hz)
    assert mask.psd_w_hz(np.array([2e3, 96e3])).tolist() == [0.0, 0.0]
    assert cenelec_a_mask(-40.0).psd_dbm_hz(np.array([3e3, 95e3])).tolist() == [-40.0, -40.0]


def test_homeplug_grid_carriers_avoid_notches() -> None:
    grid = homeplug_grid()
    assert grid.spacing_hz == 75e6 / 3072 == pytest.approx(24.414e3, abs=1.0)
    f = grid.carrier_frequencies_hz
    assert f.min() >= 1.8e6 and f.max() <= 30e6
    for lo, hi in US_AMATEUR_BANDS_MHZ:
        assert not np.any((f >= lo * 1e6) & (f <= hi * 1e6))
    all_bins = np.arange(1, 1536) * grid.spacing_hz
    wanted = (all_bins >= 1.8e6) & (all_bins <= 30e6)
    for lo, hi in [*US_AMATEUR_BANDS_MHZ, (5.33, 5.407)]:
        wanted &= ~((all_bins >= lo * 1e6) & (all_bins <= hi * 1e6))
    assert grid.carriers.size == int(wanted.sum())
    assert grid.cp_samples / grid.sample_rate_hz == pytest.approx(5.56e-6, abs=0.01e-6)


def test_narrowband_grids_match_g3_and_prime() -> None:
    g3 = g3_grid()
    assert g3.spacing_hz == 1562.5 and g3.carriers.size == 36
    assert g3.carrier_frequencies_hz[[0, -1]].tolist() == [35937.5, 90625.0]
    prime = prime_grid()
    assert prime.carriers.size == 97 and prime.spacing_hz == pytest.approx(488.28125)
    assert prime.carrier_frequencies_hz[0] == pytest.approx(41992.1875)
    assert prime_modem("dqpsk").bits_per_symbol == 96 * 2  # the pilot carries no data
    assert g3_modem("dqpsk").bits_per_symbol == 36 * 2
    assert g3_modem("dbpsk").differential == "time" and prime_modem("dbpsk").differential == "frequency"


def test_modem_rejects_inconsistent_settings() -> None:
    with pytest.raises(ChannelModelError):
        OfdmModem(g3_grid(), "dbpsk")
    with pytest.raises(ChannelModelError):
        OfdmModem(g3_grid(), "qpsk", "time")
    with pytest.raises(ChannelModelError):
        OfdmModem(g3_grid(), "8psk")  # type: ignore[arg-type]


# --- constellations --------------------------------------------------------------------------------------


@pytest.mark.parametrize("modulation", ["bpsk", "qpsk", "16qam"])
def test_constellations_are_gray_and_unit_energy(modulation: str) -> None:
    bits, points = constellation(modulation)
    assert np.mean(np.abs(points) ** 2) == pytest.approx(1.0)
    assert len(set(np.round(points, 12).tolist())) == points.size
    dist = np.abs(points[:, None] - points[None, :])
    dmin = np.min(dist[dist > 1e-12])
    for i, j in zip(*np.nonzero(np.isclose(dist, dmin)), strict=True):
        assert np.sum(bits[i] != bits[j]) == 1  # nearest neighbours differ in exactly one bit


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["bpsk", "qpsk", "16qam"]), st.data())
def test_map_demap_round_trip(modulation: str, data: st.DataObject) -> None:
    width = {"bpsk": 1, "qpsk": 2, "16qam": 4}[modulation]
    n = data.draw(st.integers(1, 40))
    bits = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n * width, max_size=n * width)), dtype=np.uint8)
    bits = bits.reshape(n, width)
    assert np.array_equal(demap_symbols(modulation, map_symbols(modulation, bits)), bits)


def test_map_rejects_bad_bits() -> None:
    with pytest.raises(ChannelModelError):
        map_symbols("qpsk", np.array([[0, 2]]))
    with pytest.raises(ChannelModelError):
        map_symbols("qpsk", np.array([[0, 1, 1]]))
    with pytest.raises(ChannelModelError):
        map_symbols("dbpsk", np.array([[0]]))


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from(
        [("g3", "dbpsk"), ("g3", "dqpsk"), ("prime", "dbpsk"), ("prime", "dqpsk"), ("g3", "16qam"), ("g3", "bpsk")]
    ),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(0, 2**32 - 1),
)
def test_noiseless_bursts_are_received_exactly(case: tuple[str, str], n_bursts: int, n_symbols: int, seed: int) -> None:
    grid, modulation = case
    modem = g3_modem(modulation) if grid == "g3" else prime_modem(modulation)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(n_bursts, n_symbols, modem.bits_per_symbol), dtype=np.uint8)
    gain = np.exp(-2j * np.pi * rng.random(modem.grid.carriers.size)) * (0.5 + rng.random(modem.grid.carriers.size))
    gain = gain if modem.differential != "frequency" else np.ones(modem.grid.carriers.size)
    rx = simulate_bursts(modem, bits, rng, noise_psd_w_hz=0.0, gain=gain)
    assert np.array_equal(rx, bits)


def test_simulate_bursts_rejects_bad_inputs(rng: np.random.Generator) -> None:
    modem = g3_modem("dbpsk")
    good = np.zeros((1, 2, modem.bits_per_symbol), dtype=np.uint8)
    with pytest.raises(ChannelModelError):
        simulate_bursts(modem, good[:, :, :-1], rng, noise_psd_w_hz=1.0)
    with pytest.raises(ChannelModelError):
        simulate_bursts(modem, good, rng, noise_psd_w_hz=-1.0)
    with pytest.raises(ChannelModelError):
        simulate_bursts(modem, good, rng, noise_psd_w_hz=np.ones(3))  # needs noise_f_hz
    with pytest.raises(ChannelModelError):
        simulate_bursts(modem, good, rng, noise_psd_w_hz=1.0, impulse_response=np.ones(257))
    with pytest.raises(ChannelModelError):
        simulate_bursts(modem, good, rng, noise_psd_w_hz=1.0, gain=np.ones(5))
    with pytest.raises(ChannelModelError):
        simulate_bursts(modem, good, rng, noise_psd_w_hz=1.0, impulsive_noise=np.zeros((1, 10)))


# --- analytic formulas -----------------------------------------------------------------------------------


def test_analytic_curves_match_closed_forms() -> None:
    ebn0 = 10 ** (np.arange(0, 12) / 10)
    assert np.allclose(ber_awgn("bpsk", ebn0), q(np.sqrt(2 * ebn0)), rtol=1e-12)
    assert np.allclose(ber_awgn("qpsk", ebn0), q(np.sqrt(2 * ebn0)), rtol=1e-12)
    assert np.allclose(ber_awgn("dbpsk", ebn0), 0.5 * np.exp(-ebn0), rtol=1e-9)
    # DQPSK (Proakis): Q1(a, b) - I0(ab) exp(-(a²+b²)/2) / 2 with a, b from 2·Eb/N0·(1 ∓ 1/√2)
    a2, b2 = 2 * ebn0 * (1 - 2**-0.5), 2 * ebn0 * (1 + 2**-0.5)
    marcum = stats.ncx2.sf(b2, 2, a2)
    dqpsk = marcum - 0.5 * special.iv(0, np.sqrt(a2 * b2)) * np.exp(-(a2 + b2) / 2)
    assert np.allclose(ber_awgn("dqpsk", ebn0), dqpsk, rtol=1e-9)
    # Gray 16-QAM: the exact Cho–Yoon sum is within 2 % of the ¾Q(√(0.8 Eb/N0)) approximation from 0 dB
    exact = ber_awgn("16qam", ebn0)
    assert np.all(np.abs(ber_16qam_gray_approx(ebn0) / exact - 1) < 0.02)


def test_dpsk_decision_error_matches_the_integral_form() -> None:
    # Q1(α,β) − ½I0(αβ)e^{−(α²+β²)/2} = (1/4π)∫(1−ζ²)e^{−β²(1+2ζ sinθ+ζ²)/2}/(1+2ζ sinθ+ζ²)dθ, ζ = α/β
    # (Simon & Alouini, Digital Communication over Fading Channels, the alternative form of the Marcum Q).
    for g1, g2, c in [(3.0, 3.0, 0.7071), (10.0, 2.0, 1.0), (0.5, 8.0, 0.3), (20.0, 15.0, 0.9)]:
        cross = 2 * np.sqrt(g1 * g2) * c
        alpha2, beta2 = (g1 + g2 - cross) / 2, (g1 + g2 + cross) / 2
        zeta = np.sqrt(alpha2 / beta2)

        def integrand(theta: float, zeta: float = zeta, beta2: float = beta2) -> float:
            s = 1 + 2 * zeta * np.sin(theta) + zeta**2
            return float((1 - zeta**2) * np.exp(-beta2 * s / 2) / s)

        value = integrate.quad(integrand, -np.pi, np.pi, limit=200)[0] / (4 * np.pi)
        assert dpsk_decision_error(g1, g2, c) == pytest.approx(value, rel=1e-6)
        assert dpsk_decision_error(g1, g2, -c) == pytest.approx(1 - value, rel=1e-6)


def test_dpsk_decision_error_against_monte_carlo(rng: np.random.Generator) -> None:
    n = 400_000
    for g1, g2, angle in [(4.0, 1.5, 0.3), (2.0, 6.0, 1.0)]:
        noise = (rng.standard_normal((2, n)) + 1j * rng.standard_normal((2, n))) / np.sqrt(2)
        y1 = np.sqrt(g1) * np.exp(1j * angle) + noise[0]
        y2 = np.sqrt(g2) + noise[1]
        errors = int(np.count_nonzero((y1 * np.conj(y2)).real < 0))
        ci = stats.binomtest(errors, n).proportion_ci(CONFIDENCE)
        assert ci.low <= dpsk_decision_error(g1, g2, np.cos(angle)) <= ci.high


def test_chain_of_one_decision_is_the_closed_form() -> None:
    snr = 10 ** (np.array([0.0, 3.0, 6.0, 10.0, 13.0]) / 10)
    one = dpsk_chain_error("dbpsk", snr[:, None], 1)[:, 0]
    assert np.allclose(one, 0.5 * np.exp(-snr), rtol=1e-3)  # phase-bin discretisation
    chain = dpsk_chain_error("dqpsk", snr[:, None], 6)
    assert np.all(np.diff(chain, axis=1) >= 0)
    # consecutive decisions share samples: the chain errs less often than independent decisions would
    independent = 1 - (1 - chain[:, :1]) ** 6
    assert np.all(chain[:2, -1] < independent[:2, 0])


# --- simulated BER in AWGN -------------------------------------------------------------------------------


@pytest.mark.parametrize("modulation", ["bpsk", "qpsk"])
def test_coherent_psk_ber_inside_confidence_interval(modulation: str, rng: np.random.Generator) -> None:
    curve = ber_curve(homeplug_modem(modulation), [0.0, 2.0, 4.0, 6.0, 8.0], 250_000, rng, confidence=CONFIDENCE)
    analytic = q(np.sqrt(2 * 10 ** (curve.ebn0_db / 10)))  # Q(√(2Eb/N0)), Proakis
    assert np.all(curve.n_errors > 40)
    assert np.all((curve.ci_low <= analytic) & (analytic <= curve.ci_high))
    assert np.allclose(curve.ber_analytic, analytic)


def test_16qam_ber_inside_confidence_interval(rng: np.random.Generator) -> None:
    curve = ber_curve(homeplug_modem("16qam"), [0.0, 4.0, 8.0, 10.0], 200_000, rng, confidence=CONFIDENCE)
    x = np.sqrt(0.8 * 10 ** (curve.ebn0_db / 10))
    exact = (3 * q(x) + 2 * q(3 * x) - q(5 * x)) / 4  # Cho & Yoon 2002
    assert np.all((curve.ci_low <= exact) & (exact <= curve.ci_high))
    # the common approximation ¾Q(x) is within 2 % of the simulated rate's interval (tolerance documented)
    approx = 0.75 * q(x)
    assert np.all((curve.ci_low * 0.98 <= approx) & (approx <= curve.ci_high * 1.02))


@pytest.mark.parametrize("make", [g3_modem, prime_modem], ids=["g3-time", "prime-frequency"])
@pytest.mark.parametrize("modulation", ["dbpsk", "dqpsk"])
def test_differential_ber_inside_confidence_interval(make, modulation: str, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    modem = make(modulation)
    curve = ber_curve(modem, [0.0, 3.0, 6.0, 8.0], 150_000, rng, confidence=CONFIDENCE)
    ebn0 = 10 ** (curve.ebn0_db / 10)
    if modulation == "dbpsk":
        analytic = 0.5 * np.exp(-ebn0)
    else:
        a2, b2 = 2 * ebn0 * (1 - 2**-0.5), 2 * ebn0 * (1 + 2**-0.5)
        analytic = stats.ncx2.sf(b2, 2, a2) - 0.5 * special.iv(0, np.sqrt(a2 * b2)) * np.exp(-(a2 + b2) / 2)
    assert np.all((curve.ci_low <= analytic) & (analytic <= curve.ci_high))


def test_frequency_differential_sees_the_channel_rotation(rng: np.random.Generator) -> None:
    modem = prime_modem("dqpsk")
    phi = np.deg2rad(25.0)  # a pure delay: the same rotation between every pair of neighbours
    gain = np.exp(1j * phi * np.arange(modem.grid.carriers.size))
    snr = 10 ** (9.0 / 10)
    bits = rng.integers(0, 2, size=(200, 8, modem.bits_per_symbol), dtype=np.uint8)
    rx = simulate_bursts(modem, bits, rng, noise_psd_w_hz=1 / snr, gain=gain)
    errors = int(np.count_nonzero(rx != bits))
    ci = stats.binomtest(errors, bits.size).proportion_ci(CONFIDENCE)
    assert ci.low <= carrier_bit_error("dqpsk", snr, snr, phi) <= ci.high
    assert carrier_bit_error("dqpsk", snr, snr, phi) > 3 * carrier_bit_error("dqpsk", snr)


def test_impulse_response_within_cp_is_isi_free_and_beyond_it_is_not(rng: np.random.Generator) -> None:
    modem = g3_modem("qpsk")  # CP = 30 samples
    bits = rng.integers(0, 2, size=(4, 10, modem.bits_per_symbol), dtype=np.uint8)
    short = np.zeros(31)
    short[[0, 12, 30]] = [1.0, -0.6, 0.3]
    assert np.array_equal(simulate_bursts(modem, bits, rng, noise_psd_w_hz=1e-12, impulse_response=short), bits)
    long = np.zeros(200)
    long[[0, 150]] = [1.0, 0.9]
    rx = simulate_bursts(modem, bits, rng, noise_psd_w_hz=1e-12, impulse_response=long)
    assert np.count_nonzero(rx != bits) > 0
