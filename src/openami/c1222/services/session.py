"""Session services: Logon, Security, Logoff, Terminate, Disconnect, Wait, Authenticate (C12.21),
Negotiate (C12.18/C12.21) and Timing Setup (C12.21).

Request bodies (c12-protocol-facts.md §3; field order checked against Wireshark packet-c1222.c)::

    50 user-id:2 user:10 [session-idle-timeout:2]   logon; the timeout (seconds) is the C12.22 form,
                                                    without it the C12.18 form
    51 password:20 [user-id:2]                      security; user-id in the C12.22 sessionless form
    52 / 21 / 22                                    logoff / terminate / disconnect
    53 len:1 data                                   authenticate (C12.21)
    6n packet-size:2 nbr-packets:1 baud:1 × n       negotiate, n = 0..11 baud-rate codes
    70 seconds:1                                    wait
    71 traffic:1 inter-char:1 resp-to:1 retries:1   timing setup: three time-outs (seconds), retries

Ok responses: Logon → ``00 timeout:2`` (`LogonResponse`, C12.22) or ``00`` (C12.18); Negotiate →
``00 packet-size:2 nbr-packets:1 baud:1``. The public table gives no ok data for Authenticate and
Timing Setup; C12.21 devices answer Authenticate with ``len:1 data`` (the device's own authentication
reply) and Timing Setup with the four accepted values, so both are decoded when present and a bare
``00`` is an `OkResponse` (our reading of C12.21, documented as a choice). Shorter legal forms: a
Logon or Security request cut just before its optional trailing field decodes as the shorter form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from openami.c1222.codes import ResponseCode, ServiceCode
from openami.c1222.services.base import (
    OkResponse,
    Reader,
    Request,
    Response,
    check_len,
    check_uint,
)
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "MAX_BAUD_CODES",
    "PASSWORD_LENGTH",
    "USER_LENGTH",
    "Authenticate",
    "AuthenticateResponse",
    "Disconnect",
    "Logoff",
    "Logon",
    "LogonResponse",
    "Negotiate",
    "NegotiateResponse",
    "Security",
    "Terminate",
    "TimingSetup",
    "TimingSetupResponse",
    "Wait",
]

USER_LENGTH = 10
"""Logon user field: 10 bytes, blank (0x20) padded."""
PASSWORD_LENGTH = 20
"""Security password field: 20 bytes, binary."""
MAX_BAUD_CODES = 11
"""Negotiate codes 0x60–0x6B: the low nibble counts the baud-rate codes that follow."""


@dataclass(frozen=True, slots=True)
class _Bare(Request):
    """A request that is its code byte only."""

    codes: ClassVar[tuple[int, ...]] = ()

    @property
    def code(self) -> int:
        return self.codes[0]

    def encode(self) -> bytes:
        return bytes((self.code,))

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls()


@dataclass(frozen=True, slots=True)
class Logoff(_Bare):
    """``52``: end the session."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.LOGOFF,)


@dataclass(frozen=True, slots=True)
class Terminate(_Bare):
    """``21``: end the communication (the device drops the session)."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.TERMINATE,)


@dataclass(frozen=True, slots=True)
class Disconnect(_Bare):
    """``22``: ask a node to disconnect from the network."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.DISCONNECT,)


