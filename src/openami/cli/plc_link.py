"""``openami plc capacity | ber | paper``: SNR and capacity, modem error rates, the paper's figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table as RichTable

from openami.channel.presets import PRESETS, get_preset
from openami.cli.common import console, fail
from openami.cli.plc_common import (
    NOISE_CASES,
    NOISE_MODELS,
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
    progress_bar,
    summary,
    write_csv,
)

MASKS = ("homeplug", "homeplug-55", "cenelec-a")


@plc_app.command("capacity")
def capacity(
    preset: PresetOption,
    noise_model: Annotated[str, typer.Option("--noise", help="esmailian or hooijen")] = "esmailian",
    case: Annotated[str, typer.Option("--case", help="best, mean, worst or random")] = "worst",
    seed: Annotated[int, typer.Option("--seed", help="seed for the random case")] = 0,
    mask: Annotated[str, typer.Option("--mask", help=f"transmit PSD mask: {', '.join(MASKS)}")] = "homeplug",
    fmin: Annotated[float | None, typer.Option("--fmin", help="band start (Hz; default mask ∩ noise model)")] = None,
    fmax: Annotated[float | None, typer.Option("--fmax", help="band end (Hz; default mask ∩ noise model)")] = None,
    n: Annotated[int, typer.Option("--n", help="number of frequencies")] = 2048,
    as_json: JsonOption = False,
    csv_path: CsvOption = None,
    plot: PlotOption = None,
) -> None:
    """SNR(f) = |H|²·S_tx/N under a transmit mask, and the Shannon capacity ∫log2(1 + SNR) df over the band."""
    from openami.channel import noise_psd as npsd
    from openami.channel.link import shannon_capacity, snr_linear
    from openami.channel.ofdm import cenelec_a_mask, homeplug_conservative_mask, homeplug_mask

    if preset not in PRESETS:
        fail(f"--preset {preset!r}: unknown preset; expected one of {', '.join(sorted(PRESETS))}")
    choice(noise_model, NOISE_MODELS, "--noise")
    choice(case, NOISE_CASES, "--case")
    choice(mask, MASKS, "--mask")
    check_plot(plot)
    tx = {"homeplug": homeplug_mask, "homeplug-55": homeplug_conservative_mask, "cenelec-a": cenelec_a_mask}[mask]()
    lo_n, hi_n = model_range(noise_model)
    lo = max(tx.band_hz[0], lo_n) if fmin is None else fmin
    hi = min(tx.band_hz[1], hi_n) if fmax is None else fmax
    if fmin is None and fmax is None and lo >= hi:
        fail(
            f"--mask {mask} ({tx.band_hz[0]:g}–{tx.band_hz[1]:g} Hz) and --noise {noise_model} "
            f"({lo_n:g}–{hi_n:g} Hz) do not overlap"
        )
    f = frequency_grid(lo, hi, n)
    rng = np.random.default_rng(seed)
    with model_errors(), passivity_warnings():
        h = get_preset(preset).response(f)
        noise_w, detail = background_psd(f, noise_model, case, rng)
        snr = snr_linear(f, h, noise_w, tx)
        cap = float(shannon_capacity(f, snr, (lo, hi)))
    with np.errstate(divide="ignore"):
        snr_db = 10.0 * np.log10(snr)
    columns = {
        "f_hz": f,
        "h_db": db20(h),
        "noise_dbm_hz": npsd.w_to_dbm(noise_w),
        "tx_dbm_hz": tx.psd_dbm_hz(f),
        "snr_db": snr_db,
    }
    if csv_path is not None:
        write_csv(csv_path, columns)
    title = f"{preset}, {noise_model} {case}, {mask}: C = {cap / 1e6:.3g} Mbit/s"
    if plot is not None:
        from openami.plc.plots import plot_curves

        with model_errors("--plot"):
            plot_curves(plot, f, {"SNR (dB)": snr_db, "|H| (dB)": columns["h_db"]}, ylabel="dB", title=title)
    if as_json:
        emit_json(
            {
                "preset": preset,
                "noise": noise_model,
                "case": case,
                "case_detail": detail,
                "mask": mask,
                "band_hz": [lo, hi],
                "capacity_bps": cap,
                **{k: jsonable(v) for k, v in columns.items()},
            }
        )
        return
    finite = snr_db[np.isfinite(snr_db)]
    summary(
        "link budget",
        [
            ("channel, noise, mask", f"{preset}; {noise_model} {case} ({detail}); {mask}"),
            ("band", f"{lo:g} … {hi:g} Hz, {n} points"),
            (
                "SNR min / mean / max",
                f"{finite.min():.1f} / {finite.mean():.1f} / {finite.max():.1f} dB" if finite.size else "no signal",
            ),
            ("Shannon capacity", f"{cap / 1e6:.4g} Mbit/s"),
        ],
    )


# --------------------------------------------------------------------------------------------------- ber

MODEMS = ("homeplug", "g3", "prime")
MODULATIONS = ("bpsk", "qpsk", "16qam", "dbpsk", "dqpsk")


def parse_snr_grid(text: str) -> FloatArray:
    """``"0:10:2"`` (start:stop:step, stop included) or ``"0,3,6"`` → dB values, or a one-line error."""
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if not step > 0 or stop < start or (stop - start) / step > 1000:
                raise ValueError
            values = np.arange(start, stop + step / 2.0, step)
        else:
            values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        fail(f"--snr {text!r}: expected start:stop:step (e.g. 0:10:2) or a list (e.g. 0,3,6) in dB")
    if values.size == 0 or values.size > 1000 or not np.all(np.isfinite(values)):
        fail(f"--snr {text!r}: need 1 … 1000 finite values")
    return np.asarray(values, dtype=np.float64)


@plc_app.command("ber")
def ber(
    modem_name: Annotated[str, typer.Option("--modem", help=f"OFDM grid: {', '.join(MODEMS)}")] = "homeplug",
    modulation: Annotated[str, typer.Option("--modulation", help=", ".join(MODULATIONS))] = "qpsk",
    snr: Annotated[str, typer.Option("--snr", help="SNR grid in dB: start:stop:step or a,b,c")] = "0:8:2",
    snr_kind: Annotated[str, typer.Option("--snr-kind", help="ebn0 (Eb/N0) or esn0 (per-carrier Es/N0)")] = "ebn0",
    bits: Annotated[int, typer.Option("--bits", help="simulated bits per SNR point (at least)")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="seed of the random generator")] = 0,
    confidence: Annotated[float, typer.Option("--confidence", help="confidence level of the intervals")] = 0.95,
    as_json: JsonOption = False,
    csv_path: CsvOption = None,
    plot: PlotOption = None,
) -> None:
    """Simulated BER of an OFDM modem in AWGN, bit by bit, with Clopper–Pearson intervals and the analytic curve."""
    from openami.channel.link import ber_curve
    from openami.channel.ofdm import g3_modem, homeplug_modem, prime_modem

    choice(modem_name, MODEMS, "--modem")
    choice(modulation, MODULATIONS, "--modulation")
    choice(snr_kind, ("ebn0", "esn0"), "--snr-kind")
    if modem_name == "homeplug" and modulation not in ("bpsk", "qpsk", "16qam"):
        fail(f"--modulation {modulation}: the homeplug grid is coherent (bpsk, qpsk, 16qam); use g3 or prime for DPSK")
    check_plot(plot)
    grid = parse_snr_grid(snr)
    if not 1 <= bits <= 100_000_000:
        fail(f"--bits: need 1 … 100000000, got {bits}")
    if not 0.0 < confidence < 1.0:
        fail(f"--confidence: need a level in (0, 1), got {confidence:g}")
    rng = np.random.default_rng(seed)
    with model_errors(f"--modem {modem_name} --modulation {modulation}"):
        modem = {"homeplug": homeplug_modem, "g3": g3_modem, "prime": prime_modem}[modem_name](modulation)  # type: ignore[arg-type]
    names = ("ebn0_db", "snr_db", "n_bits", "n_errors", "ber", "ci_low", "ci_high", "ber_analytic")
    parts: dict[str, list[Any]] = {name: [] for name in names}
    with progress_bar(not as_json) as bar, model_errors():
        task = bar.add_task(f"BER {modem_name} {modulation}", total=grid.size)
        for value in grid:
            bar.update(task, description=f"BER {modem_name} {modulation} at {value:g} dB")
            point = ber_curve(modem, [value], bits, rng, snr_kind=snr_kind, confidence=confidence)  # type: ignore[arg-type]
            for name in names:
                parts[name].append(getattr(point, name)[0])
            bar.advance(task)
    columns = {name: np.asarray(values) for name, values in parts.items()}
    if csv_path is not None:
        write_csv(csv_path, columns)
    title = f"{modem_name} {modulation} ({modem.differential or 'coherent'}) in AWGN, {confidence:.0%} CI"
    if plot is not None:
        from openami.channel.modulation import ber_awgn
        from openami.plc.plots import plot_ber

        with model_errors("--plot"):
            dense = np.linspace(float(np.min(columns["ebn0_db"])), float(np.max(columns["ebn0_db"])), 200)
            curve = ber_awgn(modulation, 10.0 ** (dense / 10.0))
            plot_ber(
                plot,
                columns["ebn0_db"],
                columns["ber"],
                columns["ci_low"],
                columns["ci_high"],
                curve,
                analytic_ebn0_db=dense,
                title=title,
            )
    if as_json:
        emit_json(
            {
                "modem": modem_name,
                "modulation": modulation,
                "differential": modem.differential,
                "confidence": confidence,
                "seed": seed,
                **{
                    k: (v.astype(int).tolist() if k in ("n_bits", "n_errors") else jsonable(v))
                    for k, v in columns.items()
                },
            }
        )
        return
    view = RichTable("Eb/N0 (dB)", "Es/N0 (dB)", "bits", "errors", "BER", "CI", "analytic", title=title)
    for i in range(grid.size):
        view.add_row(
            f"{columns['ebn0_db'][i]:.2f}",
            f"{columns['snr_db'][i]:.2f}",
            str(columns["n_bits"][i]),
            str(columns["n_errors"][i]),
            f"{columns['ber'][i]:.3g}",
            f"{columns['ci_low'][i]:.3g} … {columns['ci_high'][i]:.3g}",
            f"{columns['ber_analytic'][i]:.3g}",
        )
    console.print(view)


# ------------------------------------------------------------------------------------------------- paper


@plc_app.command("paper")
def paper(
    out: Annotated[Path, typer.Option("--out", help="folder for the figures and report.md (created)")],
    fmt: Annotated[str, typer.Option("--format", help="figure format: png or svg")] = "png",
    rbw: Annotated[float, typer.Option("--rbw", help="analyser RBW of the output-spectrum figure (Hz)")] = 100e3,
    tx_psd: Annotated[float, typer.Option("--tx-psd", help="flat transmit PSD of that figure (dBm/Hz)")] = -50.0,
    earth: Annotated[float, typer.Option("--earth-resistivity", help="earth resistivity (Ω·m)")] = 100.0,
) -> None:
    """Kim et al. (2002) redone: five figures and a report.md of computed numbers beside the paper's claims."""
    from openami.plc.report import FIGURES, write_paper_report

    choice(fmt, ("png", "svg"), "--format")
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a folder")
    with progress_bar(True) as bar, model_errors("paper"):
        task = bar.add_task("paper: numbers", total=len(FIGURES) + 2)

        def step(name: str) -> None:
            bar.update(task, advance=1, description=f"paper: {name}")

        result = write_paper_report(
            out, fmt=fmt, rbw_hz=rbw, tx_dbm_hz=tx_psd, earth_resistivity_ohm_m=earth, progress=step
        )
    n = result.numbers
    worst = max(abs(e.error_db) for e in n.band_errors["paper-table1"])
    fit = max(abs(e.error_db) for e in n.band_errors["paper-fit-50m"])
    summary(
        "Kim et al. (2002) redone",
        [
            ("folder", str(out)),
            *((f"figure: {stem}", path.name) for stem, path in result.figures.items()),
            ("report", result.report.name),
            ("paper-table1: |H(0)|, worst band error", f"{n.table1_h0_db:+.1f} dB, {worst:.1f} dB"),
            (
                "paper-fit-50m: a1, worst band error",
                f"{n.a1_fit:.3g} ({n.a1_fit / n.a1_paper:.2f}× printed), {fit:.1f} dB",
            ),
        ],
    )
