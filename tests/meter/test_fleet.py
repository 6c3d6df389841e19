"""A fleet: many meters on one port, routed by called ApTitle, sharing their table definitions and one
engine; registration with jittered start over one head-end link; bad input to one meter leaves the others
working."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1222.aptitle import C1222_BASE, ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.security import SecurityMode
from openami.c1222.services import (
    Deregistration,
    ErrorResponse,
    FullRead,
    PartialWriteOffset,
    ReadResponse,
    Registration,
)
from openami.meter.config import MeterConfig
from openami.meter.fleet import Fleet, FleetSettings, called_title, fleet_configs
from openami.meter.node import NodeSettings
from openami.meter.tables import TableStore
from openami.transport import Channel, ManualClock, open_tcp, open_udp
from tests.transport.support import KEY_ID, run, until

from .test_node import CONFIG, T0, FakeRelay, client, relay_endpoint

TEMPLATE = MeterConfig(security=CONFIG.security, notify_host=".123.1", identity=CONFIG.identity)


def fleet(count: int = 5, clock: ManualClock | None = None, **node: Any) -> Fleet:
    return Fleet(
        TEMPLATE,
        FleetSettings(count=count, jitter_s=10.0, start_time=T0, speed=node.pop("speed", 1.0)),
        clock=clock if clock is not None else ManualClock(T0),
        node=NodeSettings(**node),
    )


# -- pieces -----------------------------------------------------------------------------------------------------------
def test_called_title_of_whole_apdus_and_prefixes() -> None:
    head = client(ManualClock(T0), SecurityMode.ENCRYPTED)
    for title in (ApTitle.parse(".123.8437"), ApTitle.parse(".123.8437").absolute(C1222_BASE)):
        apdu = head.association.request(title, [FullRead(1)], now=T0)[1]
        assert called_title(apdu) == title
        found = [called_title(apdu[:n]) for n in range(len(apdu) + 1)]
        first = found.index(title)
        assert all(t is None for t in found[:first]) and all(t == title for t in found[first:])
        assert called_title(apdu + b"trailing") == title
    response_to_nobody = bytes.fromhex("6008") + bytes.fromhex("a606800401020304")[:8]
    assert called_title(response_to_nobody) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_called_title_of_any_bytes_never_raises(data: bytes) -> None:
    title = called_title(data)
    assert title is None or isinstance(title, ApTitle)
    title = called_title(b"\x60" + data)
    assert title is None or isinstance(title, ApTitle)


def test_identities_and_shared_tables_equal_a_full_build() -> None:
    configs = fleet_configs(TEMPLATE, 3)
    assert [c.identity.ap_title for c in configs] == [".123.8437", ".123.8438", ".123.8439"]
    assert [c.identity.serial for c in configs] == ["00000000000001", "00000000000002", "00000000000003"]
    group = fleet(3)
    for meter, config in zip(group.meters, configs, strict=True):
        built = TableStore(config)
        store = meter.responder.store
        assert store.numbers == built.numbers
        assert {n: store.get(n) for n in store.numbers} == {n: built.get(n) for n in built.numbers}
        assert store.device is group.meters[0].responder.store.device  # one configuration object for all
    shared = [n for n in group.meters[0].responder.store.numbers if n not in (1, 5, 6, 122)]
    assert all(group.meters[0].responder.store.get(n) is group.meters[2].responder.store.get(n) for n in shared)


# -- on the wire ------------------------------------------------------------------------------------------------------
def test_requests_reach_the_called_meter_and_bad_input_stays_with_it() -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        group = fleet(clock=clock, register=False)
        server = await group.serve_tcp("127.0.0.1", 0, idle_timeout=None)
        group.start()
        head = client(clock)
        channel = await open_tcp("127.0.0.1", server.port, head)

        async def serial(index: int, via: Channel = channel) -> bytes:
            meter = group.meters[index]
            answer = (await head.request(meter.title, [FullRead(1)], via=via)).responses[0]
            assert isinstance(answer, ReadResponse)
            return answer.data

        assert [await serial(k) for k in (0, 4, 2)] == [group.meters[k].responder.store.get(1) for k in (0, 4, 2)]
        assert len({await serial(k) for k in range(5)}) == 5
        unknown = ApTitle.parse(".123.99")
        answer = (await head.request(unknown, [FullRead(1)], via=channel)).responses[0]
        assert answer == ErrorResponse(ResponseCode.UAT)
        assert group.router.unknown == 1
        # malformed bytes after a valid called title: meter 2's core refuses them and closes that connection
        title = group.meters[2].title.acse_value()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(bytes((0x60, len(title) + 4, 0xA2, len(title))) + title + b"\xa8\x00")
        assert await reader.read() == b""
        counts = group.counts()
        assert (counts["violations"], group.meters[2].counts()["violations"]) == (1, 1)
        assert await serial(3) and await serial(2)  # the head-end's own connection carries on
        channel.close()
        await head.aclose()
        await group.stop()

    run(go())


def test_fleet_registers_jittered_over_one_link_notifies_and_deregisters() -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        relay = FakeRelay(period=60)
        endpoint, port, server = await relay_endpoint(clock, relay, mode=SecurityMode.ENCRYPTED)
        group = fleet(4, clock, security_mode=SecurityMode.ENCRYPTED, key_id=KEY_ID, speed=100.0)
        await group.serve_tcp("127.0.0.1", 0, idle_timeout=None)
        group.use_headend("127.0.0.1", port)
        group.start()
        clock.advance(10.0)  # the jitter window (1000 s of the meters' time): every meter registers once
        await until(lambda: len(relay.of(Registration)) == 4)
        titles = {e.requests[0].ap_title for e in relay.of(Registration)}  # type: ignore[attr-defined]
        assert titles == {m.title for m in group.meters}
        assert endpoint.stats.connections_accepted == 1  # one shared connection to the head-end
        await until(lambda: len(relay.of(PartialWriteOffset)) >= 4)  # load-profile notifications
        assert {e.peer for e in relay.of(PartialWriteOffset)} == titles
        await until(lambda: group.scheduler.scheduled == 4)  # every first round is over
        clock.advance(60.0)
        await until(lambda: group.counts()["registrations_ok"] == 8)
        assert len(relay.of(Registration)) == 8
        await group.stop()
        assert len(relay.of(Deregistration)) == 4
        await server.close()

    run(go())


def test_fleet_over_udp() -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        relay = FakeRelay()
        _, port, sock = await relay_endpoint(clock, relay, udp=True)
        group = fleet(3, clock)
        mine = await group.serve_udp("127.0.0.1", 0)
        group.use_headend("127.0.0.1", port, udp=True)
        group.start()
        clock.advance(10.0)
        await until(lambda: group.counts()["registrations_ok"] == 3)
        head = client(clock, title=".123.5")
        other = await open_udp(head)
        meter = group.meters[1]
        answer = (await head.request(meter.title, [FullRead(1)], via=other.peer("127.0.0.1", mine.port))).responses
        assert answer[0] == ReadResponse(meter.responder.store.get(1))
        other.close()
        await head.aclose()
        await group.stop()
        assert len(relay.of(Deregistration)) == 3
        sock.close()

    run(go())
