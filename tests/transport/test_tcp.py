"""C12.22 over loopback TCP: reads in modes 0/1/2, per-connection isolation, sizes, timeouts, load."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

import pytest

from openami.c1222.acse import Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import ProtocolViolation, RequestReceived, ResponseReceived
from openami.c1222.codes import ResponseCode
from openami.c1222.framing import MessageSplitter
from openami.c1222.security import SecurityMode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    Logoff,
    Logon,
    ReadResponse,
    Response,
    Security,
)
from openami.transport import (
    ConnectionClosed,
    ManualClock,
    RequestTimeout,
    TcpDialer,
    open_tcp,
    serve_tcp,
)

from .support import HEADEND, METER, PASSWORD, ST1, T0, USER_ID, TableStore, headend, meter, run, until

LOOPBACK = "127.0.0.1"
MODES = list(SecurityMode)


def _read_ok(result: ResponseReceived, data: bytes) -> None:
    assert result.ok
    assert result.responses == (ReadResponse(data),)


@pytest.mark.parametrize("mode", MODES)
def test_read_in_every_security_mode(mode: SecurityMode) -> None:
    async def main() -> None:
        server_end = meter(mode)
        client = headend(mode)
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            conn = await open_tcp(LOOPBACK, server.port, client)
            result = await client.request(METER, [FullRead(1)], via=conn)
            _read_ok(result, ST1)
            assert result.envelope.security_mode is mode
            # a second request on the same connection, two services in one EPSEM
            result = await client.request(METER, [FullRead(1), FullRead(99)], via=conn)
            assert result.responses == (ReadResponse(ST1), ErrorResponse(ResponseCode.IAR))
            conn.close()
        assert server_end.stats.apdus_received == 2

    run(main())


@pytest.mark.parametrize("mode", [SecurityMode.AUTHENTICATED, SecurityMode.ENCRYPTED])
def test_session_logon_security_read_logoff(mode: SecurityMode) -> None:
    async def main() -> None:
        server_end = meter(mode)
        client = headend(mode)
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            conn = await open_tcp(LOOPBACK, server.port, client)
            logon = await client.request(METER, [Logon(USER_ID, b"OPERATOR", 60)], via=conn)
            assert logon.ok
            assert server_end.association.server_session(HEADEND) is not None
            session = client.association.client_session(METER)
            assert session is not None
            secured = await client.request(METER, [Security(PASSWORD), FullRead(1)], via=conn, session=session)
            assert secured.ok
            assert secured.responses[-1] == ReadResponse(ST1)
            assert (await client.request(METER, [Logoff()], via=conn)).ok
            assert server_end.association.server_session(HEADEND) is None

    run(main())


async def _raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(LOOPBACK, port)


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    return await reader.read()


@pytest.mark.parametrize(
    ("garbage", "counter"),
    [
        (b"\x61\x03abc", "framing_errors"),  # cannot start an APDU
        (b"\x60\x80\x00\x00", "framing_errors"),  # indefinite length
        (b"\x60\x03\x01\x02\x03", "violations"),  # framed, but not a C12.22 message
        (b"\x60\x05\xa2\x03\x80\x01\x05", "violations"),  # a message without user information
    ],
)
def test_malformed_bytes_close_only_that_connection(garbage: bytes, counter: str) -> None:
    async def main() -> None:
        server_end = meter()
        events: list[object] = []
        server_end.on_event = lambda event, channel: events.append(event)
        client = headend()
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            good = await open_tcp(LOOPBACK, server.port, client)
            _read_ok(await client.request(METER, [FullRead(1)], via=good), ST1)
            reader, writer = await _raw(server.port)
            writer.write(garbage)
            assert await _closed_by_server(reader) == b""
            writer.close()
            assert getattr(server_end.stats, counter) == 1
            assert (counter == "violations") == any(isinstance(e, ProtocolViolation) for e in events)
            # the other connection and the shared core carry on
            assert not good.closed
            _read_ok(await client.request(METER, [FullRead(1)], via=good), ST1)
            assert len(server.connections) == 1

    run(main())


@pytest.mark.parametrize("mode", MODES)
def test_oversized_request_is_answered_rqtl_and_skipped(mode: SecurityMode) -> None:
    """An APDU over the server's 200-byte maximum is answered RQTL (carrying 200) in the request's
    security mode; its body is skipped and the connection serves the next request."""

    async def main() -> None:
        store = TableStore()
        server_end = meter(mode, store=store, max_apdu_size=200)
        client = headend(mode)
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            conn = await open_tcp(LOOPBACK, server.port, client)
            result = await client.request(METER, [FullWrite(5, bytes(400))], via=conn)
            assert result.responses == (ErrorResponse.too_large(ResponseCode.RQTL, 200),)
            assert result.responses[0].max_size == 200
            assert result.envelope.security_mode is mode
            assert server_end.stats.rqtl_sent == 1
            assert store.seen == []  # the application never saw it
            _read_ok(await client.request(METER, [FullRead(1)], via=conn), ST1)
            assert not conn.closed

    run(main())


def test_oversized_apdu_without_readable_header_closes_the_connection() -> None:
    async def main() -> None:
        server_end = meter(max_apdu_size=200)
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            reader, writer = await _raw(server.port)
            writer.write(b"\x60\x82\x01\x00" + b"\xff" * 300)  # 260 bytes announced, no element inside
            assert await _closed_by_server(reader) == b""
            writer.close()
            assert server_end.stats.oversized_dropped == 1
            assert server_end.stats.rqtl_sent == 0

    run(main())


def test_response_over_the_maximum_becomes_rstl() -> None:
    """The core replaces a response that would exceed its max_apdu_size with RSTL (carrying it)."""

    async def main() -> None:
        store = TableStore()
        store.tables[7] = bytearray(range(256)) * 2
        server_end = meter(store=store, max_apdu_size=300)
        client = headend()
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            conn = await open_tcp(LOOPBACK, server.port, client)
            result = await client.request(METER, [FullRead(7)], via=conn)
            assert result.responses == (ErrorResponse.too_large(ResponseCode.RSTL, 300),)
            _read_ok(await client.request(METER, [FullRead(1)], via=conn), ST1)

    run(main())


def test_idle_timeout_closes_idle_connections_only() -> None:
    async def main() -> None:
        clock = ManualClock(T0)
        server_end = meter(clock=clock)
        client = headend()
        async with await serve_tcp(LOOPBACK, 0, server_end, idle_timeout=60.0) as server:
            reader, writer = await _raw(server.port)
            await until(lambda: len(server.connections) == 1)
            conn = await open_tcp(LOOPBACK, server.port, client)
            await until(lambda: len(server.connections) == 2)
            clock.advance(30.0)
            _read_ok(await client.request(METER, [FullRead(1)], via=conn), ST1)  # activity at T0 + 30
            clock.advance(30.0)  # the silent one has been idle 60 s
            assert await _closed_by_server(reader) == b""
            writer.close()
            assert server_end.stats.idle_closed == 1
            assert not conn.closed
            clock.advance(29.0)
            _read_ok(await client.request(METER, [FullRead(1)], via=conn), ST1)  # activity at T0 + 89
            clock.advance(59.0)
            assert not conn.closed and server_end.stats.idle_closed == 1
            clock.advance(1.0)
            await asyncio.wait_for(conn.wait_closed(), 5)
            assert server_end.stats.idle_closed == 2

    run(main())


def test_read_timeout_aborts_a_half_received_apdu() -> None:
    async def main() -> None:
        clock = ManualClock(T0)
        server_end = meter(clock=clock)
        async with await serve_tcp(LOOPBACK, 0, server_end, idle_timeout=None, read_timeout=10.0) as server:
            reader, writer = await _raw(server.port)
            writer.write(b"\x60\x10\xa2")  # 18 bytes announced, 3 sent
            await until(lambda: any(c.receiving for c in server.connections))
            clock.advance(9.0)
            assert len(server.connections) == 1
            clock.advance(1.0)
            assert await _closed_by_server(reader) == b""
            writer.close()
            assert server_end.stats.read_timeouts == 1

    run(main())


def test_fifty_concurrent_clients() -> None:
    async def main() -> None:
        server_end = meter(SecurityMode.AUTHENTICATED)
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:

            async def one(i: int) -> ResponseReceived:
                client = headend(SecurityMode.AUTHENTICATED, title=ApTitle.parse(f".123.{1000 + i}"))
                conn = await open_tcp(LOOPBACK, server.port, client)
                try:
                    return await client.request(METER, [FullRead(1)], via=conn)
                finally:
                    conn.close()

            results = await asyncio.gather(*(one(i) for i in range(50)))
            for result in results:
                _read_ok(result, ST1)
            assert {str(r.envelope.called) for r in results} == {f".123.{1000 + i}" for i in range(50)}
            assert server_end.stats.connections_accepted == 50

    run(main())


def test_max_connections_refuses_extra_connections() -> None:
    async def main() -> None:
        server_end = meter()
        client = headend()
        async with await serve_tcp(LOOPBACK, 0, server_end, max_connections=1) as server:
            conn = await open_tcp(LOOPBACK, server.port, client)
            await until(lambda: len(server.connections) == 1)
            reader, writer = await _raw(server.port)
            assert await _closed_by_server(reader) == b""
            writer.close()
            assert server_end.stats.connections_refused == 1
            _read_ok(await client.request(METER, [FullRead(1)], via=conn), ST1)

    run(main())


def test_slow_reader_back_pressure_bounds_server_buffers() -> None:
    """A client that sends many requests and reads nothing: the server stops reading once
    ``max_pending`` answers wait for room, keeps at most ``max_buffer`` bytes queued, and delivers
    every answer once the client reads."""

    async def main() -> None:
        n, table_size, max_buffer, max_pending = 1500, 8192, 16384, 4
        store = TableStore()
        store.tables[7] = bytearray(table_size)
        server_end = meter(store=store)
        client = headend()  # only used to build request APDUs
        apdus = [client.association.request(METER, [FullRead(7)], now=T0)[1] for _ in range(n)]
        async with await serve_tcp(LOOPBACK, 0, server_end, max_pending=max_pending, max_buffer=max_buffer) as server:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (LOOPBACK, server.port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(b"".join(apdus))
            await until(lambda: len(server.connections) == 1)
            (conn,) = server.connections
            # wait for the stall: every slot taken and no progress over a few polls
            previous = -1
            while previous != len(store.seen) or conn.in_flight < max_pending:
                previous = len(store.seen)
                await asyncio.sleep(0.05)
            assert len(store.seen) < n  # the server stopped reading: back-pressure reached the client
            assert conn.max_buffered <= max_buffer
            assert conn.buffered <= 2 * max_buffer + table_size
            # now read everything: every request is answered (matched by invocation id, any order)
            splitter = MessageSplitter()
            answers: list[bytes] = []
            while len(answers) < n:
                answers += splitter.feed(await reader.read(65536))
            answered = set()
            for answer in answers:
                events = client.association.receive(answer, T0)
                assert isinstance(events[0], ResponseReceived)
                assert events[0].responses == (ReadResponse(bytes(table_size)),)
                answered.add(events[0].invocation_id)
            assert answered == {Message.decode(apdu).calling_invocation_id for apdu in apdus}
            writer.close()

    run(main(), limit=60)


def test_answer_goes_back_on_a_new_connection_when_the_first_has_closed() -> None:
    """C12.22 lets a response come on another connection: the request's connection closes while
    the meter works on it; the meter dials the head-end and the head-end matches the response."""

    async def main() -> None:
        release = asyncio.Event()
        store = TableStore()

        async def slow(event: RequestReceived) -> Sequence[Response]:
            await release.wait()
            return await store(event)

        server_end = meter(handler=slow)
        client = headend()
        async with await serve_tcp(LOOPBACK, 0, server_end) as server, await serve_tcp(LOOPBACK, 0, client) as back:
            server_end.connect = TcpDialer(server_end, {HEADEND: (LOOPBACK, back.port)})
            client.connect = TcpDialer(client, {METER: (LOOPBACK, server.port)})
            conn = await open_tcp(LOOPBACK, server.port, client)
            pending = asyncio.ensure_future(client.request(METER, [FullRead(1)], via=conn))
            await until(lambda: server_end.answering == 1)
            conn.close()
            await until(lambda: not server.connections)
            release.set()
            _read_ok(await pending, ST1)
            assert client.stats.connections_accepted == 1  # the response came in on the meter's call
            assert server_end.stats.connections_accepted == 1

    run(main())


def test_closing_the_connection_fails_its_requests_without_a_connector() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def never(event: RequestReceived) -> Sequence[Response]:
            await release.wait()
            raise AssertionError("not reached")

        server_end = meter(handler=never)
        client = headend()
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            conn = await open_tcp(LOOPBACK, server.port, client)
            pending = asyncio.ensure_future(client.request(METER, [FullRead(1)], via=conn))
            await until(lambda: server_end.answering == 1)
            conn.close()
            with pytest.raises(ConnectionClosed):
                await pending
            assert client.association.outstanding == ()

    run(main())


def test_no_answer_raises_request_timeout_after_the_cores_retries() -> None:
    """A peer that reads and never answers: the same APDU goes out 1 + retries times, each after the
    response timeout on the client's clock, then `RequestTimeout`."""

    async def main() -> None:
        received = bytearray()

        async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(4096):
                received.extend(data)

        clock = ManualClock(T0)
        client = headend(clock=clock, response_timeout=5.0, retries=2)
        server = await asyncio.start_server(sink, LOOPBACK, 0)
        try:
            conn = await open_tcp(LOOPBACK, server.sockets[0].getsockname()[1], client)
            pending = asyncio.ensure_future(client.request(METER, [FullRead(1)], via=conn))
            await until(lambda: len(received) > 0)
            first = bytes(received)
            for attempt in (2, 3):
                clock.advance(5.0)
                await until(lambda a=attempt: len(received) == a * len(first))  # type: ignore[misc]
            assert bytes(received) == first * 3
            assert not pending.done()
            clock.advance(5.0)
            with pytest.raises(RequestTimeout) as info:
                await pending
            assert info.value.event.attempts == 3
            assert client.association.stats.retransmissions == 2
            conn.close()
        finally:
            server.close()
            await server.wait_closed()

    run(main())


def test_handler_errors_are_answered_err() -> None:
    async def main() -> None:
        async def broken(event: RequestReceived) -> Sequence[Response]:
            raise RuntimeError("application bug")

        async def wrong_count(event: RequestReceived) -> Sequence[Response]:
            return []

        for handler in (broken, wrong_count):
            server_end = meter(handler=handler)
            client = headend()
            async with await serve_tcp(LOOPBACK, 0, server_end) as server:
                conn = await open_tcp(LOOPBACK, server.port, client)
                result = await client.request(METER, [FullRead(1)], via=conn)
                assert result.responses == (ErrorResponse(ResponseCode.ERR),)
                assert server_end.stats.handler_errors == 1

    run(main())


def test_dialer_reuses_one_connection_per_address() -> None:
    async def main() -> None:
        server_end = meter()
        client = headend()
        async with await serve_tcp(LOOPBACK, 0, server_end) as server:
            dialer = TcpDialer(client, {METER: (LOOPBACK, server.port)})
            client.connect = dialer
            results = await asyncio.gather(*(client.request(METER, [FullRead(1)]) for _ in range(5)))
            for result in results:
                _read_ok(result, ST1)
            assert server_end.stats.connections_accepted == 1
            dialer.close()

    run(main())
