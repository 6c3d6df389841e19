"""The C12.22 ACSE APDU codec (openami.c1222.acse).

Expected wire bytes are built here with the test's own TLV writer from the layouts in
c12-protocol-facts.md §1 (and Wireshark's asn1/c1222/c1222.asn), never by the code under test.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openami.c1222.acse import (
    AeQualifier,
    C1221Auth,
    C1221AuthKind,
    C1222Auth,
    IncompleteMessageError,
    Message,
    OctetAlignedAuth,
    Tag,
    UnknownElement,
    decode_message,
    encode_message,
    message_length,
)
from openami.c1222.aptitle import ApTitle
from openami.c1222.framing import MessageSplitter
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

# The standard's Example 8 request (c12-protocol-facts.md V6), as captured.
EXAMPLE8_REQUEST = bytes.fromhex(
    "604fa20580037bc175a60480027b04a803020103ac0fa20da00ba109800102810448f3d061be2a282881268841d10cda"
    "76206811b36f781489a11997773e117cb07aa3aa40374a7107c50da7f799c5d4e8"
)
EXAMPLE8_EPSEM = EXAMPLE8_REQUEST[-0x26:]

# -------------------------------------------------------------------------------- the test's BER writer


def length(n: int, octets: int = 0) -> bytes:
    """BER length of ``n``; ``octets`` > 0 forces the long form with that many octets (may be
    non-minimal, e.g. ``81 05``)."""
    if octets == 0:
        if n < 0x80:
            return bytes((n,))
        octets = (n.bit_length() + 7) // 8
    return bytes((0x80 | octets,)) + n.to_bytes(octets, "big")


def tlv(tag: int, content: bytes, octets: int = 0) -> bytes:
    return bytes((tag,)) + length(len(content), octets) + content


def oid_content(arcs: tuple[int, ...], relative: bool) -> bytes:
    def b128(v: int) -> bytes:
        out = [v & 0x7F]
        v >>= 7
        while v:
            out.append(0x80 | (v & 0x7F))
            v >>= 7
        return bytes(reversed(out))

    if relative:
        return b"".join(b128(a) for a in arcs)
    return b128(40 * arcs[0] + arcs[1]) + b"".join(b128(a) for a in arcs[2:])


def int_content(v: int) -> bytes:
    """Shortest two's-complement INTEGER content."""
    return v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True)


def c1222_auth_content(key_id: int, iv: bytes, ref: bytes = b"") -> bytes:
    return tlv(0xA2, ref + tlv(0xA0, tlv(0xA1, tlv(0x80, bytes((key_id,))) + tlv(0x81, iv))))


