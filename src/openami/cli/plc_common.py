"""Shared pieces of ``openami plc``: the Typer group, options, output helpers, BLAS thread limit."""

from __future__ import annotations

import contextlib
import csv
import ctypes
import json
import math
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from openami.channel.errors import ChannelModelError
from openami.channel.multipath import PassivityWarning
from openami.channel.presets import PRESETS
from openami.cli.common import console, fail

__all__ = [
    "NOISE_CASES",
    "NOISE_MODELS",
    "SERIES_KINDS",
    "_DEFAULT_FS_HZ",
    "_MAX_SAMPLES",
    "CsvOption",
    "FloatArray",
    "JsonOption",
    "PlotOption",
    "PresetOption",
    "_err",
    "background_psd",
    "check_plot",
    "choice",
    "db20",
    "emit_json",
    "frequency_grid",
    "jsonable",
    "limit_blas_threads",
    "model_errors",
    "model_range",
    "one_line",
    "passivity_warnings",
    "plc_app",
    "progress_bar",
    "summary",
    "write_csv",
]

plc_app = typer.Typer(
    help="Power-line channel: response, noise, impedance, capacity, BER, the paper's figures.", no_args_is_help=True
)
_err = Console(stderr=True)
FloatArray = npt.NDArray[np.float64]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="write the data (columns) to this CSV file")]
PlotOption = Annotated[Path | None, typer.Option("--plot", help="plot to this file (.png or .svg)")]
PresetOption = Annotated[str, typer.Option("--preset", help=f"multipath preset: {', '.join(sorted(PRESETS))}")]


