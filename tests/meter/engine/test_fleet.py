"""Fleet engine: a fleet equals the same meters run one by one with the same seeds; results do not depend
on how seconds are batched; seeds make runs reproducible; fast and sampled modes agree; memory."""

from __future__ import annotations

import numpy as np
import pytest

from openami.meter.engine import (
    AdcConfig,
    Calibration,
    CompositeLoad,
    EngineConfig,
    EngineError,
    FleetEngine,
    FrequencyDrift,
    MeteringEngine,
    Register,
    SupplyConfig,
    SwitchedLoad,
    TierSwitch,
    TouCalendar,
    harmonic_load,
    resistive_load,
    rl_load,
)

from .support import T0, engine, fleet

NOISY = AdcConfig(v_noise_v=0.3, i_noise_a=0.02, v_gain_error=0.01, i_offset_error=12.0, i_delay_error_s=5e-6)
CAL = TouCalendar((TierSwitch(0, 0, 0, 0), TierSwitch(0, 0, 2, 1)), ((0, 0, 0),))


def configs() -> list[EngineConfig]:
    drift = FrequencyDrift(offset_hz=-0.021, wander_hz=0.02, wander_period_s=37.0)
    return [
        EngineConfig(adc=NOISY, calibration=Calibration.ideal(NOISY), calendar=CAL),
        EngineConfig(supply=SupplyConfig(110.0, 60.0, harmonics=((3, 0.04, 0.5),), drift=drift)),
        EngineConfig(supply=SupplyConfig(230.0, 50.0), adc=AdcConfig(i_noise_a=0.05), utc_offset_s=3600),
    ]


def loads() -> list[CompositeLoad]:
    return [
        CompositeLoad(rl_load(900.0, 0.85, 220.0, 60.0), [SwitchedLoad(resistive_load(500.0, 220.0))]),
        CompositeLoad(harmonic_load(7.0, 0.9, [(3, 0.3, 0.2), (5, 0.1, 1.0)])),
        CompositeLoad(resistive_load(3000.0, 230.0)),
    ]


def script(run: list[tuple[MeteringEngine | FleetEngine, int]], ls: list[CompositeLoad]) -> None:
    """The same operations on a fleet (meter index) or on single engines."""

    def each(action: str, *args: object) -> None:
        for eng, i in run:
            target = getattr(eng, action)
            target(i, *args) if isinstance(eng, FleetEngine) else target(*args)

    def advance(t: int) -> None:
        seen = set()
        for eng, i in run:
            if id(eng) in seen:
                continue
            seen.add(id(eng))
            if isinstance(eng, FleetEngine):
                eng.advance(t, ls)
            else:
                eng.advance(t, ls[i])

    advance(T0 + 95)
    ls[0].appliances[0].on = False  # type: ignore[attr-defined]
    each("tamper")
    advance(T0 + 130)
    for eng, i in run:
        if i == 1:
            eng.power_fail(1) if isinstance(eng, FleetEngine) else eng.power_fail()
        if i == 2:
            eng.set_clock(2, T0 + 500) if isinstance(eng, FleetEngine) else eng.set_clock(T0 + 500)
    advance(T0 + 170)
    for eng, i in run:
        if i == 1:
            eng.power_restore(1) if isinstance(eng, FleetEngine) else eng.power_restore()
    advance(T0 + 240)


def test_fleet_equals_single_engines_with_the_same_seeds() -> None:
    seeds = [11, 12, 13]
    f = fleet(configs(), seeds)
    script([(f, i) for i in range(3)], loads())
    singles = [engine(c, s) for c, s in zip(configs(), seeds, strict=True)]
    script([(e, i) for i, e in enumerate(singles)], loads())
    for i, single in enumerate(singles):
        assert f.register_snapshot(i) == single.registers
        assert f.reading(i) == single.reading
        assert f.demand_snapshot(i) == single.demand
        assert f.intervals(i) == single.intervals
        assert f.events(i) == single.events
        assert f.tier(i) == single.tier
        assert f.meter_time(i) == single.meter_time
    assert f.register_snapshot(0).value(Register.WH_DELIVERED, 1) > 0  # tier 1 after 00:02
    assert [e.code for e in f.events(1)] == [47, 1, 2]  # tamper, power down, power up
    assert [e.code for e in f.events(2)] == [47, 3, 4]  # tamper, time changed (old, new)


