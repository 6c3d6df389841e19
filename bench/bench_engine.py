"""Metering-engine speed and memory; prints one JSON line of figures.

Run: ``.venv/bin/python bench/bench_engine.py`` (about 30 s on one core).

- ``single_sampled_sim_s_per_wall_s``: one meter in sampled mode (4096 V and I samples per simulated
  second, 16-bit quantisation, spectra), 2 kW resistive load, 600 simulated seconds per round; best of
  ``ROUNDS``. ``single_sampled_harmonics_sim_s_per_wall_s`` the same with voltage harmonics 3, 5, 7 and a
  non-linear load (harmonics up to 9).
- ``fleet_sampled`` (1,000 meters) and ``fleet_fast`` (1,000 and 10,000 meters): the fleet advanced one
  simulated second per step (1 Hz engine updates), each meter with its own load object (a base load plus
  a switched appliance, as the HAN will give it) and its own seeded generator. Per fleet:
  ``step_wall_s`` the median wall time of a step, ``cpu_us_per_meter`` the median process CPU time of a
  step divided by the meters, ``state_bytes_per_meter`` the engine's numpy state (registers, demand,
  a 14-day load-profile ring of 1,344 intervals × 5 channels, parameters) per meter,
  ``traced_bytes_per_meter`` everything tracemalloc sees allocated by building the fleet and its loads
  (numpy arrays, configs, event logs, generators, load objects) per meter, and ``step_peak_mb`` the
  transient working memory of one step (tracemalloc peak above the resting size).
- ``max_rss_mb``: the process's peak resident size at the end (all fleets were alive in turn).
"""

from __future__ import annotations

import json
import platform
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

from openami.meter.engine import (
    CompositeLoad,
    EngineConfig,
    FleetEngine,
    MeteringEngine,
    SupplyConfig,
    SwitchedLoad,
    harmonic_load,
    resistive_load,
    rl_load,
)

T0 = 1_704_067_200
ROUNDS = 3


def home(k: int) -> CompositeLoad:
    """Meter k's load: a base load and one appliance, different for each meter."""
    base = rl_load(300.0 + 7.0 * (k % 300), 0.9, 220.0, 60.0)
    return CompositeLoad(base, [SwitchedLoad(resistive_load(1500.0, 220.0), on=k % 3 == 0)])


def single(config: EngineConfig, load: object, seconds: int = 600) -> float:
    best = 0.0
    for r in range(ROUNDS):
        eng = MeteringEngine(config, np.random.default_rng(r), start_time=T0)
        start = time.perf_counter()
        eng.advance(T0 + seconds, load)  # type: ignore[arg-type]
        best = max(best, seconds / (time.perf_counter() - start))
    return best


def build(n: int, mode: str) -> tuple[FleetEngine, list[CompositeLoad]]:
    configs = [EngineConfig()] * n
    rngs = [np.random.default_rng(k) for k in range(n)]
    return FleetEngine(configs, rngs, start_time=T0, mode=mode), [home(k) for k in range(n)]  # type: ignore[arg-type]


def fleet(n: int, mode: str, steps: int) -> dict[str, float]:
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    eng, loads = build(n, mode)
    eng.advance(T0 + 1, loads)
    resting = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    eng.advance(T0 + 2, loads)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    walls, cpus = [], []
    for k in range(steps):
        w, c = time.perf_counter(), time.process_time()
        eng.advance(T0 + 3 + k, loads)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return {
        "meters": n,
        "step_wall_s": round(statistics.median(walls), 4),
        "cpu_us_per_meter": round(statistics.median(cpus) / n * 1e6, 1),
        "state_bytes_per_meter": round(eng.state_nbytes() / n),
        "traced_bytes_per_meter": round((resting - base) / n),
        "step_peak_mb": round((peak - resting) / 2**20, 1),
    }


def main() -> None:
    clean = EngineConfig(supply=SupplyConfig(220.0, 60.0))
    distorted = EngineConfig(
        supply=SupplyConfig(220.0, 60.0, harmonics=((3, 0.04, 0.3), (5, 0.03, -0.5), (7, 0.01, 1.2)))
    )
    nonlinear = harmonic_load(10.0, 0.8, [(3, 0.45, 1.0), (5, 0.25, -2.0), (7, 0.12, 0.4), (9, 0.06, 2.5)])
    figures: dict[str, object] = {
        "single_sampled_sim_s_per_wall_s": round(single(clean, resistive_load(2000.0, 220.0))),
        "single_sampled_harmonics_sim_s_per_wall_s": round(single(distorted, nonlinear)),
        "fleet_sampled": fleet(1_000, "sampled", 3),
        "fleet_fast_1000": fleet(1_000, "fast", 5),
        "fleet_fast_10000": fleet(10_000, "fast", 5),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
