"""HAN data-link frames: C12.18-style packets with short node addresses, sequence number and CRC.

Layout (bytes; multi-byte fields big-endian except the CRC)::

    EE <dst:2> <src:2> <ctrl:1> <seq:1> <length:1> <payload:length> <crc:2, low byte first>

- ``EE``: start byte, as in C12.18 (`openami.c1218.packet.STP`).
- ``dst`` / ``src``: short node ids 0x0001..0xFFFE; 0x0000 and 0xFFFF are reserved (refused).
- ``ctrl``: bits 7–6 frame kind (0 DATA, 1 ACK, 2 NAK; 3 refused), bit 5 ACK requested (DATA only),
  bit 4 first segment, bit 3 last segment (DATA only), bits 2–0 reserved, must be 0.
- ``seq``: 0..255. On DATA the sender's frame sequence number toward ``dst`` (it plays the role of the
  C12.18 toggle bit with 256 values instead of 2, so a receiver can drop retransmissions within a window);
  on ACK/NAK the sequence number of the DATA frame answered.
- ``length``: payload bytes, 0..255; ACK and NAK frames carry none (length 0).
- ``crc``: CRC-16/X-25 over every byte before it (`openami.c1218.crc.crc16`), low byte first as in C12.18.

Frame overhead is `FRAME_OVERHEAD` (10) bytes. `decode_frame` accepts exactly one frame and raises
`RemoteProtocolError` for anything else, so ``encode(decode(b)) == b`` for every accepted ``b``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from openami.c1218.crc import crc16, crc16_bytes
from openami.c1218.packet import STP
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "BROADCAST",
    "CRC_LENGTH",
    "CTRL_ACK_REQUEST",
    "CTRL_FIRST",
    "CTRL_KIND_SHIFT",
    "CTRL_LAST",
    "CTRL_RESERVED_MASK",
    "FRAME_OVERHEAD",
    "HEADER_LENGTH",
    "MAX_ADDRESS",
    "MAX_PAYLOAD",
    "MIN_ADDRESS",
    "STP",
    "Frame",
    "FrameKind",
    "Header",
    "decode_frame",
    "peek_header",
]

HEADER_LENGTH = 8
"""``EE dst:2 src:2 ctrl seq length``."""
CRC_LENGTH = 2
FRAME_OVERHEAD = HEADER_LENGTH + CRC_LENGTH
MAX_PAYLOAD = 0xFF
"""Largest payload of one frame (1-byte length field)."""
MIN_ADDRESS = 0x0001
MAX_ADDRESS = 0xFFFE
BROADCAST = 0xFFFF
"""Reserved (no broadcast service is defined yet); refused in frames."""

CTRL_KIND_SHIFT = 6
CTRL_ACK_REQUEST = 0x20
CTRL_FIRST = 0x10
CTRL_LAST = 0x08
CTRL_RESERVED_MASK = 0x07


class FrameKind(enum.IntEnum):
    """Frame kind, ctrl bits 7–6."""

    DATA = 0
    ACK = 1
    NAK = 2


@dataclass(frozen=True, slots=True)
class Frame:
    """One HAN frame. Addresses 1..0xFFFE, ``seq`` 0..255, ``payload`` 0..255 bytes (empty for ACK/NAK).

    ``ack_request``, ``first`` and ``last`` are only meaningful on DATA frames and must be False on ACK/NAK.
    """

    kind: FrameKind
    dst: int
    src: int
    seq: int
    payload: bytes = b""
    ack_request: bool = False
    first: bool = False
    last: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.payload, bytes):
            object.__setattr__(self, "payload", bytes(self.payload))
        object.__setattr__(self, "kind", FrameKind(self.kind))
        for name, value in (("dst", self.dst), ("src", self.src)):
            if not MIN_ADDRESS <= value <= MAX_ADDRESS:
                raise LocalProtocolError(f"{name} address must be {MIN_ADDRESS}..{MAX_ADDRESS}, got {value}")
        if not 0 <= self.seq <= 0xFF:
            raise LocalProtocolError(f"seq must be 0..255, got {self.seq}")
        if len(self.payload) > MAX_PAYLOAD:
            raise LocalProtocolError(f"payload must be 0..{MAX_PAYLOAD} bytes, got {len(self.payload)}")
        if self.kind is not FrameKind.DATA and (self.payload or self.ack_request or self.first or self.last):
            raise LocalProtocolError(f"{self.kind.name} frames carry no payload and no DATA flags")

    @classmethod
    def data(
        cls,
        dst: int,
        src: int,
        seq: int,
        payload: bytes,
        *,
        ack_request: bool = True,
        first: bool = True,
        last: bool = True,
    ) -> Frame:
        """A DATA frame (default: a whole message in one acknowledged frame)."""
        return cls(FrameKind.DATA, dst, src, seq, payload, ack_request, first, last)

    @classmethod
    def ack(cls, dst: int, src: int, seq: int) -> Frame:
        """An ACK from ``src`` for DATA frame ``seq`` that ``dst`` sent."""
        return cls(FrameKind.ACK, dst, src, seq)

    @classmethod
    def nak(cls, dst: int, src: int, seq: int) -> Frame:
        """A NAK from ``src`` asking ``dst`` to resend DATA frame ``seq``."""
        return cls(FrameKind.NAK, dst, src, seq)

    @property
    def ctrl(self) -> int:
        """The ctrl byte."""
        return (
            (int(self.kind) << CTRL_KIND_SHIFT)
            | (CTRL_ACK_REQUEST if self.ack_request else 0)
            | (CTRL_FIRST if self.first else 0)
            | (CTRL_LAST if self.last else 0)
        )

    def encode(self) -> bytes:
        """Wire bytes of the frame, CRC included (``FRAME_OVERHEAD + len(payload)`` bytes)."""
        body = (
            bytes((STP,))
            + self.dst.to_bytes(2, "big")
            + self.src.to_bytes(2, "big")
            + bytes((self.ctrl, self.seq, len(self.payload)))
            + self.payload
        )
        return body + crc16_bytes(body)


@dataclass(frozen=True, slots=True)
class Header:
    """Unchecked header fields of a frame whose CRC may be wrong (see `peek_header`)."""

    dst: int
    src: int
    ctrl: int
    seq: int


def peek_header(buf: bytes | bytearray | memoryview) -> Header | None:
    """The header fields of a (possibly corrupt) frame, or None when fewer than 8 bytes or no 0xEE.

    Nothing is verified: use it only for best-effort decisions such as whom to NAK.
    """
    raw = bytes(buf)
    if len(raw) < HEADER_LENGTH or raw[0] != STP:
        return None
    return Header(int.from_bytes(raw[1:3], "big"), int.from_bytes(raw[3:5], "big"), raw[5], raw[6])


def decode_frame(buf: bytes | bytearray | memoryview) -> Frame:
    """Decode exactly one frame; raises `RemoteProtocolError` for any malformed, truncated, padded or
    corrupted input (bad start byte, length mismatch, bad CRC, reserved bits or addresses, bad kind)."""
    raw = bytes(buf)
    if len(raw) < FRAME_OVERHEAD:
        raise RemoteProtocolError(f"HAN frame of {len(raw)} bytes is shorter than {FRAME_OVERHEAD}")
    if raw[0] != STP:
        raise RemoteProtocolError(f"HAN frame starts with 0x{raw[0]:02X}, not 0x{STP:02X}")
    length = raw[7]
    total = FRAME_OVERHEAD + length
    if len(raw) != total:
        what = "truncated" if len(raw) < total else "trailing bytes after"
        raise RemoteProtocolError(f"{what} HAN frame: {len(raw)} bytes for a {total}-byte frame")
    got = int.from_bytes(raw[-2:], "little")
    want = crc16(raw[:-2])
    if got != want:
        raise RemoteProtocolError(f"HAN frame CRC 0x{got:04X}, computed 0x{want:04X}")
    ctrl = raw[5]
    if ctrl & CTRL_RESERVED_MASK:
        raise RemoteProtocolError(f"HAN frame ctrl 0x{ctrl:02X} has reserved bits set")
    kind_value = ctrl >> CTRL_KIND_SHIFT
    if kind_value not in (k.value for k in FrameKind):
        raise RemoteProtocolError(f"HAN frame kind {kind_value} is not DATA, ACK or NAK")
    kind = FrameKind(kind_value)
    flags = ctrl & (CTRL_ACK_REQUEST | CTRL_FIRST | CTRL_LAST)
    if kind is not FrameKind.DATA and (flags or length):
        raise RemoteProtocolError(f"HAN {kind.name} frame with DATA flags or a payload")
    dst = int.from_bytes(raw[1:3], "big")
    src = int.from_bytes(raw[3:5], "big")
    for name, value in (("dst", dst), ("src", src)):
        if not MIN_ADDRESS <= value <= MAX_ADDRESS:
            raise RemoteProtocolError(f"HAN frame {name} address 0x{value:04X} is reserved")
    return Frame(
        kind,
        dst,
        src,
        raw[6],
        raw[HEADER_LENGTH:-2],
        ack_request=bool(ctrl & CTRL_ACK_REQUEST),
        first=bool(ctrl & CTRL_FIRST),
        last=bool(ctrl & CTRL_LAST),
    )
