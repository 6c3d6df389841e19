"""``openami plc``: JSON/CSV/plot outputs checked against the models computed here, and one-line errors.

Expected values come from the published parameter sets (Zimmermann–Dostert 4-path; Esmailian et al. 2003;
Vines/Hooijen; the EN 50065-1 CENELEC A level) and textbook formulas, computed in the tests.
"""

from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from scipy import special  # type: ignore[import-untyped]
from typer.testing import CliRunner

from openami.channel.multipath import multipath_response
from openami.channel.presets import PRESETS
from openami.cli.plc import limit_blas_threads, plc_app

runner = CliRunner()

# Zimmermann & Dostert, IEEE Trans. Commun. 50(4), 2002, 4-path example (k = 1, a0 = 0, εr = 4)
ZD4_G = [0.64, 0.38, -0.15, 0.05]
ZD4_D = [200.0, 222.4, 244.8, 267.5]
ZD4_A1 = 7.8e-10
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(plc_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    for needle in needles:
        assert needle in lines[0]


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def zd4(f: np.ndarray) -> np.ndarray:
    return multipath_response(f, ZD4_G, ZD4_D, 0.0, ZD4_A1, 1.0, None, 4.0, method="direct")


def test_response_json_is_the_multipath_model() -> None:
    code, out, _ = run("response", "--preset", "zd4", "--fmin", "0", "--fmax", "30e6", "--n", "257", "--json")
    assert code == 0
    data = json.loads(out)
    f = np.linspace(0.0, 30e6, 257)
    h = zd4(f)
    np.testing.assert_allclose(data["f_hz"], f, rtol=0, atol=1e-6)
    np.testing.assert_allclose(data["h_db"], 20.0 * np.log10(np.abs(h)), rtol=0, atol=1e-9)
    np.testing.assert_allclose(data["phase_rad"], np.unwrap(np.angle(h)), rtol=0, atol=1e-9)
    assert data["h0_db"] == pytest.approx(20.0 * math.log10(abs(sum(ZD4_G))))  # |H(0)| = |Σ g| for a0 = 0


def test_response_phase_is_unwrapped() -> None:
    # ZD4's first delay is 200 m·2/c0 ≈ 1.33 µs: over 30 MHz the phase falls by about 2π·40, with no wraps left
    _, out, _ = run("response", "--preset", "zd4", "--n", "2048", "--json")
    phase = np.array(json.loads(out)["phase_rad"])
    assert phase[-1] < -20 * np.pi
    assert np.max(np.abs(np.diff(phase))) < np.pi


def test_response_csv_png_and_svg(tmp_path: Path) -> None:
    table, png, svg = tmp_path / "h.csv", tmp_path / "h.png", tmp_path / "h.SVG"
    code, _, _ = run("response", "--preset", "zd4", "--n", "64", "--csv", str(table), "--plot", str(png))
    assert code == 0
    header, rows = read_csv(table)
    assert header[:3] == ["f_hz", "h_db", "phase_rad"]
    assert rows.shape[0] == 64
    np.testing.assert_allclose(rows[:, 1], 20.0 * np.log10(np.abs(zd4(np.linspace(0.0, 30e6, 64)))), atol=1e-9)
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 1000
    code, _, _ = run("response", "--preset", "zd15", "--n", "64", "--plot", str(svg))
    assert code == 0
    assert ET.parse(svg).getroot().tag.endswith("svg")


def test_response_human_view_and_passivity_warning() -> None:
    code, out, err = run("response", "--preset", "paper-table1", "--n", "128")
    assert code == 0
    assert f"{20 * math.log10(2.3):+.2f} dB" in out  # Table 1's gains sum to −2.3
    assert "warning:" in err and "|H(0)| > 1" in err


def test_unknown_preset_lists_the_names() -> None:
    code, _, err = run("response", "--preset", "zd5")
    assert_one_line_error(code, err, "zd5", *PRESETS)


@pytest.mark.parametrize(
    "args",
    [("--fmin", "10e6", "--fmax", "1e6"), ("--fmin", "-1"), ("--n", "1"), ("--plot", "h.pdf")],
)
def test_response_bad_band_or_plot_name(args: tuple[str, ...]) -> None:
    code, _, err = run("response", "--preset", "zd4", *args)
    assert_one_line_error(code, err)


def test_noise_psd_esmailian_with_rbw() -> None:
    code, out, _ = run("noise", "--model", "esmailian", "--case", "worst", "--n", "30", "--rbw", "100e3", "--json")
    assert code == 0
    data = json.loads(out)
    f_mhz = np.linspace(1.0, 30.0, 30)
    worst = -145.0 + 53.23 * f_mhz**-0.337  # Esmailian, Kschischang, Gulak (2003), worst case, dBm/Hz
    np.testing.assert_allclose(data["psd_dbm_hz"], worst, atol=1e-9)
    np.testing.assert_allclose(data["analyzer_dbm"], worst + 50.0, atol=1e-9)  # 10·log10(100 kHz) = 50 dB


def test_noise_psd_hooijen_cases() -> None:
    # Vines/Hooijen with the corrected exponent: N = 10^(K − 3.95e-5·f) W/Hz; best case K = −8.64 − 2·0.5
    args = ("noise", "--model", "hooijen", "--n", "4", "--json")
    code, out, _ = run(*args, "--case", "best", "--fmin", "10e3", "--fmax", "100e3")
    assert code == 0
    f = np.linspace(10e3, 100e3, 4)
    np.testing.assert_allclose(json.loads(out)["psd_dbm_hz"], 10.0 * (-9.64 - 3.95e-5 * f) + 30.0, atol=1e-9)
    _, out_a, _ = run(*args, "--case", "random", "--seed", "5")
    _, out_b, _ = run(*args, "--case", "random", "--seed", "5")
    _, out_c, _ = run(*args, "--case", "random", "--seed", "6")
    assert out_a == out_b != out_c


@pytest.mark.parametrize(
    "args",
    [
        ("--model", "hooijen", "--fmin", "1e6", "--fmax", "2e6"),  # outside the narrowband model
        ("--model", "esmailian", "--fmin", "100e3", "--fmax", "2e6"),  # below 1 MHz
        ("--model", "vines"),
        ("--case", "typical"),
        ("--series", "pink"),
        ("--series", "burst", "--model", "hooijen", "--narrowband", "1"),  # carriers above fs/2
        ("--series", "background", "--seconds", "100"),
    ],
)
def test_noise_errors_are_one_line(args: tuple[str, ...]) -> None:
    code, _, err = run("noise", *args)
    assert_one_line_error(code, err)


def test_noise_series_class_a_json_and_csv(tmp_path: Path) -> None:
    args = ("noise", "--series", "class-a", "--seconds", "2e-4", "--fs", "75e6", "--seed", "1")
    code, out, _ = run(*args, "--json")
    assert code == 0
    data = json.loads(out)
    n = round(2e-4 * 75e6)
    assert data["n"] == n and len(data["samples_v"]) == n
    assert data["kurtosis"] > 6.0  # class A (A = 0.1) 20 dB above the background: strongly impulsive
    table = tmp_path / "x.csv"
    code, _, _ = run(*args, "--csv", str(table))
    header, rows = read_csv(table)
    assert header == ["t_s", "v"] and rows.shape == (n, 2)
    np.testing.assert_allclose(rows[:, 1], data["samples_v"])  # same seed, same series
    np.testing.assert_allclose(rows[:, 0], np.arange(n) / 75e6)


def test_noise_series_mains_plot(tmp_path: Path) -> None:
    png = tmp_path / "mains.png"
    code, out, _ = run("noise", "--series", "mains", "--fs", "20e6", "--seconds", "0.01", "--plot", str(png))
    assert code == 0 and "kurtosis" in out
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_impedance_from_a_one_port_touchstone(tmp_path: Path) -> None:
    s11 = np.array([0.2 + 0.1j, 0.3 - 0.1j, -0.5 + 0.0j])
    f = np.array([1e6, 2e6, 3e6])
    path = tmp_path / "line.s1p"
    body = "".join(f"{fi:g} {s.real:g} {s.imag:g}\n" for fi, s in zip(f, s11, strict=True))
    path.write_text("! measured\n# Hz S RI R 50\n" + body)
    code, out, _ = run("impedance", "--touchstone", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    z = 50.0 * (1 + s11) / (1 - s11)
    np.testing.assert_allclose(data["z_in_abs_ohm"], np.abs(z), rtol=1e-12)
    np.testing.assert_allclose(data["z_in_phase_rad"], np.angle(z), atol=1e-12)


def test_impedance_from_a_two_port_line_section(tmp_path: Path) -> None:
    # A lossless 100 Ω line section of electrical length θ, S at Z0 = 50 Ω (Pozar, Microwave Eng., Table 4.2)
    zc, z0 = 100.0, 50.0
    f = np.array([1e6, 2e6, 4e6])
    theta = np.array([0.3, 0.6, 1.2])
    a, b, c = np.cos(theta), 1j * zc * np.sin(theta), 1j * np.sin(theta) / zc
    delta = 2 * a + b / z0 + c * z0
    s11, s21 = (b / z0 - c * z0) / delta, 2.0 / delta
    rows = [
        f"{fi:g} "
        + " ".join(f"{v:.17g}" for v in (x.real, x.imag, y.real, y.imag, y.real, y.imag, x.real, x.imag))
        + "\n"
        for fi, x, y in zip(f, s11, s21, strict=True)  # Touchstone 1.x order: S11 S21 S12 S22
    ]
    path = tmp_path / "section.s2p"
    path.write_text("# Hz S RI R 50\n" + "".join(rows))
    code, out, _ = run("impedance", "--touchstone", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    np.testing.assert_allclose(data["zc_abs_ohm"], zc, rtol=1e-9)
    z_in = zc * (z0 + 1j * zc * np.tan(theta)) / (zc + 1j * z0 * np.tan(theta))
    np.testing.assert_allclose(data["z_in_abs_ohm"], np.abs(z_in), rtol=1e-9)


def test_impedance_of_the_overhead_line_model() -> None:
    code, out, _ = run("impedance", "--line", "single-wire", "--fmin", "1e6", "--fmax", "30e6", "--n", "5", "--json")
    assert code == 0
    zc = np.array(json.loads(out)["zc_abs_ohm"])
    # phase wire Ø 13.5 mm at 10.5 m over a perfect ground: (η0/2π)·acosh(h/r) ≈ 60·ln(2h/r), η0 = 376.730 Ω
    z0 = 376.730313668 / (2 * math.pi) * math.acosh(10.5 / 6.75e-3)
    np.testing.assert_allclose(zc, z0, rtol=0.02)  # conductor loss adds a little at low frequency


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--line", "phase-earth"),
        ("--line", "single-wire", "--load", "50"),
        ("--touchstone", "{tmp}/missing.s1p"),
        ("--touchstone", "{tmp}/bad.s1p"),
        ("--touchstone", "{tmp}/wrong.txt"),
    ],
)
def test_impedance_errors_are_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "bad.s1p").write_text("# Hz S RI R 50\n1e6 0.2\n2e6 0.1 0.1 0.3\n")
    (tmp_path / "wrong.txt").write_text("# Hz S RI R 50\n1e6 0.2 0.1\n")
    code, _, err = run("impedance", *(a.format(tmp=tmp_path) for a in args))
    assert_one_line_error(code, err)


