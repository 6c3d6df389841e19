"""Cable and overhead-line constants: skin depth, the coaxial formulas (with the radius fix), the exact
round-wire internal impedance, ACSR presets and the 22.9 kV line geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openami.channel.cable import (
    ACSR,
    ETA0_OHM,
    MU0_H_PER_M,
    RHO_COPPER,
    CoaxCable,
    Conductor,
    Mode,
    OverheadLine,
    Wire,
    matched_line_h,
    mv_22k9_line,
    paper_printed_resistance,
    round_wire_internal_impedance,
    single_wire_line,
    skin_depth,
)
from openami.channel.errors import ChannelModelError

C0 = 299_792_458.0
F = np.array([1e5, 1e6, 5e6, 10e6, 20e6, 30e6])


def test_skin_depth_of_copper_at_1_mhz() -> None:
    # Textbook value for annealed copper: δ ≈ 66 µm at 1 MHz (the usual 66/√(f/MHz) µm rule of thumb).
    assert skin_depth(1e6, RHO_COPPER)[0] == pytest.approx(66e-6, rel=0.01)
    # δ ∝ 1/√f and ∝ 1/√μr.
    d = skin_depth([1e6, 4e6], RHO_COPPER)
    assert d[0] / d[1] == pytest.approx(2.0, rel=1e-12)
    assert skin_depth(1e6, RHO_COPPER, mu_r=4.0)[0] == pytest.approx(d[0] / 2.0, rel=1e-12)


def test_coax_resistance_is_half_the_printed_formula() -> None:
    cable = CoaxCable(r_inner_m=1.0e-3, r_screen_m=4.0e-3)
    r = cable.resistance(F)
    np.testing.assert_allclose(paper_printed_resistance(F, cable), 2.0 * r, rtol=1e-15)
    # Independent: ρ/(2π r δ) per conductor with δ from the textbook formula √(ρ/(π f μ0)).
    delta = np.sqrt(RHO_COPPER / (np.pi * F * MU0_H_PER_M))
    expected = RHO_COPPER / (2 * np.pi * 1e-3 * delta) + RHO_COPPER / (2 * np.pi * 4e-3 * delta)
    np.testing.assert_allclose(r, expected, rtol=1e-12)


def test_coax_inner_resistance_agrees_with_the_exact_bessel_solution() -> None:
    # When δ ≪ r the exact internal resistance tends to ρ/(2π r δ) (relative correction ≈ δ/(2r)).
    f = np.array([10e6, 30e6])
    exact = round_wire_internal_impedance(f, 1.0e-3, RHO_COPPER)
    approx = RHO_COPPER / (2 * np.pi * 1.0e-3 * skin_depth(f, RHO_COPPER))
    np.testing.assert_allclose(exact.real, approx, rtol=0.02)
    np.testing.assert_allclose(exact.imag, approx, rtol=0.02)  # ωL_int = R at high frequency
    # At low frequency it is the DC resistance ρ/(π r²).
    low = round_wire_internal_impedance([10.0], 1.0e-3, RHO_COPPER)[0]
    assert low.real == pytest.approx(RHO_COPPER / (np.pi * 1e-6), rel=1e-6)


def test_coax_impedance_and_velocity() -> None:
    cable = CoaxCable(r_inner_m=0.45e-3, r_screen_m=1.47e-3, eps_r=2.25, tan_delta=2e-4)
    z0 = 60.0 / 1.5 * math.log(1.47 / 0.45)  # η0/(2π√εr)·ln(r2/r1), η0/2π ≈ 60 Ω
    assert cable.lossless_z0() == pytest.approx(z0, rel=1e-3)
    zc = cable.zc(F)
    assert abs(zc[-1]) == pytest.approx(cable.lossless_z0(), rel=1e-3)
    # β = ω√εr/c0 at high frequency (TEM in the dielectric).
    beta = cable.gamma(F).imag
    assert beta[-1] == pytest.approx(2 * np.pi * 30e6 * 1.5 / C0, rel=1e-3)
    # G = ωC tanδ.
    k = cable.constants(F)
    np.testing.assert_allclose(k.g_s_per_m, 2 * np.pi * F * k.c_f_per_m * 2e-4, rtol=1e-15)
    assert np.all(k.r_ohm_per_m > 0)


def test_matched_line_is_exp_minus_gamma_l() -> None:
    cable = CoaxCable(r_inner_m=9e-3, r_screen_m=20e-3)
    h = matched_line_h(cable, F, 120.0)
    np.testing.assert_allclose(h, np.exp(-cable.gamma(F) * 120.0), rtol=1e-15)
    assert np.all(np.abs(h) < 1.0)
    assert np.all(np.diff(np.abs(h)) < 0)  # more loss at higher frequency


def test_acsr_presets() -> None:
    h95, n58 = ACSR["H ACSR 95"], ACSR["N ACSR 58"]
    assert h95.radius_m == pytest.approx(13.5e-3 / 2)
    assert n58.radius_m == pytest.approx(10.5e-3 / 2)
    # LS Cable & System lists 0.306 and 0.505 Ω/km for the same strandings in 60 % IACS thermal alloy;
    # 61 % IACS hard-drawn aluminium scales them by 60/61.
    assert h95.r_dc_ohm_per_m * 1e3 == pytest.approx(0.306 * 60 / 61, rel=0.01)
    assert n58.r_dc_ohm_per_m * 1e3 == pytest.approx(0.505 * 60 / 61, rel=0.01)
    # The internal impedance tends to R_dc at low frequency.
    assert h95.internal_impedance([1.0])[0].real == pytest.approx(h95.r_dc_ohm_per_m, rel=1e-6)


def test_single_wire_over_ground_is_60_ln_2h_over_r() -> None:
    wire = ACSR["H ACSR 95"]
    line = single_wire_line(wire, 10.5)
    expected = ETA0_OHM / (2 * math.pi) * math.log(2 * 10.5 / wire.radius_m)
    assert line.lossless_z0() == pytest.approx(expected, rel=1e-12)
    assert line.lossless_z0() == pytest.approx(60.0 * math.log(2 * 10.5 / wire.radius_m), rel=1e-3)
    # With conductor loss only, |Zc| tends to the lossless value as f grows.
    assert abs(line.zc(F)[-1]) == pytest.approx(expected, rel=2e-3)
    # Propagation at the speed of light in air.
    assert line.gamma(F)[-1].imag == pytest.approx(2 * np.pi * 30e6 / C0, rel=1e-3)


def test_22k9_line_impedance_range() -> None:
    z = {m: mv_22k9_line(m).lossless_z0() for m in ("single-wire", "phase-neutral", "phase-all-grounded")}
    # More conductors at earth potential lower the impedance of the driven phase.
    assert z["single-wire"] > z["phase-neutral"] > z["phase-all-grounded"]
    for value in z.values():
        assert 100.0 <= value <= 500.0
    assert 100.0 <= z["phase-all-grounded"] <= 400.0
    # Independent check of the grounded-neutral case: 60·(P11 − P12²/P22).
    a, n = mv_22k9_line().wires[0], mv_22k9_line().wires[3]
    p11 = math.log(2 * a.height_m / a.conductor.radius_m)
    p22 = math.log(2 * n.height_m / n.conductor.radius_m)
    dx = a.x_m - n.x_m
    p12 = math.log(math.hypot(dx, a.height_m + n.height_m) / math.hypot(dx, a.height_m - n.height_m))
    assert z["phase-neutral"] == pytest.approx(ETA0_OHM / (2 * math.pi) * (p11 - p12**2 / p22), rel=1e-12)


def test_earth_return_adds_loss_but_50_m_stay_under_1_db() -> None:
    modes: tuple[Mode, ...] = ("single-wire", "phase-neutral", "phase-all-grounded")
    for mode in modes:
        perfect = mv_22k9_line(mode)
        lossy = mv_22k9_line(mode, earth_resistivity_ohm_m=100.0)
        a_perfect = perfect.gamma(F).real
        a_lossy = lossy.gamma(F).real
        assert np.all(a_lossy > a_perfect)
        # plc-channel-facts.md: the conductor/line loss over 50 m is well under 1 dB.
        assert np.all(20 * np.log10(np.e) * a_lossy * 50.0 < 1.0)


def test_invalid_arguments() -> None:
    with pytest.raises(ChannelModelError, match="> 0 Hz"):
        skin_depth([0.0, 1e6], RHO_COPPER)
    with pytest.raises(ChannelModelError, match="screen"):
        CoaxCable(r_inner_m=2e-3, r_screen_m=1e-3)
    with pytest.raises(ChannelModelError, match="eps_r"):
        CoaxCable(r_inner_m=1e-3, r_screen_m=2e-3, eps_r=0.5)
    with pytest.raises(ChannelModelError, match="mode"):
        mv_22k9_line("three-phase")  # type: ignore[arg-type]
    wire = Conductor("w", 5e-3, 1e-3)
    with pytest.raises(ChannelModelError, match="above ground"):
        Wire(wire, 0.0, 1e-3)
    with pytest.raises(ChannelModelError, match="overlap"):
        OverheadLine((Wire(wire, 0.0, 10.0), Wire(wire, 0.005, 10.0)), grounded=(1,))
    with pytest.raises(ChannelModelError, match="grounded"):
        OverheadLine((Wire(wire, 0.0, 10.0),), grounded=(0,))
    with pytest.raises(ChannelModelError, match="length"):
        matched_line_h(single_wire_line(wire, 10.0), F, -1.0)
