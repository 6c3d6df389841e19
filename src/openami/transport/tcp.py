"""C12.22 over TCP (default port 1153): a server, a client connection, a dialer by ApTitle.

Each connection is a `StreamConnection` feeding one shared `C1222Endpoint`. The stream is framed by
the APDUs' own BER lengths (``60 L ...``, `openami.c1222.acse.message_length`), read one APDU at a time
so that, per connection:

- bytes that cannot start an APDU (a framing error) or a `ProtocolViolation` close that connection
  only; every other connection and the shared core carry on;
- an APDU announced larger than ``max_apdu`` bytes is answered RQTL (`C1222Endpoint.refuse_oversized`)
  and skipped without being buffered, or, when it cannot be answered (no readable request header,
  not addressed to us, a key we do not hold), the connection is closed;
- ``read_timeout`` (seconds from an APDU's first byte) closes a connection holding half an APDU;
  ``idle_timeout`` closes it after that long without an APDU either way while nothing is pending;
- back-pressure: at most ``max_pending`` APDUs are being answered at once — the connection stops
  reading until one is done, so a peer that does not read its answers is not read either — and at
  most ``max_buffer`` bytes are queued for output (plus as much in the socket transport, whose
  write high-water mark is set to ``max_buffer``); writers wait on ``drain()``.

Time comes from the endpoint's clock (timers via ``clock.call_at``), so a `ManualClock` drives the
timeouts in tests. `asyncio.StreamReader`/`StreamWriter` ends of any kind work (`openami.transport.memory`
uses the same class over an in-memory pipe).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from openami.c1222.acse import APDU_TAG, message_length
from openami.c1222.aptitle import ApTitle
from openami.c1222.association.wire import title_key
from openami.errors import ProtocolError

from .driver import Cancellable, Channel, ConnectionClosed, ConnectionFailed
from .endpoint import HEADER_PREFIX, C1222Endpoint

__all__ = [
    "DEFAULT_PORT",
    "StreamConnection",
    "TcpDialer",
    "TcpServer",
    "open_tcp",
    "serve_tcp",
]

_log = logging.getLogger(__name__)

DEFAULT_PORT = 1153
"""The IANA port of ANSI C12.22 (TCP and UDP)."""

_EARLY = 1e-3
_CHUNK = 0x10000


class _Refused(Exception):
    """The stream cannot go on (framing error, unanswerable oversized APDU)."""


class StreamConnection(Channel):
    """One C12.22 byte-stream connection feeding ``endpoint`` (see the module docstring).

    Sizes in bytes, times in seconds on the endpoint's clock (None: no such timeout). ``max_apdu``
    defaults to the endpoint's (the core's) maximum; ``max_buffer`` to twice that. Call `start` once.
    """

    def __init__(
        self,
        endpoint: C1222Endpoint,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        idle_timeout: float | None = None,
        read_timeout: float | None = 30.0,
        max_apdu: int | None = None,
        max_pending: int = 8,
        max_buffer: int | None = None,
        name: str | None = None,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        for label, value in (("idle_timeout", idle_timeout), ("read_timeout", read_timeout)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be > 0 s or None, got {value!r}")
        self.endpoint = endpoint
        self.reader = reader
        self.writer = writer
        self.idle_timeout = idle_timeout
        self.read_timeout = read_timeout
        self.max_apdu = endpoint.max_apdu if max_apdu is None else max_apdu
        if self.max_apdu < 16:
            raise ValueError(f"max_apdu must be >= 16 bytes, got {self.max_apdu}")
        self.max_pending = max_pending
        self.max_buffer = 2 * self.max_apdu if max_buffer is None else max_buffer
        self.name = name if name is not None else f"tcp {writer.get_extra_info('peername')}"
        self.close_reason: str | None = None
        self._clock = endpoint.clock
        self._slots = asyncio.Semaphore(max_pending)
        self._in_flight = 0
        self._out: deque[bytes] = deque()
        self._queued = 0
        self._max_buffered = 0
        self._out_ready = asyncio.Event()
        self._room = asyncio.Event()
        self._closed = False
        self._done = asyncio.Event()
        self._last_activity = self._clock.now()
        self._reading_since: float | None = None
        self._watchdog: Cancellable | None = None
        self._watch_when: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._on_close: list[Callable[[StreamConnection], None]] = []
        transport = writer.transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.set_write_buffer_limits(high=self.max_buffer)

    # ----------------------------------------------------------------------------------- state

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def receiving(self) -> bool:
        """Part of an APDU has been read and the rest is awaited."""
        return self._reading_since is not None

    @property
    def buffered(self) -> int:
        """Bytes queued for output, the socket transport's buffer included."""
        return self._queued + self.writer.transport.get_write_buffer_size()

    @property
    def max_buffered(self) -> int:
        """The most bytes ever queued for output (the transport's own buffer is capped at ``max_buffer``)."""
        return self._max_buffered

    @property
    def in_flight(self) -> int:
        """APDUs received and still being answered."""
        return self._in_flight

    def on_close(self, callback: Callable[[StreamConnection], None]) -> None:
        """Call ``callback(self)`` once the connection has closed."""
        if self._closed:
            callback(self)
        else:
            self._on_close.append(callback)

    async def wait_closed(self) -> None:
        await self._done.wait()

    # ----------------------------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Start reading and writing (once)."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read_loop()), loop.create_task(self._write_loop())]
        self._arm()

    def close(self, reason: str = "closed") -> None:
        if self._closed:
            return
        self._closed = True
        self.close_reason = reason
        _log.debug("%s closed: %s", self.name, reason)
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._out.clear()
        self._room.set()
        self._out_ready.set()
        current = asyncio.current_task() if _loop_running() else None
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self.writer.close()
        self.endpoint.channel_closed(self)
        for callback in self._on_close:
            callback(self)
        self._on_close.clear()
        self._done.set()

    # ----------------------------------------------------------------------------------- output

    def send_nowait(self, data: bytes) -> bool:
        if self._closed or (self._queued and self._queued + len(data) > self.max_buffer):
            return False
        self._out.append(data)
        self._queued += len(data)
        self._max_buffered = max(self._max_buffered, self._queued)
        self._out_ready.set()
        return True

    async def send(self, data: bytes) -> None:
        while not self._closed and self._queued and self._queued + len(data) > self.max_buffer:
            self._room.clear()
            await self._room.wait()
        if not self.send_nowait(data):
            raise ConnectionClosed(f"{self.name} is closed ({self.close_reason})")

    async def _write_loop(self) -> None:
        try:
            while not self._closed:
                if not self._out:
                    self._out_ready.clear()
                    await self._out_ready.wait()
                    continue
                batch = 0
                while self._out:
                    data = self._out.popleft()
                    self.writer.write(data)
                    batch += len(data)
                self._touch()
                await self.writer.drain()
                self._queued -= batch
                self._room.set()
        except (ConnectionError, OSError) as exc:
            self.close(f"write failed: {exc}")

    # ----------------------------------------------------------------------------------- input

    async def _read_loop(self) -> None:
        reason = "closed by peer"
        try:
            while not self._closed:
                await self._slots.acquire()
                try:
                    apdu = await self._read_apdu()
                except BaseException:
                    self._slots.release()
                    raise
                if apdu is None:
                    self._slots.release()
                    continue
                self._in_flight += 1
                task = self.endpoint.deliver(apdu, self)
                if task is None:
                    self._release()
                else:
                    task.add_done_callback(self._release)
        except asyncio.IncompleteReadError:
            reason = "closed by peer" if not self.receiving else "closed by peer inside an APDU"
        except (ConnectionError, OSError) as exc:
            reason = f"connection lost: {exc}"
        except _Refused as exc:
            reason = str(exc)
        finally:
            self.close(reason)

    def _release(self, _task: object = None) -> None:
        self._in_flight -= 1
        self._slots.release()
        if not self._closed:
            self._arm()

    async def _read_apdu(self) -> bytes | None:
        """The next whole APDU; None when an oversized one was answered and skipped."""
        reader = self.reader
        header = await reader.readexactly(1)
        self._reading_since = self._clock.now()
        self._arm()
        stats = self.endpoint.stats
        if header[0] != APDU_TAG:
            stats.framing_errors += 1
            raise _Refused(f"framing error: 0x{header[0]:02X} cannot start a C12.22 APDU")
        header += await reader.readexactly(1)
        if header[1] & 0x80:
            header += await reader.readexactly(min(header[1] & 0x7F, 5))
        try:
            total = message_length(header)
        except ProtocolError as exc:
            stats.framing_errors += 1
            raise _Refused(f"framing error: {exc}") from None
        if total is None:  # cannot happen: the header holds every length octet
            raise _Refused("framing error: incomplete APDU length")
        if total > self.max_apdu:
            prefix = header + await reader.readexactly(min(total, HEADER_PREFIX) - len(header))
            if not self.endpoint.refuse_oversized(prefix, total, self, limit=self.max_apdu):
                raise _Refused(f"APDU of {total} bytes exceeds max_apdu {self.max_apdu} and cannot be answered")
            remaining = total - len(prefix)
            while remaining > 0:  # skip the body without keeping it
                remaining -= len(await reader.readexactly(min(remaining, _CHUNK)))
            self._end_read()
            return None
        apdu = header + await reader.readexactly(total - len(header))
        self._end_read()
        return apdu

    # ----------------------------------------------------------------------------------- timeouts

    def _touch(self) -> None:
        self._last_activity = self._clock.now()

    def _end_read(self) -> None:
        self._reading_since = None
        self._touch()
        self._arm()

    def _deadline(self) -> float | None:
        if self._reading_since is not None:
            return None if self.read_timeout is None else self._reading_since + self.read_timeout
        return None if self.idle_timeout is None else self._last_activity + self.idle_timeout

    def _arm(self) -> None:
        if self._closed:
            return
        when = self._deadline()
        if when is None or (self._watchdog is not None and self._watch_when is not None and self._watch_when <= when):
            return  # nothing to watch, or the armed check comes first and re-arms then
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watch_when = when
        self._watchdog = self._clock.call_at(when, self._check)

    def _check(self) -> None:
        self._watchdog = None
        self._watch_when = None
        if self._closed:
            return
        now = self._clock.now()
        deadline = self._deadline()
        if deadline is not None and now >= deadline - _EARLY:
            stats = self.endpoint.stats
            if self._reading_since is not None:
                stats.read_timeouts += 1
                self.close(f"read timeout: half an APDU for {self.read_timeout} s")
                return
            if not self._in_flight and not self._queued:
                stats.idle_closed += 1
                self.close(f"idle for {self.idle_timeout} s")
                return
            self._last_activity = now  # busy answering: not idle
        self._arm()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# ------------------------------------------------------------------------------------------- server


