"""Harmonic spectra and the loads that draw current from the meter's supply.

Waveform convention used throughout the engine: with θ(t) = 2π∫f dt the phase of the supply voltage's
fundamental (rad), a periodic quantity is

    x(t) = Σ_h √2 · X_h · cos(h·θ(t) + φ_h)

with X_h the rms value of harmonic order h (V or A) and φ_h its phase (rad). The phasor of order h is
X_h·e^{jφ_h}. The voltage fundamental has φ_1 = 0; a current whose fundamental phase is negative lags the
voltage (inductive, reactive power Q > 0).

A `LoadModel` turns the supply (voltage spectrum and fundamental frequency, Hz) at simulated time t (s)
into a current spectrum. Loads are evaluated once per simulated second, at its start; the waveform is
stationary within the second. The meter's load is a `CompositeLoad`: a base load plus the HAN appliances,
each a `SwitchedLoad` that load control turns on and off.
"""

from __future__ import annotations

import bisect
import cmath
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from openami.meter.engine.errors import EngineError

__all__ = [
    "CompositeLoad",
    "ConstantPowerLoad",
    "CurrentSourceLoad",
    "ImpedanceLoad",
    "LoadModel",
    "ScheduleLoad",
    "Spectrum",
    "SwitchedLoad",
    "harmonic_load",
    "resistive_load",
    "rl_load",
]


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise EngineError(f"{name} must be finite, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class Spectrum:
    """Harmonic content of a periodic voltage (V) or current (A): rms values and phases (rad) by order.

    ``orders`` are distinct integers ≥ 1 (1 = fundamental); ``phases`` may be left empty for all zeros.
    """

    orders: tuple[int, ...]
    rms: tuple[float, ...]
    phases: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        orders = tuple(self.orders)
        if any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in orders):
            raise EngineError(f"harmonic orders are integers >= 1, got {orders!r}")
        if len(set(orders)) != len(orders):
            raise EngineError(f"harmonic orders must be distinct, got {orders!r}")
        rms = tuple(_finite("rms", r) for r in self.rms)
        phases = tuple(_finite("phase", p) for p in self.phases) if self.phases else (0.0,) * len(orders)
        if len(rms) != len(orders) or len(phases) != len(orders):
            raise EngineError("orders, rms and phases must have the same length")
        if any(r < 0 for r in rms):
            raise EngineError(f"rms values are >= 0, got {rms!r}")
        object.__setattr__(self, "orders", orders)
        object.__setattr__(self, "rms", rms)
        object.__setattr__(self, "phases", phases)

    @classmethod
    def zero(cls) -> Spectrum:
        """No waveform at all."""
        return cls._trusted({})

    @classmethod
    def sine(cls, rms: float, phase: float = 0.0) -> Spectrum:
        """A pure fundamental of ``rms`` (V or A) at ``phase`` (rad)."""
        return cls((1,), (rms,), (phase,))

    @classmethod
    def from_phasors(cls, phasors: Mapping[int, complex]) -> Spectrum:
        """From rms phasors by order (``{1: 9.09 + 0j, 3: 0.5j}``); zero phasors are dropped."""
        try:
            s = cls._trusted(phasors)
        except (TypeError, ValueError) as e:
            raise EngineError(f"phasors must map int orders to complex values, got {phasors!r}") from e
        cls(s.orders, s.rms, s.phases)  # validate
        return s

    @classmethod
    def _trusted(cls, phasors: Mapping[int, complex]) -> Spectrum:
        """`from_phasors` without validation, for phasors computed from valid spectra (the hot path)."""
        items = sorted((h, complex(p)) for h, p in phasors.items() if p != 0)
        out = object.__new__(cls)
        object.__setattr__(out, "orders", tuple(h for h, _ in items))
        object.__setattr__(out, "rms", tuple(abs(p) for _, p in items))
        object.__setattr__(out, "phases", tuple(math.atan2(p.imag, p.real) for _, p in items))
        return out

    def phasors(self) -> dict[int, complex]:
        """Rms phasors ``X_h·e^{jφ_h}`` by order."""
        return {h: cmath.rect(r, p) for h, r, p in zip(self.orders, self.rms, self.phases, strict=True)}

    def __add__(self, other: Spectrum) -> Spectrum:
        """Sum of two waveforms (phasors of equal order add)."""
        if not other.orders:
            return self
        if not self.orders:
            return other
        total = self.phasors()
        for h, p in other.phasors().items():
            total[h] = total.get(h, 0j) + p
        return Spectrum._trusted(total)

    def scaled(self, k: float) -> Spectrum:
        """Every harmonic multiplied by ``k ≥ 0``."""
        if k < 0:
            raise EngineError(f"scale must be >= 0, got {k!r}")
        return Spectrum(self.orders, tuple(r * k for r in self.rms), self.phases)

    @property
    def total_rms(self) -> float:
        """True rms value √(Σ X_h²)."""
        return math.sqrt(sum(r * r for r in self.rms))

    def fundamental(self) -> complex:
        """The fundamental's rms phasor (0 if absent)."""
        for h, r, p in zip(self.orders, self.rms, self.phases, strict=True):
            if h == 1:
                return cmath.rect(r, p)
        return 0j


