"""Appliance load models: each implements the engine's `LoadModel` (``current(t, voltage, frequency_hz)``).

Conventions are the engine's (`openami.meter.engine.loads`): spectra of rms phasors by harmonic order,
current lagging the voltage → reactive power Q > 0; t in simulated seconds, evaluated once per second.
Complex power of a voltage and a current spectrum: S = Σ_h V_h·I_h* (P = Re S in W, Q = Im S in var,
Budeanu's Q with harmonics) — `complex_power`.

Models whose draw depends on when they were switched on (motor inrush, EV charging ramp, fridge
thermostat state, smart plug relay) implement `Switchable`: the owning `openami.han.appliance.Appliance`
calls ``switched(t, on)`` at each switch. All of them are deterministic; the fridge's random door
openings come from an injected ``numpy.random.Generator``.

Models:

- `HeaterLoad` — a resistor R = V_nom²/P_nom: P = V²/R at any voltage, Q = 0.
- `MotorLoad` — a series R–L load of rated P and displacement power factor at V_nom; inrush: the current is
  multiplied by m(τ) = 1 + (k − 1)·e^(−τ/τ_i), τ the time since switch-on (s).
- `EvChargerLoad` — constant power (unity power factor) ramping linearly from 0 to P over ``ramp_s``
  after switch-on; stops once ``session_wh`` has been delivered (if given).
- `LightingLoad` — LED or CFL driver: constant power at a leading displacement factor with odd
  harmonics (typical magnitudes relative to the fundamental, illustrative, not from a standard).
- `FridgeLoad` — a compressor (motor-like R–L, constant P and PF) driven by a thermostat with hysteresis on
  a first-order thermal model: dT/dt = (T_amb − T)/τ − on·c (K/s), solved exactly per step; door
  openings (Poisson, rate per hour) add heat ΔT.
- `SmartPlug` — a relay passing a connected load through, plus the plug's own standby draw; it meters
  what it passes (`SmartPlug.meter`, Wh).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from openami.errors import LocalProtocolError
from openami.meter.engine.loads import ImpedanceLoad, LoadModel, Spectrum, rl_load

__all__ = [
    "CFL_HARMONICS",
    "LED_HARMONICS",
    "EvChargerLoad",
    "FridgeLoad",
    "HeaterLoad",
    "LightingLoad",
    "MotorLoad",
    "SmartPlug",
    "Switchable",
    "complex_power",
]


def _positive(name: str, value: float, *, zero_ok: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero_ok):
        raise LocalProtocolError(f"{name} must be finite and {'>= 0' if zero_ok else '> 0'}, got {value!r}")
    return v


def complex_power(voltage: Spectrum, current: Spectrum) -> complex:
    """S = Σ_h V_h·I_h* over the orders both carry: P = S.real (W), Q = S.imag (var, > 0 lagging)."""
    v = voltage.phasors()
    return sum((v[h] * i.conjugate() for h, i in current.phasors().items() if h in v), 0j)


@runtime_checkable
class Switchable(Protocol):
    """A load that must know when its appliance is switched (t in s)."""

    def switched(self, t: float, on: bool) -> None:
        """The appliance was switched on (``on``) or off at simulated time ``t``."""


@dataclass(frozen=True, slots=True)
class HeaterLoad:
    """A resistive heater of ``rated_w`` W at ``nominal_v`` V rms: R = V_nom²/P (Ω); P = V²/R."""

    rated_w: float
    nominal_v: float = 240.0

    def __post_init__(self) -> None:
        _positive("rated_w", self.rated_w)
        _positive("nominal_v", self.nominal_v)

    @property
    def r_ohm(self) -> float:
        """Resistance (Ω)."""
        return self.nominal_v**2 / self.rated_w

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """I_h = V_h / R."""
        return ImpedanceLoad(self.r_ohm).current(t, voltage, frequency_hz)


@dataclass(slots=True)
class MotorLoad:
    """An induction motor: series R–L drawing ``rated_w`` W at displacement factor ``pf`` (lagging) from
    ``nominal_v`` V at ``nominal_hz``; inrush multiplier ``1 + (inrush - 1)·exp(-τ/inrush_tau_s)``."""

    rated_w: float
    pf: float = 0.8
    nominal_v: float = 240.0
    nominal_hz: float = 60.0
    inrush: float = 6.0
    inrush_tau_s: float = 0.5
    on_since: float | None = None
    _z: ImpedanceLoad = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _positive("rated_w", self.rated_w)
        if not 0 < self.pf <= 1:
            raise LocalProtocolError(f"pf must be in (0, 1], got {self.pf!r}")
        if not (math.isfinite(self.inrush) and self.inrush >= 1):
            raise LocalProtocolError(f"inrush multiplier must be >= 1, got {self.inrush!r}")
        _positive("inrush_tau_s", self.inrush_tau_s)
        self._z = rl_load(self.rated_w, self.pf, _positive("nominal_v", self.nominal_v), self.nominal_hz)

    def switched(self, t: float, on: bool) -> None:
        """Switch-on starts the inrush at ``t``."""
        self.on_since = t if on else None

    def inrush_multiplier(self, t: float) -> float:
        """m(t) ≥ 1: 1 + (k − 1)·e^(−(t − t_on)/τ_i); 1 when never switched on or before t_on."""
        if self.on_since is None or t < self.on_since:
            return 1.0
        return 1.0 + (self.inrush - 1.0) * math.exp(-(t - self.on_since) / self.inrush_tau_s)

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The R–L current times the inrush multiplier."""
        i = self._z.current(t, voltage, frequency_hz)
        m = self.inrush_multiplier(t)
        return i if m == 1.0 else i.scaled(m)