@dataclass(frozen=True, slots=True)
class LogonResponse(Response):
    """C12.22 ok response to Logon: ``00 session-idle-timeout:2`` (seconds, as granted)."""

    session_idle_timeout: int

    def __post_init__(self) -> None:
        check_uint(self.session_idle_timeout, 16, "session idle timeout")

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return b"\x00" + self.session_idle_timeout.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class Logon(Request):
    """``50 user-id:2 user:10 [session-idle-timeout:2]``.

    ``user`` is kept as the 10 wire bytes: a shorter value is padded with blanks at construction, so
    ``Logon(2, b"OPERATOR").user == b"OPERATOR  "``; `user_name` gives the text without the padding.
    ``session_idle_timeout`` (seconds) None = the C12.18 form without the field.
    """

    user_id: int
    user: bytes = b""
    session_idle_timeout: int | None = None
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.LOGON,)

    def __post_init__(self) -> None:
        check_uint(self.user_id, 16, "user id")
        check_len(self.user, USER_LENGTH, "user")
        object.__setattr__(self, "user", bytes(self.user).ljust(USER_LENGTH, b" "))
        if self.session_idle_timeout is not None:
            check_uint(self.session_idle_timeout, 16, "session idle timeout")

    @property
    def code(self) -> int:
        return ServiceCode.LOGON

    @property
    def user_name(self) -> str:
        """The user field as Latin-1 text without trailing blanks."""
        return self.user.rstrip(b" ").decode("latin-1")

    def encode(self) -> bytes:
        body = bytes((self.code,)) + self.user_id.to_bytes(2, "big") + self.user
        if self.session_idle_timeout is not None:
            body += self.session_idle_timeout.to_bytes(2, "big")
        return body

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        user_id = reader.u16("user id")
        user = reader.take(USER_LENGTH, "user")
        timeout = reader.u16("session idle timeout") if reader.remaining else None
        return cls(user_id, user, timeout)

    def decode_ok(self, payload: bytes) -> Response:
        """``00 timeout:2`` → `LogonResponse`; a bare ``00`` (C12.18 form) → `OkResponse`."""
        if not payload:
            return OkResponse()
        reader = Reader(payload, "logon response")
        timeout = reader.u16("session idle timeout")
        reader.finish()
        return LogonResponse(timeout)


@dataclass(frozen=True, slots=True)
class Security(Request):
    """``51 password:20 [user-id:2]``.

    ``password`` is binary (any byte values, kept as is); a shorter value is padded with blanks to 20
    bytes at construction. ``user_id`` is the C12.22 sessionless form (None = without it).
    """

    password: bytes
    user_id: int | None = None
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.SECURITY,)

    def __post_init__(self) -> None:
        check_len(self.password, PASSWORD_LENGTH, "password")
        object.__setattr__(self, "password", bytes(self.password).ljust(PASSWORD_LENGTH, b" "))
        if self.user_id is not None:
            check_uint(self.user_id, 16, "user id")

    @property
    def code(self) -> int:
        return ServiceCode.SECURITY

    def encode(self) -> bytes:
        body = bytes((self.code,)) + self.password
        if self.user_id is not None:
            body += self.user_id.to_bytes(2, "big")
        return body

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        password = reader.take(PASSWORD_LENGTH, "password")
        user_id = reader.u16("user id") if reader.remaining else None
        return cls(password, user_id)


@dataclass(frozen=True, slots=True)
class Wait(Request):
    """``70 seconds:1``: keep the session open for ``seconds`` (0–255)."""

    seconds: int
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.WAIT,)

    def __post_init__(self) -> None:
        check_uint(self.seconds, 8, "wait seconds")

    @property
    def code(self) -> int:
        return ServiceCode.WAIT

    def encode(self) -> bytes:
        return bytes((self.code, self.seconds))

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(reader.u8("seconds"))


def _encode_short_data(data: bytes) -> bytes:
    check_len(data, 0xFF, "authentication data")
    return bytes((len(data),)) + data


def _decode_short_data(reader: Reader) -> bytes:
    return reader.take(reader.u8("length"), "authentication data")


@dataclass(frozen=True, slots=True)
class AuthenticateResponse(Response):
    """C12.21 ok response to Authenticate carrying data: ``00 len:1 data``."""

    data: bytes

    def __post_init__(self) -> None:
        check_len(self.data, 0xFF, "authentication data")

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return b"\x00" + _encode_short_data(self.data)


@dataclass(frozen=True, slots=True)
class Authenticate(Request):
    """``53 len:1 data`` (C12.21; layout as Wireshark's AUTHENTICATE case)."""

    data: bytes
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.AUTHENTICATE,)

    def __post_init__(self) -> None:
        check_len(self.data, 0xFF, "authentication data")

    @property
    def code(self) -> int:
        return ServiceCode.AUTHENTICATE

    def encode(self) -> bytes:
        return bytes((self.code,)) + _encode_short_data(self.data)

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(_decode_short_data(reader))

    def decode_ok(self, payload: bytes) -> Response:
        """``00`` → `OkResponse`; ``00 len data`` → `AuthenticateResponse`."""
        if not payload:
            return OkResponse()
        reader = Reader(payload, "authenticate response")
        data = _decode_short_data(reader)
        reader.finish()
        return AuthenticateResponse(data)


