"""The C12.22 message: an ACSE APDU ``60 L <elements>`` (BER), c12-protocol-facts.md §1.

Elements, in this order (ASN.1 SEQUENCE order = increasing context tag number; checked against
Wireshark's ``asn1/c1222/c1222.asn`` and INL's icsnpp-c1222 parser):

=====  ==============================  ===============================================================
tag    element                         content
=====  ==============================  ===============================================================
A1     application context (aSO)       ``06 L <OID>``
A2     called AP title                 ``06 L <OID>`` (absolute) or ``80 L <RELATIVE-OID>`` (relative)
A4     called AP invocation id         ``02 L <INTEGER>``; a response echoes the request's A8 here
A6     calling AP title                as A2
A7     calling AE qualifier            ``02 L <INTEGER>``: bit0 TEST, bit1 URGENT, bit2 NOTIFICATION
A8     calling AP invocation id        ``02 L <INTEGER>`` (mandatory in the standard; see below)
8B     mechanism name                  IMPLICIT OID content octets (kept as bytes)
AC     calling authentication value    ``A2 L [02 L <indirect-ref>] <encoding>`` with <encoding>:
                                       C12.22 ``A0 L A1 L [80 01 <key-id>] [81 04 <iv>]``,
                                       C12.21 ``A0 L A0 L (80|81|82) L <data>``,
                                       octet-aligned ``81 L <data>``
BE     user information (EXTERNAL)     ``28 L [02 L <indirect-ref>] 81 L <EPSEM>``
=====  ==============================  ===============================================================

Decisions (documented here because the standard text is not public):

- **Order.** Elements must come in increasing tag-number order, each at most once (a SEQUENCE);
  anything else raises `RemoteProtocolError`.
- **Unknown elements** (other context-class tags such as A3 called AE qualifier, A5, A9, 8A, BD —
  ACSE elements C12.22 does not use; Wireshark's dissector knows none of them) are *kept* as
  `UnknownElement` and re-encoded in their place, so a relay forwards them intact. They are not
  part of the canonified cleartext, hence not authenticated. Non-context tags raise.
- **Integers** (invocation ids, AE qualifier) are read as *unsigned* big-endian, as devices use them
  (counters, bit sets; MeteringSDK does the same), 1..16 content octets. We encode the shortest
  two's-complement form (a leading ``00`` when the top bit is set).
- **A8 and A1..AC are optional** at this layer; BE is required. Whether a message lacking A8 (or A4
  in a response) is acceptable is the association layer's decision.
- **Byte-exact re-encoding.** A decoded `Message` remembers its wire bytes (private, not compared,
  dropped by `dataclasses.replace`), so ``encode_message(decode_message(b)[0]) == b`` even with
  non-minimal BER lengths; a built or modified message is encoded with shortest lengths.
  `Message.elements` gives each element's TLV as on the wire (the canonified cleartext needs them).

TCP carries no framing beyond the APDU's own tag and length: `message_length` and
`openami.c1222.framing.MessageSplitter` cut a byte stream into APDUs; `IncompleteMessageError` tells
"need more bytes" from "malformed".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

from openami.c1222.aptitle import ApTitle
from openami.c1222.ber import (
    MAX_LENGTH_OCTETS,
    decode_integer,
    encode_integer,
    encode_length,
    encode_tlv,
    read_tlv,
)
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "APDU_TAG",
    "AeQualifier",
    "AuthValue",
    "C1221Auth",
    "C1221AuthKind",
    "C1222Auth",
    "IncompleteMessageError",
    "Message",
    "OctetAlignedAuth",
    "Tag",
    "UnknownElement",
    "decode_message",
    "encode_message",
    "encode_user_information_header",
    "message_length",
    "shortest_elements",
]

APDU_TAG = 0x60
"""[APPLICATION 0] constructed: the first octet of every C12.22 message."""

_MAX_INT_OCTETS = 16


class Tag(IntEnum):
    """The tag octets of the C12.22 ACSE elements."""

    APPLICATION_CONTEXT = 0xA1
    CALLED_AP_TITLE = 0xA2
    CALLED_AP_INVOCATION_ID = 0xA4
    CALLING_AP_TITLE = 0xA6
    CALLING_AE_QUALIFIER = 0xA7
    CALLING_AP_INVOCATION_ID = 0xA8
    MECHANISM_NAME = 0x8B
    CALLING_AUTHENTICATION_VALUE = 0xAC
    USER_INFORMATION = 0xBE


_KNOWN = {t & 0x1F: t for t in Tag}


class AeQualifier(IntFlag):
    """Calling AE qualifier (A7) bits; other bits are kept as they are."""

    TEST = 0x01
    URGENT = 0x02
    NOTIFICATION = 0x04


class C1221AuthKind(IntEnum):
    """The C12.21 authentication value choice: context tag 80, 81 or 82 inside ``A0 L``."""

    IDENTIFICATION = 0
    REQUEST = 1
    RESPONSE = 2


def _check_ref(ref: int | None) -> None:
    if ref is not None and (not isinstance(ref, int) or not -(1 << 127) <= ref < 1 << 127):
        raise LocalProtocolError(f"indirect reference must be a 16-octet INTEGER or None, got {ref!r}")


def _check_uint(name: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or not 0 <= value < 1 << 127):
        raise LocalProtocolError(f"{name} must be an int in 0..2**127-1 (16 octets), got {value!r}")


@dataclass(frozen=True, kw_only=True)
class C1222Auth:
    """C12.22 authentication value: ``key_id`` (0..255) and ``iv`` (4 bytes), each optional in BER."""

    key_id: int | None = None
    iv: bytes | None = None
    indirect_reference: int | None = None

    def __post_init__(self) -> None:
        if self.key_id is not None and not 0 <= self.key_id <= 0xFF:
            raise LocalProtocolError(f"key id must be 0..255, got {self.key_id}")
        if self.iv is not None and (not isinstance(self.iv, bytes) or len(self.iv) != 4):
            raise LocalProtocolError(f"IV must be 4 bytes, got {self.iv!r}")
        _check_ref(self.indirect_reference)


@dataclass(frozen=True, kw_only=True)
class C1221Auth:
    """C12.21 authentication value (identification, request or response octets)."""

    kind: C1221AuthKind
    data: bytes
    indirect_reference: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", C1221AuthKind(self.kind))
        _check_ref(self.indirect_reference)


@dataclass(frozen=True, kw_only=True)
class OctetAlignedAuth:
    """Octet-aligned authentication value: opaque octets."""

    data: bytes
    indirect_reference: int | None = None

    def __post_init__(self) -> None:
        _check_ref(self.indirect_reference)


AuthValue = C1222Auth | C1221Auth | OctetAlignedAuth


@dataclass(frozen=True)
class UnknownElement:
    """An element C12.22 does not define, kept verbatim: ``tag`` octet and content octets."""

    tag: int
    content: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.tag <= 0xFF or self.tag & 0xC0 != 0x80 or self.tag & 0x1F == 0x1F:
            raise LocalProtocolError(f"unknown element tag 0x{self.tag:X} is not a one-octet context tag")
        if self.tag & 0x1F in _KNOWN:
            raise LocalProtocolError(f"tag 0x{self.tag:02X} is a C12.22 element, not an unknown one")


class IncompleteMessageError(RemoteProtocolError):
    """The bytes end before the APDU does: on TCP wait for more, on UDP the datagram is bad."""


@dataclass(frozen=True, kw_only=True)
class Message:
    """One C12.22 message (ACSE APDU). ``user_information`` is the EPSEM octets (MAC included).

    Integers are non-negative (at most 16 octets). ``extra`` holds unknown elements, kept sorted by
    tag number (their place on the wire).
    """

    application_context: ApTitle | None = None
    called: ApTitle | None = None
    called_invocation_id: int | None = None
    calling: ApTitle | None = None
    calling_ae_qualifier: AeQualifier | None = None
    calling_invocation_id: int | None = None
    mechanism: bytes | None = None
    auth: AuthValue | None = None
    user_information: bytes
    user_information_indirect_ref: int | None = None
    extra: tuple[UnknownElement, ...] = ()
    # (tag octet, TLV as received) per element, and the whole APDU; only set by the decoder.
    _wire: tuple[tuple[tuple[int, bytes], ...], bytes] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # shortest-form element TLVs, computed once for a message built locally (it is immutable)
    _encoded: tuple[tuple[int, bytes], ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.application_context is not None and self.application_context.relative:
            raise LocalProtocolError("the application context must be an absolute OID")
        if self.called_invocation_id is not None:
            _check_uint("called_invocation_id", self.called_invocation_id)
        if self.calling_invocation_id is not None:
            _check_uint("calling_invocation_id", self.calling_invocation_id)
        qualifier = self.calling_ae_qualifier
        if qualifier is not None:
            _check_uint("calling_ae_qualifier", qualifier)
            if type(qualifier) is not AeQualifier:
                object.__setattr__(self, "calling_ae_qualifier", AeQualifier(qualifier))
        if not isinstance(self.user_information, bytes) or not self.user_information:
            raise LocalProtocolError("user information (the EPSEM) must be non-empty bytes")
        if self.user_information_indirect_ref is not None:
            _check_ref(self.user_information_indirect_ref)
        extra = self.extra
        if extra or type(extra) is not tuple:  # the common case, no unknown elements, needs no work
            extra = tuple(sorted(extra, key=lambda e: e.tag & 0x1F))
            if len({e.tag & 0x1F for e in extra}) != len(extra):
                raise LocalProtocolError("two unknown elements share a tag number")
            object.__setattr__(self, "extra", extra)

    def elements(self) -> tuple[tuple[int, bytes], ...]:
        """``(tag octet, TLV bytes)`` of every element in order: as received, or shortest-form."""
        if self._wire is not None:
            return self._wire[0]
        encoded = self._encoded
        if encoded is None:
            encoded = tuple(_encode_elements(self))
            object.__setattr__(self, "_encoded", encoded)
        return encoded

    def element(self, tag: int) -> bytes | None:
        """The TLV of the element with tag octet ``tag`` (see `elements`), or None if absent."""
        for t, tlv in self.elements():
            if t == tag:
                return tlv
        return None

    def user_information_header(self) -> bytes:
        """``BE L 28 L [02 L ref] 81 L <EPSEM control>``: BE through the control byte, as encoded."""
        tag, tlv = self.elements()[-1]  # BE (tag number 30, the highest) is always present and last
        assert tag == Tag.USER_INFORMATION
        return tlv[: len(tlv) - len(self.user_information) + 1]

    def encode(self) -> bytes:
        """The APDU bytes (same as `encode_message`)."""
        return encode_message(self)

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> Message:
        """Decode exactly one APDU; trailing bytes raise `RemoteProtocolError`."""
        message, used = decode_message(data)
        if used != len(data):
            raise RemoteProtocolError(f"{len(data) - used} bytes after the C12.22 APDU")
        return message


# ----------------------------------------------------------------------------------------- encoding


def _short_tlv(tag: int, value: bytes) -> bytes:
    """``encode_tlv`` for a tag known to be a valid one-octet tag."""
    size = len(value)
    return bytes((tag, size)) + value if size < 0x80 else bytes((tag,)) + encode_length(size) + value


def _int_tlv(tag: int, value: int) -> bytes:
    """``tag L 02 L <INTEGER>``; the values are below 2**127, so both lengths are short-form."""
    content = encode_integer(value)
    size = len(content)
    return bytes((tag, size + 2, 0x02, size)) + content


# ``AC 0F A2 0D A0 0B A1 09 80 01``: the C12.22 authentication value up to its key id, when it carries
# a key id and an IV and no indirect reference (the usual form), followed by ``<key-id> 81 04 <iv>``
_AUTH_PREFIX = bytes.fromhex("ac0fa20da00ba1098001")


def _auth_content(auth: AuthValue) -> bytes:
    """Content of the AC element: ``A2 L [02 L ref] <encoding>``."""
    if isinstance(auth, C1222Auth):
        body = b""
        if auth.key_id is not None:
            body += encode_tlv(0x80, bytes((auth.key_id,)))
        if auth.iv is not None:
            body += encode_tlv(0x81, auth.iv)
        encoding = encode_tlv(0xA0, encode_tlv(0xA1, body))
    elif isinstance(auth, C1221Auth):
        encoding = encode_tlv(0xA0, encode_tlv(0xA0, encode_tlv(0x80 | auth.kind, auth.data)))
    else:
        encoding = encode_tlv(0x81, auth.data)
    ref = b"" if auth.indirect_reference is None else encode_tlv(0x02, encode_integer(auth.indirect_reference))
    return encode_tlv(0xA2, ref + encoding)


def _auth_tlv(auth: AuthValue) -> bytes:
    if type(auth) is C1222Auth and auth.key_id is not None and auth.iv is not None and auth.indirect_reference is None:
        return _AUTH_PREFIX + bytes((auth.key_id, 0x81, 0x04)) + auth.iv
    return encode_tlv(0xAC, _auth_content(auth))


def encode_user_information_header(size: int, ref: int | None = None) -> bytes:
    """``BE L 28 L [02 L ref] 81 L``: the user-information element up to the EPSEM, for an EPSEM of
    ``size`` bytes (shortest lengths); the element is this header followed by the EPSEM."""
    if ref is None:
        if size < 0x7C:  # every length fits one octet
            return bytes((0xBE, size + 4, 0x28, size + 2, 0x81, size))
        external = bytes((0x81,)) + encode_length(size)
    else:
        external = encode_tlv(0x02, encode_integer(ref)) + bytes((0x81,)) + encode_length(size)
    inner = bytes((0x28,)) + encode_length(len(external) + size) + external
    return bytes((0xBE,)) + encode_length(len(inner) + size) + inner


def _encode_elements(m: Message) -> list[tuple[int, bytes]]:
    """Every element's ``(tag octet, TLV)`` in wire order, shortest lengths (whatever ``m._wire``)."""
    out: list[tuple[int, bytes]] = []
    if m.application_context is not None:
        out.append((0xA1, _short_tlv(0xA1, m.application_context.acse_value())))
    if m.called is not None:
        out.append((0xA2, _short_tlv(0xA2, m.called.acse_value())))
    if m.called_invocation_id is not None:
        out.append((0xA4, _int_tlv(0xA4, m.called_invocation_id)))
    if m.calling is not None:
        out.append((0xA6, _short_tlv(0xA6, m.calling.acse_value())))
    if m.calling_ae_qualifier is not None:
        out.append((0xA7, _int_tlv(0xA7, int(m.calling_ae_qualifier))))
    if m.calling_invocation_id is not None:
        out.append((0xA8, _int_tlv(0xA8, m.calling_invocation_id)))
    if m.mechanism is not None:
        out.append((0x8B, encode_tlv(0x8B, m.mechanism)))
    if m.auth is not None:
        out.append((0xAC, _auth_tlv(m.auth)))
    epsem = m.user_information
    out.append((0xBE, encode_user_information_header(len(epsem), m.user_information_indirect_ref) + epsem))
    if m.extra:  # unknown elements go in their place by tag number (a stable sort: numbers differ)
        out += [(e.tag, encode_tlv(e.tag, e.content)) for e in m.extra]
        out.sort(key=lambda item: item[0] & 0x1F)
    return out


