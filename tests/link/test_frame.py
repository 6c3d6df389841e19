"""HAN frame codec: round trips, byte-exact re-encoding, truncation, corruption and random bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1218.crc import crc16
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from openami.link.frame import FRAME_OVERHEAD, Frame, FrameKind, decode_frame, peek_header

addresses = st.integers(1, 0xFFFE)
data_frames = st.builds(
    Frame.data,
    addresses,
    addresses,
    st.integers(0, 255),
    st.binary(max_size=255),
    ack_request=st.booleans(),
    first=st.booleans(),
    last=st.booleans(),
)
answer_frames = st.builds(
    lambda kind, d, s, q: Frame(kind, d, s, q),
    st.sampled_from([FrameKind.ACK, FrameKind.NAK]),
    addresses,
    addresses,
    st.integers(0, 255),
)
frames = st.one_of(data_frames, answer_frames)


def test_layout_by_hand() -> None:
    f = Frame.data(0x0102, 0x0304, 7, b"\xaa\xbb", ack_request=True, first=True, last=False)
    body = bytes([0xEE, 0x01, 0x02, 0x03, 0x04, 0x20 | 0x10, 7, 2, 0xAA, 0xBB])
    assert f.encode() == body + crc16(body).to_bytes(2, "little")
    ack = Frame.ack(0x0304, 0x0102, 7).encode()
    assert ack[5] == 0x40 and ack[7] == 0 and len(ack) == FRAME_OVERHEAD


@settings(max_examples=200)
@given(frames)
def test_round_trip(frame: Frame) -> None:
    raw = frame.encode()
    assert len(raw) == FRAME_OVERHEAD + len(frame.payload)
    assert decode_frame(raw) == frame
    assert decode_frame(raw).encode() == raw
    hdr = peek_header(raw)
    assert hdr is not None and (hdr.dst, hdr.src, hdr.seq) == (frame.dst, frame.src, frame.seq)


@settings(max_examples=100)
@given(frames)
def test_every_prefix_is_refused(frame: Frame) -> None:
    raw = frame.encode()
    for n in range(len(raw)):
        with pytest.raises(RemoteProtocolError):
            decode_frame(raw[:n])


@settings(max_examples=100)
@given(frames, st.binary(min_size=1, max_size=8))
def test_trailing_garbage_is_refused(frame: Frame, extra: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_frame(frame.encode() + extra)


@settings(max_examples=50)
@given(frames)
def test_every_single_bit_flip_is_refused(frame: Frame) -> None:
    raw = frame.encode()
    for bit in range(8 * len(raw)):
        damaged = bytearray(raw)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(RemoteProtocolError):
            decode_frame(bytes(damaged))


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_protocol_error(raw: bytes) -> None:
    try:
        frame = decode_frame(raw)
    except ProtocolError:
        return
    assert frame.encode() == raw


def _with_crc(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "little")


@pytest.mark.parametrize(
    "body",
    [
        bytes([0xEE, 0, 0, 0, 2, 0x00, 0, 0]),  # dst 0 reserved
        bytes([0xEE, 0xFF, 0xFF, 0, 2, 0x00, 0, 0]),  # dst broadcast reserved
        bytes([0xEE, 0, 1, 0, 0, 0x00, 0, 0]),  # src 0 reserved
        bytes([0xEE, 0, 1, 0, 2, 0x01, 0, 0]),  # reserved ctrl bit
        bytes([0xEE, 0, 1, 0, 2, 0xC0, 0, 0]),  # kind 3
        bytes([0xEE, 0, 1, 0, 2, 0x60, 0, 0]),  # ACK with ack-request bit
        bytes([0xEE, 0, 1, 0, 2, 0x40, 0, 1, 0x55]),  # ACK with a payload
        bytes([0xED, 0, 1, 0, 2, 0x00, 0, 0]),  # bad start byte
    ],
)
def test_bad_fields_with_good_crc_are_refused(body: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_frame(_with_crc(body))


def test_api_misuse_is_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        Frame.data(0, 1, 0, b"")
    with pytest.raises(LocalProtocolError):
        Frame.data(1, 2, 256, b"")
    with pytest.raises(LocalProtocolError):
        Frame.data(1, 2, 0, bytes(256))
    with pytest.raises(LocalProtocolError):
        Frame(FrameKind.ACK, 1, 2, 0, b"x")


def test_peek_header_of_short_input() -> None:
    assert peek_header(b"\xee\x00") is None
    assert peek_header(bytes(20)) is None
