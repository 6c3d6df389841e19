"""`LinkEndpoint` driven by hand: the bytes it sends, the events it reports, its timers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1218 import (
    DEVICE_CHANNEL_TRAFFIC_TIMEOUT,
    LinkConfig,
    LinkEndpoint,
    LinkEvent,
    LinkFailed,
    MessageReceived,
    MessageSent,
    Packet,
    PeerDuplicate,
    ReceiveError,
    SendBytes,
    TrafficTimeout,
)
from openami.errors import LocalProtocolError

from .test_packet import IDENTIFY_PACKET, wire_packet

ACK = SendBytes(b"\x06")
NAK = SendBytes(b"\x15")


def sent(events: list[LinkEvent]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, SendBytes)]


# --------------------------------------------------------------------------------------------- sending


def test_single_packet_message_and_ack() -> None:
    link = LinkEndpoint()
    assert link.send_message(b"\x20", 0.0) == [SendBytes(IDENTIFY_PACKET)]
    assert link.busy
    assert link.next_timer() == 2.0
    assert link.receive_data(b"\x06", 0.1) == [MessageSent(b"\x20")]
    assert not link.busy
    assert link.stats.packets_sent == 1 and link.stats.messages_sent == 1


def test_toggle_alternates_per_packet() -> None:
    link = LinkEndpoint()
    out: list[bytes] = []
    for i, payload in enumerate([b"\x20", b"\x52", b"\x21"]):
        out += sent(link.send_message(payload, float(i)))
        link.receive_data(b"\x06", i + 0.5)
    assert out == [wire_packet(b"\x20", ctrl=0x00), wire_packet(b"\x52", ctrl=0x20), wire_packet(b"\x21", ctrl=0x00)]


def test_multi_packet_split_first_bit_and_descending_seq() -> None:
    link = LinkEndpoint()
    link.apply_negotiation(64, 3)
    payload = bytes(range(130))  # 56 + 56 + 18 data bytes
    first = link.send_message(payload, 0.0)
    second = link.receive_data(b"\x06", 0.1)
    third = link.receive_data(b"\x06", 0.2)
    done = link.receive_data(b"\x06", 0.3)
    assert sent(first + second + third) == [
        wire_packet(payload[:56], ctrl=0xC0, seq=2),
        wire_packet(payload[56:112], ctrl=0xA0, seq=1),
        wire_packet(payload[112:], ctrl=0x80, seq=0),
    ]
    assert done == [MessageSent(payload)]


def test_messages_queue_behind_the_current_one() -> None:
    link = LinkEndpoint()
    assert sent(link.send_message(b"\x20", 0.0)) == [IDENTIFY_PACKET]
    assert link.send_message(b"\x21", 0.0) == []
    events = link.receive_data(b"\x06", 0.1)
    assert events == [MessageSent(b"\x20"), SendBytes(wire_packet(b"\x21", ctrl=0x20))]


def test_nak_and_timeout_retransmit_then_link_failed_after_three_retries() -> None:
    link = LinkEndpoint()
    link.send_message(b"\x20", 0.0)
    assert link.receive_data(b"\x15", 0.1) == [SendBytes(IDENTIFY_PACKET)]
    assert link.next_timer() == pytest.approx(2.1)
    assert link.handle_timer(1.0) == []
    assert link.handle_timer(2.1) == [SendBytes(IDENTIFY_PACKET)]
    assert link.receive_data(b"\x15", 2.2) == [SendBytes(IDENTIFY_PACKET)]
    events = link.handle_timer(4.2)
    assert len(events) == 1 and isinstance(events[0], LinkFailed)
    assert events[0].payload == b"\x20"
    assert link.stats.retransmissions == 3 and link.stats.link_failures == 1
    assert not link.busy and link.next_timer() is None
    # The toggle was not flipped by the failure: the next message goes out with toggle 0 again.
    assert sent(link.send_message(b"\x21", 5.0)) == [wire_packet(b"\x21")]


def test_zero_retries_fails_on_first_nak() -> None:
    link = LinkEndpoint(LinkConfig(max_retries=0))
    link.send_message(b"\x20", 0.0)
    (event,) = link.receive_data(b"\x15", 0.1)
    assert isinstance(event, LinkFailed)


def test_ack_or_nak_while_idle_is_ignored() -> None:
    link = LinkEndpoint()
    assert link.receive_data(b"\x06\x15", 0.0) == []
    assert link.stats.stale_acks == 1


def test_second_ack_in_the_same_chunk_cannot_answer_the_next_packet() -> None:
    link = LinkEndpoint()
    link.apply_negotiation(64, 2)
    payload = bytes(100)
    link.send_message(payload, 0.0)
    events = link.receive_data(b"\x06\x06", 0.1)
    assert sent(events) == [wire_packet(payload[56:], ctrl=0xA0, seq=0)]
    assert link.busy
    assert link.receive_data(b"\x06", 0.2) == [MessageSent(payload)]


def test_ack_timing_guard_refuses_an_ack_before_the_packet_was_on_the_line() -> None:
    link = LinkEndpoint(LinkConfig(baud_rate=9600))
    link.send_message(b"\x20", 0.0)  # 9 bytes: on the line until 9.4 ms
    assert link.receive_data(b"\x06", 0.005) == []
    assert link.busy
    assert link.receive_data(b"\x06", 0.010) == [MessageSent(b"\x20")]


def test_send_message_limits() -> None:
    link = LinkEndpoint()
    assert link.max_payload == 56
    with pytest.raises(LocalProtocolError):
        link.send_message(b"", 0.0)
    with pytest.raises(LocalProtocolError):
        link.send_message(bytes(57), 0.0)
    link.apply_negotiation(256, 4)
    assert link.max_payload == 4 * 248
    assert link.packet_size == 256 and link.nbr_packets == 4
    with pytest.raises(LocalProtocolError):
        link.send_message(bytes(4 * 248 + 1), 0.0)
    assert sent(link.send_message(bytes(248), 0.0)) == [wire_packet(bytes(248))]


@pytest.mark.parametrize(("size", "count"), [(8, 1), (0x10000, 1), (64, 0), (64, 256)])
def test_apply_negotiation_refuses_impossible_values(size: int, count: int) -> None:
    with pytest.raises(LocalProtocolError):
        LinkEndpoint().apply_negotiation(size, count)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"packet_size": 8},
        {"nbr_packets": 0},
        {"response_timeout": 0.0},
        {"intercharacter_timeout": -1.0},
        {"channel_traffic_timeout": 0.0},
        {"max_retries": -1},
        {"turnaround_delay": -0.1},
        {"identity": 256},
        {"data_format": 4},
        {"baud_rate": 0},
    ],
)
def test_config_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        LinkConfig(**kwargs)  # type: ignore[arg-type]


def test_config_identity_and_data_format_go_into_packets() -> None:
    link = LinkEndpoint(LinkConfig(identity=0x42, data_format=1))
    assert sent(link.send_message(b"\x20", 0.0)) == [wire_packet(b"\x20", ctrl=0x01, identity=0x42)]


# --------------------------------------------------------------------------------------------- receiving


def test_received_packet_is_acked_and_delivered() -> None:
    link = LinkEndpoint()
    assert link.receive_data(IDENTIFY_PACKET, 0.0) == [ACK, MessageReceived(b"\x20")]
    assert link.stats.acks_sent == 1 and link.stats.messages_received == 1


def test_identity_of_received_message_is_reported() -> None:
    events = LinkEndpoint().receive_data(wire_packet(b"\x20", identity=7), 0.0)
    assert events == [ACK, MessageReceived(b"\x20", identity=7)]


def test_repeated_packet_is_a_duplicate_by_toggle() -> None:
    link = LinkEndpoint()
    link.receive_data(IDENTIFY_PACKET, 0.0)
    assert link.receive_data(IDENTIFY_PACKET, 2.0) == [ACK, PeerDuplicate(Packet(b"\x20"))]
    # The next packet carries the other toggle bit and is new, even with the same data.
    toggled = wire_packet(b"\x20", ctrl=0x20)
    assert link.receive_data(toggled, 3.0) == [ACK, MessageReceived(b"\x20")]
    # Same toggle as the last one but other bytes: the peer restarted; taken as new.
    assert link.receive_data(wire_packet(b"\x21", ctrl=0x20), 4.0) == [ACK, MessageReceived(b"\x21")]
    assert link.stats.duplicates == 1


def test_duplicate_in_the_same_chunk_gets_no_second_ack() -> None:
    link = LinkEndpoint()
    events = link.receive_data(IDENTIFY_PACKET + IDENTIFY_PACKET, 0.0)
    assert events == [ACK, MessageReceived(b"\x20"), PeerDuplicate(Packet(b"\x20"))]


def test_reset_forgets_the_receive_toggle() -> None:
    link = LinkEndpoint()
    link.receive_data(IDENTIFY_PACKET, 0.0)
    link.reset()
    assert link.receive_data(IDENTIFY_PACKET, 1.0) == [ACK, MessageReceived(b"\x20")]


def test_bad_crc_is_nakked() -> None:
    broken = IDENTIFY_PACKET[:-1] + b"\x00"
    link = LinkEndpoint()
    events = link.receive_data(broken, 0.0)
    assert len(events) == 2
    assert isinstance(events[0], ReceiveError) and "bad-crc" in events[0].reason
    assert events[1] == NAK


def test_errors_in_one_burst_are_nakked_once_then_once_more_when_quiet() -> None:
    broken = IDENTIFY_PACKET[:-1] + b"\x00"
    link = LinkEndpoint()
    first = link.receive_data(broken, 0.0)
    second = link.receive_data(broken, 0.1)
    assert sent(first) == [b"\x15"]
    assert sent(second) == []
    assert [type(e) for e in second] == [ReceiveError]
    assert link.next_timer() == pytest.approx(0.6)
    assert link.handle_timer(0.6) == [NAK]
    assert link.next_timer() is None
    # A good packet ends the burst: the next error is NAKed at once.
    link.receive_data(IDENTIFY_PACKET, 1.0)
    assert sent(link.receive_data(broken, 1.1)) == [b"\x15"]


def test_incomplete_packet_is_nakked_after_the_intercharacter_timeout() -> None:
    link = LinkEndpoint()
    assert link.receive_data(IDENTIFY_PACKET[:6], 0.0) == []
    assert link.next_timer() == pytest.approx(0.5)
    assert link.receive_data(IDENTIFY_PACKET[6:7], 0.3) == []
    assert link.next_timer() == pytest.approx(0.8)
    events = link.handle_timer(0.8)
    assert [type(e) for e in events] == [ReceiveError, SendBytes]
    assert isinstance(events[0], ReceiveError) and "incomplete" in events[0].reason
    assert events[1] == NAK
    assert link.receive_data(IDENTIFY_PACKET, 1.0) == [ACK, MessageReceived(b"\x20")]


def test_bad_length_is_nakked() -> None:
    link = LinkEndpoint()
    events = link.receive_data(wire_packet(bytes(57)), 0.0)
    assert isinstance(events[0], ReceiveError) and "bad-length" in events[0].reason
    assert events[1] == NAK
    link.apply_negotiation(128, 1)
    assert link.receive_data(wire_packet(bytes(57), ctrl=0x20), 1.0) == [ACK, MessageReceived(bytes(57))]


def test_multi_packet_reassembly() -> None:
    link = LinkEndpoint()
    link.apply_negotiation(64, 3)
    payload = bytes(range(120))
    events: list[LinkEvent] = []
    events += link.receive_data(wire_packet(payload[:56], ctrl=0xC0, seq=2), 0.0)
    events += link.receive_data(wire_packet(payload[56:112], ctrl=0xA0, seq=1), 0.1)
    events += link.receive_data(wire_packet(payload[112:], ctrl=0x80, seq=0), 0.2)
    assert events == [ACK, ACK, ACK, MessageReceived(payload)]


def test_multi_packet_of_one_packet() -> None:
    events = LinkEndpoint().receive_data(wire_packet(b"\x20", ctrl=0xC0, seq=0), 0.0)
    assert events == [ACK, MessageReceived(b"\x20")]


def test_out_of_sequence_packet_drops_the_message() -> None:
    link = LinkEndpoint()
    link.apply_negotiation(64, 3)
    link.receive_data(wire_packet(b"a", ctrl=0xC0, seq=2), 0.0)
    events = link.receive_data(wire_packet(b"c", ctrl=0x80, seq=0), 0.1)
    assert events[0] == ACK
    assert isinstance(events[1], ReceiveError) and "out of sequence" in events[1].reason
    assert not any(isinstance(e, MessageReceived) for e in events)
    # A middle packet with no first packet before it is refused as well.
    orphan = link.receive_data(wire_packet(b"b", ctrl=0xA0, seq=1), 0.2)
    assert isinstance(orphan[1], ReceiveError)


def test_new_message_inside_a_multi_packet_message_abandons_it() -> None:
    link = LinkEndpoint()
    link.apply_negotiation(64, 3)
    link.receive_data(wire_packet(b"a", ctrl=0xC0, seq=2), 0.0)
    events = link.receive_data(wire_packet(b"\x21", ctrl=0x20), 0.1)
    assert events[0] == ACK
    assert isinstance(events[1], ReceiveError) and "incomplete message dropped" in events[1].reason
    assert events[2] == MessageReceived(b"\x21")
    link.receive_data(wire_packet(b"x", ctrl=0xC0, seq=1), 0.2)
    restarted = link.receive_data(wire_packet(b"y", ctrl=0xE0, seq=1), 0.3)
    assert isinstance(restarted[1], ReceiveError)
    assert link.receive_data(wire_packet(b"z", ctrl=0x80, seq=0), 0.4) == [ACK, MessageReceived(b"yz")]


def test_message_with_more_packets_than_negotiated_is_refused() -> None:
    link = LinkEndpoint()  # 1 packet per message until Negotiate
    link.receive_data(wire_packet(b"a", ctrl=0xC0, seq=1), 0.0)
    events = link.receive_data(wire_packet(b"b", ctrl=0xA0, seq=0), 0.1)
    assert events[0] == ACK
    assert isinstance(events[1], ReceiveError) and "exceeds the negotiated 1" in events[1].reason


def test_answer_from_peer_acknowledges_our_last_packet_implicitly() -> None:
    client = LinkEndpoint()
    client.send_message(b"\x20", 0.0)
    response = wire_packet(bytes.fromhex("0000010000"))
    events = client.receive_data(response, 0.5)  # the meter's ACK was lost, its answer arrived
    assert events == [ACK, MessageSent(b"\x20"), MessageReceived(bytes.fromhex("0000010000"))]
    assert not client.busy


def test_duplicate_does_not_acknowledge_implicitly() -> None:
    link = LinkEndpoint()
    link.receive_data(IDENTIFY_PACKET, 0.0)
    link.send_message(b"\x00", 0.1)
    assert link.receive_data(IDENTIFY_PACKET, 1.0) == [ACK, PeerDuplicate(Packet(b"\x20"))]
    assert link.busy


# --------------------------------------------------------------------------------------------- session timeout


def test_channel_traffic_timeout_resets_the_session() -> None:
    link = LinkEndpoint(LinkConfig(channel_traffic_timeout=DEVICE_CHANNEL_TRAFFIC_TIMEOUT))
    assert link.next_timer() is None  # not armed before any traffic
    link.receive_data(IDENTIFY_PACKET, 0.0)
    link.apply_negotiation(256, 4)
    assert link.next_timer() == pytest.approx(6.0)
    assert link.handle_timer(5.9) == []
    assert link.handle_timer(6.0) == [TrafficTimeout()]
    assert (link.packet_size, link.nbr_packets) == (64, 1)
    assert link.next_timer() is None
    # The receive toggle was forgotten: the same packet is a new message now.
    assert link.receive_data(IDENTIFY_PACKET, 7.0) == [ACK, MessageReceived(b"\x20")]


def test_traffic_timeout_waits_while_a_packet_awaits_its_ack() -> None:
    link = LinkEndpoint(LinkConfig(channel_traffic_timeout=1.0))
    link.receive_data(IDENTIFY_PACKET, 0.0)
    link.send_message(b"\x00", 0.1)
    assert link.next_timer() == pytest.approx(2.1)  # the response timeout, not the traffic timeout
    assert link.receive_data(b"\x06", 0.2) == [MessageSent(b"\x00")]
    assert link.next_timer() == pytest.approx(1.2)


def test_traffic_timeout_is_off_by_default() -> None:
    link = LinkEndpoint()
    link.receive_data(IDENTIFY_PACKET, 0.0)
    assert link.next_timer() is None


def test_reset_drops_queued_messages_and_sizes() -> None:
    link = LinkEndpoint()
    link.apply_negotiation(128, 2)
    link.send_message(b"\x20", 0.0)
    link.send_message(b"\x21", 0.0)
    link.reset()
    assert not link.busy and link.next_timer() is None
    assert (link.packet_size, link.nbr_packets) == (64, 1)
    assert link.receive_data(b"\x06", 0.1) == []


# --------------------------------------------------------------------------------------------- properties

LINK_EVENT_TYPES = (SendBytes, MessageReceived, MessageSent, PeerDuplicate, ReceiveError, LinkFailed, TrafficTimeout)


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.binary(max_size=40), st.floats(0.0, 3.0)), max_size=12),
    st.booleans(),
)
def test_arbitrary_input_only_yields_link_events(chunks: list[tuple[bytes, float]], sending: bool) -> None:
    link = LinkEndpoint(LinkConfig(channel_traffic_timeout=DEVICE_CHANNEL_TRAFFIC_TIMEOUT))
    now = 0.0
    events: list[LinkEvent] = []
    if sending:
        events += link.send_message(bytes(range(40)), now)
    for data, step in chunks:
        now += step
        due = link.next_timer()
        if due is not None and due <= now:
            events += link.handle_timer(now)
        events += link.receive_data(IDENTIFY_PACKET[:3] + data, now)
    assert all(isinstance(e, LINK_EVENT_TYPES) for e in events)
    for event in events:
        if isinstance(event, SendBytes):
            assert event.data in (b"\x06", b"\x15") or event.data[0] == 0xEE


@given(st.lists(st.binary(min_size=1, max_size=56), min_size=1, max_size=6), st.integers(1, 30))
def test_chunking_of_a_clean_stream_does_not_change_delivery(payloads: list[bytes], chunk: int) -> None:
    stream = b"".join(wire_packet(p, ctrl=0x20 * (i % 2)) for i, p in enumerate(payloads))
    whole = LinkEndpoint().receive_data(stream, 0.0)
    pieces: list[LinkEvent] = []
    link = LinkEndpoint()
    for i in range(0, len(stream), chunk):
        pieces += link.receive_data(stream[i : i + chunk], i * 0.001)
    assert whole == pieces
    assert [e.payload for e in whole if isinstance(e, MessageReceived)] == payloads
    assert whole.count(ACK) == len(payloads)
