"""The meter node's parts: settings and counters, the head-end link, the registration scheduler, and the
association core that counts what it refuses."""

from __future__ import annotations

import asyncio
import heapq
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from openami.c1222.aptitle import ApTitle
from openami.c1222.association import Association, AssociationConfig, Event, RequestReceived
from openami.c1222.security import SecurityMode
from openami.c1222.services import (
    ConnectionType,
    Request,
    Response,
)
from openami.transport import (
    C1222Endpoint,
    Channel,
    Clock,
    ConnectionClosed,
    StreamConnection,
    UdpSocket,
    open_tcp,
)

if TYPE_CHECKING:
    from openami.meter.node import Meter

__all__ = [
    "HeadendLink",
    "NodeCounters",
    "NodeSettings",
    "RegistrationScheduler",
    "Tap",
    "native_address",
]

Tap = Callable[[Literal["in", "out"], bytes], None]
"""Sees every APDU the meter receives ("in") or sends ("out")."""


def native_address(host: str, port: int) -> bytes:
    """A C12.22 native address for IP: the IPv4 (4 octets) or IPv6 (16) address and the port (2, big-endian)."""
    return ipaddress.ip_address(host).packed + port.to_bytes(2, "big")


@dataclass(frozen=True, kw_only=True)
class NodeSettings:
    """The meter as a node: the security mode and key id of the messages it originates (registration,
    notifications); registration (period asked for in s, retry delay in s, on/off), notifications on/off;
    our ``native_address`` as the relay should reach us; the core's response timeout (s), retries and
    largest APDU (octets); how long `Meter.stop` waits for the deregistration answer (s)."""

    security_mode: SecurityMode = SecurityMode.CLEARTEXT
    key_id: int | None = None
    register: bool = True
    registration_period_s: int = 3600
    registration_retry_s: float = 60.0
    notify: bool = True
    native_address: bytes = b""
    connection_type: ConnectionType = ConnectionType.CONNECTION_MODE_SUPPORTED | ConnectionType.ACCEPT_CONNECTIONS
    response_timeout_s: float = 30.0
    retries: int = 2
    max_apdu_size: int = 0x10000
    stop_timeout_s: float = 5.0


@dataclass
class NodeCounters:
    """What the node did beyond the core's `Stats` and the transport's `TransportStats` (monotonic)."""

    octets_received: int = 0
    octets_sent: int = 0
    password_failures: int = 0
    registrations_sent: int = 0
    registrations_ok: int = 0
    registrations_denied: int = 0
    registrations_failed: int = 0
    deregistrations: int = 0
    notifications_sent: int = 0
    notifications_failed: int = 0
    interval_notifications: int = 0
    alarm_notifications: int = 0


class _NodeAssociation(Association):
    """The association core, counting octets and showing every APDU to an optional tap."""

    def __init__(self, config: AssociationConfig, counters: NodeCounters) -> None:
        super().__init__(config)
        self.counters = counters
        self.tap: Tap | None = None

    def receive(self, data: bytes | bytearray | memoryview, now: float) -> list[Event]:
        raw = bytes(data)
        self.counters.octets_received += len(raw)
        if self.tap is not None:
            self.tap("in", raw)
        return super().receive(raw, now)

    def respond(self, request: RequestReceived, responses: Sequence[Response], now: float) -> bytes | None:
        data = super().respond(request, responses, now)
        if data is not None:
            self._out(data)
        return data

    def request(self, peer: ApTitle, services: Sequence[Request], **options: Any) -> tuple[int, bytes]:
        out = super().request(peer, services, **options)
        self._out(out[1])
        return out

    def _out(self, data: bytes) -> None:
        self.counters.octets_sent += len(data)
        if self.tap is not None:
            self.tap("out", data)


class HeadendLink:
    """A ``connect`` callback reaching the head-end (master relay and notification host) at ``host``:``port``:
    over UDP through ``udp``; else over one TCP connection, reopened when it closes, whose incoming
    APDUs go to ``responses`` (the meter's endpoint, or a fleet's router)."""

    def __init__(self, host: str, port: int, responses: C1222Endpoint, *, udp: UdpSocket | None = None) -> None:
        self.host, self.port = host, port
        self.responses = responses
        self.udp = udp
        self.address = native_address(host, port) if _is_ip(host) else b""
        self._connection: StreamConnection | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, peer: ApTitle) -> Channel:
        if self.udp is not None:
            if self.udp.closed:
                raise ConnectionClosed("UDP socket closed")
            return self.udp.peer(self.host, self.port)
        async with self._lock:
            if self._connection is None or self._connection.closed:
                self._connection = await open_tcp(self.host, self.port, self.responses, idle_timeout=None)
            return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close("head-end link closing")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class RegistrationScheduler:
    """Runs `Meter.registration_round` of each scheduled meter when due on ``clock``, at most
    ``concurrency`` at once, and schedules the next round the meter asks for."""

    def __init__(self, clock: Clock, concurrency: int = 64) -> None:
        self.clock = clock
        self.concurrency = concurrency
        self._heap: list[tuple[float, int, Meter]] = []
        self._seq = 0
        self._handle: Any = None
        self._when: float | None = None
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def scheduled(self) -> int:
        """Meters waiting for their next round (rounds in progress not counted)."""
        return len(self._heap)

    def schedule(self, meter: Meter, when: float) -> None:
        if self._closed:
            return
        heapq.heappush(self._heap, (when, self._seq, meter))
        self._seq += 1
        self._arm()

    def _arm(self) -> None:
        if not self._heap or self._closed:
            return
        when = self._heap[0][0]
        if self._handle is not None and self._when is not None and self._when <= when:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._when = when
        self._handle = self.clock.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = self._when = None
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now + 1e-3 and not self._closed:
            meter = heapq.heappop(self._heap)[2]
            task = asyncio.get_running_loop().create_task(self._run(meter))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._arm()

    async def _run(self, meter: Meter) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            when = await meter.registration_round()
        if when is not None:
            self.schedule(meter, when)

    async def aclose(self) -> None:
        """Stop scheduling and cancel the rounds in progress."""
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
