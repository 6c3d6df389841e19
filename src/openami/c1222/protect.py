"""Sealing and opening C12.22 messages in security modes 0, 1 and 2 (c12-protocol-facts.md §4).

Canonified cleartext N (the EAX′ header), concatenated:

1. A1 (whole TLV) if present;  2. A2 in absolute form (a relative ``80 L x`` becomes
   ``A2 L 06 L <base ‖ x>``);  3. A4;  4. A7;  5. A8;  6. 8B;  7. AC — each if present, as on the wire;
8. the user-information header ``BE L 28 L [02 L ref] 81 L <control>`` as on the wire (its lengths
   count the MAC);  9. A6 in absolute form;  10. the key id (1 byte) and IV (4 bytes), appended even
   when AC is absent (then they come from the session).

P is the EPSEM between the control byte and the MAC, ED class included. Mode 1 sends P in clear with
``MAC = EAX′.tag(N ‖ P)``; mode 2 sends ``C, MAC = EAX′.seal(N, P)``. Unknown ACSE elements are not
in N. Checked against the standard's Example 8 and IEEE 1703 Annex G (tests/c1222/test_protect.py).

Where key id and IV come from: the message's C12.22 calling authentication value (AC) when it has
them, else the ``key_id`` / ``iv`` arguments (the session's values). Relative ApTitles hang under
``base`` (default `C1222_BASE`, as Wireshark's default); pass another base when the application
context calls for one (MeteringSDK, when A1 is present, resolves relative titles under the A1 OID
itself — not confirmed by any published vector, so it is left to the caller).

Errors: a MAC that does not verify raises `MessageMacError` — a `BadMacError`, so a
`RemoteProtocolError` — carrying the decoded message, so the association layer can turn it into an
event (and answer, e.g., with a security-mechanism error) instead of crashing. An unknown key id
raises `UnknownKeyError` (also carrying the message). A message whose control byte says mode 0 opens
as cleartext: refusing a cleartext answer to a secured request (a downgrade) is the caller's check,
on `Opened.security_mode`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openami.c1222.acse import APDU_TAG, C1222Auth, Message, encode_user_information_header, shortest_elements
from openami.c1222.aptitle import C1222_BASE, ApTitle
from openami.c1222.ber import encode_length, encode_tlv
from openami.c1222.eax import BadMacError, EaxPrime
from openami.c1222.epsem import MAC_SIZE, EpsemControl, check_epsem_body, decode_epsem_body, split_epsem
from openami.c1222.security import KeyStore, SecurityMode
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "MessageMacError",
    "Opened",
    "UnknownKeyError",
    "canonified_cleartext",
    "open",
    "seal",
]

Buf = bytes | bytearray | memoryview
Keys = Buf | EaxPrime | Mapping[int, Buf] | KeyStore
"""One key (16 bytes or a ready `EaxPrime`) used whatever the key id, or key id → key (a mapping
or a `KeyStore`)."""


class MessageMacError(BadMacError):
    """The MAC of a received message did not verify; ``message`` is the (undecrypted) message."""

    def __init__(self, text: str, message: Message, key_id: int) -> None:
        super().__init__(text)
        self.message = message
        self.key_id = key_id


class UnknownKeyError(RemoteProtocolError):
    """The message names a key id we hold no key for; ``message`` is the decoded message."""

    def __init__(self, text: str, message: Message, key_id: int) -> None:
        super().__init__(text)
        self.message = message
        self.key_id = key_id


@dataclass(frozen=True, kw_only=True)
class Opened:
    """A received message, verified and decrypted.

    ``plaintext`` is P (ED class and services, no MAC); ``services`` its services (code first);
    ``key_id``/``iv`` are what N used (None in mode 0). ``message`` is the message as received.
    """

    message: Message
    control: EpsemControl
    ed_class: bytes | None
    services: tuple[bytes, ...]
    plaintext: bytes
    key_id: int | None = None
    iv: bytes | None = None
    mac: bytes | None = None

    @property
    def security_mode(self) -> SecurityMode:
        """The EPSEM security mode the message arrived in."""
        return self.control.security_mode


def _absolute_title_tlv(tag: int, tlv: bytes | None, title: ApTitle | None, base: ApTitle) -> bytes:
    """A2 or A6 for N: ``tlv`` (the element as encoded) if absolute, else ``tag L 06 L <base ‖ x>``."""
    if title is None:
        return b""
    if not title.relative:
        assert tlv is not None
        return tlv  # already absolute: exactly as on the wire
    oid = base.content() + title.content()
    size = len(oid)
    if size < 0x7E:  # both lengths short-form
        return bytes((tag, size + 2, 0x06, size)) + oid
    return encode_tlv(tag, encode_tlv(0x06, oid))


def _key_and_iv(message: Message, key_id: int | None, iv: bytes | None) -> tuple[int | None, bytes | None]:
    """Key id and IV: the message's AC values first, the (session) arguments as fallback."""
    if isinstance(message.auth, C1222Auth):
        key_id = message.auth.key_id if message.auth.key_id is not None else key_id
        iv = message.auth.iv if message.auth.iv is not None else iv
    return key_id, iv


