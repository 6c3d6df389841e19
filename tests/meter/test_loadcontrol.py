"""The load-control engine: price steps, demand-limit shedding in priority order, deadline jobs in the
cheapest windows, min on/off, non-interruptible loads, DR events, commands, events, tables and status."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.procedures import DirectLoadControlParams, LoadControlAction
from openami.c1219.std.decade11 import Comparison, ConditionSource, ControlSource
from openami.errors import LocalProtocolError
from openami.han.policies import AppliancePolicy, DeadlineJob, PriceCurve
from openami.meter.config import MeterConfig
from openami.meter.loadcontrol import Condition, DrEvent, LoadControlEngine, Measurements
from openami.meter.tables import TableStore


@dataclass
class Log:
    """An event sink that records (code, user, argument)."""

    entries: list[tuple[int, int, bytes]] = field(default_factory=list)

    def log_event(self, code: int, user_id: int, argument: bytes) -> None:
        self.entries.append((code, user_id, argument))


def total(engine: LoadControlEngine, base_w: float = 0.0) -> Measurements:
    """The premise load a simple plant would measure: base + rated load of every ON point."""
    loads = {pt: (p.policy.rated_w if p.on else 0.0) for pt, p in engine.points.items()}
    return Measurements(base_w + sum(loads.values()), loads)


def test_price_rise_switches_interruptible_off_within_one_period() -> None:
    log = Log()
    eng = LoadControlEngine(log, period_s=60.0)
    eng.add_appliance(0, AppliancePolicy(rated_w=2000.0, price_threshold=0.20))
    eng.add_appliance(1, AppliancePolicy(rated_w=500.0, price_threshold=0.20, interruptible=False))
    eng.set_tier_prices([0.10, 0.30])
    assert eng.step(0.0, total(eng)) == []
    eng.set_tier(1)  # price step 0.10 → 0.30
    d = eng.step(60.0, total(eng))
    assert [(x.point, x.on, x.source) for x in d] == [(0, False, ControlSource.CONDITION)]
    assert eng.points[1].on  # non-interruptible stays on
    eng.set_price(0.15)  # real-time price overrides the tier
    d = eng.step(120.0, total(eng))
    assert [(x.point, x.on, x.source) for x in d] == [(0, True, ControlSource.CONDITION)]
    assert log.entries == [(51, 0, bytes((0, 0, 3))), (51, 0, bytes((0, 100, 3)))]


def test_demand_limit_sheds_in_priority_order_and_restores_with_hysteresis() -> None:
    log = Log()
    eng = LoadControlEngine(log)
    # priority: 0 shed first … 255 last
    for pt, prio in enumerate((200, 10, 100, 50)):
        eng.add_appliance(pt, AppliancePolicy(priority=prio, rated_w=1000.0))
    base = 500.0
    eng.step(0.0, total(eng, base))  # 4500 W, no limit
    eng.set_demand_limit(2600.0, hysteresis_w=300.0)
    d = eng.step(1.0, total(eng, base))
    # must drop ≥ 1900 W: shed priority 10 (point 1) then 50 (point 3)
    assert [(x.point, x.on, x.source) for x in d] == [
        (1, False, ControlSource.DEMAND_LIMIT),
        (3, False, ControlSource.DEMAND_LIMIT),
    ]
    assert total(eng, base).total_w <= 2600.0
    eng.set_demand_limit(3700.0, hysteresis_w=300.0)
    # 2500 + 1000 = 3500 > 3400 → not restored yet (hysteresis)
    assert eng.step(2.0, total(eng, base)) == []
    eng.set_demand_limit(3800.0, hysteresis_w=300.0)
    d = eng.step(3.0, total(eng, base))
    assert [(x.point, x.on) for x in d] == [(3, True)]  # most important shed point first
    codes = [e[0] for e in log.entries]
    assert codes == [51, 51, 51]
    status = eng.to_status(3.0)
    assert status["CONTROL_POINT_STATUS"][1]["STATUS_FLAGS"]["DEMAND_LIMIT_EXCEEDED_FLAG"]
    assert status["CONTROL_POINT_STATUS"][1]["CONTROL_SOURCE"] == ControlSource.DEMAND_LIMIT


def test_deadline_job_runs_in_cheapest_window_of_a_24h_curve() -> None:
    log = Log()
    prices = (9, 9, 8, 7, 3, 2, 2, 4, 8, 9, 9, 6, 5, 6, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)
    eng = LoadControlEngine(log, period_s=600.0)
    eng.set_price_curve(PriceCurve(0.0, 3600.0, tuple(float(p) for p in prices)))
    job = DeadlineJob(run_s=3 * 3600.0, deadline=24 * 3600.0)
    eng.add_appliance(0, AppliancePolicy(rated_w=3000.0, min_on_s=3 * 3600.0, deadline=job))
    on_hours = set()
    for t in range(0, 24 * 3600, 600):
        eng.step(float(t), total(eng))
        if eng.points[0].on:
            on_hours.add(t // 3600)
    # contiguous 3-hour windows (min on 3 h): brute force the cheapest
    best = min(range(22), key=lambda h: sum(prices[h : h + 3]))
    assert sorted(on_hours) == [best, best + 1, best + 2]
    assert [e[0] for e in log.entries] == [50, 50]
    assert eng.points[0].run_done_s == pytest.approx(3 * 3600.0)


def test_min_on_off_prevent_chatter() -> None:
    eng = LoadControlEngine(Log())
    eng.add_appliance(0, AppliancePolicy(rated_w=1000.0, price_threshold=1.0, min_on_s=100.0, min_off_s=50.0))
    eng.step(0.0, total(eng))
    switches = []
    for t in range(1, 400):
        eng.set_price(2.0 if t % 2 else 0.5)  # price flips every second
        switches += [(t, d.on) for d in eng.step(float(t), total(eng))]
    times = [0] + [t for t, _ in switches]
    for (a, on_a), b in zip([(0, True), *switches], times[1:], strict=False):
        assert b - a >= (100 if on_a else 50)
    assert len(switches) >= 2


def test_non_interruptible_only_off_by_override_command() -> None:
    log = Log()
    eng = LoadControlEngine(log)
    eng.add_appliance(5, AppliancePolicy(rated_w=3000.0, interruptible=False, price_threshold=0.1, min_on_s=600.0))
    eng.set_price(1.0)
    eng.set_demand_limit(100.0)
    eng.add_dr_event(DrEvent(1, 0.0, 3600.0, criticality=9))
    assert eng.step(0.0, total(eng)) == []
    res = eng.command(1.0, 5, False)
    assert not res.accepted and res.decisions == ()
    res = eng.command(2.0, 5, False, override=True, duration_s=60.0)
    assert res.accepted and [(d.point, d.on, d.source) for d in res.decisions] == [(5, False, ControlSource.COMMAND)]
    assert log.entries == [(49, 0, bytes((5, 0, 1)))]
    # the command ends after 60 s; the point returns to ON (attributed to the command)
    d = eng.step(62.0, total(eng))
    assert [(x.on, x.source) for x in d] == [(True, ControlSource.COMMAND)]


def test_dr_event_start_and_cancel() -> None:
    log = Log()
    eng = LoadControlEngine(log)
    eng.add_appliance(0, AppliancePolicy(priority=20, rated_w=1000.0))
    eng.add_appliance(1, AppliancePolicy(priority=200, rated_w=1000.0))
    eng.add_dr_event(DrEvent(7, start=100.0, duration_s=600.0, criticality=2))  # sheds priority < 64
    assert eng.next_timer(50.0) == 51.0
    assert LoadControlEngine(period_s=100.0).next_timer(0.0) == 100.0
    assert eng.step(50.0, total(eng)) == []
    d = eng.step(100.0, total(eng))
    assert [(x.point, x.on, x.source) for x in d] == [(0, False, ControlSource.SCHEDULE)]
    assert eng.cancel_dr_event(7) and not eng.cancel_dr_event(7)
    d = eng.step(101.0, total(eng))
    assert [(x.point, x.on, x.source) for x in d] == [(0, True, ControlSource.SCHEDULE)]
    assert [e[0] for e in log.entries] == [50, 50]
    # an event that simply ends restores too
    eng.add_dr_event(DrEvent(8, 200.0, 10.0, criticality=9))
    assert [x.on for x in eng.step(200.0, total(eng))] == [False, False]
    assert [x.on for x in eng.step(210.0, total(eng))] == [True, True]


def test_sp21_release_and_all_points() -> None:
    log = Log()
    eng = LoadControlEngine(log)
    eng.add_appliance(0, AppliancePolicy(rated_w=100.0))
    eng.add_appliance(2, AppliancePolicy(rated_w=100.0))
    eng.step(0.0, total(eng))
    res = eng.apply_sp21(DirectLoadControlParams(255, LoadControlAction.SHED), 1.0)
    assert res.accepted and [d.point for d in res.decisions] == [0, 2]
    res = eng.apply_sp21(DirectLoadControlParams(2, LoadControlAction.RELEASE), 2.0)
    assert [(d.point, d.on) for d in res.decisions] == [(2, True)]
    assert [e[0] for e in log.entries] == [49, 49, 49]
    with pytest.raises(LocalProtocolError):
        eng.command(3.0, 1, True)
    with pytest.raises(LocalProtocolError):
        eng.step(1.0, total(eng))  # time going backwards


def test_condition_with_hysteresis_and_min_duration() -> None:
    log = Log()
    eng = LoadControlEngine(log)
    eng.add_appliance(0, AppliancePolicy(rated_w=1000.0))
    eng.set_conditions([Condition(3, ConditionSource.TOTAL_LOAD, Comparison.GT, 5000.0, frozenset({0}), 500.0, 10.0)])
    assert eng.step(0.0, Measurements(6000.0)) == []  # must hold 10 s
    d = eng.step(10.0, Measurements(6000.0))
    assert [(x.on, x.source, x.source_index) for x in d] == [(False, ControlSource.CONDITION, 3)]
    assert eng.step(11.0, Measurements(4800.0)) == []  # not 500 W back yet
    assert [x.on for x in eng.step(12.0, Measurements(4400.0))] == [True]


def test_from_tables_and_status() -> None:
    store = TableStore(MeterConfig())
    st113 = store.value(113)
    st113["CONTROL_POINT_CONFIG"][1].update(PRICE_LIMIT=0.2, MIN_ON_TIME=30, REQUIRED_RUN_TIME=0)
    eng = LoadControlEngine.from_tables(
        store.value(111), st113, store.value(114), store.value(115), store.value(118), now=0.0
    )
    assert set(eng.points) == {1}  # point 0 is the service disconnect: left to the meter
    assert eng.points[1].policy == AppliancePolicy(priority=10, min_on_s=30.0, rated_w=4500.0, price_threshold=0.2)
    assert eng.tier_prices == (0.12, 0.3, 0.12, 0.12)
    eng.step(0.0, total(eng))
    eng.set_tier(1)
    assert [x.on for x in eng.step(30.0, total(eng))] == [False]
    status = eng.to_status(30.0)
    assert status["CURRENT_PRICE"] == 0.3 and status["CURRENT_PRICE_TIER"] == 1
    entries = status["CONTROL_POINT_STATUS"]
    assert len(entries) == 2 and entries[1]["CONTROL_LEVEL"] == 0 and entries[1]["CONTROL_SOURCE"] == 3
    assert entries[1]["LAST_CHANGE"].second == 30
    daily = dict(st113)
    daily["CONTROL_POINT_CONFIG"] = [dict(p) for p in st113["CONTROL_POINT_CONFIG"]]
    daily["CONTROL_POINT_CONFIG"][1].update(REQUIRED_RUN_TIME=60, DEADLINE=dt.time(6, 0))
    eng2 = LoadControlEngine.from_tables(store.value(111), daily, now=7 * 3600.0)
    job = eng2.points[1].policy.deadline
    assert job == DeadlineJob(3600.0, 86400.0 + 6 * 3600.0, 86400.0)


# -- properties ---------------------------------------------------------------------------------------------------
@st.composite
def plants(draw: st.DrawFn) -> tuple[list[AppliancePolicy], list[tuple[float, float, float]]]:
    n = draw(st.integers(1, 5))
    policies = [
        AppliancePolicy(
            priority=draw(st.integers(0, 255)),
            interruptible=draw(st.booleans()),
            min_on_s=float(draw(st.integers(0, 5))),
            min_off_s=float(draw(st.integers(0, 5))),
            rated_w=float(draw(st.integers(0, 3000))),
            price_threshold=draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
        )
        for _ in range(n)
    ]
    steps = draw(
        st.lists(st.tuples(st.floats(0.1, 3.0), st.floats(0.0, 1.0), st.floats(0.0, 8000.0)), min_size=1, max_size=40)
    )
    return policies, steps


@settings(max_examples=150, deadline=None)
@given(plants(), st.one_of(st.none(), st.floats(0.0, 10000.0)))
def test_random_sequences_respect_min_times_and_non_interruptible(
    plant: tuple[list[AppliancePolicy], list[tuple[float, float, float]]], limit: float | None
) -> None:
    policies, steps = plant
    log = Log()
    eng = LoadControlEngine(log)
    for i, pol in enumerate(policies):
        eng.add_appliance(i, pol)
    eng.set_demand_limit(limit)
    last = {i: (0.0, True) for i in range(len(policies))}
    now = 0.0
    n_switches = 0
    for dt_, price, other_w in steps:
        now += dt_
        eng.set_price(price)
        for d in eng.step(now, Measurements(other_w + sum(p.policy.rated_w for p in eng.points.values() if p.on))):
            since, was_on = last[d.point]
            pol = policies[d.point]
            assert d.on != was_on
            assert now - since >= (pol.min_on_s if was_on else pol.min_off_s) - 1e-9
            assert d.on or pol.interruptible
            last[d.point] = (now, d.on)
            n_switches += 1
    assert len(log.entries) == n_switches
    assert all(code in (49, 50, 51) for code, _, _ in log.entries)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 255), st.integers(1, 3000), st.booleans()), min_size=1, max_size=6),
    st.floats(0.0, 3000.0),
    st.floats(0.0, 20000.0),
    st.lists(st.floats(0.0, 3000.0), min_size=1, max_size=10),
)
def test_limit_met_after_one_period_when_enough_interruptible_load(
    apps: list[tuple[int, int, bool]], base: float, limit: float, later_bases: list[float]
) -> None:
    eng = LoadControlEngine(Log())
    for i, (prio, rated, interruptible) in enumerate(apps):
        eng.add_appliance(i, AppliancePolicy(priority=prio, rated_w=float(rated), interruptible=interruptible))
    eng.set_demand_limit(limit, hysteresis_w=100.0)
    now = 0.0
    for b in [base, *later_bases]:
        eng.step(now, total(eng, b))
        firm = b + sum(float(r) for _, r, intr in apps if not intr)
        if firm <= limit:
            assert total(eng, b).total_w <= limit + 1e-6
        now += 1.0


def test_shed_order_matches_brute_force_definition() -> None:
    # every permutation of priorities over 4 loads: the shed set is the least-important prefix
    for prios in itertools.permutations((5, 60, 130, 250)):
        eng = LoadControlEngine()
        for i, p in enumerate(prios):
            eng.add_appliance(i, AppliancePolicy(priority=p, rated_w=1000.0))
        eng.set_demand_limit(2000.0)
        shed = [d.point for d in eng.step(0.0, total(eng))]
        assert sorted(prios[i] for i in shed) == [5, 60]
