"""Sans-IO C12.18 data link: one `LinkEndpoint` for both the client (reader) and the server (meter port).

The endpoint carries opaque PSEM payloads. It splits a payload into packets of the negotiated size,
sends them one at a time (stop-and-wait), retransmits on NAK or when no ACK comes within the response
timeout, and reports `LinkFailed` after ``max_retries`` retransmissions of one packet. Received packets
are ACKed (NAKed when broken), duplicates are recognised by the toggle bit and dropped, and multi-packet
messages are reassembled. It never reads a clock and never touches a port: the driver passes ``now``
(seconds, any monotonic origin), writes every `SendBytes` to the line in order (after the
``turnaround_delay`` of `LinkConfig`), and calls `LinkEndpoint.handle_timer` once
`LinkEndpoint.next_timer` has passed.

Sources read (facts only, no code taken): Elster's MIT-licensed MeteringSDK, ``MCOM/ProtocolC1218.cpp`` and
``MCOM/ProtocolC1218.h`` (cited as "MeteringSDK" below), and termineter's ``c1218/connection.py``.

Rules chosen where public sources leave room (each is ours unless a source is named):

- Toggle bit: a sender starts at 0 and flips it after each packet is acknowledged (MeteringSDK
  ProtocolC1218 flips ``NextOutgoingToggleBit`` after each acknowledged packet). A received packet with the
  same toggle bit *and* the same bytes as the previous accepted one is a retransmission whose ACK was lost:
  it is ACKed again and dropped (`PeerDuplicate`); MeteringSDK also compares the CRC for this. A packet with
  the same toggle bit but other bytes is taken as new (the peer restarted). The receive toggle is unknown
  until the first packet, and after `LinkEndpoint.reset`.
- After `LinkFailed` the toggle bit is not flipped (MeteringSDK does not flip it when retries run out).
- Implicit ACK: C12.18 is half-duplex request/response, so a new packet from the peer while we wait for
  the ACK of the *last* packet of our message means the peer has our whole message and its ACK was lost;
  the message counts as sent.
- Reassembly: a multi-packet message starts with a first packet (ctrl bit6) and its seq must count down
  by one to 0 (MeteringSDK checks the same); a gap, a middle packet with no first packet, a new message
  before the end, or more packets than negotiated drop the message with a `ReceiveError`. Those packets
  were sound, so they are ACKed, not NAKed; recovering the message is the application layer's job.
- NAK pacing: the first broken packet after a good one is NAKed at once; further errors in the same burst
  (bytes of the broken packet rescanned, a broken retransmission) are NAKed once, when the line has been
  quiet for the inter-character timeout. Each NAK costs the sender a retry, so NAKing every false 0xEE
  inside a broken packet would exhaust retries.
- Causality: ACK/NAK bytes that arrive in the same `receive_data` chunk after one that made us transmit a
  packet were on the line before that packet was sent, so they cannot answer it and are ignored. Likewise
  a duplicate that arrives in the same chunk as the packet it repeats gets no second ACK: the peer sent
  both copies before it could see our first ACK, so it waits for one ACK only, and a second would be
  taken as the ACK of its next packet.
- ACK timing guard (only with ``LinkConfig.baud_rate``): an ACK that arrives before our packet can have
  been completely on the line (as timed from ``now`` at the configured speed, after everything we sent
  before it) cannot answer that packet, and a NAK cannot come before its header was out; such bytes are
  ignored. This is the sans-IO form of a serial driver flushing its input before it waits for the ACK:
  without it, the second ACK for a packet that reached the peer twice is taken as the ACK of our next
  packet, which is then lost if the line broke it.
- Channel traffic timeout (device side; off unless ``LinkConfig.channel_traffic_timeout`` is set): once
  traffic has been seen, that many seconds without a valid packet or ACK from the peer (while not waiting
  for an ACK) end the session: `TrafficTimeout` is reported and the endpoint resets to the defaults
  (64-byte packets, 1 packet, toggle state forgotten), as a meter does when a session times out.

Timeouts (defaults of MeteringSDK's ProtocolC1218, whose documentation gives them "as defined by ANSI
standard" for C12.18): response (acknowledgement) timeout 2000 ms, inter-character timeout 500 ms, channel
traffic timeout 6000 ms; link-layer retries 3 (also facts §5 and termineter's ``send``). The turn-around
delay default, 20 ms, is MeteringSDK ProtocolC12's ``TurnAroundDelay`` default, not a value from the
standard; the core only reports it for the driver to apply.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from openami.c1218.packet import (
    ACK,
    DEFAULT_NBR_PACKETS,
    DEFAULT_PACKET_SIZE,
    HEADER_LENGTH,
    MAX_NBR_PACKETS,
    NAK,
    PACKET_OVERHEAD,
    Ack,
    Nak,
    Packet,
    PacketError,
    PacketParser,
    ParserEvent,
    max_data_length,
)
from openami.errors import LocalProtocolError

__all__ = [
    "BITS_PER_BYTE",
    "DEVICE_CHANNEL_TRAFFIC_TIMEOUT",
    "LinkConfig",
    "LinkEndpoint",
    "LinkEvent",
    "LinkFailed",
    "LinkStats",
    "MessageReceived",
    "MessageSent",
    "PeerDuplicate",
    "ReceiveError",
    "SendBytes",
    "TrafficTimeout",
]

DEVICE_CHANNEL_TRAFFIC_TIMEOUT = 6.0
"""Seconds a C12.18 device waits for a valid packet before it ends the session (MeteringSDK, "as defined
by ANSI standard")."""
BITS_PER_BYTE = 10
"""Line bits per byte: start, 8 data, no parity, 1 stop (the optical probe's 8N1 in MeteringSDK)."""
_ACK_BYTES = bytes((ACK,))
_NAK_BYTES = bytes((NAK,))


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """Link parameters. Sizes in bytes, times in seconds.

    ``packet_size`` / ``nbr_packets`` are the values in force before Negotiate (and after `reset`).
    ``channel_traffic_timeout`` is the device's session timeout: set it (`DEVICE_CHANNEL_TRAFFIC_TIMEOUT`,
    6 s) on the meter side and leave it None on a client, which must not reset behind the meter's back.
    ``identity`` and ``data_format`` go into every packet sent (0 and 0 on the optical port).
    ``baud_rate`` (bit/s, 8N1 framing) turns on the ACK timing guard (module docstring); leave it None
    unless the driver's line really runs at that speed, since a guard slower than the line would refuse
    genuine ACKs. ``turnaround_delay`` is for the driver: wait that long after receiving before sending.
    """

    packet_size: int = DEFAULT_PACKET_SIZE
    nbr_packets: int = DEFAULT_NBR_PACKETS
    response_timeout: float = 2.0
    intercharacter_timeout: float = 0.5
    channel_traffic_timeout: float | None = None
    max_retries: int = 3
    turnaround_delay: float = 0.020
    identity: int = 0
    data_format: int = 0
    baud_rate: int | None = None

    def __post_init__(self) -> None:
        max_data_length(self.packet_size)
        _check_nbr_packets(self.nbr_packets)
        for name in ("response_timeout", "intercharacter_timeout"):
            if not getattr(self, name) > 0:
                raise LocalProtocolError(f"{name} must be > 0 s, got {getattr(self, name)}")
        if self.channel_traffic_timeout is not None and not self.channel_traffic_timeout > 0:
            raise LocalProtocolError(
                f"channel_traffic_timeout must be > 0 s or None, got {self.channel_traffic_timeout}"
            )
        if not self.turnaround_delay >= 0:
            raise LocalProtocolError(f"turnaround_delay must be >= 0 s, got {self.turnaround_delay}")
        if self.max_retries < 0:
            raise LocalProtocolError(f"max_retries must be >= 0, got {self.max_retries}")
        if not 0 <= self.identity <= 0xFF:
            raise LocalProtocolError(f"identity must be 0..255, got {self.identity}")
        if not 0 <= self.data_format <= 3:
            raise LocalProtocolError(f"data_format must be 0..3, got {self.data_format}")
        _check_baud_rate(self.baud_rate)


def _check_baud_rate(baud_rate: int | None) -> None:
    if baud_rate is not None and baud_rate <= 0:
        raise LocalProtocolError(f"baud_rate must be > 0 or None, got {baud_rate}")


def _check_nbr_packets(nbr_packets: int) -> None:
    if not 1 <= nbr_packets <= MAX_NBR_PACKETS:
        raise LocalProtocolError(f"number of packets must be 1..{MAX_NBR_PACKETS}, got {nbr_packets}")


@dataclass(frozen=True, slots=True)
class SendBytes:
    """Write ``data`` to the line (a packet, or a single ACK / NAK byte)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A whole message (all its packets reassembled) arrived; ``identity`` is its first packet's."""

    payload: bytes
    identity: int = 0


@dataclass(frozen=True, slots=True)
class MessageSent:
    """Every packet of ``payload`` (a message given to `LinkEndpoint.send_message`) was acknowledged."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class PeerDuplicate:
    """The peer repeated its last packet (same toggle bit, same bytes): ACKed again and dropped."""

    packet: Packet


@dataclass(frozen=True, slots=True)
class ReceiveError:
    """Something the peer sent was rejected (bad CRC, bad length, incomplete, out of sequence, too long).

    Not fatal: the link NAKs where that helps and carries on.
    """

    reason: str


@dataclass(frozen=True, slots=True)
class LinkFailed:
    """A packet of ``payload`` was not acknowledged after all retries; the message is dropped."""

    reason: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class TrafficTimeout:
    """No traffic for the channel traffic timeout: the session is over and the endpoint was reset."""


LinkEvent = SendBytes | MessageReceived | MessageSent | PeerDuplicate | ReceiveError | LinkFailed | TrafficTimeout
"""Everything `LinkEndpoint` reports, in the order the driver must act on it."""


@dataclass(slots=True)
class LinkStats:
    """Counters since the endpoint was created (not cleared by `LinkEndpoint.reset`)."""

    packets_sent: int = 0
    retransmissions: int = 0
    messages_sent: int = 0
    link_failures: int = 0
    acks_received: int = 0
    naks_received: int = 0
    stale_acks: int = 0
    packets_received: int = 0
    messages_received: int = 0
    duplicates: int = 0
    receive_errors: int = 0
    acks_sent: int = 0
    naks_sent: int = 0
    traffic_timeouts: int = 0


@dataclass(frozen=True, slots=True)
class _Outgoing:
    payload: bytes
    chunks: tuple[bytes, ...]


class LinkEndpoint:
    """One end of a C12.18 link (client or server alike); see the module docstring for the rules."""

    _packet_size: int
    _nbr_packets: int
    _outbox: deque[_Outgoing]
    _current: _Outgoing | None
    _index: int
    _wire: bytes
    _retries: int
    _ack_deadline: float | None
    _tx_toggle: bool
    _rx_last: Packet | None
    _rx_parts: list[bytes] | None
    _rx_count: int
    _rx_expect: int
    _rx_identity: int
    _burst: bool
    _nak_owed: bool
    _ic_deadline: float | None
    _traffic_deadline: float | None
    _stale: bool
    _acked_in_call: Packet | None
    _byte_time: float | None
    _line_free_at: float
    _ack_not_before: float
    _nak_not_before: float

    def __init__(self, config: LinkConfig | None = None) -> None:
        self._config = config if config is not None else LinkConfig()
        self.stats = LinkStats()
        self._parser = PacketParser(max_data_length(self._config.packet_size))
        self._clear()

    def _clear(self) -> None:
        cfg = self._config
        self._packet_size = cfg.packet_size
        self._nbr_packets = cfg.nbr_packets
        self._parser.max_length = max_data_length(cfg.packet_size)
        self._parser.reset()
        self._outbox = deque()
        self._current = None
        self._index = 0
        self._wire = b""
        self._retries = 0
        self._ack_deadline = None
        self._tx_toggle = False
        self._rx_last = None
        self._rx_parts = None
        self._rx_count = 0
        self._rx_expect = 0
        self._rx_identity = 0
        self._burst = False
        self._nak_owed = False
        self._ic_deadline = None
        self._traffic_deadline = None
        self._stale = False
        self._acked_in_call = None
        self._byte_time = None if cfg.baud_rate is None else BITS_PER_BYTE / cfg.baud_rate
        self._line_free_at = 0.0
        self._ack_not_before = 0.0
        self._nak_not_before = 0.0

    # ----------------------------------------------------------------------------------------- properties

    @property
    def config(self) -> LinkConfig:
        return self._config

    @property
    def packet_size(self) -> int:
        """Packet size in force (bytes, header and CRC included)."""
        return self._packet_size

    @property
    def nbr_packets(self) -> int:
        """Packets per message in force."""
        return self._nbr_packets

    @property
    def max_payload(self) -> int:
        """Largest message `send_message` accepts now: ``(packet_size - 8) * nbr_packets`` bytes."""
        return (self._packet_size - PACKET_OVERHEAD) * self._nbr_packets

    @property
    def busy(self) -> bool:
        """A message is being sent or waits in the queue."""
        return self._current is not None

    # ----------------------------------------------------------------------------------------- driver API

    def send_message(self, payload: bytes, now: float) -> list[LinkEvent]:
        """Queue one PSEM message; it is split now by the packet size and count in force.

        Raises `LocalProtocolError` for an empty payload or one above `max_payload`. Messages go out in
        order, one at a time; the first packet is returned as `SendBytes` at once if the link is idle.
        """
        payload = bytes(payload)
        if not payload:
            raise LocalProtocolError("a C12.18 message needs at least one byte")
        chunk = self._packet_size - PACKET_OVERHEAD
        if len(payload) > chunk * self._nbr_packets:
            raise LocalProtocolError(
                f"{len(payload)}-byte message needs more than {self._nbr_packets} packet(s) of "
                f"{self._packet_size} bytes"
            )
        chunks = tuple(payload[i : i + chunk] for i in range(0, len(payload), chunk))
        self._outbox.append(_Outgoing(payload, chunks))
        events: list[LinkEvent] = []
        self._start_next(now, events)
        return events

    def receive_data(self, data: bytes, now: float) -> list[LinkEvent]:
        """Bytes from the line, received at ``now``; returns the resulting events in order."""
        events: list[LinkEvent] = []
        self._stale = False
        self._acked_in_call = None
        for item in self._parser.feed(data):
            self._dispatch(item, now, events)
        self._stale = False
        self._acked_in_call = None
        if not (self._parser.pending or self._burst):
            self._ic_deadline = None
        elif data:  # the inter-character timer restarts with every byte received
            self._ic_deadline = now + self._config.intercharacter_timeout
        return events

    def next_timer(self) -> float | None:
        """When `handle_timer` should next be called (same clock as ``now``), or None."""
        deadlines = [d for d in (self._ack_deadline, self._ic_deadline) if d is not None]
        if self._traffic_deadline is not None and self._current is None:
            deadlines.append(self._traffic_deadline)
        return min(deadlines, default=None)

    def handle_timer(self, now: float) -> list[LinkEvent]:
        """Run every timer due at ``now`` (inter-character, response, channel traffic)."""
        events: list[LinkEvent] = []
        self._stale = False
        self._acked_in_call = None
        if self._ic_deadline is not None and now >= self._ic_deadline:
            self._ic_deadline = None
            for item in self._parser.expire():
                self._dispatch(item, now, events)
            if self._nak_owed:
                self._send_nak(now, events)
            self._burst = False
            self._nak_owed = False
        if self._current is not None and self._ack_deadline is not None and now >= self._ack_deadline:
            self._retry(now, events, f"no ACK within {self._config.response_timeout} s")
        if self._current is None and self._traffic_deadline is not None and now >= self._traffic_deadline:
            self.stats.traffic_timeouts += 1
            self._clear()
            events.append(TrafficTimeout())
        self._stale = False
        self._acked_in_call = None
        return events

    def apply_negotiation(self, packet_size: int, nbr_packets: int, *, baud_rate: int | None = None) -> None:
        """Switch to the packet size (bytes, whole packet) and count a Negotiate exchange agreed.

        Messages already queued keep their split; the receive length limit changes at once. Call it on
        the client when the Negotiate response arrives, and on the server right after queuing it. Give
        ``baud_rate`` (bit/s) when the ACK timing guard is on and the line speed changes.
        """
        max_length = max_data_length(packet_size)
        _check_nbr_packets(nbr_packets)
        _check_baud_rate(baud_rate)
        self._packet_size = packet_size
        self._nbr_packets = nbr_packets
        self._parser.max_length = max_length
        if baud_rate is not None and self._byte_time is not None:
            self._byte_time = BITS_PER_BYTE / baud_rate

    def reset(self) -> None:
        """End of session: drop queued and partial messages, forget toggles, restore default sizes."""
        self._clear()

    # ----------------------------------------------------------------------------------------- receiving

    def _dispatch(self, item: ParserEvent, now: float, events: list[LinkEvent]) -> None:
        if isinstance(item, Packet):
            self._on_packet(item, now, events)
        elif isinstance(item, PacketError):
            self.stats.receive_errors += 1
            events.append(ReceiveError(f"{item.kind.value}: {item.detail}"))
            if self._burst:
                self._nak_owed = True
            else:
                self._burst = True
                self._send_nak(now, events)
        elif isinstance(item, Ack):
            self.stats.acks_received += 1
            if self._current is not None and not self._stale and now >= self._ack_not_before:
                self._on_ack(now, events)
            else:
                self.stats.stale_acks += 1
        elif isinstance(item, Nak):
            self.stats.naks_received += 1
            if self._current is not None and not self._stale and now >= self._nak_not_before:
                self._retry(now, events, "NAK")

    def _on_packet(self, packet: Packet, now: float, events: list[LinkEvent]) -> None:
        self._burst = False
        self._nak_owed = False
        self._arm_traffic(now)
        last = self._rx_last
        if last is not None and packet.toggle == last.toggle and packet == last:
            self.stats.duplicates += 1
            if self._acked_in_call != packet:
                self._send_ack(packet, now, events)
            events.append(PeerDuplicate(packet))
            return
        self._send_ack(packet, now, events)
        current = self._current
        if current is not None and self._index == len(current.chunks) - 1:
            self._on_ack(now, events)
        self._rx_last = packet
        self.stats.packets_received += 1
        self._reassemble(packet, events)

    def _reassemble(self, packet: Packet, events: list[LinkEvent]) -> None:
        if not packet.multi_packet:
            if self._rx_parts is not None:
                self._drop_partial(events, "single packet arrived inside a multi-packet message")
            self._deliver(packet.data, packet.identity, events)
            return
        if packet.first_packet:
            if self._rx_parts is not None:
                self._drop_partial(events, "new first packet arrived inside a multi-packet message")
            self._rx_parts = [packet.data]
            self._rx_count = packet.seq + 1
            self._rx_identity = packet.identity
        elif self._rx_parts is None or packet.seq != self._rx_expect:
            expected = "a first packet" if self._rx_parts is None else f"seq {self._rx_expect}"
            self._rx_parts = None
            self._message_error(events, f"packet seq {packet.seq} out of sequence ({expected} expected)")
            return
        else:
            self._rx_parts.append(packet.data)
        self._rx_expect = packet.seq - 1
        if packet.seq == 0:
            parts = self._rx_parts
            assert parts is not None
            self._rx_parts = None
            if self._rx_count > self._nbr_packets:
                self._message_error(
                    events, f"message of {self._rx_count} packets exceeds the negotiated {self._nbr_packets}"
                )
            else:
                self._deliver(b"".join(parts), self._rx_identity, events)

    def _drop_partial(self, events: list[LinkEvent], reason: str) -> None:
        self._rx_parts = None
        self._message_error(events, f"incomplete message dropped: {reason}")

    def _message_error(self, events: list[LinkEvent], reason: str) -> None:
        # The packets themselves were good (and ACKed): no NAK, the application layer must retry.
        self.stats.receive_errors += 1
        events.append(ReceiveError(reason))

    def _deliver(self, payload: bytes, identity: int, events: list[LinkEvent]) -> None:
        self.stats.messages_received += 1
        events.append(MessageReceived(payload, identity))

    def _emit(self, data: bytes, now: float, events: list[LinkEvent]) -> float:
        """Queue ``data`` for the line; returns when, at the guard's baud rate, it starts going out."""
        events.append(SendBytes(data))
        start = max(now, self._line_free_at)
        if self._byte_time is not None:
            self._line_free_at = start + len(data) * self._byte_time
        return start

    def _send_ack(self, packet: Packet, now: float, events: list[LinkEvent]) -> None:
        self.stats.acks_sent += 1
        self._acked_in_call = packet
        self._emit(_ACK_BYTES, now, events)

    def _send_nak(self, now: float, events: list[LinkEvent]) -> None:
        self.stats.naks_sent += 1
        self._emit(_NAK_BYTES, now, events)

    def _arm_traffic(self, now: float) -> None:
        timeout = self._config.channel_traffic_timeout
        if timeout is not None:
            self._traffic_deadline = now + timeout

    # ----------------------------------------------------------------------------------------- sending

    def _start_next(self, now: float, events: list[LinkEvent]) -> None:
        if self._current is None and self._outbox:
            self._current = self._outbox.popleft()
            self._index = 0
            self._transmit_new(now, events)

    def _transmit_new(self, now: float, events: list[LinkEvent]) -> None:
        current = self._current
        assert current is not None
        count = len(current.chunks)
        multi = count > 1
        packet = Packet.build(
            current.chunks[self._index],
            seq=count - 1 - self._index,
            multi_packet=multi,
            first_packet=multi and self._index == 0,
            toggle=self._tx_toggle,
            data_format=self._config.data_format,
            identity=self._config.identity,
        )
        self._wire = packet.encode()
        self._retries = 0
        self.stats.packets_sent += 1
        self._emit_packet(now, events)

    def _emit_packet(self, now: float, events: list[LinkEvent]) -> None:
        start = self._emit(self._wire, now, events)
        if self._byte_time is not None:
            # Earliest moment the peer can have seen the header (for a NAK) or the whole packet (ACK).
            self._nak_not_before = start + HEADER_LENGTH * self._byte_time
            self._ack_not_before = self._line_free_at
        self._ack_deadline = now + self._config.response_timeout
        self._stale = True

    def _on_ack(self, now: float, events: list[LinkEvent]) -> None:
        current = self._current
        assert current is not None
        self._tx_toggle = not self._tx_toggle
        self._arm_traffic(now)
        self._index += 1
        if self._index < len(current.chunks):
            self._transmit_new(now, events)
            return
        self._current = None
        self._ack_deadline = None
        self._wire = b""
        self.stats.messages_sent += 1
        events.append(MessageSent(current.payload))
        self._start_next(now, events)

    def _retry(self, now: float, events: list[LinkEvent], reason: str) -> None:
        current = self._current
        assert current is not None
        if self._retries >= self._config.max_retries:
            self._current = None
            self._ack_deadline = None
            self._wire = b""
            self.stats.link_failures += 1
            events.append(LinkFailed(f"{reason} after {self._retries} retries", current.payload))
            self._start_next(now, events)
            return
        self._retries += 1
        self.stats.retransmissions += 1
        self._emit_packet(now, events)
