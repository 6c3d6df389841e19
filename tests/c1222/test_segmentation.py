"""C12.22 segmentation and reassembly (openami.c1222.segmentation).

The segment layout (docs/c1222-segmentation.md) follows Itron's C12.22 stack: A3 = APDU size, A8 = APDU
sequence, ``BE 28 02 <offset> 81 <octets>``. Expected wire bytes are written out by hand or built with
this file's own TLV writer, never by the code under test.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openami.c1222.acse import Message, UnknownElement, decode_message
from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.segmentation import (
    SEGMENT_TAG,
    ApduTooLarge,
    InconsistentSegment,
    PartialApdu,
    Reassembler,
    Segment,
    SegmentationError,
    SegmentationNotPossible,
    decode_segment,
    is_segment,
    min_segment_size,
    segment,
)
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

seeds = st.integers(0, 2**32)
"""Seeds of local `random.Random` generators (shuffles of thousands of segments would overrun
Hypothesis' own data budget)."""
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -------------------------------------------------------------------------------- the test's BER writer


def length(n: int, octets: int = 0) -> bytes:
    """BER length of ``n``; ``octets`` > 0 forces the long form with that many octets."""
    if octets == 0:
        if n < 0x80:
            return bytes((n,))
        octets = (n.bit_length() + 7) // 8
    return bytes((0x80 | octets,)) + n.to_bytes(octets, "big")


def tlv(tag: int, content: bytes, octets: int = 0) -> bytes:
    return bytes((tag,)) + length(len(content), octets) + content


def uint(value: int, size: int = 0) -> bytes:
    """INTEGER content: ``size`` raw unsigned octets, or the shortest two's-complement form."""
    if size:
        return value.to_bytes(size, "big")
    return value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")


def make_segment(
    *,
    seq: int = 7,
    size: int = 10,
    offset: int = 0,
    data: bytes = b"0123456789",
    before: bytes = b"",
    between: bytes = b"",
    external: bytes | None = None,
    a3: bytes | None = None,
    a8: bytes | None = None,
) -> bytes:
    """A segment message: ``before`` + A3 + ``between`` + A8 + BE; ``external``, ``a3`` and ``a8``
    replace the contents of the EXTERNAL, A3 and A8 built from the other arguments."""
    if external is None:
        external = tlv(0x02, uint(offset)) + tlv(0x81, data)
    a3 = tlv(0x02, uint(size)) if a3 is None else a3
    a8 = tlv(0x02, uint(seq)) if a8 is None else a8
    body = before + tlv(0xA3, a3) + between + tlv(0xA8, a8)
    return tlv(0x60, body + tlv(0xBE, tlv(0x28, external)))


# -------------------------------------------------------------------------------- a worked example

# A 62-octet Security request from .123.8437 to .123.4, A8 = 5 (built by hand; see the docs).
APDU = bytes.fromhex(
    "603c"
    "a1090607607c86f7540116"  # application context 2.16.124.113620.1.22
    "a20480027b04"  # called .123.4
    "a60580037bc175"  # calling .123.8437
    "a803020105"  # calling AP invocation id 5
    "be1d281b8119"
    "801751"
    "50415353574f5244"
    "202020202020202020202020"
    "0002"  # EPSEM
)
# Its 34-octet segment header: A1, A2 copied, A3 = 62, A6 copied, A8 = 5.
HEADER = "a1090607607c86f7540116a20480027b04a30302013ea60580037bc175a803020105"
# max_size 61 leaves 16 APDU octets per segment (61 - 45 octets of framing): offsets 0, 16, 32, 48.
SEGMENTS_61 = [
    bytes.fromhex("603b" + HEADER + "be17281502010081" + "10" + "603ca1090607607c86f7540116a20480"),
    bytes.fromhex("603b" + HEADER + "be17281502011081" + "10" + "027b04a60580037bc175a803020105be"),
    bytes.fromhex("603b" + HEADER + "be17281502012081" + "10" + "1d281b81198017515041535357" + "4f5244"),
    bytes.fromhex("6039" + HEADER + "be15281302013081" + "0e" + "202020202020202020202020" + "0002"),
]


def test_worked_example_segments_to_hand_built_bytes() -> None:
    assert len(APDU) == 62
    assert segment(APDU, 61, apdu_seq=5) == SEGMENTS_61
    assert [len(s) for s in SEGMENTS_61] == [61, 61, 61, 59]


def test_worked_example_reassembles_in_reverse_order() -> None:
    r = Reassembler(max_apdu_size=1000, max_pending=4, timeout=30.0)
    results = [r.receive(s, ("10.0.0.1", 1153), 0.0) for s in reversed(SEGMENTS_61)]
    assert results == [None, None, None, APDU]
    assert r.pending == 0 and r.counters.completed == 1 and r.counters.segments == 4


def test_segments_are_c1222_messages_for_the_acse_decoder() -> None:
    """Each segment decodes with the ACSE codec: routed by A2, A3 kept as an unknown element."""
    for i, seg in enumerate(SEGMENTS_61):
        msg, used = decode_message(seg)
        assert used == len(seg)
        assert msg.called == ApTitle((123, 4), relative=True)
        assert msg.calling == ApTitle((123, 8437), relative=True)
        assert msg.calling_invocation_id == 5
        assert msg.user_information_indirect_ref == 16 * i
        assert msg.extra == (UnknownElement(0xA3, bytes.fromhex("02013e")),)


def test_decode_segment_fields() -> None:
    seg = decode_segment(SEGMENTS_61[1])
    assert (seg.apdu_seq, seg.apdu_size, seg.offset, seg.end) == (5, 62, 16, 32)
    assert seg.data == APDU[16:32]
    assert seg.context == bytes.fromhex("a1090607607c86f7540116")
    assert seg.called == bytes.fromhex("a20480027b04")
    assert seg.calling == bytes.fromhex("a60580037bc175")
    assert seg.qualifier is None
    assert not seg.complete
    assert seg.encode() == SEGMENTS_61[1]
    assert is_segment(SEGMENTS_61[1]) and not is_segment(APDU)


def test_an_apdu_that_fits_is_sent_whole() -> None:
    assert segment(APDU, 62, apdu_seq=5) == [APDU]
    r = Reassembler(max_apdu_size=62, max_pending=1, timeout=1.0)
    assert r.receive(APDU, "peer", 0.0) == APDU
    assert r.counters.unsegmented == 1 and r.pending == 0


def test_min_segment_size_of_the_example() -> None:
    # 34 header octets + BE 08 28 06 02 01 3d 81 01 xx (10) -> body 44, message 46.
    assert min_segment_size(APDU, apdu_seq=5) == 46
    assert len(segment(APDU, 46, apdu_seq=5)) == 62
    with pytest.raises(SegmentationNotPossible) as info:
        segment(APDU, 45, apdu_seq=5)
    assert info.value.code is ResponseCode.SGNP
    assert isinstance(info.value, LocalProtocolError)


def test_opaque_bytes_are_always_framed() -> None:
    """Bytes that are not a C12.22 message (or have an A3 themselves) never go out unframed."""
    for apdu in (b"", b"\x01\x02\x03", make_segment()):
        segs = segment(apdu, 1000, apdu_seq=1)
        assert len(segs) == 1 and segs[0] != apdu
        assert decode_segment(segs[0]).apdu_size == len(apdu)
        assert Reassembler(1000, 1, 1.0).receive(segs[0], "p", 0.0) == apdu


def test_empty_apdu() -> None:
    (seg,) = segment(b"", 100, apdu_seq=3)
    assert seg == tlv(
        0x60,
        tlv(0xA3, b"\x02\x01\x00") + tlv(0xA8, b"\x02\x01\x03") + tlv(0xBE, bytes.fromhex("28 05 02 01 00 81 00")),
    )
    assert min_segment_size(b"", apdu_seq=3) == len(seg)
    with pytest.raises(SegmentationNotPossible):
        segment(b"", len(seg) - 1, apdu_seq=3)


# -------------------------------------------------------------------------------- round trips (hypothesis)


def deliver(r: Reassembler, segs: list[bytes], peer: object, rnd: random.Random, dup: float) -> list[bytes]:
    """Feed ``segs`` shuffled with duplicates; returns every APDU that came out."""
    order = list(segs) + [s for s in segs if rnd.random() < dup]
    rnd.shuffle(order)
    out = []
    for s in order:
        got = r.receive(s, peer, 0.0)
        if got is not None:
            out.append(got)
    return out


@st.composite
def apdu_and_size(draw: st.DrawFn) -> tuple[bytes, int, int]:
    """Any APDU of 0..20 000 octets (small ones shrinkable, large ones random) and any max_size from
    the smallest workable one to 2000."""
    kind = draw(st.sampled_from(["small", "any", "large"]))
    if kind == "small":
        apdu = draw(st.binary(max_size=300))
    else:
        n = draw(st.integers(0, 20_000) if kind == "any" else st.integers(15_000, 20_000))
        apdu = random.Random(draw(st.integers(0, 2**32))).randbytes(n)  # a local, seeded generator
    seq = draw(st.integers(0, 2**32))
    low = min_segment_size(apdu, apdu_seq=seq)
    max_size = draw(st.integers(low, 2000) | st.integers(low, low + 40))
    return apdu, seq, max_size


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(apdu_and_size(), seeds, st.floats(0, 0.5))
def test_any_apdu_segments_and_reassembles_in_any_order(case: tuple[bytes, int, int], seed: int, dup: float) -> None:
    apdu, seq, max_size = case
    segs = segment(apdu, max_size, apdu_seq=seq)
    assert all(len(s) <= max_size for s in segs)
    if segs != [apdu]:
        pos = 0
        for s in segs:
            seg = decode_segment(s)
            assert (seg.apdu_seq, seg.apdu_size, seg.offset) == (seq, len(apdu), pos)
            assert seg.data == apdu[pos : seg.end]
            pos = seg.end
        assert pos == len(apdu)
    r = Reassembler(max_apdu_size=20_000, max_pending=1, timeout=60.0)
    out = deliver(r, segs, "peer", random.Random(seed), dup)
    # Duplicates arriving after completion start the APDU anew (as a retry would), so it may come
    # out again or stay partial; nothing else ever comes out.
    assert out[:1] == [apdu] and all(x == apdu for x in out)
    assert r.pending <= 1 and r.counters.refused == 0


@FAST
@given(st.binary(max_size=3000), st.integers(0, 2**32), st.data())
def test_max_size_below_the_minimum_is_refused(apdu: bytes, seq: int, data: st.DataObject) -> None:
    low = min_segment_size(apdu, apdu_seq=seq)
    max_size = data.draw(st.integers(1, low - 1))
    with pytest.raises(SegmentationNotPossible):
        segment(apdu, max_size, apdu_seq=seq)


titles = st.builds(ApTitle, st.lists(st.integers(0, 2**20), min_size=1, max_size=4).map(tuple), st.just(True))


@st.composite
def messages(draw: st.DrawFn) -> Message:
    return Message(
        called=draw(titles),
        calling=draw(st.none() | titles),
        calling_invocation_id=draw(st.integers(0, 2**16)),
        user_information=draw(st.binary(min_size=1, max_size=3000)),
    )


@FAST
@given(messages(), st.integers(60, 600), seeds)
def test_acse_apdus_keep_their_routing_elements(msg: Message, max_size: int, seed: int) -> None:
    apdu = msg.encode()
    segs = segment(apdu, max_size, apdu_seq=msg.calling_invocation_id or 0)
    for s in segs:
        decoded, _ = decode_message(s)
        assert decoded.called == msg.called and decoded.calling == msg.calling
        assert decoded.calling_invocation_id == msg.calling_invocation_id
    out = deliver(Reassembler(20_000, 1, 1.0), segs, "p", random.Random(seed), 0.2)
    assert out[0] == apdu and Message.decode(out[0]) == msg


@FAST
@given(
    st.lists(st.binary(min_size=1, max_size=1500), min_size=2, max_size=6),
    st.integers(40, 300),
    seeds,
)
def test_interleaved_apdus_from_the_same_and_different_peers(apdus: list[bytes], max_size: int, seed: int) -> None:
    """APDU i goes from peer i % 2 with sequence i // 2: same peer different sequence, and the same
    sequence from different peers; segments of all of them arrive mixed."""
    tagged = []
    for i, apdu in enumerate(apdus):
        for s in segment(apdu, max_size, apdu_seq=i // 2):
            tagged.append((f"peer{i % 2}", i, s))
    random.Random(seed).shuffle(tagged)
    r = Reassembler(max_apdu_size=2000, max_pending=len(apdus), timeout=5.0)
    done: dict[int, bytes] = {}
    for peer, i, s in tagged:
        got = r.receive(s, peer, 1.0)
        if got is not None:
            assert i not in done
            done[i] = got
    assert done == dict(enumerate(apdus))
    assert r.pending == 0 and r.counters.dropped == 0


def test_same_peer_and_sequence_but_different_calling_titles_do_not_mix() -> None:
    a = Message(
        called=ApTitle((1,), True), calling=ApTitle((2,), True), calling_invocation_id=1, user_information=b"A" * 300
    ).encode()
    b = Message(
        called=ApTitle((1,), True), calling=ApTitle((3,), True), calling_invocation_id=1, user_information=b"B" * 300
    ).encode()
    sa, sb = segment(a, 100, apdu_seq=1), segment(b, 100, apdu_seq=1)
    r = Reassembler(1000, 2, 1.0)
    out = [r.receive(s, "relay", 0.0) for pair in zip(sa, sb, strict=False) for s in pair]
    out += [r.receive(s, "relay", 0.0) for s in sa[len(sb) :] + sb[len(sa) :]]
    assert sorted(x for x in out if x is not None) == sorted([a, b])


# -------------------------------------------------------------------------------- decoder robustness


def test_every_prefix_and_trailing_garbage_is_refused() -> None:
    for s in SEGMENTS_61:
        for n in range(len(s)):
            with pytest.raises(ProtocolError):
                Reassembler(1000, 1, 1.0).receive(s[:n], "p", 0.0)
            with pytest.raises(ProtocolError):
                decode_segment(s[:n])
        with pytest.raises(ProtocolError):
            Reassembler(1000, 1, 1.0).receive(s + b"\x00", "p", 0.0)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    r = Reassembler(1000, 2, 1.0)
    try:
        got = r.receive(data, "p", 0.0)
    except ProtocolError:
        assert r.counters.refused == 1
        return
    assert got is None or isinstance(got, bytes)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SEGMENTS_61), st.data())
