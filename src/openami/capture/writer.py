"""Writing C12.22 traffic as a classic pcap: synthetic Ethernet / IPv4 or IPv6 / TCP or UDP frames.

`synthesize_frames` turns `Record` s (timestamp, src, dst, transport, APDU) into Ethernet frames:
UDP sends one datagram per APDU; TCP opens each connection with a three-way handshake (the first
sender is the client), then sends each APDU in segments of at most ``mss`` bytes (PSH on the last)
with running sequence numbers and the peer's next sequence number as acknowledgement. Initial
sequence numbers are derived from the endpoints (CRC-32), so output is deterministic. Every IPv4 header,
TCP and UDP checksum is correct (RFC 791 / 793 / 768 / 8200 one's-complement sums, IPv6 pseudo-header).
MAC addresses are locally administered ``02:…`` made from the IP address.

`PcapWriter` frames packets in a classic pcap (24-byte header, 16-byte record headers; µs or ns time
stamps; either byte order); `pcap_bytes` and `write_pcap` put the two together. Sans-IO apart from
`write_pcap`, which writes the bytes to a path or binary file.
"""

from __future__ import annotations

import ipaddress
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from openami.capture.packets import TCP_ACK, TCP_PSH, TCP_SYN
from openami.capture.types import Endpoint, LinkType, Record, Transport
from openami.errors import LocalProtocolError

__all__ = [
    "PcapWriter",
    "build_frame",
    "internet_checksum",
    "pcap_bytes",
    "synthesize_frames",
    "write_pcap",
]

_MAX_IP_PAYLOAD = 0xFFFF


