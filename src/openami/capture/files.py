"""Capture containers: classic pcap and pcapng, bytes in, link-layer frames out (sans-IO).

Classic pcap (tcpdump.org "PCAP Capture File Format"): a 24-byte header ``magic:4 major:2 minor:2
thiszone:4 sigfigs:4 snaplen:4 linktype:4`` then records ``ts_sec:4 ts_frac:4 incl_len:4 orig_len:4
<incl_len bytes>``. The magic ``A1B2C3D4`` (fraction in µs) or ``A1B23C4D`` (fraction in ns), read in
either byte order, gives the byte order of every other field. The link type is the low 16 bits of the
last header field (the upper bits may carry FCS information).

pcapng (IETF draft "PCAP Next Generation Dump File Format"): blocks ``type:4 total_len:4 body
total_len:4``, total_len a multiple of 4 and at least 12. A Section Header Block (type 0A0D0D0A,
byte-order magic 1A2B3C4D, version 1.x) starts every section and resets its interfaces. Read here:
Interface Description (1: linktype:2 reserved:2 snaplen:4 options; options ``if_tsresol`` (9) and
``if_tsoffset`` (14) set the time base), Enhanced Packet (6: interface:4 ts_high:4 ts_low:4 caplen:4
origlen:4 data), Simple Packet (3: origlen:4 data, interface 0, no time stamp) and the obsolete Packet
Block (2: interface:2 drops:2 ts_high:4 ts_low:4 caplen:4 origlen:4 data). Other blocks are skipped.

Anything that breaks these layouts raises `CaptureError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from openami.capture.types import CaptureError

__all__ = ["Frame", "read_frames"]

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 10**6),
    b"\xa1\xb2\xc3\xd4": (">", 10**6),
    b"\x4d\x3c\xb2\xa1": ("<", 10**9),
    b"\xa1\xb2\x3c\x4d": (">", 10**9),
}
_SHB = 0x0A0D0D0A
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_IDB, _OPB, _SPB, _EPB = 1, 2, 3, 6
_OPT_TSRESOL, _OPT_TSOFFSET = 9, 14


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured link-layer frame.

    ``number`` is 1-based over the whole file; ``timestamp`` seconds since 1970 (None for a Simple
    Packet Block); ``data`` the captured bytes; ``original_length`` the length on the wire (bytes).
    """

    number: int
    timestamp: float | None
    linktype: int
    data: bytes
    original_length: int
    interface: int = 0


def read_frames(data: bytes | bytearray | memoryview) -> Iterator[Frame]:
    """Every frame of a classic pcap or pcapng file, in file order; `CaptureError` if malformed."""
    buf = bytes(data)
    if len(buf) < 4:
        raise CaptureError(f"not a capture file: {len(buf)} bytes, too short for a magic number")
    if buf[:4] in _PCAP_MAGIC:
        return _read_pcap(buf)
    if int.from_bytes(buf[:4], "little") == _SHB:
        return _read_pcapng(buf)
    raise CaptureError(f"bad magic {buf[:4].hex()}: neither pcap (a1b2c3d4/a1b23c4d) nor pcapng (0a0d0d0a)")


def _read_pcap(buf: bytes) -> Iterator[Frame]:
    order, per_second = _PCAP_MAGIC[buf[:4]]
    if len(buf) < 24:
        raise CaptureError(f"truncated pcap header: {len(buf)} of 24 bytes")
    major, minor, _zone, _sigfigs, _snaplen, network = struct.unpack(order + "HHiIII", buf[4:24])
    if major != 2:
        raise CaptureError(f"unsupported pcap version {major}.{minor} (expected 2.x)")
    linktype = network & 0xFFFF
    pos, number = 24, 0
    while pos < len(buf):
        number += 1
        if pos + 16 > len(buf):
            raise CaptureError(f"truncated record header of frame {number} at offset {pos}: {len(buf) - pos} of 16")
        sec, frac, incl, orig = struct.unpack(order + "IIII", buf[pos : pos + 16])
        pos += 16
        if incl > len(buf) - pos:
            raise CaptureError(f"truncated record: frame {number} announces {incl} bytes, {len(buf) - pos} left")
        yield Frame(number, sec + frac / per_second, linktype, buf[pos : pos + incl], orig)
        pos += incl


@dataclass(slots=True)
class _Interface:
    linktype: int
    snaplen: int
    per_second: int = 10**6  # time-stamp units per second (if_tsresol)
    offset: int = 0  # seconds added to every time stamp