def wire(message: Message, octets: dict[int, int] | None = None, top: int = 0) -> bytes:
    """The test's own encoding of ``message``; ``octets`` maps an element tag to a forced length form
    used for that element and everything inside it; ``top`` forces the APDU length form."""
    forms = octets or {}
    elements: list[tuple[int, bytes]] = []

    def add(tag: int, build: object) -> None:
        k = forms.get(tag, 0)
        assert callable(build)
        elements.append((tag, tlv(tag, build(k), k)))

    def title(t: ApTitle) -> object:
        return lambda k: tlv(0x80 if t.relative else 0x06, oid_content(t.arcs, t.relative), k)

    def integer(v: int) -> object:
        return lambda k: tlv(0x02, int_content(v), k)

    m = message
    if m.application_context is not None:
        add(0xA1, title(m.application_context))
    if m.called is not None:
        add(0xA2, title(m.called))
    if m.called_invocation_id is not None:
        add(0xA4, integer(m.called_invocation_id))
    if m.calling is not None:
        add(0xA6, title(m.calling))
    if m.calling_ae_qualifier is not None:
        add(0xA7, integer(int(m.calling_ae_qualifier)))
    if m.calling_invocation_id is not None:
        add(0xA8, integer(m.calling_invocation_id))
    if m.mechanism is not None:
        elements.append((0x8B, tlv(0x8B, m.mechanism, forms.get(0x8B, 0))))
    if m.auth is not None:
        auth = m.auth

        def build_auth(k: int) -> bytes:
            ref = b"" if auth.indirect_reference is None else tlv(0x02, int_content(auth.indirect_reference), k)
            if isinstance(auth, C1222Auth):
                inner = b""
                if auth.key_id is not None:
                    inner += tlv(0x80, bytes((auth.key_id,)), k)
                if auth.iv is not None:
                    inner += tlv(0x81, auth.iv, k)
                enc = tlv(0xA0, tlv(0xA1, inner, k), k)
            elif isinstance(auth, C1221Auth):
                enc = tlv(0xA0, tlv(0xA0, tlv(0x80 + int(auth.kind), auth.data, k), k), k)
            else:
                enc = tlv(0x81, auth.data, k)
            return tlv(0xA2, ref + enc, k)

        add(0xAC, build_auth)

    def build_ui(k: int) -> bytes:
        ref = m.user_information_indirect_ref
        head = b"" if ref is None else tlv(0x02, int_content(ref), k)
        return tlv(0x28, head + tlv(0x81, m.user_information, k), k)

    add(0xBE, build_ui)
    for e in m.extra:
        elements.append((e.tag, tlv(e.tag, e.content, forms.get(e.tag, 0))))
    body = b"".join(t for _, t in sorted(elements, key=lambda x: x[0] & 0x1F))
    return tlv(0x60, body, top)


# ---------------------------------------------------------------------------------------- strategies

arc = st.integers(0, 2**40)
relative_titles = st.lists(arc, min_size=1, max_size=5).map(lambda a: ApTitle(tuple(a), True))
absolute_titles = st.one_of(
    st.tuples(st.integers(0, 1), st.integers(0, 39), st.lists(arc, max_size=5)),
    st.tuples(st.just(2), arc, st.lists(arc, max_size=5)),
).map(lambda t: ApTitle((t[0], t[1], *t[2]), False))
titles = st.one_of(st.none(), relative_titles, absolute_titles)
uints = st.one_of(st.none(), st.integers(0, 2**31), st.integers(0, 2**126))
refs = st.one_of(st.none(), st.integers(-(2**40), 2**40))
auths = st.one_of(
    st.none(),
    st.builds(
        C1222Auth,
        key_id=st.one_of(st.none(), st.integers(0, 255)),
        iv=st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
        indirect_reference=refs,
    ),
    st.builds(C1221Auth, kind=st.sampled_from(C1221AuthKind), data=st.binary(max_size=300), indirect_reference=refs),
    st.builds(OctetAlignedAuth, data=st.binary(max_size=300), indirect_reference=refs),
)
UNKNOWN_NUMBERS = (0, 3, 5, 9, 10, 13, 29)
extras = st.lists(
    st.tuples(st.sampled_from(UNKNOWN_NUMBERS), st.booleans(), st.binary(max_size=20)),
    max_size=3,
    unique_by=lambda t: t[0],
).map(lambda xs: tuple(UnknownElement(0x80 | (0x20 if c else 0) | n, b) for n, c, b in xs))
messages = st.builds(
    Message,
    application_context=st.one_of(st.none(), absolute_titles),
    called=titles,
    called_invocation_id=uints,
    calling=titles,
    calling_ae_qualifier=st.one_of(st.none(), st.integers(0, 300).map(AeQualifier)),
    calling_invocation_id=uints,
    mechanism=st.one_of(st.none(), st.binary(max_size=30)),
    auth=auths,
    user_information=st.binary(min_size=1, max_size=600),
    user_information_indirect_ref=refs,
    extra=extras,
)
TAGS = (0x60, 0xA1, 0xA2, 0xA4, 0xA6, 0xA7, 0xA8, 0x8B, 0xAC, 0xBE, *(0x80 | n for n in UNKNOWN_NUMBERS))

