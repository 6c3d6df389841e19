"""Multipath model: analytic checks (|H(0)|, notches, single-path loss, delays), the fast blocked method
against the plain-Python loop reference, passivity warnings and argument checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.channel.errors import ChannelModelError
from openami.channel.multipath import (
    C0_M_PER_S,
    Method,
    PassivityWarning,
    is_uniform_grid,
    multipath_response,
    multipath_response_reference,
    passivity_gain,
    path_delays,
)
from openami.channel.presets import get_preset, random_channels

DB_PER_NEPER = 20.0 / math.log(10.0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20020707)


def _scale(g: np.ndarray, d: np.ndarray, a0: float | np.ndarray = 0.0) -> np.ndarray:
    """The documented error scale of the blocked method: Σ|g|·e^(−a0 d) per channel, as a column."""
    a0a = np.asarray(a0, dtype=np.float64)
    if a0a.ndim == 1:
        a0a = a0a[:, None]
    return np.asarray(np.sum(np.abs(g) * np.exp(-a0a * d), axis=1, keepdims=True), dtype=np.float64)


def test_h0_is_the_sum_of_gains_when_a0_is_zero(rng: np.random.Generator) -> None:
    g = rng.uniform(-1, 1, (6, 9))
    d = rng.uniform(5, 900, (6, 9))
    f = np.linspace(0.0, 30e6, 301)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PassivityWarning)
        methods: tuple[Method, ...] = ("direct", "blocked")
        for method in methods:
            h = multipath_response(f, g, d, 0.0, 3e-9, 1.0, method=method)
            np.testing.assert_allclose(np.abs(h[:, 0]), np.abs(g.sum(axis=1)), rtol=1e-12)
            h = multipath_response(f, g, d, 0.0, 2e-6, 0.5, method=method)
            np.testing.assert_allclose(np.abs(h[:, 0]), np.abs(g.sum(axis=1)), rtol=1e-12)
    np.testing.assert_allclose(passivity_gain(g, d, 0.0), np.abs(g.sum(axis=1)), rtol=1e-12)


def test_two_equal_paths_have_notches_every_one_over_delta_tau() -> None:
    tau1, tau2 = 1.0e-6, 1.4e-6
    dtau = tau2 - tau1
    g = np.array([[0.5, 0.5]])
    d = np.array([[10.0, 20.0]])
    tau = np.array([[tau1, tau2]])
    # |H| = |cos(π f Δτ)|: zeros at f = (n + 1/2)/Δτ, maxima |H| = 1 at f = n/Δτ.
    notches = (np.arange(12) + 0.5) / dtau
    peaks = np.arange(12) / dtau
    h_notch = multipath_response(notches, g, d, 0.0, 0.0, 1.0, tau)[0]
    h_peak = multipath_response(peaks, g, d, 0.0, 0.0, 1.0, tau)[0]
    assert np.max(np.abs(h_notch)) < 1e-9
    np.testing.assert_allclose(np.abs(h_peak), 1.0, rtol=1e-12)
    # On a fine uniform grid the minima are 1/Δτ apart.
    f = np.linspace(0.0, 30e6, 300_001)
    mag = np.abs(multipath_response(f, g, d, 0.0, 0.0, 1.0, tau)[0])
    minima = f[1:-1][(mag[1:-1] < mag[:-2]) & (mag[1:-1] < mag[2:])]
    np.testing.assert_allclose(np.diff(minima), 1.0 / dtau, rtol=1e-3)


def test_table1_50m_path_loses_about_19_db_at_30_mhz() -> None:
    # The paper's claim: with a1 = 8e-6 (f in Hz), k = 0.5, the 50 m path loses at most
    # 20·log10(e)·8e-6·√(30e6)·50 ≈ 19.0 dB over 0–30 MHz.
    f = np.linspace(0.0, 30e6, 3001)
    h = multipath_response(f, [1.0], [50.0], 0.0, 8e-6, 0.5)
    att = -20.0 * np.log10(np.abs(h))
    assert 18.5 < att.max() < 19.5
    assert att.argmax() == f.size - 1
    assert att[-1] == pytest.approx(DB_PER_NEPER * 8e-6 * math.sqrt(30e6) * 50.0, rel=1e-12)


def test_delays_follow_the_lengths() -> None:
    np.testing.assert_allclose(path_delays([10.0, 150.0], 4.0), [20.0 / C0_M_PER_S, 300.0 / C0_M_PER_S])
    # One lossless path: the phase falls by 2π·f·τ with τ = d·√εr/c0.
    f = np.linspace(0.0, 1e6, 11)
    h = multipath_response(f, [1.0], [30.0], 0.0, 0.0, 1.0, eps_r=2.25)
    tau = 30.0 * 1.5 / C0_M_PER_S
    np.testing.assert_allclose(h, np.exp(-2j * np.pi * f * tau), atol=1e-14)


@pytest.mark.parametrize("k", [1.0, 0.5, 0.7, 0.3])
@pytest.mark.parametrize(("f0", "n_f"), [(0.0, 1024), (1.8e6, 700), (0.0, 997)])
def test_blocked_method_matches_the_loop_reference(rng: np.random.Generator, k: float, f0: float, n_f: int) -> None:
    ch = random_channels(rng, 2, "mv", n_paths=15)
    a1 = float(ch.a1[0]) * 30e6 ** (0.5 - k)  # same loss at 30 MHz whatever k
    f = np.linspace(f0, 30e6, n_f)
    ref = multipath_response_reference(f, ch.g, ch.d_m, 0.0, a1, k, ch.tau_s)
    fast = multipath_response(f, ch.g, ch.d_m, 0.0, a1, k, ch.tau_s, method="blocked")
    scale = _scale(ch.g, ch.d_m)
    assert np.max(np.abs(fast - ref) / scale) <= 1e-9  # the documented bound at the default rtol
    direct = multipath_response(f, ch.g, ch.d_m, 0.0, a1, k, ch.tau_s, method="direct")
    assert np.max(np.abs(direct - ref) / scale) <= 1e-13


def test_blocked_method_with_a0_and_per_channel_parameters(rng: np.random.Generator) -> None:
    g = rng.uniform(-0.2, 0.2, (3, 8))
    d = np.sort(rng.uniform(20, 600, (3, 8)), axis=1)
    a0 = np.array([0.0, 1e-3, 5e-3])
    a1 = np.array([1e-6, 5e-7, 2e-6])
    f = np.linspace(0.0, 20e6, 640)
    fast = multipath_response(f, g, d, a0, a1, 0.5, method="blocked")
    for i in range(3):
        ref = multipath_response_reference(f, g[i : i + 1], d[i : i + 1], float(a0[i]), float(a1[i]), 0.5)
        assert np.max(np.abs(fast[i] - ref[0])) <= 1e-9 * float(_scale(g[i : i + 1], d[i : i + 1], a0[i])[0, 0])


def test_per_channel_exponents_are_grouped(rng: np.random.Generator) -> None:
    g = rng.uniform(-0.3, 0.3, (4, 5))
    d = rng.uniform(10, 300, (4, 5))
    k = np.array([1.0, 0.5, 1.0, 0.5])
    f = np.linspace(0.0, 10e6, 256)
    together = multipath_response(f, g, d, 0.0, 1e-6, k)
    for i in range(4):
        alone = multipath_response(f, g[i], d[i], 0.0, 1e-6, float(k[i]))
        np.testing.assert_allclose(together[i], alone, atol=1e-12)


def test_tighter_rtol_is_honoured(rng: np.random.Generator) -> None:
    ch = random_channels(rng, 2, "mv")
    f = np.linspace(0.0, 30e6, 512)
    ref = multipath_response_reference(f, ch.g, ch.d_m, 0.0, float(ch.a1[0]), 0.5, ch.tau_s)
    fast = multipath_response(f, ch.g, ch.d_m, 0.0, float(ch.a1[0]), 0.5, ch.tau_s, method="blocked", rtol=1e-12)
    assert np.max(np.abs(fast - ref) / _scale(ch.g, ch.d_m)) <= 1e-12


@settings(max_examples=25, deadline=None)
@given(
    n_paths=st.integers(1, 6),
    k=st.floats(0.2, 1.0),
    loss_db=st.floats(0.0, 80.0),
    f0=st.floats(0.0, 5e6),
    n_f=st.integers(64, 400),
    seed=st.integers(0, 2**32 - 1),
)
def test_blocked_equals_direct_property(n_paths: int, k: float, loss_db: float, f0: float, n_f: int, seed: int) -> None:
    r = np.random.default_rng(seed)
    g = r.uniform(-1, 1, (2, n_paths))
    d = np.sort(r.uniform(1, 2000, (2, n_paths)), axis=1)
    a1 = loss_db / DB_PER_NEPER / (2000.0 * 30e6**k)  # up to loss_db on the longest path at 30 MHz
    f = np.linspace(f0, 30e6, n_f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PassivityWarning)
        fast = multipath_response(f, g, d, 0.0, a1, k, method="blocked")
        exact = multipath_response(f, g, d, 0.0, a1, k, method="direct")
    assert np.max(np.abs(fast - exact) / _scale(g, d)) <= 1e-9


def test_out_argument_and_one_dimensional_input(rng: np.random.Generator) -> None:
    g = rng.uniform(-0.1, 0.1, (3, 4))
    d = rng.uniform(10, 100, (3, 4))
    f = np.linspace(0.0, 1e6, 64)
    out = np.empty((3, 64), dtype=np.complex128)
    res = multipath_response(f, g, d, 0.0, 1e-9, 1.0, out=out)
    assert res is out or np.shares_memory(res, out)
    h1 = multipath_response(f, g[1], d[1], 0.0, 1e-9, 1.0)
    assert h1.shape == (64,)
    np.testing.assert_allclose(h1, out[1], atol=1e-15)
    with pytest.raises(ChannelModelError):
        multipath_response(f, g, d, 0.0, 1e-9, 1.0, out=np.empty((3, 63), dtype=np.complex128))


def test_passivity_warning_for_table1_and_not_for_zd4() -> None:
    f = np.linspace(0.0, 30e6, 101)
    t1 = get_preset("paper-table1")
    with pytest.warns(PassivityWarning, match=r"\+7\.23 dB"):
        t1.response(f)
    # 20·log10(2.3) = 7.23 dB: the gains sum to −2.3.
    assert t1.h0_db() == pytest.approx(20.0 * math.log10(2.3), abs=1e-12)
    zd4 = get_preset("zd4")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zd4.response(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t1.response(f, warn=False)


def test_uniform_grid_detection() -> None:
    assert is_uniform_grid(np.linspace(1e6, 30e6, 4096))
    assert is_uniform_grid(np.arange(0.0, 1e6, 1e3))
    assert not is_uniform_grid(np.geomspace(1e3, 1e6, 10))
    assert not is_uniform_grid([1.0])
    assert not is_uniform_grid([2.0, 1.0])


def test_non_uniform_grid_uses_the_exact_method(rng: np.random.Generator) -> None:
    g = rng.uniform(-0.2, 0.2, (2, 6))
    d = rng.uniform(10, 500, (2, 6))
    f = np.geomspace(1e4, 30e6, 200)
    ref = multipath_response_reference(f, g, d, 0.0, 1e-6, 0.6)
    np.testing.assert_allclose(multipath_response(f, g, d, 0.0, 1e-6, 0.6), ref, atol=1e-13)
    with pytest.raises(ChannelModelError, match="uniform"):
        multipath_response(f, g, d, 0.0, 1e-6, 0.6, method="blocked")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"f_hz": [-1.0, 2.0]}, "frequencies"),
        ({"f_hz": [[1.0, 2.0]]}, "1-D"),
        ({"d_m": [[10.0, -1.0]]}, "lengths"),
        ({"g": [[1.0, 2.0, 3.0]]}, "same shape"),
        ({"a0": -1.0}, "a0"),
        ({"a1": float("nan")}, "a1"),
        ({"k": 0.0}, "k"),
        ({"a1": [1.0, 2.0]}, "shape"),
        ({"tau_s": [[1e-6, -1e-6]]}, "delays"),
        ({"eps_r": 0.5}, "eps_r"),
        ({"method": "fast"}, "method"),
        ({"rtol": 0.0}, "rtol"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "f_hz": [0.0, 1e6],
        "g": [[0.5, 0.2]],
        "d_m": [[10.0, 20.0]],
        "a0": 0.0,
        "a1": 1e-9,
        "k": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(ChannelModelError, match=match):
        multipath_response(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [0.3, 0.5, 1.0, 1.5])
def test_extreme_attenuation_stays_finite_and_quiet(k: float) -> None:
    g = np.array([[0.5, 0.3, 0.1]] * 3)
    d = np.array([[10.0, 500.0, 3000.0]] * 3)
    f = np.linspace(0.0, 30e6, 2048)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for a1 in (1e-3, 10.0):
            fast = multipath_response(f, g, d, 0.0, a1, k, method="blocked")
            exact = multipath_response(f, g, d, 0.0, a1, k, method="direct")
            assert np.all(np.isfinite(fast))
            assert np.max(np.abs(fast - exact)) <= 1e-9 * 0.9