def internet_checksum(data: bytes) -> int:
    """RFC 1071 one's-complement sum of 16-bit big-endian words (odd length padded with a zero byte)."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise LocalProtocolError(f"{text!r} is not an IPv4 or IPv6 address") from None


def _mac(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bytes:
    return b"\x02" + address.packed[-5:].rjust(5, b"\x00")


def _check_port(port: int) -> None:
    if not 0 <= port <= 0xFFFF:
        raise LocalProtocolError(f"port {port} out of range 0..65535")


def build_frame(
    src: Endpoint,
    dst: Endpoint,
    transport: Transport,
    payload: bytes,
    *,
    seq: int = 0,
    ack: int = 0,
    flags: int = TCP_PSH | TCP_ACK,
    ip_id: int = 0,
    window: int = 0xFFFF,
) -> bytes:
    """One Ethernet frame carrying ``payload`` in TCP (``seq``, ``ack``, ``flags``) or UDP, over IPv4
    or IPv6 as the addresses say; all checksums computed."""
    source, target = _address(src.address), _address(dst.address)
    if source.version != target.version:
        raise LocalProtocolError(f"{src} and {dst} are not of the same IP version")
    _check_port(src.port)
    _check_port(dst.port)
    limit = _MAX_IP_PAYLOAD - (20 if source.version == 4 else 0) - (20 if transport == "tcp" else 8)
    if len(payload) > limit:
        raise LocalProtocolError(f"{transport} payload of {len(payload)} bytes does not fit one IP datagram")
    if transport == "tcp":
        proto = 6
        header = struct.pack(
            ">HHIIBBHHH", src.port, dst.port, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags & 0xFF, window, 0, 0
        )
    elif transport == "udp":
        proto = 17
        header = struct.pack(">HHHH", src.port, dst.port, 8 + len(payload), 0)
    else:
        raise LocalProtocolError(f"transport must be 'tcp' or 'udp', got {transport!r}")
    segment = header + payload
    if source.version == 4:
        pseudo = source.packed + target.packed + struct.pack(">BBH", 0, proto, len(segment))
    else:
        pseudo = source.packed + target.packed + struct.pack(">IxxxB", len(segment), proto)
    checksum = internet_checksum(pseudo + segment)
    if proto == 17 and checksum == 0:
        checksum = 0xFFFF  # 0 means "no checksum" in UDP
    at = 16 if proto == 6 else 6
    segment = segment[:at] + checksum.to_bytes(2, "big") + segment[at + 2 :]
    if source.version == 4:
        ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(segment), ip_id & 0xFFFF, 0x4000, 64, proto, 0)
        ip += source.packed + target.packed
        ip = ip[:10] + internet_checksum(ip).to_bytes(2, "big") + ip[12:]
        ethertype = 0x0800
    else:
        ip = struct.pack(">IHBB", 6 << 28, len(segment), proto, 64) + source.packed + target.packed
        ethertype = 0x86DD
    return _mac(target) + _mac(source) + ethertype.to_bytes(2, "big") + ip + segment


def _isn(src: Endpoint, dst: Endpoint) -> int:
    return zlib.crc32(f"{src}>{dst}".encode())


@dataclass(slots=True)
class _Connection:
    client: Endpoint
    server: Endpoint
    next_seq: dict[Endpoint, int]


def synthesize_frames(
    records: Iterable[Record], *, mss: int = 1460, handshake: bool = True
) -> Iterator[tuple[float | None, bytes]]:
    """``(timestamp, Ethernet frame)`` for each packet carrying ``records`` (see the module doc)."""
    if not 1 <= mss <= 0xFFFF - 60:
        raise LocalProtocolError(f"mss must be 1..65475 bytes, got {mss}")
    connections: dict[frozenset[Endpoint], _Connection] = {}
    ip_id = 0

    def frame(
        stamp: float | None, src: Endpoint, dst: Endpoint, transport: Transport, payload: bytes, **tcp: int
    ) -> tuple[float | None, bytes]:
        nonlocal ip_id
        ip_id += 1
        return stamp, build_frame(src, dst, transport, payload, ip_id=ip_id, **tcp)

    for record in records:
        stamp, src, dst, transport, apdu = record.timestamp, record.src, record.dst, record.transport, record.apdu
        if transport == "udp":
            yield frame(stamp, src, dst, "udp", apdu)
            continue
        key = frozenset((src, dst))
        conn = connections.get(key)
        if conn is None:
            conn = _Connection(src, dst, {src: _isn(src, dst), dst: _isn(dst, src)})
            connections[key] = conn
            if handshake:
                c, s = conn.next_seq[src], conn.next_seq[dst]
                yield frame(stamp, src, dst, "tcp", b"", seq=c, ack=0, flags=TCP_SYN)
                yield frame(stamp, dst, src, "tcp", b"", seq=s, ack=c + 1, flags=TCP_SYN | TCP_ACK)
                yield frame(stamp, src, dst, "tcp", b"", seq=c + 1, ack=s + 1, flags=TCP_ACK)
            conn.next_seq = {ep: (seq + 1) & 0xFFFFFFFF for ep, seq in conn.next_seq.items()}
        for start in range(0, len(apdu), mss):
            piece = apdu[start : start + mss]
            last = start + mss >= len(apdu)
            seq, ack = conn.next_seq[src], conn.next_seq[dst]
            flags = TCP_ACK | (TCP_PSH if last else 0)
            yield frame(stamp, src, dst, "tcp", piece, seq=seq, ack=ack, flags=flags)
            conn.next_seq[src] = (seq + len(piece)) & 0xFFFFFFFF


class PcapWriter:
    """Classic pcap framing: `header` once, then `packet` per frame (sans-IO, returns bytes).

    Time stamps are seconds since 1970 (None → 0), written in µs or, with ``nanoseconds``, ns.
    """

    def __init__(
        self,
        *,
        linktype: int = LinkType.ETHERNET,
        nanoseconds: bool = False,
        big_endian: bool = False,
        snaplen: int = 0x40000,
    ) -> None:
        self.linktype = linktype
        self.per_second = 10**9 if nanoseconds else 10**6
        self._order = ">" if big_endian else "<"
        self.snaplen = snaplen

    def header(self) -> bytes:
        """The 24-byte file header."""
        magic = 0xA1B23C4D if self.per_second == 10**9 else 0xA1B2C3D4
        return struct.pack(self._order + "IHHiIII", magic, 2, 4, 0, 0, self.snaplen, self.linktype)

    def packet(self, timestamp: float | None, frame: bytes) -> bytes:
        """One record: 16-byte header and the frame (never cut to the snap length)."""
        stamp = 0.0 if timestamp is None else timestamp
        if not 0 <= stamp < 1 << 32:
            raise LocalProtocolError(f"time stamp {stamp} s does not fit a classic pcap (0 .. 2**32 s)")
        seconds = int(stamp)
        fraction = round((stamp - seconds) * self.per_second)
        if fraction >= self.per_second:
            seconds, fraction = seconds + 1, fraction - self.per_second
        return struct.pack(self._order + "IIII", seconds, fraction, len(frame), len(frame)) + frame


def pcap_bytes(
    records: Iterable[Record],
    *,
    mss: int = 1460,
    handshake: bool = True,
    nanoseconds: bool = False,
    big_endian: bool = False,
) -> bytes:
    """A whole classic pcap (Ethernet link type) carrying ``records``."""
    writer = PcapWriter(nanoseconds=nanoseconds, big_endian=big_endian)
    parts = [writer.header()]
    parts += [writer.packet(stamp, frame) for stamp, frame in synthesize_frames(records, mss=mss, handshake=handshake)]
    return b"".join(parts)


def write_pcap(
    target: str | os.PathLike[str] | BinaryIO,
    records: Iterable[Record],
    *,
    mss: int = 1460,
    handshake: bool = True,
    nanoseconds: bool = False,
    big_endian: bool = False,
) -> None:
    """Write `pcap_bytes` of ``records`` to a path or an open binary file."""
    data = pcap_bytes(records, mss=mss, handshake=handshake, nanoseconds=nanoseconds, big_endian=big_endian)
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as out:
            out.write(data)
    else:
        target.write(data)
