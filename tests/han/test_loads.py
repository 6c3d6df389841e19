"""Appliance load models against analytic values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.errors import LocalProtocolError
from openami.han.loads import (
    CFL_HARMONICS,
    LED_HARMONICS,
    EvChargerLoad,
    FridgeLoad,
    HeaterLoad,
    LightingLoad,
    MotorLoad,
    SmartPlug,
    complex_power,
)
from openami.meter.engine.loads import Spectrum

V = Spectrum.sine(240.0)
F = 60.0


@given(p=st.floats(10, 10_000), v=st.floats(100, 260))
@settings(max_examples=100)
def test_heater_p_is_v2_over_r(p: float, v: float) -> None:
    heater = HeaterLoad(p, nominal_v=240.0)
    r = 240.0**2 / p
    s = complex_power(Spectrum.sine(v), heater.current(0.0, Spectrum.sine(v), F))
    assert s.real == pytest.approx(v * v / r, rel=1e-9)
    assert s.imag == pytest.approx(0.0, abs=1e-9 * p)


def test_motor_power_factor_and_rated_power_after_inrush() -> None:
    motor = MotorLoad(1500.0, pf=0.8, inrush=6.0, inrush_tau_s=0.5)
    motor.switched(0.0, True)
    s = complex_power(V, motor.current(100.0, V, F))
    assert s.real == pytest.approx(1500.0, rel=1e-9)
    assert s.imag == pytest.approx(1500.0 * math.tan(math.acos(0.8)), rel=1e-9)  # lagging: Q > 0
    assert s.real / abs(s) == pytest.approx(0.8, rel=1e-9)


def test_motor_inrush_starts_at_k_and_decays() -> None:
    motor = MotorLoad(1000.0, pf=0.85, inrush=5.0, inrush_tau_s=1.0)
    steady = motor.current(0.0, V, F).total_rms  # never switched on: no inrush
    motor.switched(10.0, True)
    values = [motor.current(10.0 + k, V, F).total_rms / steady for k in range(8)]
    assert values[0] == pytest.approx(5.0)
    assert values[1] == pytest.approx(1 + 4 * math.exp(-1.0))
    assert all(a > b for a, b in itertools.pairwise(values))
    assert values[-1] == pytest.approx(1.0, abs=4 * math.exp(-7.0) + 1e-12)
    motor.switched(20.0, False)
    assert motor.inrush_multiplier(20.0) == 1.0


def test_ev_charger_ramp_constant_draw_and_session_limit() -> None:
    ev = EvChargerLoad(7200.0, ramp_s=10.0, session_wh=7200.0 * 15 / 3600)  # ramp (5 s equivalent) + 10 s
    ev.switched(0.0, True)
    assert complex_power(V, ev.current(5.0, V, F)).real == pytest.approx(3600.0)
    full = complex_power(V, ev.current(12.0, V, F))
    assert full.real == pytest.approx(7200.0) and full.imag == pytest.approx(0.0, abs=1e-6)
    # delivered after the ramp: P·(τ − ramp/2); the session of 15 s at full power ends at τ = 20 s
    assert ev.delivered_wh(12.0) == pytest.approx(7200.0 * 7 / 3600)
    assert complex_power(V, ev.current(19.0, V, F)).real == pytest.approx(7200.0)
    assert ev.current(20.0, V, F).total_rms == 0.0


@pytest.mark.parametrize("kind, table", [("led", LED_HARMONICS), ("cfl", CFL_HARMONICS)])
def test_lighting_power_pf_and_harmonics(kind: str, table: tuple[tuple[int, float], ...]) -> None:
    light = LightingLoad(60.0, kind=kind, pf=0.9)  # type: ignore[arg-type]
    i = light.current(0.0, V, F)
    s = complex_power(V, i)  # a sine supply: only the fundamental carries power
    assert s.real == pytest.approx(60.0)
    assert s.imag == pytest.approx(-60.0 * math.tan(math.acos(0.9)))  # leading
    i1 = 60.0 / (240.0 * 0.9)
    assert dict(zip(i.orders, i.rms, strict=True)) == pytest.approx({1: i1, **{h: i1 * r for h, r in table}})
    thd = math.sqrt(sum(r * r for _, r in table))
    assert math.sqrt(i.total_rms**2 - i1**2) / i1 == pytest.approx(thd)


def _run_fridge(fridge: FridgeLoad, seconds: int) -> float:
    on = 0
    for t in range(seconds):
        on += fridge.current(float(t), V, F).total_rms > 0
    return on / seconds


def test_fridge_duty_cycle_over_a_day_matches_the_thermal_model() -> None:
    fridge = FridgeLoad(np.random.default_rng(1))
    duty = _run_fridge(fridge, 86_400)
    # the first cycle starts mid-band; over ~14 cycles the fraction is within a few percent
    assert duty == pytest.approx(fridge.expected_duty(), rel=0.05)
    assert 0.2 < duty < 0.5
    assert fridge.run_s == pytest.approx(duty * 86_400, abs=2)


def test_fridge_door_openings_are_seeded_and_raise_the_duty() -> None:
    runs = [_run_fridge(FridgeLoad(np.random.default_rng(7), door_rate_per_h=4.0), 86_400) for _ in range(2)]
    other = _run_fridge(FridgeLoad(np.random.default_rng(8), door_rate_per_h=4.0), 86_400)
    quiet = _run_fridge(FridgeLoad(np.random.default_rng(7)), 86_400)
    assert runs[0] == runs[1]
    assert runs[0] > quiet and other > quiet


def test_fridge_power_when_running_and_off_when_unpowered() -> None:
    fridge = FridgeLoad(np.random.default_rng(0), compressor_w=150.0, pf=0.7, temperature_c=5.5)
    fridge.current(0.0, V, F)
    s = complex_power(V, fridge.current(1.0, V, F))
    assert (s.real, s.real / abs(s)) == pytest.approx((150.0, 0.7))
    fridge.switched(2.0, False)
    assert fridge.current(3.0, V, F).total_rms == 0.0


def test_smart_plug_passes_its_load_and_meters_it() -> None:
    heater = HeaterLoad(1000.0)
    plug = SmartPlug(heater, standby_w=0.8)
    total = complex_power(V, plug.current(0.0, V, F)).real
    assert total == pytest.approx(1000.8)
    for t in range(3600):
        plug.meter(float(t), V, F)
    assert plug.energy_wh == pytest.approx(1000.0)
    plug.switched(3600.0, False)
    assert complex_power(V, plug.current(3600.0, V, F)).real == pytest.approx(0.8)
    assert plug.meter(3600.0, V, F) == 0.0


def test_smart_plug_forwards_switching_to_a_motor() -> None:
    motor = MotorLoad(500.0, inrush=4.0)
    plug = SmartPlug(motor, standby_w=0.0)
    plug.switched(5.0, True)
    assert motor.on_since == 5.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: HeaterLoad(-1.0),
        lambda: HeaterLoad(math.nan),
        lambda: MotorLoad(100.0, pf=0.0),
        lambda: MotorLoad(100.0, inrush=0.5),
        lambda: LightingLoad(10.0, kind="neon"),  # type: ignore[arg-type]
        lambda: FridgeLoad(np.random.default_rng(0), cooling_k_per_s=1e-6),
        lambda: SmartPlug(HeaterLoad(1.0), standby_w=-1.0),
    ],
)
def test_bad_parameters_are_local_protocol_errors(make: object) -> None:
    with pytest.raises(LocalProtocolError):
        make()  # type: ignore[operator]


def test_no_voltage_no_current() -> None:
    zero = Spectrum.zero()
    for load in (HeaterLoad(100.0), EvChargerLoad(100.0), LightingLoad(10.0), MotorLoad(100.0)):
        assert load.current(0.0, zero, F).total_rms == 0.0
