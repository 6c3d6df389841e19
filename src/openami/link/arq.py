"""Sans-IO HAN link endpoint: stop-and-wait ARQ with retries, ACK/NAK, duplicate suppression, segmentation.

One `HanEndpoint` per node. The driver passes every received frame to `HanEndpoint.receive`, calls
`HanEndpoint.handle_timer` once ``now >= next_timer()``, and puts the bytes of every `Transmit` event on the
medium in order. No clock is read: ``now`` is seconds on any monotonic origin.

Sending (per destination, one frame in flight): a message is cut into segments of at most
``ArqConfig.mtu`` payload bytes, each sent as a DATA frame with the ACK-request bit, first/last flags and
the next sequence number toward that destination (mod 256). A frame is retransmitted, unchanged, when no
ACK arrives within the retry timeout (``ack_timeout · backoff^attempt``, capped at ``max_timeout``) or at
once on a NAK; after ``max_retries`` retransmissions the message ends with `DeliveryFailed` and its
remaining segments are dropped. Every frame consumes its sequence number, delivered or not, so the next
message is never taken for a retransmission. `DeliveryFailed` means "not confirmed": the peer may have
received the message (its ACKs were lost), but — thanks to duplicate suppression — at most once.

Receiving: every DATA frame with the ACK-request bit is ACKed, duplicates included (their first ACK may
have been lost). Duplicates are recognised by (source, seq) in a window of the last ``dup_window`` sequence
numbers accepted from that source and dropped (`DuplicateDropped`), so a retried command whose ACK was lost
is handed to the application once. Segments are reassembled in order (stop-and-wait keeps them in order);
a segment without a first segment, or a new first segment before the last one, drops the partial message
(`ReassemblyError`). A frame that fails its CRC is reported (`FrameRejected`) and, when its unverified
header names us as destination and a DATA frame, NAKed to the unverified source (a wrong NAK only costs
that node one early retransmission).

Limits: the window must be smaller than half the sequence space (≤ 127) and a node that restarts its
sequence numbers inside a peer's window has its first frames dropped as duplicates; the application layer
should start a session with a fresh ``initial_seq``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from openami.errors import LocalProtocolError, RemoteProtocolError
from openami.link.frame import (
    CTRL_KIND_SHIFT,
    MAX_ADDRESS,
    MAX_PAYLOAD,
    MIN_ADDRESS,
    Frame,
    FrameKind,
    decode_frame,
    peek_header,
)

__all__ = [
    "ArqConfig",
    "ArqEvent",
    "ArqStats",
    "DeliveryFailed",
    "DuplicateDropped",
    "FrameRejected",
    "HanEndpoint",
    "MessageDelivered",
    "MessageReceived",
    "ReassemblyError",
    "Transmit",
]


@dataclass(frozen=True, slots=True)
class ArqConfig:
    """Endpoint parameters. Sizes in bytes, times in seconds.

    ``mtu``: payload bytes per frame (1..255; the frame adds 10). ``ack_timeout``: wait for the first ACK;
    retry ``k`` waits ``min(ack_timeout · backoff^k, max_timeout)``. ``max_retries``: retransmissions of one
    frame before `DeliveryFailed`. ``dup_window``: sequence numbers remembered per source (1..127).
    ``max_message``: largest reassembled message. ``nak_corrupt``: NAK frames that fail the CRC.
    ``initial_seq``: first sequence number used toward each destination.
    """

    mtu: int = 64
    ack_timeout: float = 0.1
    backoff: float = 2.0
    max_timeout: float = 2.0
    max_retries: int = 5
    dup_window: int = 32
    max_message: int = 65536
    nak_corrupt: bool = True
    initial_seq: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.mtu <= MAX_PAYLOAD:
            raise LocalProtocolError(f"mtu must be 1..{MAX_PAYLOAD} bytes, got {self.mtu}")
        if not self.ack_timeout > 0 or not self.max_timeout >= self.ack_timeout or not self.backoff >= 1.0:
            raise LocalProtocolError("need ack_timeout > 0, max_timeout >= ack_timeout and backoff >= 1")
        if self.max_retries < 0:
            raise LocalProtocolError(f"max_retries must be >= 0, got {self.max_retries}")
        if not 1 <= self.dup_window <= 127:
            raise LocalProtocolError(f"dup_window must be 1..127, got {self.dup_window}")
        if self.max_message < 0:
            raise LocalProtocolError(f"max_message must be >= 0, got {self.max_message}")
        if not 0 <= self.initial_seq <= 0xFF:
            raise LocalProtocolError(f"initial_seq must be 0..255, got {self.initial_seq}")

    def retry_timeout(self, attempt: int) -> float:
        """Seconds to wait for the ACK of transmission ``attempt`` (0 = first transmission)."""
        return min(self.ack_timeout * self.backoff**attempt, self.max_timeout)


@dataclass(frozen=True, slots=True)
class Transmit:
    """Put ``frame`` (encoded bytes) on the medium toward ``dst``."""

    dst: int
    frame: bytes


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A whole message from ``src`` (reassembled, delivered once)."""

    src: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class MessageDelivered:
    """Message ``message_id`` to ``dst`` was acknowledged: ``frames`` frames, ``retries`` retransmissions,
    ``latency`` seconds from `HanEndpoint.send` to the last ACK."""

    dst: int
    message_id: int
    frames: int
    retries: int
    latency: float