def shortest_elements(message: Message) -> tuple[tuple[int, bytes], ...]:
    """``(tag octet, TLV)`` of every element in the shortest form, as `Message.elements` gives for a
    message built locally; for a decoded message too (whatever lengths it arrived with)."""
    if message._wire is None:
        return message.elements()  # computed once per message
    return tuple(_encode_elements(message))


def encode_message(message: Message) -> bytes:
    """The APDU ``60 L <elements>``: the received bytes for a decoded message, else shortest form."""
    if message._wire is not None:
        return message._wire[1]
    body = b"".join(tlv for _, tlv in message.elements())
    return bytes((APDU_TAG,)) + encode_length(len(body)) + body


# ----------------------------------------------------------------------------------------- decoding

Buf = bytes | bytearray | memoryview


def message_length(buf: Buf) -> int | None:
    """Total size (tag + length + content octets) of the APDU starting ``buf``, or None if ``buf`` is
    too short to tell. Raises `RemoteProtocolError` if ``buf`` cannot start a C12.22 APDU."""
    if len(buf) == 0:
        return None
    if buf[0] != APDU_TAG:
        raise RemoteProtocolError(f"C12.22 APDU must start with 0x60, got 0x{buf[0]:02X}")
    if len(buf) < 2:
        return None
    first = buf[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0:
        raise RemoteProtocolError("indefinite BER length (0x80) is not allowed in C12.22")
    if count > MAX_LENGTH_OCTETS:
        raise RemoteProtocolError(f"APDU length with {count} length octets (at most {MAX_LENGTH_OCTETS})")
    if len(buf) < 2 + count:
        return None
    return 2 + count + int.from_bytes(bytes(buf[2 : 2 + count]), "big")


def _only_tlv(buf: bytes, tag: int, what: str) -> bytes:
    """``buf`` must be exactly one TLV with tag octet ``tag``; returns its content."""
    size = len(buf) - 2
    if 0 <= size < 0x80 and buf[0] == tag and buf[1] == size:  # the usual short form (tag is one octet)
        return buf[2:]
    if not buf or buf[0] != tag:
        got = f"0x{buf[0]:02X}" if buf else "nothing"
        raise RemoteProtocolError(f"{what}: expected tag 0x{tag:02X}, got {got}")
    _, start, end = read_tlv(buf, 0)
    if end != len(buf):
        raise RemoteProtocolError(f"{what}: {len(buf) - end} unexpected bytes after the value")
    return buf[start:end]


def _uint(content: bytes, what: str) -> int:
    if not 1 <= len(content) <= _MAX_INT_OCTETS:
        raise RemoteProtocolError(f"{what}: INTEGER of {len(content)} octets (1..{_MAX_INT_OCTETS})")
    return int.from_bytes(content, "big")


_TITLES: dict[bytes, ApTitle] = {}
"""Decoded titles by element content (``06 L ..`` or ``80 L ..``): a peer uses the same few titles
over and over, and titles are immutable values. Emptied when it reaches `_TITLES_MAX` entries."""
_TITLES_MAX = 512


def _title(content: bytes, what: str, *, absolute_only: bool = False) -> ApTitle:
    found = _TITLES.get(content)
    if found is not None and not (absolute_only and found.relative):
        return found
    if not content or content[0] not in ((0x06,) if absolute_only else (0x06, 0x80)):
        raise RemoteProtocolError(f"{what}: expected 06 (absolute) or 80 (relative) title form")
    relative = content[0] == 0x80
    oid = _only_tlv(content, content[0], what)
    try:
        title = ApTitle.from_content(oid, relative=relative)
    except LocalProtocolError as exc:  # arcs ApTitle refuses
        raise RemoteProtocolError(f"{what}: {exc}") from None
    if len(_TITLES) >= _TITLES_MAX:
        _TITLES.clear()
    _TITLES[bytes(content)] = title
    return title


def _indirect(content: bytes, pos: int) -> tuple[int | None, int]:
    """An optional ``02 L INTEGER`` at ``pos``; returns (value or None, position after it)."""
    if pos < len(content) and content[pos] == 0x02:
        _, start, end = read_tlv(content, pos)
        return decode_integer(content[start:end]), end
    return None, pos


def _auth(content: bytes) -> AuthValue:
    if len(content) == 15 and content.startswith(_AUTH_PREFIX[2:]) and content[9:11] == b"\x81\x04":
        # the usual form (see `_AUTH_PREFIX`): C1222Auth(key_id=.., iv=..) without the frozen __init__,
        # as an octet and 4 octets are valid values
        auth = object.__new__(C1222Auth)
        auth.__dict__.update(key_id=content[8], iv=content[11:], indirect_reference=None)
        return auth
    what = "calling authentication value"
    inner = _only_tlv(content, 0xA2, what)
    ref, pos = _indirect(inner, 0)
    encoding = inner[pos:]
    if encoding[:1] == b"\x81":
        return OctetAlignedAuth(data=_only_tlv(encoding, 0x81, what), indirect_reference=ref)
    single = _only_tlv(encoding, 0xA0, what)
    if single[:1] == b"\xa0":
        choice = _only_tlv(single, 0xA0, what + " (C12.21)")
        if not choice or choice[0] not in (0x80, 0x81, 0x82):
            raise RemoteProtocolError(f"{what}: C12.21 form needs tag 80, 81 or 82")
        data = _only_tlv(choice, choice[0], what)
        return C1221Auth(kind=C1221AuthKind(choice[0] & 0x03), data=data, indirect_reference=ref)
    seq = _only_tlv(single, 0xA1, what + " (C12.22)")
    key_id: int | None = None
    iv: bytes | None = None
    pos = 0
    if seq[:1] == b"\x80":
        _, start, pos = read_tlv(seq, 0)
        if pos - start != 1:
            raise RemoteProtocolError(f"{what}: key id must be 1 octet, got {pos - start}")
        key_id = seq[start]
    if pos < len(seq):
        iv = _only_tlv(seq[pos:], 0x81, what + " IV")
        if len(iv) != 4:
            raise RemoteProtocolError(f"{what}: IV must be 4 octets, got {len(iv)}")
    return C1222Auth(key_id=key_id, iv=iv, indirect_reference=ref)


def _user_information(content: bytes) -> tuple[bytes, int | None]:
    size = len(content) - 4
    if 0 < size < 0x7E and content[0] == 0x28 and content[1] == size + 2 and content[2] == 0x81 and content[3] == size:
        return content[4:], None  # ``28 L 81 L <EPSEM>``, short lengths, no indirect reference
    what = "user information"
    external = _only_tlv(content, 0x28, what)
    ref, pos = _indirect(external, 0)
    epsem = _only_tlv(external[pos:], 0x81, what + " (octet-aligned EPSEM)")
    if not epsem:
        raise RemoteProtocolError("empty EPSEM: at least the control byte is needed")
    return epsem, ref


_TITLE, _INT, _QUALIFIER, _OCTETS, _AUTH, _USER = range(6)
_SPECS = {  # known tag octet → (tag number, kind of content, Message field, element name for errors)
    0xA1: (0x01, _TITLE, "application_context", "application context"),
    0xA2: (0x02, _TITLE, "called", "called ap title"),
    0xA4: (0x04, _INT, "called_invocation_id", "called ap invocation id"),
    0xA6: (0x06, _TITLE, "calling", "calling ap title"),
    0xA7: (0x07, _QUALIFIER, "calling_ae_qualifier", "calling ae qualifier"),
    0xA8: (0x08, _INT, "calling_invocation_id", "calling ap invocation id"),
    0x8B: (0x0B, _OCTETS, "mechanism", "mechanism name"),
    0xAC: (0x0C, _AUTH, "auth", "calling authentication value"),
    0xBE: (0x1E, _USER, "user_information", "user information"),
}


def _check_unknown(tag: int, last: int) -> None:
    """The checks on a tag octet that is not a C12.22 element's: it must be an unknown element."""
    if tag & 0xC0 != 0x80:
        raise RemoteProtocolError(f"element tag 0x{tag:02X} is not context-specific")
    if tag & 0x1F <= last:
        raise RemoteProtocolError(f"element 0x{tag:02X} repeated or out of order")
    expected = _KNOWN.get(tag & 0x1F)
    if expected is not None:
        raise RemoteProtocolError(f"element 0x{tag:02X}: expected tag 0x{expected:02X}")


def decode_message(data: Buf) -> tuple[Message, int]:
    """Decode the APDU at the start of ``data``; returns ``(message, bytes consumed)``.

    Raises `IncompleteMessageError` if ``data`` ends before the APDU, `RemoteProtocolError` if it is
    malformed. Bytes after the APDU are left alone (see `Message.decode` for a whole buffer).
    """
    total = message_length(data)
    if total is None or total > len(data):
        need = "more" if total is None else str(total)
        raise IncompleteMessageError(f"incomplete C12.22 APDU: {len(data)} bytes, {need} needed")
    apdu = bytes(data[:total])
    pos = 2 if apdu[1] < 0x80 else 2 + (apdu[1] & 0x7F)
    fields: dict[str, Any] = {}  # keyword arguments of Message, filled element by element
    extra: list[UnknownElement] = []
    raw: list[tuple[int, bytes]] = []
    last = -1
    while pos < total:
        tag = apdu[pos]
        size = apdu[pos + 1] if pos + 1 < total else 0x80
        end = pos + 2 + size
        if size < 0x80 and tag & 0x1F != 0x1F and end <= total:  # short form: read inline
            start = pos + 2
        else:
            tag, start, end = read_tlv(apdu, pos)
        content = apdu[start:end]
        raw.append((tag, apdu[pos:end]))
        pos = end
        spec = _SPECS.get(tag)
        if spec is None:
            _check_unknown(tag, last)
            extra.append(UnknownElement(tag, content))
            last = tag & 0x1F
            continue
        number, kind, key, name = spec
        if number <= last:
            raise RemoteProtocolError(f"element 0x{tag:02X} repeated or out of order")
        last = number
        if kind == _TITLE:
            fields[key] = _title(content, name, absolute_only=tag == Tag.APPLICATION_CONTEXT)
        elif kind == _USER:
            fields[key], fields["user_information_indirect_ref"] = _user_information(content)
        elif kind == _AUTH:
            fields[key] = _auth(content)
        elif kind == _OCTETS:
            fields[key] = content
        else:
            value = _uint(_only_tlv(content, 0x02, name), name)
            fields[key] = AeQualifier(value) if kind == _QUALIFIER else value
    if "user_information" not in fields:
        raise RemoteProtocolError("C12.22 APDU without user information (BE)")
    # Message(**fields, extra=...) without the generated __init__'s one object.__setattr__ per field:
    # the same attributes, then the same __post_init__ checks
    message = object.__new__(Message)
    state = message.__dict__
    state.update(_MESSAGE_DEFAULTS)
    state.update(fields)
    state["extra"] = tuple(extra)
    try:
        message.__post_init__()
    except LocalProtocolError as exc:  # a value our own types refuse
        raise RemoteProtocolError(str(exc)) from None
    state["_wire"] = (tuple(raw), apdu)
    return message, total


_MESSAGE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Message) if f.default is not dataclasses.MISSING}
