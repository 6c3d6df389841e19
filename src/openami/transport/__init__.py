"""asyncio adapters that drive the sans-IO cores (the only layer with sockets and clocks).

- `driver`: `Clock` (`SystemClock`, `ManualClock`), `CoreTimer`, `Channel`, `ByteDriver`, errors.
- `endpoint`: `C1222Endpoint`, one C12.22 node (an `Association`) over any channels.
- `tcp`: `serve_tcp`, `open_tcp`, `TcpDialer` (port 1153, per-connection framing and timeouts).
- `udp`: `serve_udp`, `open_udp`, `UdpDialer` (one APDU per datagram, optional segmentation).
- `memory`: `memory_pipe`, `connect_memory` (two peers in one process, no sockets).
- `serial`: C12.18 PSEM over a pty, TCP or any stream (`serve_optical_pty`, `open_optical_pty`, ...).
"""

from __future__ import annotations

from .driver import (
    BadResponse,
    ByteCore,
    ByteDriver,
    Cancellable,
    Channel,
    Clock,
    ConnectionClosed,
    ConnectionFailed,
    CoreTimer,
    ManualClock,
    RequestFailedError,
    RequestTimeout,
    SystemClock,
    TransportError,
    TransportStats,
)
from .endpoint import HEADER_PREFIX, C1222Endpoint, Connector, EventObserver, RequestHandler
from .memory import StreamPair, connect_memory, memory_pipe
from .serial import (
    OpticalPty,
    OpticalTcpServer,
    PsemFailed,
    PsemSession,
    open_optical_pty,
    open_optical_stream,
    open_optical_tcp,
    serve_optical_pty,
    serve_optical_stream,
    serve_optical_tcp,
)
from .tcp import DEFAULT_PORT, StreamConnection, TcpDialer, TcpServer, open_tcp, serve_tcp
from .udp import UdpDialer, UdpPeer, UdpSocket, open_udp, serve_udp

__all__ = [
    "DEFAULT_PORT",
    "HEADER_PREFIX",
    "BadResponse",
    "ByteCore",
    "ByteDriver",
    "C1222Endpoint",
    "Cancellable",
    "Channel",
    "Clock",
    "ConnectionClosed",
    "ConnectionFailed",
    "Connector",
    "CoreTimer",
    "EventObserver",
    "ManualClock",
    "OpticalPty",
    "OpticalTcpServer",
    "PsemFailed",
    "PsemSession",
    "RequestFailedError",
    "RequestHandler",
    "RequestTimeout",
    "StreamConnection",
    "StreamPair",
    "SystemClock",
    "TcpDialer",
    "TcpServer",
    "TransportError",
    "TransportStats",
    "UdpDialer",
    "UdpPeer",
    "UdpSocket",
    "connect_memory",
    "memory_pipe",
    "open_optical_pty",
    "open_optical_stream",
    "open_optical_tcp",
    "open_tcp",
    "open_udp",
    "serve_optical_pty",
    "serve_optical_stream",
    "serve_optical_tcp",
    "serve_tcp",
    "serve_udp",
]