@dataclass(slots=True)
class EvChargerLoad:
    """An EV charger: ``rated_w`` W at unity PF after a linear ramp of ``ramp_s`` s from switch-on; after
    ``session_wh`` Wh (None: unlimited) it stops drawing. Before any switch-on it draws ``rated_w``."""

    rated_w: float
    ramp_s: float = 10.0
    session_wh: float | None = None
    on_since: float | None = None

    def __post_init__(self) -> None:
        _positive("rated_w", self.rated_w)
        _positive("ramp_s", self.ramp_s, zero_ok=True)
        if self.session_wh is not None:
            _positive("session_wh", self.session_wh)

    def switched(self, t: float, on: bool) -> None:
        """Switch-on restarts the ramp (and the session's energy count) at ``t``."""
        self.on_since = t if on else None

    def delivered_wh(self, t: float) -> float:
        """Energy drawn since switch-on (Wh, analytic, before the session limit)."""
        tau = 0.0 if self.on_since is None else max(0.0, t - self.on_since)
        r = self.ramp_s
        joules = self.rated_w * (tau * tau / (2 * r) if tau < r else tau - r / 2)
        return joules / 3600.0

    def power_w(self, t: float) -> float:
        """Active power drawn at ``t`` (W)."""
        if self.on_since is None:
            return self.rated_w
        if self.session_wh is not None and self.delivered_wh(t) >= self.session_wh:
            return 0.0
        tau = max(0.0, t - self.on_since)
        return self.rated_w * (min(1.0, tau / self.ramp_s) if self.ramp_s > 0 else 1.0)

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """I_1 = conj(P / V_1) (nothing without a fundamental voltage)."""
        v1 = voltage.fundamental()
        p = self.power_w(t)
        if v1 == 0 or p == 0:
            return Spectrum.zero()
        return Spectrum.from_phasors({1: (complex(p, 0.0) / v1).conjugate()})


LED_HARMONICS: tuple[tuple[int, float], ...] = ((3, 0.30), (5, 0.15), (7, 0.08), (9, 0.05))
"""(order, rms relative to the fundamental) of a typical LED driver (illustrative)."""
CFL_HARMONICS: tuple[tuple[int, float], ...] = ((3, 0.80), (5, 0.60), (7, 0.40), (9, 0.25), (11, 0.15))
"""(order, rms relative to the fundamental) of a typical CFL ballast (illustrative)."""


@dataclass(frozen=True, slots=True)
class LightingLoad:
    """LED or CFL lighting drawing ``rated_w`` W at a leading displacement factor ``pf`` with odd harmonics
    (in phase with the fundamental current at their order). I_1 = P/(V_1·pf), at angle +arccos(pf)."""

    rated_w: float
    kind: Literal["led", "cfl"] = "led"
    pf: float = 0.95

    def __post_init__(self) -> None:
        _positive("rated_w", self.rated_w)
        if self.kind not in ("led", "cfl"):
            raise LocalProtocolError(f"kind is 'led' or 'cfl', got {self.kind!r}")
        if not 0 < self.pf <= 1:
            raise LocalProtocolError(f"pf must be in (0, 1], got {self.pf!r}")

    @property
    def harmonics(self) -> tuple[tuple[int, float], ...]:
        """(order, relative rms) of this kind."""
        return LED_HARMONICS if self.kind == "led" else CFL_HARMONICS

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """Fundamental for the rated power on the present V_1, plus the harmonics."""
        v1 = voltage.fundamental()
        if v1 == 0:
            return Spectrum.zero()
        i1 = self.rated_w / (abs(v1) * self.pf)
        phi = math.atan2(v1.imag, v1.real) + math.acos(self.pf)
        orders, rms, phases = [1], [i1], [phi]
        for h, rel in self.harmonics:
            orders.append(h)
            rms.append(i1 * rel)
            phases.append(h * phi)
        return Spectrum(tuple(orders), tuple(rms), tuple(phases))


