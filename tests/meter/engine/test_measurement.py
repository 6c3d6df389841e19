"""Measurements against analytic values: rms, P, Q (Budeanu), S, PF and frequency — at non-integer
frequencies, leading and lagging, with harmonics, with drift — and the fast mode's exact sums."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.meter.engine import (
    AdcConfig,
    CurrentSourceLoad,
    EngineConfig,
    FrequencyDrift,
    Register,
    Spectrum,
    SupplyConfig,
    harmonic_load,
    rl_load,
)
from openami.meter.engine.measurement import zero_crossing_frequency

from .support import T0, engine, phasor, powers, rl_current


@settings(max_examples=25, deadline=None)
@given(
    f=st.floats(47.0, 63.0),
    pf=st.floats(0.2, 1.0),
    leading=st.booleans(),
    i_rms=st.floats(0.5, 60.0),
    v=st.sampled_from([110.0, 120.0, 220.0, 230.0, 240.0]),
)
def test_sine_measurements_match_analytic(f: float, pf: float, leading: bool, i_rms: float, v: float) -> None:
    eng = engine(EngineConfig(supply=SupplyConfig(voltage_rms=v, frequency_hz=f)))
    eng.advance(T0 + 2, harmonic_load(i_rms, pf, leading=leading))
    r = eng.reading
    s = v * i_rms
    # The sampled path quantises the current to 16 bits over the default full scale (1.25·√2·100 A peak,
    # one code ≈ 5.4 mA): at small currents the power error is bounded by a fraction of a code times the
    # voltage, not by a fraction of the power. Allow a tenth of a code on top of the relative bound.
    adc = AdcConfig()
    i_code = 1.25 * math.sqrt(2) * adc.i_max_a / 2 ** (adc.bits - 1)
    quantum = 0.1 * v * i_code
    assert r.vrms_v == pytest.approx(v, rel=2e-4)
    assert r.irms_a == pytest.approx(i_rms, rel=2e-4, abs=2e-3)
    assert r.p_w == pytest.approx(s * pf, abs=3e-4 * s + quantum)
    q = s * math.sin(math.acos(pf)) * (-1 if leading else 1)
    assert r.q_var == pytest.approx(q, abs=3e-4 * s + quantum)
    assert r.s_va == pytest.approx(s, rel=3e-4, abs=3e-4 * v)
    assert r.pf == pytest.approx(pf, abs=5e-4 + quantum / s)
    assert r.freq_hz == pytest.approx(f, abs=1e-3)


def test_non_integer_cycles_per_second_do_not_bias_energy() -> None:
    f, load = 59.937, rl_load(1200.0, 0.7, 230.0, 59.937)
    eng = engine(EngineConfig(supply=SupplyConfig(230.0, f)))
    eng.advance(T0 + 300, load)
    i1 = rl_current(complex(230.0, 0.0), 1, load.r_ohm, load.l_h, f)
    p, q = powers({1: complex(230.0, 0.0)}, {1: i1})
    assert eng.fleet.registers.exact(0, Register.WH_DELIVERED) / 1000 * 3600 / 300 == pytest.approx(p, rel=1e-5)
    assert eng.reading.p_w == pytest.approx(p, rel=1e-5)
    assert eng.reading.q_var == pytest.approx(q, rel=1e-5)


def test_reactive_power_with_harmonics_is_budeanu() -> None:
    """Q = Σ_h V_h·I_h·sin(ψ_h − φ_h) — here the 3rd harmonic's reactive power has the opposite sign to
    the fundamental's, which a quarter-period delay of the voltage (a 270° shift at h = 3) would flip."""
    v_h = ((3, 0.05, 0.2), (5, 0.04, -1.0))
    supply = SupplyConfig(230.0, 50.0, harmonics=v_h)
    src = {1: phasor(10.0, -0.6), 3: phasor(3.0, 0.2 + 1.1), 5: phasor(1.5, -1.0 - 0.3)}
    eng = engine(EngineConfig(supply=supply))
    eng.advance(T0 + 2, CurrentSourceLoad(Spectrum.from_phasors(src)))
    voltage = {1: phasor(230.0, 0.0), 3: phasor(11.5, 0.2), 5: phasor(9.2, -1.0)}
    p, q = powers(voltage, src)
    r = eng.reading
    assert r.p_w == pytest.approx(p, rel=2e-4)
    assert r.q_var == pytest.approx(q, rel=2e-4)
    v_rms = math.sqrt(sum(abs(x) ** 2 for x in voltage.values()))
    i_rms = math.sqrt(sum(abs(x) ** 2 for x in src.values()))
    assert r.vrms_v == pytest.approx(v_rms, rel=1e-4) and r.irms_a == pytest.approx(i_rms, rel=1e-4)
    assert r.s_va == pytest.approx(v_rms * i_rms, rel=2e-4)
    assert r.pf == pytest.approx(p / (v_rms * i_rms), abs=3e-4)