# ------------------------------------------------------------------------------------------- Example 8


def test_example8_request_fields() -> None:
    message, used = decode_message(EXAMPLE8_REQUEST)
    assert used == len(EXAMPLE8_REQUEST)
    assert message == Message(
        called=ApTitle((123, 8437), relative=True),
        calling=ApTitle((123, 4), relative=True),
        calling_invocation_id=3,
        auth=C1222Auth(key_id=2, iv=bytes.fromhex("48f3d061")),
        user_information=EXAMPLE8_EPSEM,
    )
    assert message.user_information[0] == 0x88
    assert encode_message(message) == EXAMPLE8_REQUEST
    # Re-encoded from the fields alone (no remembered bytes) it is still the captured APDU.
    assert encode_message(dataclasses.replace(message)) == EXAMPLE8_REQUEST
    assert message.user_information_header() == bytes.fromhex("be2a2828812688")


def test_example8_elements_as_on_the_wire() -> None:
    message = Message.decode(EXAMPLE8_REQUEST)
    tags = [t for t, _ in message.elements()]
    assert tags == [0xA2, 0xA6, 0xA8, 0xAC, 0xBE]
    assert message.element(Tag.CALLED_AP_TITLE) == bytes.fromhex("a20580037bc175")
    assert message.element(Tag.CALLING_AUTHENTICATION_VALUE) == bytes.fromhex("ac0fa20da00ba109800102810448f3d061")
    assert message.element(Tag.CALLED_AP_INVOCATION_ID) is None


def test_built_message_matches_hand_encoding() -> None:
    message = Message(
        called=ApTitle((123, 8437), relative=True),
        calling=ApTitle((123, 4), relative=True),
        calling_invocation_id=3,
        auth=C1222Auth(key_id=2, iv=bytes.fromhex("48f3d061")),
        user_information=EXAMPLE8_EPSEM,
    )
    assert encode_message(message) == EXAMPLE8_REQUEST
    assert message.encode() == EXAMPLE8_REQUEST


def test_every_element() -> None:
    ctx = ApTitle((2, 16, 124, 113620, 1, 22))
    message = Message(
        application_context=ctx,
        called=ApTitle((1, 3, 6, 1, 4, 1, 33507, 1)),
        called_invocation_id=0x80,  # top bit set: 02 02 00 80
        calling=ApTitle((5,), relative=True),
        calling_ae_qualifier=AeQualifier.NOTIFICATION | AeQualifier.URGENT,
        calling_invocation_id=0x0FFFFFFF,
        mechanism=bytes.fromhex("607c86f75401160201"),
        auth=C1221Auth(kind=C1221AuthKind.RESPONSE, data=b"\x01\x02", indirect_reference=0),
        user_information=b"\x80\x01\x20",
        user_information_indirect_ref=1,
        extra=(UnknownElement(0xBD, b"\x01"), UnknownElement(0xA3, b"\x02\x01\x07")),
    )
    expected = tlv(
        0x60,
        tlv(0xA1, bytes.fromhex("0607607c86f7540116"))
        + tlv(0xA2, tlv(0x06, oid_content((1, 3, 6, 1, 4, 1, 33507, 1), False)))
        + tlv(0xA3, b"\x02\x01\x07")
        + tlv(0xA4, bytes.fromhex("02020080"))
        + tlv(0xA6, bytes.fromhex("800105"))
        + tlv(0xA7, bytes.fromhex("020106"))
        + tlv(0xA8, bytes.fromhex("02040fffffff"))
        + tlv(0x8B, bytes.fromhex("607c86f75401160201"))
        + tlv(0xAC, tlv(0xA2, bytes.fromhex("020100") + tlv(0xA0, tlv(0xA0, bytes.fromhex("82020102")))))
        + tlv(0xBD, b"\x01")
        + tlv(0xBE, tlv(0x28, bytes.fromhex("020101") + tlv(0x81, b"\x80\x01\x20"))),
    )
    assert encode_message(message) == expected
    assert Message.decode(expected) == message
    assert message.extra == (UnknownElement(0xA3, b"\x02\x01\x07"), UnknownElement(0xBD, b"\x01"))