@dataclass(slots=True)
class FridgeLoad:
    """A refrigerator (see the module docstring). Temperatures °C, times s, ``cooling_k_per_s`` K/s while
    the compressor runs, ``tau_s`` the cabinet's thermal time constant, thermostat band
    [setpoint − band/2, setpoint + band/2]; ``door_rate_per_h`` openings per hour each adding
    ``door_heat_k`` K. ``rng`` draws the openings (seeded by the caller). State advances with the
    ``t`` it is asked about (non-decreasing; 1 s steps)."""

    rng: np.random.Generator
    compressor_w: float = 120.0
    pf: float = 0.75
    nominal_v: float = 240.0
    nominal_hz: float = 60.0
    ambient_c: float = 22.0
    setpoint_c: float = 4.0
    band_k: float = 2.0
    tau_s: float = 36_000.0
    cooling_k_per_s: float = 0.0015
    door_rate_per_h: float = 0.0
    door_heat_k: float = 0.5
    temperature_c: float = 4.0
    compressor_on: bool = False
    powered: bool = True
    t: float | None = None
    run_s: float = 0.0
    _z: ImpedanceLoad = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _positive("compressor_w", self.compressor_w)
        _positive("tau_s", self.tau_s)
        _positive("band_k", self.band_k)
        _positive("cooling_k_per_s", self.cooling_k_per_s)
        _positive("door_rate_per_h", self.door_rate_per_h, zero_ok=True)
        if self.ambient_c - self.tau_s * self.cooling_k_per_s >= self.setpoint_c - self.band_k / 2:
            raise LocalProtocolError("the compressor cannot reach the lower thermostat limit")
        self._z = rl_load(self.compressor_w, self.pf, _positive("nominal_v", self.nominal_v), self.nominal_hz)

    def switched(self, t: float, on: bool) -> None:
        """Power to the fridge on or off at ``t`` (off: the compressor stops, the cabinet warms)."""
        self.advance(t)
        self.powered = on
        if not on:
            self.compressor_on = False

    def expected_duty(self) -> float:
        """The compressor's duty fraction without door openings (analytic, continuous thermostat):
        t_off = τ·ln((T_a − T_lo)/(T_a − T_hi)), t_on = τ·ln((T_hi − T_eq)/(T_lo − T_eq)), T_eq = T_a − τ·c."""
        lo, hi = self.setpoint_c - self.band_k / 2, self.setpoint_c + self.band_k / 2
        ta, tau = self.ambient_c, self.tau_s
        teq = ta - tau * self.cooling_k_per_s
        t_off = tau * math.log((ta - lo) / (ta - hi))
        t_on = tau * math.log((hi - teq) / (lo - teq))
        return t_on / (t_on + t_off)

    def advance(self, t: float) -> None:
        """Run the thermal model and thermostat in 1 s steps up to ``t``."""
        if self.t is None:
            self.t = t
            return
        lo, hi = self.setpoint_c - self.band_k / 2, self.setpoint_c + self.band_k / 2
        decay = math.exp(-1.0 / self.tau_s)
        door_p = self.door_rate_per_h / 3600.0
        while self.t + 1.0 <= t:
            on = self.compressor_on and self.powered
            teq = self.ambient_c - (self.tau_s * self.cooling_k_per_s if on else 0.0)
            self.temperature_c = teq + (self.temperature_c - teq) * decay
            if door_p > 0 and self.rng.random() < door_p:
                self.temperature_c += self.door_heat_k
            self.run_s += 1.0 if on else 0.0
            self.t += 1.0
            if self.powered:
                if self.temperature_c >= hi:
                    self.compressor_on = True
                elif self.temperature_c <= lo:
                    self.compressor_on = False

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The compressor's current while it runs (the state is first advanced to ``t``)."""
        self.advance(t)
        if self.compressor_on and self.powered:
            return self._z.current(t, voltage, frequency_hz)
        return Spectrum.zero()


@dataclass(slots=True)
class SmartPlug:
    """A smart plug: its relay passes ``load`` through while ``relay_on``; the plug itself draws
    ``standby_w`` W (unity PF) always. `meter` integrates the power it passes (Wh, over ``dt`` s)."""

    load: LoadModel
    standby_w: float = 0.5
    relay_on: bool = True
    energy_wh: float = 0.0
    power_w: float = 0.0

    def __post_init__(self) -> None:
        _positive("standby_w", self.standby_w, zero_ok=True)

    def switched(self, t: float, on: bool) -> None:
        """Operate the relay; forwarded to the connected load if it cares."""
        self.relay_on = on
        if isinstance(self.load, Switchable):
            self.load.switched(t, on)

    def passed(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """The connected load's current through the relay (zero when open)."""
        return self.load.current(t, voltage, frequency_hz) if self.relay_on else Spectrum.zero()

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """Passed current plus the plug's own standby current."""
        own = Spectrum.zero()
        v1 = voltage.fundamental()
        if self.standby_w > 0 and v1 != 0:
            own = Spectrum.from_phasors({1: (complex(self.standby_w, 0.0) / v1).conjugate()})
        return self.passed(t, voltage, frequency_hz) + own

    def meter(self, t: float, voltage: Spectrum, frequency_hz: float, dt: float = 1.0) -> float:
        """Measure the passed load for ``dt`` s from ``t``: sets ``power_w`` (W), adds to ``energy_wh``;
        returns the power."""
        self.power_w = complex_power(voltage, self.passed(t, voltage, frequency_hz)).real
        self.energy_wh += self.power_w * dt / 3600.0
        return self.power_w
