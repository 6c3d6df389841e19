"""Figures of the channel simulator, drawn with matplotlib's Agg canvas (PNG) or its SVG backend.

The format follows the file suffix: ``.png`` (raster, Agg, 120 dpi) or ``.svg`` (vector); anything else
raises `ChannelModelError` (`plot_format` checks a path before any work is done). No pyplot: every figure
is a `matplotlib.figure.Figure` with its own Agg canvas, so nothing global (backend, open figures) is
touched and the functions are safe to call from tests and servers. matplotlib is imported inside the
functions, so importing `openami.channel` never loads it.

Inputs follow the package's conventions: frequencies in Hz (shown in kHz or MHz), H complex and
dimensionless, impedances complex in Ω, PSDs in dBm/Hz, time series in V, delays in s. Curves are given
as mappings label → array so callers decide the legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from openami.channel.errors import ChannelModelError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "Band",
    "PlotFormat",
    "frequency_scale",
    "new_figure",
    "plot_ber",
    "plot_curves",
    "plot_format",
    "plot_impedance",
    "plot_response",
    "plot_time_series",
    "save_figure",
    "shade_bands",
]

PlotFormat = Literal["png", "svg"]
Band = tuple[float, float, float, float]
"""A measured box: (f_low Hz, f_high Hz, y_low, y_high) in the plot's y unit."""

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
_DPI = 120


def plot_format(path: str | Path) -> PlotFormat:
    """The format ("png" or "svg") from the suffix of `path`, case-insensitive; ChannelModelError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return "png"
    if suffix == ".svg":
        return "svg"
    raise ChannelModelError(f"{Path(path).name}: a plot file must end in .png or .svg")


def new_figure(rows: int = 1, cols: int = 1, *, width: float = 8.0, height: float = 4.5) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure (size in inches) on an Agg canvas and its axes, row by row."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write `fig` as PNG or SVG (by suffix); parent folders must exist. Returns the path.

    SVG files carry no date, so the same figure gives the same file.
    """
    p = Path(path)
    fmt = plot_format(p)
    if fmt == "svg":
        fig.savefig(p, format="svg", metadata={"Date": None})
    else:
        fig.savefig(p, format="png", dpi=_DPI)
    return p


def frequency_scale(f_hz: npt.ArrayLike) -> tuple[float, str]:
    """(divisor, axis label): MHz when the grid reaches 1 MHz, kHz when it reaches 1 kHz, else Hz."""
    top = float(np.max(np.asarray(f_hz, dtype=np.float64))) if np.size(f_hz) else 0.0
    if top >= 1e6:
        return 1e6, "frequency (MHz)"
    if top >= 1e3:
        return 1e3, "frequency (kHz)"
    return 1.0, "frequency (Hz)"


def shade_bands(ax: Axes, bands: Sequence[Band], scale: float, label: str, color: str = "tab:gray") -> None:
    """Draw measured ranges as translucent boxes (f in Hz divided by `scale`), one legend entry."""
    for i, (f_lo, f_hi, y_lo, y_hi) in enumerate(bands):
        ax.fill_between(
            [f_lo / scale, f_hi / scale],
            [y_lo, y_lo],
            [y_hi, y_hi],
            color=color,
            alpha=0.25,
            linewidth=0,
            label=label if i == 0 else None,
        )


def _finite(y: npt.ArrayLike) -> FloatArray:
    a = np.asarray(y, dtype=np.float64)
    return np.where(np.isfinite(a), a, np.nan)


def _db(h: npt.ArrayLike) -> FloatArray:
    with np.errstate(divide="ignore"):
        return _finite(20.0 * np.log10(np.abs(np.asarray(h, dtype=np.complex128))))


def plot_response(path: str | Path, f_hz: npt.ArrayLike, h: npt.ArrayLike, *, title: str = "") -> Path:
    """|H(f)| in dB and the unwrapped phase (rad) of one channel: f (n_f,) Hz, h (n_f,) complex."""
    f = np.asarray(f_hz, dtype=np.float64)
    hh = np.asarray(h, dtype=np.complex128)
    scale, label = frequency_scale(f)
    fig, (top, bottom) = new_figure(2, 1, height=6.0)
    top.plot(f / scale, _db(hh), color="tab:blue")
    top.set_ylabel("|H| (dB)")
    top.grid(True, alpha=0.3)
    top.set_title(title)
    bottom.plot(f / scale, np.unwrap(np.angle(hh)), color="tab:orange")
    bottom.set_ylabel("phase (rad, unwrapped)")
    bottom.set_xlabel(label)
    bottom.grid(True, alpha=0.3)
    return save_figure(fig, path)


def plot_curves(
    path: str | Path,
    f_hz: npt.ArrayLike,
    curves: Mapping[str, npt.ArrayLike],
    *,
    ylabel: str,
    title: str = "",
    bands: Sequence[Band] = (),
    bands_label: str = "measured",
    points: Mapping[str, tuple[float, float]] | None = None,
    styles: Mapping[str, str] | None = None,
) -> Path:
    """Real curves on one frequency axis: f (n_f,) Hz, each curve (n_f,) in `ylabel`'s unit (NaN/inf gaps).

    `bands`: measured boxes to shade; `points`: labelled single points (f Hz, y); `styles`: label →
    matplotlib format string (e.g. "--").
    """
    f = np.asarray(f_hz, dtype=np.float64)
    scale, label = frequency_scale(f)
    fig, (ax,) = new_figure()
    if bands:
        shade_bands(ax, bands, scale, bands_label)
    for name, y in curves.items():
        fmt = (styles or {}).get(name, "-")
        ax.plot(f / scale, _finite(y), fmt, label=name)
    for name, (fx, fy) in (points or {}).items():
        ax.plot([fx / scale], [fy], "o", color="black", label=name)
    ax.set_xlabel(label)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, path)


