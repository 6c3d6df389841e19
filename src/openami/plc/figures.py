"""The reference paper's figures redone (matplotlib through `openami.plc.plots`): output spectrum,
impedance, attenuation for the four path lengths, measured bands versus models, noise."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from openami.channel.cable import MV22K9_WIRES, CoaxCable, Mode, mv_22k9_line
from openami.channel.errors import ChannelModelError
from openami.channel.impedance import (
    PAPER_MEASURED_IMPEDANCE_BANDS,
    wires_over_ground_common_mode_z0,
)
from openami.channel.noise_psd import (
    HOOIJEN_SLOPE_PER_HZ,
    EsmailianCase,
    HooijenCase,
    analyzer_dbm_to_psd_dbm_per_hz,
    esmailian_psd_dbm_per_hz,
    hooijen_k,
    hooijen_psd,
    psd_dbm_per_hz_to_analyzer_dbm,
    w_to_dbm,
)
from openami.channel.presets import PAPER_ATTENUATION_BANDS, get_preset

if TYPE_CHECKING:
    from openami.plc.report import PaperNumbers

__all__ = ["FIGURES", "write_paper_figures"]

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[str], None]

PAPER_PRESETS: tuple[str, ...] = ("paper-table1", "paper-table1-lengths", "paper-fit-50m")
PAPER_LENGTHS_M: tuple[float, ...] = (10.0, 20.0, 30.0, 50.0)
"""Figure file stems, in the order `write_paper_figures` draws them."""
MODES: tuple[Mode, ...] = ("single-wire", "phase-neutral", "phase-all-grounded")
_DB_PER_NEPER = 20.0 / math.log(10.0)
_PAPER_NOISE_DBM = -75.0  # the paper's spectrum-analyser reading at 20 MHz (RBW not stated)
_PAPER_NOISE_F_HZ = 20e6
_RBWS_HZ = (10e3, 30e3, 100e3, 1e6)
FIGURES: tuple[str, ...] = ("output_spectrum", "impedance", "attenuation_lengths", "measured_vs_models", "noise")


def _attenuation_db(h: npt.ArrayLike) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.asarray(-20.0 * np.log10(np.maximum(np.abs(np.asarray(h)), 1e-12)), dtype=np.float64)


def _fig_output_spectrum(path: Path, rbw_hz: float, tx_dbm_hz: float) -> None:
    from openami.plc.plots import new_figure, save_figure

    f = np.linspace(0.0, 30e6, 1501)
    fig, (top, bottom) = new_figure(2, 1, height=6.5)
    for name in PAPER_PRESETS:
        h = get_preset(name).response(f, warn=False)
        top.plot(f / 1e6, -_attenuation_db(h), label=name)
        rx = tx_dbm_hz - _attenuation_db(h)
        bottom.plot(f / 1e6, psd_dbm_per_hz_to_analyzer_dbm(rx, rbw_hz), label=f"received, {name}")
    fn = f[f >= 1e6]
    cases: tuple[tuple[EsmailianCase, str], ...] = (("worst", "--"), ("best", ":"))
    for case, style in cases:
        level = psd_dbm_per_hz_to_analyzer_dbm(esmailian_psd_dbm_per_hz(fn, case), rbw_hz)
        bottom.plot(fn / 1e6, level, style, color="black", label=f"noise, Esmailian {case}")
    bottom.plot([_PAPER_NOISE_F_HZ / 1e6], [_PAPER_NOISE_DBM], "s", color="tab:red", label="paper: −75 dBm (RBW ?)")
    top.axhline(0.0, color="black", linewidth=0.8)
    top.set_ylabel("|H| (dB)")
    top.set_title("Simulated channel output (multipath model, the paper's presets)")
    top.legend(fontsize="small")
    top.grid(True, alpha=0.3)
    bottom.set_ylabel(f"analyser level (dBm, RBW {rbw_hz / 1e3:g} kHz)")
    bottom.set_xlabel("frequency (MHz)")
    bottom.set_title(f"Received spectrum for a flat {tx_dbm_hz:g} dBm/Hz transmit PSD")
    bottom.legend(fontsize="x-small", ncol=2)
    bottom.grid(True, alpha=0.3)
    save_figure(fig, path)


def _fig_impedance(path: Path, earth: float, coax_radii_m: tuple[float, float]) -> None:
    from openami.plc.plots import plot_impedance

    f = np.linspace(0.1e6, 30e6, 300)
    curves = {
        f"22.9 kV line, {mode} (earth {earth:g} Ω·m)": mv_22k9_line(mode, earth_resistivity_ohm_m=earth).zc(f)
        for mode in MODES
    }
    common = wires_over_ground_common_mode_z0(
        [w.x_m for w in MV22K9_WIRES], [w.height_m for w in MV22K9_WIRES], [w.conductor.radius_m for w in MV22K9_WIRES]
    )
    curves[f"22.9 kV line, all four wires against earth (lossless, {common:.0f} Ω)"] = np.full(f.shape, common + 0j)
    r1, r2 = coax_radii_m
    curves[f"coax r = {r1 * 1e3:g}/{r2 * 1e3:g} mm (paper's formulas, radius fix)"] = CoaxCable(r1, r2).zc(f)
    plot_impedance(
        path,
        f,
        curves,
        title="Characteristic impedance versus the paper's measured |Z|",
        bands=[(lo, hi, zlo, zhi) for lo, hi, zlo, zhi in PAPER_MEASURED_IMPEDANCE_BANDS],
        bands_label="measured |Z| (Kim et al. 2002)",
    )


def _fig_attenuation_lengths(path: Path, earth: float) -> None:
    from openami.plc.plots import new_figure, save_figure, shade_bands

    f = np.linspace(0.0, 30e6, 601)
    a1_paper, a1_fit = get_preset("paper-table1").a1, get_preset("paper-fit-50m").a1
    fig, (ax,) = new_figure(height=5.0)
    shade_bands(
        ax,
        [(b.f_lo_hz, b.f_hi_hz, b.att_lo_db, b.att_hi_db) for b in PAPER_ATTENUATION_BANDS],
        1e6,
        "measured over 50 m",
    )
    colors = ("tab:blue", "tab:orange", "tab:green", "tab:red")
    for d, color in zip(PAPER_LENGTHS_M, colors, strict=True):
        ax.plot(f / 1e6, _DB_PER_NEPER * a1_fit * np.sqrt(f) * d, "-", color=color, label=f"{d:g} m, fitted a1")
        ax.plot(f / 1e6, _DB_PER_NEPER * a1_paper * np.sqrt(f) * d, "--", color=color, label=f"{d:g} m, printed a1")
    fl = f[1:]
    line = mv_22k9_line("phase-neutral", earth_resistivity_ohm_m=earth)
    ax.plot(
        fl / 1e6, _attenuation_db(line.matched_line_h(fl, 50.0)), ":", color="black", label="50 m of the line itself"
    )
    ax.set_xlabel("frequency (MHz)")
    ax.set_ylabel("attenuation (dB)")
    ax.set_title(f"α(f)·d = (a1·√f)·d: printed a1 = {a1_paper:.2g}, fitted a1 = {a1_fit:.3g}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    save_figure(fig, path)


def _fig_measured_vs_models(path: Path, numbers: PaperNumbers) -> None:
    from openami.plc.plots import new_figure, save_figure, shade_bands

    f = np.linspace(0.0, 30e6, 1501)
    fig, (ax,) = new_figure(height=5.0)
    shade_bands(
        ax,
        [(b.f_lo_hz, b.f_hi_hz, b.att_lo_db, b.att_hi_db) for b in PAPER_ATTENUATION_BANDS],
        1e6,
        "measured over 50 m (Kim et al. 2002)",
    )
    for name, color in zip(PAPER_PRESETS, ("tab:blue", "tab:orange", "tab:green"), strict=True):
        ax.plot(f / 1e6, _attenuation_db(get_preset(name).response(f, warn=False)), color=color, label=name)
        errors = numbers.band_errors[name]
        centres = [0.5 * (e.band.f_lo_hz + e.band.f_hi_hz) / 1e6 for e in errors]
        ax.plot(centres, [e.model_db for e in errors], "o", color=color, markeredgecolor="black")
    ax.plot([], [], "o", color="white", markeredgecolor="black", label="band means (paper_band_errors)")
    ax.set_xlabel("frequency (MHz)")
    ax.set_ylabel("attenuation −20·log10|H| (dB)")
    ax.set_title("Measured attenuation bands versus the models")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    save_figure(fig, path)


def _fig_noise(path: Path) -> None:
    from openami.plc.plots import new_figure, save_figure

    fig, (top, bottom) = new_figure(2, 1, height=6.5)
    fb = np.linspace(1e6, 30e6, 300)
    esm_cases: tuple[EsmailianCase, ...] = ("worst", "best")
    for esm_case in esm_cases:
        top.plot(fb / 1e6, esmailian_psd_dbm_per_hz(fb, esm_case), label=f"Esmailian {esm_case}")
    for rbw in _RBWS_HZ:
        level = float(analyzer_dbm_to_psd_dbm_per_hz(_PAPER_NOISE_DBM, rbw))
        top.plot([_PAPER_NOISE_F_HZ / 1e6], [level], "o", label=f"paper −75 dBm at RBW {rbw / 1e3:g} kHz")
    top.set_xlabel("frequency (MHz)")
    top.set_ylabel("PSD (dBm/Hz)")
    top.set_title("Broadband background noise and the paper's analyser reading")
    top.grid(True, alpha=0.3)
    top.legend(fontsize="x-small", ncol=2)
    fn = np.linspace(5e3, 150e3, 300)
    hooijen_cases: tuple[HooijenCase, ...] = ("worst", "mean", "best")
    for case in hooijen_cases:
        k = float(hooijen_k(case))
        bottom.plot(fn / 1e3, w_to_dbm(hooijen_psd(fn, k)), label=f"Vines/Hooijen {case} (K = {k:g})")
    bottom.set_xlabel("frequency (kHz)")
    bottom.set_ylabel("PSD (dBm/Hz)")
    bottom.set_title(f"Narrowband model 10^(K − {HOOIJEN_SLOPE_PER_HZ:g}·f) W/Hz (as printed: 10^(K − 3.95e5·f) = 0)")
    bottom.grid(True, alpha=0.3)
    bottom.legend(fontsize="small")
    save_figure(fig, path)


def write_paper_figures(
    out_dir: str | Path,
    numbers: PaperNumbers,
    *,
    fmt: str = "png",
    rbw_hz: float = 100e3,
    tx_dbm_hz: float = -50.0,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Draw the five figures (`FIGURES`) into `out_dir` as .png or .svg; returns stem → path."""
    if fmt not in ("png", "svg"):
        raise ChannelModelError(f"figure format must be png or svg, got {fmt!r}")
    if not (math.isfinite(rbw_hz) and rbw_hz > 0):
        raise ChannelModelError("RBW must be > 0 Hz")
    out = Path(out_dir)
    paths = {stem: out / f"{stem}.{fmt}" for stem in FIGURES}
    earth = numbers.earth_resistivity_ohm_m
    steps: dict[str, Callable[[], None]] = {
        "output_spectrum": lambda: _fig_output_spectrum(paths["output_spectrum"], rbw_hz, tx_dbm_hz),
        "impedance": lambda: _fig_impedance(paths["impedance"], earth, numbers.coax_radii_m),
        "attenuation_lengths": lambda: _fig_attenuation_lengths(paths["attenuation_lengths"], earth),
        "measured_vs_models": lambda: _fig_measured_vs_models(paths["measured_vs_models"], numbers),
        "noise": lambda: _fig_noise(paths["noise"]),
    }
    for stem in FIGURES:
        steps[stem]()
        if progress is not None:
            progress(stem)
    return paths