def _checked_key_and_iv(message: Message, key_id: int | None, iv: Buf | None, base: ApTitle) -> tuple[int, bytes]:
    """`_key_and_iv` with the checks N needs (`LocalProtocolError` if missing or out of range)."""
    if base.relative:
        raise LocalProtocolError("the base of relative ApTitles must be absolute")
    kid, vector = _key_and_iv(message, key_id, None if iv is None else bytes(iv))
    if kid is None or vector is None:
        raise LocalProtocolError("N needs a key id and an IV: none in the message's AC nor given")
    _check_key_and_iv(kid, vector)
    return kid, vector


def _check_key_and_iv(kid: int, vector: bytes) -> None:
    if not 0 <= kid <= 0xFF or len(vector) != 4:
        raise LocalProtocolError(f"key id must be 0..255 and the IV 4 bytes, got {kid}, {vector!r}")


def _cleartext(
    elements: Mapping[int, bytes], message: Message, ui_header: bytes, kid: int, vector: bytes, base: ApTitle
) -> bytes:
    """N from the message's elements (tag octet → TLV as encoded) and its BE header through the
    control byte; ``kid``/``vector`` checked, ``base`` absolute."""
    get = elements.get
    return b"".join(
        (
            get(0xA1, b""),
            _absolute_title_tlv(0xA2, get(0xA2), message.called, base),
            get(0xA4, b""),
            get(0xA7, b""),
            get(0xA8, b""),
            get(0x8B, b""),
            get(0xAC, b""),
            ui_header,
            _absolute_title_tlv(0xA6, get(0xA6), message.calling, base),
            bytes((kid,)),
            vector,
        )
    )


def canonified_cleartext(
    message: Message | Buf,
    key_id: int | None = None,
    iv: Buf | None = None,
    base: ApTitle = C1222_BASE,
) -> bytes:
    """N for ``message`` (a `Message` whose user information is the final EPSEM, MAC included, or
    its APDU bytes). ``key_id``/``iv`` are used when the message's AC does not carry them; if neither
    does, `LocalProtocolError`. ``base`` must be absolute."""
    msg = message if isinstance(message, Message) else Message.decode(message)
    kid, vector = _checked_key_and_iv(msg, key_id, iv, base)
    return _cleartext(dict(msg.elements()), msg, msg.user_information_header(), kid, vector, base)