def test_frequency_drift_is_tracked_second_by_second() -> None:
    drift = FrequencyDrift(ramp_hz_per_s=0.01, ramp_limit_hz=0.2, wander_hz=0.05, wander_period_s=40.0)
    eng = engine(EngineConfig(supply=SupplyConfig(230.0, 50.0, drift=drift)))
    load = harmonic_load(5.0, 0.9)
    for k in range(1, 61):
        eng.advance(T0 + k, load)
        expected = 0.5 * (drift.frequency_hz(50.0, k - 1) + drift.frequency_hz(50.0, k))
        assert eng.reading.freq_hz == pytest.approx(expected, abs=2e-3)
    assert drift.frequency_hz(50.0, 60) == pytest.approx(50.2 + 0.05 * math.sin(2 * math.pi * 60 / 40))


def test_frequency_with_noise_and_voltage_harmonics() -> None:
    supply = SupplyConfig(120.0, 60.0, harmonics=((3, 0.06, 0.0), (5, 0.05, 2.0)), drift=FrequencyDrift(0.031))
    eng = engine(EngineConfig(supply=supply, adc=AdcConfig(v_noise_v=0.5, i_noise_a=0.05)))
    eng.advance(T0 + 5, harmonic_load(3.0, 1.0))
    assert eng.reading.freq_hz == pytest.approx(60.031, abs=5e-3)
    assert eng.reading.vrms_v == pytest.approx(math.sqrt(120**2 * (1 + 0.06**2 + 0.05**2) + 0.25), rel=2e-4)


def test_zero_crossing_frequency_direct() -> None:
    fs, n = 4096.0, 4096
    t = np.arange(n) / fs
    x = np.stack([np.sin(2 * np.pi * 50.3 * t + 0.4), np.zeros(n), np.sin(2 * np.pi * 0.5 * t + 0.1)])
    f = zero_crossing_frequency(x, fs)
    assert f[0] == pytest.approx(50.3, abs=1e-4)
    assert f[1] == 0.0 and f[2] == 0.0  # no signal; fewer than two upward crossings


def test_fast_mode_is_exact_against_phasors() -> None:
    supply = SupplyConfig(230.0, 50.0, harmonics=((3, 0.05, 0.2),))
    load = rl_load(1000.0, 0.8, 230.0, 50.0)
    eng = engine(EngineConfig(supply=supply), mode="fast")
    eng.advance(T0 + 10, load)
    voltage = {1: complex(230.0, 0.0), 3: phasor(11.5, 0.2)}
    current = {h: rl_current(v, h, load.r_ohm, load.l_h, 50.0) for h, v in voltage.items()}
    p, q = powers(voltage, current)
    assert eng.reading.p_w == pytest.approx(p, rel=1e-12)
    assert eng.reading.q_var == pytest.approx(q, rel=1e-12)
    assert eng.fleet.registers.exact(0, Register.WH_DELIVERED) == pytest.approx(p * 10 / 3.6, rel=1e-12)
    assert eng.reading.freq_hz == 50.0


def test_no_supply_reads_zero() -> None:
    eng = engine()
    eng.power_fail()
    eng.advance(T0 + 3, harmonic_load(5.0, 1.0))
    r = eng.reading
    assert (r.vrms_v, r.irms_a, r.p_w, r.freq_hz, r.powered) == (0.0, 0.0, 0.0, 0.0, False)
