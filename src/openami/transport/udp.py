"""C12.22 over UDP (default port 1153): one APDU per datagram, optionally segmented.

A `UdpSocket` is one bound datagram socket feeding a `C1222Endpoint`; the same class serves
(`serve_udp`, a known port) and calls (`open_udp`, an ephemeral port). Its `UdpPeer` channels name a
remote address: answers go back to the address a request came from. Per datagram:

- it passes through a `openami.c1222.segmentation.Reassembler`: whole APDUs come straight out,
  segments (messages with an A3 element) come out as the reassembled APDU once complete;
- bytes that are no C12.22 message, or a `ProtocolViolation`, drop that datagram only (there is no
  connection to close);
- an APDU over ``max_apdu`` bytes is answered RQTL (`C1222Endpoint.refuse_oversized`) when its
  header allows, else dropped;
- at most ``max_pending`` requests are answered at once; datagrams beyond are dropped (the client's
  core retries), counted in ``endpoint.stats.dropped``.

Outgoing APDUs larger than ``segment_size`` (when set) are split with `segmentation.segment`, one
segment per datagram; without it an APDU goes whole (at most 65 507 bytes over IPv4). Writers wait
while the socket transport is paused (its write buffer above the high-water mark).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, cast

from openami.c1222.aptitle import ApTitle
from openami.c1222.association.wire import title_key
from openami.c1222.segmentation import ApduTooLarge, Reassembler, is_segment, segment
from openami.errors import ProtocolError

from .driver import Channel, ConnectionClosed, ConnectionFailed, CoreTimer
from .endpoint import HEADER_PREFIX, C1222Endpoint

__all__ = ["DEFAULT_PORT", "UdpDialer", "UdpPeer", "UdpSocket", "open_udp", "serve_udp"]

_log = logging.getLogger(__name__)

DEFAULT_PORT = 1153
"""The IANA port of ANSI C12.22 (TCP and UDP)."""

Address = tuple[Any, ...]
"""A socket address as asyncio gives it: ``(host, port)`` (IPv4) or ``(host, port, flow, scope)``."""

_SEQ_MASK = 0xFFFF


class UdpPeer(Channel):
    """The channel to one remote address through a `UdpSocket`."""

    def __init__(self, socket: UdpSocket, address: Address) -> None:
        self.socket = socket
        self.address = address
        self.name = f"udp {address}"

    @property
    def closed(self) -> bool:
        return self.socket.closed

    def send_nowait(self, data: bytes) -> bool:
        return self.socket.sendto(data, self.address)

    async def send(self, data: bytes) -> None:
        await self.socket.writable()
        if not self.socket.sendto(data, self.address):
            raise ConnectionClosed(f"{self.name}: socket closed")

    def close(self, reason: str = "closed") -> None:
        """Nothing to close for one datagram peer: the offending datagram is already dropped."""


class UdpSocket(asyncio.DatagramProtocol):
    """One datagram socket of ``endpoint`` (see the module docstring). Make it with `serve_udp` or
    `open_udp`. ``reassembly_timeout`` (seconds) bounds how long a partial segmented APDU is kept."""

    def __init__(
        self,
        endpoint: C1222Endpoint,
        *,
        max_apdu: int | None = None,
        max_pending: int = 256,
        segment_size: int | None = None,
        reassembly_timeout: float = 60.0,
        max_partial: int = 64,
    ) -> None:
        self.endpoint = endpoint
        self.max_apdu = endpoint.max_apdu if max_apdu is None else max_apdu
        self.max_pending = max_pending
        self.segment_size = segment_size
        self.reassembler = Reassembler(self.max_apdu, max_partial, reassembly_timeout)
        self.transport: asyncio.DatagramTransport | None = None
        self._timer = CoreTimer(endpoint.clock, self.reassembler.next_timer, self._expire)
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False
        self._pending = 0
        self._seq = 0

    # ----------------------------------------------------------------------------------- state

    @property
    def closed(self) -> bool:
        return self._closed or self.transport is None

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def peer(self, host: str, port: int = DEFAULT_PORT) -> UdpPeer:
        """The channel to ``host``:``port``."""
        return UdpPeer(self, (host, port))

    def close(self) -> None:
        self._closed = True
        self._timer.close()
        self._writable.set()
        if self.transport is not None:
            self.transport.close()

    # ----------------------------------------------------------------------------------- output

    async def writable(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        await self._writable.wait()

    def sendto(self, data: bytes, address: Address) -> bool:
        """Send one APDU (segmented above ``segment_size``); False if the socket is closed."""
        if self.closed:
            return False
        assert self.transport is not None
        datagrams = [data]
        if self.segment_size is not None and len(data) > self.segment_size:
            self._seq = (self._seq + 1) & _SEQ_MASK
            try:
                datagrams = segment(data, self.segment_size, apdu_seq=self._seq)
            except ProtocolError as exc:
                _log.warning("cannot segment a %d-byte APDU to %s: %s", len(data), address, exc)
                self.endpoint.stats.dropped += 1
                return True
        for datagram in datagrams:
            self.transport.sendto(datagram, address)
        return True

    # ----------------------------------------------------------------------------------- protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport does not subclass DatagramTransport (3.11)
        self.transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._timer.close()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def error_received(self, exc: Exception) -> None:
        _log.debug("UDP socket error: %s", exc)  # e.g. ICMP port unreachable: the core's retries cope

    def datagram_received(self, data: bytes, addr: Address) -> None:
        endpoint = self.endpoint
        stats = endpoint.stats
        if self._closed:
            return
        channel = UdpPeer(self, addr)
        try:
            apdu = self.reassembler.receive(data, addr, endpoint.clock.now())
        except ApduTooLarge:
            if is_segment(data) or not endpoint.refuse_oversized(
                bytes(data[:HEADER_PREFIX]), len(data), channel, limit=self.max_apdu
            ):
                stats.dropped += 1
            apdu = None
        except ProtocolError:
            stats.dropped += 1
            apdu = None
        self._timer.arm()
        if apdu is None:
            return
        if self._pending >= self.max_pending:
            stats.dropped += 1
            return
        task = endpoint.deliver(apdu, channel)
        if task is not None:
            self._pending += 1
            task.add_done_callback(self._done)

    def _done(self, _task: object) -> None:
        self._pending -= 1

    def _expire(self, now: float) -> None:
        expired = self.reassembler.handle_timer(now)
        self.endpoint.stats.dropped += len(expired)


async def _bind(endpoint: C1222Endpoint, host: str, port: int, options: dict[str, Any]) -> UdpSocket:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(lambda: UdpSocket(endpoint, **options), local_addr=(host, port))
    return protocol


async def serve_udp(
    host: str,
    port: int,
    endpoint: C1222Endpoint,
    *,
    max_apdu: int | None = None,
    max_pending: int = 256,
    segment_size: int | None = None,
    reassembly_timeout: float = 60.0,
) -> UdpSocket:
    """Bind ``host``:``port`` (0: ephemeral, see `UdpSocket.port`) for C12.22 over UDP."""
    options: dict[str, Any] = {
        "max_apdu": max_apdu,
        "max_pending": max_pending,
        "segment_size": segment_size,
        "reassembly_timeout": reassembly_timeout,
    }
    return await _bind(endpoint, host, port, options)


async def open_udp(
    endpoint: C1222Endpoint,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    max_apdu: int | None = None,
    segment_size: int | None = None,
    reassembly_timeout: float = 60.0,
) -> UdpSocket:
    """A client socket (ephemeral port on ``host`` by default); reach peers with `UdpSocket.peer`."""
    options: dict[str, Any] = {
        "max_apdu": max_apdu,
        "segment_size": segment_size,
        "reassembly_timeout": reassembly_timeout,
    }
    return await _bind(endpoint, host, port, options)


class UdpDialer:
    """A ``connect`` callback for `C1222Endpoint`: peers' UDP addresses by ApTitle, through ``socket``."""

    def __init__(self, socket: UdpSocket, addresses: Mapping[ApTitle, tuple[str, int]] | None = None) -> None:
        self.socket = socket
        self._addresses: dict[str, tuple[str, int]] = {}
        for peer, address in (addresses or {}).items():
            self.add(peer, *address)

    def add(self, peer: ApTitle, host: str, port: int = DEFAULT_PORT) -> None:
        self._addresses[title_key(peer, self.socket.endpoint.association.config.base)] = (host, port)

    async def __call__(self, peer: ApTitle) -> Channel:
        address = self._addresses.get(title_key(peer, self.socket.endpoint.association.config.base))
        if address is None:
            raise ConnectionFailed(f"no UDP address known for {peer}")
        if self.socket.closed:
            raise ConnectionClosed("UDP socket closed")
        return self.socket.peer(*address)