def test_mutated_segments_decode_or_raise_protocol_error(seg: bytes, data: st.DataObject) -> None:
    buf = bytearray(seg)
    for _ in range(data.draw(st.integers(1, 4))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    r = Reassembler(1000, 2, 1.0)
    for s in (bytes(buf), *SEGMENTS_61):
        try:
            got = r.receive(s, "p", 0.0)
        except ProtocolError:
            continue
        assert got is None or isinstance(got, bytes)


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (tlv(0x60, tlv(0xA3, b"\x02\x01\x0a") + tlv(0xBE, tlv(0x28, b"\x02\x01\x00\x81\x01x"))), "no A8"),
        (tlv(0x60, tlv(0xA3, b"\x02\x01\x0a") + tlv(0xA8, b"\x02\x01\x01")), "no BE"),
        (make_segment(between=tlv(0xA4, b"\x02\x01\x01")), "A4 in a segment"),
        (make_segment(between=tlv(0xAC, b"\x00")), "AC in a segment"),
        (make_segment(before=tlv(0x8B, b"\x01")), "8B in a segment"),
        (make_segment(before=tlv(0xA6, tlv(0x80, b"\x01"))), "A6 before A3"),
        (make_segment(between=tlv(0xA3, b"\x02\x01\x0a")), "A3 twice"),
        (make_segment(external=tlv(0x81, b"0123456789")), "no offset"),
        (make_segment(external=tlv(0x02, b"") + tlv(0x81, b"x")), "empty offset INTEGER"),
        (make_segment(external=tlv(0x02, b"\x00") + tlv(0x81, b"x") + b"\x00"), "octets after 81"),
        (make_segment(external=tlv(0x02, b"\x00") + tlv(0x04, b"x")), "octet string not 81"),
        (make_segment(size=10, offset=5, data=b"123456"), "runs past the APDU"),
        (make_segment(size=10, offset=3, data=b""), "empty segment"),
        (make_segment(size=10, offset=10, data=b""), "empty segment at the end"),
        (
            tlv(0x60, tlv(0xA3, b"\x04\x01\x0a") + tlv(0xA8, b"\x02\x01\x01") + tlv(0xBE, tlv(0x28, b""))),
            "A3 not INTEGER",
        ),
        (make_segment(a8=b"\x02\x01\x07\x00"), "octets after A8's INTEGER"),
        (make_segment(a8=b"\x02\x11" + bytes(17)), "17-octet A8"),
        (make_segment(a3=b"\x02\x01"), "A3 INTEGER truncated"),
        (make_segment(before=tlv(0xA5, b"")), "unknown element"),
    ],
)
def test_malformed_segments_are_segmentation_errors(message: bytes, why: str) -> None:
    r = Reassembler(1000, 1, 1.0)
    with pytest.raises(SegmentationError) as info:
        r.receive(message, "p", 0.0)
    assert info.value.code is ResponseCode.SGERR, why
    assert isinstance(info.value, RemoteProtocolError)
    assert r.counters.refused == 1 and r.pending == 0


