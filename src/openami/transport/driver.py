"""Driving the sans-IO cores on asyncio: clocks, timers, channels, and the byte-stream loop.

This module holds the only clock reads of the adapters. A driver asks its `Clock` for ``now``
(seconds) before every call into a core and keeps one clock callback armed at the core's
``next_timer()`` (`CoreTimer`):

- `SystemClock`: seconds since 1970 (C12.22 IVs are derived from it) advancing with the event loop's
  monotonic ``loop.time()``, optionally ``rate`` times faster (an accelerated meter);
- `ManualClock`: time moves only when a test calls `ManualClock.advance`.

`ByteDriver` is the generic loop for a byte-stream core (the C12.18 `PsemClient` / `PsemServer`):
feed it the bytes read from the line, it writes every `SendBytes` the core emits (after the link's
turnaround delay) and passes the other events on. The C12.22 driver is
`openami.transport.endpoint.C1222Endpoint`; `Channel` is what it sends APDUs through.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from openami.c1218.link import SendBytes
from openami.c1222.association import RequestFailed
from openami.errors import LocalProtocolError

__all__ = [
    "BadResponse",
    "ByteCore",
    "ByteDriver",
    "Cancellable",
    "Channel",
    "Clock",
    "ConnectionClosed",
    "ConnectionFailed",
    "CoreTimer",
    "ManualClock",
    "RequestFailedError",
    "RequestTimeout",
    "SystemClock",
    "TransportError",
    "TransportStats",
]

_EARLY = 1e-3
"""A timer callback up to this many seconds early still counts as due (event-loop rounding)."""


# ------------------------------------------------------------------------------------------- clocks


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Time for drivers: ``now()`` in seconds, and ``call_at(when, callback)`` on the same scale."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Cancellable: ...


class SystemClock:
    """Seconds since 1970 that advance with ``loop.time()`` (monotonic), ``rate`` times real speed.

    ``start`` is the reading at the moment the clock binds to the running loop (its first use there);
    None takes ``time.time()`` then. Timers run on the loop (``loop.call_later``), scaled by ``rate``.
    """

    def __init__(self, *, rate: float = 1.0, start: float | None = None) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise LocalProtocolError(f"rate must be > 0, got {rate!r}")
        self.rate = rate
        self._start = start
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
            self._t0 = loop.time()
            if self._start is None:
                self._start = time.time()
        return loop

    def now(self) -> float:
        if self._loop is None:
            try:
                self._bind()
            except RuntimeError:  # no running loop yet: the wall clock, unbound
                return time.time() if self._start is None else self._start
        assert self._loop is not None and self._start is not None
        return self._start + (self._loop.time() - self._t0) * self.rate

    def call_at(self, when: float, callback: Callable[[], None]) -> Cancellable:
        loop = self._bind()
        return loop.call_later(max(0.0, (when - self.now()) / self.rate), callback)


class _ManualHandle:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock for tests: ``now()`` stays put until `advance` / `set`, which run the callbacks that
    come due, in time order, with ``now()`` reading each one's time. A callback already due when it is
    scheduled runs soon on the event loop (or at the next `advance` without a running loop)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._heap: list[tuple[float, int, _ManualHandle]] = []
        self._seq = 0

    def now(self) -> float:
        return self._now

    @property
    def pending(self) -> int:
        """Callbacks scheduled and not cancelled."""
        return sum(not h.cancelled for _, _, h in self._heap)

    def call_at(self, when: float, callback: Callable[[], None]) -> Cancellable:
        handle = _ManualHandle(when, callback)
        heapq.heappush(self._heap, (when, self._seq, handle))
        self._seq += 1
        if when <= self._now:
            with contextlib.suppress(RuntimeError):  # no running loop: the next `advance` runs it
                asyncio.get_running_loop().call_soon(self._run_due, self._now)
        return handle

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (≥ 0), running what comes due."""
        if not seconds >= 0:
            raise LocalProtocolError(f"cannot advance by {seconds!r} s")
        self.set(self._now + seconds)

    def set(self, when: float) -> None:
        """Move time forward to ``when`` (never back), running what comes due."""
        if when < self._now:
            raise LocalProtocolError(f"time cannot go back from {self._now} to {when}")
        self._run_due(when)
        self._now = when

    def _run_due(self, until: float) -> None:
        while self._heap and self._heap[0][0] <= until:
            when, _, handle = heapq.heappop(self._heap)
            if handle.cancelled:
                continue
            self._now = max(self._now, when)
            handle.cancelled = True
            handle.callback()


class CoreTimer:
    """Keeps one clock callback armed at ``next_timer()`` of a core; calls ``fire(now)`` when it is due.

    Call `arm` after every call into the core (its next timer may have moved).
    """

    def __init__(self, clock: Clock, next_timer: Callable[[], float | None], fire: Callable[[float], None]) -> None:
        self._clock = clock
        self._next_timer = next_timer
        self._fire = fire
        self._handle: Cancellable | None = None
        self._when: float | None = None
        self._closed = False

    def arm(self) -> None:
        if self._closed:
            return
        when = self._next_timer()
        if self._handle is not None and when == self._when:
            return
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._when = when
        if when is not None:
            self._handle = self._clock.call_at(when, self._run)

    def _run(self) -> None:
        self._handle = None
        self._when = None
        if self._closed:
            return
        now = self._clock.now()
        due = self._next_timer()
        if due is not None and due - now <= _EARLY:
            self._fire(max(now, due))
        self.arm()

    def close(self) -> None:
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


# ------------------------------------------------------------------------------------------- errors


class TransportError(Exception):
    """Base class of the adapters' errors (no answer, no connection)."""


