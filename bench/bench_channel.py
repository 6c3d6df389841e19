"""Multipath channel speed; prints one JSON line of figures.

Run: ``.venv/bin/python bench/bench_channel.py`` (about 20–30 s).

Workload: 10,000 random channels × 4,096 frequencies (uniform, 0–30 MHz) × 15 paths, once with k = 1
(class "in-home") and once with k = 0.5 (class "mv"), through `multipath_response` (method "auto", which
picks the blocked method here, default rtol) into a preallocated output array. Each figure is the best
of ``ROUNDS`` rounds (the machine is shared and its speed varies by up to 2×).

Reference: `multipath_response_reference` (plain Python loops, cmath) on the first ``REF_CHANNELS``
channels, timed once, scaled to 10,000 channels; ``ratio_*`` = reference time / fast time. The fast
result on those channels is compared with the reference (``max_error_*``, relative to Σ|g_i|).

BLAS threads: the script pins OpenBLAS (and OpenMP/MKL) to one thread before importing numpy. With
OpenBLAS' own threads the blocked method's small matrix products gain little and, on this
oversubscribed 2-vCPU machine, the spinning worker threads made single calls erratic (0.4 s to 7 s for
the same 2,000-channel call).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from openami.channel.multipath import multipath_response, multipath_response_reference  # noqa: E402
from openami.channel.presets import RandomChannels, random_channels  # noqa: E402

CHANNELS = 10_000
FREQUENCIES = 4_096
PATHS = 15
ROUNDS = 3
REF_CHANNELS = 20
SEED = 20020707


def best_time(channels: RandomChannels, f: np.ndarray, out: np.ndarray) -> float:
    """Best wall time (s) of ``ROUNDS`` evaluations of the whole batch into ``out``."""
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        channels.response(f, out=out)
        times.append(time.perf_counter() - start)
    return min(times)


def reference(channels: RandomChannels, f: np.ndarray) -> tuple[float, float]:
    """(seconds per channel of the loop reference, max error of the fast method relative to Σ|g|)."""
    g, d, tau = channels.g[:REF_CHANNELS], channels.d_m[:REF_CHANNELS], channels.tau_s[:REF_CHANNELS]
    fast = multipath_response(f, g, d, channels.a0[:REF_CHANNELS], channels.a1[:REF_CHANNELS], channels.k, tau)
    start = time.perf_counter()
    rows = [
        multipath_response_reference(
            f, g[i : i + 1], d[i : i + 1], 0.0, float(channels.a1[i]), channels.k, tau[i : i + 1]
        )
        for i in range(REF_CHANNELS)
    ]
    per_channel = (time.perf_counter() - start) / REF_CHANNELS
    ref = np.concatenate(rows)
    error = float(np.max(np.abs(fast - ref) / np.sum(np.abs(g), axis=1, keepdims=True)))
    return per_channel, error


def main() -> None:
    f = np.linspace(0.0, 30e6, FREQUENCIES)
    out = np.zeros((CHANNELS, FREQUENCIES), dtype=np.complex128)  # touched: page faults not timed
    figures: dict[str, object] = {
        "bench": "channel_multipath",
        "channels": CHANNELS,
        "frequencies": FREQUENCIES,
        "paths": PATHS,
        "band_hz": [0.0, 30e6],
        "rounds": ROUNDS,
        "output_preallocated": True,
    }
    for label, cls in (("k1", "in-home"), ("k05", "mv")):
        channels = random_channels(np.random.default_rng(SEED), CHANNELS, cls, n_paths=PATHS)  # type: ignore[arg-type]
        seconds = best_time(channels, f, out)
        ref_per_channel, error = reference(channels, f)
        figures[f"{label}_k"] = channels.k
        figures[f"{label}_s"] = round(seconds, 4)
        figures[f"{label}_channels_per_s"] = round(CHANNELS / seconds, 1)
        figures[f"{label}_reference_s_per_channel"] = round(ref_per_channel, 5)
        figures[f"{label}_reference_scaled_s"] = round(ref_per_channel * CHANNELS, 1)
        figures[f"{label}_ratio"] = round(ref_per_channel * CHANNELS / seconds, 1)
        figures[f"{label}_max_error"] = float(f"{error:.2e}")
    figures.update(
        {
            "reference_channels": REF_CHANNELS,
            "cores": os.cpu_count(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            "machine": platform.machine(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
        }
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
