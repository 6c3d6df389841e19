"""Link layer, IP and TCP/UDP headers of one captured frame (sans-IO).

Layouts (all big-endian on the wire unless said):

- Ethernet: ``dst:6 src:6 type:2``; 802.1Q / 802.1ad tags (types 8100, 88A8, 9100) add 4 bytes each.
- Linux cooked v1 (SLL): 16 bytes, protocol in bytes 14–15; v2 (SLL2): 20 bytes, protocol in 0–1.
- BSD loopback (NULL): 4-byte address family in the capturing host's byte order (2 = IPv4;
  10, 24, 28, 30 = IPv6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS); LOOP: the same, big-endian.
- Raw IP: the version nibble of the first byte says IPv4 or IPv6.
- IPv4: ``ver/ihl tos total:2 id:2 flags/frag:2 ttl proto cksum:2 src:4 dst:4 [options]``.
- IPv6: ``ver/tc/flow:4 payload:2 next hop src:16 dst:16`` then extension headers: hop-by-hop (0),
  routing (43), destination options (60), mobility (135), HIP (139), shim6 (140) as
  ``next:1 len:1`` with ``(len + 1) * 8`` bytes; fragment (44) 8 bytes; AH (51) ``(len + 2) * 4``.
- TCP: ``sport:2 dport:2 seq:4 ack:4 off/flags:2 win:2 cksum:2 urg:2 [options]``, data offset in
  32-bit words; UDP: ``sport:2 dport:2 length:2 cksum:2``.

Fragmented IP datagrams are not reassembled (C12.22 peers do not fragment in the captures we know):
a fragment raises `PacketError`, as do headers that are cut short or inconsistent. Frames that carry
something else than TCP or UDP over IP give None. Checksums are not verified (captures often hold
frames whose checksum the network card fills in later).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from openami.capture.types import Endpoint, LinkType, Transport
from openami.errors import RemoteProtocolError

__all__ = ["TCP_ACK", "TCP_FIN", "TCP_PSH", "TCP_RST", "TCP_SYN", "Packet", "PacketError", "parse_packet"]

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_ETHERTYPE_IPV4, _ETHERTYPE_IPV6 = 0x0800, 0x86DD
_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
_AF_INET, _AF_INET6 = (2,), (10, 24, 28, 30)
_PROTO_TCP, _PROTO_UDP = 6, 17
_IPV6_GENERIC_EXT = (0, 43, 60, 135, 139, 140)
_IPV6_FRAGMENT, _IPV6_AH, _IPV6_NO_NEXT = 44, 51, 59


class PacketError(RemoteProtocolError):
    """A frame whose headers are cut short or inconsistent, or an IP fragment."""


@dataclass(frozen=True, slots=True)
class Packet:
    """A TCP segment or UDP datagram.

    ``seq`` and ``flags`` are TCP's (0 for UDP). ``truncated`` is True when the capture holds fewer
    bytes than the IP datagram (snap length): ``payload`` is then only what was captured.
    """

    src: Endpoint
    dst: Endpoint
    transport: Transport
    payload: bytes
    seq: int = 0
    flags: int = 0
    truncated: bool = False


def _need(frame: bytes, end: int, what: str) -> None:
    if end > len(frame):
        raise PacketError(f"{what} cut short: {end} bytes needed, {len(frame)} captured")


def _network(linktype: int, frame: bytes) -> tuple[int, int] | None:
    """(IP version 4 or 6, offset of the IP header), or None if the frame carries no IP."""
    if linktype == LinkType.ETHERNET:
        _need(frame, 14, "Ethernet header")
        pos, ethertype = 14, int.from_bytes(frame[12:14], "big")
        while ethertype in _VLAN_TYPES:
            _need(frame, pos + 4, "VLAN tag")
            ethertype, pos = int.from_bytes(frame[pos + 2 : pos + 4], "big"), pos + 4
    elif linktype == LinkType.LINUX_SLL:
        _need(frame, 16, "Linux cooked header")
        pos, ethertype = 16, int.from_bytes(frame[14:16], "big")
    elif linktype == LinkType.LINUX_SLL2:
        _need(frame, 20, "Linux cooked v2 header")
        pos, ethertype = 20, int.from_bytes(frame[0:2], "big")
    elif linktype in (LinkType.NULL, LinkType.LOOP):
        _need(frame, 4, "loopback header")
        family = int.from_bytes(frame[:4], "big")
        if linktype == LinkType.NULL and family > 0xFFFF:  # written in little-endian host order
            family = int.from_bytes(frame[:4], "little")
        version = 4 if family in _AF_INET else 6 if family in _AF_INET6 else 0
        return (version, 4) if version else None
    elif linktype in (LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14, LinkType.IPV4, LinkType.IPV6):
        _need(frame, 1, "raw IP header")
        version = frame[0] >> 4
        return (version, 0) if version in (4, 6) else None
    else:
        return None
    if ethertype == _ETHERTYPE_IPV4:
        return 4, pos
    if ethertype == _ETHERTYPE_IPV6:
        return 6, pos
    return None


def _ipv4(frame: bytes, pos: int) -> tuple[str, str, int, int, int, bool]:
    """(src, dst, protocol, start and end of the IP payload, truncated)."""
    _need(frame, pos + 20, "IPv4 header")
    first, _tos, total, _ident, frag, _ttl, proto = struct.unpack(">BBHHHBB", frame[pos : pos + 10])
    if first >> 4 != 4:
        raise PacketError(f"IPv4 header with version {first >> 4}")
    ihl = (first & 0x0F) * 4
    if ihl < 20 or total < ihl:
        raise PacketError(f"IPv4 header length {ihl}, total length {total}")
    _need(frame, pos + ihl, "IPv4 options")
    if frag & 0x3FFF:  # more-fragments flag or a fragment offset
        raise PacketError("IPv4 fragment (fragments are not reassembled)")
    src = str(ipaddress.IPv4Address(frame[pos + 12 : pos + 16]))
    dst = str(ipaddress.IPv4Address(frame[pos + 16 : pos + 20]))
    end = pos + total
    return src, dst, proto, pos + ihl, min(end, len(frame)), end > len(frame)


def _ipv6(frame: bytes, pos: int) -> tuple[str, str, int, int, int, bool]:
    _need(frame, pos + 40, "IPv6 header")
    if frame[pos] >> 4 != 6:
        raise PacketError(f"IPv6 header with version {frame[pos] >> 4}")
    length = int.from_bytes(frame[pos + 4 : pos + 6], "big")
    proto = frame[pos + 6]
    src = ipaddress.IPv6Address(frame[pos + 8 : pos + 24]).compressed
    dst = ipaddress.IPv6Address(frame[pos + 24 : pos + 40]).compressed
    end = pos + 40 + length
    pos += 40
    while proto in (*_IPV6_GENERIC_EXT, _IPV6_FRAGMENT, _IPV6_AH):
        _need(frame, pos + 8, "IPv6 extension header")
        if proto == _IPV6_FRAGMENT:
            if int.from_bytes(frame[pos + 2 : pos + 4], "big") & 0xFFF9:  # offset or M flag set
                raise PacketError("IPv6 fragment (fragments are not reassembled)")
            size = 8
        elif proto == _IPV6_AH:
            size = (frame[pos + 1] + 2) * 4
        else:
            size = (frame[pos + 1] + 1) * 8
        proto = frame[pos]
        pos += size
        if pos > end:
            raise PacketError("IPv6 extension headers run past the payload length")
    if proto == _IPV6_NO_NEXT:
        return src, dst, proto, end, end, False
    return src, dst, proto, pos, min(end, len(frame)), end > len(frame)


def parse_packet(linktype: int, frame: bytes | bytearray | memoryview) -> Packet | None:
    """The TCP segment or UDP datagram in ``frame``, None if it carries something else.

    Raises `PacketError` for headers cut short or inconsistent and for IP fragments.
    """
    data = bytes(frame)
    found = _network(linktype, data)
    if found is None:
        return None
    version, pos = found
    src, dst, proto, start, end, truncated = _ipv4(data, pos) if version == 4 else _ipv6(data, pos)
    if proto == _PROTO_TCP:
        _need(data, start + 20, "TCP header")
        sport, dport, seq, _ack, offset_flags = struct.unpack(">HHIIH", data[start : start + 14])
        header = (offset_flags >> 12) * 4
        if header < 20 or start + header > end:
            raise PacketError(f"TCP data offset of {header} bytes")
        payload, flags = data[start + header : end], offset_flags & 0x3F
        return Packet(Endpoint(src, sport), Endpoint(dst, dport), "tcp", payload, seq, flags, truncated)
    if proto == _PROTO_UDP:
        _need(data, start + 8, "UDP header")
        sport, dport, length = struct.unpack(">HHH", data[start : start + 6])
        if length < 8 or (start + length > end and not truncated):
            raise PacketError(f"UDP length {length} does not fit the IP payload")
        stop = min(start + length, end)
        truncated = truncated and start + length > stop
        return Packet(Endpoint(src, sport), Endpoint(dst, dport), "udp", data[start + 8 : stop], 0, 0, truncated)
    return None