def test_not_a_message_is_a_plain_remote_error() -> None:
    for data in (b"", b"\x61\x00", b"\x60\x05\xa1", b"\x60\x81"):
        with pytest.raises(RemoteProtocolError) as info:
            Reassembler(10, 1, 1.0).receive(data, "p", 0.0)
        assert not isinstance(info.value, SegmentationError)
    with pytest.raises(RemoteProtocolError):
        decode_segment(APDU)  # a whole message is not a segment


def test_unsigned_integers_as_the_reference_stack_writes_them() -> None:
    """Itron's stack writes offsets and sizes as 1-2 raw unsigned octets (``02 01 C8`` for 200)."""
    data = bytes(range(56))
    seg = make_segment(a3=b"\x02\x01\xc8", a8=b"\x02\x01\x80", external=tlv(0x02, b"\x90") + tlv(0x81, data))
    decoded = decode_segment(seg)
    assert (decoded.apdu_seq, decoded.apdu_size, decoded.offset, decoded.data) == (0x80, 200, 0x90, data)
    assert decoded.encode() == seg


def test_non_minimal_lengths_decode_and_reencode_byte_exact() -> None:
    body = (
        tlv(0xA2, tlv(0x80, b"\x01"), octets=1)
        + tlv(0xA3, tlv(0x02, b"\x05"), octets=2)
        + tlv(0xA8, tlv(0x02, b"\x09"))
        + tlv(0xBE, tlv(0x28, tlv(0x02, b"\x01") + tlv(0x81, b"abc", octets=2)), octets=1)
    )
    wire = tlv(0x60, body, octets=2)
    seg = decode_segment(wire)
    assert seg == Segment(
        apdu_seq=9, apdu_size=5, offset=1, data=b"abc", called=tlv(0xA2, tlv(0x80, b"\x01"), octets=1)
    )
    assert seg.encode() == wire


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    size = draw(st.integers(0, 2**40))
    n = draw(st.integers(1, min(size, 300))) if size else 0
    return Segment(
        apdu_seq=draw(st.integers(0, 2**127 - 1)),
        apdu_size=size,
        offset=draw(st.integers(0, size - n)),
        data=draw(st.binary(min_size=n, max_size=n)),
        called=draw(st.none() | titles.map(lambda t: tlv(0xA2, tlv(0x80, t.content())))),
        calling=draw(st.none() | titles.map(lambda t: tlv(0xA6, tlv(0x80, t.content())))),
        qualifier=draw(st.none() | st.integers(0, 255).map(lambda q: tlv(0xA7, tlv(0x02, bytes((q,)))))),
    )


