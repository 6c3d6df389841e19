"""``openami plc response | noise | impedance``: the channel's transfer function, noise and impedance."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer

from openami.channel.errors import ChannelModelError
from openami.channel.presets import PRESETS, get_preset
from openami.cli.common import fail
from openami.cli.plc_common import (
    _DEFAULT_FS_HZ,
    _MAX_SAMPLES,
    NOISE_CASES,
    NOISE_MODELS,
    SERIES_KINDS,
    CsvOption,
    FloatArray,
    JsonOption,
    PlotOption,
    PresetOption,
    background_psd,
    check_plot,
    choice,
    db20,
    emit_json,
    frequency_grid,
    jsonable,
    model_errors,
    model_range,
    passivity_warnings,
    plc_app,
    summary,
    write_csv,
)


@plc_app.command("response")
def response(
    preset: PresetOption,
    fmin: Annotated[float, typer.Option("--fmin", help="lowest frequency (Hz)")] = 0.0,
    fmax: Annotated[float, typer.Option("--fmax", help="highest frequency (Hz)")] = 30e6,
    n: Annotated[int, typer.Option("--n", help="number of frequencies")] = 1024,
    as_json: JsonOption = False,
    csv_path: CsvOption = None,
    plot: PlotOption = None,
) -> None:
    """Transfer function H(f) of a multipath preset: |H| in dB, unwrapped phase, group delay."""
    if preset not in PRESETS:
        fail(f"--preset {preset!r}: unknown preset; expected one of {', '.join(sorted(PRESETS))}")
    check_plot(plot)
    p = get_preset(preset)
    f = frequency_grid(fmin, fmax, n)
    with model_errors(), passivity_warnings():
        h = p.response(f)
    h_db = db20(h)
    phase = np.unwrap(np.angle(h))
    group_delay = -np.gradient(phase, 2.0 * np.pi * f)
    columns = {"f_hz": f, "h_db": h_db, "phase_rad": phase, "group_delay_s": group_delay}
    if csv_path is not None:
        write_csv(csv_path, columns)
    if plot is not None:
        from openami.plc.plots import plot_response

        with model_errors("--plot"):
            plot_response(plot, f, h, title=f"{preset}: H(f)")
    if as_json:
        emit_json({"preset": preset, "h0_db": p.h0_db(), **{k: jsonable(v) for k, v in columns.items()}})
        return
    from openami.channel.impulse import coherence_bandwidth, discrete_delay_stats

    with model_errors():
        stats = discrete_delay_stats(p.delays(), np.abs(np.asarray(p.g)) * np.exp(-p.a0 * np.asarray(p.d_m)))
        bc = coherence_bandwidth(f, h, 0.9)
    finite = h_db[np.isfinite(h_db)]
    summary(
        f"{preset}{'' if p.confirmed else ' (UNCONFIRMED)'}",
        [
            ("source", p.source),
            ("caveats", p.caveats or "—"),
            ("paths, k, a0, a1", f"{p.n_paths}, {p.k:g}, {p.a0:g}, {p.a1:.3g}"),
            ("|H(0)|", f"{p.h0_db():+.2f} dB"),
            ("band", f"{fmin:g} … {fmax:g} Hz, {n} points"),
            ("|H| min / mean / max", f"{finite.min():.1f} / {finite.mean():.1f} / {finite.max():.1f} dB"),
            ("rms delay spread (paths)", f"{stats.rms_delay_spread_s * 1e9:.1f} ns"),
            ("coherence bandwidth (0.9)", f"{bc / 1e3:.1f} kHz" if math.isfinite(bc) else "beyond the grid"),
        ],
    )


# ------------------------------------------------------------------------------------------------- noise


@plc_app.command("noise")
def noise(
    model: Annotated[str, typer.Option("--model", help="esmailian (1–30 MHz) or hooijen (5–150 kHz)")] = "esmailian",
    case: Annotated[str, typer.Option("--case", help="best, mean, worst or random (uses --seed)")] = "worst",
    seed: Annotated[int, typer.Option("--seed", help="seed of the random generator")] = 0,
    fmin: Annotated[float | None, typer.Option("--fmin", help="lowest frequency (Hz; default: model range)")] = None,
    fmax: Annotated[float | None, typer.Option("--fmax", help="highest frequency (Hz; default: model range)")] = None,
    n: Annotated[int, typer.Option("--n", help="number of frequencies")] = 256,
    rbw: Annotated[float | None, typer.Option("--rbw", help="also give analyser readings at this RBW (Hz)")] = None,
    series: Annotated[
        str | None, typer.Option("--series", help=f"time series instead of a PSD: {', '.join(SERIES_KINDS)}")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option("--seconds", help="series length (s; default 1 ms, mains 2 periods)")
    ] = None,
    fs: Annotated[float | None, typer.Option("--fs", help="sample rate (Hz; default 75 MHz / 400 kHz)")] = None,
    impulse_db: Annotated[float, typer.Option("--impulse-db", help="impulsive power over the background (dB)")] = 20.0,
    index: Annotated[float, typer.Option("--class-a-index", help="class-A impulsive index A")] = 0.1,
    gamma: Annotated[float, typer.Option("--gamma", help="class-A Gaussian-to-impulsive power ratio Γ")] = 0.01,
    f0: Annotated[float | None, typer.Option("--f0", help="impulse oscillation frequency (Hz; default fs/25)")] = None,
    per_cycle: Annotated[int, typer.Option("--per-cycle", help="mains-synchronous impulses per cycle (1 or 2)")] = 2,
    mains_hz: Annotated[float, typer.Option("--mains-hz", help="mains frequency (Hz)")] = 60.0,
    narrowband: Annotated[int, typer.Option("--narrowband", help="interferers per band (0.5–1, 3–7 MHz)")] = 0,
    as_json: JsonOption = False,
    csv_path: CsvOption = None,
    plot: PlotOption = None,
) -> None:
    """Background noise PSD in dBm/Hz (best/mean/worst/random), or a noise time series with impulses."""
    choice(model, NOISE_MODELS, "--model")
    choice(case, NOISE_CASES, "--case")
    check_plot(plot)
    rng = np.random.default_rng(seed)
    if series is not None:
        choice(series, SERIES_KINDS, "--series")
        _noise_series(
            model,
            case,
            rng,
            series,
            seconds,
            fs,
            impulse_db,
            (index, gamma),
            f0,
            (per_cycle, mains_hz),
            narrowband,
            as_json,
            csv_path,
            plot,
        )
        return
    from openami.channel import noise_psd as npsd

    lo, hi = model_range(model)
    f = frequency_grid(lo if fmin is None else fmin, hi if fmax is None else fmax, n)
    with model_errors(f"--model {model}"):
        psd_w, detail = background_psd(f, model, case, rng)
        columns: dict[str, FloatArray] = {"f_hz": f, "psd_dbm_hz": npsd.w_to_dbm(psd_w)}
        if rbw is not None:
            columns["analyzer_dbm"] = npsd.psd_dbm_per_hz_to_analyzer_dbm(columns["psd_dbm_hz"], rbw)
    if csv_path is not None:
        write_csv(csv_path, columns)
    if plot is not None:
        from openami.plc.plots import plot_curves

        curves = {"PSD (dBm/Hz)": columns["psd_dbm_hz"]}
        if rbw is not None:
            curves[f"analyser reading at RBW {rbw:g} Hz (dBm)"] = columns["analyzer_dbm"]
        with model_errors("--plot"):
            plot_curves(plot, f, curves, ylabel="dBm/Hz, dBm", title=f"{model} background noise, {case}: {detail}")
    if as_json:
        extra = {"rbw_hz": rbw} if rbw is not None else {}
        emit_json(
            {
                "model": model,
                "case": case,
                "case_detail": detail,
                "seed": seed,
                **extra,
                **{k: jsonable(v) for k, v in columns.items()},
            }
        )
        return
    psd = columns["psd_dbm_hz"]
    rows = [
        ("model, case", f"{model}, {case}: {detail}"),
        ("band", f"{f[0]:g} … {f[-1]:g} Hz, {n} points"),
        ("PSD at the band edges", f"{psd[0]:.1f} / {psd[-1]:.1f} dBm/Hz"),
    ]
    if rbw is not None:
        reading = columns["analyzer_dbm"]
        rows.append((f"analyser at RBW {rbw:g} Hz", f"{reading[0]:.1f} / {reading[-1]:.1f} dBm"))
    summary("background noise", rows)


def _noise_series(
    model: str,
    case: str,
    rng: np.random.Generator,
    series: str,
    seconds: float | None,
    fs: float | None,
    impulse_db: float,
    class_a: tuple[float, float],
    f0: float | None,
    mains: tuple[int, float],
    narrowband: int,
    as_json: bool,
    csv_path: Path | None,
    plot: Path | None,
) -> None:
    """The time-series branch of `noise`: coloured background + the chosen impulses (+ narrowband lines)."""
    from openami.channel import noise_psd as npsd
    from openami.channel import noise_time as nt

    index, gamma = class_a
    per_cycle, mains_hz = mains

    fs_hz = _DEFAULT_FS_HZ[model] if fs is None else fs
    if not (math.isfinite(fs_hz) and fs_hz > 0):
        fail(f"--fs: need a sample rate > 0 Hz, got {fs_hz:g}")
    if seconds is None:
        seconds = 2.0 / (per_cycle * mains_hz) if series == "mains" and per_cycle > 0 and mains_hz > 0 else 1e-3
    if not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds: need a duration > 0 s, got {seconds:g}")
    count = round(seconds * fs_hz)
    if not 2 <= count <= _MAX_SAMPLES:
        fail(f"--seconds × --fs gives {count} samples; need 2 … {_MAX_SAMPLES}")
    if narrowband < 0:
        fail("--narrowband: need a count ≥ 0")
    lo, hi = model_range(model)
    f_r = nt.rfft_frequencies(count, fs_hz)
    inside = (f_r >= lo) & (f_r <= hi)
    if not inside.any():
        fail(f"--fs {fs_hz:g} Hz: no frequency of the series lies in the {model} model's {lo:g}–{hi:g} Hz")
    with model_errors(f"--series {series}"):
        psd = np.zeros(f_r.shape)
        psd[inside], detail = background_psd(f_r[inside], model, case, rng)
        x = nt.colored_gaussian_noise(count, fs_hz, psd, rng)
        p_background = float(np.sum(psd) * fs_hz / count)
        p_impulse = p_background * 10.0 ** (impulse_db / 10.0)
        amplitude = math.sqrt(2.0 * p_impulse)
        f_imp = fs_hz / 25.0 if f0 is None else f0
        t = np.arange(count) / fs_hz
        if series == "class-a":
            x = x + np.asarray(nt.class_a_noise(count, index, gamma, p_impulse, rng))
        elif series == "bernoulli-gaussian":
            x = x + np.asarray(nt.bernoulli_gaussian_noise(count, nt.class_a_two_term(index, gamma, p_impulse), rng))
        elif series in ("damped", "burst"):
            shape = nt.damped_impulse if series == "damped" else nt.burst_impulse
            x = x + shape(t - 0.25 * seconds, amplitude, f_imp)
        elif series == "mains":
            x = x + nt.mains_synchronous_impulses(count, fs_hz, amplitude, f_imp, k=per_cycle, f_net_hz=mains_hz)
        if narrowband:
            x = x + nt.narrowband_noise(count, fs_hz, npsd.random_narrowband_interferers(rng, count=narrowband))
    power = float(np.mean(x**2))
    kurtosis = float(np.mean(x**4) / power**2) if power > 0 else math.nan
    if csv_path is not None:
        write_csv(csv_path, {"t_s": t, "v": x})
    if plot is not None:
        from openami.plc.plots import plot_time_series

        with model_errors("--plot"):
            f_w, p_w = npsd.welch_psd(x, fs_hz, nperseg=min(4096, count))
            plot_time_series(
                plot,
                fs_hz,
                x,
                f_w,
                npsd.w_to_dbm(np.maximum(p_w, 1e-300)),
                model_f_hz=f_r[inside],
                model_dbm_hz=npsd.w_to_dbm(psd[inside]),
                title=f"{model} {case} background + {series}",
            )
    head = {
        "model": model,
        "case": case,
        "case_detail": detail,
        "series": series,
        "fs_hz": fs_hz,
        "n": count,
        "background_dbm": float(npsd.w_to_dbm(p_background)),
        "rms_dbm": float(npsd.w_to_dbm(power)),
        "peak_v": float(np.max(np.abs(x))),
        "kurtosis": kurtosis,
    }
    if as_json:
        emit_json({**head, "samples_v": jsonable(x)})
        return
    summary(
        f"noise time series: {series}",
        [
            ("model, case", f"{model}, {case}: {detail}"),
            ("samples", f"{count} at {fs_hz:g} Hz ({seconds:g} s)"),
            ("background power (model)", f"{head['background_dbm']:.1f} dBm"),
            ("power of the series", f"{head['rms_dbm']:.1f} dBm"),
            ("peak", f"{head['peak_v']:.3g} V"),
            ("kurtosis (3 = Gaussian)", f"{kurtosis:.2f}"),
        ],
    )


# --------------------------------------------------------------------------------------------- impedance

LINE_MODES = ("single-wire", "phase-neutral", "phase-all-grounded")


@plc_app.command("impedance")
def impedance(
    touchstone: Annotated[
        Path | None, typer.Option("--touchstone", help="measured .s1p/.s2p file (Z_in; Zc of a section)")
    ] = None,
    line: Annotated[str | None, typer.Option("--line", help=f"overhead-line model: {', '.join(LINE_MODES)}")] = None,
    earth: Annotated[
        float | None, typer.Option("--earth-resistivity", help="earth resistivity (Ω·m; default perfect ground)")
    ] = None,
    length: Annotated[float | None, typer.Option("--length", help="line length (m): γ, or Z_in with --load")] = None,
    load: Annotated[float | None, typer.Option("--load", help="load at the far end (Ω, real) for Z_in")] = None,
    fmin: Annotated[float, typer.Option("--fmin", help="lowest frequency (Hz, > 0)")] = 0.1e6,
    fmax: Annotated[float, typer.Option("--fmax", help="highest frequency (Hz)")] = 30e6,
    n: Annotated[int, typer.Option("--n", help="number of frequencies")] = 300,
    as_json: JsonOption = False,
    csv_path: CsvOption = None,
    plot: PlotOption = None,
) -> None:
    """Impedance magnitude and phase: Z_in (and Zc) from a Touchstone file, or Zc (Z_in) of the 22.9 kV line."""
    if (touchstone is None) == (line is None):
        fail("give exactly one of --touchstone FILE or --line MODE")
    check_plot(plot)
    curves: dict[str, npt.NDArray[np.complex128]] = {}
    if touchstone is not None:
        from openami.channel import impedance as imp

        with model_errors(f"--touchstone {touchstone}"):
            data = imp.read_touchstone(touchstone)
            ports = data.s.shape[1]
            if ports not in (1, 2):
                raise ChannelModelError(f"expected a 1- or 2-port file, got {ports} ports")
            z0 = data.z0[0, 0]
            if np.any(data.z0 != z0) or z0.imag != 0 or not z0.real > 0:
                raise ChannelModelError("the reference impedance must be one real value for all ports")
            f = data.frequency_hz
            curves["z_in"] = imp.s11_to_impedance(data.s[:, 0, 0], z0.real)
            if ports == 2:  # Zc and γ only when the two-port is a line section (B, C ≠ 0)
                with contextlib.suppress(ChannelModelError):
                    curves["zc"], gamma = imp.line_from_abcd(imp.s_to_abcd(data.s, z0.real), length or 1.0)
        source = f"{touchstone.name} ({ports}-port, Z0 = {z0.real:g} Ω; Z_in with port 2 in Z0)"
    else:
        from openami.channel.cable import mv_22k9_line
        from openami.channel.impedance import line_input_impedance

        choice(line or "", LINE_MODES, "--line")
        f = frequency_grid(fmin, fmax, n, positive=True)
        with model_errors(f"--line {line}"):
            model = mv_22k9_line(line, earth_resistivity_ohm_m=earth)  # type: ignore[arg-type]
            curves["zc"] = model.zc(f)
            gamma = model.gamma(f)
            if load is not None:
                if length is None:
                    raise ChannelModelError("--load needs --length (m)")
                curves["z_in"] = line_input_impedance(curves["zc"], gamma, length, load)
        source = f"{model.name}, earth {'perfect' if earth is None else f'{earth:g} Ω·m'}"
    columns: dict[str, FloatArray] = {"f_hz": np.asarray(f, dtype=np.float64)}
    for name, z in curves.items():
        columns[f"{name}_abs_ohm"] = np.abs(z)
        columns[f"{name}_phase_rad"] = np.angle(z)
    if length is not None and "zc" in curves:
        columns["alpha_db_per_m"] = 20.0 / math.log(10.0) * gamma.real
        columns["beta_rad_per_m"] = gamma.imag
    if csv_path is not None:
        write_csv(csv_path, columns)
    if plot is not None:
        from openami.channel.impedance import PAPER_MEASURED_IMPEDANCE_BANDS
        from openami.plc.plots import plot_impedance

        with model_errors("--plot"):
            plot_impedance(
                plot,
                f,
                curves,
                title=source,
                bands=PAPER_MEASURED_IMPEDANCE_BANDS,
                bands_label="measured |Z| (Kim et al. 2002)",
            )
    if as_json:
        emit_json({"source": source, **{k: jsonable(v) for k, v in columns.items()}})
        return
    rows = [("source", source), ("band", f"{f[0]:g} … {f[-1]:g} Hz, {f.size} points")]
    for name, z in curves.items():
        mag = np.abs(z)
        rows.append((f"|{name}| min / median / max", f"{mag.min():.1f} / {np.median(mag):.1f} / {mag.max():.1f} Ω"))
    summary("impedance", rows)


# ---------------------------------------------------------------------------------------------- capacity
