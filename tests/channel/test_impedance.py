"""Impedance from measurement: one-port and two-port relations on a synthetic lossy line with known Zc and γ,
Touchstone files through scikit-rf, and the overhead-line impedance range."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import skrf  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.channel.errors import ChannelModelError
from openami.channel.impedance import (
    PAPER_MEASURED_IMPEDANCE_BANDS,
    abcd_to_s,
    impedance_to_s11,
    line_from_abcd,
    line_from_open_short,
    line_input_impedance,
    open_short_from_abcd,
    read_touchstone,
    s11_to_impedance,
    s_to_abcd,
    s_to_z,
    single_wire_over_ground_z0,
    voltage_ratio_from_s,
    wires_over_ground_common_mode_z0,
    wires_over_ground_z0_matrix,
    write_touchstone,
    z_to_s,
)

Z0 = 50.0
LENGTH = 50.0  # m


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1993)


def _synthetic_line(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zc(f), γ(f) of an RLGC line (skin-effect R, dielectric G): Zc = √(Z'/Y'), γ = √(Z'Y')."""
    w = 2 * np.pi * f
    r = 0.02 * np.sqrt(f / 1e6)  # Ω/m
    ll = 1.6e-6  # H/m
    c = 10e-12  # F/m  → √(L/C) = 400 Ω, v = 1/√(LC) = 0.83·c0
    g = w * c * 1e-3  # S/m (tan δ = 1e−3)
    zs = r + 1j * w * ll
    yp = g + 1j * w * c
    return np.sqrt(zs / yp), np.sqrt(zs * yp)


def _line_abcd(zc: np.ndarray, gamma: np.ndarray, length: float) -> np.ndarray:
    """Textbook ABCD of a uniform line: [[cosh γl, Zc sinh γl], [sinh γl / Zc, cosh γl]]."""
    gl = gamma * length
    out = np.empty((zc.size, 2, 2), dtype=complex)
    out[:, 0, 0] = np.cosh(gl)
    out[:, 0, 1] = zc * np.sinh(gl)
    out[:, 1, 0] = np.sinh(gl) / zc
    out[:, 1, 1] = np.cosh(gl)
    return out


def _textbook_s_from_abcd(m: np.ndarray, z0: float) -> np.ndarray:
    """Pozar, Table 4.2: S from ABCD with one real reference impedance."""
    a, b, c, d = m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1]
    den = a + b / z0 + c * z0 + d
    s = np.empty_like(m)
    s[:, 0, 0] = (a + b / z0 - c * z0 - d) / den
    s[:, 0, 1] = 2 * (a * d - b * c) / den
    s[:, 1, 0] = 2 / den
    s[:, 1, 1] = (-a + b / z0 - c * z0 + d) / den
    return s


@pytest.fixture
def line() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    f = np.arange(100e3, 30e6 + 1, 50e3)
    zc, gamma = _synthetic_line(f)
    s = _textbook_s_from_abcd(_line_abcd(zc, gamma, LENGTH), Z0)
    return f, zc, gamma, s


# --- one-port ------------------------------------------------------------------------------------------


def test_input_impedance_of_known_loads() -> None:
    # 75 Ω: S11 = 25/125 = 0.2; 30 + 40j Ω: S11 = (−20 + 40j)/(80 + 40j) = 4000j/8000 = 0.5j
    assert impedance_to_s11([75.0, 30 + 40j]) == pytest.approx([0.2, 0.5j])
    assert s11_to_impedance([0.2, 0.5j]) == pytest.approx([75.0, 30 + 40j])
    # short: S11 = −1 → 0 Ω; matched: S11 = 0 → Z0; 75 Ω reference: S11 = 0 → 75 Ω
    assert s11_to_impedance(-1.0) == pytest.approx(0.0)
    assert s11_to_impedance(0.0) == pytest.approx(50.0)
    assert s11_to_impedance(0.0, z0=75.0) == pytest.approx(75.0)
    assert np.isinf(s11_to_impedance(1.0))  # open
    with pytest.raises(ChannelModelError):
        s11_to_impedance(0.1, z0=-50.0)