@settings(max_examples=200, deadline=None)
@given(segments())
def test_segment_round_trip(seg: Segment) -> None:
    wire = seg.encode()
    back = decode_segment(wire)
    assert back == seg
    assert back.encode() == wire
    # Independently: A3 holds the size, A8 the sequence, the BE reference the offset.
    if seg.data:  # the ACSE codec wants a non-empty octet string
        msg, _ = decode_message(wire)
        assert msg.calling_invocation_id == seg.apdu_seq
        assert msg.user_information_indirect_ref == seg.offset
        assert msg.extra == (UnknownElement(0xA3, tlv(0x02, uint(seg.apdu_size))),)


# -------------------------------------------------------------------------------- inconsistency


def test_overlap_with_different_content_is_refused_and_discards_the_partial() -> None:
    r = Reassembler(100, 2, 1.0)
    assert r.receive(Segment(apdu_seq=1, apdu_size=10, offset=0, data=b"abcde").encode(), "p", 0.0) is None
    # Same octets overlapping: fine (a partial retransmission).
    assert r.receive(Segment(apdu_seq=1, apdu_size=10, offset=2, data=b"cdef").encode(), "p", 0.0) is None
    with pytest.raises(InconsistentSegment) as info:
        r.receive(Segment(apdu_seq=1, apdu_size=10, offset=4, data=b"Xghij").encode(), "p", 0.0)
    assert info.value.code is ResponseCode.SGERR
    assert r.pending == 0 and r.counters.aborted == 1 and r.counters.refused == 1
    # The peer starts over: the APDU now reassembles from fresh segments.
    assert r.receive(Segment(apdu_seq=1, apdu_size=10, offset=5, data=b"Fghij").encode(), "p", 0.0) is None
    assert r.receive(Segment(apdu_seq=1, apdu_size=10, offset=0, data=b"abcde").encode(), "p", 0.0) == b"abcdeFghij"


