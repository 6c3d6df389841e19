"""EPSEM: the envelope of C12.22 services inside the user information (c12-protocol-facts.md §2).

Layout (multi-byte values big-endian)::

    <control:1> [<ed-class:4> if ED_CLASS_INCLUDED] { <service-length:BER> <service> }+ [<mac:4>]

The MAC is present in security modes 1 and 2. Mode 2 encrypts everything between the control byte
and the MAC, ED class included, so the EPSEM splits at two boundaries:

- `split_epsem` / `join_epsem`: control byte | body (plaintext P, or ciphertext) | MAC;
- `decode_epsem_body` / `encode_epsem_body`: body P ↔ ED class and the list of services.

`SecurityMode` is the one from `openami.c1222.security`, re-exported. Services are opaque byte
strings here (request or response code first); `openami.c1222.services`
types them. `Epsem` puts the pieces together for cleartext use (modes 0 and 1).

Decoder choices: service lengths may use the long BER form, non-minimal forms included (``81 05``);
a zero service length is accepted only as the very last octet of the body, as an end-of-list
marker (MeteringSDK treats a zero length as "no more services"; Wireshark's loop and INL's parser
also tolerate one). Both are read but not reproduced: `encode_epsem_body` writes shortest lengths
and no marker. Byte-exact re-encoding of whole messages is kept by `openami.c1222.acse`, which
carries the EPSEM octets as received; MACs are always checked over the octets as received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from openami.c1222.ber import decode_length, encode_length
from openami.c1222.security import SecurityMode
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "ED_CLASS_SIZE",
    "MAC_SIZE",
    "Epsem",
    "EpsemControl",
    "ResponseControl",
    "SecurityMode",
    "check_epsem_body",
    "decode_epsem_body",
    "encode_epsem_body",
    "join_epsem",
    "split_epsem",
]

MAC_SIZE = 4
"""Bytes of the EAX′ MAC ending the EPSEM in security modes 1 and 2."""

ED_CLASS_SIZE = 4
"""Bytes of the end-device class following the control byte when ED_CLASS_INCLUDED is set."""

_RESERVED = 0x80
_RECOVERY_SESSION = 0x40
_PROXY_SERVICE_USED = 0x20
_ED_CLASS_INCLUDED = 0x10

Buf = bytes | bytearray | memoryview


class ResponseControl(IntEnum):
    """EPSEM control bits 1–0. Value 3 is reserved (refused)."""

    ALWAYS = 0
    ON_EXCEPTION = 1
    NEVER = 2


@dataclass(frozen=True, kw_only=True)
class EpsemControl:
    """The EPSEM control byte.

    bit7 ``reserved`` (1 in all real traffic; kept so a 0 re-encodes), bit6 ``recovery_session``,
    bit5 ``proxy_service_used``, bit4 ``ed_class_included``, bits3–2 ``security_mode``,
    bits1–0 ``response_control``.
    """

    security_mode: SecurityMode = SecurityMode.CLEARTEXT
    response_control: ResponseControl = ResponseControl.ALWAYS
    ed_class_included: bool = False
    proxy_service_used: bool = False
    recovery_session: bool = False
    reserved: bool = True

    def __post_init__(self) -> None:
        if type(self.security_mode) is SecurityMode and type(self.response_control) is ResponseControl:
            return  # already members: nothing to convert
        try:
            object.__setattr__(self, "security_mode", SecurityMode(self.security_mode))
            object.__setattr__(self, "response_control", ResponseControl(self.response_control))
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None

    def to_int(self) -> int:
        """The control byte as an int 0..255."""
        return (
            (_RESERVED if self.reserved else 0)
            | (_RECOVERY_SESSION if self.recovery_session else 0)
            | (_PROXY_SERVICE_USED if self.proxy_service_used else 0)
            | (_ED_CLASS_INCLUDED if self.ed_class_included else 0)
            | self.security_mode << 2
            | self.response_control
        )

    def encode(self) -> bytes:
        """The control byte (1 byte)."""
        return bytes((self.to_int(),))

    @classmethod
    def decode(cls, value: int | Buf) -> EpsemControl:
        """From the control byte (an int, or exactly one byte). Reserved mode/response values raise."""
        if cls is EpsemControl and type(value) is int:
            found = _CONTROLS.get(value)
            if found is not None:  # controls are immutable values: one per byte value is enough
                return found
        if not isinstance(value, int):
            if len(value) != 1:
                raise RemoteProtocolError(f"EPSEM control is 1 byte, got {len(value)}")
            value = value[0]
        if not 0 <= value <= 0xFF:
            raise LocalProtocolError(f"EPSEM control byte out of range: {value}")
        mode = (value >> 2) & 0x03
        response = value & 0x03
        if mode == 3:
            raise RemoteProtocolError(f"EPSEM control 0x{value:02X}: reserved security mode 3")
        if response == 3:
            raise RemoteProtocolError(f"EPSEM control 0x{value:02X}: reserved response control 3")
        control = cls(
            security_mode=SecurityMode(mode),
            response_control=ResponseControl(response),
            ed_class_included=bool(value & _ED_CLASS_INCLUDED),
            proxy_service_used=bool(value & _PROXY_SERVICE_USED),
            recovery_session=bool(value & _RECOVERY_SESSION),
            reserved=bool(value & _RESERVED),
        )
        if cls is EpsemControl:
            _CONTROLS[value] = control
        return control


_CONTROLS: dict[int, EpsemControl] = {}
"""`EpsemControl.decode` results by control byte (at most 256 entries), filled as bytes are seen."""


def _has_mac(control: EpsemControl) -> bool:
    return control.security_mode is not SecurityMode.CLEARTEXT


def split_epsem(epsem: Buf) -> tuple[EpsemControl, bytes, bytes | None]:
    """Split an EPSEM as on the wire into ``(control, body, mac)``.

    ``body`` is everything between the control byte and the MAC (plaintext P in modes 0/1,
    ciphertext in mode 2); ``mac`` is the last 4 bytes in modes 1/2, None in mode 0. The body is not
    parsed here (see `decode_epsem_body`).
    """
    if len(epsem) == 0:
        raise RemoteProtocolError("empty EPSEM")
    control = EpsemControl.decode(epsem[0])
    if not _has_mac(control):
        return control, bytes(epsem[1:]), None
    if len(epsem) < 1 + MAC_SIZE + 1:
        raise RemoteProtocolError(f"EPSEM of {len(epsem)} bytes is too short for a body and a MAC")
    return control, bytes(epsem[1:-MAC_SIZE]), bytes(epsem[-MAC_SIZE:])


def join_epsem(control: EpsemControl, body: Buf, mac: Buf | None = None) -> bytes:
    """The inverse of `split_epsem`: ``control ‖ body ‖ mac``. ``mac`` is 4 bytes in modes 1/2 and
    None in mode 0; passing None in modes 1/2 gives the unsealed EPSEM `protect.seal` takes."""
    if mac is not None:
        if not _has_mac(control):
            raise LocalProtocolError("a cleartext (mode 0) EPSEM carries no MAC")
        if len(mac) != MAC_SIZE:
            raise LocalProtocolError(f"MAC must be {MAC_SIZE} bytes, got {len(mac)}")
    return control.encode() + bytes(body) + (bytes(mac) if mac is not None else b"")


def encode_epsem_body(ed_class: Buf | None, services: Sequence[Buf]) -> bytes:
    """P: ``[ed-class:4] { <service-length:BER, shortest form> <service> }+``."""
    if ed_class is not None and len(ed_class) != ED_CLASS_SIZE:
        raise LocalProtocolError(f"ED class must be {ED_CLASS_SIZE} bytes, got {len(ed_class)}")
    if not services:
        raise LocalProtocolError("an EPSEM needs at least one service")
    out = bytearray(ed_class if ed_class is not None else b"")
    for service in services:
        size = len(service)
        if size == 0:
            raise LocalProtocolError("a service needs at least its request or response code")
        if size < 0x80:
            out.append(size)
        else:
            out += encode_length(size)
        out += service
    return bytes(out)


def decode_epsem_body(body: Buf, ed_class_included: bool) -> tuple[bytes | None, tuple[bytes, ...]]:
    """P → ``(ed_class or None, services)``; each service starts with its request/response code.

    Raises `RemoteProtocolError` for a missing ED class, no service, a service length running past
    the end, or a zero length anywhere but as the final end-of-list octet (see the module doc).
    """
    data = bytes(body)
    size = len(data)
    pos = 0
    ed_class: bytes | None = None
    if ed_class_included:
        if size < ED_CLASS_SIZE:
            raise RemoteProtocolError(f"EPSEM body of {size} bytes is too short for the ED class")
        ed_class = data[:ED_CLASS_SIZE]
        pos = ED_CLASS_SIZE
    services: list[bytes] = []
    while pos < size:
        length = data[pos]
        if length < 0x80:  # short form, read inline
            start = pos + 1
        else:
            length, start = decode_length(data, pos)
        if length == 0:
            if start != size or not services:
                raise RemoteProtocolError("zero EPSEM service length that is not a final end marker")
            break
        end = start + length
        if end > size:
            raise RemoteProtocolError(f"EPSEM service of {length} bytes runs past the end ({size - start} left)")
        services.append(data[start:end])
        pos = end
    if not services:
        raise RemoteProtocolError("EPSEM without any service")
    return ed_class, tuple(services)


def check_epsem_body(body: Buf, ed_class_included: bool) -> None:
    """Raise as `decode_epsem_body` would for a malformed P; build nothing."""
    size = len(body)
    pos = 0
    if ed_class_included:
        if size < ED_CLASS_SIZE:
            raise RemoteProtocolError(f"EPSEM body of {size} bytes is too short for the ED class")
        pos = ED_CLASS_SIZE
    count = 0
    while pos < size:
        length = body[pos]
        if length < 0x80:
            start = pos + 1
        else:
            length, start = decode_length(body, pos)
        if length == 0:
            if start != size or not count:
                raise RemoteProtocolError("zero EPSEM service length that is not a final end marker")
            break
        pos = start + length
        if pos > size:
            raise RemoteProtocolError(f"EPSEM service of {length} bytes runs past the end ({size - start} left)")
        count += 1
    if not count:
        raise RemoteProtocolError("EPSEM without any service")


@dataclass(frozen=True, kw_only=True)
class Epsem:
    """A cleartext EPSEM: control byte, optional ED class (4 bytes), services, optional MAC (4 bytes).

    ``control.ed_class_included`` must agree with ``ed_class``. ``mac`` is None for mode 0 and for an
    unsealed mode 1/2 EPSEM (the form `protect.seal` takes).
    """

    control: EpsemControl
    services: tuple[bytes, ...]
    ed_class: bytes | None = None
    mac: bytes | None = None
    # P, encoded once by the constructor (which validates it that way)
    _body: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if type(self.services) is not tuple:
            object.__setattr__(self, "services", tuple(self.services))
        if (self.ed_class is not None) != self.control.ed_class_included:
            raise LocalProtocolError("ed_class must be given exactly when control.ed_class_included is set")
        if self.mac is not None and (not _has_mac(self.control) or len(self.mac) != MAC_SIZE):
            raise LocalProtocolError(f"mac must be {MAC_SIZE} bytes, and only in security modes 1 and 2")
        # validates sizes and the service list
        object.__setattr__(self, "_body", encode_epsem_body(self.ed_class, self.services))

    def body(self) -> bytes:
        """P: the bytes between the control byte and the MAC."""
        return self._body

    def encode(self) -> bytes:
        """The EPSEM octets: control ‖ P [‖ MAC]."""
        control = bytes((self.control.to_int(),))
        return control + self._body if self.mac is None else control + self._body + bytes(self.mac)

    @classmethod
    def decode(cls, data: Buf, *, with_mac: bool = True) -> Epsem:
        """Decode a mode 0 or mode 1 EPSEM (the MAC is not checked here: see `protect.open`).

        ``with_mac=False`` reads a mode 1/2 EPSEM that has no MAC yet. A mode 2 EPSEM with a MAC is
        ciphertext and raises `LocalProtocolError` (decrypt it with `protect.open`).
        """
        if with_mac:
            control, body, mac = split_epsem(data)
        else:
            if len(data) == 0:
                raise RemoteProtocolError("empty EPSEM")
            control, body, mac = EpsemControl.decode(data[0]), bytes(data[1:]), None
        if control.security_mode is SecurityMode.ENCRYPTED and mac is not None:
            raise LocalProtocolError("a mode 2 EPSEM is ciphertext: open it with openami.c1222.protect")
        ed_class, services = decode_epsem_body(body, control.ed_class_included)
        return cls(control=control, services=services, ed_class=ed_class, mac=mac)