class LoadModel(Protocol):
    """Anything that draws current: its spectrum (A) at simulated time ``t`` (s) for the given supply."""

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The current spectrum drawn during the second starting at ``t``."""
        ...


@dataclass(frozen=True, slots=True)
class ImpedanceLoad:
    """A linear series R–L–C load: I_h = V_h / (R + j(hωL − 1/(hωC))) at every harmonic.

    ``r_ohm`` Ω, ``l_h`` H (0 = none), ``c_f`` F (0 = no series capacitor). Current follows the voltage's
    harmonics, so a resistive load on a distorted supply draws harmonic active power.
    """

    r_ohm: float
    l_h: float = 0.0
    c_f: float = 0.0

    def __post_init__(self) -> None:
        if not (_finite("r_ohm", self.r_ohm) >= 0 and _finite("l_h", self.l_h) >= 0 and _finite("c_f", self.c_f) >= 0):
            raise EngineError("R, L and C must be >= 0")
        if self.r_ohm == 0 and self.l_h == 0 and self.c_f == 0:
            raise EngineError("an impedance load needs R, L or C")

    def impedance(self, order: int, frequency_hz: float) -> complex:
        """Z (Ω) at harmonic ``order`` of ``frequency_hz``."""
        w = 2 * math.pi * frequency_hz * order
        x = w * self.l_h - (1.0 / (w * self.c_f) if self.c_f > 0 else 0.0)
        return complex(self.r_ohm, x)

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """I_h = V_h / Z_h."""
        return Spectrum._trusted({h: v / self.impedance(h, frequency_hz) for h, v in voltage.phasors().items()})


def resistive_load(p_w: float, v_rms: float) -> ImpedanceLoad:
    """A resistor drawing ``p_w`` W from a pure sine of ``v_rms`` V: R = V²/P."""
    if not (p_w > 0 and v_rms > 0):
        raise EngineError("power and voltage must be positive")
    return ImpedanceLoad(v_rms * v_rms / p_w)


def rl_load(p_w: float, pf: float, v_rms: float, frequency_hz: float) -> ImpedanceLoad:
    """A series R–L load drawing ``p_w`` W at displacement power factor ``pf`` (lagging) from a pure sine.

    |Z| = R/pf and P = V²R/|Z|² give R = pf²·V²/P, X = R·tan(arccos pf), L = X/ω.
    """
    if not (p_w > 0 and v_rms > 0 and frequency_hz > 0 and 0 < pf <= 1):
        raise EngineError("need p_w > 0, v_rms > 0, frequency_hz > 0 and 0 < pf <= 1")
    r = pf * pf * v_rms * v_rms / p_w
    x = r * math.tan(math.acos(pf))
    return ImpedanceLoad(r, x / (2 * math.pi * frequency_hz))


@dataclass(frozen=True, slots=True)
class CurrentSourceLoad:
    """A load drawing a fixed current spectrum (phases relative to the voltage fundamental), whatever the
    voltage — a model of rectifiers and other non-linear loads. No current flows without voltage."""

    spectrum: Spectrum

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The fixed spectrum (zero when the voltage is zero)."""
        return self.spectrum if voltage.orders else Spectrum.zero()