def test_capacity_cenelec_a_against_the_formula() -> None:
    args = ("--preset", "zd4", "--noise", "hooijen", "--case", "worst", "--mask", "cenelec-a", "--n", "181")
    code, out, _ = run("capacity", *args, "--json")
    assert code == 0
    data = json.loads(out)
    lo, hi = 5e3, 95e3  # CENELEC A (3–95 kHz) ∩ the Hooijen model (5–150 kHz)
    assert data["band_hz"] == [lo, hi]
    f = np.linspace(lo, hi, 181)
    tx = 5.0**2 / 50.0 / (95e3 - 3e3)  # EN 50065-1: 134 dBµV (5 V rms) into 50 Ω over 3–95 kHz, in W/Hz
    noise = 10.0 ** (-7.64 - 3.95e-5 * f)  # Hooijen worst case, W/Hz
    snr = np.abs(zd4(f)) ** 2 * tx / noise
    assert data["capacity_bps"] == pytest.approx(np.trapezoid(np.log2(1 + snr), f), rel=1e-9)
    np.testing.assert_allclose(data["snr_db"], 10 * np.log10(snr), atol=1e-9)


def test_capacity_errors() -> None:
    code, _, err = run("capacity", "--preset", "zd4", "--noise", "hooijen")  # homeplug band vs 5–150 kHz
    assert_one_line_error(code, err, "do not overlap")
    code, _, err = run("capacity", "--preset", "zd4", "--mask", "fcc")
    assert_one_line_error(code, err, "homeplug")
    code, _, err = run("capacity", "--preset", "nope")
    assert_one_line_error(code, err, "zd4")