@settings(max_examples=200)
@given(st.floats(min_value=0.01, max_value=1e4), st.floats(min_value=-1e4, max_value=1e4))
def test_s11_impedance_round_trip(r: float, x: float) -> None:
    z = complex(r, x)
    assert complex(s11_to_impedance(impedance_to_s11(z))) == pytest.approx(z, rel=1e-9, abs=1e-9)


# --- synthetic line section -------------------------------------------------------------------------------


def test_line_recovered_from_its_two_port(line: tuple[np.ndarray, ...]) -> None:
    _f, zc, gamma, s = line
    abcd = s_to_abcd(s, Z0)
    assert np.allclose(abcd, _line_abcd(zc, gamma, LENGTH), rtol=1e-9, atol=1e-9)
    zc_est, gamma_est = line_from_abcd(abcd, LENGTH)
    assert np.allclose(zc_est, zc, rtol=1e-9)
    assert np.allclose(gamma_est, gamma, rtol=1e-9)
    # βl grows to ≈ 2π·30 MHz·50 m/(0.83·c0) ≈ 37.7 rad: many wraps, all unwrapped
    assert (gamma_est.imag * LENGTH)[-1] > 30


def test_line_recovered_from_open_and_short(line: tuple[np.ndarray, ...]) -> None:
    _f, zc, gamma, s = line
    # through the measured two-port: port 2 open → A/C, shorted → B/D
    z_oc, z_sc = open_short_from_abcd(s_to_abcd(s, Z0))
    gl = gamma * LENGTH
    assert np.allclose(z_oc, zc / np.tanh(gl), rtol=1e-8)
    assert np.allclose(z_sc, zc * np.tanh(gl), rtol=1e-8)
    zc_est, gamma_est = line_from_open_short(z_oc, z_sc, LENGTH)
    assert np.allclose(zc_est, zc, rtol=1e-8)
    assert np.allclose(gamma_est, gamma, rtol=1e-8)
    assert np.all(gamma_est.real >= 0)


def test_open_short_without_unwrap_gives_principal_branch(line: tuple[np.ndarray, ...]) -> None:
    _f, zc, gamma, _ = line
    gl = gamma * LENGTH
    _, gamma_p = line_from_open_short(zc / np.tanh(gl), zc * np.tanh(gl), LENGTH, unwrap=False)
    bl = gamma_p.imag * LENGTH
    assert np.all((bl > -np.pi / 2 - 1e-9) & (bl <= np.pi / 2 + 1e-9))
    # it differs from the truth by whole multiples of π
    k = (gl.imag - bl) / np.pi
    assert np.allclose(k, np.round(k), atol=1e-6)
    assert np.allclose(gamma_p.real, gamma.real, rtol=1e-8)


def test_loaded_line_input_impedance(line: tuple[np.ndarray, ...]) -> None:
    _f, zc, gamma, _s = line
    z_load = 120.0 - 30j
    abcd = _line_abcd(zc, gamma, LENGTH)
    # Z_in = (A·Z_L + B)/(C·Z_L + D)
    expected = (abcd[:, 0, 0] * z_load + abcd[:, 0, 1]) / (abcd[:, 1, 0] * z_load + abcd[:, 1, 1])
    assert np.allclose(line_input_impedance(zc, gamma, LENGTH, z_load), expected, rtol=1e-9)
    # and as a VNA would see it: S11 of the loaded line → Z_in
    s11 = (expected - Z0) / (expected + Z0)
    assert np.allclose(s11_to_impedance(s11, Z0), expected, rtol=1e-9)
    # a line terminated in Zc shows Zc at its input
    assert np.allclose(line_input_impedance(zc, gamma, LENGTH, zc), zc, rtol=1e-9)


def test_line_refusals(line: tuple[np.ndarray, ...]) -> None:
    _, _zc, _gamma, s = line
    with pytest.raises(ChannelModelError):
        line_from_abcd(s_to_abcd(s), -1.0)
    with pytest.raises(ChannelModelError):
        line_from_abcd(np.eye(2)[None], 1.0)  # no line: B = C = 0
    with pytest.raises(ChannelModelError):
        line_from_open_short(0.0, 1.0, 1.0)
    with pytest.raises(ChannelModelError):
        s_to_abcd(np.zeros((3, 3, 3)))


