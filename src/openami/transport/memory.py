"""An in-memory duplex byte pipe with asyncio stream ends, for tests of two peers without sockets.

`memory_pipe` returns two ``(StreamReader, StreamWriter)`` ends joined by a pair of transports:
bytes written on one end are read on the other, in order, on a later turn of the event loop. Flow
control is the real one: a reader whose buffer passes its limit pauses the other end's delivery, and a
writer whose undelivered bytes pass ``high_water`` is paused (``drain()`` waits). Closing either end
closes both (the peer reads EOF once it has read what was delivered).

`connect_memory` joins two `C1222Endpoint` s through such a pipe with a `StreamConnection` on each end;
the C12.18 drivers of `openami.transport.serial` run on the same ends (`serial.open_optical_stream`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .endpoint import C1222Endpoint
from .tcp import StreamConnection

__all__ = ["StreamPair", "connect_memory", "memory_pipe"]

StreamPair = tuple[asyncio.StreamReader, asyncio.StreamWriter]

_DELIVERY_CHUNK = 0x10000


class _PipeTransport(asyncio.Transport):
    """One end of the pipe: ``write`` queues bytes for the peer's protocol."""

    def __init__(self, loop: asyncio.AbstractEventLoop, name: str, high_water: int) -> None:
        super().__init__()
        self._loop = loop
        self._name = name
        self._protocol: asyncio.Protocol | None = None
        self._peer: _PipeTransport | None = None
        self._buffer = bytearray()
        self._high = high_water
        self._low = high_water // 4
        self._writing_paused = False
        self._reading_paused = False  # our protocol asked not to receive more
        self._closing = False
        self._lost = False
        self._flush_scheduled = False

    # --- BaseTransport

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": f"memory:{self._name}", "sockname": f"memory:{self._name}"}.get(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        peer = self._peer
        if peer is not None:
            self._flush()
            peer._closing = True
            peer._buffer.clear()
            self._loop.call_soon(peer._lose)
        self._loop.call_soon(self._lose)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self._protocol is not None
        return self._protocol

    # --- ReadTransport

    def is_reading(self) -> bool:
        return not self._reading_paused and not self._closing

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False
        if self._peer is not None:
            self._peer._schedule_flush()

    # --- WriteTransport

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = 0x10000 if high is None else high
        self._low = self._high // 4 if low is None else low
        self._check_pause()

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        self._buffer += data
        self._check_pause()
        self._schedule_flush()

    def can_write_eof(self) -> bool:
        return False

    def abort(self) -> None:
        self._buffer.clear()
        self.close()

    # --- internals

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        peer = self._peer
        if peer is None or peer._protocol is None:
            return
        while self._buffer and not peer._reading_paused and not peer._lost:
            chunk = bytes(self._buffer[:_DELIVERY_CHUNK])
            del self._buffer[:_DELIVERY_CHUNK]
            peer._protocol.data_received(chunk)
        self._check_pause()

    def _check_pause(self) -> None:
        if self._protocol is None:
            return
        size = len(self._buffer)
        if not self._writing_paused and size > self._high:
            self._writing_paused = True
            self._protocol.pause_writing()
        elif self._writing_paused and size <= self._low:
            self._writing_paused = False
            self._protocol.resume_writing()

    def _lose(self) -> None:
        if self._lost:
            return
        self._lost = True
        if self._protocol is not None:
            self._protocol.connection_lost(None)


def memory_pipe(*, limit: int = 0x10000, high_water: int = 0x10000) -> tuple[StreamPair, StreamPair]:
    """Two connected stream ends (call with a running event loop). ``limit``: each reader's buffer
    limit (bytes; reading pauses past twice that); ``high_water``: undelivered bytes before a writer's
    ``drain()`` waits."""
    loop = asyncio.get_running_loop()
    a = _PipeTransport(loop, "a", high_water)
    b = _PipeTransport(loop, "b", high_water)
    a._peer, b._peer = b, a
    ends: list[StreamPair] = []
    for transport in (a, b):
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        ends.append((reader, asyncio.StreamWriter(transport, protocol, reader, loop)))
    return ends[0], ends[1]


async def connect_memory(
    client: C1222Endpoint, server: C1222Endpoint, **options: Any
) -> tuple[StreamConnection, StreamConnection]:
    """Join two endpoints through a `memory_pipe`; returns the running ``(client side, server side)``
    connections (`Channel` s: pass the client side as ``via`` to `C1222Endpoint.request`). ``options``
    go to both `StreamConnection` s (timeouts, sizes)."""
    (client_reader, client_writer), (server_reader, server_writer) = memory_pipe()
    near = StreamConnection(client, client_reader, client_writer, name="memory client", **options)
    far = StreamConnection(server, server_reader, server_writer, name="memory server", **options)
    server.stats.connections_accepted += 1
    near.start()
    far.start()
    return near, far
