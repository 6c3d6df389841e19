"""C12.22 APDU segmentation and reassembly (sans-IO).

A node splits an APDU (a whole C12.22 message ``60 L <elements>``, security already applied) that is
larger than the transport allows into segments, and the receiver puts them back together. Each segment
is itself a C12.22 message, so relays route it by its called AP title like any other::

    60 L                                   [APPLICATION 0], length of everything below
      [A1 L 06 L <context OID>]            application context  } copied verbatim from the APDU
      [A2 L <called AP title>]             called AP title      } (each when the APDU has one)
       A3 L 02 L <apdu-size>               called AE qualifier: octets of the whole APDU, tag+length
                                           included. Its presence marks the message as a segment.
      [A6 L <calling AP title>]            calling AP title     } copied verbatim
      [A7 L 02 L <qualifier>]              calling AE qualifier }
       A8 L 02 L <apdu-seq>                calling AP invocation id: the APDU's sequence number
       BE L 28 L 02 L <segment-byte-offset> 81 L <segment octets>
                                           user information (EXTERNAL): the indirect reference holds
                                           where the octets go, the octet string holds APDU[offset:end]

INTEGERs are read unsigned (1..16 octets), as in `openami.c1222.acse`, and written shortest
two's-complement. A segment never carries A4, 8B or AC: those stay inside the APDU's own octets.

Source: the only public C12.22 segmenter we found, Itron's CDDL C12.22 stack (release 0.1c, 2009;
mirrored as GitHub ``timyardley/c1222``, ``stack/c1222al_segmenter.c`` and ``stack/acsemsg.c``), which
implements the January 2008 draft of C12.22: A3 holds the full length, A8 the sequence, the BE
indirect reference the byte offset; A1, A2, A6, A7, A8 are copied from the full message; a message
with A3 must not have A4, 8B or AC; segments are keyed by calling AP title and A8, may arrive in any
order, overlap and repeat. Wireshark's dissector and INL's icsnpp-c1222 parser do not reassemble.
The published standard (ANSI C12.22-2008 / IEEE 1703-2012) is not public and may differ; every
choice is listed in ``docs/c1222-segmentation.md``.

Choices made here:

- An APDU that fits ``max_size`` and is a well-formed ``60 L <TLVs>`` message without A3 is sent
  whole (the receiver tells it from a segment by the missing A3). Anything else (an opaque byte
  string, or a message that itself has an A3) is always framed, even as a single segment.
- Reassembly is keyed by ``(peer, calling AP title TLV, apdu-seq)``; every segment of one APDU must
  agree on the APDU size and on A1, A2 and A7, and overlapping octets must be equal. A refused
  segment (`SegmentationError`, answered with ``sgerr``) also discards its partial APDU.
- A partial APDU lives ``timeout`` seconds from its first segment; at most ``max_pending`` are held in
  total (the one started first is dropped for a new one). Memory: 2 × ``apdu_size`` octets each.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

from openami.c1222.ber import encode_integer, encode_length, encode_tlv, read_tlv
from openami.c1222.codes import ResponseCode
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "SEGMENT_TAG",
    "ApduTooLarge",
    "InconsistentSegment",
    "PartialApdu",
    "Reassembler",
    "ReassemblyCounters",
    "Segment",
    "SegmentationError",
    "SegmentationNotPossible",
    "decode_segment",
    "is_segment",
    "min_segment_size",
    "segment",
]

APDU_TAG = 0x60
SEGMENT_TAG = 0xA3
"""Called AE qualifier: present (holding the APDU size) in segments only."""

_SEQ_TAG = 0xA8
_INFO_TAG = 0xBE
_COPIED = (0xA1, 0xA2, 0xA6, 0xA7)
"""Elements copied from the APDU into every segment: context, called, calling, AE qualifier."""
_ORDER = (0xA1, 0xA2, SEGMENT_TAG, 0xA6, 0xA7, _SEQ_TAG, _INFO_TAG)
"""The only elements a segment may carry, in this order."""
_MAX_UINT = (1 << 127) - 1
"""Largest value written as a 16-octet INTEGER."""

Buf = bytes | bytearray | memoryview


class SegmentationError(RemoteProtocolError):
    """A segment the peer sent is malformed or inconsistent; answer with `code` (``sgerr``)."""

    code: ResponseCode = ResponseCode.SGERR


class InconsistentSegment(SegmentationError):
    """A segment contradicts earlier ones of its APDU (size, header elements or overlapping octets)."""


class ApduTooLarge(SegmentationError):
    """The APDU announced (or received whole) exceeds ``max_apdu_size`` octets."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"APDU of {size} octets exceeds the {limit}-octet limit")
        self.size = size
        self.limit = limit


