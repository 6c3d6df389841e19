"""Impulse response by IFFT, the discrete-path view, delay statistics and coherence bandwidth against
closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openami.channel.errors import ChannelModelError
from openami.channel.impulse import (
    coherence_bandwidth,
    coherence_bandwidth_rule,
    delay_stats,
    discrete_delay_stats,
    discrete_paths,
    impulse_response,
)
from openami.channel.multipath import C0_M_PER_S, multipath_response

F = np.linspace(0.0, 30e6, 1024)
DF = F[1] - F[0]


def _two_paths(a1: float, a2: float, tau1: float, tau2: float, f: np.ndarray = F) -> np.ndarray:
    return a1 * np.exp(-2j * np.pi * f * tau1) + a2 * np.exp(-2j * np.pi * f * tau2)


def test_single_delayed_path_peaks_at_its_delay() -> None:
    ir = impulse_response(F, 0.7 * np.exp(-2j * np.pi * F * 1.3e-6))
    assert ir.t_s[1] == pytest.approx(1.0 / (ir.t_s.size * DF))
    peak = int(np.argmax(np.abs(ir.h)))
    assert abs(ir.t_s[peak] - 1.3e-6) <= 0.5 * ir.t_s[1]
    # On an exact sample the peak equals the path gain (window gain divided out).
    n_fft = 4096
    tau = 300 / (n_fft * DF)
    for window in ("hann", "boxcar", "blackman", ("kaiser", 8.0)):
        ir = impulse_response(F, -0.4 * np.exp(-2j * np.pi * F * tau), window=window, n_fft=n_fft)
        assert int(np.argmax(np.abs(ir.h))) == 300
        assert abs(ir.h[300]) == pytest.approx(0.4, rel=1e-12)


def test_multipath_channel_impulse_response_shows_its_paths() -> None:
    g = np.array([0.6, -0.3, 0.2])
    d = np.array([100.0, 180.0, 260.0])
    h = multipath_response(F, g, d, 0.0, 0.0, 1.0)
    ir = impulse_response(F, h)
    tau = d * 2.0 / C0_M_PER_S
    for ti, gi in zip(tau, g, strict=True):
        i = int(np.argmin(np.abs(ir.t_s - ti)))
        window = np.abs(ir.h[max(0, i - 3) : i + 4])
        assert window.max() == pytest.approx(abs(gi), rel=0.05)
    # Batch input keeps the batch axis first.
    batch = impulse_response(F, np.stack([h, 2 * h]))
    assert batch.h.shape == (2, ir.h.size)
    np.testing.assert_allclose(batch.h[1], 2 * ir.h, rtol=1e-12)


def test_discrete_paths_view() -> None:
    tau, amp = discrete_paths([0.5, -0.25], [200.0, 100.0], 1e-3, 1e-6, 0.5, f_ref_hz=4e6)
    np.testing.assert_allclose(tau, np.array([100.0, 200.0]) * 2.0 / C0_M_PER_S)
    alpha = 1e-3 + 1e-6 * math.sqrt(4e6)
    np.testing.assert_allclose(amp, [-0.25 * math.exp(-alpha * 100.0), 0.5 * math.exp(-alpha * 200.0)])
    tau2, _ = discrete_paths([1.0, 1.0], [1.0, 2.0], 0.0, 0.0, 1.0, f_ref_hz=0.0, tau_s=[2e-6, 1e-6])
    np.testing.assert_array_equal(tau2, [1e-6, 2e-6])


def test_two_path_delay_statistics_closed_form() -> None:
    a1, a2, t1, t2 = 1.0, 0.5, 0.8e-6, 2.3e-6
    p1, p2 = a1**2, a2**2
    mean_excess = p2 * (t2 - t1) / (p1 + p2)
    rms = (t2 - t1) * a1 * a2 / (a1**2 + a2**2)
    s = discrete_delay_stats([t2, t1], [a2, a1])
    assert s.first_arrival_s == t1
    assert s.mean_excess_delay_s == pytest.approx(mean_excess, rel=1e-12)
    assert s.rms_delay_spread_s == pytest.approx(rms, rel=1e-12)
    # From the IFFT power delay profile (window main lobes widen each path a little).
    f = np.linspace(0.0, 60e6, 4096)
    ir = impulse_response(f, _two_paths(a1, a2, t1, t2, f), n_fft=16384)
    sp = delay_stats(ir.t_s, ir.pdp, threshold_db=-40.0)
    assert sp.rms_delay_spread_s == pytest.approx(rms, rel=0.03)
    assert sp.mean_excess_delay_s + sp.first_arrival_s == pytest.approx(t1 + mean_excess, rel=0.03)


def test_coherence_bandwidth_of_two_equal_paths() -> None:
    # |R(Δ)| = |cos(π Δ Δτ)| for two equal paths: level L is reached at Δ = acos(L)/(π Δτ).
    dtau = 1.5e-6
    f = np.linspace(0.0, 30e6, 8192)
    h = _two_paths(0.5, 0.5, 0.5e-6, 0.5e-6 + dtau, f)
    for level in (0.9, 0.5):
        expected = math.acos(level) / (math.pi * dtau)
        assert coherence_bandwidth(f, h, level) == pytest.approx(expected, rel=0.02)
    assert coherence_bandwidth(f, h, 0.5) == pytest.approx(1.0 / (3.0 * dtau), rel=0.02)
    # A single path is coherent over the whole grid.
    assert math.isnan(coherence_bandwidth(f, np.exp(-2j * np.pi * f * 1e-6), 0.5))


def test_coherence_bandwidth_rule_of_thumb() -> None:
    assert coherence_bandwidth_rule(1e-6, 0.9) == pytest.approx(20e3)
    assert coherence_bandwidth_rule(1e-6, 0.5) == pytest.approx(200e3)
    with pytest.raises(ChannelModelError):
        coherence_bandwidth_rule(1e-6, 0.7)


def test_invalid_arguments() -> None:
    with pytest.raises(ChannelModelError, match="uniform"):
        impulse_response(np.geomspace(1, 10, 8), np.ones(8))
    with pytest.raises(ChannelModelError, match="length"):
        impulse_response(F, np.ones(10))
    with pytest.raises(ChannelModelError, match="n_fft"):
        impulse_response(F, np.ones(F.size), n_fft=16)
    with pytest.raises(ChannelModelError, match="window"):
        impulse_response(F, np.ones(F.size), window="no-such-window")
    with pytest.raises(ChannelModelError, match="power"):
        delay_stats([0.0, 1.0], [0.0, 0.0])
    with pytest.raises(ChannelModelError, match="increasing"):
        delay_stats([1.0, 0.0], [1.0, 1.0])
    with pytest.raises(ChannelModelError, match="level"):
        coherence_bandwidth(F, np.ones(F.size), 1.5)