@dataclass(frozen=True, slots=True)
class NegotiateResponse(Response):
    """Ok response to Negotiate: ``00 packet-size:2 nbr-packets:1 baud:1`` (the values in force)."""

    packet_size: int
    nbr_packets: int
    baud: int

    def __post_init__(self) -> None:
        check_uint(self.packet_size, 16, "packet size")
        check_uint(self.nbr_packets, 8, "number of packets")
        check_uint(self.baud, 8, "baud rate code")

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return b"\x00" + self.packet_size.to_bytes(2, "big") + bytes((self.nbr_packets, self.baud))


@dataclass(frozen=True, slots=True)
class Negotiate(Request):
    """``6n packet-size:2 nbr-packets:1 baud:1 × n``; n = len(bauds) in 0..11 is the code's low nibble.

    ``packet_size`` in bytes; ``bauds`` are C12.18 baud-rate codes in order of preference.
    """

    packet_size: int
    nbr_packets: int
    bauds: tuple[int, ...] = ()
    codes: ClassVar[tuple[int, ...]] = tuple(range(0x60, 0x60 + MAX_BAUD_CODES + 1))

    def __post_init__(self) -> None:
        check_uint(self.packet_size, 16, "packet size")
        check_uint(self.nbr_packets, 8, "number of packets")
        object.__setattr__(self, "bauds", tuple(self.bauds))
        if len(self.bauds) > MAX_BAUD_CODES:
            raise LocalProtocolError(f"{len(self.bauds)} baud codes; Negotiate carries at most 11")
        for baud in self.bauds:
            check_uint(baud, 8, "baud rate code")

    @property
    def code(self) -> int:
        return ServiceCode.NEGOTIATE + len(self.bauds)

    def encode(self) -> bytes:
        return bytes((self.code,)) + self.packet_size.to_bytes(2, "big") + bytes((self.nbr_packets, *self.bauds))

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        packet_size = reader.u16("packet size")
        nbr_packets = reader.u8("number of packets")
        bauds = tuple(reader.take(code - ServiceCode.NEGOTIATE, "baud rate codes"))
        return cls(packet_size, nbr_packets, bauds)

    def decode_ok(self, payload: bytes) -> Response:
        reader = Reader(payload, "negotiate response")
        response = NegotiateResponse(reader.u16("packet size"), reader.u8("number of packets"), reader.u8("baud"))
        reader.finish()
        return response


@dataclass(frozen=True, slots=True)
class TimingSetupResponse(Response):
    """C12.21 ok response to Timing Setup, the accepted values: ``00 traffic inter-char resp-to retries``."""

    traffic: int
    inter_char: int
    resp_to: int
    nbr_retries: int

    def __post_init__(self) -> None:
        _check_timing(self.traffic, self.inter_char, self.resp_to, self.nbr_retries)

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return bytes((0, self.traffic, self.inter_char, self.resp_to, self.nbr_retries))


def _check_timing(*values: int) -> None:
    for name, value in zip(("traffic", "inter-char", "response time-out", "retries"), values, strict=True):
        check_uint(value, 8, name)


@dataclass(frozen=True, slots=True)
class TimingSetup(Request):
    """``71 traffic:1 inter-char:1 resp-to:1 nbr-retries:1`` (C12.21): time-outs in seconds, retries.

    Field names and order as Wireshark's TIMING_SETUP case.
    """

    traffic: int
    inter_char: int
    resp_to: int
    nbr_retries: int
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.TIMING_SETUP,)

    def __post_init__(self) -> None:
        _check_timing(self.traffic, self.inter_char, self.resp_to, self.nbr_retries)

    @property
    def code(self) -> int:
        return ServiceCode.TIMING_SETUP

    def encode(self) -> bytes:
        return bytes((self.code, self.traffic, self.inter_char, self.resp_to, self.nbr_retries))

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        values = reader.take(4, "timing values")
        return cls(values[0], values[1], values[2], values[3])

    def decode_ok(self, payload: bytes) -> Response:
        """``00`` → `OkResponse`; ``00`` + 4 bytes → `TimingSetupResponse`."""
        if not payload:
            return OkResponse()
        if len(payload) != 4:
            raise RemoteProtocolError(f"timing setup response: {len(payload)} bytes after ok, not 0 or 4")
        return TimingSetupResponse(payload[0], payload[1], payload[2], payload[3])
