"""C12.18 packets: the dataclass, whole-packet encode/decode, and a streaming `PacketParser`.

Layout (c12-protocol-facts.md §5), all lengths in bytes::

    EE <identity:1> <ctrl:1> <seq:1> <length:2 BE> <data:length> <crc:2, low byte first>

- ``ctrl``: bit7 multi-packet, bit6 first packet of a multi-packet message, bit5 toggle, bits1–0 data
  format (0 in C12.18; C12.21 uses the others). Bits 4–2 are kept as received.
- ``seq``: packets still to come in the message; 0 on the last (and on a single) packet.
- ``identity``: 0 on the optical port; C12.21 uses it to address a device on a shared line.
- ``crc``: CRC-16/X-25 over every byte before it (`openami.c1218.crc`).
- A negotiated *packet size* counts the whole packet, so a packet carries at most ``packet_size - 8``
  data bytes (Elster's MIT-licensed MeteringSDK, ``MCOM/ProtocolC1218.cpp``: chunk = packet size − 6
  header − 2 CRC; a received length must be ``<= packet_size - 8``). A length of 0 is refused, as that
  receiver does.

Outside packets the line carries single ACK (0x06) and NAK (0x15) bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from openami.c1218.crc import crc16, crc16_bytes
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "ACK",
    "CRC_LENGTH",
    "CTRL_DATA_FORMAT_MASK",
    "CTRL_FIRST_PACKET",
    "CTRL_MULTI_PACKET",
    "CTRL_TOGGLE",
    "DEFAULT_NBR_PACKETS",
    "DEFAULT_PACKET_SIZE",
    "HEADER_LENGTH",
    "MAX_DATA_LENGTH",
    "MAX_NBR_PACKETS",
    "MAX_PACKET_SIZE",
    "MIN_PACKET_SIZE",
    "NAK",
    "PACKET_OVERHEAD",
    "STP",
    "Ack",
    "Nak",
    "Packet",
    "PacketError",
    "PacketErrorKind",
    "PacketParser",
    "ParserEvent",
    "decode_packet",
    "max_data_length",
]

STP = 0xEE
"""Start-of-packet byte."""
ACK = 0x06
NAK = 0x15

CTRL_MULTI_PACKET = 0x80
CTRL_FIRST_PACKET = 0x40
CTRL_TOGGLE = 0x20
CTRL_DATA_FORMAT_MASK = 0x03

HEADER_LENGTH = 6
"""``EE identity ctrl seq length:2``."""
CRC_LENGTH = 2
PACKET_OVERHEAD = HEADER_LENGTH + CRC_LENGTH

DEFAULT_PACKET_SIZE = 64
"""Packet size (bytes, whole packet) in force until a Negotiate exchange (facts §5)."""
DEFAULT_NBR_PACKETS = 1
"""Packets per message in force until a Negotiate exchange (facts §5)."""
MIN_PACKET_SIZE = PACKET_OVERHEAD + 1
"""Smallest packet size that still carries one data byte."""
MAX_PACKET_SIZE = 0xFFFF
"""Largest packet size the 2-byte Negotiate field can express."""
MAX_DATA_LENGTH = 0xFFFF
"""Largest value of the 2-byte length field."""
MAX_NBR_PACKETS = 255
"""Largest value of the 1-byte Negotiate nbr-packets field."""


def max_data_length(packet_size: int) -> int:
    """Data bytes one packet of ``packet_size`` bytes (header and CRC included) can carry."""
    if not MIN_PACKET_SIZE <= packet_size <= MAX_PACKET_SIZE:
        raise LocalProtocolError(f"packet size {packet_size} outside {MIN_PACKET_SIZE}..{MAX_PACKET_SIZE} bytes")
    return packet_size - PACKET_OVERHEAD


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name} must be 0..255, got {value}")


@dataclass(frozen=True, slots=True)
class Packet:
    """One C12.18 packet. ``data`` is 1..65535 bytes; ``ctrl``, ``seq``, ``identity`` are raw bytes."""

    data: bytes
    ctrl: int = 0
    seq: int = 0
    identity: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            object.__setattr__(self, "data", bytes(self.data))
        if not 1 <= len(self.data) <= MAX_DATA_LENGTH:
            raise LocalProtocolError(f"packet data must be 1..{MAX_DATA_LENGTH} bytes, got {len(self.data)}")
        _check_byte("ctrl", self.ctrl)
        _check_byte("seq", self.seq)
        _check_byte("identity", self.identity)

    @classmethod
    def build(
        cls,
        data: bytes,
        *,
        seq: int = 0,
        multi_packet: bool = False,
        first_packet: bool = False,
        toggle: bool = False,
        data_format: int = 0,
        identity: int = 0,
    ) -> Packet:
        """A packet from named control flags (``data_format`` 0..3)."""
        if not 0 <= data_format <= CTRL_DATA_FORMAT_MASK:
            raise LocalProtocolError(f"data format must be 0..3, got {data_format}")
        ctrl = (
            (CTRL_MULTI_PACKET if multi_packet else 0)
            | (CTRL_FIRST_PACKET if first_packet else 0)
            | (CTRL_TOGGLE if toggle else 0)
            | data_format
        )
        return cls(data=data, ctrl=ctrl, seq=seq, identity=identity)

    @property
    def multi_packet(self) -> bool:
        """ctrl bit7: the packet is part of a multi-packet message."""
        return bool(self.ctrl & CTRL_MULTI_PACKET)

    @property
    def first_packet(self) -> bool:
        """ctrl bit6: first packet of a multi-packet message."""
        return bool(self.ctrl & CTRL_FIRST_PACKET)

    @property
    def toggle(self) -> bool:
        """ctrl bit5: alternates on every new packet a sender transmits."""
        return bool(self.ctrl & CTRL_TOGGLE)

    @property
    def data_format(self) -> int:
        """ctrl bits1–0 (0 in C12.18)."""
        return self.ctrl & CTRL_DATA_FORMAT_MASK

    def encode(self) -> bytes:
        """The packet's wire bytes, CRC included."""
        body = bytes((STP, self.identity, self.ctrl, self.seq)) + len(self.data).to_bytes(2, "big") + self.data
        return body + crc16_bytes(body)