def test_ber_small_run_has_analytic_and_ci_columns(tmp_path: Path) -> None:
    table = tmp_path / "ber.csv"
    args = ("ber", "--modem", "homeplug", "--modulation", "bpsk", "--snr", "0,3", "--bits", "3000", "--seed", "7")
    code, out, _ = run(*args, "--json")
    assert code == 0
    data = json.loads(out)
    ebn0 = np.array([0.0, 3.0])
    np.testing.assert_allclose(data["ebn0_db"], ebn0)
    analytic = 0.5 * special.erfc(np.sqrt(10 ** (ebn0 / 10)))  # BPSK: Q(√(2 Eb/N0)) = ½ erfc(√(Eb/N0))
    np.testing.assert_allclose(data["ber_analytic"], analytic, rtol=1e-12)
    errors, bits = np.array(data["n_errors"]), np.array(data["n_bits"])
    assert np.all(bits >= 3000)
    np.testing.assert_allclose(data["ber"], errors / bits)
    assert np.all(np.array(data["ci_low"]) <= data["ber"]) and np.all(np.array(data["ber"]) <= data["ci_high"])
    code, _, _ = run(*args, "--csv", str(table), "--plot", str(tmp_path / "ber.svg"))
    assert code == 0
    header, rows = read_csv(table)
    assert {"ber", "ci_low", "ci_high", "ber_analytic"} <= set(header) and rows.shape[0] == 2
    assert ET.parse(tmp_path / "ber.svg").getroot().tag.endswith("svg")


