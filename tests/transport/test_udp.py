"""C12.22 over loopback UDP: one APDU per datagram, modes 0/1/2, bad datagrams, RQTL, segmentation,
retries and timeouts on a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from openami.c1222.association import RequestReceived
from openami.c1222.codes import ResponseCode
from openami.c1222.security import SecurityMode
from openami.c1222.segmentation import is_segment
from openami.c1222.services import ErrorResponse, FullRead, FullWrite, ReadResponse, Response
from openami.transport import ConnectionFailed, ManualClock, RequestTimeout, UdpDialer, open_udp, serve_udp

from .support import METER, ST1, T0, TableStore, headend, meter, run, until

LOOPBACK = "127.0.0.1"


@pytest.mark.parametrize("mode", list(SecurityMode))
def test_read_in_every_security_mode(mode: SecurityMode) -> None:
    async def main() -> None:
        server_end = meter(mode)
        client = headend(mode)
        server = await serve_udp(LOOPBACK, 0, server_end)
        sock = await open_udp(client)
        try:
            peer = sock.peer(LOOPBACK, server.port)
            result = await client.request(METER, [FullRead(1)], via=peer)
            assert result.responses == (ReadResponse(ST1),)
            assert result.envelope.security_mode is mode
            client.connect = UdpDialer(sock, {METER: (LOOPBACK, server.port)})
            result = await client.request(METER, [FullRead(1), FullRead(42)])
            assert result.responses == (ReadResponse(ST1), ErrorResponse(ResponseCode.IAR))
        finally:
            sock.close()
            server.close()

    run(main())


class _Raw(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)


async def _raw_socket() -> tuple[asyncio.DatagramTransport, _Raw]:
    return await asyncio.get_running_loop().create_datagram_endpoint(_Raw, local_addr=(LOOPBACK, 0))


def test_bad_datagrams_are_dropped_and_the_socket_carries_on() -> None:
    async def main() -> None:
        server_end = meter()
        client = headend()
        server = await serve_udp(LOOPBACK, 0, server_end)
        sock = await open_udp(client)
        transport, raw = await _raw_socket()
        try:
            for junk in (b"\x61\x00", b"\x60\x03\x01\x02\x03", b"\x60\x05\xa2\x03\x80\x01\x05", bytes(range(256))):
                transport.sendto(junk, (LOOPBACK, server.port))
            result = await client.request(METER, [FullRead(1)], via=sock.peer(LOOPBACK, server.port))
            assert result.responses == (ReadResponse(ST1),)
            await until(lambda: server_end.stats.dropped + server_end.stats.violations >= 4)
            assert (server_end.stats.dropped, server_end.stats.violations) == (3, 1)  # 3 unframed, 1 bad message
            assert raw.received == []
        finally:
            transport.close()
            sock.close()
            server.close()

    run(main())


@pytest.mark.parametrize("mode", list(SecurityMode))
def test_oversized_datagram_is_answered_rqtl(mode: SecurityMode) -> None:
    async def main() -> None:
        store = TableStore()
        server_end = meter(mode, store=store, max_apdu_size=200)
        client = headend(mode)
        server = await serve_udp(LOOPBACK, 0, server_end)
        sock = await open_udp(client)
        try:
            peer = sock.peer(LOOPBACK, server.port)
            result = await client.request(METER, [FullWrite(5, bytes(400))], via=peer)
            assert result.responses == (ErrorResponse.too_large(ResponseCode.RQTL, 200),)
            assert result.envelope.security_mode is mode
            assert store.seen == []
            assert (await client.request(METER, [FullRead(1)], via=peer)).responses == (ReadResponse(ST1),)
        finally:
            sock.close()
            server.close()

    run(main())


def test_segmented_response_is_reassembled() -> None:
    """With a 120-byte segment size a 1000-byte table read goes out as several datagrams (each a C12.22
    segment) and comes back whole."""

    async def main() -> None:
        store = TableStore()
        store.tables[7] = bytearray(range(250)) * 4
        server_end = meter(store=store)
        client = headend()
        server = await serve_udp(LOOPBACK, 0, server_end, segment_size=120)
        sock = await open_udp(client, segment_size=120)
        transport, raw = await _raw_socket()
        try:
            result = await client.request(METER, [FullRead(7)], via=sock.peer(LOOPBACK, server.port))
            assert result.responses == (ReadResponse(bytes(store.tables[7])),)
            assert sock.reassembler.counters.completed == 1
            assert sock.reassembler.counters.segments >= 1000 // 120
            # the same read from a raw socket shows the segments on the wire
            request = headend().association.request(METER, [FullRead(7)], now=T0)[1]
            transport.sendto(request, (LOOPBACK, server.port))
            await until(lambda: sum(map(len, raw.received)) > 1000)
            assert all(is_segment(d) and len(d) <= 120 for d in raw.received)
        finally:
            transport.close()
            sock.close()
            server.close()

    run(main())


def test_lost_request_is_retried_and_silence_times_out() -> None:
    """The first datagram is lost (sent to a socket that drops it): nothing comes back, the core's
    retries go to the same address, and after the last one `RequestTimeout` is raised."""

    async def main() -> None:
        clock = ManualClock(T0)
        client = headend(clock=clock, response_timeout=5.0, retries=2)
        sock = await open_udp(client)
        transport, raw = await _raw_socket()
        port = transport.get_extra_info("sockname")[1]
        try:
            pending = asyncio.ensure_future(client.request(METER, [FullRead(1)], via=sock.peer(LOOPBACK, port)))
            await until(lambda: len(raw.received) == 1)
            clock.advance(5.0)
            await until(lambda: len(raw.received) == 2)
            clock.advance(5.0)
            await until(lambda: len(raw.received) == 3)
            assert raw.received == [raw.received[0]] * 3
            clock.advance(5.0)
            with pytest.raises(RequestTimeout):
                await pending
        finally:
            transport.close()
            sock.close()

    run(main())


def test_retry_reaches_the_meter_after_a_loss() -> None:
    """A relay in the middle drops the first request datagram; the retry gets through and is answered."""

    async def main() -> None:
        clock = ManualClock(T0)
        server_end = meter()
        client = headend(clock=clock, response_timeout=5.0, retries=2)
        server = await serve_udp(LOOPBACK, 0, server_end)
        sock = await open_udp(client)
        loop = asyncio.get_running_loop()

        class Lossy(asyncio.DatagramProtocol):
            seen = 0
            client_addr: tuple[str, int] | None = None
            transport: asyncio.DatagramTransport

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport  # type: ignore[assignment]

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                if addr[1] == server.port:
                    assert self.client_addr is not None
                    self.transport.sendto(data, self.client_addr)
                    return
                self.client_addr = addr
                self.seen += 1
                if self.seen > 1:
                    self.transport.sendto(data, (LOOPBACK, server.port))

        relay_transport, relay = await loop.create_datagram_endpoint(Lossy, local_addr=(LOOPBACK, 0))
        try:
            port = relay_transport.get_extra_info("sockname")[1]
            pending = asyncio.ensure_future(client.request(METER, [FullRead(1)], via=sock.peer(LOOPBACK, port)))
            await until(lambda: relay.seen == 1)
            clock.advance(5.0)
            result = await pending
            assert result.responses == (ReadResponse(ST1),)
            assert client.association.stats.retransmissions == 1
        finally:
            relay_transport.close()
            sock.close()
            server.close()

    run(main())


def test_unknown_peer_without_address() -> None:
    async def main() -> None:
        client = headend()
        sock = await open_udp(client)
        client.connect = UdpDialer(sock)
        try:
            with pytest.raises(ConnectionFailed):
                await client.request(METER, [FullRead(1)])
        finally:
            sock.close()

    run(main())


def test_datagrams_beyond_max_pending_are_dropped() -> None:
    async def main() -> None:
        release = asyncio.Event()
        store = TableStore()

        async def slow(event: RequestReceived) -> Sequence[Response]:
            await release.wait()
            return await store(event)

        server_end = meter(handler=slow)
        server = await serve_udp(LOOPBACK, 0, server_end, max_pending=2)
        transport, raw = await _raw_socket()
        builder = headend()
        try:
            for _ in range(3):
                transport.sendto(builder.association.request(METER, [FullRead(1)], now=T0)[1], (LOOPBACK, server.port))
            await until(lambda: server_end.answering == 2 and server_end.stats.dropped == 1)
            release.set()
            await until(lambda: len(raw.received) == 2)
            for answer in raw.received:
                assert builder.association.receive(answer, T0)[0].responses == (ReadResponse(ST1),)  # type: ignore[union-attr]
        finally:
            transport.close()
            server.close()

    run(main())
