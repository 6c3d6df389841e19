"""Values shared by the capture reader and writer: endpoints, records, link types, the error type."""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, NamedTuple

from openami.errors import RemoteProtocolError

__all__ = [
    "C1222_PORT",
    "CaptureError",
    "Endpoint",
    "LinkType",
    "Record",
    "Transport",
]

C1222_PORT = 1153
"""The IANA port of C12.22 over TCP and UDP (c12-protocol-facts.md §1)."""

Transport = Literal["tcp", "udp"]


class CaptureError(RemoteProtocolError):
    """The capture file itself is malformed (bad magic, truncated record, bad block length, ...)."""


class LinkType(IntEnum):
    """The link-layer header types the reader understands (tcpdump.org LINKTYPE_* values).

    ``RAW_12``/``RAW_14`` are the platform DLT_RAW values some old files carry instead of 101.
    """

    NULL = 0  # BSD loopback: 4-byte address family in the capturing host's byte order
    ETHERNET = 1
    RAW_12 = 12
    RAW_14 = 14
    RAW = 101  # raw IPv4 or IPv6, told apart by the version nibble
    LOOP = 108  # OpenBSD loopback: 4-byte address family, big-endian
    LINUX_SLL = 113  # Linux cooked capture v1: 16-byte header, protocol in bytes 14-15
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276  # Linux cooked capture v2: 20-byte header, protocol in bytes 0-1


class Endpoint(NamedTuple):
    """An IP address (text: dotted IPv4 or compressed IPv6) and a TCP/UDP port."""

    address: str
    port: int

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


class Record(NamedTuple):
    """One C12.22 APDU found in a capture.

    ``timestamp`` is seconds since 1970 (None for a pcapng Simple Packet Block, which has none);
    ``apdu`` the whole APDU (``60 L ...``; for UDP the datagram payload as it is); ``frame`` the
    1-based number of the frame that completed it (0 for records built by hand).
    """

    timestamp: float | None
    src: Endpoint
    dst: Endpoint
    transport: Transport
    apdu: bytes
    frame: int = 0
