"""Primitive C12.19 codecs, bound to the ST0 format controls.

A `Codec` encodes one fixed-size value. Codecs never check that ``buf`` is long enough: the layout that
owns them checks a table's whole length once. Every codec that can be stored in a numpy array gives its
`dtype` and a vectorised `from_array`, which the layout uses to decode long arrays (load-profile
intervals) without a Python step per value.

Decoded Python values: integers → `int`, floats → `float`, FLOAT_CHAR → `decimal.Decimal`, characters
→ `str` (kept whole, padding included, so re-encoding is exact), BINARY/FILL → `bytes`, BOOL → `bool`.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt

from openami.c1219.formats import CharFormat, Formats, IntFormat
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "BcdCodec",
    "BinaryCodec",
    "BoolCodec",
    "CharsCodec",
    "Codec",
    "FloatCharCodec",
    "FloatCodec",
    "IntCodec",
]

Buffer = bytes | bytearray | memoryview


class Codec(ABC):
    """One fixed-size value: ``size`` octets on the wire."""

    size: int
    type_name: str
    plain: bool = False
    """True when `from_array` is exactly ``column.tolist()`` (lets arrays of it convert in one call)."""

    @abstractmethod
    def decode(self, buf: Buffer, offset: int) -> Any:
        """The value stored at ``buf[offset : offset + size]`` (raises `RemoteProtocolError`)."""

    @abstractmethod
    def encode(self, value: Any) -> bytes:
        """Exactly ``size`` octets for ``value`` (raises `LocalProtocolError` if it does not fit)."""

    def dtype(self) -> np.dtype[Any] | None:
        """numpy storage dtype of one value, or None when the value has no array form."""
        return None

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        """Python values of a column of `dtype` (shape ``(n,)``); same results as `decode` per value."""
        raise NotImplementedError(self.type_name)

    def __repr__(self) -> str:
        return self.type_name


class IntCodec(Codec):
    """UINT8…UINT64 / INT8…INT64 (and the odd sizes 3, 5, 6, 7 used by NI formats), in DATA_ORDER.

    Signed values use ST0 INT_FORMAT. In ones' complement and sign-magnitude the negative zero decodes
    to 0 (and re-encodes as positive zero).
    """

    def __init__(self, size: int, signed: bool, formats: Formats) -> None:
        if not 1 <= size <= 8:
            raise LocalProtocolError(f"integer size must be 1..8 octets, got {size}")
        self.size = size
        self.signed = signed
        self.byteorder: Any = formats.byteorder
        self.int_format = formats.int_format if signed else IntFormat.TWOS_COMPLEMENT
        self.type_name = f"{'INT' if signed else 'UINT'}{size * 8}"
        bits = size * 8
        self._sign = 1 << (bits - 1)
        self._mask = (1 << bits) - 1
        if not signed:
            self.lo, self.hi = 0, self._mask
        elif self.int_format == IntFormat.TWOS_COMPLEMENT:
            self.lo, self.hi = -self._sign, self._sign - 1
        else:
            self.lo, self.hi = -(self._sign - 1), self._sign - 1
        self._order = formats.numpy_order
        self.plain = size in (1, 2, 4, 8) and (not signed or self.int_format == IntFormat.TWOS_COMPLEMENT)

    def decode(self, buf: Buffer, offset: int) -> int:
        raw = int.from_bytes(buf[offset : offset + self.size], self.byteorder)
        return self._from_raw(raw)

    def _from_raw(self, raw: int) -> int:
        if not self.signed or not raw & self._sign:
            return raw
        if self.int_format == IntFormat.TWOS_COMPLEMENT:
            return raw - (1 << (self.size * 8))
        if self.int_format == IntFormat.ONES_COMPLEMENT:
            return -(~raw & self._mask)
        return -(raw & ~self._sign)

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            raise LocalProtocolError(f"{self.type_name} needs an integer, got {value!r}")
        if not self.lo <= value <= self.hi:
            raise LocalProtocolError(f"{value} does not fit {self.type_name} ({self.lo}..{self.hi})")
        if value >= 0:
            raw = value
        elif self.int_format == IntFormat.TWOS_COMPLEMENT:
            raw = value & self._mask
        elif self.int_format == IntFormat.ONES_COMPLEMENT:
            raw = ~(-value) & self._mask
        else:
            raw = self._sign | -value
        return raw.to_bytes(self.size, self.byteorder)

    def dtype(self) -> np.dtype[Any]:
        if self.size in (1, 2, 4, 8):
            kind = "i" if self.signed and self.int_format == IntFormat.TWOS_COMPLEMENT else "u"
            return np.dtype(f"{self._order}{kind}{self.size}")
        return np.dtype((np.uint8, (self.size,)))

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        if column.ndim == 2:  # odd sizes: (n, size) octets
            octets = column.astype(np.uint64)
            if self.byteorder == "big":
                octets = octets[:, ::-1]
            shifts = np.arange(self.size, dtype=np.uint64) * np.uint64(8)
            raw = np.bitwise_or.reduce(octets << shifts, axis=1)
        elif self.signed and self.int_format != IntFormat.TWOS_COMPLEMENT:
            raw = column.astype(np.uint64)
        else:
            return column.tolist()  # type: ignore[no-any-return]
        if not self.signed:
            return raw.tolist()  # type: ignore[no-any-return]
        if self.size == 8 and self.int_format != IntFormat.TWOS_COMPLEMENT:
            return [self._from_raw(int(r)) for r in raw.tolist()]
        values = raw.astype(np.int64)
        negative = (raw & np.uint64(self._sign)) != 0
        if self.int_format == IntFormat.TWOS_COMPLEMENT:
            values = np.where(negative, values - np.int64(1 << (self.size * 8)) if self.size < 8 else values, values)
        elif self.int_format == IntFormat.ONES_COMPLEMENT:
            values = np.where(negative, -((~raw) & np.uint64(self._mask)).astype(np.int64), values)
        else:
            values = np.where(negative, -(raw & np.uint64(self._sign - 1)).astype(np.int64), values)
        return values.tolist()  # type: ignore[no-any-return]


class BcdCodec(Codec):
    """``size`` octets of binary-coded decimal, two digits an octet, most significant digit first.

    A nibble above 9 is a `RemoteProtocolError`. The value is an unsigned `int` of ``2 * size`` digits.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.type_name = f"BCD({size})"
        self.hi = 10 ** (2 * size) - 1

    def decode(self, buf: Buffer, offset: int) -> int:
        chunk = bytes(buf[offset : offset + self.size])
        digits = chunk.hex()
        if not digits.isdigit():
            raise RemoteProtocolError(f"{self.type_name}: octets {chunk.hex(' ')} are not BCD")
        return int(digits)

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= self.hi:
            raise LocalProtocolError(f"{self.type_name} holds 0..{self.hi}, got {value!r}")
        return bytes.fromhex(f"{value:0{2 * self.size}d}")