def test_overlap_check_covers_every_run_already_held() -> None:
    r = Reassembler(100, 1, 1.0)
    for off in (0, 4, 8):
        r.receive(Segment(apdu_seq=1, apdu_size=12, offset=off, data=b"ab").encode(), "p", 0.0)
    # Runs at 4..6 and 8..10 are held; the second one differs.
    with pytest.raises(InconsistentSegment):
        r.receive(Segment(apdu_seq=1, apdu_size=12, offset=3, data=b"_ab_aX_").encode(), "p", 0.0)


def test_total_length_change_is_refused() -> None:
    r = Reassembler(100, 2, 1.0)
    r.receive(Segment(apdu_seq=4, apdu_size=10, offset=0, data=b"abc").encode(), "p", 0.0)
    with pytest.raises(InconsistentSegment):
        r.receive(Segment(apdu_seq=4, apdu_size=11, offset=3, data=b"def").encode(), "p", 0.0)
    assert r.pending == 0


def test_header_change_is_refused() -> None:
    r = Reassembler(100, 2, 1.0)
    called = tlv(0xA2, tlv(0x80, b"\x01"))
    r.receive(Segment(apdu_seq=4, apdu_size=10, offset=0, data=b"abc", called=called).encode(), "p", 0.0)
    other = tlv(0xA2, tlv(0x80, b"\x02"))
    with pytest.raises(InconsistentSegment):
        r.receive(Segment(apdu_seq=4, apdu_size=10, offset=3, data=b"def", called=other).encode(), "p", 0.0)


