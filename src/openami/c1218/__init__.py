"""ANSI C12.18 optical-port data link, sans-IO: CRC-16/X-25, packets, and a client/server link endpoint.

The link carries opaque PSEM payloads (encoded by `openami.c1222.services`); see `openami.c1218.link`.
The PSEM session cores on top of it are `openami.c1218.client.PsemClient` (a reader) and
`openami.c1218.server.PsemServer` (the meter side, with a table handler).
"""

from __future__ import annotations

from openami.c1218.crc import crc16, crc16_bytes
from openami.c1218.link import (
    BITS_PER_BYTE,
    DEVICE_CHANNEL_TRAFFIC_TIMEOUT,
    LinkConfig,
    LinkEndpoint,
    LinkEvent,
    LinkFailed,
    LinkStats,
    MessageReceived,
    MessageSent,
    PeerDuplicate,
    ReceiveError,
    SendBytes,
    TrafficTimeout,
)
from openami.c1218.packet import (
    ACK,
    DEFAULT_NBR_PACKETS,
    DEFAULT_PACKET_SIZE,
    NAK,
    PACKET_OVERHEAD,
    STP,
    Ack,
    Nak,
    Packet,
    PacketError,
    PacketErrorKind,
    PacketParser,
    ParserEvent,
    decode_packet,
    max_data_length,
)

__all__ = [
    "ACK",
    "BITS_PER_BYTE",
    "DEFAULT_NBR_PACKETS",
    "DEFAULT_PACKET_SIZE",
    "DEVICE_CHANNEL_TRAFFIC_TIMEOUT",
    "NAK",
    "PACKET_OVERHEAD",
    "STP",
    "Ack",
    "LinkConfig",
    "LinkEndpoint",
    "LinkEvent",
    "LinkFailed",
    "LinkStats",
    "MessageReceived",
    "MessageSent",
    "Nak",
    "Packet",
    "PacketError",
    "PacketErrorKind",
    "PacketParser",
    "ParserEvent",
    "PeerDuplicate",
    "ReceiveError",
    "SendBytes",
    "TrafficTimeout",
    "crc16",
    "crc16_bytes",
    "decode_packet",
    "max_data_length",
]