class SegmentationNotPossible(LocalProtocolError):
    """`segment` cannot meet ``max_size`` (not even one APDU octet per segment): answer ``sgnp``."""

    code: ResponseCode = ResponseCode.SGNP


# ------------------------------------------------------------------------------------------ helpers


def _elements(message: Buf) -> list[tuple[int, int, int, int]]:
    """``message`` must be exactly one ``60 L`` TLV whose content is a run of TLVs; returns
    ``(tag, tlv_start, value_start, value_end)`` per element. Raises `RemoteProtocolError`."""
    if len(message) == 0 or message[0] != APDU_TAG:
        got = f"0x{message[0]:02X}" if len(message) else "nothing"
        raise RemoteProtocolError(f"C12.22 message must start with 0x60, got {got}")
    _, pos, end = read_tlv(message, 0)
    if end != len(message):
        raise RemoteProtocolError(f"{len(message) - end} octets after the C12.22 message")
    out: list[tuple[int, int, int, int]] = []
    while pos < end:
        tag, start, stop = read_tlv(message, pos)
        out.append((tag, pos, start, stop))
        pos = stop
    return out


def _only(content: bytes, tag: int, what: str) -> bytes:
    """``content`` must be exactly one TLV with ``tag``; returns its value."""
    if not content or content[0] != tag:
        raise SegmentationError(f"{what}: expected tag 0x{tag:02X}")
    _, start, end = read_tlv(content, 0)
    if end != len(content):
        raise SegmentationError(f"{what}: {len(content) - end} unexpected octets after the value")
    return content[start:end]


def _uint(content: bytes, what: str) -> int:
    if not 1 <= len(content) <= 16:
        raise SegmentationError(f"{what}: INTEGER of {len(content)} octets (1..16)")
    return int.from_bytes(content, "big")


def _int_tlv(tag: int, value: int) -> bytes:
    return encode_tlv(tag, encode_tlv(0x02, encode_integer(value)))