def test_batching_of_seconds_does_not_change_results() -> None:
    config = configs()[0]
    a, b = engine(config, 5), engine(config, 5)
    load = loads()[0]
    a.advance(T0 + 300, load)
    for k in range(1, 301):
        b.advance(T0 + k, load)
    assert a.registers == b.registers and a.reading == b.reading and a.intervals == b.intervals


def test_same_seed_same_run_other_seed_other_noise() -> None:
    config = configs()[0]
    runs = [engine(config, s) for s in (3, 3, 4)]
    for r in runs:
        r.advance(T0 + 20, loads()[0])
    assert runs[0].reading == runs[1].reading and runs[0].registers == runs[1].registers
    assert runs[0].reading.vrms_v != runs[2].reading.vrms_v
    assert runs[0].reading.p_w == pytest.approx(runs[2].reading.p_w, rel=1e-3)


def test_fast_and_sampled_modes_agree() -> None:
    config = EngineConfig(supply=SupplyConfig(230.0, 50.0, harmonics=((5, 0.03, 0.1),)))
    load = harmonic_load(12.0, 0.8, [(3, 0.2, 0.5)])
    sampled, fast = engine(config), engine(config, mode="fast")
    sampled.advance(T0 + 120, load)
    fast.advance(T0 + 120, load)
    for reg in (Register.WH_DELIVERED, Register.VARH_DELIVERED, Register.VAH):
        assert sampled.register(reg) == pytest.approx(fast.register(reg), rel=1e-4)
    r, q = sampled.reading, fast.reading
    for name in ("vrms_v", "irms_a", "p_w", "q_var", "s_va", "pf", "freq_hz"):
        assert getattr(r, name) == pytest.approx(getattr(q, name), rel=1e-4)


def test_fleet_memory_per_meter() -> None:
    n = 50
    f = FleetEngine([EngineConfig()] * n, [np.random.default_rng(k) for k in range(n)], start_time=T0, mode="fast")
    f.advance(T0 + 2, [resistive_load(1000.0, 220.0)] * n)
    per_meter = f.state_nbytes() / n
    lp = EngineConfig().load_profile
    assert lp.capacity * (8 + 4 * lp.n_channels + 1) < per_meter < 64 * 1024


def test_fleet_argument_checks() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(EngineError):
        FleetEngine([EngineConfig()], [], start_time=T0)
    with pytest.raises(EngineError):
        FleetEngine([EngineConfig(), EngineConfig(tiers=2)], [rng, rng], start_time=T0)
    with pytest.raises(EngineError):
        FleetEngine([EngineConfig()], [rng], start_time=T0, mode="slow")  # type: ignore[arg-type]
    f = FleetEngine([EngineConfig()] * 2, [rng, rng], start_time=T0)
    with pytest.raises(EngineError):
        f.advance(T0 + 1, [resistive_load(1.0, 220.0)])
    with pytest.raises(EngineError):
        f.advance(float("nan"), [resistive_load(1.0, 220.0)] * 2)
    with pytest.raises(EngineError):
        f.advance(T0 + 1, [harmonic_load(1.0, 1.0, [(16, 0.1, 0.0)])] * 2)
    assert f.advance(T0 - 5, [resistive_load(1.0, 220.0)] * 2) == 0 and f.time == T0
    assert f.advance(T0 + 2.9, [resistive_load(1.0, 220.0)] * 2) == 2 and f.time == T0 + 2
