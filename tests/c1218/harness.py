"""Test harness: two `LinkEndpoint`s joined by a simulated serial line that can break things.

Time is simulated (seconds); nothing here reads a clock. Bytes leave a side at 9600 baud 8N1 (about
1.04 ms per byte) and arrive in chunks after a small latency, so the parser sees packets split at
arbitrary points. Faults are drawn from a seeded `random.Random`, per transmission unit (a packet, or
an ACK/NAK byte), separately for each direction.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from openami.c1218 import (
    LinkEndpoint,
    LinkEvent,
    LinkFailed,
    MessageReceived,
    MessageSent,
    PeerDuplicate,
    ReceiveError,
    SendBytes,
    TrafficTimeout,
)

CLIENT = "client"
SERVER = "server"
BYTE_TIME = 10 / 9600
"""Seconds per byte at 9600 baud, 8N1 (start + 8 data + stop bits)."""


@dataclass
class Faults:
    """Probabilities per transmission unit. Packet faults: ``corrupt`` flips one bit, ``drop`` loses the
    packet, ``truncate`` loses its tail, ``duplicate`` sends it twice. Control faults act on ACK/NAK bytes."""

    corrupt: float = 0.0
    drop: float = 0.0
    truncate: float = 0.0
    duplicate: float = 0.0
    drop_control: float = 0.0
    corrupt_control: float = 0.0


@dataclass
class Wire:
    """A two-way line. `transmit` schedules delivery; `pop_due` returns the next chunk in time order."""

    rng: random.Random
    faults: dict[str, Faults] = field(default_factory=dict)
    latency: float = 0.002
    max_chunk: int = 24
    injected: int = 0
    sent: dict[str, list[bytes]] = field(default_factory=lambda: {CLIENT: [], SERVER: []})
    _queue: list[tuple[float, int, str, bytes]] = field(default_factory=list)
    _free_at: dict[str, float] = field(default_factory=lambda: {CLIENT: 0.0, SERVER: 0.0})
    _order: int = 0

    def transmit(self, src: str, data: bytes, now: float) -> None:
        self.sent[src].append(data)
        out = self._apply_faults(src, data)
        dst = SERVER if src == CLIENT else CLIENT
        start = max(now, self._free_at[src])
        offset = 0
        while offset < len(out):
            size = self.rng.randint(1, self.max_chunk)
            chunk = out[offset : offset + size]
            offset += len(chunk)
            arrival = start + self.latency + offset * BYTE_TIME
            heapq.heappush(self._queue, (arrival, self._order, dst, chunk))
            self._order += 1
        # The line is busy for the whole unit, even for bytes lost on the way.
        self._free_at[src] = start + max(len(data), len(out)) * BYTE_TIME

    def _apply_faults(self, src: str, data: bytes) -> bytes:
        f = self.faults.get(src, Faults())
        rng = self.rng
        if len(data) == 1:
            if rng.random() < f.drop_control:
                self.injected += 1
                return b""
            if rng.random() < f.corrupt_control:
                self.injected += 1
                return bytes((data[0] ^ (1 << rng.randrange(8)),))
            return data
        if rng.random() < f.drop:
            self.injected += 1
            return b""
        out = bytearray(data)
        if rng.random() < f.corrupt:
            self.injected += 1
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        if rng.random() < f.truncate:
            self.injected += 1
            del out[rng.randrange(1, len(out)) :]
        if rng.random() < f.duplicate:
            self.injected += 1
            return bytes(out) + bytes(out)
        return bytes(out)

    def next_time(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def pop_due(self) -> tuple[float, str, bytes]:
        arrival, _, dst, chunk = heapq.heappop(self._queue)
        return arrival, dst, chunk

    @property
    def empty(self) -> bool:
        return not self._queue


def read_response(data: bytes) -> bytes:
    """PSEM ok-response to a read: ``00 <count:2> <data> <cksum:1>``, cksum = (-sum(data)) & 0xFF (facts §3)."""
    return b"\x00" + len(data).to_bytes(2, "big") + data + bytes(((-sum(data)) & 0xFF,))


@dataclass
class SessionLog:
    client_received: list[bytes] = field(default_factory=list)
    server_received: list[bytes] = field(default_factory=list)
    events: dict[str, list[LinkEvent]] = field(default_factory=lambda: {CLIENT: [], SERVER: []})
    failures: list[LinkFailed] = field(default_factory=list)
    end_time: float = 0.0

    def count(self, side: str, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events[side])


class Session:
    """Client sends ``requests`` one after the other, each once the previous answer arrived; the server
    answers each with ``server_app(request)``. Negotiate answers are applied on both sides."""

    def __init__(
        self,
        client: LinkEndpoint,
        server: LinkEndpoint,
        wire: Wire,
        server_app: Callable[[bytes], bytes],
    ) -> None:
        self.client = client
        self.server = server
        self.wire = wire
        self.server_app = server_app
        self.log = SessionLog()
        self._requests: list[bytes] = []
        self._next = 0
        self._last_request = b""

    def _endpoint(self, side: str) -> LinkEndpoint:
        return self.client if side == CLIENT else self.server

    def _handle(self, side: str, events: list[LinkEvent], now: float) -> None:
        for event in events:
            self.log.events[side].append(event)
            if isinstance(event, SendBytes):
                self.wire.transmit(side, event.data, now)
            elif isinstance(event, LinkFailed):
                self.log.failures.append(event)
            elif isinstance(event, MessageReceived) and side == SERVER:
                self.log.server_received.append(event.payload)
                response = self.server_app(event.payload)
                self._handle(SERVER, self.server.send_message(response, now), now)
                if 0x60 <= event.payload[0] <= 0x6B and response[0] == 0:
                    self.server.apply_negotiation(int.from_bytes(response[1:3], "big"), response[3])
            elif isinstance(event, MessageReceived) and side == CLIENT:
                self.log.client_received.append(event.payload)
                if 0x60 <= self._last_request[0] <= 0x6B and event.payload[0] == 0:
                    self.client.apply_negotiation(int.from_bytes(event.payload[1:3], "big"), event.payload[3])
                self._send_next(now)
            else:
                assert isinstance(event, MessageSent | PeerDuplicate | ReceiveError | TrafficTimeout)

    def _send_next(self, now: float) -> None:
        if self._next < len(self._requests):
            self._last_request = self._requests[self._next]
            self._next += 1
            self._handle(CLIENT, self.client.send_message(self._last_request, now), now)

    def _done(self) -> bool:
        answered = len(self.log.client_received) >= len(self._requests)
        return answered and self.wire.empty and not self.client.busy and not self.server.busy

    def run(self, requests: list[bytes], *, max_time: float = 600.0, stop_on_failure: bool = True) -> SessionLog:
        self._requests = list(requests)
        self._send_next(0.0)
        now = 0.0
        while not self._done():
            if stop_on_failure and self.log.failures:
                break
            times = [
                t for t in (self.wire.next_time(), self.client.next_timer(), self.server.next_timer()) if t is not None
            ]
            if not times:
                break
            now = max(now, min(times))
            if now > max_time:
                break
            wire_time = self.wire.next_time()
            if wire_time is not None and wire_time <= now:
                _, dst, chunk = self.wire.pop_due()
                self._handle(dst, self._endpoint(dst).receive_data(chunk, now), now)
                continue
            for side in (CLIENT, SERVER):
                due = self._endpoint(side).next_timer()
                if due is not None and due <= now:
                    self._handle(side, self._endpoint(side).handle_timer(now), now)
        self.log.end_time = now
        return self.log
