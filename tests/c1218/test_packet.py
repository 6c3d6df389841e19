"""Packets: encode/decode, every prefix, trailing garbage, random bytes, and the streaming parser."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1218.packet import (
    Ack,
    Nak,
    Packet,
    PacketError,
    PacketErrorKind,
    PacketParser,
    ParserEvent,
    decode_packet,
)
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

from .test_crc import reference_crc

IDENTIFY_PACKET = bytes.fromhex("EE 00 00 00 00 01 20 13 10")  # facts §5


def wire_packet(data: bytes, ctrl: int = 0, seq: int = 0, identity: int = 0) -> bytes:
    """Packet bytes built independently of the code under test (bitwise reference CRC)."""
    body = bytes((0xEE, identity, ctrl, seq)) + len(data).to_bytes(2, "big") + data
    return body + reference_crc(body).to_bytes(2, "little")


packets = st.builds(
    Packet,
    data=st.binary(min_size=1, max_size=80),
    ctrl=st.integers(0, 255),
    seq=st.integers(0, 255),
    identity=st.integers(0, 255),
)


# --------------------------------------------------------------------------------------------- Packet


def test_facts_example_encodes() -> None:
    assert Packet(b"\x20").encode() == IDENTIFY_PACKET


def test_facts_example_decodes() -> None:
    packet = decode_packet(IDENTIFY_PACKET)
    assert packet == Packet(data=b"\x20", ctrl=0, seq=0, identity=0)
    assert not packet.multi_packet and not packet.first_packet and not packet.toggle
    assert packet.data_format == 0


def test_build_sets_control_bits() -> None:
    packet = Packet.build(b"x", seq=3, multi_packet=True, first_packet=True, toggle=True, data_format=1)
    assert packet.ctrl == 0x80 | 0x40 | 0x20 | 0x01
    assert packet.seq == 3
    assert (packet.multi_packet, packet.first_packet, packet.toggle, packet.data_format) == (True, True, True, 1)
    assert Packet.build(b"x", toggle=True).ctrl == 0x20


def test_bytearray_data_is_stored_as_bytes() -> None:
    assert Packet(bytearray(b"ab")).data == b"ab"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": b""},
        {"data": bytes(0x10000)},
        {"data": b"x", "ctrl": 256},
        {"data": b"x", "seq": -1},
        {"data": b"x", "identity": 300},
    ],
)
def test_invalid_packet_fields_raise_local_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        Packet(**kwargs)  # type: ignore[arg-type]


def test_invalid_data_format_raises() -> None:
    with pytest.raises(LocalProtocolError):
        Packet.build(b"x", data_format=4)


def test_every_prefix_is_refused() -> None:
    for cut in range(len(IDENTIFY_PACKET)):
        with pytest.raises(RemoteProtocolError):
            decode_packet(IDENTIFY_PACKET[:cut])


@pytest.mark.parametrize("extra", [b"\x00", b"\x06", IDENTIFY_PACKET])
def test_trailing_bytes_are_refused(extra: bytes) -> None:
    with pytest.raises(RemoteProtocolError, match="trailing"):
        decode_packet(IDENTIFY_PACKET + extra)


def test_bad_crc_start_and_length_are_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="CRC"):
        decode_packet(IDENTIFY_PACKET[:-1] + b"\x11")
    with pytest.raises(RemoteProtocolError, match="starts with"):
        decode_packet(b"\xef" + IDENTIFY_PACKET[1:])
    zero_length = bytes.fromhex("EE 00 00 00 00 00")
    with pytest.raises(RemoteProtocolError, match="length 0"):
        decode_packet(zero_length + reference_crc(zero_length).to_bytes(2, "little"))
    long_packet = wire_packet(bytes(57))
    assert decode_packet(long_packet).data == bytes(57)
    with pytest.raises(RemoteProtocolError, match="length 57"):
        decode_packet(long_packet, max_length=56)


@given(packets)
def test_round_trip(packet: Packet) -> None:
    assert decode_packet(packet.encode()) == packet


@given(st.binary(min_size=1, max_size=80), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_byte_exact_reencode(data: bytes, ctrl: int, seq: int, identity: int) -> None:
    raw = wire_packet(data, ctrl, seq, identity)
    packet = decode_packet(raw)
    assert (packet.data, packet.ctrl, packet.seq, packet.identity) == (data, ctrl, seq, identity)
    assert packet.encode() == raw


@given(st.binary(max_size=120))
def test_random_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    try:
        packet = decode_packet(data)
    except ProtocolError:
        return
    assert packet.encode() == data


@given(st.binary(max_size=40))
def test_random_payload_behind_valid_header_decodes_or_raises(tail: bytes) -> None:
    data = bytes.fromhex("EE 00 00 00") + len(tail).to_bytes(2, "big") + tail + b"\x00\x00"
    try:
        packet = decode_packet(data)
    except RemoteProtocolError:
        return
    assert packet.encode() == data


# --------------------------------------------------------------------------------------------- parser


def feed_all(parser: PacketParser, data: bytes) -> list[ParserEvent]:
    return parser.feed(data)


def feed_bytewise(parser: PacketParser, data: bytes) -> list[ParserEvent]:
    out: list[ParserEvent] = []
    for i in range(len(data)):
        out += parser.feed(data[i : i + 1])
    return out


def test_parser_stream_of_ack_packet_nak_and_garbage() -> None:
    stream = b"\x06" + IDENTIFY_PACKET + b"\x15\x00\x41" + wire_packet(b"\x00", ctrl=0x20) + b"\x06"
    parser = PacketParser()
    assert parser.feed(stream) == [
        Ack(),
        Packet(b"\x20"),
        Nak(),
        Packet(b"\x00", ctrl=0x20),
        Ack(),
    ]
    assert parser.discarded == 2
    assert parser.pending == 0


def test_parser_waits_for_the_rest_of_a_packet() -> None:
    parser = PacketParser()
    assert parser.feed(IDENTIFY_PACKET[:5]) == []
    assert parser.pending == 5
    assert parser.feed(IDENTIFY_PACKET[5:]) == [Packet(b"\x20")]
    assert parser.pending == 0


def test_parser_bad_crc_resyncs_on_next_start_byte_ignoring_ack_nak_in_between() -> None:
    broken = bytearray(wire_packet(b"\x06\x15\x06 data"))
    broken[-1] ^= 0xFF
    parser = PacketParser()
    events = parser.feed(bytes(broken) + b"\x06" + IDENTIFY_PACKET)
    assert [type(e) for e in events] == [PacketError, Packet]
    error = events[0]
    assert isinstance(error, PacketError)
    assert error.kind is PacketErrorKind.BAD_CRC
    assert error.raw == bytes(broken)
    assert isinstance(error.as_exception(), RemoteProtocolError)
    assert events[1] == Packet(b"\x20")
    # After the resynchronisation, ACK/NAK bytes count again.
    assert parser.feed(b"\x06\x15") == [Ack(), Nak()]


def test_parser_length_limit_follows_negotiated_size() -> None:
    big = wire_packet(bytes(range(57)))
    parser = PacketParser()  # 64-byte packets: 56 data bytes at most
    events = parser.feed(big)
    assert isinstance(events[0], PacketError)
    assert events[0].kind is PacketErrorKind.BAD_LENGTH
    assert events[0].raw == big[:6]
    assert Packet(bytes(range(57))) not in events
    parser = PacketParser(max_length=248)
    assert parser.feed(big) == [Packet(bytes(range(57)))]
    parser.max_length = 56
    assert isinstance(parser.feed(big)[0], PacketError)
    with pytest.raises(LocalProtocolError):
        parser.max_length = 0


def test_parser_zero_length_is_bad_length() -> None:
    zero = bytes.fromhex("EE 00 00 00 00 00")
    events = PacketParser().feed(zero + reference_crc(zero).to_bytes(2, "little") + IDENTIFY_PACKET)
    assert isinstance(events[0], PacketError) and events[0].kind is PacketErrorKind.BAD_LENGTH
    assert events[-1] == Packet(b"\x20")


def test_truncated_packet_then_whole_one() -> None:
    whole = wire_packet(bytes(range(40)), ctrl=0x20)
    truncated = wire_packet(bytes(range(100, 130)))[:12]
    events = PacketParser().feed(truncated + whole)
    # The truncated packet swallows part of the next one, fails its CRC, and the scan finds the whole one.
    assert [type(e) for e in events] == [PacketError, Packet]
    assert events[1] == Packet(bytes(range(40)), ctrl=0x20)


def test_expire_rejects_incomplete_packet() -> None:
    parser = PacketParser()
    assert parser.feed(IDENTIFY_PACKET[:7] + b"\x06") == []
    events = parser.expire()
    assert len(events) == 1
    assert isinstance(events[0], PacketError) and events[0].kind is PacketErrorKind.INCOMPLETE
    assert events[0].raw == IDENTIFY_PACKET[:7] + b"\x06"
    assert parser.pending == 0
    assert parser.expire() == []


def test_expire_of_short_header() -> None:
    parser = PacketParser()
    parser.feed(b"\xee\x00")
    (event,) = parser.expire()
    assert isinstance(event, PacketError) and event.kind is PacketErrorKind.INCOMPLETE


def test_reset_forgets_buffered_bytes() -> None:
    parser = PacketParser()
    parser.feed(IDENTIFY_PACKET[:4])
    parser.reset()
    assert parser.pending == 0
    assert parser.feed(IDENTIFY_PACKET) == [Packet(b"\x20")]


separators = st.sampled_from([b"", b"\x06", b"\x15", b"\x00", b"\x41\x42", b"\x06\x15"])


@given(st.lists(st.tuples(packets, separators), max_size=8))
def test_clean_stream_yields_exactly_the_packets(items: list[tuple[Packet, bytes]]) -> None:
    stream = b"".join(p.encode() + sep for p, sep in items)
    expected: list[ParserEvent] = []
    for packet, sep in items:
        expected.append(packet)
        expected += [Ack() if b == 0x06 else Nak() for b in sep if b in (0x06, 0x15)]
    parser = PacketParser(max_length=80)
    assert parser.feed(stream) == expected
    assert feed_bytewise(PacketParser(max_length=80), stream) == expected


def _noisy_stream(seed: int) -> bytes:
    rng = random.Random(seed)
    parts = []
    for _ in range(rng.randint(0, 10)):
        kind = rng.randrange(5)
        packet = wire_packet(rng.randbytes(rng.randint(1, 70)), ctrl=rng.randrange(256), seq=rng.randrange(256))
        if kind == 0:
            parts.append(packet)
        elif kind == 1:
            flipped = bytearray(packet)
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            parts.append(bytes(flipped))
        elif kind == 2:
            parts.append(packet[: rng.randrange(1, len(packet))])
        elif kind == 3:
            parts.append(bytes(rng.choice((0x06, 0x15, 0xEE, 0x00)) for _ in range(rng.randint(1, 4))))
        else:
            parts.append(rng.randbytes(rng.randint(1, 20)))
    return b"".join(parts)


@settings(max_examples=200)
@given(st.integers(0, 2**32), st.lists(st.integers(1, 50), min_size=1, max_size=30))
def test_chunking_does_not_change_events(seed: int, cuts: list[int]) -> None:
    stream = _noisy_stream(seed)
    whole_parser = PacketParser(max_length=64)
    whole = whole_parser.feed(stream) + whole_parser.expire()
    bytewise_parser = PacketParser(max_length=64)
    bytewise = feed_bytewise(bytewise_parser, stream) + bytewise_parser.expire()
    chunked_parser = PacketParser(max_length=64)
    chunked: list[ParserEvent] = []
    pos, i = 0, 0
    while pos < len(stream):
        size = cuts[i % len(cuts)]
        chunked += chunked_parser.feed(stream[pos : pos + size])
        pos += size
        i += 1
    chunked += chunked_parser.expire()
    assert whole == bytewise == chunked
    assert whole_parser.discarded == bytewise_parser.discarded == chunked_parser.discarded


@settings(max_examples=200)
@given(st.binary(max_size=300), st.integers(1, 300))
def test_arbitrary_bytes_yield_only_packets_acks_naks_or_protocol_errors(data: bytes, max_length: int) -> None:
    parser = PacketParser(max_length=max_length)
    events = feed_all(parser, data) + parser.expire()
    for event in events:
        assert isinstance(event, Packet | Ack | Nak | PacketError)
        if isinstance(event, PacketError):
            assert isinstance(event.as_exception(), ProtocolError)
            assert event.raw[0] == 0xEE
        if isinstance(event, Packet):
            assert 1 <= len(event.data) <= max_length
            assert decode_packet(event.encode(), max_length=max_length) == event
    assert parser.pending == 0
