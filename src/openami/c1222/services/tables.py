"""Read and write services (c12-protocol-facts.md §3; Wireshark packet-c1222.c ``parse_c1222_detailed``).

Request bodies (big-endian)::

    30 table:2                                   full read
    3n table:2 index:2 × n element-count:2       partial read by index, n = 1..9
    3E                                           default read
    3F table:2 offset:3 octet-count:2            partial read by offset
    40 table:2 count:2 data cksum:1              full write
    4n table:2 index:2 × n count:2 data cksum:1  partial write by index, n = 1..9
    4E count:2 data cksum:1                      default write
    4F table:2 offset:3 count:2 data cksum:1     partial write by offset

Ok response to a read: ``00 count:2 data cksum:1`` (`ReadResponse`); to a write: ``00`` (`OkResponse`).
``cksum`` = `table_checksum` of the data bytes only; a wrong one raises `ChecksumError` carrying the data.

Default Write is only named in the public sources; its body here mirrors Default Read (no table id, the
device's default table) followed by the usual table data — our choice, not a quoted layout.
The returned data count of a partial read is not checked against the requested count (a device may
return fewer octets at the end of a table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from openami.c1222.codes import ResponseCode, ServiceCode
from openami.c1222.services.base import (
    Reader,
    Request,
    Response,
    check_len,
    check_uint,
    encode_table_data,
)
from openami.errors import LocalProtocolError

__all__ = [
    "MAX_INDICES",
    "DefaultRead",
    "DefaultWrite",
    "FullRead",
    "FullWrite",
    "PartialReadIndex",
    "PartialReadOffset",
    "PartialWriteIndex",
    "PartialWriteOffset",
    "ReadRequest",
    "ReadResponse",
    "WriteRequest",
]

MAX_INDICES = 9
"""Partial read/write by index carries 1–9 indices (codes 0x31–0x39 / 0x41–0x49)."""


def _check_indices(indices: tuple[int, ...]) -> None:
    if not 1 <= len(indices) <= MAX_INDICES:
        raise LocalProtocolError(f"{len(indices)} indices; partial access by index takes 1..{MAX_INDICES}")
    for i in indices:
        check_uint(i, 16, "index")


def _encode_indices(indices: tuple[int, ...]) -> bytes:
    return b"".join(i.to_bytes(2, "big") for i in indices)


@dataclass(frozen=True, slots=True)
class ReadResponse(Response):
    """Ok response to any read: ``00 count:2 data cksum:1``."""

    data: bytes

    def __post_init__(self) -> None:
        check_len(self.data, 0xFFFF, "read data")

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    @property
    def count(self) -> int:
        return len(self.data)

    def encode(self) -> bytes:
        return b"\x00" + encode_table_data(self.data)


class ReadRequest(Request):
    """Base of the four read requests: their ok response is a `ReadResponse`."""

    __slots__ = ()

    def decode_ok(self, payload: bytes) -> Response:
        reader = Reader(payload, "read response")
        data = reader.table_data()
        reader.finish()
        return ReadResponse(data)


class WriteRequest(Request):
    """Base of the four write requests (ok response: `OkResponse`)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class FullRead(ReadRequest):
    """``30 table:2``."""

    table: int
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.FULL_READ,)

    def __post_init__(self) -> None:
        check_uint(self.table, 16, "table id")

    @property
    def code(self) -> int:
        return ServiceCode.FULL_READ

    def encode(self) -> bytes:
        return bytes((self.code,)) + self.table.to_bytes(2, "big")

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(reader.u16("table id"))


@dataclass(frozen=True, slots=True)
class PartialReadIndex(ReadRequest):
    """``3n table:2 index:2 × n element-count:2`` with n = len(indices) in 1..9."""

    table: int
    indices: tuple[int, ...]
    element_count: int
    codes: ClassVar[tuple[int, ...]] = tuple(range(0x31, 0x3A))

    def __post_init__(self) -> None:
        check_uint(self.table, 16, "table id")
        object.__setattr__(self, "indices", tuple(self.indices))
        _check_indices(self.indices)
        check_uint(self.element_count, 16, "element count")

    @property
    def code(self) -> int:
        return ServiceCode.FULL_READ + len(self.indices)

    def encode(self) -> bytes:
        return (
            bytes((self.code,))
            + self.table.to_bytes(2, "big")
            + _encode_indices(self.indices)
            + self.element_count.to_bytes(2, "big")
        )

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        table = reader.u16("table id")
        indices = tuple(reader.u16("index") for _ in range(code - ServiceCode.FULL_READ))
        return cls(table, indices, reader.u16("element count"))