@pytest.mark.parametrize(
    ("auth", "content"),
    [
        (C1222Auth(key_id=2, iv=b"\x48\xf3\xd0\x61"), c1222_auth_content(2, b"\x48\xf3\xd0\x61")),
        (
            C1222Auth(key_id=0, iv=b"\x01\x02\x03\x04", indirect_reference=0),
            c1222_auth_content(0, b"\x01\x02\x03\x04", ref=bytes.fromhex("020100")),
        ),
        (C1222Auth(iv=b"\x01\x02\x03\x04"), tlv(0xA2, tlv(0xA0, tlv(0xA1, tlv(0x81, b"\x01\x02\x03\x04"))))),
        (C1222Auth(key_id=9), tlv(0xA2, tlv(0xA0, tlv(0xA1, bytes.fromhex("800109"))))),
        (C1222Auth(), tlv(0xA2, tlv(0xA0, tlv(0xA1, b"")))),
        (OctetAlignedAuth(data=b"secret"), tlv(0xA2, tlv(0x81, b"secret"))),
        (
            OctetAlignedAuth(data=b"x", indirect_reference=0),
            tlv(0xA2, bytes.fromhex("020100") + tlv(0x81, b"x")),
        ),
        (
            C1221Auth(kind=C1221AuthKind.IDENTIFICATION, data=b"\x00\x01\x02"),
            tlv(0xA2, tlv(0xA0, tlv(0xA0, bytes.fromhex("8003000102")))),
        ),
        (
            C1221Auth(kind=C1221AuthKind.REQUEST, data=b"\xff"),
            tlv(0xA2, tlv(0xA0, tlv(0xA0, bytes.fromhex("8101ff")))),
        ),
    ],
)
def test_authentication_value_forms(auth: C1222Auth | C1221Auth | OctetAlignedAuth, content: bytes) -> None:
    message = Message(calling_invocation_id=1, auth=auth, user_information=b"\x80\x01\x20")
    data = tlv(0x60, tlv(0xA8, b"\x02\x01\x01") + tlv(0xAC, content) + tlv(0xBE, tlv(0x28, tlv(0x81, b"\x80\x01\x20"))))
    assert encode_message(message) == data
    assert Message.decode(data) == message


def test_the_c1222_form_of_the_facts_file() -> None:
    # c12-protocol-facts.md §1: AC 0F A2 0D A0 0B A1 09 80 01 <key-id> 81 04 <iv:4>
    content = bytes.fromhex("a20da00ba109800107810401020304")
    message = Message(auth=C1222Auth(key_id=7, iv=b"\x01\x02\x03\x04"), user_information=b"\x80")
    assert message.element(0xAC) == b"\xac\x0f" + content


def test_non_minimal_lengths_reencode_exactly() -> None:
    base = Message.decode(EXAMPLE8_REQUEST)
    for k in (1, 2, 3, 4):
        data = wire(base, {t: k for t in TAGS}, top=k)
        assert data != EXAMPLE8_REQUEST
        message = Message.decode(data)
        assert message == base
        assert encode_message(message) == data
        assert message.user_information_header().startswith(bytes((0xBE, 0x80 | k)))
        # Modified copies forget the received bytes and use the shortest forms.
        assert encode_message(dataclasses.replace(message)) == EXAMPLE8_REQUEST


def test_large_epsem_uses_long_lengths() -> None:
    for size in (0x7F, 0x80, 0xFF, 0x100, 0x1_0000):
        message = Message(calling_invocation_id=1, user_information=b"\x80" + bytes(size - 1))
        data = encode_message(message)
        assert data == wire(message)
        assert Message.decode(data) == message
        assert message_length(data) == len(data)