def decode_packet(buf: bytes | bytearray | memoryview, *, max_length: int = MAX_DATA_LENGTH) -> Packet:
    """Decode exactly one packet (no bytes before or after it); data longer than ``max_length`` is refused.

    Raises `RemoteProtocolError` for a missing 0xEE, a length of 0 or above ``max_length``, a buffer that
    is shorter or longer than the length field says, or a bad CRC.
    """
    raw = bytes(buf)
    if len(raw) < PACKET_OVERHEAD:
        raise RemoteProtocolError(f"C12.18 packet of {len(raw)} bytes is shorter than {PACKET_OVERHEAD}")
    if raw[0] != STP:
        raise RemoteProtocolError(f"C12.18 packet starts with 0x{raw[0]:02X}, not 0xEE")
    length = int.from_bytes(raw[4:6], "big")
    if length == 0 or length > max_length:
        raise RemoteProtocolError(f"C12.18 packet length {length} outside 1..{max_length}")
    total = PACKET_OVERHEAD + length
    if len(raw) != total:
        what = "truncated" if len(raw) < total else "trailing bytes after"
        raise RemoteProtocolError(f"{what} C12.18 packet: {len(raw)} bytes for a {total}-byte packet")
    got = int.from_bytes(raw[-2:], "little")
    want = crc16(raw[:-2])
    if got != want:
        raise RemoteProtocolError(f"C12.18 packet CRC 0x{got:04X}, computed 0x{want:04X}")
    return Packet(data=raw[HEADER_LENGTH:-2], ctrl=raw[2], seq=raw[3], identity=raw[1])


@dataclass(frozen=True, slots=True)
class Ack:
    """An ACK byte (0x06) seen between packets."""


@dataclass(frozen=True, slots=True)
class Nak:
    """A NAK byte (0x15) seen between packets."""


class PacketErrorKind(enum.Enum):
    """Why a candidate packet (bytes from a 0xEE on) was rejected."""

    BAD_LENGTH = "bad-length"
    """Length field 0 or above the negotiated maximum."""
    BAD_CRC = "bad-crc"
    INCOMPLETE = "incomplete"
    """The line went quiet (`PacketParser.expire`) before the packet was complete."""


@dataclass(frozen=True, slots=True)
class PacketError:
    """A rejected candidate packet. ``raw`` holds its bytes (header only for a bad length)."""

    kind: PacketErrorKind
    raw: bytes
    detail: str

    def as_exception(self) -> RemoteProtocolError:
        """The error as the exception a whole-packet decoder would raise."""
        return RemoteProtocolError(f"C12.18 {self.kind.value}: {self.detail}")


ParserEvent = Packet | Ack | Nak | PacketError
"""What `PacketParser` yields, in wire order."""