@dataclass(frozen=True, slots=True)
class DefaultRead(ReadRequest):
    """``3E``: read the device's default table."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.DEFAULT_READ,)

    @property
    def code(self) -> int:
        return ServiceCode.DEFAULT_READ

    def encode(self) -> bytes:
        return bytes((self.code,))

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls()


@dataclass(frozen=True, slots=True)
class PartialReadOffset(ReadRequest):
    """``3F table:2 offset:3 octet-count:2``; offset and count in bytes."""

    table: int
    offset: int
    octet_count: int
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.PREAD_OFFSET,)

    def __post_init__(self) -> None:
        check_uint(self.table, 16, "table id")
        check_uint(self.offset, 24, "offset")
        check_uint(self.octet_count, 16, "octet count")

    @property
    def code(self) -> int:
        return ServiceCode.PREAD_OFFSET

    def encode(self) -> bytes:
        return (
            bytes((self.code,))
            + self.table.to_bytes(2, "big")
            + self.offset.to_bytes(3, "big")
            + self.octet_count.to_bytes(2, "big")
        )

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(reader.u16("table id"), reader.uint(3, "offset"), reader.u16("octet count"))


@dataclass(frozen=True, slots=True)
class FullWrite(WriteRequest):
    """``40 table:2 count:2 data cksum:1``."""

    table: int
    data: bytes
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.FULL_WRITE,)

    def __post_init__(self) -> None:
        check_uint(self.table, 16, "table id")
        check_len(self.data, 0xFFFF, "write data")

    @property
    def code(self) -> int:
        return ServiceCode.FULL_WRITE

    def encode(self) -> bytes:
        return bytes((self.code,)) + self.table.to_bytes(2, "big") + encode_table_data(self.data)

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(reader.u16("table id"), reader.table_data())


@dataclass(frozen=True, slots=True)
class PartialWriteIndex(WriteRequest):
    """``4n table:2 index:2 × n count:2 data cksum:1`` with n = len(indices) in 1..9."""

    table: int
    indices: tuple[int, ...]
    data: bytes
    codes: ClassVar[tuple[int, ...]] = tuple(range(0x41, 0x4A))

    def __post_init__(self) -> None:
        check_uint(self.table, 16, "table id")
        object.__setattr__(self, "indices", tuple(self.indices))
        _check_indices(self.indices)
        check_len(self.data, 0xFFFF, "write data")

    @property
    def code(self) -> int:
        return ServiceCode.FULL_WRITE + len(self.indices)

    def encode(self) -> bytes:
        return (
            bytes((self.code,))
            + self.table.to_bytes(2, "big")
            + _encode_indices(self.indices)
            + encode_table_data(self.data)
        )

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        table = reader.u16("table id")
        indices = tuple(reader.u16("index") for _ in range(code - ServiceCode.FULL_WRITE))
        return cls(table, indices, reader.table_data())


@dataclass(frozen=True, slots=True)
class DefaultWrite(WriteRequest):
    """``4E count:2 data cksum:1`` (layout chosen to mirror Default Read; see the module docstring)."""

    data: bytes
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.DEFAULT_WRITE,)

    def __post_init__(self) -> None:
        check_len(self.data, 0xFFFF, "write data")

    @property
    def code(self) -> int:
        return ServiceCode.DEFAULT_WRITE

    def encode(self) -> bytes:
        return bytes((self.code,)) + encode_table_data(self.data)

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(reader.table_data())


@dataclass(frozen=True, slots=True)
class PartialWriteOffset(WriteRequest):
    """``4F table:2 offset:3 count:2 data cksum:1``; offset in bytes."""

    table: int
    offset: int
    data: bytes
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.PWRITE_OFFSET,)

    def __post_init__(self) -> None:
        check_uint(self.table, 16, "table id")
        check_uint(self.offset, 24, "offset")
        check_len(self.data, 0xFFFF, "write data")

    @property
    def code(self) -> int:
        return ServiceCode.PWRITE_OFFSET

    def encode(self) -> bytes:
        return (
            bytes((self.code,))
            + self.table.to_bytes(2, "big")
            + self.offset.to_bytes(3, "big")
            + encode_table_data(self.data)
        )

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(reader.u16("table id"), reader.uint(3, "offset"), reader.table_data())