class FloatCodec(Codec):
    """IEEE 754 FLOAT32 / FLOAT64 in DATA_ORDER."""

    def __init__(self, size: int, formats: Formats) -> None:
        if size not in (4, 8):
            raise LocalProtocolError(f"float size must be 4 or 8, got {size}")
        self.size = size
        self.type_name = f"FLOAT{size * 8}"
        self._struct = struct.Struct(f"{formats.numpy_order}{'f' if size == 4 else 'd'}")
        self._dtype = np.dtype(f"{formats.numpy_order}f{size}")
        self.plain = True  # float32 .tolist() gives the same double as struct's unpack

    def decode(self, buf: Buffer, offset: int) -> float:
        return float(self._struct.unpack_from(buf, offset)[0])

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise LocalProtocolError(f"{self.type_name} needs a number, got {value!r}")
        try:
            return self._struct.pack(float(value))
        except OverflowError:
            raise LocalProtocolError(f"{value} does not fit {self.type_name}") from None

    def dtype(self) -> np.dtype[Any]:
        return self._dtype

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        return column.astype(np.float64).tolist()  # type: ignore[no-any-return]


class FloatCharCodec(Codec):
    """FLOAT_CHAR6 / 12 / 21: a decimal number written in ``size`` ISO 646 characters.

    Decodes to `Decimal` (keeping the digits written); encodes right-justified, blank-padded. Leading
    and trailing blanks are accepted on decode, so re-encoding is exact for right-justified numbers.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.type_name = f"FLOAT_CHAR{size}"

    def decode(self, buf: Buffer, offset: int) -> Decimal:
        chunk = bytes(buf[offset : offset + self.size])
        try:
            text = chunk.decode("ascii").strip(" ")
            if not text or any(c not in "0123456789+-.eE" for c in text):
                raise ValueError(text)
            value = Decimal(text)
        except (UnicodeDecodeError, ValueError, InvalidOperation):
            raise RemoteProtocolError(f"{self.type_name}: {chunk!r} is not a decimal number") from None
        return value

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise LocalProtocolError(f"{self.type_name} needs a number, got {value!r}")
        text = str(value) if not isinstance(value, float) else repr(value)
        if len(text) > self.size:
            text = f"{float(value):.{self.size}g}"
            while len(text) > self.size and "e" not in text and "." in text:
                text = text[:-1]
        if len(text) > self.size:
            raise LocalProtocolError(f"{value} does not fit {self.size} characters")
        return text.rjust(self.size).encode("ascii")


_CODECS = {
    CharFormat.ISO_646: "ascii",
    CharFormat.ISO_8859_1: "latin-1",
    CharFormat.UTF_8: "utf-8",
}


class CharsCodec(Codec):
    """``size`` octets of characters in ST0 CHAR_FORMAT (UTF-16/32 in DATA_ORDER, no byte-order mark).

    The string keeps its padding so re-encoding is exact; shorter strings are blank-padded on encode.
    When ``size`` is not a whole number of UTF-16/32 code units, the odd trailing octets are zero.
    """

    def __init__(self, size: int, formats: Formats) -> None:
        self.size = size
        self.type_name = f"STRING({size})"
        fmt = formats.char_format
        if fmt in _CODECS:
            self._codec = _CODECS[fmt]
        else:
            width = "16" if fmt == CharFormat.UTF_16 else "32"
            self._codec = f"utf-{width}-{'le' if formats.byteorder == 'little' else 'be'}"
        self._pad = " ".encode(self._codec)
        self.text_size = size - size % len(self._pad)
        self._tail = bytes(size - self.text_size)

    def decode(self, buf: Buffer, offset: int) -> str:
        chunk = bytes(buf[offset : offset + self.size])
        if chunk[self.text_size :] != self._tail:
            raise RemoteProtocolError(f"{self.type_name}: octets after the last {self._codec} unit must be 0")
        try:
            return chunk[: self.text_size].decode(self._codec)
        except UnicodeDecodeError as exc:
            raise RemoteProtocolError(f"{self.type_name}: not valid {self._codec}: {exc.reason}") from None

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise LocalProtocolError(f"{self.type_name} needs a string, got {value!r}")
        try:
            data = value.encode(self._codec)
        except UnicodeEncodeError:
            raise LocalProtocolError(f"{value!r} cannot be written in {self._codec}") from None
        if len(data) > self.text_size:
            raise LocalProtocolError(f"{value!r} is {len(data)} octets, {self.type_name} holds {self.text_size}")
        return data + self._pad * ((self.text_size - len(data)) // len(self._pad)) + self._tail


class BinaryCodec(Codec):
    """``size`` raw octets (BINARY(n), FILL(n), vendor data); decodes to `bytes`."""

    def __init__(self, size: int, type_name: str | None = None) -> None:
        self.size = size
        self.type_name = type_name or f"BINARY({size})"

    def decode(self, buf: Buffer, offset: int) -> bytes:
        return bytes(buf[offset : offset + self.size])

    def encode(self, value: Any) -> bytes:
        if isinstance(value, str):
            try:
                value = bytes.fromhex(value)
            except ValueError:
                raise LocalProtocolError(f"{self.type_name}: {value!r} is not hex") from None
        if not isinstance(value, bytes | bytearray) or len(value) != self.size:
            raise LocalProtocolError(f"{self.type_name} needs exactly {self.size} octets, got {value!r}")
        return bytes(value)


class BoolCodec(Codec):
    """A BOOL stored in one octet: 0 false, 1 true (anything else is refused)."""

    size = 1
    type_name = "BOOL"

    def decode(self, buf: Buffer, offset: int) -> bool:
        octet = buf[offset]
        if octet > 1:
            raise RemoteProtocolError(f"BOOL octet 0x{octet:02X} is neither 0 nor 1")
        return octet == 1

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, bool):
            raise LocalProtocolError(f"BOOL needs True or False, got {value!r}")
        return b"\x01" if value else b"\x00"