@dataclass(frozen=True, slots=True)
class DeliveryFailed:
    """Message ``message_id`` to ``dst`` was not confirmed after ``max_retries`` retransmissions of one frame.

    The peer holds it at most once (it may have it if only ACKs were lost)."""

    dst: int
    message_id: int
    retries: int
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateDropped:
    """A retransmitted DATA frame (``src``, ``seq``) already accepted; ACKed again and dropped."""

    src: int
    seq: int


@dataclass(frozen=True, slots=True)
class FrameRejected:
    """Received bytes that are not a valid frame (CRC, length, reserved bits); ``nak_sent`` if we NAKed."""

    detail: str
    nak_sent: bool


@dataclass(frozen=True, slots=True)
class ReassemblyError:
    """A partial message from ``src`` was dropped (missing first segment, new message before the last one,
    or longer than ``max_message``)."""

    src: int
    detail: str


ArqEvent = (
    Transmit | MessageReceived | MessageDelivered | DeliveryFailed | DuplicateDropped | FrameRejected | ReassemblyError
)
"""Everything `HanEndpoint` methods return, in order."""


@dataclass(slots=True)
class ArqStats:
    """Counters of one endpoint (frames and messages)."""

    frames_sent: int = 0
    """DATA frames put on the medium, first transmissions and retransmissions."""
    retransmissions: int = 0
    acks_sent: int = 0
    naks_sent: int = 0
    acks_received: int = 0
    stale_acks: int = 0
    naks_received: int = 0
    frames_received: int = 0
    frames_rejected: int = 0
    duplicates: int = 0
    not_for_us: int = 0
    messages_sent: int = 0
    messages_delivered: int = 0
    messages_failed: int = 0
    messages_received: int = 0


@dataclass(slots=True)
class _Message:
    message_id: int
    segments: list[bytes]
    started: float
    index: int = 0
    retries: int = 0


@dataclass(slots=True)
class _TxState:
    seq: int
    queue: deque[_Message] = field(default_factory=deque)
    frame: bytes | None = None
    frame_seq: int = 0
    attempt: int = 0
    deadline: float | None = None


@dataclass(slots=True)
class _RxState:
    window: deque[int] = field(default_factory=deque)
    seen: set[int] = field(default_factory=set)
    buffer: bytearray | None = None


def _check_address(name: str, value: int) -> None:
    if not MIN_ADDRESS <= value <= MAX_ADDRESS:
        raise LocalProtocolError(f"{name} address must be 0x{MIN_ADDRESS:04X}..0x{MAX_ADDRESS:04X}, got {value}")