# --- two-port conversions -----------------------------------------------------------------------------------


def test_series_and_shunt_elements() -> None:
    z = np.array([10.0, 100 + 50j, -30j])
    series = np.zeros((3, 2, 2), dtype=complex)
    series[:, 0, 0] = series[:, 1, 1] = 1.0
    series[:, 0, 1] = z
    s = abcd_to_s(series, Z0)
    # series Z between two Z0 ports: S11 = Z/(Z + 2Z0), S21 = 2Z0/(Z + 2Z0)
    assert np.allclose(s[:, 0, 0], z / (z + 2 * Z0))
    assert np.allclose(s[:, 1, 0], 2 * Z0 / (z + 2 * Z0))
    # the paper's eq. 12: (1 + S11)/S21 = (2Z + 2Z0)/(2Z0) = 1 + Z/Z0 = A + B/Z0
    assert np.allclose(voltage_ratio_from_s(s[:, 0, 0], s[:, 1, 0]), 1 + z / Z0)
    y = 1 / z
    shunt = np.zeros((3, 2, 2), dtype=complex)
    shunt[:, 0, 0] = shunt[:, 1, 1] = 1.0
    shunt[:, 1, 0] = y
    s = abcd_to_s(shunt, Z0)
    # shunt Y: S11 = −Y·Z0/(2 + Y·Z0), S21 = 2/(2 + Y·Z0)
    assert np.allclose(s[:, 0, 0], -y * Z0 / (2 + y * Z0))
    assert np.allclose(s[:, 1, 0], 2 / (2 + y * Z0))


def test_voltage_ratio_equals_a_plus_b_over_z0(line: tuple[np.ndarray, ...]) -> None:
    _, _, _, s = line
    abcd = s_to_abcd(s, Z0)
    assert np.allclose(voltage_ratio_from_s(s[:, 0, 0], s[:, 1, 0]), abcd[:, 0, 0] + abcd[:, 0, 1] / Z0)
    with pytest.raises(ChannelModelError):
        voltage_ratio_from_s(0.1, 0.0)


def test_conversions_agree_with_scikit_rf(rng: np.random.Generator) -> None:
    s = 0.4 * (rng.normal(size=(20, 2, 2)) + 1j * rng.normal(size=(20, 2, 2)))
    assert np.allclose(s_to_abcd(s, 50.0), skrf.network.s2a(s, 50.0))
    assert np.allclose(s_to_z(s, 50.0), skrf.network.s2z(s, 50.0))
    assert np.allclose(abcd_to_s(s_to_abcd(s, 75.0), 75.0), s)
    assert np.allclose(z_to_s(s_to_z(s, 75.0), 75.0), s)
    s3 = 0.3 * (rng.normal(size=(5, 3, 3)) + 1j * rng.normal(size=(5, 3, 3)))
    assert np.allclose(z_to_s(s_to_z(s3)), s3)


def test_reciprocal_line_has_unit_determinant(line: tuple[np.ndarray, ...]) -> None:
    _, _, _, s = line
    abcd = s_to_abcd(s, Z0)
    det = abcd[:, 0, 0] * abcd[:, 1, 1] - abcd[:, 0, 1] * abcd[:, 1, 0]
    assert np.allclose(det, 1.0)
    assert np.allclose(s[:, 0, 1], s[:, 1, 0])


# --- Touchstone ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nports", [1, 2])
def test_touchstone_round_trip(tmp_path: Path, rng: np.random.Generator, nports: int) -> None:
    f = np.sort(rng.uniform(1e5, 30e6, size=37))
    s = rng.normal(size=(37, nports, nports)) + 1j * rng.normal(size=(37, nports, nports))
    path = tmp_path / f"meas.s{nports}p"
    write_touchstone(path, f, s, comment="openami test")
    back = read_touchstone(path)
    assert np.array_equal(back.frequency_hz, f)
    assert np.array_equal(back.s, s)
    assert back.s.shape == (37, nports, nports)
    assert np.all(back.z0 == 50.0)


