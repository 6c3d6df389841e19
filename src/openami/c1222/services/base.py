"""Shared pieces of the PSEM service codecs: request/response bases, the generic ok and error responses,
the table-data checksum, table-id helpers, the UID (ApTitle) element and a bounds-checked reader.

Byte layouts follow c12-protocol-facts.md §3; multi-byte integers are big-endian.

UID elements (ApTitles and other object identifiers inside a service body) are BER TLVs: ``06 L <OID>``
for an absolute identifier, ``0D L <RELATIVE-OID>`` for a relative one (the X.690 universal tags; our
reading of C12.19's UID type, not confirmed by a public source). The Wireshark dissector does not decode
service ApTitles; INL's icsnpp-c1222 (``analyzer/c1222.spicy``, type ``ID``) reads relative ones with the
context tag ``80`` as in the ACSE header. We encode ``0D`` and accept both ``0D`` and ``80`` when decoding.
Exceptions to byte-exact round trips, both documented: a relative UID tagged ``80`` re-encodes with ``0D``,
and a non-minimal BER length re-encodes in the shortest form.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Self

from openami.c1219.checksum import table_checksum
from openami.c1222.aptitle import ApTitle
from openami.c1222.ber import encode_tlv, read_tlv
from openami.c1222.codes import ResponseCode
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "MANUFACTURER_TABLE_FLAG",
    "PENDING_TABLE_FLAG",
    "UID_ABSOLUTE_TAG",
    "UID_RELATIVE_TAG",
    "ChecksumError",
    "ErrorResponse",
    "OkResponse",
    "Reader",
    "Request",
    "Response",
    "decode_uid",
    "encode_uid",
    "format_table_id",
    "is_manufacturer_table",
    "make_table_id",
    "parse_table_id",
    "table_checksum",
]

MANUFACTURER_TABLE_FLAG = 0x0800
"""Bit 11 of a table id: manufacturer table (MT n = 2048 + n), c12-protocol-facts.md §3."""

PENDING_TABLE_FLAG = 0x1000
"""Bit 12 of a table id: pending table (Wireshark packet-c1222.c ``tableflags``: 0x10 "Pending ST")."""

UID_ABSOLUTE_TAG = 0x06
UID_RELATIVE_TAG = 0x0D
_UID_RELATIVE_TAGS = (UID_RELATIVE_TAG, 0x80)


def make_table_id(number: int, *, manufacturer: bool = False, pending: bool = False) -> int:
    """Table id of ST/MT ``number`` (0–2047); e.g. ``make_table_id(5, manufacturer=True)`` = 0x0805."""
    if not 0 <= number <= 0x07FF:
        raise LocalProtocolError(f"table number {number} out of range 0..2047")
    return number | (MANUFACTURER_TABLE_FLAG if manufacturer else 0) | (PENDING_TABLE_FLAG if pending else 0)


def is_manufacturer_table(table_id: int) -> bool:
    """True if bit 11 (0x0800) is set."""
    return bool(table_id & MANUFACTURER_TABLE_FLAG)


def format_table_id(table_id: int) -> str:
    """``"ST1"``, ``"MT5"``; ``"pending ST5"`` if bit 12 is set; other high bits are shown in hex."""
    if not 0 <= table_id <= 0xFFFF:
        raise LocalProtocolError(f"table id {table_id} out of range 0..0xFFFF")
    text = ("MT" if is_manufacturer_table(table_id) else "ST") + str(table_id & 0x07FF)
    if table_id & PENDING_TABLE_FLAG:
        text = "pending " + text
    if table_id & 0xE000:
        text += f" (0x{table_id:04X})"
    return text


_TABLE_NAME = re.compile(r"(?i)\s*(ST|MT)\s*(\d{1,4})\s*")


def parse_table_id(name: str) -> int:
    """Inverse of `format_table_id` for plain names: ``"ST1"`` → 1, ``"MT5"`` → 0x0805."""
    match = _TABLE_NAME.fullmatch(name)
    if match is None:
        raise LocalProtocolError(f"table name {name!r}: expected ST<n> or MT<n>")
    return make_table_id(int(match.group(2)), manufacturer=match.group(1).upper() == "MT")


class ChecksumError(RemoteProtocolError):
    """Table data whose checksum byte is wrong. ``data`` is kept so a caller may still inspect it."""

    def __init__(self, message: str, *, data: bytes, received: int, expected: int) -> None:
        super().__init__(message)
        self.data = data
        self.received = received
        self.expected = expected


def encode_uid(title: ApTitle) -> bytes:
    """UID element: ``06 L <OID>`` (absolute) or ``0D L <RELATIVE-OID>`` (relative)."""
    return encode_tlv(UID_RELATIVE_TAG if title.relative else UID_ABSOLUTE_TAG, title.content())


def decode_uid(buf: bytes, offset: int) -> tuple[ApTitle, int]:
    """Read a UID element at ``offset``; returns ``(title, offset_after)``. Accepts tags 06, 0D, 80."""
    tag, start, end = read_tlv(buf, offset)
    if tag == UID_ABSOLUTE_TAG:
        relative = False
    elif tag in _UID_RELATIVE_TAGS:
        relative = True
    else:
        raise RemoteProtocolError(f"UID element with tag 0x{tag:02X} (expected 06, 0D or 80)")
    try:
        return ApTitle.from_content(buf[start:end], relative=relative), end
    except LocalProtocolError as exc:  # arcs the ApTitle type refuses: the peer's fault here
        raise RemoteProtocolError(f"invalid UID: {exc}") from None


class Reader:
    """Bounds-checked big-endian reader over one service body; every shortfall is `RemoteProtocolError`."""

    __slots__ = ("_buf", "_pos", "_what")

    def __init__(self, buf: bytes | bytearray | memoryview, what: str, start: int = 0) -> None:
        self._buf = bytes(buf)
        self._pos = start
        self._what = what

    @property
    def remaining(self) -> int:
        return len(self._buf) - self._pos

    def take(self, n: int, field: str) -> bytes:
        pos = self._pos
        end = pos + n
        if end > len(self._buf):
            raise RemoteProtocolError(f"{self._what}: truncated {field} ({n} bytes needed, {self.remaining} present)")
        self._pos = end
        return self._buf[pos:end]

    def uint(self, size: int, field: str) -> int:
        pos = self._pos
        end = pos + size
        if end > len(self._buf):  # `take` inline
            left = self.remaining
            raise RemoteProtocolError(f"{self._what}: truncated {field} ({size} bytes needed, {left} present)")
        self._pos = end
        return int.from_bytes(self._buf[pos:end], "big")

    def u8(self, field: str) -> int:
        pos = self._pos
        if pos >= len(self._buf):
            raise RemoteProtocolError(f"{self._what}: truncated {field} (1 bytes needed, {self.remaining} present)")
        self._pos = pos + 1
        return self._buf[pos]

    def u16(self, field: str) -> int:
        return self.uint(2, field)

    def rest(self) -> bytes:
        out = self._buf[self._pos :]
        self._pos = len(self._buf)
        return out

    def uid(self, field: str) -> ApTitle:
        try:
            title, self._pos = decode_uid(self._buf, self._pos)
        except RemoteProtocolError as exc:
            raise RemoteProtocolError(f"{self._what}: {field}: {exc}") from None
        return title

    def table_data(self) -> bytes:
        """``count:2, data, cksum:1``; raises `ChecksumError` (with the data) on a wrong checksum."""
        count = self.u16("count")
        data = self.take(count, "table data")
        received = self.u8("checksum")
        expected = table_checksum(data)
        if received != expected:
            raise ChecksumError(
                f"{self._what}: table-data checksum 0x{received:02X}, expected 0x{expected:02X}",
                data=data,
                received=received,
                expected=expected,
            )
        return data

    def finish(self) -> None:
        if self.remaining:
            raise RemoteProtocolError(f"{self._what}: {self.remaining} unexpected trailing bytes")


def check_uint(value: int, bits: int, field: str) -> None:
    """`LocalProtocolError` unless ``0 <= value < 2**bits``."""
    if not 0 <= value < (1 << bits):
        raise LocalProtocolError(f"{field} = {value} does not fit in {bits} bits")


def check_len(data: bytes, limit: int, field: str) -> None:
    if len(data) > limit:
        raise LocalProtocolError(f"{field} is {len(data)} bytes long, at most {limit} allowed")


def encode_table_data(data: bytes) -> bytes:
    """``count:2, data, cksum:1``."""
    check_len(data, 0xFFFF, "table data")
    return len(data).to_bytes(2, "big") + data + bytes((table_checksum(data),))


class Response(ABC):
    """A decoded response body (first byte a `ResponseCode`)."""

    __slots__ = ()

    @property
    @abstractmethod
    def code(self) -> ResponseCode: ...

    @property
    def ok(self) -> bool:
        return self.code is ResponseCode.OK

    @abstractmethod
    def encode(self) -> bytes:
        """The response body, response code included."""


class Request(ABC):
    """A request service (first byte a `openami.c1222.codes.ServiceCode`).

    Subclasses define ``code``, ``encode()``, ``_decode()`` (used by ``decode_request``) and, when the ok
    response carries data, ``decode_ok()``.
    """

    __slots__ = ()

    codes: ClassVar[tuple[int, ...]] = ()
    """The request codes this class decodes."""

    @property
    @abstractmethod
    def code(self) -> int: ...

    @abstractmethod
    def encode(self) -> bytes:
        """The request body, code byte included."""

    @classmethod
    @abstractmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        """Decode the fields after the code byte; the caller checks for trailing bytes."""

    def decode_ok(self, payload: bytes) -> Response:
        """Interpret the bytes after an ok (0x00) response code; by default there must be none."""
        if payload:
            raise RemoteProtocolError(f"ok response to 0x{self.code:02X}: {len(payload)} unexpected bytes")
        return OkResponse()

    def error_extra_allowed(self, extra: bytes) -> bool:
        """Whether a non-ok response to this request may carry ``extra`` after its code (see Trace)."""
        return not extra


@dataclass(frozen=True, slots=True)
class OkResponse(Response):
    """An ok response with no further data (writes, logoff, security, wait, …): body ``00``."""

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return b"\x00"


@dataclass(frozen=True, slots=True)
class ErrorResponse(Response):
    """A non-ok response: ``code`` and any bytes after it.

    ``extra`` is empty except: RQTL/RSTL carry the maximum request/response size (4 bytes, see
    `max_size`); SGERR may carry unspecified data (icsnpp-c1222 reads it as opaque bytes); a non-ok
    response to Trace may carry the ApTitles reached so far (icsnpp-c1222 ``ResponseNok``), see `titles`.
    """

    code: ResponseCode
    extra: bytes = b""

    def __post_init__(self) -> None:
        try:
            code = ResponseCode(self.code)
        except ValueError:
            raise LocalProtocolError(f"0x{int(self.code):02X} is not a response code") from None
        if code is ResponseCode.OK:
            raise LocalProtocolError("ErrorResponse needs a non-ok code; use OkResponse")
        object.__setattr__(self, "code", code)
        if code in (ResponseCode.RQTL, ResponseCode.RSTL) and len(self.extra) != 4:
            raise LocalProtocolError(f"{code.name} carries exactly 4 bytes (max size), got {len(self.extra)}")

    @classmethod
    def too_large(cls, code: ResponseCode, max_size: int) -> ErrorResponse:
        """RQTL or RSTL with its maximum size in bytes."""
        check_uint(max_size, 32, "max size")
        return cls(code, max_size.to_bytes(4, "big"))

    @property
    def max_size(self) -> int | None:
        """Maximum request (RQTL) / response (RSTL) size in bytes, else None."""
        if self.code in (ResponseCode.RQTL, ResponseCode.RSTL):
            return int.from_bytes(self.extra, "big")
        return None

    def titles(self) -> tuple[ApTitle, ...]:
        """``extra`` read as a list of UID elements (the path of a failed Trace)."""
        return decode_uid_list(self.extra, "error response")

    def encode(self) -> bytes:
        return bytes((self.code,)) + self.extra


def decode_uid_list(buf: bytes, what: str) -> tuple[ApTitle, ...]:
    """Zero or more UID elements filling ``buf`` exactly."""
    reader = Reader(buf, what)
    titles: list[ApTitle] = []
    while reader.remaining:
        titles.append(reader.uid("ApTitle"))
    return tuple(titles)


def uid_list_ok(buf: bytes) -> bool:
    try:
        decode_uid_list(buf, "uid list")
    except ProtocolError:
        return False
    return True
