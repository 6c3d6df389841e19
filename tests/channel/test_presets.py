"""Presets: the paper's Table 1 as printed and its defects, the fitted 50 m channel against the measured
attenuation bands, the Zimmermann–Dostert sets, and the seeded random-channel generator."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from openami.channel.errors import ChannelModelError
from openami.channel.multipath import C0_M_PER_S, PassivityWarning
from openami.channel.presets import (
    PAPER_ATTENUATION_BANDS,
    PRESETS,
    fit_paper_50m_a1,
    get_preset,
    paper_band_errors,
    random_channels,
)

DB_PER_NEPER = 20.0 / math.log(10.0)


def test_all_names_are_present() -> None:
    assert set(PRESETS) == {"paper-table1", "paper-table1-lengths", "paper-fit-50m", "zd4", "zd15"}
    for p in PRESETS.values():
        assert p.source
        assert len(p.g) == len(p.d_m)
    with pytest.raises(ChannelModelError, match="known"):
        get_preset("paper-table2")


def test_table1_as_printed() -> None:
    # Kim et al. (2002), Table 1.
    p = get_preset("paper-table1")
    assert p.g == (0.4, -0.4, -0.8, -1.5)
    assert p.d_m == (10.0, 20.0, 30.0, 50.0)
    np.testing.assert_array_equal(p.delays(), [1.0e-6, 1.25e-6, 1.76e-6, 2.64e-6])
    assert (p.k, p.a0, p.a1) == (0.5, 0.0, 8e-6)
    assert "+7.2 dB" in p.caveats
    # 10 m in 1 µs is 0.033 c: the printed delays do not follow from the lengths.
    assert p.d_m[0] / p.delays()[0] / C0_M_PER_S == pytest.approx(0.0334, abs=1e-3)


def test_table1_lengths_variant_takes_delays_from_lengths() -> None:
    p = get_preset("paper-table1-lengths")
    np.testing.assert_allclose(p.delays(), np.array(p.d_m) * 2.0 / C0_M_PER_S, rtol=1e-15)
    assert p.g == get_preset("paper-table1").g


def test_fitted_50m_channel_is_within_5_db_of_every_band() -> None:
    errors = paper_band_errors("paper-fit-50m")
    assert len(errors) == 4
    for e in errors:
        assert abs(e.error_db) <= 5.0, e
    # The fit is about 3.5 times the printed a1 (plc-channel-facts.md).
    assert fit_paper_50m_a1() / 8e-6 == pytest.approx(3.5, abs=0.1)


def test_fit_is_the_least_squares_minimum() -> None:
    # Independent evaluation of the objective: band means of the attenuation by numerical quadrature.
    def objective(a1: float) -> float:
        total = 0.0
        for b in PAPER_ATTENUATION_BANDS:
            f = np.linspace(b.f_lo_hz, b.f_hi_hz, 200_001)
            mean_db = float(np.mean(DB_PER_NEPER * a1 * np.sqrt(f) * 50.0))
            total += (mean_db - b.middle_db) ** 2
        return total

    a1 = fit_paper_50m_a1()
    best = objective(a1)
    assert best < objective(a1 * 1.01)
    assert best < objective(a1 * 0.99)


def test_table1_is_far_from_the_measured_bands() -> None:
    for name in ("paper-table1", "paper-table1-lengths"):
        for e in paper_band_errors(name):
            assert e.error_db < -10.0, (name, e)


def test_zimmermann_dostert_sets() -> None:
    zd4 = get_preset("zd4")
    assert zd4.confirmed
    assert zd4.h0_db() < 0.0  # 0.64 + 0.38 − 0.15 + 0.05 = 0.92
    assert zd4.h0_db() == pytest.approx(20.0 * math.log10(0.92), abs=1e-12)
    np.testing.assert_allclose(zd4.delays(), np.array(zd4.d_m) * 2.0 / C0_M_PER_S)
    zd15 = get_preset("zd15")
    assert not zd15.confirmed
    assert "UNCONFIRMED" in zd15.caveats
    assert zd15.n_paths == 15


def test_random_channels_are_seeded_and_passive() -> None:
    a = random_channels(np.random.default_rng(7), 50, "in-home", n_paths=15)
    b = random_channels(np.random.default_rng(7), 50, "in-home", n_paths=15)
    c = random_channels(np.random.default_rng(8), 50, "in-home", n_paths=15)
    np.testing.assert_array_equal(a.g, b.g)
    np.testing.assert_array_equal(a.d_m, b.d_m)
    assert not np.array_equal(a.g, c.g)
    assert a.g.shape == a.d_m.shape == a.tau_s.shape == (50, 15)
    assert np.all(np.sum(np.abs(a.g), axis=1) <= 1.0 + 1e-12)
    assert np.all(np.diff(a.d_m, axis=1) >= 0)
    assert np.all(a.g[:, 0] > 0)
    assert a.k == 1.0
    assert np.all((a.a1 >= 3e-10) & (a.a1 <= 3e-9))
    np.testing.assert_allclose(a.tau_s, a.d_m * 2.0 / C0_M_PER_S)
    mv = random_channels(np.random.default_rng(7), 20, "mv", n_paths=4)
    assert mv.k == 0.5 and mv.eps_r == 1.0
    assert np.all((mv.d_m[:, 0] >= 100.0) & (mv.d_m[:, 0] <= 1000.0))
    f = np.linspace(0.0, 30e6, 256)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PassivityWarning)
        h = mv.response(f)
    assert np.all(np.abs(h) <= 1.0 + 1e-12)


@pytest.mark.parametrize(
    ("args", "match"),
    [((10, "lv"), "class"), ((0, "mv"), "≥ 1")],
)
def test_random_channels_rejects_bad_arguments(args: tuple[int, str], match: str) -> None:
    with pytest.raises(ChannelModelError, match=match):
        random_channels(np.random.default_rng(0), *args)  # type: ignore[arg-type]
    with pytest.raises(ChannelModelError, match="Generator"):
        random_channels(0, 3)  # type: ignore[arg-type]
