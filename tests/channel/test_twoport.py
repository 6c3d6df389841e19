"""Two-port networks: matched line, cascade algebra, S ↔ ABCD, input impedance, branch taps, the coupler."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.channel.cable import CoaxCable, mv_22k9_line
from openami.channel.errors import ChannelModelError
from openami.channel.twoport import (
    abcd_to_s,
    branch_tap,
    capacitive_coupler,
    cascade,
    ideal_transformer,
    identity,
    input_impedance,
    line_section,
    output_impedance,
    reverse,
    s_to_abcd,
    series_impedance,
    shunt_admittance,
    shunt_impedance,
    transfer_function,
)

F = np.linspace(0.5e6, 30e6, 60)
LINE = mv_22k9_line(earth_resistivity_ohm_m=100.0)


def _random_abcd(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal((*shape, 2, 2)) + 1j * rng.standard_normal((*shape, 2, 2))


def test_matched_line_equals_exp_minus_gamma_l() -> None:
    zc, gamma = LINE.zc(F), LINE.gamma(F)
    sec = line_section(zc, gamma, 50.0)
    expected = np.exp(-gamma * 50.0)
    np.testing.assert_allclose(transfer_function(sec, zc, zc, normalization="insertion"), expected, rtol=1e-12)
    np.testing.assert_allclose(transfer_function(sec, zc, zc, normalization="voltage"), expected, rtol=1e-12)
    # The default "emf" form includes the source divider: half of it.
    np.testing.assert_allclose(transfer_function(sec, zc, zc), expected / 2.0, rtol=1e-12)
    np.testing.assert_allclose(input_impedance(sec, zc), zc, rtol=1e-12)


def test_sections_add_up() -> None:
    zc, gamma = LINE.zc(F), LINE.gamma(F)
    np.testing.assert_allclose(
        cascade(line_section(zc, gamma, 30.0), line_section(zc, gamma, 20.0)),
        line_section(zc, gamma, 50.0),
        rtol=1e-10,
        atol=1e-12,
    )
    np.testing.assert_allclose(line_section(zc, gamma, 0.0), identity(F.size), atol=0)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_f=st.integers(1, 8))
def test_cascade_is_associative(seed: int, n_f: int) -> None:
    r = np.random.default_rng(seed)
    a, b, c = (_random_abcd(r, (n_f,)) for _ in range(3))
    left = cascade(cascade(a, b), c)
    right = cascade(a, cascade(b, c))
    np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-9 * np.max(np.abs(left)))
    np.testing.assert_allclose(cascade(a, b, c), left, rtol=1e-12, atol=1e-12 * np.max(np.abs(left)))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), z0=st.floats(1.0, 500.0))
def test_s_abcd_round_trip(seed: int, z0: float) -> None:
    r = np.random.default_rng(seed)
    abcd = _random_abcd(r, (3, 5))
    back = s_to_abcd(abcd_to_s(abcd, z0), z0)
    np.testing.assert_allclose(back, abcd, rtol=1e-8, atol=1e-8 * np.max(np.abs(abcd)))
    s = 0.5 * _random_abcd(r, (4,))
    np.testing.assert_allclose(abcd_to_s(s_to_abcd(s, z0), z0), s, rtol=1e-8, atol=1e-10)


def test_s_parameters_of_simple_elements() -> None:
    # Pozar, Microwave Engineering: series Z between z0 ports: S11 = Z/(Z + 2 z0), S21 = 2 z0/(Z + 2 z0);
    # shunt Y: S11 = −Y z0/(2 + Y z0), S21 = 2/(2 + Y z0).
    z0 = 50.0
    z = np.array([10.0 + 5.0j, 200.0 - 30.0j])
    s = abcd_to_s(series_impedance(z), z0)
    np.testing.assert_allclose(s[:, 0, 0], z / (z + 2 * z0), rtol=1e-14)
    np.testing.assert_allclose(s[:, 1, 0], 2 * z0 / (z + 2 * z0), rtol=1e-14)
    y = 1.0 / z
    s = abcd_to_s(shunt_admittance(y), z0)
    np.testing.assert_allclose(s[:, 0, 0], -y * z0 / (2 + y * z0), rtol=1e-14)
    np.testing.assert_allclose(s[:, 1, 0], 2 / (2 + y * z0), rtol=1e-14)
    # A matched line section: S11 = 0, S21 = e^(−γl) when z0 = Zc (lossless coax, real Zc).
    coax = CoaxCable(1e-3, 3e-3, rho_inner_ohm_m=1e-30, rho_screen_ohm_m=1e-30, tan_delta=0.0)
    zc = coax.lossless_z0()
    s = abcd_to_s(line_section(coax.zc(F), coax.gamma(F), 7.0), zc)
    np.testing.assert_allclose(s[:, 0, 0], 0.0, atol=1e-9)
    np.testing.assert_allclose(s[:, 1, 0], np.exp(-coax.gamma(F) * 7.0), rtol=1e-9)


def test_input_impedance_of_a_quarter_wave_transformer() -> None:
    coax = CoaxCable(1e-3, 3e-3, rho_inner_ohm_m=1e-30, rho_screen_ohm_m=1e-30, tan_delta=0.0, eps_r=1.0)
    f = np.array([10e6])
    quarter = 299_792_458.0 / 10e6 / 4.0
    sec = line_section(coax.zc(f), coax.gamma(f), quarter)
    zl = 25.0 + 10.0j
    np.testing.assert_allclose(input_impedance(sec, zl), coax.zc(f) ** 2 / zl, rtol=1e-6)
    np.testing.assert_allclose(output_impedance(sec, zl), coax.zc(f) ** 2 / zl, rtol=1e-6)


def test_series_and_shunt_elements() -> None:
    z = np.array([30.0 + 0j, 75.0j])
    np.testing.assert_allclose(input_impedance(series_impedance(z), 50.0), z + 50.0)
    np.testing.assert_allclose(input_impedance(shunt_impedance(z), 50.0), z * 50.0 / (z + 50.0))
    np.testing.assert_allclose(input_impedance(ideal_transformer(3.0, 2), 50.0), 9.0 * 50.0)
    # Voltage divider: an ideal source (Z_S = 0) through a series R into a load R gives 1/2.
    np.testing.assert_allclose(transfer_function(series_impedance([50.0]), 0.0, 50.0), 0.5)


def test_branch_taps() -> None:
    zc, gamma = LINE.zc(F), LINE.gamma(F)
    open_tap = branch_tap(zc, gamma, 12.0)
    np.testing.assert_allclose(open_tap[:, 1, 0], np.tanh(gamma * 12.0) / zc, rtol=1e-12)
    short_tap = branch_tap(zc, gamma, 12.0, z_term=0.0)
    np.testing.assert_allclose(short_tap[:, 1, 0], 1.0 / (zc * np.tanh(gamma * 12.0)), rtol=1e-12)
    matched_tap = branch_tap(zc, gamma, 12.0, z_term=zc)
    np.testing.assert_allclose(matched_tap[:, 1, 0], 1.0 / zc, rtol=1e-12)
    # A stub terminated in a huge impedance is (almost) open.
    np.testing.assert_allclose(branch_tap(zc, gamma, 12.0, z_term=1e15)[:, 1, 0], open_tap[:, 1, 0], rtol=1e-9)
    # A matched tap on a matched line halves the voltage at the tap point.
    net = cascade(line_section(zc, gamma, 10.0), matched_tap, line_section(zc, gamma, 10.0))
    h = transfer_function(net, zc, zc, normalization="insertion")
    expected = np.exp(-gamma * 20.0) * 2.0 / 3.0  # tap: Zc ∥ Zc = Zc/2 → transmission 2/3
    np.testing.assert_allclose(h, expected, rtol=1e-10)


def test_capacitive_coupler_is_a_high_pass() -> None:
    f = np.geomspace(1e4, 30e6, 400)
    coupler = capacitive_coupler(f)
    # Shunt L then series C: [[1, Z_C], [Y_L, 1 + Y_L·Z_C]].
    zc_ = 1.0 / (1j * 2 * np.pi * f * 5.1e-9)
    yl = 1.0 / (1j * 2 * np.pi * f * 5e-6)
    np.testing.assert_allclose(coupler[:, 0, 1], zc_, rtol=1e-12)
    np.testing.assert_allclose(coupler[:, 1, 0], yl, rtol=1e-12)
    np.testing.assert_allclose(coupler[:, 1, 1], 1 + yl * zc_, rtol=1e-12)
    h = np.abs(transfer_function(coupler, 50.0, 50.0, normalization="insertion"))
    assert h[f < 50e3].max() < 0.01
    assert h[f > 5e6].min() > 0.9
    assert np.all(np.diff(h[f < 1e6]) > 0)
    # Reciprocal: reversing twice is the identity; the receiving coupler has the same |H| between equal loads.
    np.testing.assert_allclose(reverse(reverse(coupler)), coupler, rtol=1e-12)
    np.testing.assert_allclose(
        np.abs(transfer_function(reverse(coupler), 50.0, 50.0, normalization="insertion")), h, rtol=1e-10
    )


def test_link_through_couplers_and_line() -> None:
    f = np.linspace(1e6, 30e6, 30)
    zc, gamma = LINE.zc(f), LINE.gamma(f)
    link = cascade(capacitive_coupler(f), line_section(zc, gamma, 50.0), reverse(capacitive_coupler(f)))
    h = transfer_function(link, 50.0, 50.0, normalization="insertion")
    assert h.shape == (30,)
    assert np.all(np.abs(h) <= 1.0 + 1e-9)  # a passive network never gains
    # Batch axis in front of the frequency axis broadcasts.
    batch = np.stack([link, link])
    np.testing.assert_allclose(transfer_function(batch, 50.0, 50.0, normalization="insertion"), np.stack([h, h]))


def test_invalid_arguments() -> None:
    with pytest.raises(ChannelModelError, match="shape"):
        cascade(np.zeros((3, 2)))
    with pytest.raises(ChannelModelError, match="incompatible"):
        cascade(identity(3), identity(4))
    with pytest.raises(ChannelModelError, match="length"):
        line_section([50.0], [1j], -1.0)
    with pytest.raises(ChannelModelError, match="normalization"):
        transfer_function(identity(2), 50.0, 50.0, normalization="power")  # type: ignore[arg-type]
    with pytest.raises(ChannelModelError, match="S21"):
        s_to_abcd(np.zeros((1, 2, 2)))
    with pytest.raises(ChannelModelError, match="reference"):
        abcd_to_s(identity(1), z0=-50.0)
    with pytest.raises(ChannelModelError, match="> 0 Hz"):
        capacitive_coupler([0.0, 1e6])
    with pytest.raises(ChannelModelError, match="shorts"):
        shunt_impedance([0.0])