def limit_blas_threads(n: int = 1) -> str:
    """Pin OpenBLAS to `n` threads unless OPENBLAS_NUM_THREADS is set; returns how ("env", "api", "unchanged").

    OpenBLAS reads the variable once, when numpy loads it: setting it later has no effect (checked: the
    library kept its 2 threads). So when numpy is already imported (always, under ``openami``), the
    loaded library's own ``*openblas*_set_num_threads*`` entry point is called through ctypes, found
    via /proc/self/maps (Linux); elsewhere nothing changes — set the variable before starting Python.
    """
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return "unchanged"
    if "numpy" not in sys.modules:
        os.environ["OPENBLAS_NUM_THREADS"] = str(n)
        return "env"
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unchanged"
    libraries = sorted({line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower() and "/" in line})
    names = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_")
    done = False
    for library in libraries:
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for name in (*names, "openblas_set_num_threads"):
            setter = getattr(handle, name, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                done = True
                break
    return "api" if done else "unchanged"


@plc_app.callback()
def _group() -> None:
    """Power-line channel: response, noise, impedance, capacity, BER, the paper's figures."""
    limit_blas_threads()


# ----------------------------------------------------------------------------------------------- helpers


def one_line(exc: BaseException) -> str:
    """The exception's message on one line."""
    return " ".join(str(exc).split())


@contextlib.contextmanager
def model_errors(what: str = "") -> Iterator[None]:
    """Turn ChannelModelError / OSError raised inside into a one-line error and exit 2."""
    prefix = f"{what}: " if what else ""
    try:
        yield
    except ChannelModelError as exc:
        fail(prefix + one_line(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{prefix}{where}{exc.strerror or one_line(exc)}")


@contextlib.contextmanager
def passivity_warnings() -> Iterator[None]:
    """Print PassivityWarnings raised inside as one ``warning:`` line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PassivityWarning)
        yield
    for w in caught:
        if issubclass(w.category, PassivityWarning):
            _err.print(f"[yellow]warning:[/] {w.message}", highlight=False, soft_wrap=True)


def choice(value: str, choices: Sequence[str], option: str) -> str:
    """`value` if it is one of `choices`, else a one-line error naming them."""
    if value not in choices:
        fail(f"{option} {value!r}: expected one of {', '.join(choices)}")
    return value


def frequency_grid(fmin: float, fmax: float, n: int, *, positive: bool = False) -> FloatArray:
    """n uniform frequencies from fmin to fmax (Hz), or a one-line error."""
    if not (math.isfinite(fmin) and math.isfinite(fmax)) or fmin < 0 or fmax <= fmin or (positive and fmin <= 0):
        low = "> 0" if positive else "≥ 0"
        fail(f"--fmin/--fmax: need {low} Hz and fmin < fmax, got {fmin:g} … {fmax:g} Hz")
    if n < 2 or n > 1_000_000:
        fail(f"--n: need 2 … 1000000 frequencies, got {n}")
    return np.linspace(fmin, fmax, n)


def check_plot(path: Path | None) -> None:
    """Fail early when a --plot path has a suffix other than .png or .svg."""
    if path is not None and path.suffix.lower() not in (".png", ".svg"):
        fail(f"--plot {path}: the file must end in .png or .svg")


def jsonable(values: npt.ArrayLike) -> list[float | None]:
    """A float array as a JSON list, non-finite values (−inf dB, NaN) as null."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    return [float(v) if math.isfinite(v) else None for v in arr.tolist()]


def write_csv(path: Path, columns: Mapping[str, npt.ArrayLike]) -> None:
    """Columns of equal length to a CSV file with a header row (repr precision; inf/nan as written by float)."""
    arrays = [np.asarray(c).ravel() for c in columns.values()]
    with model_errors("--csv"), path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(columns))
        for row in zip(*(a.tolist() for a in arrays), strict=True):
            writer.writerow([repr(v) if isinstance(v, float) else v for v in row])


def emit_json(obj: Mapping[str, Any]) -> None:
    """One JSON object on stdout (strict JSON: no NaN/Infinity)."""
    typer.echo(json.dumps(obj, allow_nan=False))


def progress_bar(enabled: bool) -> Progress:
    """A rich progress bar on stderr (disabled: draws nothing)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
        disable=not enabled,
    )


def summary(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A two-column table on stdout."""
    view = RichTable("quantity", "value", title=title)
    for key, value in rows:
        view.add_row(key, value)
    console.print(view)


def db20(h: npt.ArrayLike) -> FloatArray:
    """20·log10|h| (dB), −inf for 0."""
    with np.errstate(divide="ignore"):
        return np.asarray(20.0 * np.log10(np.abs(np.asarray(h))), dtype=np.float64)


# ---------------------------------------------------------------------------------------------- response


NOISE_MODELS = ("esmailian", "hooijen")
NOISE_CASES = ("best", "mean", "worst", "random")
SERIES_KINDS = ("background", "class-a", "bernoulli-gaussian", "damped", "burst", "mains")
_DEFAULT_FS_HZ = {"esmailian": 75e6, "hooijen": 400e3}
_MAX_SAMPLES = 20_000_000


def model_range(model: str) -> tuple[float, float]:
    """The frequency range (Hz) a background noise model accepts."""
    from openami.channel import noise_psd as npsd

    if model == "hooijen":
        return npsd.HOOIJEN_F_MIN_HZ, npsd.HOOIJEN_F_MAX_HZ
    return npsd.ESMAILIAN_F_MIN_HZ, npsd.ESMAILIAN_F_MAX_HZ


def background_psd(f_hz: FloatArray, model: str, case: str, rng: np.random.Generator) -> tuple[FloatArray, str]:
    """Background PSD (W/Hz) on f_hz and what the case resolved to (K drawn, or the Esmailian mix).

    Esmailian: best, worst, mean (an openami convention: the dB midpoint of the two, mix 0.5) or random
    (mix u ~ U(0, 1) from `rng`). Vines/Hooijen: K = μ − 2σ, μ, μ + 2σ or drawn from N(μ, σ²).
    """
    from openami.channel import noise_psd as npsd

    if model == "hooijen":
        k = float(npsd.hooijen_k("random", rng) if case == "random" else npsd.hooijen_k(case))  # type: ignore[arg-type]
        return npsd.hooijen_psd(f_hz, k), f"K = {k:.4f} (log10 W/Hz at 0 Hz)"
    mix = float(rng.uniform(0.0, 1.0)) if case == "random" else {"best": 0.0, "mean": 0.5, "worst": 1.0}[case]
    psd = npsd.esmailian_psd(f_hz, "random", mix=mix)
    return psd, f"mix u = {mix:.4f} (dB interpolation, 0 = best, 1 = worst)"