def harmonic_load(
    i_rms: float, pf: float, harmonics: Sequence[tuple[int, float, float]] = (), *, leading: bool = False
) -> CurrentSourceLoad:
    """A current source: fundamental ``i_rms`` A at displacement factor ``pf`` (lagging unless ``leading``)
    plus ``harmonics`` given as (order ≥ 2, rms relative to the fundamental, phase rad)."""
    if not (i_rms >= 0 and 0 <= pf <= 1):
        raise EngineError("need i_rms >= 0 and 0 <= pf <= 1")
    phi = math.acos(pf) * (1 if leading else -1)
    orders, rms, phases = [1], [float(i_rms)], [phi]
    for h, rel, ph in harmonics:
        if h < 2:
            raise EngineError(f"harmonic orders are >= 2, got {h!r}")
        orders.append(h)
        rms.append(i_rms * rel)
        phases.append(ph)
    return CurrentSourceLoad(Spectrum(tuple(orders), tuple(rms), tuple(phases)))


@dataclass(frozen=True, slots=True)
class ConstantPowerLoad:
    """A load regulating its fundamental current to draw ``p_w`` W and ``q_var`` var at any voltage:
    I_1 = conj((P + jQ) / V_1)."""

    p_w: float
    q_var: float = 0.0

    def __post_init__(self) -> None:
        _finite("p_w", self.p_w)
        _finite("q_var", self.q_var)

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The fundamental current for the requested power (zero without a fundamental voltage)."""
        v1 = voltage.fundamental()
        if v1 == 0:
            return Spectrum.zero()
        return Spectrum._trusted({1: (complex(self.p_w, self.q_var) / v1).conjugate()})


@dataclass(slots=True)
class SwitchedLoad:
    """A load behind a switch (an appliance on the HAN): draws nothing while ``on`` is false."""

    load: LoadModel
    on: bool = True

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The inner load's current, or nothing when switched off."""
        return self.load.current(t, voltage, frequency_hz) if self.on else Spectrum.zero()


@dataclass(slots=True)
class CompositeLoad:
    """A meter's load: the base load plus appliances (mutable list; add and remove as the HAN changes)."""

    base: LoadModel
    appliances: list[LoadModel] = field(default_factory=list)

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """Sum of the currents of the base load and every appliance."""
        total = self.base.current(t, voltage, frequency_hz)
        for load in self.appliances:
            total = total + load.current(t, voltage, frequency_hz)
        return total


@dataclass(frozen=True, slots=True)
class ScheduleLoad:
    """Piecewise load over simulated time: ``steps`` of (start time s, load), sorted by start. Before the
    first step nothing is drawn."""

    steps: tuple[tuple[float, LoadModel], ...]

    def __init__(self, steps: Iterable[tuple[float, LoadModel]]) -> None:
        items = tuple((float(t), load) for t, load in steps)
        if any(b[0] < a[0] for a, b in itertools.pairwise(items)):
            raise EngineError("schedule steps must be sorted by start time")
        object.__setattr__(self, "steps", items)

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The current of the step in force at ``t``."""
        k = bisect.bisect_right([s for s, _ in self.steps], t) - 1
        return self.steps[k][1].current(t, voltage, frequency_hz) if k >= 0 else Spectrum.zero()