def test_a_retry_after_completion_is_delivered_again() -> None:
    """A peer that resends a whole APDU (a retry, same A8) gets it through again: telling retries
    from duplicates is the association layer's job."""
    r = Reassembler(1000, 1, 1.0)
    assert [r.receive(s, "p", 0.0) for s in SEGMENTS_61] == [None, None, None, APDU]
    assert [r.receive(s, "p", 1.0) for s in SEGMENTS_61] == [None, None, None, APDU]
    assert r.counters.completed == 2 and r.counters.duplicates == 0


def test_duplicates_are_counted_and_ignored() -> None:
    r = Reassembler(1000, 1, 1.0)
    for s in (SEGMENTS_61[0], SEGMENTS_61[0], SEGMENTS_61[2], SEGMENTS_61[0], SEGMENTS_61[1]):
        assert r.receive(s, "p", 0.0) is None
    assert r.counters.duplicates == 2 and r.counters.segments == 5
    assert r.partials()[0].received == 48
    assert r.receive(SEGMENTS_61[3], "p", 0.0) == APDU


# -------------------------------------------------------------------------------- limits and timers


def test_max_apdu_size_refusal() -> None:
    r = Reassembler(max_apdu_size=61, max_pending=2, timeout=1.0)
    with pytest.raises(ApduTooLarge) as info:
        r.receive(SEGMENTS_61[0], "p", 0.0)  # announces 62 octets
    assert (info.value.size, info.value.limit, info.value.code) == (62, 61, ResponseCode.SGERR)
    assert r.pending == 0
    with pytest.raises(ApduTooLarge):
        r.receive(APDU, "p", 0.0)  # a whole message over the limit
    r62 = Reassembler(max_apdu_size=62, max_pending=2, timeout=1.0)
    assert [r62.receive(s, "p", 0.0) for s in SEGMENTS_61][-1] == APDU


def test_memory_bound_drops_the_oldest_partial() -> None:
    r = Reassembler(max_apdu_size=100, max_pending=3, timeout=10.0)
    first = [Segment(apdu_seq=seq, apdu_size=4, offset=0, data=b"ab").encode() for seq in range(4)]
    second = [Segment(apdu_seq=seq, apdu_size=4, offset=2, data=b"cd").encode() for seq in range(4)]
    for i, s in enumerate(first):
        assert r.receive(s, "p", float(i)) is None
    assert r.pending == 3 and r.counters.dropped == 1
    assert [p.apdu_seq for p in r.partials()] == [1, 2, 3]
    assert r.receive(second[0], "p", 5.0) is None  # seq 0 was dropped: this starts it again...
    assert r.counters.dropped == 2  # ...and pushes seq 1 out
    assert r.receive(second[3], "p", 5.0) == b"abcd"
    assert r.pending == 2