def test_unsigned_integers() -> None:
    data = wire(Message(calling_invocation_id=5, user_information=b"\x80"))
    # A device sending 02 01 80 means 128, not -128 (MeteringSDK reads it the same way).
    raw = data.replace(bytes.fromhex("a803020105"), bytes.fromhex("a803020180"))
    raw = raw[:1] + bytes((len(raw) - 2,)) + raw[2:]
    message = Message.decode(raw)
    assert message.calling_invocation_id == 128
    assert encode_message(message) == raw


# ------------------------------------------------------------------------------------------- errors


def _apdu(*elements: bytes) -> bytes:
    return tlv(0x60, b"".join(elements))


UI = tlv(0xBE, tlv(0x28, tlv(0x81, b"\x80\x01\x20")))
A8 = tlv(0xA8, b"\x02\x01\x01")


@pytest.mark.parametrize(
    "data",
    [
        b"\x61\x00",  # not [APPLICATION 0]
        b"\x60\x80\x00\x00",  # indefinite length
        b"\x60\x85\x00\x00\x00\x00\x01\x00",  # 5 length octets
        _apdu(A8),  # no user information
        _apdu(UI, A8),  # out of order
        _apdu(A8, A8, UI),  # repeated
        _apdu(tlv(0x02, b"\x01"), UI),  # universal tag among the elements
        _apdu(tlv(0x41, b"\x01"), UI),  # application tag
        _apdu(tlv(0x88, b"\x02\x01\x01"), UI),  # A8 primitive
        _apdu(tlv(0xA8, b"\x04\x01\x01"), UI),  # A8 not an INTEGER
        _apdu(tlv(0xA8, b"\x02\x00"), UI),  # empty INTEGER
        _apdu(tlv(0xA8, b"\x02\x01\x01\x00"), UI),  # a byte after the INTEGER
        _apdu(tlv(0xA8, b"\x02\x11" + bytes(17)), UI),  # 17-octet INTEGER
        _apdu(tlv(0xA8, b"\x02\x10" + b"\xff" * 16), UI),  # 16 octets but >= 2**127
        _apdu(tlv(0xA8, b"\x02\x02\x01"), UI),  # INTEGER cut short
        _apdu(tlv(0xA2, b"\x81\x01\x05"), UI),  # title in neither form
        _apdu(tlv(0xA2, b""), UI),  # empty title
        _apdu(tlv(0xA2, b"\x80\x00"), UI),  # empty relative OID
        _apdu(tlv(0xA2, b"\x80\x01\x85"), UI),  # OID cut inside a sub-identifier
        _apdu(tlv(0xA1, b"\x80\x01\x05"), UI),  # application context must be absolute
        _apdu(tlv(0xAC, b"\xa1\x00"), UI),  # AC without A2
        _apdu(tlv(0xAC, tlv(0xA2, b"")), UI),  # AC without an encoding
        _apdu(tlv(0xAC, tlv(0xA2, tlv(0xA0, tlv(0xA1, bytes.fromhex("80020102"))))), UI),  # 2-octet key id
        _apdu(tlv(0xAC, tlv(0xA2, tlv(0xA0, tlv(0xA1, bytes.fromhex("8103010203"))))), UI),  # 3-octet IV
        _apdu(tlv(0xAC, tlv(0xA2, tlv(0xA0, tlv(0xA1, bytes.fromhex("8201ff"))))), UI),  # unknown in A1
        _apdu(tlv(0xAC, tlv(0xA2, tlv(0xA0, tlv(0xA2, b"")))), UI),  # unknown single-ASN1 choice
        _apdu(tlv(0xAC, tlv(0xA2, tlv(0xA0, tlv(0xA0, bytes.fromhex("8301ff"))))), UI),  # bad C12.21 tag
        _apdu(tlv(0xAC, tlv(0xA2, tlv(0x82, b"x"))), UI),  # unknown encoding
        _apdu(A8, tlv(0xBE, tlv(0x30, tlv(0x81, b"\x80")))),  # not EXTERNAL
        _apdu(A8, tlv(0xBE, tlv(0x28, tlv(0x80, b"\x80")))),  # not octet-aligned
        _apdu(A8, tlv(0xBE, tlv(0x28, tlv(0x81, b"")))),  # empty EPSEM
        _apdu(A8, tlv(0xBE, tlv(0x28, tlv(0x81, b"\x80") + b"\x00"))),  # byte after the EPSEM
        _apdu(A8, tlv(0xBE, tlv(0x28, b"\x06\x01\x00" + tlv(0x81, b"\x80")))),  # direct reference
        _apdu(A8, UI + b"\x00"),  # a stray byte inside the APDU
        _apdu(A8, b"\xbf\x1f\x00", UI),  # multi-byte tag
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_message(data)


def test_trailing_bytes() -> None:
    data = EXAMPLE8_REQUEST + b"\x60\x00"
    message, used = decode_message(data)
    assert used == len(EXAMPLE8_REQUEST)
    assert encode_message(message) == EXAMPLE8_REQUEST
    with pytest.raises(RemoteProtocolError):
        Message.decode(data)


def test_every_prefix_is_incomplete() -> None:
    for n in range(len(EXAMPLE8_REQUEST)):
        prefix = EXAMPLE8_REQUEST[:n]
        with pytest.raises(IncompleteMessageError):
            decode_message(prefix)
        found = message_length(prefix)
        assert found is None if n < 2 else found == len(EXAMPLE8_REQUEST)


def test_invalid_construction() -> None:
    with pytest.raises(LocalProtocolError):
        Message(user_information=b"")
    with pytest.raises(LocalProtocolError):
        Message(calling_invocation_id=-1, user_information=b"\x80")
    with pytest.raises(LocalProtocolError):
        Message(called_invocation_id=1 << 127, user_information=b"\x80")
    with pytest.raises(LocalProtocolError):
        Message(application_context=ApTitle((1,), relative=True), user_information=b"\x80")
    with pytest.raises(LocalProtocolError):
        Message(user_information=b"\x80", extra=(UnknownElement(0x83, b""), UnknownElement(0xA3, b"")))
    with pytest.raises(LocalProtocolError):
        UnknownElement(0xA8, b"")  # a known element
    with pytest.raises(LocalProtocolError):
        UnknownElement(0x06, b"")  # not context-specific
    with pytest.raises(LocalProtocolError):
        C1222Auth(key_id=256)
    with pytest.raises(LocalProtocolError):
        C1222Auth(iv=b"\x00")


# ---------------------------------------------------------------------------------------- properties


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_round_trip(message: Message) -> None:
    data = encode_message(message)
    assert data == wire(message)  # the test's own writer agrees
    decoded, used = decode_message(data)
    assert used == len(data)
    assert decoded == message
    assert encode_message(decoded) == data


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(messages, st.data())
def test_round_trip_any_length_form(message: Message, data: st.DataObject) -> None:
    forms = {t: data.draw(st.sampled_from((0, 0, 2, 3, 4)), label=f"form {t:02X}") for t in TAGS}
    raw = wire(message, forms, top=forms[0x60])
    decoded = Message.decode(raw)
    assert decoded == message
    assert encode_message(decoded) == raw
    assert dict(decoded.elements()) == {t: b for t, b in _split_elements(raw)}


def _split_elements(apdu: bytes) -> list[tuple[int, bytes]]:
    """Cut an APDU into its element TLVs with the test's own length reader."""

    def read_len(pos: int) -> tuple[int, int]:
        first = apdu[pos]
        if first < 0x80:
            return first, pos + 1
        k = first & 0x7F
        return int.from_bytes(apdu[pos + 1 : pos + 1 + k], "big"), pos + 1 + k

    _, pos = read_len(1)
    out = []
    while pos < len(apdu):
        n, start = read_len(pos + 1)
        out.append((apdu[pos], apdu[pos : start + n]))
        pos = start + n
    return out


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_truncations_and_garbage(message: Message) -> None:
    data = encode_message(message)
    for n in range(len(data)):
        with pytest.raises(IncompleteMessageError):
            decode_message(data[:n])
    decoded, used = decode_message(data + b"\x60\x01garbage")
    assert (decoded, used) == (message, len(data))


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    try:
        message, used = decode_message(data)
    except ProtocolError:
        return
    assert encode_message(message) == data[:used]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(messages, st.data())
def test_mutations(message: Message, data: st.DataObject) -> None:
    raw = bytearray(encode_message(message))
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        i = data.draw(st.integers(0, len(raw) - 1), label="at")
        raw[i] = data.draw(st.integers(0, 255), label="byte")
    try:
        decoded, used = decode_message(bytes(raw))
    except ProtocolError:
        return
    assert encode_message(decoded) == bytes(raw[:used])


@settings(max_examples=200)
@given(st.binary(max_size=120))
def test_random_content_inside_a_valid_header(content: bytes) -> None:
    data = tlv(0x60, content)
    try:
        message = Message.decode(data)
    except ProtocolError:
        return
    assert encode_message(message) == data


# ------------------------------------------------------------------------------------------ splitter


def test_splitter_whole_and_bytewise() -> None:
    second = wire(Message(calling_invocation_id=9, user_information=b"\x80" + bytes(300)))
    stream = EXAMPLE8_REQUEST + second + EXAMPLE8_REQUEST
    assert MessageSplitter().feed(stream) == [EXAMPLE8_REQUEST, second, EXAMPLE8_REQUEST]
    splitter = MessageSplitter()
    out: list[bytes] = []
    for i in range(len(stream)):
        out += splitter.feed(stream[i : i + 1])
        assert splitter.buffered < len(second)
    assert out == [EXAMPLE8_REQUEST, second, EXAMPLE8_REQUEST]
    assert splitter.buffered == 0


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages, min_size=1, max_size=4), st.data())
def test_splitter_any_chunking(batch: list[Message], data: st.DataObject) -> None:
    apdus = [encode_message(m) for m in batch]
    stream = b"".join(apdus)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10), label="cuts"))
    splitter = MessageSplitter(max_size=max(len(a) for a in apdus))
    out: list[bytes] = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += splitter.feed(stream[a:b])
    assert out == apdus
    assert [Message.decode(a) for a in out] == batch


def test_splitter_errors() -> None:
    with pytest.raises(RemoteProtocolError):
        MessageSplitter().feed(b"\x61\x00")
    with pytest.raises(RemoteProtocolError):
        MessageSplitter().feed(b"\x60\x80")
    # An announced size over the limit is refused from the header alone, without buffering it.
    splitter = MessageSplitter(max_size=100)
    with pytest.raises(RemoteProtocolError):
        splitter.feed(b"\x60\x82\x01\x00")
    # Complete APDUs before bad bytes come out first; the next call raises.
    splitter = MessageSplitter()
    assert splitter.feed(EXAMPLE8_REQUEST + b"\x00garbage") == [EXAMPLE8_REQUEST]
    with pytest.raises(RemoteProtocolError):
        splitter.feed(b"")
    with pytest.raises(LocalProtocolError):
        MessageSplitter(max_size=1)


@settings(max_examples=200)
@given(st.binary(max_size=100))
def test_splitter_random_bytes(data: bytes) -> None:
    splitter = MessageSplitter(max_size=64)
    try:
        for apdu in splitter.feed(data):
            assert apdu[0] == 0x60 and message_length(apdu) == len(apdu) <= 64
    except RemoteProtocolError:
        return
    assert splitter.buffered <= 64