def plot_impedance(
    path: str | Path,
    f_hz: npt.ArrayLike,
    curves: Mapping[str, npt.ArrayLike],
    *,
    title: str = "",
    bands: Sequence[Band] = (),
    bands_label: str = "measured |Z|",
) -> Path:
    """|Z| (Ω) and arg Z (degrees) of complex impedances (n_f,) on f (n_f,) Hz, measured |Z| boxes shaded."""
    f = np.asarray(f_hz, dtype=np.float64)
    scale, label = frequency_scale(f)
    fig, (top, bottom) = new_figure(2, 1, height=6.0)
    if bands:
        shade_bands(top, bands, scale, bands_label)
    for name, z in curves.items():
        zz = np.asarray(z, dtype=np.complex128)
        top.plot(f / scale, _finite(np.abs(zz)), label=name)
        bottom.plot(f / scale, _finite(np.degrees(np.angle(zz))), label=name)
    top.set_ylabel("|Z| (Ω)")
    top.set_title(title)
    top.grid(True, alpha=0.3)
    top.legend(fontsize="small")
    bottom.set_ylabel("arg Z (°)")
    bottom.set_xlabel(label)
    bottom.grid(True, alpha=0.3)
    return save_figure(fig, path)


def plot_time_series(
    path: str | Path,
    fs_hz: float,
    x: npt.ArrayLike,
    psd_f_hz: npt.ArrayLike,
    psd_dbm_hz: npt.ArrayLike,
    *,
    model_f_hz: npt.ArrayLike | None = None,
    model_dbm_hz: npt.ArrayLike | None = None,
    title: str = "",
    max_points: int = 20_000,
) -> Path:
    """A noise time series x (n,) V at fs Hz (top; min/max decimated to `max_points`) and its PSD (bottom).

    psd_f_hz (m,) Hz with psd_dbm_hz (m,) dBm/Hz (e.g. Welch); the model PSD, when given, is drawn dashed.
    """
    xs = np.asarray(x, dtype=np.float64)
    n = xs.size
    if n == 0:
        raise ChannelModelError("empty time series")
    fig, (top, bottom) = new_figure(2, 1, height=6.0)
    step = max(1, math.ceil(n / max(2, max_points // 2)))
    usable = (n // step) * step
    if step > 1 and usable > 0:
        blocks = xs[:usable].reshape(-1, step)
        t = (np.arange(blocks.shape[0]) * step) / fs_hz
        top.fill_between(t * 1e3, blocks.min(axis=1), blocks.max(axis=1), color="tab:blue", linewidth=0.5)
    else:
        top.plot(np.arange(n) / fs_hz * 1e3, xs, color="tab:blue", linewidth=0.6)
    top.set_xlabel("time (ms)")
    top.set_ylabel("v (V on 1 Ω)")
    top.set_title(title)
    top.grid(True, alpha=0.3)
    pf = np.asarray(psd_f_hz, dtype=np.float64)
    scale, label = frequency_scale(pf)
    bottom.plot(pf / scale, _finite(psd_dbm_hz), label="estimate (Welch)")
    if model_f_hz is not None and model_dbm_hz is not None:
        mf = np.asarray(model_f_hz, dtype=np.float64)
        bottom.plot(mf / scale, _finite(model_dbm_hz), "--", color="black", label="background model")
    bottom.set_xlabel(label)
    bottom.set_ylabel("PSD (dBm/Hz)")
    bottom.grid(True, alpha=0.3)
    bottom.legend(fontsize="small")
    return save_figure(fig, path)


def plot_ber(
    path: str | Path,
    ebn0_db: npt.ArrayLike,
    ber: npt.ArrayLike,
    ci_low: npt.ArrayLike,
    ci_high: npt.ArrayLike,
    analytic: npt.ArrayLike,
    *,
    analytic_ebn0_db: npt.ArrayLike | None = None,
    title: str = "",
) -> Path:
    """Simulated BER with its confidence interval (error bars) and the analytic AWGN curve, log scale.

    Simulated arrays (n_points,), Eb/N0 in dB; zero BERs (no errors seen) are drawn at their upper CI
    bound. `analytic` is on `analytic_ebn0_db` (m,) when given (a dense curve), else on `ebn0_db`.
    """
    e = np.asarray(ebn0_db, dtype=np.float64)
    b = np.asarray(ber, dtype=np.float64)
    lo = np.asarray(ci_low, dtype=np.float64)
    hi = np.asarray(ci_high, dtype=np.float64)
    a = np.asarray(analytic, dtype=np.float64)
    fig, (ax,) = new_figure()
    shown = np.where(b > 0, b, hi)
    yerr = np.vstack([np.maximum(shown - lo, 0.0), np.maximum(hi - shown, 0.0)])
    ax.errorbar(e, shown, yerr=yerr, fmt="o", capsize=3, label="simulated (CI)")
    ae = e if analytic_ebn0_db is None else np.asarray(analytic_ebn0_db, dtype=np.float64)
    ax.plot(ae, np.where(a > 0, a, np.nan), "-", label="analytic AWGN")
    positive = np.concatenate([shown[shown > 0], a[a > 0]])
    if positive.size:
        ax.set_yscale("log")
        ax.set_ylim(max(float(positive.min()) / 3.0, 1e-12), 1.0)
    ax.set_xlabel("Eb/N0 (dB)")
    ax.set_ylabel("bit error rate")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, path)