def test_touchstone_line_round_trip(tmp_path: Path, line: tuple[np.ndarray, ...]) -> None:
    f, zc, gamma, s = line
    write_touchstone(tmp_path / "line.s2p", f, s)
    back = read_touchstone(tmp_path / "line.s2p")
    zc_est, gamma_est = line_from_abcd(s_to_abcd(back.s), LENGTH)
    assert np.allclose(zc_est, zc, rtol=1e-9)
    assert np.allclose(gamma_est, gamma, rtol=1e-9)


def test_touchstone_hand_written_two_port(tmp_path: Path) -> None:
    # Touchstone 1.x two-port rows are f S11 S21 S12 S22; MA = magnitude, angle in degrees; MHz
    path = tmp_path / "hand.s2p"
    path.write_text(
        "! hand-written\n# MHz S MA R 75\n1.0 0.5 90 0.9 -45 0.8 -45 0.1 0\n2.5 0.25 180 0.7 0 0.6 0 0.2 -90\n",
        encoding="ascii",
    )
    data = read_touchstone(path)
    assert data.frequency_hz == pytest.approx([1e6, 2.5e6])
    r = math.sqrt(0.5)
    assert data.s[0, 0, 0] == pytest.approx(0.5j)
    assert data.s[0, 1, 0] == pytest.approx(0.9 * (r - 1j * r))  # S21
    assert data.s[0, 0, 1] == pytest.approx(0.8 * (r - 1j * r))  # S12
    assert data.s[0, 1, 1] == pytest.approx(0.1)
    assert data.s[1, 0, 0] == pytest.approx(-0.25)
    assert data.s[1, 1, 1] == pytest.approx(-0.2j)
    assert np.all(data.z0 == 75.0)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad_value.s2p", "# Hz S RI R 50\n1e6 0.1 0.0 0.9 0.0 0.9 0.0 0.1 0.0\n2e6 abc 0.1\n"),
        ("short_row.s2p", "# Hz S RI R 50\n1e6 0.1 0.0 0.9 0.0 0.9 0.0 0.1\n"),
        ("garbage.s1p", "garbage here\nnot a touchstone\n"),
        ("empty.s1p", ""),
        ("bad_format.s1p", "# Hz S XX R 50\n1e6 0.1 0.2\n"),
        ("decreasing.s1p", "# Hz S RI R 50\n2e6 0.1 0.2\n1e6 0.1 0.2\n"),
        ("nan.s1p", "# Hz S RI R 50\n1e6 nan 0.2\n"),
        ("three_values.s1p", "# Hz S RI R 50\n1e6 0.1 0.2 0.3\n"),
    ],
)
def test_malformed_touchstone_is_refused_with_its_name(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    with pytest.raises(ChannelModelError, match=name.replace(".", r"\.")):
        read_touchstone(path)


def test_touchstone_names_and_shapes(tmp_path: Path) -> None:
    with pytest.raises(ChannelModelError, match="not a Touchstone"):
        read_touchstone(tmp_path / "meas.txt")
    with pytest.raises(OSError):
        read_touchstone(tmp_path / "missing.s1p")
    f = np.array([1e6, 2e6])
    with pytest.raises(ChannelModelError):
        write_touchstone(tmp_path / "x.s1p", f, np.zeros((2, 2, 2)))  # two-port into .s1p
    with pytest.raises(ChannelModelError):
        write_touchstone(tmp_path / "x.s2p", f[::-1], np.zeros((2, 2, 2)))
    with pytest.raises(ChannelModelError):
        write_touchstone(tmp_path / "x.s2p", f, np.full((2, 2, 2), np.nan))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["x.s1p", "x.s2p"]))
def test_arbitrary_bytes_read_or_refuse(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        try:
            got = read_touchstone(path)
        except ChannelModelError:
            return
        n = int(name[3])
        assert got.s.shape[1:] == (n, n)
        assert np.all(np.isfinite(got.s))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-10, 10), st.floats(-10, 10)),
        min_size=1,
        max_size=8,
    )
)
def test_touchstone_one_port_round_trip_property(values: list[tuple[float, float]]) -> None:
    s = np.array([complex(a, b) for a, b in values]).reshape(-1, 1, 1)
    f = np.arange(1, len(values) + 1) * 1e6
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.s1p"
        write_touchstone(path, f, s)
        back = read_touchstone(path)
    assert np.array_equal(back.s, s)
    assert np.array_equal(back.frequency_hz, f)