class PacketParser:
    """Incremental parser for the bytes arriving from a C12.18 peer.

    Feed it chunks of any size (one byte at a time gives the same events as the whole stream at once).
    Outside packets, 0x06 and 0x15 become `Ack` / `Nak` and other bytes are skipped (counted in
    `discarded`). A rejected candidate (bad length, bad CRC) yields a `PacketError`; the parser then
    resynchronises on the next 0xEE after the rejected one's start byte, skipping every byte before it
    — even 0x06 / 0x15, since those are most likely data of the broken packet rather than real ACK/NAKs.
    """

    __slots__ = ("_buf", "_discarded", "_max_length", "_resync")

    def __init__(self, max_length: int = DEFAULT_PACKET_SIZE - PACKET_OVERHEAD) -> None:
        self._buf = bytearray()
        self._discarded = 0
        self._resync = False
        self._max_length = 0
        self.max_length = max_length

    @property
    def max_length(self) -> int:
        """Largest data length accepted (bytes); longer candidates are rejected as bad length."""
        return self._max_length

    @max_length.setter
    def max_length(self, value: int) -> None:
        if not 1 <= value <= MAX_DATA_LENGTH:
            raise LocalProtocolError(f"max data length must be 1..{MAX_DATA_LENGTH}, got {value}")
        self._max_length = value

    @property
    def pending(self) -> int:
        """Bytes held for a packet not yet complete."""
        return len(self._buf)

    @property
    def discarded(self) -> int:
        """Bytes skipped so far outside any packet (not counting ACK/NAK bytes)."""
        return self._discarded

    def reset(self) -> None:
        """Forget buffered bytes and the resynchronisation state."""
        self._buf.clear()
        self._resync = False

    def feed(self, data: bytes | bytearray | memoryview) -> list[ParserEvent]:
        """Add received bytes; returns the packets, ACK/NAKs and errors they complete, in order."""
        self._buf += data
        return self._parse(final=False)

    def expire(self) -> list[ParserEvent]:
        """The line went quiet (inter-character timeout): reject incomplete candidates, rescan the rest.

        Afterwards nothing is pending.
        """
        return self._parse(final=True)

    def _parse(self, *, final: bool) -> list[ParserEvent]:
        buf = self._buf
        out: list[ParserEvent] = []
        pos = 0
        end = len(buf)
        while pos < end:
            if buf[pos] != STP:
                nxt = buf.find(STP, pos)
                stop = end if nxt < 0 else nxt
                if self._resync:
                    self._discarded += stop - pos
                else:
                    for byte in buf[pos:stop]:
                        if byte == ACK:
                            out.append(Ack())
                        elif byte == NAK:
                            out.append(Nak())
                        else:
                            self._discarded += 1
                pos = stop
                continue
            self._resync = False
            avail = end - pos
            if avail < HEADER_LENGTH:
                if not final:
                    break
                out.append(self._reject(PacketErrorKind.INCOMPLETE, bytes(buf[pos:end]), f"{avail} bytes"))
                pos += 1
                continue
            length = (buf[pos + 4] << 8) | buf[pos + 5]
            if length == 0 or length > self._max_length:
                raw = bytes(buf[pos : pos + HEADER_LENGTH])
                detail = f"length {length} outside 1..{self._max_length}"
                out.append(self._reject(PacketErrorKind.BAD_LENGTH, raw, detail))
                pos += 1
                continue
            total = PACKET_OVERHEAD + length
            if avail < total:
                if not final:
                    break
                raw = bytes(buf[pos:end])
                out.append(self._reject(PacketErrorKind.INCOMPLETE, raw, f"{avail} of {total} bytes"))
                pos += 1
                continue
            body_end = pos + total - CRC_LENGTH
            got = buf[body_end] | (buf[body_end + 1] << 8)
            want = crc16(buf[pos:body_end])
            if got != want:
                raw = bytes(buf[pos : pos + total])
                detail = f"CRC 0x{got:04X}, computed 0x{want:04X}"
                out.append(self._reject(PacketErrorKind.BAD_CRC, raw, detail))
                pos += 1
                continue
            out.append(
                Packet(
                    data=bytes(buf[pos + HEADER_LENGTH : body_end]),
                    ctrl=buf[pos + 2],
                    seq=buf[pos + 3],
                    identity=buf[pos + 1],
                )
            )
            pos += total
        del buf[:pos]
        return out

    def _reject(self, kind: PacketErrorKind, raw: bytes, detail: str) -> PacketError:
        self._resync = True
        return PacketError(kind=kind, raw=raw, detail=detail)