def seal(
    message: Message,
    key: Buf | EaxPrime | None = None,
    key_id: int | None = None,
    iv: Buf | None = None,
    *,
    base: ApTitle = C1222_BASE,
) -> bytes:
    """The on-wire APDU for ``message``, whose ``user_information`` is the *unsealed* EPSEM:
    control byte ‖ P, without MAC (e.g. ``Epsem(...).encode()`` with ``mac=None``).

    The control byte's security mode decides: mode 0 encodes as is; mode 1 appends
    ``EAX′.tag(N ‖ P)``; mode 2 replaces P by its ciphertext and appends the MAC. ``key`` (16 bytes or
    an `EaxPrime`) is required in modes 1/2; key id and IV come from the message's AC if it has them, else from the
    arguments. The message is encoded as given: add a `C1222Auth` to it to send key id and IV.
    Raises `LocalProtocolError` for a malformed EPSEM or missing key material.

    Modes 1/2 encode every element in the shortest form (also for a decoded message): N is taken
    over the message with a 4-byte placeholder MAC, and sealing keeps every length, so only the BE
    element changes.
    """
    epsem = message.user_information
    body = epsem[1:]
    try:
        control = EpsemControl.decode(epsem[0])
        check_epsem_body(body, control.ed_class_included)
    except RemoteProtocolError as exc:
        raise LocalProtocolError(f"cannot seal a malformed EPSEM: {exc}") from None
    if control.security_mode is SecurityMode.CLEARTEXT:
        return message.encode()
    if key is None:
        raise LocalProtocolError(f"security mode {control.security_mode.name} needs a key")
    kid, vector = _checked_key_and_iv(message, key_id, iv, base)
    elements = shortest_elements(message)
    # BE for the sealed EPSEM (its final length: MAC included), through the control byte
    header = encode_user_information_header(len(epsem) + MAC_SIZE, message.user_information_indirect_ref)
    header += epsem[:1]
    n = _cleartext(dict(elements), message, header, kid, vector, base)
    eax = key if isinstance(key, EaxPrime) else EaxPrime(key)
    if control.security_mode is SecurityMode.AUTHENTICATED:
        sent, mac = body, eax.tag(n + body)
    else:
        sent, mac = eax.seal(n, body)
    # BE (tag number 30, the highest) is the last element: every other element goes out as encoded
    content = b"".join([tlv for _, tlv in elements[:-1]] + [header, sent, mac])
    return bytes((APDU_TAG,)) + encode_length(len(content)) + content


def _cipher(keys: Keys | None, message: Message, key_id: int) -> EaxPrime:
    if keys is None:
        raise LocalProtocolError("a secured message (mode 1/2) needs a key to open")
    if isinstance(keys, EaxPrime):
        return keys
    if isinstance(keys, bytes | bytearray | memoryview):
        return EaxPrime(keys)
    if isinstance(keys, KeyStore):
        found = keys.get(key_id)
    else:
        key = keys.get(key_id)
        found = None if key is None else EaxPrime(key)
    if found is None:
        raise UnknownKeyError(f"no key for key id {key_id}", message, key_id)
    return found


def open(  # shadows the builtin inside this module only: use it as protect.open
    apdu: Message | Buf,
    keys: Keys | None = None,
    key_id: int | None = None,
    iv: Buf | None = None,
    *,
    base: ApTitle = C1222_BASE,
) -> Opened:
    """Verify and decrypt a received message (`Message` or exactly one APDU's bytes).

    ``keys`` (modes 1/2 only) is one key (16 bytes or an `EaxPrime`) or a mapping key id → key, or a
    `KeyStore`; ``key_id``/``iv``
    are the session's values, used when the message's AC does not carry them. Raises
    `MessageMacError` (a `BadMacError`) if the MAC does not verify, `UnknownKeyError` for a key id
    not in ``keys``, `RemoteProtocolError` for malformed bytes or missing key id/IV.
    """
    message = apdu if isinstance(apdu, Message) else Message.decode(apdu)
    control, body, mac = split_epsem(message.user_information)
    kid: int | None = None
    vector: bytes | None = None
    if mac is None:
        plaintext = body
    else:
        kid, vector = _key_and_iv(message, key_id, None if iv is None else bytes(iv))
        if kid is None or vector is None:
            raise RemoteProtocolError("secured message without key id/IV, and no session values given")
        eax = _cipher(keys, message, kid)
        # canonified_cleartext(message, kid, vector, base), its checks in the same order
        if base.relative:
            raise LocalProtocolError("the base of relative ApTitles must be absolute")
        _check_key_and_iv(kid, vector)
        n = _cleartext(dict(message.elements()), message, message.user_information_header(), kid, vector, base)
        try:
            if control.security_mode is SecurityMode.AUTHENTICATED:
                eax.open(n + body, b"", mac)
                plaintext = body
            else:
                plaintext = eax.open(n, body, mac)
        except BadMacError:
            raise MessageMacError(f"C12.22 MAC {mac.hex()} does not verify (key id {kid})", message, kid) from None
    ed_class, services = decode_epsem_body(plaintext, control.ed_class_included)
    # Opened(message=..., ...) without the frozen __init__'s one object.__setattr__ per field
    opened = object.__new__(Opened)
    opened.__dict__.update(
        message=message,
        control=control,
        ed_class=ed_class,
        services=services,
        plaintext=plaintext,
        key_id=kid,
        iv=vector,
        mac=mac,
    )
    return opened