class TcpServer:
    """A listening C12.22 TCP server: every accepted connection is a `StreamConnection` on ``endpoint``.

    Past ``max_connections`` open connections, new ones are closed at once (counted in
    ``endpoint.stats.connections_refused``). Use `serve_tcp` to make one.
    """

    def __init__(self, endpoint: C1222Endpoint, *, max_connections: int, options: dict[str, Any]) -> None:
        self.endpoint = endpoint
        self.max_connections = max_connections
        self.connections: set[StreamConnection] = set()
        self._options = options
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on (the first socket's)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats = self.endpoint.stats
        if len(self.connections) >= self.max_connections:
            stats.connections_refused += 1
            writer.close()
            return
        stats.connections_accepted += 1
        connection = StreamConnection(self.endpoint, reader, writer, **self._options)
        self.connections.add(connection)
        connection.on_close(self.connections.discard)
        connection.start()

    async def close(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.close("server closing")
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> TcpServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def serve_tcp(
    host: str | None,
    port: int,
    endpoint: C1222Endpoint,
    *,
    idle_timeout: float | None = 120.0,
    read_timeout: float | None = 30.0,
    max_apdu: int | None = None,
    max_connections: int = 1024,
    max_pending: int = 8,
    max_buffer: int | None = None,
) -> TcpServer:
    """Listen on ``host``:``port`` (0: an ephemeral port, see `TcpServer.port`) for C12.22 over TCP.

    Options as in `StreamConnection`; ``max_connections`` bounds the open connections.
    """
    if max_connections < 1:
        raise ValueError(f"max_connections must be >= 1, got {max_connections}")
    options: dict[str, Any] = {
        "idle_timeout": idle_timeout,
        "read_timeout": read_timeout,
        "max_apdu": max_apdu,
        "max_pending": max_pending,
        "max_buffer": max_buffer,
    }
    server = TcpServer(endpoint, max_connections=max_connections, options=options)
    server._server = await asyncio.start_server(server._accept, host, port)
    return server


async def open_tcp(
    host: str,
    port: int,
    endpoint: C1222Endpoint,
    *,
    idle_timeout: float | None = None,
    read_timeout: float | None = 30.0,
    max_apdu: int | None = None,
    max_pending: int = 8,
    max_buffer: int | None = None,
) -> StreamConnection:
    """Connect to a C12.22 TCP peer; the connection (a `Channel`) is running when returned.

    Raises `ConnectionFailed` when the connection cannot be opened.
    """
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        raise ConnectionFailed(f"cannot connect to {host}:{port}: {exc}") from exc
    connection = StreamConnection(
        endpoint,
        reader,
        writer,
        idle_timeout=idle_timeout,
        read_timeout=read_timeout,
        max_apdu=max_apdu,
        max_pending=max_pending,
        max_buffer=max_buffer,
    )
    connection.start()
    return connection


class TcpDialer:
    """A ``connect`` callback for `C1222Endpoint`: peers' TCP addresses by ApTitle, one connection per
    address reused while it stays open. ``options`` go to `open_tcp`."""

    def __init__(
        self,
        endpoint: C1222Endpoint,
        addresses: Mapping[ApTitle, tuple[str, int]] | None = None,
        **options: Any,
    ) -> None:
        self.endpoint = endpoint
        self._options = options
        self._addresses: dict[str, tuple[str, int]] = {}
        self._open: dict[tuple[str, int], StreamConnection] = {}
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        for peer, address in (addresses or {}).items():
            self.add(peer, *address)

    def add(self, peer: ApTitle, host: str, port: int = DEFAULT_PORT) -> None:
        """Reach ``peer`` at ``host``:``port``."""
        self._addresses[title_key(peer, self.endpoint.association.config.base)] = (host, port)

    async def __call__(self, peer: ApTitle) -> Channel:
        address = self._addresses.get(title_key(peer, self.endpoint.association.config.base))
        if address is None:
            raise ConnectionFailed(f"no TCP address known for {peer}")
        lock = self._locks.setdefault(address, asyncio.Lock())
        async with lock:
            connection = self._open.get(address)
            if connection is None or connection.closed:
                connection = await open_tcp(*address, self.endpoint, **self._options)
                self._open[address] = connection
            return connection

    def close(self) -> None:
        """Close the connections opened."""
        for connection in self._open.values():
            connection.close("dialer closing")
        self._open.clear()
