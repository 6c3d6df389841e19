"""Clocks, the timer that follows a core's next_timer, and the byte-stream driver's turnaround delay."""

from __future__ import annotations

import asyncio

import pytest

from openami.c1218 import LinkConfig, PacketParser, SendBytes
from openami.c1218.client import PsemClient
from openami.c1218.server import PsemServer, Served, ServerEvent
from openami.c1222.services import FullRead, IdentifyResponse, ReadResponse
from openami.errors import LocalProtocolError
from openami.transport import ByteDriver, ManualClock, RequestTimeout, SystemClock, open_udp

from .support import METER, T0, headend, run


def test_manual_clock_runs_callbacks_in_time_order_with_their_time() -> None:
    clock = ManualClock(T0)
    seen: list[tuple[str, float]] = []
    clock.call_at(T0 + 5, lambda: seen.append(("b", clock.now())))
    clock.call_at(T0 + 1, lambda: seen.append(("a", clock.now())))
    cancelled = clock.call_at(T0 + 3, lambda: seen.append(("x", clock.now())))
    cancelled.cancel()
    clock.call_at(T0 + 9, lambda: seen.append(("c", clock.now())))
    assert clock.pending == 3
    clock.advance(6)
    assert seen == [("a", T0 + 1), ("b", T0 + 5)]
    assert clock.now() == T0 + 6
    clock.set(T0 + 9)
    assert seen[-1] == ("c", T0 + 9)
    assert clock.pending == 0
    with pytest.raises(LocalProtocolError):
        clock.set(T0)
    with pytest.raises(LocalProtocolError):
        clock.advance(-1)


def test_manual_clock_runs_a_callback_already_due_on_the_loop() -> None:
    async def main() -> None:
        clock = ManualClock(T0)
        fired = asyncio.Event()
        clock.call_at(T0 - 1, fired.set)
        await asyncio.wait_for(fired.wait(), 5)

    run(main())


def test_system_clock_scales_time_and_fires_timers_when_due() -> None:
    async def main() -> None:
        clock = SystemClock(rate=1000.0, start=T0)
        start = clock.now()
        assert start >= T0
        fired = asyncio.get_running_loop().create_future()
        clock.call_at(start + 50.0, lambda: fired.set_result(clock.now()))  # 50 clock seconds = 50 ms
        assert await asyncio.wait_for(fired, 5) >= start + 50.0 - 1e-3 * clock.rate

    with pytest.raises(LocalProtocolError):
        SystemClock(rate=0)

    run(main())


def test_accelerated_clock_runs_the_cores_retries() -> None:
    """At 200× speed the client's 3 × 5 s of retries pass in a fraction of a second of real time."""

    async def main() -> None:
        client = headend(clock=SystemClock(rate=200.0), response_timeout=5.0, retries=2)
        sock = await open_udp(client)
        silent = await open_udp(headend())  # a socket that never answers (its core ignores a request to METER)
        try:
            with pytest.raises(RequestTimeout) as info:
                await client.request(METER, [FullRead(1)], via=sock.peer("127.0.0.1", silent.port))
            assert info.value.event.attempts == 3
        finally:
            sock.close()
            silent.close()

    run(main())


def test_byte_driver_waits_the_turnaround_delay_before_writing() -> None:
    async def main() -> None:
        clock = ManualClock(T0)
        written: list[bytes] = []
        events: list[ServerEvent] = []
        server = PsemServer(LinkConfig(turnaround_delay=0.02), lambda request, session: ReadResponse(b""))
        driver: ByteDriver[ServerEvent] = ByteDriver(
            server, written.append, clock=clock, on_event=events.append, turnaround=0.02
        )
        request = b"".join(PsemClient().identify(T0))
        driver.feed(request)
        assert written == []  # the ACK and the answer wait for the line to turn around
        assert any(isinstance(e, Served) and isinstance(e.response, IdentifyResponse) for e in events)
        clock.advance(0.019)
        assert written == []
        clock.advance(0.001)
        assert written[0] == b"\x06"  # ACK first, then the answer packet
        parser = PacketParser()
        packets = parser.feed(b"".join(written[1:]))
        assert len(packets) == 1
        assert not any(isinstance(e, SendBytes) for e in events)  # writes never reach the observer
        driver.close()

    run(main())