class ConnectionClosed(TransportError):
    """The channel closed before the data could be sent or the answer came."""


class ConnectionFailed(TransportError):
    """No channel to the peer could be opened (no address known, connection refused, ...)."""


class RequestFailedError(TransportError):
    """The core gave up on a request: ``event`` is its `RequestFailed`."""

    def __init__(self, event: RequestFailed) -> None:
        super().__init__(f"request {event.invocation_id} to {event.peer} failed ({event.reason}): {event.detail}")
        self.event = event


class RequestTimeout(RequestFailedError):
    """No response after the core's last retry (``event.attempts`` transmissions)."""


class BadResponse(RequestFailedError):
    """The response verified but its services do not decode."""


# ------------------------------------------------------------------------------------------- channels


class Channel(ABC):
    """A way to one peer for whole APDUs: a stream connection, or a datagram socket and an address."""

    name: str = "channel"

    @property
    @abstractmethod
    def closed(self) -> bool: ...

    @abstractmethod
    def send_nowait(self, data: bytes) -> bool:
        """Queue one APDU; False (dropped) if the channel is closed or its output buffer is full."""

    @abstractmethod
    async def send(self, data: bytes) -> None:
        """Queue one APDU, waiting for room in the output buffer; raises `ConnectionClosed`."""

    @abstractmethod
    def close(self, reason: str = "closed") -> None:
        """Close at once (queued output is dropped); for a datagram peer, nothing to close."""


@dataclass
class TransportStats:
    """Counters of an endpoint and the transports feeding it (monotonic)."""

    apdus_received: int = 0  # whole APDUs handed to the core
    apdus_sent: int = 0  # APDUs queued on a channel
    connections_accepted: int = 0
    connections_refused: int = 0  # over a server's max_connections
    violations: int = 0  # channels closed (datagrams dropped) after a ProtocolViolation
    framing_errors: int = 0  # stream bytes that cannot start an APDU (connection closed)
    rqtl_sent: int = 0  # oversized requests answered RQTL
    oversized_dropped: int = 0  # oversized APDUs that could not be answered (closed / dropped)
    idle_closed: int = 0  # connections closed by the idle timeout
    read_timeouts: int = 0  # connections closed with half an APDU received
    dropped: int = 0  # APDUs not sent (output full, no route) or datagrams not handled
    handler_errors: int = 0  # the application handler raised or answered wrongly (answered ERR)


# ------------------------------------------------------------------------------------------- byte cores

E = TypeVar("E")
E_co = TypeVar("E_co", covariant=True)


class ByteCore(Protocol[E_co]):
    """A byte-stream core such as `openami.c1218.client.PsemClient` or `openami.c1218.server.PsemServer`."""

    def receive_data(self, data: bytes, now: float) -> Sequence[E_co]: ...

    def next_timer(self) -> float | None: ...

    def handle_timer(self, now: float) -> Sequence[E_co]: ...


class ByteDriver(Generic[E]):
    """The loop of a byte-stream core: `feed` it what the line delivers; it writes every `SendBytes`
    with ``write`` and hands the other events to ``on_event``, runs the core's timers, and waits
    ``turnaround`` seconds after the last byte received before writing (C12.18's turnaround delay;
    writes stay in order). Bytes a core returns outside events (a client's request) go to `send`."""

    def __init__(
        self,
        core: ByteCore[E],
        write: Callable[[bytes], None],
        *,
        clock: Clock,
        on_event: Callable[[E], None] | None = None,
        turnaround: float = 0.0,
    ) -> None:
        if not (math.isfinite(turnaround) and turnaround >= 0):
            raise LocalProtocolError(f"turnaround must be >= 0 s, got {turnaround!r}")
        self.core = core
        self.clock = clock
        self.on_event = on_event
        self._sink = write
        self._turnaround = turnaround
        self._last_rx = -math.inf
        self._queue: deque[bytes] = deque()
        self._flush_handle: Cancellable | None = None
        self._timer = CoreTimer(clock, core.next_timer, self._on_timer)
        self._closed = False

    def now(self) -> float:
        """The clock's reading, for calls into the core made outside this driver."""
        return self.clock.now()

    def feed(self, data: bytes) -> None:
        """Bytes read from the line."""
        if self._closed or not data:
            return
        now = self.clock.now()
        self._last_rx = now
        self.handle(self.core.receive_data(data, now))

    def handle(self, events: Sequence[E]) -> None:
        """Act on events a call into the core returned (writes, then the observer), then re-arm."""
        for event in events:
            if isinstance(event, SendBytes):
                self.send([event.data])
            elif self.on_event is not None:
                self.on_event(event)
        self._timer.arm()

    def send(self, chunks: Sequence[bytes]) -> None:
        """Write ``chunks`` in order, after the turnaround delay; re-arms the core's timer."""
        for data in chunks:
            if self._closed:
                return
            ready = self._last_rx + self._turnaround
            if self._queue or (self._turnaround > 0 and self.clock.now() < ready):
                self._queue.append(data)
                if self._flush_handle is None:
                    self._flush_handle = self.clock.call_at(ready, self._flush)
            else:
                self._sink(data)
        self._timer.arm()

    def close(self) -> None:
        self._closed = True
        self._timer.close()
        self._queue.clear()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def _flush(self) -> None:
        self._flush_handle = None
        ready = self._last_rx + self._turnaround
        if self.clock.now() < ready - _EARLY:  # more bytes came meanwhile: the line is not free yet
            self._flush_handle = self.clock.call_at(ready, self._flush)
            return
        while self._queue and not self._closed:
            self._sink(self._queue.popleft())

    def _on_timer(self, now: float) -> None:
        self.handle(self.core.handle_timer(now))