def _check_uint(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_UINT:
        raise LocalProtocolError(f"{name} must be an int in 0..2**127-1, got {value!r}")


# ------------------------------------------------------------------------------------------ segment


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One segment: ``data`` = APDU[offset : offset + len(data)] of an APDU of ``apdu_size`` octets.

    ``context``, ``called``, ``calling`` and ``qualifier`` are the A1, A2, A6 and A7 TLVs (tag and
    length included) exactly as in the APDU, or None. A decoded segment re-encodes to its received
    octets; a built one is encoded with shortest BER lengths (see the module docstring's layout).
    """

    apdu_seq: int
    apdu_size: int
    offset: int
    data: bytes
    context: bytes | None = None
    called: bytes | None = None
    calling: bytes | None = None
    qualifier: bytes | None = None
    _wire: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("apdu_seq", "apdu_size", "offset"):
            _check_uint(name, getattr(self, name))
        if not isinstance(self.data, bytes):
            raise LocalProtocolError(f"segment data must be bytes, got {type(self.data).__name__}")
        for name, tag in zip(("context", "called", "calling", "qualifier"), _COPIED, strict=True):
            tlv = getattr(self, name)
            if tlv is None:
                continue
            if not isinstance(tlv, bytes) or not tlv or tlv[0] != tag:
                raise LocalProtocolError(f"{name} must be one TLV with tag 0x{tag:02X}, got {tlv!r}")
            try:
                _, _, end = read_tlv(tlv, 0)
            except RemoteProtocolError as exc:
                raise LocalProtocolError(f"{name}: {exc}") from None
            if end != len(tlv):
                raise LocalProtocolError(f"{name}: {len(tlv) - end} octets after the TLV")
        if self.offset + len(self.data) > self.apdu_size:
            raise LocalProtocolError(
                f"segment octets {self.offset}..{self.end} run past the {self.apdu_size}-octet APDU"
            )
        if not self.data and self.apdu_size:
            raise LocalProtocolError("an empty segment is only allowed for an empty APDU")

    @property
    def end(self) -> int:
        """Offset just after the last octet this segment carries."""
        return self.offset + len(self.data)

    @property
    def complete(self) -> bool:
        """True if this one segment carries the whole APDU."""
        return self.offset == 0 and len(self.data) == self.apdu_size

    def encode(self) -> bytes:
        """The segment as a C12.22 message (the received octets for a decoded one)."""
        if self._wire is not None:
            return self._wire
        copied = {0xA1: self.context, 0xA2: self.called, 0xA6: self.calling, 0xA7: self.qualifier}
        return _frame(_prefix(copied, self.apdu_size, self.apdu_seq), self.offset, self.data)

    @classmethod
    def decode(cls, message: Buf) -> Segment:
        """Same as `decode_segment`."""
        return decode_segment(message)


def _prefix(copied: dict[int, bytes | None], apdu_size: int, apdu_seq: int) -> bytes:
    """A1, A2 (copied), A3 (size), A6, A7 (copied), A8 (sequence), in tag order."""
    parts = [copied.get(0xA1), copied.get(0xA2), _int_tlv(SEGMENT_TAG, apdu_size)]
    parts += [copied.get(0xA6), copied.get(0xA7), _int_tlv(_SEQ_TAG, apdu_seq)]
    return b"".join(p for p in parts if p is not None)


def _frame(prefix: bytes, offset: int, octets: bytes) -> bytes:
    """``60 L <prefix> BE L 28 L 02 L <offset> 81 L <octets>``."""
    external = encode_tlv(0x02, encode_integer(offset)) + encode_tlv(0x81, octets)
    return encode_tlv(APDU_TAG, prefix + encode_tlv(_INFO_TAG, encode_tlv(0x28, external)))


def is_segment(message: Buf) -> bool:
    """True if ``message`` (one whole C12.22 message) is a segment, i.e. has an A3 element.

    Raises `RemoteProtocolError` if it is not a well-formed ``60 L <TLVs>`` message.
    """
    return any(tag == SEGMENT_TAG for tag, *_ in _elements(message))


def decode_segment(message: Buf) -> Segment:
    """Decode one segment (see the module docstring for the layout).

    Raises `RemoteProtocolError` if ``message`` is not a well-formed ``60 L <TLVs>`` message or has no
    A3 (not a segment), `SegmentationError` if it is a segment that breaks the layout.
    """
    data = bytes(message)
    elements = _elements(data)
    if not any(tag == SEGMENT_TAG for tag, *_ in elements):
        raise RemoteProtocolError("not a segment: the message has no A3 (called AE qualifier) element")
    return _segment_from(data, elements)


def _segment_from(data: bytes, elements: list[tuple[int, int, int, int]]) -> Segment:
    """The segment in ``data`` (whose top-level ``elements`` include A3); every fault is a
    `SegmentationError`."""
    try:
        return _segment_fields(data, elements)
    except SegmentationError:
        raise
    except RemoteProtocolError as exc:  # BER faults inside an element
        raise SegmentationError(str(exc)) from None


def _segment_fields(data: bytes, elements: list[tuple[int, int, int, int]]) -> Segment:
    fields: dict[int, bytes] = {}
    last = -1
    for tag, tlv_start, start, end in elements:
        if tag not in _ORDER:
            raise SegmentationError(f"element 0x{tag:02X} is not allowed in a segment")
        rank = _ORDER.index(tag)
        if rank <= last:
            raise SegmentationError(f"segment element 0x{tag:02X} repeated or out of order")
        last = rank
        fields[tag] = data[tlv_start:end] if tag in _COPIED else data[start:end]
    if _SEQ_TAG not in fields or _INFO_TAG not in fields:
        raise SegmentationError("a segment needs A8 (APDU sequence) and BE (segment octets)")
    size = _uint(_only(fields[SEGMENT_TAG], 0x02, "A3 APDU size"), "A3 APDU size")
    seq = _uint(_only(fields[_SEQ_TAG], 0x02, "A8 APDU sequence"), "A8 APDU sequence")
    external = _only(fields[_INFO_TAG], 0x28, "BE user information")
    if external[:1] != b"\x02":
        raise SegmentationError("BE user information: a segment needs the 02 L <offset> reference")
    _, start, end = read_tlv(external, 0)
    offset = _uint(external[start:end], "segment byte offset")
    octets = _only(external[end:], 0x81, "BE segment octets")
    try:
        seg = Segment(
            apdu_seq=seq,
            apdu_size=size,
            offset=offset,
            data=octets,
            context=fields.get(0xA1),
            called=fields.get(0xA2),
            calling=fields.get(0xA6),
            qualifier=fields.get(0xA7),
        )
    except LocalProtocolError as exc:
        raise SegmentationError(str(exc)) from None
    object.__setattr__(seg, "_wire", data)
    return seg


# ------------------------------------------------------------------------------------------ sending


def _copied_elements(apdu: bytes) -> tuple[dict[int, bytes | None], bool] | None:
    """The A1, A2, A6, A7 TLVs (first of each) of ``apdu`` and whether it may be sent whole; None
    if ``apdu`` is not a well-formed ``60 L <TLVs>`` message (then it is opaque to us)."""
    try:
        elements = _elements(apdu)
    except RemoteProtocolError:
        return None
    copied: dict[int, bytes | None] = {}
    for tag, tlv_start, _, end in elements:
        if tag in _COPIED and tag not in copied:
            copied[tag] = apdu[tlv_start:end]
    return copied, all(tag != SEGMENT_TAG for tag, *_ in elements)


def _framed_size(prefix: int, offset: int, n: int) -> int:
    """Octets of a segment whose header elements take ``prefix`` octets and that carries ``n`` octets."""
    external = 2 + len(encode_integer(offset)) + 1 + len(encode_length(n)) + n
    info = 1 + len(encode_length(external)) + external
    body = prefix + 1 + len(encode_length(info)) + info
    return 1 + len(encode_length(body)) + body


def _check_seq(apdu_seq: int) -> None:
    _check_uint("apdu_seq", apdu_seq)


def min_segment_size(apdu: Buf, *, apdu_seq: int) -> int:
    """The smallest ``max_size`` for which `segment` succeeds on ``apdu`` (octets per message)."""
    _check_seq(apdu_seq)
    data = bytes(apdu)
    parsed = _copied_elements(data)
    copied = parsed[0] if parsed else {}
    prefix = len(_prefix(copied, len(data), apdu_seq))
    framed = _framed_size(prefix, max(len(data) - 1, 0), 1 if data else 0)
    return min(framed, len(data)) if parsed and parsed[1] else framed


def segment(apdu: Buf, max_size: int, *, apdu_seq: int) -> list[bytes]:
    """Split ``apdu`` (one whole C12.22 message) into messages of at most ``max_size`` octets each.

    Returns ``[apdu]`` unchanged if it fits and is a message without A3; otherwise segments in APDU
    order, each carrying as many octets as fit. ``apdu_seq`` goes into every segment's A8: use the
    APDU's own calling AP invocation id (the reference implementation copies it), unique per peer
    among APDUs in flight. Raises `SegmentationNotPossible` (answer ``sgnp``) if ``max_size`` is
    below `min_segment_size`, `LocalProtocolError` for a bad ``apdu_seq``.
    """
    _check_seq(apdu_seq)
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise LocalProtocolError(f"max_size must be a positive int, got {max_size!r}")
    data = bytes(apdu)
    parsed = _copied_elements(data)
    if parsed is not None and parsed[1] and len(data) <= max_size:
        return [data]
    copied = parsed[0] if parsed else {}
    header = _prefix(copied, len(data), apdu_seq)
    if not data:  # an empty APDU: one segment carrying no octet
        if _framed_size(len(header), 0, 0) > max_size:
            raise SegmentationNotPossible(f"max_size {max_size} is below the {len(header)}-octet segment header")
        return [_frame(header, 0, b"")]
    out: list[bytes] = []
    offset = 0
    while offset < len(data):
        n = min(len(data) - offset, max_size - _framed_size(len(header), offset, 0))
        while n > 0 and _framed_size(len(header), offset, n) > max_size:
            n -= 1
        if n <= 0:
            need = min_segment_size(data, apdu_seq=apdu_seq)
            raise SegmentationNotPossible(f"max_size {max_size} cannot carry this APDU: at least {need} needed")
        out.append(_frame(header, offset, data[offset : offset + n]))
        offset += n
    return out


# ------------------------------------------------------------------------------------------ receiving


@dataclass
class ReassemblyCounters:
    """What a `Reassembler` has seen (counts of messages, segments or partial APDUs)."""

    segments: int = 0
    """Segments accepted (new octets or duplicates)."""
    duplicates: int = 0
    """Accepted segments that carried no octet not already held."""
    unsegmented: int = 0
    """Whole (unsegmented) messages passed through."""
    completed: int = 0
    """APDUs reassembled and returned."""
    refused: int = 0
    """Messages refused with a `ProtocolError` (segments answered with ``sgerr``, malformed messages)."""
    aborted: int = 0
    """Partial APDUs discarded because one of their segments was refused."""
    dropped: int = 0
    """Partial APDUs dropped to keep at most ``max_pending``."""
    expired: int = 0
    """Partial APDUs dropped by `Reassembler.handle_timer` after ``timeout`` seconds."""


@dataclass(frozen=True)
class PartialApdu:
    """A partial APDU as reported when it expires: who sent it and how far it got."""

    peer: Hashable
    calling: bytes | None
    """Calling AP title TLV (A6) of its segments, or None."""
    apdu_seq: int
    apdu_size: int
    received: int
    """Distinct APDU octets received (< ``apdu_size``)."""
    started: float
    """``now`` of its first segment (seconds)."""


_Key = tuple[Hashable, bytes | None, int]


class _Partial:
    __slots__ = ("buf", "deadline", "header", "mask", "missing", "started")

    def __init__(self, seg: Segment, now: float, deadline: float) -> None:
        self.header = (seg.context, seg.called, seg.qualifier)
        self.buf = bytearray(seg.apdu_size)
        self.mask = bytearray(seg.apdu_size)  # 1 where the octet has been received
        self.missing = seg.apdu_size
        self.started = now
        self.deadline = deadline

    def add(self, seg: Segment) -> int:
        """Store ``seg``'s octets; returns how many were new. Raises `InconsistentSegment` if an
        octet already held differs."""
        lo, hi = seg.offset, seg.end
        pos = self.mask.find(1, lo, hi)
        while pos != -1:  # compare every run of octets already held
            stop = self.mask.find(0, pos, hi)
            stop = hi if stop == -1 else stop
            if self.buf[pos:stop] != seg.data[pos - lo : stop - lo]:
                raise InconsistentSegment(f"segment octets {pos}..{stop} differ from those already received")
            pos = self.mask.find(1, stop, hi) if stop < hi else -1
        new = self.mask.count(0, lo, hi)
        self.buf[lo:hi] = seg.data
        self.mask[lo:hi] = b"\x01" * (hi - lo)
        self.missing -= new
        return new


class Reassembler:
    """Sans-IO reassembly of segmented APDUs from many peers.

    Feed every C12.22 message received to `receive` (``peer`` is the sender's transport address, any
    hashable; ``now`` in seconds). Whole messages come straight back; segments come back as the
    reassembled APDU when the last missing octet arrives. Call `handle_timer` when ``now`` reaches
    `next_timer`. Holds at most ``max_pending`` partial APDUs of at most ``max_apdu_size`` octets
    (2 octets of memory per APDU octet).
    """

    def __init__(self, max_apdu_size: int, max_pending: int, timeout: float) -> None:
        for name, value in (("max_apdu_size", max_apdu_size), ("max_pending", max_pending)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LocalProtocolError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(timeout, int | float) or not math.isfinite(timeout) or timeout <= 0:
            raise LocalProtocolError(f"timeout must be a positive finite number of seconds, got {timeout!r}")
        self.max_apdu_size = max_apdu_size
        self.max_pending = max_pending
        self.timeout = float(timeout)
        self.counters = ReassemblyCounters()
        self._partials: dict[_Key, _Partial] = {}  # in the order they were started

    @property
    def pending(self) -> int:
        """Partial APDUs held."""
        return len(self._partials)

    def receive(self, segment: Buf, peer: Hashable, now: float) -> bytes | None:
        """Take one whole message from ``peer``; return a complete APDU, or None while one is partial.

        Raises `SegmentationError` (answer with its ``code``, ``sgerr``) for a segment that breaks the
        layout, contradicts earlier segments (`InconsistentSegment`, which also discards the partial
        APDU) or announces more than ``max_apdu_size`` octets (`ApduTooLarge`, also for a whole
        message that large); `RemoteProtocolError` if the octets are not a C12.22 message at all.
        """
        try:
            return self._receive(bytes(segment), peer, float(now))
        except ProtocolError:
            self.counters.refused += 1
            raise

    def _receive(self, message: bytes, peer: Hashable, now: float) -> bytes | None:
        elements = _elements(message)
        if all(tag != SEGMENT_TAG for tag, *_ in elements):
            if len(message) > self.max_apdu_size:
                raise ApduTooLarge(len(message), self.max_apdu_size)
            self.counters.unsegmented += 1
            return message
        seg = _segment_from(message, elements)
        if seg.apdu_size > self.max_apdu_size:
            raise ApduTooLarge(seg.apdu_size, self.max_apdu_size)
        key: _Key = (peer, seg.calling, seg.apdu_seq)
        partial = self._partials.get(key)
        if partial is None:
            if seg.complete:
                self.counters.segments += 1
                self.counters.completed += 1
                return seg.data
            if len(self._partials) >= self.max_pending:
                del self._partials[next(iter(self._partials))]
                self.counters.dropped += 1
            partial = self._partials[key] = _Partial(seg, now, now + self.timeout)
        else:
            try:
                if len(partial.buf) != seg.apdu_size:
                    raise InconsistentSegment(f"APDU size changed from {len(partial.buf)} to {seg.apdu_size}")
                if partial.header != (seg.context, seg.called, seg.qualifier):
                    raise InconsistentSegment("A1, A2 or A7 differ from the APDU's earlier segments")
            except InconsistentSegment:
                self._abort(key)
                raise
        try:
            new = partial.add(seg)
        except InconsistentSegment:
            self._abort(key)
            raise
        self.counters.segments += 1
        if new == 0:
            self.counters.duplicates += 1
        if partial.missing:
            return None
        del self._partials[key]
        self.counters.completed += 1
        return bytes(partial.buf)

    def _abort(self, key: _Key) -> None:
        del self._partials[key]
        self.counters.aborted += 1

    def next_timer(self) -> float | None:
        """When `handle_timer` should next be called (the earliest deadline), or None if idle."""
        return min((p.deadline for p in self._partials.values()), default=None)

    def handle_timer(self, now: float) -> list[PartialApdu]:
        """Drop every partial APDU whose first segment is ``timeout`` seconds old or more at ``now``."""
        expired = [key for key, p in self._partials.items() if p.deadline <= now]
        out = [self._info(key, self._partials.pop(key)) for key in expired]
        self.counters.expired += len(out)
        return out

    def discard(self, peer: Hashable) -> list[PartialApdu]:
        """Forget every partial APDU from ``peer`` (its connection closed); returns them."""
        keys = [key for key in self._partials if key[0] == peer]
        return [self._info(key, self._partials.pop(key)) for key in keys]

    def partials(self) -> list[PartialApdu]:
        """The partial APDUs held, oldest first."""
        return [self._info(key, p) for key, p in self._partials.items()]

    @staticmethod
    def _info(key: _Key, p: _Partial) -> PartialApdu:
        return PartialApdu(key[0], key[1], key[2], len(p.buf), len(p.buf) - p.missing, p.started)
