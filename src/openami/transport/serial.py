"""C12.18 (optical port, PSEM) over a pseudo-terminal, over TCP, or over any asyncio byte stream.

The PSEM cores (`openami.c1218.server.PsemServer`, `openami.c1218.client.PsemClient`) run in a
`ByteDriver`: bytes read from the line are fed in, every `SendBytes` is written after the link's
turnaround delay, and the link's timers (retransmissions, channel traffic timeout) run on the clock.

- Meter side: `serve_optical_pty` opens a pseudo-terminal in raw mode and serves one `PsemServer` on its
  master end; a reader program (ours, or any serial tool) opens the slave `OpticalPty.path` as if it
  were the optical probe. `serve_optical_tcp` serves a fresh `PsemServer` per TCP connection (an
  optical port behind a terminal server); `serve_optical_stream` runs one on any stream ends.
- Reader side: `open_optical_pty`, `open_optical_tcp` and `open_optical_stream` return a `PsemSession`,
  whose coroutines queue one PSEM request each and return the decoded response (non-ok codes are
  `ErrorResponse` values); a request the client core gives up on raises `PsemFailed`, a line that
  closes raises `ConnectionClosed`.

Nothing here reads a clock except through the `Clock` given (default `SystemClock`). ptys need a
POSIX system (``os.openpty``, ``termios``); no serial library is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openami.c1218.client import (
    ClientEvent,
    ClientFailed,
    ProcedureResult,
    PsemClient,
)
from openami.c1218.client import (
    Response as PsemResponse,
)
from openami.c1218.server import PsemServer, ServerEvent
from openami.c1219.formats import Formats
from openami.c1219.procedures import ProcedureRequest
from openami.c1222.services import (
    FullRead,
    FullWrite,
    Identify,
    Logoff,
    Logon,
    Negotiate,
    PartialReadOffset,
    PartialWriteOffset,
    Request,
    Response,
    Security,
    Terminate,
    Wait,
)

from .driver import ByteDriver, Clock, ConnectionClosed, SystemClock, TransportError

__all__ = [
    "OpticalPty",
    "OpticalTcpServer",
    "PsemFailed",
    "PsemSession",
    "open_optical_pty",
    "open_optical_stream",
    "open_optical_tcp",
    "serve_optical_pty",
    "serve_optical_stream",
    "serve_optical_tcp",
]

_log = logging.getLogger(__name__)
_READ_SIZE = 4096


class PsemFailed(TransportError):
    """The client core gave up on the request (``event`` is its `ClientFailed`)."""

    def __init__(self, event: ClientFailed) -> None:
        super().__init__(event.reason)
        self.event = event


# ------------------------------------------------------------------------------------------- lines


class _FdLine:
    """A non-blocking file descriptor (a pty end) on the event loop: reads go to ``on_data``; writes are
    buffered while the descriptor would block. ``keep`` are descriptors closed along with it."""

    def __init__(self, fd: int, on_data: Callable[[bytes], None], keep: Sequence[int] = ()) -> None:
        self.fd = fd
        self._keep = tuple(keep)
        self._on_data = on_data
        self._loop = asyncio.get_running_loop()
        self._out = bytearray()
        self._closed = False
        self.on_close: Callable[[str], None] | None = None
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._readable)

    def write(self, data: bytes) -> None:
        if self._closed:
            return
        if self._out:
            self._out += data
            return
        try:
            sent = os.write(self.fd, data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self.close(f"write failed: {exc}")
            return
        if sent < len(data):
            self._out += data[sent:]
            self._loop.add_writer(self.fd, self._writable)

    def _writable(self) -> None:
        try:
            sent = os.write(self.fd, self._out)
        except BlockingIOError:
            return
        except OSError as exc:
            self.close(f"write failed: {exc}")
            return
        del self._out[:sent]
        if not self._out:
            self._loop.remove_writer(self.fd)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the other end of the pty has gone
            self.close("line hung up" if exc.errno == errno.EIO else f"read failed: {exc}")
            return
        if not data:
            self.close("line closed")
            return
        self._on_data(data)

    def close(self, reason: str = "closed") -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self.fd)
        self._loop.remove_writer(self.fd)
        for fd in (self.fd, *self._keep):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.on_close is not None:
            self.on_close(reason)


# ------------------------------------------------------------------------------------------- client


@dataclass
class _Waiter:
    future: asyncio.Future[Any]
    requests: list[Request] = field(default_factory=list)
    procedure: ProcedureRequest | None = None


class PsemSession:
    """An async C12.18 reader: a `PsemClient` in a `ByteDriver` on a line. Make it with
    `open_optical_pty`, `open_optical_tcp` or `open_optical_stream`.

    Requests queue in the core (one outstanding at a time, C12.18 is half-duplex); each coroutine
    returns its own answer. ``on_event`` sees the other client events (`Negotiated`, unexpected messages).
    """

    def __init__(
        self,
        client: PsemClient,
        write: Callable[[bytes], None],
        *,
        clock: Clock,
        on_event: Callable[[ClientEvent], None] | None = None,
    ) -> None:
        self.client = client
        self.on_event = on_event
        self.driver: ByteDriver[ClientEvent] = ByteDriver(
            client, write, clock=clock, on_event=self._on_event, turnaround=client.link.config.turnaround_delay
        )
        self._waiting: dict[int, _Waiter] = {}
        self._closer: Callable[[], None] | None = None
        self.close_reason: str | None = None

    # ----------------------------------------------------------------------------------- requests

    async def request(self, service: Request) -> Response:
        """Send any PSEM request; the decoded response."""
        result = await self._queue(lambda now: self.client.request(service, now))
        assert isinstance(result, Response)
        return result

    async def identify(self) -> Response:
        return await self.request(Identify())

    async def negotiate(self, packet_size: int, nbr_packets: int, bauds: Sequence[int] = ()) -> Response:
        """Negotiate (the link switches to the answered sizes; `Negotiated` goes to ``on_event``)."""
        return await self.request(Negotiate(packet_size, nbr_packets, tuple(bauds)))

    async def logon(self, user_id: int, user: bytes = b"") -> Response:
        return await self.request(Logon(user_id, user))

    async def security(self, password: bytes) -> Response:
        return await self.request(Security(password))

    async def read(self, table: int) -> Response:
        return await self.request(FullRead(table))

    async def read_offset(self, table: int, offset: int, octet_count: int) -> Response:
        return await self.request(PartialReadOffset(table, offset, octet_count))

    async def write(self, table: int, data: bytes) -> Response:
        return await self.request(FullWrite(table, data))

    async def write_offset(self, table: int, offset: int, data: bytes) -> Response:
        return await self.request(PartialWriteOffset(table, offset, data))

    async def wait(self, seconds: int) -> Response:
        return await self.request(Wait(seconds))

    async def logoff(self) -> Response:
        return await self.request(Logoff())

    async def terminate(self) -> Response:
        return await self.request(Terminate())

    async def run_procedure(self, procedure: ProcedureRequest, *, formats: Formats | None = None) -> ProcedureResult:
        """Write ``procedure`` to ST7 and read ST8 back."""
        result = await self._queue(
            lambda now: self.client.run_procedure(procedure, now, formats=formats), procedure=procedure
        )
        assert isinstance(result, ProcedureResult)
        return result

    async def _queue(
        self, call: Callable[[float], list[bytes]], *, procedure: ProcedureRequest | None = None
    ) -> Response | ProcedureResult:
        if self.close_reason is not None:
            raise ConnectionClosed(f"line closed: {self.close_reason}")
        before = set(self._waiting)
        chunks = call(self.driver.now())
        client = self.client
        queued = [r for r in (client.outstanding, *client.pending) if r is not None and id(r) not in before]
        waiter = _Waiter(asyncio.get_running_loop().create_future(), queued, procedure)
        for request in queued:
            self._waiting[id(request)] = waiter
        self.driver.send(chunks)
        if not queued and not waiter.future.done():  # pragma: no cover - the core queues what it is given
            raise TransportError("the client core did not queue the request")
        try:
            result: Response | ProcedureResult = await waiter.future
            return result
        finally:
            self._forget(waiter)

    # ----------------------------------------------------------------------------------- events

    def feed(self, data: bytes) -> None:
        """Bytes read from the line."""
        self.driver.feed(data)

    def _forget(self, waiter: _Waiter) -> None:
        for request in waiter.requests:
            if self._waiting.get(id(request)) is waiter:
                del self._waiting[id(request)]

    def _finish(self, waiter: _Waiter | None, result: object = None, error: Exception | None = None) -> None:
        if waiter is None or waiter.future.done():
            return
        if error is not None:
            waiter.future.set_exception(error)
        else:
            waiter.future.set_result(result)
        self._forget(waiter)

    def _on_event(self, event: ClientEvent) -> None:
        if isinstance(event, PsemResponse):
            waiter = self._waiting.get(id(event.request))
            if waiter is not None and waiter.procedure is None:
                self._finish(waiter, event.response)
        elif isinstance(event, ProcedureResult):
            found = [w for w in self._waiting.values() if w.procedure is event.request]
            self._finish(found[0] if found else None, event)
        elif isinstance(event, ClientFailed):
            failed = [event.request, *event.dropped]
            for request in failed:
                if request is not None:
                    self._finish(self._waiting.get(id(request)), error=PsemFailed(event))
        elif self.on_event is not None:
            self.on_event(event)

    def line_closed(self, reason: str) -> None:
        """The line has closed: every waiting request fails with `ConnectionClosed`."""
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self.driver.close()
        for waiter in list(self._waiting.values()):
            self._finish(waiter, error=ConnectionClosed(f"line closed: {reason}"))

    def close(self) -> None:
        """Close the line."""
        if self._closer is not None:
            self._closer()
        self.line_closed("closed")


# ------------------------------------------------------------------------------------------- streams


async def _pump(reader: asyncio.StreamReader, feed: Callable[[bytes], None]) -> str:
    try:
        while True:
            data = await reader.read(_READ_SIZE)
            if not data:
                return "closed by peer"
            feed(data)
    except (ConnectionError, OSError) as exc:
        return f"connection lost: {exc}"


async def serve_optical_stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    server: PsemServer,
    *,
    clock: Clock | None = None,
    on_event: Callable[[ServerEvent], None] | None = None,
) -> str:
    """Serve ``server`` on a byte stream until it closes; returns why. The core is reset at the end."""
    driver: ByteDriver[ServerEvent] = ByteDriver(
        server,
        writer.write,
        clock=clock if clock is not None else SystemClock(),
        on_event=on_event,
        turnaround=server.link.config.turnaround_delay,
    )
    try:
        return await _pump(reader, driver.feed)
    finally:
        driver.close()
        server.reset()
        writer.close()


async def open_optical_stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    client: PsemClient | None = None,
    *,
    clock: Clock | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> PsemSession:
    """A `PsemSession` on a byte stream (a TCP connection, a `memory_pipe` end)."""
    session = PsemSession(
        client if client is not None else PsemClient(),
        writer.write,
        clock=clock if clock is not None else SystemClock(),
        on_event=on_event,
    )
    task = asyncio.get_running_loop().create_task(_pump(reader, session.feed))
    task.add_done_callback(lambda t: session.line_closed("cancelled" if t.cancelled() else t.result()))

    def closer() -> None:
        task.cancel()
        writer.close()

    session._closer = closer
    return session


# ------------------------------------------------------------------------------------------- pty


class OpticalPty:
    """A `PsemServer` on the master end of a pseudo-terminal; a reader opens `path` (the slave)."""

    def __init__(self, server: PsemServer, path: str, line: _FdLine, driver: ByteDriver[ServerEvent]) -> None:
        self.server = server
        self.path = path
        self._line = line
        self.driver = driver

    def close(self) -> None:
        """Close both ends of the pty; the core is reset."""
        self.driver.close()
        self._line.close()
        self.server.reset()


async def serve_optical_pty(
    server: PsemServer,
    *,
    clock: Clock | None = None,
    on_event: Callable[[ServerEvent], None] | None = None,
) -> OpticalPty:
    """Open a raw pseudo-terminal and serve ``server`` on it; `OpticalPty.path` is the slave device.

    The slave stays open on our side too, so readers may open and close it without hanging up the port.
    """
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        path = os.ttyname(slave)
    except OSError:
        os.close(master)
        os.close(slave)
        raise
    holder: list[ByteDriver[ServerEvent]] = []
    line = _FdLine(master, lambda data: holder[0].feed(data), keep=(slave,))
    driver: ByteDriver[ServerEvent] = ByteDriver(
        server,
        line.write,
        clock=clock if clock is not None else SystemClock(),
        on_event=on_event,
        turnaround=server.link.config.turnaround_delay,
    )
    holder.append(driver)
    return OpticalPty(server, path, line, driver)


async def open_optical_pty(
    path: str,
    client: PsemClient | None = None,
    *,
    clock: Clock | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> PsemSession:
    """Open the serial device (or pty slave) ``path`` in raw mode; a `PsemSession` on it."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        tty.setraw(fd)
    except OSError:
        os.close(fd)
        raise
    holder: list[PsemSession] = []
    line = _FdLine(fd, lambda data: holder[0].feed(data))
    session = PsemSession(
        client if client is not None else PsemClient(),
        line.write,
        clock=clock if clock is not None else SystemClock(),
        on_event=on_event,
    )
    holder.append(session)
    line.on_close = session.line_closed
    session._closer = line.close
    return session


