"""From frames to C12.22 APDUs: TCP stream reassembly per direction, then `MessageSplitter` (sans-IO).

TCP (c12-protocol-facts.md §1: no framing beyond the APDU's own tag and length): each direction of a
connection is put back in sequence order before it is cut into APDUs. Sequence numbers are taken
modulo 2**32 relative to the next expected byte, so streams may wrap. The stream starts after the SYN
when the capture holds it, else at the first segment seen. Retransmitted bytes (already delivered) are
dropped, overlapping segments trimmed (the first copy wins), early segments held until the gap before
them is filled. A gap never filled (a segment the capture missed) is reported as a note at the end
and skipped: the partial APDU before it is dropped and cutting restarts at the next held segment
that starts with the APDU tag (see `TcpStream.finish`). Bytes that cannot start an APDU stop that
direction (a note says where). A new SYN ends the direction's stream (as at the end of the capture)
and starts a new one.

UDP: one APDU per datagram (the payload as it is; it is not checked here).

Only flows with a port in ``ports`` (default 1153) are read; ``ports=None`` reads every TCP/UDP flow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from openami.c1222.framing import MessageSplitter
from openami.capture.files import read_frames
from openami.capture.packets import TCP_SYN, Packet, PacketError, parse_packet
from openami.capture.types import C1222_PORT, Endpoint, LinkType, Record
from openami.errors import RemoteProtocolError

__all__ = ["Capture", "TcpStream", "iter_records", "read_capture"]

_MASK = 0xFFFFFFFF


def _signed32(value: int) -> int:
    value &= _MASK
    return value - (1 << 32) if value >= 1 << 31 else value


class TcpStream:
    """One direction of a TCP connection: segments in any order in, APDUs in stream order out.

    `segment` returns the APDUs completed by a segment; `finish` those completed by skipping the gaps
    that remain at the end of the capture. `notes` collects what went wrong (gaps, bad bytes).
    """

    def __init__(self, name: str = "tcp stream", max_apdu: int = 0x10000) -> None:
        self.name = name
        self.notes: list[str] = []
        self._max_apdu = max_apdu
        self._splitter = MessageSplitter(max_apdu)
        self._base: int | None = None  # sequence number of stream offset 0
        self._next = 0  # stream offset of the next byte to deliver
        self._pending: dict[int, bytes] = {}  # stream offset -> bytes held after a gap
        self._broken = False

    def syn(self, seq: int) -> list[bytes]:
        """A SYN with sequence number ``seq``: the stream (re)starts at ``seq + 1``. Returns the APDUs
        that ending the previous stream completes (see `finish`)."""
        if self._base == (seq + 1) & _MASK:
            return []  # the same SYN again (retransmitted)
        out: list[bytes] = []
        if self._base is not None and (self._next or self._pending):
            out = self.finish()
            self.notes.append(f"{self.name}: new SYN at stream offset {self._next}, a new stream starts")
        self._base = (seq + 1) & _MASK
        self._next = 0
        self._pending.clear()
        self._splitter = MessageSplitter(self._max_apdu)
        self._broken = False
        return out

    def segment(self, seq: int, data: bytes) -> list[bytes]:
        """Add the payload ``data`` of a segment with sequence number ``seq``."""
        if not data:
            return []
        if self._base is None:
            self._base = seq & _MASK
        offset = self._next + _signed32(seq - self._base - self._next)
        end = offset + len(data)
        if end <= self._next:
            return []  # retransmission of delivered bytes
        if offset > self._next:
            held = self._pending.get(offset)
            if held is None or len(held) < len(data):
                self._pending[offset] = data
            return []
        out = self._deliver(data[self._next - offset :])
        return out + self._drain()

    def _drain(self) -> list[bytes]:
        out: list[bytes] = []
        while self._pending:
            start = min(self._pending)
            if start > self._next:
                break
            data = self._pending.pop(start)
            if start + len(data) > self._next:
                out += self._deliver(data[self._next - start :])
        return out

    def _deliver(self, data: bytes) -> list[bytes]:
        offset = self._next
        self._next += len(data)
        if self._broken:
            return []
        out: list[bytes] = []
        chunk = data
        while True:
            try:
                got = self._splitter.feed(chunk)
            except RemoteProtocolError as exc:
                at = offset + len(data) - self._splitter.buffered
                self.notes.append(f"{self.name}: stream offset {at}: {exc}; rest of this direction ignored")
                self._broken = True
                return out
            out += got
            if not got:
                return out
            chunk = b""

    def finish(self) -> list[bytes]:
        """End of the stream: skip unfilled gaps (noted), deliver what follows; note a partial APDU left.

        After a gap, cutting resumes at the first held segment that starts with the APDU tag 0x60
        (senders start an APDU in a new segment); the bytes before it are dropped with a note.
        """
        out: list[bytes] = []
        while self._pending:
            first = min(self._pending)
            self.notes.append(f"{self.name}: {first - self._next} bytes missing at stream offset {self._next}")
            if self._splitter.buffered and not self._broken:
                self.notes.append(f"{self.name}: partial APDU of {self._splitter.buffered} bytes dropped at the gap")
            resume = min((at for at, data in self._pending.items() if data[:1] == b"\x60"), default=None)
            if resume is None:
                held = sum(len(data) for data in self._pending.values())
                self.notes.append(f"{self.name}: {held} bytes after the gap start no APDU, dropped")
                self._pending.clear()
                self._broken = True
                break
            if resume > first:
                self.notes.append(f"{self.name}: bytes {first}..{resume} after the gap start no APDU, dropped")
            self._splitter = MessageSplitter(self._max_apdu)
            self._broken = False
            self._next = resume
            out += self._drain()
        if self._splitter.buffered and not self._broken:
            self.notes.append(f"{self.name}: stream ends inside an APDU ({self._splitter.buffered} bytes)")
        return out


@dataclass(slots=True)
class Capture:
    """What `read_capture` found: the APDUs in the order they completed, and notes on what it skipped."""

    records: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    frames: int = 0


def _wanted(packet: Packet, ports: frozenset[int] | None) -> bool:
    return ports is None or packet.src.port in ports or packet.dst.port in ports


def read_capture(
    data: bytes | bytearray | memoryview,
    *,
    ports: Collection[int] | None = (C1222_PORT,),
    max_apdu: int = 0x10000,
) -> Capture:
    """Every C12.22 APDU of a pcap/pcapng capture (see the module doc).

    Raises `CaptureError` (a `ProtocolError`) if the file is malformed; frames that cannot be read
    (cut short, fragments, unknown link types) are skipped with a note in `Capture.notes`.
    """
    wanted = None if ports is None else frozenset(ports)
    result = Capture()
    streams: dict[tuple[Endpoint, Endpoint], TcpStream] = {}
    last_frame: dict[tuple[Endpoint, Endpoint], tuple[int, float | None]] = {}
    unknown_links: set[int] = set()
    finished: list[tuple[int, int, Record]] = []  # (frame, position, record) to sort at the end
    for frame in read_frames(data):
        result.frames += 1
        if frame.linktype not in LinkType._value2member_map_:
            if frame.linktype not in unknown_links:
                unknown_links.add(frame.linktype)
                result.notes.append(f"frame {frame.number}: link type {frame.linktype} not supported, skipped")
            continue
        try:
            packet = parse_packet(frame.linktype, frame.data)
        except PacketError as exc:
            result.notes.append(f"frame {frame.number}: {exc}")
            continue
        if packet is None or not _wanted(packet, wanted):
            continue
        key = (packet.src, packet.dst)
        if packet.truncated:
            result.notes.append(f"frame {frame.number}: {packet.transport} payload cut by the snap length, skipped")
            continue
        if packet.transport == "udp":
            if packet.payload:
                record = Record(frame.timestamp, packet.src, packet.dst, "udp", packet.payload, frame.number)
                finished.append((frame.number, len(finished), record))
            continue
        stream = streams.get(key)
        if stream is None:
            stream = streams[key] = TcpStream(f"tcp {packet.src} → {packet.dst}", max_apdu)
        if packet.flags & TCP_SYN:
            apdus = stream.syn(packet.seq)
            apdus += stream.segment((packet.seq + 1) & _MASK, packet.payload)
        else:
            apdus = stream.segment(packet.seq, packet.payload)
        last_frame[key] = (frame.number, frame.timestamp)
        for apdu in apdus:
            record = Record(frame.timestamp, packet.src, packet.dst, "tcp", apdu, frame.number)
            finished.append((frame.number, len(finished), record))
    for key, stream in streams.items():
        number, stamp = last_frame[key]
        for apdu in stream.finish():
            finished.append((number, len(finished), Record(stamp, key[0], key[1], "tcp", apdu, number)))
        result.notes += stream.notes
    result.records = [record for _, _, record in sorted(finished)]
    return result


def iter_records(
    data: bytes | bytearray | memoryview, *, ports: Collection[int] | None = (C1222_PORT,)
) -> Iterator[Record]:
    """The records of `read_capture` (notes dropped)."""
    yield from read_capture(data, ports=ports).records
