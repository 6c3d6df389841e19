"""C12.18 PSEM through the transports: a `PsemClient` driving a `PsemServer` over a pty, TCP and an
in-memory stream; link failures and a hung-up line surface as typed errors."""

from __future__ import annotations

import asyncio
import os
import tty

import pytest

from openami.c1218 import LinkConfig, decode_packet
from openami.c1218.psem import Negotiated
from openami.c1218.server import PsemServer, ServerEvent, ServerSession, SessionEnded, SessionState
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    IdentifyResponse,
    NegotiateResponse,
    OkResponse,
    ReadResponse,
    Request,
    Response,
)
from openami.transport import (
    ConnectionClosed,
    ManualClock,
    PsemFailed,
    PsemSession,
    memory_pipe,
    open_optical_pty,
    open_optical_stream,
    open_optical_tcp,
    serve_optical_pty,
    serve_optical_stream,
    serve_optical_tcp,
)

from .support import ST1, T0, run, until

LOOPBACK = "127.0.0.1"
BIG = bytes(range(200)) * 2  # 400 bytes: 4 packets once 128-byte × 4 packets are negotiated


class Tables:
    """The meter's table handler: ST1 and a large table 7 to read, table 5 to write."""

    def __init__(self) -> None:
        self.tables = {1: ST1, 5: bytes(10), 7: BIG}

    def __call__(self, request: Request, session: ServerSession) -> Response:
        table = getattr(request, "table", None)
        if table not in self.tables:
            return ErrorResponse(ResponseCode.IAR)
        if isinstance(request, FullRead):
            return ReadResponse(self.tables[table])
        if isinstance(request, FullWrite):
            self.tables[table] = request.data
            return OkResponse()
        return ErrorResponse(ResponseCode.SNS)


async def _full_session(session: PsemSession, events: list[ServerEvent], tables: Tables) -> None:
    """Identify, Negotiate, Logon, Security, reads (one multi-packet), a write, Logoff, Terminate."""
    identify = await session.identify()
    assert isinstance(identify, IdentifyResponse)
    negotiated = await session.negotiate(128, 4, (6,))
    assert negotiated == NegotiateResponse(128, 4, 6)
    assert session.client.link.packet_size == 128
    assert (await session.logon(2, b"READER")).ok
    assert (await session.security(b"SECRET")).ok
    assert await session.read(1) == ReadResponse(ST1)
    assert await session.read(7) == ReadResponse(BIG)
    assert await session.read(99) == ErrorResponse(ResponseCode.IAR)
    assert (await session.write(5, b"0123456789")).ok
    assert tables.tables[5] == b"0123456789"
    assert (await session.logoff()).ok
    assert (await session.terminate()).ok
    await until(lambda: any(isinstance(e, SessionEnded) for e in events))
    assert any(isinstance(e, Negotiated) and e.packet_size == 128 for e in events)


def test_psem_session_over_a_pty() -> None:
    async def main() -> None:
        events: list[ServerEvent] = []
        tables = Tables()
        server = PsemServer(None, tables)
        port = await serve_optical_pty(server, on_event=events.append)
        try:
            assert os.path.exists(port.path)
            session = await open_optical_pty(port.path)
            await _full_session(session, events, tables)
            assert server.session.state is SessionState.BASE
            session.close()
            # the port stays up: a second reader opens the same device
            second = await open_optical_pty(port.path)
            assert isinstance(await second.identify(), IdentifyResponse)
            second.close()
        finally:
            port.close()

    run(main())


def test_psem_sessions_over_tcp_each_with_its_own_core() -> None:
    async def main() -> None:
        events: list[ServerEvent] = []
        tables = Tables()
        cores: list[PsemServer] = []

        def factory() -> PsemServer:
            cores.append(PsemServer(None, tables))
            return cores[-1]

        async with await serve_optical_tcp(LOOPBACK, 0, factory, on_event=events.append) as server:
            first = await open_optical_tcp(LOOPBACK, server.port)
            second = await open_optical_tcp(LOOPBACK, server.port)
            await _full_session(first, events, tables)
            # the second connection has its own session: not identified yet, so Logon is refused ISSS
            assert await second.logon(2, b"OTHER") == ErrorResponse(ResponseCode.ISSS)
            assert isinstance(await second.identify(), IdentifyResponse)
            assert (await second.logon(2, b"OTHER")).ok
            assert await second.read(1) == ReadResponse(ST1)
            first.close()
            second.close()
            assert len(cores) == 2

    run(main())


def test_psem_session_over_memory_with_concurrent_callers() -> None:
    """Requests made concurrently queue in the client core and each caller gets its own answer."""

    async def main() -> None:
        events: list[ServerEvent] = []
        tables = Tables()
        (ra, wa), (rb, wb) = memory_pipe()
        serving = asyncio.ensure_future(serve_optical_stream(rb, wb, PsemServer(None, tables), on_event=events.append))
        session = await open_optical_stream(ra, wa)
        assert isinstance(await session.identify(), IdentifyResponse)
        assert (await session.negotiate(128, 4)).ok
        assert (await session.logon(2, b"READER")).ok
        answers = await asyncio.gather(session.read(7), session.read(1), session.read(42), session.read(7))
        assert list(answers) == [
            ReadResponse(BIG),
            ReadResponse(ST1),
            ErrorResponse(ResponseCode.IAR),
            ReadResponse(BIG),
        ]
        session.close()
        assert await serving == "closed by peer"

    run(main())


async def _bare_pty() -> tuple[int, str]:
    """A raw pty nobody serves: (master fd, slave path)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    return master, path


def _read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    out = b""
    try:
        while chunk := os.read(fd, 4096):
            out += chunk
    except BlockingIOError:
        pass
    return out


def test_silent_meter_fails_the_request_after_the_link_retries() -> None:
    """Nobody answers: the link retransmits the packet (3 retries, 2 s apart on the manual clock) and
    then the request fails with `PsemFailed`; the queued request behind it fails with it."""

    async def main() -> None:
        master, path = await _bare_pty()
        clock = ManualClock(T0)
        session = await open_optical_pty(path, clock=clock)
        try:
            first = asyncio.ensure_future(session.identify())
            second = asyncio.ensure_future(session.read(1))
            written = b""
            for _ in range(4):
                await until(lambda: session.client.outstanding is not None)
                await asyncio.sleep(0.01)
                written += _read_all(master)
                clock.advance(LinkConfig().response_timeout)
            with pytest.raises(PsemFailed):
                await first
            with pytest.raises(PsemFailed):
                await second
            packet = decode_packet(written[: len(written) // 4])
            assert packet.data == b"\x20"  # Identify, sent 1 + 3 times
            assert written == written[: len(written) // 4] * 4
        finally:
            session.close()
            os.close(master)

    run(main())


def test_hung_up_line_fails_waiting_requests_with_connection_closed() -> None:
    async def main() -> None:
        master, path = await _bare_pty()
        session = await open_optical_pty(path)
        pending = asyncio.ensure_future(session.identify())
        await until(lambda: session.client.outstanding is not None)
        os.close(master)  # the meter end goes away
        with pytest.raises(ConnectionClosed):
            await pending
        with pytest.raises(ConnectionClosed):
            await session.identify()

    run(main())
