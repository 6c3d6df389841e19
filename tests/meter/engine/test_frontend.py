"""Front end: synthesis against a float64 reference, 16-bit quantisation, calibration of gain, offset and
phase errors, supply and ADC configuration checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.meter.engine import (
    AdcConfig,
    Calibration,
    EngineConfig,
    EngineError,
    FrequencyDrift,
    SupplyConfig,
    harmonic_load,
)
from openami.meter.engine.frontend import quantize, synthesize

from .support import T0, engine


def _reference(theta0: float, fa: float, fb: float, phasors: dict[int, complex], n: int) -> np.ndarray:
    tau = np.arange(n) / n
    theta = theta0 + 2 * np.pi * (fa * tau + 0.5 * (fb - fa) * tau * tau)
    out = np.zeros(n)
    for h, p in phasors.items():
        out += math.sqrt(2) * abs(p) * np.cos(h * theta + np.angle(p))
    return out


@settings(max_examples=40, deadline=None)
@given(
    theta0=st.floats(0, 2 * math.pi),
    f=st.floats(45, 65),
    df=st.floats(-0.05, 0.05),
    h3=st.floats(0, 0.3),
    ph=st.floats(-math.pi, math.pi),
)
def test_synthesis_matches_a_float64_reference(theta0: float, f: float, df: float, h3: float, ph: float) -> None:
    v = {1: complex(230.0, 0.0), 3: 230.0 * h3 * complex(math.cos(ph), math.sin(ph)), 13: complex(0.0, 2.0)}
    i = {1: complex(8.0, -6.0), 5: complex(0.5, 0.2)}
    vp = np.zeros((1, 15), complex)
    ip = np.zeros((1, 15), complex)
    for h, p in v.items():
        vp[0, h - 1] = p
    for h, p in i.items():
        ip[0, h - 1] = p
    sv, si = synthesize(np.array([theta0]), np.array([f]), np.array([f + df]), vp, ip, 4096)
    assert sv.dtype == np.float32 and sv.shape == (1, 4096)
    rv, ri = _reference(theta0, f, f + df, v, 4096), _reference(theta0, f, f + df, i, 4096)
    # float32 synthesis error stays well below one 16-bit step of full scale (3e-5 of full scale)
    assert np.max(np.abs(sv[0] - rv)) < 3e-6 * 400
    assert np.max(np.abs(si[0] - ri)) < 3e-6 * 20


def test_quantisation_rounds_to_the_nearest_code_and_clips() -> None:
    x = np.linspace(-1.2, 1.2, 20001, dtype=np.float32)[None, :]
    scale = np.array([32767.0])  # full scale 1.0 at code 32767
    codes, clipped = quantize(x.copy(), scale, np.zeros(1), 32767)
    assert clipped[0]
    assert np.all(codes == np.round(codes))
    assert codes.min() == -32768 and codes.max() == 32767
    inside = np.abs(x[0]) < 0.999
    assert np.max(np.abs(codes[0][inside] - x[0][inside].astype(np.float64) * 32767)) <= 0.5 + 1e-3
    codes, clipped = quantize((x * 0.5).copy(), scale, np.array([12.0]), 32767)
    assert not clipped[0]
    assert np.max(np.abs(codes[0] - 12.0 - x[0].astype(np.float64) * 0.5 * 32767)) <= 0.5 + 1e-3
    # every code of a slow ramp is hit: no missing codes
    ramp = np.linspace(-100.0, 100.0, 4001, dtype=np.float32)[None, :]
    codes, _ = quantize(ramp, np.array([1.0]), np.zeros(1), 32767)
    assert set(np.unique(codes).astype(int)) == set(range(-100, 101))


def test_quantisation_noise_is_unbiased_with_dither() -> None:
    rng = np.random.default_rng(7)
    x = np.full((1, 200_000), 0.3, dtype=np.float32)
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    codes, _ = quantize(x, np.array([1.0]), np.zeros(1), 32767, noise, np.array([2.0]))
    assert abs(codes.mean() - 0.3) < 0.03
    assert abs(codes.std() - math.sqrt(4.0 + 1 / 12)) < 0.05


ERRORS = AdcConfig(
    v_gain_error=0.03, i_gain_error=-0.02, v_offset_error=40.0, i_offset_error=-25.0, i_delay_error_s=20e-6
)


def _measure(adc: AdcConfig, calibration: Calibration) -> tuple[float, float, float, float]:
    eng = engine(EngineConfig(supply=SupplyConfig(230.0, 60.0), adc=adc, calibration=calibration))
    eng.advance(T0 + 3, harmonic_load(10.0, 0.5))
    r = eng.reading
    return r.vrms_v, r.irms_a, r.p_w, r.q_var


def test_uncalibrated_errors_show() -> None:
    v, i, p, _ = _measure(ERRORS, Calibration())
    assert math.isclose(v, 230.0 * 1.03, rel_tol=1e-4)
    assert math.isclose(i, 10.0 * 0.98, rel_tol=1e-4)
    assert abs(p / (230.0 * 1.03 * 10.0 * 0.98 * 0.5) - 1) > 0.005  # 0.43° of phase error at PF 0.5


def test_calibration_constants_correct_gain_offset_and_phase() -> None:
    ticks = round(-20e-6 * 1_048_576)  # SD24PREx-style delay in modulator clocks
    cal = Calibration(v_gain=1 / 1.03, i_gain=1 / 0.98, v_offset=40.0, i_offset=-25.0, phase_ticks=ticks)
    assert Calibration.ideal(ERRORS) == cal
    v, i, p, q = _measure(ERRORS, cal)
    assert math.isclose(v, 230.0, rel_tol=1e-4)
    assert math.isclose(i, 10.0, rel_tol=1e-4)
    assert math.isclose(p, 230.0 * 10.0 * 0.5, rel_tol=1e-3)  # residual ≤ ½ tick ≈ 0.01°
    assert math.isclose(q, 230.0 * 10.0 * math.sin(math.acos(0.5)), rel_tol=1e-3)
    assert math.isclose(cal.current_delay_s(ERRORS), 20e-6 + ticks / 1_048_576)


def test_offset_error_alone_does_not_bias_ac_values_but_biases_energy() -> None:
    adc = AdcConfig(v_offset_error=300.0, i_offset_error=300.0)
    eng = engine(EngineConfig(adc=adc))
    eng.advance(T0 + 2, harmonic_load(10.0, 1.0))
    r = eng.reading
    assert math.isclose(r.vrms_v, 220.0, rel_tol=1e-4) and math.isclose(r.p_w, 2200.0, rel_tol=1e-4)
    # the DC product enters the sample-product energy until calibration removes the offsets
    dc = 300.0 * EngineConfig().v_lsb * 300.0 * EngineConfig().i_lsb
    assert eng.fleet.last.energy_j[0] == pytest.approx(2200.0 + dc, rel=1e-4)


def test_adc_full_scale_defaults_and_lsb() -> None:
    c = EngineConfig(supply=SupplyConfig(voltage_rms=110.0))
    assert c.v_lsb == pytest.approx(1.25 * math.sqrt(2) * 110.0 / 32767)
    assert c.i_lsb == pytest.approx(1.25 * math.sqrt(2) * 100.0 / 32767)
    assert AdcConfig(bits=12).code_max == 2047
    assert EngineConfig(adc=AdcConfig(v_full_scale_v=500.0)).v_lsb == pytest.approx(500.0 / 32767)


def test_clipping_sets_the_measurement_error_flag() -> None:
    eng = engine(EngineConfig(adc=AdcConfig(i_full_scale_a=20.0)))
    eng.advance(T0 + 2, harmonic_load(30.0, 1.0))
    assert eng.status & eng.status.MEASUREMENT_ERROR
    assert [e.code for e in eng.events] == [43]


@pytest.mark.parametrize(
    "make",
    [
        lambda: SupplyConfig(voltage_rms=-1.0),
        lambda: SupplyConfig(frequency_hz=100.0),
        lambda: SupplyConfig(harmonics=((1, 0.1, 0.0),)),
        lambda: SupplyConfig(harmonics=((3, 0.1, 0.0), (3, 0.2, 0.0))),
        lambda: FrequencyDrift(wander_period_s=0.0),
        lambda: FrequencyDrift(offset_hz=9.0),
        lambda: AdcConfig(bits=30),
        lambda: AdcConfig(sample_rate_hz=4096.5),  # type: ignore[arg-type]
        lambda: AdcConfig(v_gain_error=0.9),
        lambda: AdcConfig(i_noise_a=-1.0),
        lambda: Calibration(v_gain=0.0),
        lambda: Calibration(phase_ticks=300),
        lambda: EngineConfig(max_harmonic=40),
        lambda: EngineConfig(tiers=9),
    ],
)
def test_bad_configuration_raises_engine_error(make: object) -> None:
    with pytest.raises(EngineError):
        make()  # type: ignore[operator]


def test_engine_error_is_a_local_protocol_error_and_a_value_error() -> None:
    from openami.errors import LocalProtocolError

    with pytest.raises(LocalProtocolError):
        SupplyConfig(voltage_rms=0.0)
    with pytest.raises(ValueError):
        SupplyConfig(voltage_rms=0.0)