# --- overhead-line impedance range -------------------------------------------------------------------------


def test_single_wire_formula() -> None:
    # exact (η0/2π)·acosh(h/r) against the textbook 60·ln(2h/r) for h ≫ r: within 0.1 %
    h, r = 10.0, 6.8e-3
    assert single_wire_over_ground_z0(h, r) == pytest.approx(60 * math.log(2 * h / r), rel=1e-3)
    # 60·ln(2·10/0.0068) = 60·ln(2941.2) = 60·7.9865 = 479.2 Ω
    assert single_wire_over_ground_z0(h, r) == pytest.approx(479.2, rel=2e-3)
    with pytest.raises(ChannelModelError):
        single_wire_over_ground_z0(0.001, 0.01)


def test_overhead_geometry_gives_hundreds_of_ohms() -> None:
    # a realistic coax has |Z0| ≈ 36 Ω; overhead wires give hundreds of ohms. One wire at 8–14 m with
    # ACSR-like radii of 4–10 mm: 60·ln(2h/r) between 60·ln(1600) = 443 Ω and 60·ln(7000) = 531 Ω —
    # a little above the paper's measured 100–380 Ω (below 15 MHz).
    h, r = np.meshgrid(np.linspace(8, 14, 7), np.linspace(4e-3, 10e-3, 7))
    z = single_wire_over_ground_z0(h, r)
    assert np.all((z > 440) & (z < 535))
    # 22.9 kV geometry (an assumption, not from the paper): three H ACSR 95 phases (r = 6.8 mm) on a
    # crossarm at 12 m, x = −0.9, 0, 0.9 m, and the N ACSR 58 neutral (r = 5 mm) at 10.5 m, x = 0.2 m.
    x = [-0.9, 0.0, 0.9, 0.2]
    hh = [12.0, 12.0, 12.0, 10.5]
    rr = [6.8e-3, 6.8e-3, 6.8e-3, 5.0e-3]
    z_cm = wires_over_ground_common_mode_z0(x, hh, rr)
    lo, hi = PAPER_MEASURED_IMPEDANCE_BANDS[0][2:]
    assert lo <= z_cm <= hi  # ≈ 250 Ω: the wires in parallel against ground land inside 100–380 Ω
    # one phase against ground with the other wires grounded: 1/(Z⁻¹)₁₁ ≈ 386 Ω, inside 100–400 Ω
    zm = wires_over_ground_z0_matrix(x, hh, rr)
    z_phase = 1 / np.linalg.inv(zm)[0, 0]
    assert 100 <= z_phase <= 400


def test_wire_matrix_by_hand() -> None:
    # two wires at 10 m, 1 m apart, r = 5 mm: P11 = ln(20/0.005) = ln 4000 = 8.29405,
    # P12 = ln(√(1 + 400)/1) = 0.5·ln 401 = 2.99698
    z = wires_over_ground_z0_matrix([0.0, 1.0], [10.0, 10.0], [5e-3, 5e-3])
    eta = 376.730313668 / (2 * math.pi)
    assert z[0, 0] == pytest.approx(eta * 8.29405, rel=1e-5)
    assert z[0, 1] == pytest.approx(eta * 2.99698, rel=1e-5)
    assert np.allclose(z, z.T)
    # two identical wires in common mode: (Z11 + Z12)/2
    assert wires_over_ground_common_mode_z0([0.0, 1.0], [10.0, 10.0], [5e-3, 5e-3]) == pytest.approx(
        eta * (8.29405 + 2.99698) / 2, rel=1e-5
    )
    with pytest.raises(ChannelModelError):
        wires_over_ground_z0_matrix([0.0, 0.001], [10.0, 10.0], [5e-3, 5e-3])  # overlapping wires