@pytest.mark.parametrize(
    "args",
    [
        ("--snr", "5:1:1"),
        ("--snr", "a,b"),
        ("--modem", "homeplug", "--modulation", "dbpsk"),
        ("--modem", "hpav"),
        ("--bits", "0"),
        ("--confidence", "1.5"),
    ],
)
def test_ber_errors_are_one_line(args: tuple[str, ...]) -> None:
    code, _, err = run("ber", *args)
    assert_one_line_error(code, err)


def test_paper_writes_svg_figures_and_report(tmp_path: Path) -> None:
    out = tmp_path / "paper"
    code, stdout, _ = run("paper", "--out", str(out), "--format", "svg")
    assert code == 0
    for stem in ("output_spectrum", "impedance", "attenuation_lengths", "measured_vs_models", "noise"):
        assert ET.parse(out / f"{stem}.svg").getroot().tag.endswith("svg")
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# Kim et al. (2002)")
    assert "report.md" in stdout


def test_paper_refuses_a_file_as_folder_and_unknown_formats(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    code, _, err = run("paper", "--out", str(target))
    assert_one_line_error(code, err, "not a folder")
    code, _, err = run("paper", "--out", str(tmp_path), "--format", "pdf")
    assert_one_line_error(code, err, "png")


def test_blas_threads_are_left_alone_when_the_variable_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert limit_blas_threads() == "unchanged"
