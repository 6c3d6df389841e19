"""The in-memory duplex pipe: ordering, EOF, flow control; two endpoints talking through it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openami.c1222.acse import Message
from openami.c1222.association import RequestReceived, SessionStarted
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import ResponseControl
from openami.c1222.framing import MessageSplitter
from openami.c1222.security import SecurityMode
from openami.c1222.services import ErrorResponse, FullRead, FullWrite, Logoff, Logon, ReadResponse, Response
from openami.transport import ConnectionClosed, ManualClock, connect_memory, memory_pipe
from openami.transport.tcp import StreamConnection

from .support import HEADEND, METER, ST1, T0, USER_ID, TableStore, headend, meter, run, until


def test_pipe_carries_bytes_both_ways_in_order_then_eof() -> None:
    async def main() -> None:
        (ra, wa), (rb, wb) = memory_pipe()
        wa.write(b"hello ")
        wa.write(b"world")
        wb.write(b"back")
        await wa.drain()
        assert await rb.readexactly(11) == b"hello world"
        assert await ra.readexactly(4) == b"back"
        wa.write(b"last")
        wa.close()
        assert await rb.read() == b"last"  # what was written before close, then EOF
        assert await ra.read() == b""
        await wa.wait_closed()

    run(main())


def test_pipe_flow_control_pauses_the_writer_until_the_reader_reads() -> None:
    async def main() -> None:
        end_a, end_b = memory_pipe(limit=1024, high_water=4096)  # both ends stay referenced (GC closes a writer)
        wa, rb = end_a[1], end_b[0]
        total = 0
        # the reader pauses delivery past 2 × 1024 buffered bytes; then our buffer fills past 4096
        while wa.transport.get_write_buffer_size() <= 4096:
            wa.write(bytes(1024))
            total += 1024
            for _ in range(3):
                await asyncio.sleep(0)  # let the pipe deliver
            assert total < 1 << 20, "the reader never paused the pipe"
        drain = asyncio.ensure_future(wa.drain())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not drain.done()  # the writer waits for the reader
        got = 0
        while got < total:
            got += len(await rb.read(65536))
        await drain
        assert got == total
        assert wa.transport.get_write_buffer_size() == 0

    run(main())


@pytest.mark.parametrize("mode", list(SecurityMode))
def test_two_endpoints_in_memory(mode: SecurityMode) -> None:
    async def main() -> None:
        server_end = meter(mode)
        client = headend(mode)
        events: list[object] = []
        server_end.on_event = lambda event, channel: events.append(event)
        near, far = await connect_memory(client, server_end)
        assert (await client.request(METER, [Logon(USER_ID, b"READER", 30)], via=near)).ok
        assert any(isinstance(e, SessionStarted) for e in events)
        result = await client.request(METER, [FullRead(1)], via=near)
        assert result.responses == (ReadResponse(ST1),)
        assert (await client.request(METER, [Logoff()], via=near)).ok
        assert server_end.association.server_session(HEADEND) is None
        near.close()
        await asyncio.wait_for(far.wait_closed(), 5)

    run(main())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=300))
def test_random_bytes_never_break_the_server(junk: bytes) -> None:
    """Whatever a peer sends, the server's connection answers with well-formed APDUs or closes, no
    exception escapes (`run` checks the loop's exception handler), and another connection to the same
    endpoint still works."""

    async def main() -> None:
        server_end = meter()
        (raw_reader, raw_writer), (reader, writer) = memory_pipe()
        victim = StreamConnection(server_end, reader, writer, read_timeout=None)
        victim.start()
        raw_writer.write(junk)
        await raw_writer.drain()
        client = headend()
        near, _ = await connect_memory(client, server_end)
        result = await client.request(METER, [FullRead(1)], via=near)
        assert result.responses == (ReadResponse(ST1),)
        raw_writer.close()  # end of input: the victim closes in any case
        await asyncio.wait_for(victim.wait_closed(), 5)
        sent = await raw_reader.read()
        for apdu in MessageSplitter().feed(sent):
            Message.decode(apdu)
        near.close()

    run(main())


def test_send_with_response_control_never_and_on_exception() -> None:
    async def main() -> None:
        clock = ManualClock(T0)
        store = TableStore()
        server_end = meter(store=store)
        client = headend(clock=clock, response_timeout=5.0)
        near, _ = await connect_memory(client, server_end)
        # never: nothing comes back, the request was served
        assert await client.send(METER, [FullWrite(5, bytes(range(20)))], via=near) is None
        await until(lambda: len(store.seen) == 1)
        assert bytes(store.tables[5]) == bytes(range(20))
        # on exception, with an error: the error response comes back
        error = await client.send(METER, [FullRead(42)], via=near, response_control=ResponseControl.ON_EXCEPTION)
        assert error is not None and error.responses == (ErrorResponse(ResponseCode.IAR),)
        # on exception, all ok: silence until the response timeout, then None
        pending = asyncio.ensure_future(
            client.send(METER, [FullRead(1)], via=near, response_control=ResponseControl.ON_EXCEPTION)
        )
        await until(lambda: len(store.seen) == 3)
        assert not pending.done()
        clock.advance(5.0)
        assert await pending is None

    run(main())


def test_closing_the_endpoint_fails_waiting_requests() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def stuck(event: RequestReceived) -> Sequence[Response]:
            await release.wait()
            return []

        server_end = meter(handler=stuck)
        client = headend()
        near, _ = await connect_memory(client, server_end)
        pending = asyncio.ensure_future(client.request(METER, [FullRead(1)], via=near))
        await until(lambda: server_end.answering == 1)
        await server_end.aclose()  # the answer in progress is cancelled
        assert server_end.answering == 0
        await client.aclose()
        with pytest.raises(ConnectionClosed):
            await pending

    run(main())
