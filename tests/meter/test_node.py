"""The running meter: the engine seen through its tables (`EngineLive`), procedures acting on the engine,
registration with a fake master relay (start, every period, deregistration at stop), notifications with
load-profile data and alarms, ST126/ST127, and the optical port with our own C12.18 client.

Shared helpers (a meter on a manual clock, a head-end client, a fake master relay) are used by the other
meter tests of this folder. Expected values come from the physics (a 2 kW resistor for 15 minutes is
500 Wh) or from the engine itself, never from the adapter under test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest

from openami.c1219.procedures import (
    CreditAction,
    DirectLoadControlParams,
    LoadControlAction,
    ModifyCreditParams,
    ProcedureRequest,
    RemoteResetParams,
    ResultCode,
    SetDateTimeParams,
)
from openami.c1222.acse import AeQualifier
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import Association, AssociationConfig, RequestReceived
from openami.c1222.security import IvSource, KeyStore, ReplayGuard, SecurityMode
from openami.c1222.services import (
    Deregistration,
    FullWrite,
    OkResponse,
    PartialWriteOffset,
    ReadResponse,
    RegInfo,
    Registration,
    RegistrationResponse,
    Response,
)
from openami.meter.config import Key, MeterConfig, SecuritySettings
from openami.meter.engine import CompositeLoad, FleetEngine, SwitchedLoad, resistive_load
from openami.meter.live import EngineDriver, EngineLive, engine_config
from openami.meter.node import Meter, NodeSettings
from openami.transport import C1222Endpoint, Clock, ManualClock, SystemClock, open_optical_tcp, serve_tcp, serve_udp
from tests.transport.support import KEY, KEY_ID, run, until

from .test_procedures import MASTER
from .test_procedures import run as procedure

T0 = 1_700_000_100  # a multiple of 900 s: load-profile and demand intervals start whole
HEADEND = ApTitle.parse(".123.1")  # the head-end: master relay (MeterConfig's default) and notification host
SECURITY = SecuritySettings(keys=(Key(KEY_ID, KEY),))
CONFIG = MeterConfig(security=SECURITY, notify_host=str(HEADEND))
SMALL_LP = replace(CONFIG, lp_blocks=2, lp_block_intervals=4)


# -- helpers shared with the other meter tests ------------------------------------------------------------------------
def engine_meter(
    config: MeterConfig = CONFIG, watts: float = 2000.0, *, heater_on: bool = False
) -> tuple[EngineLive, FleetEngine, CompositeLoad]:
    """One engine (fast mode) with a resistor of ``watts`` plus the 4.5 kW water heater of control point 1."""
    engine = FleetEngine([engine_config(config)], [np.random.default_rng(1)], start_time=T0, mode="fast")
    heater = SwitchedLoad(resistive_load(4500.0, config.service_voltage_v), on=heater_on)
    load = CompositeLoad(resistive_load(watts, config.service_voltage_v), [heater])
    return EngineLive(engine, 0, config, appliances={1: heater}), engine, load


def meter(config: MeterConfig = CONFIG, *, clock: Clock | None = None, speed: float = 1.0, **settings: Any) -> Meter:
    """A stand-alone meter (fast engine) on a manual clock at ``T0``; ``settings`` go to `NodeSettings`."""
    return Meter.create(
        config,
        clock=clock if clock is not None else ManualClock(T0),
        settings=NodeSettings(**settings),
        speed=speed,
        mode="fast",
        start_time=T0,
    )


def client(clock: Any, mode: SecurityMode = SecurityMode.CLEARTEXT, title: str = ".123.4", **kw: Any) -> C1222Endpoint:
    """A head-end endpoint holding the test key."""
    config = AssociationConfig(
        ap_title=ApTitle.parse(title),
        keys=KeyStore({KEY_ID: KEY}),
        key_id=KEY_ID,
        security_mode=mode,
        iv_source=IvSource(),
        replay_guard=ReplayGuard(),
        response_timeout=kw.pop("response_timeout", 5.0),
        **kw,
    )
    return C1222Endpoint(Association(config), clock=clock)


@dataclass
class FakeRelay:
    """A master relay and notification host: grants registrations for ``period`` s, acknowledges the rest,
    and remembers every request with its calling AE qualifier and security mode."""

    period: int = 60
    seen: list[RequestReceived] = field(default_factory=list)

    async def __call__(self, event: RequestReceived) -> Sequence[Response]:
        self.seen.append(event)
        out: list[Response] = []
        for request in event.requests:
            if isinstance(request, Registration):
                out.append(RegistrationResponse(request.ap_title, 5, self.period, RegInfo.CONNECTION_MODE))
            else:
                out.append(OkResponse())
        return out

    def of(self, kind: type) -> list[RequestReceived]:
        return [e for e in self.seen if any(isinstance(r, kind) for r in e.requests)]


async def relay_endpoint(
    clock: Any, relay: FakeRelay, *, udp: bool = False, mode: SecurityMode = SecurityMode.CLEARTEXT
) -> tuple[C1222Endpoint, int, Any]:
    """The fake relay listening on loopback: (endpoint, port, server)."""
    endpoint = client(clock, mode, ".123.1")
    endpoint.on_request = relay
    if udp:
        sock = await serve_udp("127.0.0.1", 0, endpoint)
        return endpoint, sock.port, sock
    server = await serve_tcp("127.0.0.1", 0, endpoint, idle_timeout=None)
    return endpoint, server.port, server


def table(responder: Any, number: int) -> dict[str, Any]:
    """Table ``number`` refreshed from the engine and decoded (as a read would see it)."""
    responder.refresh(number)
    value: dict[str, Any] = responder.store.value(number)
    return value


# -- the engine through the tables -------------------------------------------------------------------------------------
def responder_of(live: EngineLive, config: MeterConfig = CONFIG) -> Any:
    from openami.meter.responder import Responder

    return Responder(config, live)


def test_registers_and_demand_of_a_2_kw_resistor() -> None:
    live, engine, load = engine_meter()
    responder = responder_of(live)
    engine.advance(T0 + 3600, [load])
    live.observe()
    responder.refresh(23)
    st23 = responder.store.value(23)
    wh, varh = st23["TOT_DATA_BLOCK"]["SUMMATIONS"]
    assert wh == pytest.approx(2000.0, rel=1e-6)  # 2 kW for one hour
    assert varh == pytest.approx(0.0, abs=1e-6)
    demand = st23["TOT_DATA_BLOCK"]["DEMANDS"][0]
    assert demand["DEMAND"][0] == pytest.approx(2000.0, rel=1e-6)  # a 15-minute block of 2 kW
    assert st23["TOT_DATA_BLOCK"]["SUMMATIONS"] == [
        v / 1000 for v in (engine.register_snapshot(0).total[0], engine.register_snapshot(0).total[2])
    ]


def test_load_profile_blocks_and_readings() -> None:
    live, engine, load = engine_meter(SMALL_LP)
    responder = responder_of(live, SMALL_LP)
    engine.advance(T0 + 3 * 3600, [load])  # 12 intervals of 500 Wh: blocks 0, 1, 2 of 4 intervals
    live.observe()
    responder.refresh(63)
    responder.refresh(64)
    status = responder.store.value(63)["LP_STATUS_SET1"]
    assert (status["NBR_VALID_BLOCKS"], status["NBR_VALID_INT"], status["LAST_BLOCK_SEQ_NBR"]) == (2, 4, 2)
    blocks = responder.store.value(64)["LP_DATA_SET1"]
    for block, end in zip(blocks, (4000, 6000), strict=True):  # the two newest blocks are kept
        assert block["END_READINGS"][0]["BLOCK_END_READ"] == pytest.approx(end, rel=1e-6)
        assert [i["INT_DATA"][0] for i in block["LP_INT"]] == [500] * 4
    assert blocks[1]["BLK_END_TIME"] == dt.datetime(1970, 1, 1) + dt.timedelta(seconds=T0 + 3 * 3600)


def test_load_profile_stopped_intervals_are_left_out() -> None:
    config = replace(SMALL_LP, lp_blocks=4)  # 16 intervals: the ring holds all 10
    live, engine, load = engine_meter(config)
    responder = responder_of(live, config)
    engine.advance(T0 + 3600, [load])
    live.observe()
    assert procedure(responder, 17).result == ResultCode.COMPLETED  # stop
    engine.advance(T0 + 7200, [load])
    live.observe()
    assert table(responder, 63)["LP_STATUS_SET1"]["LP_SET_STATUS_FLAGS"]["ACTIVE_MODE_FLAG"] is False
    assert procedure(responder, 16).result == ResultCode.COMPLETED  # start
    engine.advance(T0 + 7200 + 1800, [load])
    live.observe()
    data = live.load_profile()
    assert [len(b.intervals) for b in data.blocks] == [4, 2]  # the hour while stopped is not there
    ends = [b.end_time for b in data.blocks]
    assert ends[-1] == dt.datetime(1970, 1, 1) + dt.timedelta(seconds=T0 + 9000)


def test_direct_load_control_switches_the_appliance_and_times_out() -> None:
    live, engine, load = engine_meter(heater_on=True)
    responder = responder_of(live)
    engine.advance(T0 + 60, [load])
    assert engine.reading(0).p_w == pytest.approx(6500.0, rel=1e-6)  # 2 kW + the 4.5 kW heater (default on)
    params = DirectLoadControlParams(1, LoadControlAction.SHED, 0, 30).encode()
    assert procedure(responder, 21, params).result == ResultCode.COMPLETED
    engine.advance(T0 + 660, [load])
    live.observe()
    assert engine.reading(0).p_w == pytest.approx(2000.0, rel=1e-6)
    point = table(responder, 112)["CONTROL_POINT_STATUS"][1]
    assert (point["CONTROL_LEVEL"], point["REMAINING_DURATION"], point["CONTROL_SOURCE"]) == (0, 20, 1)
    engine.advance(T0 + 60 + 1800, [load])
    live.observe()  # 30 minutes are over: back to the default (on)
    engine.advance(T0 + 60 + 1801, [load])
    assert engine.reading(0).p_w == pytest.approx(6500.0, rel=1e-6)
    assert table(responder, 112)["CONTROL_POINT_STATUS"][1]["CONTROL_LEVEL"] == 100


def test_disconnect_and_connect_drive_the_engine_switch() -> None:
    live, engine, load = engine_meter()
    responder = responder_of(live)
    shed = DirectLoadControlParams(0, LoadControlAction.SHED).encode()
    assert procedure(responder, 21, shed).result == ResultCode.COMPLETED
    assert not engine.connected[0]
    engine.advance(T0 + 900, [load])
    assert engine.register_snapshot(0).total[0] == 0
    restore = DirectLoadControlParams(0, LoadControlAction.RESTORE).encode()
    assert procedure(responder, 21, restore).result == ResultCode.COMPLETED
    assert engine.connected[0]
    assert [e.code for e in engine.events(0)].count(49) == 2  # logged once per command, not twice


def test_set_time_and_demand_reset_act_on_the_engine_once() -> None:
    live, engine, load = engine_meter()
    responder = responder_of(live)
    engine.advance(T0 + 1800, [load])
    new = dt.datetime(2030, 5, 6, 7, 8, 0)
    params = SetDateTimeParams(new).encode(CONFIG.formats)
    assert procedure(responder, 10, params).result == ResultCode.COMPLETED
    assert engine.meter_time(0) == int((new - dt.datetime(1970, 1, 1)).total_seconds())
    assert table(responder, 52)["CLOCK_CALENDAR"] == new
    before = engine.demand_snapshot(0).max_w[0]
    assert before == pytest.approx(2000.0, rel=1e-6)
    assert procedure(responder, 9, RemoteResetParams(demand_reset=True).encode()).result == ResultCode.COMPLETED
    after = engine.demand_snapshot(0)
    assert (after.max_w[0], after.resets) == (0.0, 1)
    codes = [e.code for e in engine.events(0)]
    assert (codes.count(3), codes.count(4), codes.count(20)) == (1, 1, 1)


def test_clear_data_and_credit() -> None:
    live, engine, load = engine_meter()
    responder = responder_of(live)
    engine.advance(T0 + 1800, [load])
    assert procedure(responder, 3).result == ResultCode.COMPLETED
    assert engine.register_snapshot(0).total[0] == 0
    assert [e.code for e in engine.events(0)] == [16, 18, 9]
    params = ModifyCreditParams(CreditAction.ADD, 12.5, 77).encode(CONFIG.formats)
    result = procedure(responder, 22, params)
    assert result.result == ResultCode.COMPLETED
    assert float(table(responder, 116)["REMAINING_CREDIT"]) == 12.5


def test_engine_driver_runs_accelerated_on_the_clock() -> None:
    clock = ManualClock(100.0)
    _, engine, load = engine_meter()
    driver = EngineDriver(engine, [load], clock=clock, speed=60.0, tick_s=1.0)
    seen: list[int] = []
    driver.listeners.append(lambda: seen.append(engine.time))
    driver.start()
    clock.advance(10.0)
    assert engine.time == T0 + 600  # ten seconds at 60× is ten minutes
    assert seen == [T0 + 60 * k for k in range(1, 11)]
    driver.stop()
    clock.advance(10.0)
    assert engine.time == T0 + 600


# -- the node ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("udp", [False, True])
def test_registration_at_start_every_period_and_deregistration(udp: bool) -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        relay = FakeRelay(period=120)
        _, port, server = await relay_endpoint(clock, relay, udp=udp)
        node = meter(clock=clock, registration_period_s=3600)
        if udp:
            await node.serve_udp("127.0.0.1", 0)
        await node.use_headend("127.0.0.1", port, udp=udp)
        node.start()
        await until(lambda: node.registered)
        first = relay.of(Registration)[0]
        request = first.requests[0]
        assert isinstance(request, Registration)
        assert (request.ap_title, request.registration_period, request.device_class) == (node.title, 3600, b"OAMI")
        st126 = table(node.responder, 126)["REGISTRATION_STATUS"][0]
        assert (st126["REGISTRATION_PERIOD"], st126["REGISTRATION_DELAY"]) == (120, 5)
        assert st126["REGISTRATION_COUNT_DOWN"] == 120
        clock.advance(60)
        assert table(node.responder, 126)["REGISTRATION_STATUS"][0]["REGISTRATION_COUNT_DOWN"] == 60
        for n, step in ((2, 60), (3, 120)):
            clock.advance(step)  # every granted period, not the one asked for

            def registered(n: int = n) -> bool:
                return len(relay.of(Registration)) == n and node.counters.registrations_ok == n

            await until(registered)
        stats = {
            (r["INTERFACE_ID"], r["STATISTIC_CODE"]): r["STATISTIC_VALUE"]
            for r in table(node.responder, 127)["STATISTICS"]
        }
        assert stats[(0, 3)] >= 3  # PDUs sent
        await node.stop()
        assert [type(r) for r in relay.seen[-1].requests] == [Deregistration]
        server.close() if udp else await server.close()

    run(go())


def test_registration_retried_when_refused_or_unanswered() -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        relay = FakeRelay()
        endpoint, port, server = await relay_endpoint(clock, relay)
        endpoint.on_request = None  # answers SNS: refused
        node = meter(clock=clock, registration_retry_s=30.0)
        await node.use_headend("127.0.0.1", port)
        node.start()
        await until(lambda: node.counters.registrations_denied == 1)
        assert not node.registered
        endpoint.on_request = relay
        clock.advance(30)
        await until(lambda: node.registered)
        await node.stop()
        await server.close()

    run(go())


@pytest.mark.parametrize("mode", [SecurityMode.CLEARTEXT, SecurityMode.ENCRYPTED])
def test_notifications_carry_load_profile_and_alarms(mode: SecurityMode) -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        relay = FakeRelay()
        _, port, server = await relay_endpoint(clock, relay, mode=mode)
        node = meter(SMALL_LP, clock=clock, speed=900.0, security_mode=mode, key_id=KEY_ID, register=False)
        await node.use_headend("127.0.0.1", port)
        node.start()
        clock.advance(1.0)  # one interval of the household load
        await until(lambda: len(relay.of(PartialWriteOffset)) == 1)
        event = relay.of(PartialWriteOffset)[0]
        assert event.envelope.ae_qualifier is not None and event.envelope.ae_qualifier & AeQualifier.NOTIFICATION
        assert event.envelope.security_mode == mode and event.envelope.ed_class == b"OAMI"
        st63, st64 = event.requests
        assert isinstance(st63, FullWrite) and isinstance(st64, PartialWriteOffset) and st64.table == 64
        layout = node.responder.store.layout(64)
        block = layout.locate("LP_DATA_SET1[0]")
        assert (st64.offset, len(st64.data)) == (block.offset, block.size)
        status = node.responder.store.layout(63).decode(st63.data)["LP_STATUS_SET1"]
        assert (status["NBR_VALID_BLOCKS"], status["NBR_VALID_INT"]) == (1, 1)
        decoded = block.node.decode(st64.data, 0)  # the block alone, with the meter's own layout
        engine_wh = node.live.engine.intervals(0)[-1].values[0] / 1000.0
        assert decoded["LP_INT"][0]["INT_DATA"][0] == round(engine_wh) > 0
        node.live.engine.power_fail(0)  # event 1, one ST123 reports
        clock.advance(1.0)
        await until(lambda: any(isinstance(r, FullWrite) and r.table == 76 for e in relay.seen for r in e.requests))
        alarm = next(e for e in relay.seen if any(getattr(r, "table", None) == 76 for r in e.requests))
        st3 = alarm.requests[0]
        assert isinstance(st3, FullWrite) and st3.table == 3
        assert node.responder.store.layout(3).decode(st3.data)["ED_STD_STATUS1"]["POWER_FAILURE_FLAG"]
        await node.stop()
        await server.close()

    run(go())


def test_counters_and_optical_port_with_our_psem_client() -> None:
    async def go() -> None:
        node = meter(clock=SystemClock())  # C12.18's turnaround delay runs on the meter's clock
        optical = await node.serve_optical_tcp("127.0.0.1", 0)
        node.start()
        session = await open_optical_tcp("127.0.0.1", optical.port)
        assert (await session.identify()).ok
        assert (await session.logon(3, b"OPS")).ok
        assert not (await session.security(b"WRONG")).ok
        assert node.counters.password_failures == 1
        assert (await session.security(b"MASTER")).ok
        answer = await session.read(1)
        assert isinstance(answer, ReadResponse) and answer.data == node.responder.store.get(1)
        result = await session.run_procedure(
            ProcedureRequest(9, seq_nbr=4, params=RemoteResetParams(demand_reset=True).encode()),
            formats=CONFIG.formats,
        )
        assert result.response is not None and result.response.result == ResultCode.COMPLETED
        assert node.live.engine.demand_snapshot(0).resets == 1
        assert (await session.terminate()).ok
        session.close()
        await node.stop()

    run(go())


def test_stop_without_head_end_and_twice() -> None:
    async def go() -> None:
        node = meter()
        node.start()
        await node.stop()
        assert node.counts()["deregistrations"] == 0

    run(go())


def test_master_relay_and_notify_host_follow_the_tables() -> None:
    node = meter()
    assert (node.master_relay(), node.notify_host()) == (HEADEND, HEADEND)
    store = node.responder.store
    from openami.meter.tables import aptitle_field

    store.update(122, {"INTERFACE_CTRL_ENTRIES": [{"MASTER_RELAY_APTITLE": aptitle_field(".123.99")}]})
    assert node.master_relay() == ApTitle.parse(".123.99")
    assert MASTER.groups == 0xFF
    asyncio.run(node.stop())