class HanEndpoint:
    """One HAN node's data link (sans-IO). See the module docstring for the rules."""

    def __init__(self, address: int, config: ArqConfig | None = None) -> None:
        _check_address("own", address)
        self.address = address
        self.config = config if config is not None else ArqConfig()
        self.stats = ArqStats()
        self._tx: dict[int, _TxState] = {}
        self._rx: dict[int, _RxState] = {}
        self._next_id = 0

    # -- sending -------------------------------------------------------------------------------------

    def send(self, dst: int, payload: bytes, now: float) -> tuple[int, list[ArqEvent]]:
        """Queue a message for ``dst``; returns its message id and the events (a `Transmit` if the link
        toward ``dst`` was idle). Raises `LocalProtocolError` for a bad address or an oversized message."""
        _check_address("destination", dst)
        if dst == self.address:
            raise LocalProtocolError("cannot send to our own address")
        data = bytes(payload)
        if len(data) > self.config.max_message:
            raise LocalProtocolError(f"message of {len(data)} bytes exceeds max_message {self.config.max_message}")
        mtu = self.config.mtu
        segments = [data[i : i + mtu] for i in range(0, len(data), mtu)] or [b""]
        message_id = self._next_id
        self._next_id += 1
        tx = self._tx.get(dst)
        if tx is None:
            tx = self._tx[dst] = _TxState(seq=self.config.initial_seq)
        tx.queue.append(_Message(message_id, segments, now))
        self.stats.messages_sent += 1
        out: list[ArqEvent] = []
        self._pump(dst, tx, now, out)
        return message_id, out

    def pending(self, dst: int | None = None) -> int:
        """Messages queued or in flight (toward ``dst``, or toward every destination)."""
        states = self._tx.values() if dst is None else [self._tx[dst]] if dst in self._tx else []
        return sum(len(tx.queue) for tx in states)

    def next_timer(self) -> float | None:
        """When `handle_timer` must next be called (seconds, the ``now`` origin), or None when idle."""
        deadlines = [tx.deadline for tx in self._tx.values() if tx.deadline is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[ArqEvent]:
        """Retransmit (or give up on) every frame whose ACK is overdue at ``now``."""
        out: list[ArqEvent] = []
        for dst, tx in self._tx.items():
            if tx.deadline is not None and now >= tx.deadline:
                self._retry(dst, tx, now, out, "no ACK")
        return out

    def _pump(self, dst: int, tx: _TxState, now: float, out: list[ArqEvent]) -> None:
        """Send the next segment toward ``dst`` if nothing is in flight."""
        if tx.frame is not None or not tx.queue:
            return
        msg = tx.queue[0]
        seg = msg.segments[msg.index]
        frame = Frame.data(
            dst, self.address, tx.seq, seg, first=msg.index == 0, last=msg.index == len(msg.segments) - 1
        ).encode()
        tx.frame, tx.frame_seq, tx.attempt = frame, tx.seq, 0
        tx.seq = (tx.seq + 1) & 0xFF
        tx.deadline = now + self.config.retry_timeout(0)
        self.stats.frames_sent += 1
        out.append(Transmit(dst, frame))

    def _retry(self, dst: int, tx: _TxState, now: float, out: list[ArqEvent], why: str) -> None:
        assert tx.frame is not None and tx.queue
        msg = tx.queue[0]
        if tx.attempt >= self.config.max_retries:
            tx.queue.popleft()
            tx.frame, tx.deadline = None, None
            self.stats.messages_failed += 1
            reason = (
                f"{why} for frame seq {tx.frame_seq} (segment {msg.index + 1} of {len(msg.segments)}) "
                f"after {tx.attempt} retransmissions"
            )
            out.append(DeliveryFailed(dst, msg.message_id, msg.retries, reason))
            self._pump(dst, tx, now, out)
            return
        tx.attempt += 1
        msg.retries += 1
        tx.deadline = now + self.config.retry_timeout(tx.attempt)
        self.stats.frames_sent += 1
        self.stats.retransmissions += 1
        out.append(Transmit(dst, tx.frame))

    # -- receiving -----------------------------------------------------------------------------------

    def receive(self, data: bytes | bytearray | memoryview, now: float) -> list[ArqEvent]:
        """Handle one frame's bytes from the medium; never raises for bad bytes (they become events)."""
        out: list[ArqEvent] = []
        try:
            frame = decode_frame(data)
        except RemoteProtocolError as exc:
            self.stats.frames_rejected += 1
            nak = self._nak_corrupt(bytes(data), out)
            out.insert(0, FrameRejected(str(exc), nak))
            return out
        self.stats.frames_received += 1
        if frame.dst != self.address:
            self.stats.not_for_us += 1
            return out
        if frame.kind is FrameKind.DATA:
            self._on_data(frame, out)
        else:
            self._on_answer(frame, now, out)
        return out

    def _nak_corrupt(self, raw: bytes, out: list[ArqEvent]) -> bool:
        if not self.config.nak_corrupt:
            return False
        hdr = peek_header(raw)
        if hdr is None or hdr.dst != self.address or hdr.ctrl >> CTRL_KIND_SHIFT != FrameKind.DATA:
            return False
        if not MIN_ADDRESS <= hdr.src <= MAX_ADDRESS or hdr.src == self.address:
            return False
        self.stats.naks_sent += 1
        out.append(Transmit(hdr.src, Frame.nak(hdr.src, self.address, hdr.seq).encode()))
        return True

    def _on_data(self, frame: Frame, out: list[ArqEvent]) -> None:
        if frame.ack_request:
            self.stats.acks_sent += 1
            out.append(Transmit(frame.src, Frame.ack(frame.src, self.address, frame.seq).encode()))
        rx = self._rx.get(frame.src)
        if rx is None:
            rx = self._rx[frame.src] = _RxState()
        if frame.seq in rx.seen:
            self.stats.duplicates += 1
            out.append(DuplicateDropped(frame.src, frame.seq))
            return
        rx.window.append(frame.seq)
        rx.seen.add(frame.seq)
        if len(rx.window) > self.config.dup_window:
            rx.seen.discard(rx.window.popleft())
        if frame.first:
            if rx.buffer is not None:
                out.append(ReassemblyError(frame.src, f"new message at seq {frame.seq} before the last segment"))
            rx.buffer = bytearray(frame.payload)
        elif rx.buffer is None:
            out.append(ReassemblyError(frame.src, f"segment seq {frame.seq} without a first segment"))
            return
        else:
            rx.buffer += frame.payload
        if len(rx.buffer) > self.config.max_message:
            rx.buffer = None
            out.append(ReassemblyError(frame.src, f"message longer than {self.config.max_message} bytes"))
            return
        if frame.last:
            payload = bytes(rx.buffer)
            rx.buffer = None
            self.stats.messages_received += 1
            out.append(MessageReceived(frame.src, payload))

    def _on_answer(self, frame: Frame, now: float, out: list[ArqEvent]) -> None:
        tx = self._tx.get(frame.src)
        if tx is None or tx.frame is None or frame.seq != tx.frame_seq:
            self.stats.stale_acks += 1
            return
        if frame.kind is FrameKind.NAK:
            self.stats.naks_received += 1
            self._retry(frame.src, tx, now, out, "NAK")
            return
        self.stats.acks_received += 1
        msg = tx.queue[0]
        tx.frame, tx.deadline = None, None
        msg.index += 1
        if msg.index == len(msg.segments):
            tx.queue.popleft()
            self.stats.messages_delivered += 1
            out.append(MessageDelivered(frame.src, msg.message_id, len(msg.segments), msg.retries, now - msg.started))
        self._pump(frame.src, tx, now, out)