def _options(body: bytes, order: str, where: str) -> Iterator[tuple[int, bytes]]:
    pos = 0
    while pos + 4 <= len(body):
        code, length = struct.unpack(order + "HH", body[pos : pos + 4])
        if code == 0:
            return
        end = pos + 4 + length
        if end > len(body):
            raise CaptureError(f"{where}: option {code} of {length} bytes runs past its block")
        yield code, body[pos + 4 : end]
        pos = end + (-length % 4)


def _interface(body: bytes, order: str, where: str) -> _Interface:
    if len(body) < 8:
        raise CaptureError(f"{where}: interface description body of {len(body)} bytes (at least 8)")
    linktype, _reserved, snaplen = struct.unpack(order + "HHI", body[:8])
    iface = _Interface(linktype, snaplen)
    for code, value in _options(body[8:], order, where):
        if code == _OPT_TSRESOL and len(value) == 1:
            exponent = value[0] & 0x7F
            iface.per_second = 2**exponent if value[0] & 0x80 else 10**exponent
        elif code == _OPT_TSOFFSET and len(value) == 8:
            iface.offset = struct.unpack(order + "q", value)[0]
    return iface


def _read_pcapng(buf: bytes) -> Iterator[Frame]:
    pos, number = 0, 0
    order = "<"
    interfaces: list[_Interface] = []
    while pos < len(buf):
        if pos + 12 > len(buf):
            raise CaptureError(f"truncated pcapng block at offset {pos}: {len(buf) - pos} bytes left (at least 12)")
        kind = int.from_bytes(buf[pos : pos + 4], "little" if order == "<" else "big")
        if kind == _SHB:
            if pos + 16 > len(buf):
                raise CaptureError(f"truncated section header at offset {pos}")
            magic = buf[pos + 8 : pos + 12]
            if magic == _BYTE_ORDER_MAGIC.to_bytes(4, "little"):
                order = "<"
            elif magic == _BYTE_ORDER_MAGIC.to_bytes(4, "big"):
                order = ">"
            else:
                raise CaptureError(f"section header at offset {pos}: bad byte-order magic {magic.hex()}")
            interfaces = []
        (total,) = struct.unpack(order + "I", buf[pos + 4 : pos + 8])
        where = f"pcapng block type {kind} at offset {pos}"
        if total < 12 or total % 4:
            raise CaptureError(f"{where}: total length {total} (a multiple of 4, at least 12)")
        if total > len(buf) - pos:
            raise CaptureError(f"{where}: truncated block, {total} bytes announced, {len(buf) - pos} left")
        if buf[pos + total - 4 : pos + total] != buf[pos + 4 : pos + 8]:
            raise CaptureError(f"{where}: trailing block length differs from the leading one")
        body = buf[pos + 8 : pos + total - 4]
        pos += total
        if kind == _SHB:
            if len(body) < 16:
                raise CaptureError(f"{where}: section header body of {len(body)} bytes (at least 16)")
            major, minor = struct.unpack(order + "HH", body[4:8])
            if major != 1:
                raise CaptureError(f"{where}: unsupported pcapng version {major}.{minor} (expected 1.x)")
        elif kind == _IDB:
            interfaces.append(_interface(body, order, where))
        elif kind in (_EPB, _OPB, _SPB):
            number += 1
            yield _packet(kind, body, order, interfaces, number, where)
    return


def _packet(kind: int, body: bytes, order: str, interfaces: list[_Interface], number: int, where: str) -> Frame:
    if kind == _SPB:
        if len(body) < 4:
            raise CaptureError(f"{where}: simple packet body of {len(body)} bytes (at least 4)")
        (orig,) = struct.unpack(order + "I", body[:4])
        iface = _lookup(interfaces, 0, where)
        caplen = min(orig, len(body) - 4, iface.snaplen or orig)
        return Frame(number, None, iface.linktype, body[4 : 4 + caplen], orig, 0)
    if len(body) < 20:
        raise CaptureError(f"{where}: packet body of {len(body)} bytes (at least 20)")
    if kind == _EPB:
        index, high, low, caplen, orig = struct.unpack(order + "IIIII", body[:20])
    else:
        index, _drops, high, low, caplen, orig = struct.unpack(order + "HHIIII", body[:20])
    iface = _lookup(interfaces, index, where)
    if caplen > len(body) - 20:
        raise CaptureError(f"{where}: frame {number} announces {caplen} bytes, the block holds {len(body) - 20}")
    stamp = iface.offset + ((high << 32) | low) / iface.per_second
    return Frame(number, stamp, iface.linktype, body[20 : 20 + caplen], orig, index)


def _lookup(interfaces: list[_Interface], index: int, where: str) -> _Interface:
    if index >= len(interfaces):
        raise CaptureError(f"{where}: interface {index} not described ({len(interfaces)} interfaces in the section)")
    return interfaces[index]