# ------------------------------------------------------------------------------------------- tcp


class OpticalTcpServer:
    """C12.18 over TCP: each connection gets a fresh core from ``server_factory``."""

    def __init__(
        self,
        server_factory: Callable[[], PsemServer],
        *,
        clock: Clock,
        on_event: Callable[[ServerEvent], None] | None,
        max_connections: int,
    ) -> None:
        self.server_factory = server_factory
        self.clock = clock
        self.on_event = on_event
        self.max_connections = max_connections
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.connections >= self.max_connections:
            writer.close()
            return
        self.connections += 1
        self._writers.add(writer)
        self._idle.clear()
        try:
            reason = await serve_optical_stream(
                reader, writer, self.server_factory(), clock=self.clock, on_event=self.on_event
            )
            _log.debug("optical TCP connection ended: %s", reason)
        finally:
            self.connections -= 1
            self._writers.discard(writer)
            if not self._writers:
                self._idle.set()

    async def close(self) -> None:
        """Stop listening, close every connection and wait for their sessions to end."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()  # the session's reader sees the end of the stream
        await self._idle.wait()
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> OpticalTcpServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def serve_optical_tcp(
    host: str | None,
    port: int,
    server_factory: Callable[[], PsemServer],
    *,
    clock: Clock | None = None,
    on_event: Callable[[ServerEvent], None] | None = None,
    max_connections: int = 16,
) -> OpticalTcpServer:
    """Listen on ``host``:``port`` (0: ephemeral, see `OpticalTcpServer.port`) for C12.18 over TCP."""
    server = OpticalTcpServer(
        server_factory,
        clock=clock if clock is not None else SystemClock(),
        on_event=on_event,
        max_connections=max_connections,
    )
    server._server = await asyncio.start_server(server._accept, host, port)
    return server


async def open_optical_tcp(
    host: str,
    port: int,
    client: PsemClient | None = None,
    *,
    clock: Clock | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> PsemSession:
    """Connect to C12.18 over TCP; a `PsemSession` on the connection."""
    reader, writer = await asyncio.open_connection(host, port)
    return await open_optical_stream(reader, writer, client, clock=clock, on_event=on_event)