def test_timeouts_with_injected_time() -> None:
    r = Reassembler(max_apdu_size=100, max_pending=4, timeout=10.0)
    assert r.next_timer() is None
    r.receive(Segment(apdu_seq=1, apdu_size=6, offset=0, data=b"ab").encode(), "a", 5.0)
    r.receive(Segment(apdu_seq=2, apdu_size=6, offset=0, data=b"xy").encode(), "b", 7.0)
    r.receive(Segment(apdu_seq=1, apdu_size=6, offset=2, data=b"cd").encode(), "a", 8.0)
    assert r.next_timer() == 15.0  # from the first segment, not the latest
    assert r.handle_timer(14.999) == []
    assert r.handle_timer(15.0) == [PartialApdu("a", None, 1, 6, 4, 5.0)]
    assert r.next_timer() == 17.0
    assert r.handle_timer(100.0) == [PartialApdu("b", None, 2, 6, 2, 7.0)]
    assert r.counters.expired == 2 and r.pending == 0 and r.next_timer() is None
    # A late segment starts a new partial APDU.
    assert r.receive(Segment(apdu_seq=1, apdu_size=6, offset=4, data=b"ef").encode(), "a", 101.0) is None
    assert r.partials() == [PartialApdu("a", None, 1, 6, 2, 101.0)]


def test_discard_a_peer() -> None:
    r = Reassembler(max_apdu_size=100, max_pending=4, timeout=10.0)
    r.receive(Segment(apdu_seq=1, apdu_size=6, offset=0, data=b"ab").encode(), "a", 0.0)
    r.receive(Segment(apdu_seq=1, apdu_size=6, offset=0, data=b"ab").encode(), "b", 0.0)
    assert [p.peer for p in r.discard("a")] == ["a"]
    assert [p.peer for p in r.partials()] == ["b"]


# -------------------------------------------------------------------------------- API misuse


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_apdu_size": 0, "max_pending": 1, "timeout": 1.0},
        {"max_apdu_size": 10, "max_pending": 0, "timeout": 1.0},
        {"max_apdu_size": 10, "max_pending": 1, "timeout": 0.0},
        {"max_apdu_size": 10, "max_pending": 1, "timeout": float("inf")},
        {"max_apdu_size": True, "max_pending": 1, "timeout": 1.0},
    ],
)
def test_bad_reassembler_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(LocalProtocolError):
        Reassembler(**kwargs)  # type: ignore[arg-type]


def test_bad_segment_arguments() -> None:
    with pytest.raises(LocalProtocolError):
        segment(APDU, 0, apdu_seq=1)
    with pytest.raises(LocalProtocolError):
        segment(APDU, 100, apdu_seq=-1)
    with pytest.raises(LocalProtocolError):
        segment(APDU, 100, apdu_seq=2**127)
    bad: list[dict[str, object]] = [
        {"apdu_seq": 1, "apdu_size": 4, "offset": 3, "data": b"ab"},  # runs past the APDU
        {"apdu_seq": 1, "apdu_size": 4, "offset": 0, "data": b""},  # empty
        {"apdu_seq": 1, "apdu_size": 4, "offset": 0, "data": b"a", "called": b"\xa6\x00"},  # wrong tag
        {"apdu_seq": 1, "apdu_size": 4, "offset": 0, "data": b"a", "called": b"\xa2\x05\x00"},  # truncated
        {"apdu_seq": 1, "apdu_size": 4, "offset": 0, "data": b"a", "calling": b"\xa6\x00\x00"},  # trailing
        {"apdu_seq": -1, "apdu_size": 4, "offset": 0, "data": b"a"},
        {"apdu_seq": 1, "apdu_size": 4, "offset": 0, "data": "a"},
    ]
    for kwargs in bad:
        with pytest.raises(LocalProtocolError):
            Segment(**kwargs)  # type: ignore[arg-type]


def test_segment_tag_constant() -> None:
    assert SEGMENT_TAG == 0xA3
