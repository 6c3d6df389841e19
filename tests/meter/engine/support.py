"""Shared helpers of the metering-engine tests: a start time and independent analytic formulas."""

from __future__ import annotations

import cmath
import math

import numpy as np

from openami.meter.engine import EngineConfig, FleetEngine, MeteringEngine, Mode

T0 = 1_704_067_200
"""2024-01-01 00:00:00 UTC, a Monday; a multiple of 86400 s (so of every interval length)."""


def engine(
    config: EngineConfig | None = None, seed: int = 1, mode: Mode = "sampled", start: int = T0
) -> MeteringEngine:
    """A single-meter engine with a seeded generator."""
    return MeteringEngine(config or EngineConfig(), np.random.default_rng(seed), start_time=start, mode=mode)


def fleet(configs: list[EngineConfig], seeds: list[int], mode: Mode = "sampled", start: int = T0) -> FleetEngine:
    """A fleet with one seeded generator per meter."""
    return FleetEngine(configs, [np.random.default_rng(s) for s in seeds], start_time=start, mode=mode)


def rl_current(v: complex, order: int, r: float, l_h: float, f_hz: float) -> complex:
    """Phasor current of a series R–L at harmonic ``order``: V / (R + jhωL) (computed here, not by the engine)."""
    return v / complex(r, order * 2 * math.pi * f_hz * l_h)


def powers(voltage: dict[int, complex], current: dict[int, complex]) -> tuple[float, float]:
    """Active power Σ Re(V_h I_h*) and Budeanu reactive power Σ Im(V_h I_h*) of rms phasors by order."""
    p = q = 0.0
    for h, v in voltage.items():
        s = v * current.get(h, 0j).conjugate()
        p += s.real
        q += s.imag
    return p, q


def phasor(rms: float, phase: float) -> complex:
    """rms·e^{j·phase}."""
    return cmath.rect(rms, phase)
