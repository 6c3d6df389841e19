"""Spectra and load models against circuit formulas."""

from __future__ import annotations

import cmath
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.meter.engine import (
    CompositeLoad,
    ConstantPowerLoad,
    CurrentSourceLoad,
    EngineError,
    ImpedanceLoad,
    ScheduleLoad,
    Spectrum,
    SupplyConfig,
    SwitchedLoad,
    harmonic_load,
    resistive_load,
    rl_load,
)

V = Spectrum.sine(230.0)
phasors = st.dictionaries(
    st.integers(1, 15), st.complex_numbers(max_magnitude=1e3, allow_nan=False, allow_infinity=False), max_size=6
)


@settings(max_examples=200, deadline=None)
@given(phasors)
def test_phasor_round_trip(p: dict[int, complex]) -> None:
    s = Spectrum.from_phasors(p)
    back = s.phasors()
    assert set(back) == {h for h, v in p.items() if v != 0}
    for h, v in back.items():
        assert v == pytest.approx(p[h], abs=1e-9 * (1 + abs(p[h])))


@settings(max_examples=200, deadline=None)
@given(phasors, phasors)
def test_spectra_add_like_phasors(a: dict[int, complex], b: dict[int, complex]) -> None:
    total = (Spectrum.from_phasors(a) + Spectrum.from_phasors(b)).phasors()
    for h in set(a) | set(b):
        want = a.get(h, 0j) + b.get(h, 0j)
        assert total.get(h, 0j) == pytest.approx(want, abs=1e-9 * (1 + abs(want)))


def test_spectrum_values() -> None:
    s = Spectrum((1, 3), (10.0, 2.0), (0.5, -1.0))
    assert s.total_rms == pytest.approx(math.sqrt(104.0))
    assert s.fundamental() == pytest.approx(cmath.rect(10.0, 0.5))
    assert s.scaled(0.5).rms == (5.0, 1.0)
    assert Spectrum((3,), (1.0,)).fundamental() == 0j
    assert Spectrum.zero() + s == s and s + Spectrum.zero() == s
    for orders, rms in (((0,), (1.0,)), ((1, 1), (1.0, 1.0)), ((1,), (-1.0,))):
        with pytest.raises(EngineError):
            Spectrum(orders, rms)
    with pytest.raises(EngineError):
        Spectrum((1,), (1.0,), (0.0, 1.0))
    with pytest.raises(EngineError):
        s.scaled(-1)


def test_resistive_and_rl_loads_draw_their_power() -> None:
    i = resistive_load(2000.0, 220.0).current(0.0, Spectrum.sine(220.0), 60.0).fundamental()
    assert (220.0 * i.conjugate()).real == pytest.approx(2000.0)
    load = rl_load(1500.0, 0.8, 230.0, 50.0)
    i = load.current(0.0, V, 50.0).fundamental()
    s = 230.0 * i.conjugate()
    assert s.real == pytest.approx(1500.0) and s.real / abs(s) == pytest.approx(0.8)
    assert s.imag == pytest.approx(1500.0 * 0.75)  # tan(acos 0.8) = 0.75, lagging
    # the reactance grows with the harmonic order
    z3, z1 = load.impedance(3, 50.0), load.impedance(1, 50.0)
    assert z3.imag == pytest.approx(3 * z1.imag) and z3.real == z1.real


def test_series_capacitor_leads() -> None:
    load = ImpedanceLoad(10.0, c_f=200e-6)
    i = load.current(0.0, V, 50.0).fundamental()
    x = -1 / (2 * math.pi * 50.0 * 200e-6)
    assert i == pytest.approx(230.0 / complex(10.0, x))
    assert cmath.phase(i) > 0


def test_harmonic_and_constant_power_loads() -> None:
    h = harmonic_load(10.0, 0.6, [(3, 0.3, 1.0)]).current(0.0, V, 50.0)
    assert h.phasors()[1] == pytest.approx(cmath.rect(10.0, -math.acos(0.6)))
    assert h.phasors()[3] == pytest.approx(cmath.rect(3.0, 1.0))
    assert harmonic_load(10.0, 0.6, leading=True).current(0.0, V, 50.0).phases[0] > 0
    assert harmonic_load(1.0, 1.0).current(0.0, Spectrum.zero(), 50.0) == Spectrum.zero()
    cp = ConstantPowerLoad(1000.0, -300.0)
    for v in (Spectrum.sine(200.0), Spectrum.sine(250.0, 0.3)):
        s = v.fundamental() * cp.current(0.0, v, 50.0).fundamental().conjugate()
        assert s == pytest.approx(complex(1000.0, -300.0))
    assert cp.current(0.0, Spectrum.zero(), 50.0) == Spectrum.zero()


def test_switched_composite_and_schedule() -> None:
    heater = SwitchedLoad(resistive_load(1000.0, 230.0))
    base = CurrentSourceLoad(Spectrum.sine(1.0))
    home = CompositeLoad(base, [heater])
    on = home.current(0.0, V, 50.0).fundamental()
    heater.on = False
    off = home.current(0.0, V, 50.0).fundamental()
    assert on - off == pytest.approx(1000.0 / 230.0) and off == pytest.approx(1.0)
    sched = ScheduleLoad([(10.0, base), (20.0, resistive_load(460.0, 230.0))])
    assert sched.current(5.0, V, 50.0) == Spectrum.zero()
    assert sched.current(10.0, V, 50.0).fundamental() == pytest.approx(1.0)
    assert sched.current(25.0, V, 50.0).fundamental() == pytest.approx(2.0)
    with pytest.raises(EngineError):
        ScheduleLoad([(20.0, base), (10.0, base)])


def test_supply_voltage_spectrum() -> None:
    s = SupplyConfig(120.0, 60.0, harmonics=((3, 0.05, 0.4),)).voltage_spectrum()
    assert s.phasors() == pytest.approx({1: 120.0, 3: cmath.rect(6.0, 0.4)})


@pytest.mark.parametrize(
    "make",
    [
        lambda: ImpedanceLoad(0.0),
        lambda: ImpedanceLoad(-1.0),
        lambda: resistive_load(0.0, 230.0),
        lambda: rl_load(100.0, 1.2, 230.0, 50.0),
        lambda: harmonic_load(1.0, 0.9, [(1, 0.1, 0.0)]),
        lambda: harmonic_load(-1.0, 0.9),
        lambda: ConstantPowerLoad(float("nan")),
        lambda: Spectrum.from_phasors({1: float("inf")}),
        lambda: Spectrum.from_phasors({0: 1.0}),
        lambda: Spectrum.from_phasors({1: "x"}),  # type: ignore[dict-item]
    ],
)
def test_bad_loads(make: object) -> None:
    with pytest.raises(EngineError):
        make()  # type: ignore[operator]
