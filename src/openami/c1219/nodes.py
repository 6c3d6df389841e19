"""Bound layout nodes: a definition resolved against one device configuration.

Every node has a fixed ``size`` in octets (but `RestNode`, the variable tail of ST7/ST8), decodes from
``(buf, offset)`` and encodes by appending to a `bytearray`. Nodes whose values fit a numpy dtype also
decode a whole column at once (`from_array`), which is how long arrays — load-profile intervals — are
decoded without a Python step per value.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt

from openami.c1219.timefmt import RawTime, TimeCodec
from openami.c1219.types import Buffer, Codec, FloatCharCodec
from openami.errors import LocalProtocolError

__all__ = ["ArrayNode", "BitsNode", "Node", "RecordNode", "RestNode", "ScalarNode", "SetNode"]

FAST_ARRAY_MIN = 8
"""Arrays at least this long decode through numpy when their element has a dtype."""


class Node(ABC):
    """One bound element type."""

    size: int
    plain: bool = False
    """True when `from_array` is exactly ``column.tolist()`` (native integers and floats, arrays of them)."""

    @abstractmethod
    def decode(self, buf: Buffer, offset: int) -> Any:
        """The value at ``buf[offset : offset + size]``; ``buf`` is known to be long enough."""

    @abstractmethod
    def encode_into(self, value: Any, out: bytearray) -> None:
        """Append the ``size`` octets of ``value`` (raises `LocalProtocolError` naming the problem)."""

    def dtype(self) -> np.dtype[Any] | None:
        """numpy dtype of one value, or None (then arrays of it decode element by element)."""
        return None

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        """Python values of a column of `dtype`, equal to `decode` of each element."""
        raise NotImplementedError

    @abstractmethod
    def to_json(self, value: Any) -> Any:
        """``value`` as JSON-ready data (hex for octets, ISO 8601 for times, sorted lists for sets)."""

    @abstractmethod
    def from_json(self, data: Any) -> Any:
        """The inverse of `to_json` (raises `LocalProtocolError` for data of the wrong shape)."""

    @abstractmethod
    def type_name(self) -> str:
        """A short description of the type (``UINT16``, ``ARRAY[96] OF RECORD``, …)."""


class ScalarNode(Node):
    """A primitive value through its `Codec`."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.size = codec.size
        self._dtype = codec.dtype()
        self.plain = codec.plain

    def decode(self, buf: Buffer, offset: int) -> Any:
        return self.codec.decode(buf, offset)

    def encode_into(self, value: Any, out: bytearray) -> None:
        out += self.codec.encode(value)

    def dtype(self) -> np.dtype[Any] | None:
        return self._dtype

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        return self.codec.from_array(column)

    def to_json(self, value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, RawTime):
            return {"raw": value.data.hex()}
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        return value

    def from_json(self, data: Any) -> Any:
        codec = self.codec
        try:
            if isinstance(codec, TimeCodec):
                return _time_from_json(codec, data)
            if isinstance(codec, FloatCharCodec) or codec.type_name == "INT32_DEC4":
                return Decimal(str(data)) if isinstance(data, str | int | float) else data
            if isinstance(data, str) and codec.type_name.startswith(("BINARY", "FILL", "REST")):
                return bytes.fromhex(data)
        except (ValueError, InvalidOperation):
            raise LocalProtocolError(f"{codec.type_name}: cannot read {data!r}") from None
        return data

    def type_name(self) -> str:
        return self.codec.type_name


def _time_from_json(codec: TimeCodec, data: Any) -> Any:
    if data is None:
        return None
    if isinstance(data, dict) and "raw" in data:
        return RawTime(bytes.fromhex(data["raw"]))
    if not isinstance(data, str):
        raise ValueError(data)
    if codec.kind in ("TIME", "STIME"):
        return dt.time.fromisoformat(data)
    if codec.kind == "DATE":
        return dt.date.fromisoformat(data)
    return dt.datetime.fromisoformat(data)


class RestNode(ScalarNode):
    """The variable-length tail of a table (0..``max_size`` octets); only a table's last field."""

    def __init__(self, codec: Codec, max_size: int) -> None:
        super().__init__(codec)
        self.size = 0
        self.max_size = max_size
        self._dtype = None

    def decode(self, buf: Buffer, offset: int) -> bytes:
        return bytes(buf[offset:])

    def encode_into(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, bytes | bytearray) or len(value) > self.max_size:
            raise LocalProtocolError(f"REST({self.max_size}) needs at most {self.max_size} octets, got {value!r}")
        out += value

    def type_name(self) -> str:
        return f"REST({self.max_size})"


class BitsNode(Node):
    """A bit field: an unsigned integer decoded to ``{member: int | bool}``; unnamed set bits → FILLER."""

    def __init__(self, codec: Codec, members: Sequence[tuple[str, int, int, bool]]) -> None:
        self.codec = codec
        self.size = codec.size
        self.members = [(name, lo, (1 << (hi - lo + 1)) - 1, flag) for name, lo, hi, flag in members]
        self.filler_mask = ((1 << (self.size * 8)) - 1) & ~sum(mask << lo for _, lo, mask, _ in self.members)
        self._dtype = codec.dtype() if self.size in (1, 2, 4, 8) else None

    def decode(self, buf: Buffer, offset: int) -> dict[str, Any]:
        return self._split(self.codec.decode(buf, offset))

    def _split(self, raw: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: bool(raw >> lo & 1) if flag else raw >> lo & mask for name, lo, mask, flag in self.members
        }
        if raw & self.filler_mask:
            out["FILLER"] = raw & self.filler_mask
        return out

    def encode_into(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, Mapping):
            raise LocalProtocolError(f"a bit field needs a mapping of members, got {value!r}")
        unknown = set(value) - {m[0] for m in self.members} - {"FILLER"}
        if unknown:
            names = [m[0] for m in self.members]
            raise LocalProtocolError(f"unknown bit field members {sorted(unknown)}; expected {names}")
        raw = 0
        for name, lo, mask, flag in self.members:
            member = value.get(name, False if flag else 0)
            if flag:
                if not isinstance(member, bool | int) or member not in (0, 1):
                    raise LocalProtocolError(f"bit flag {name} needs true/false, got {member!r}")
            elif isinstance(member, bool) or not isinstance(member, int) or not 0 <= member <= mask:
                raise LocalProtocolError(f"bit field member {name} holds 0..{mask}, got {member!r}")
            raw |= int(member) << lo
        filler = value.get("FILLER", 0)
        if not isinstance(filler, int) or filler & ~self.filler_mask:
            raise LocalProtocolError(f"FILLER {filler!r} sets bits that belong to named members")
        out += self.codec.encode(raw | filler)

    def dtype(self) -> np.dtype[Any] | None:
        return self._dtype

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        return [self._split(raw) for raw in column.tolist()]

    def to_json(self, value: Any) -> Any:
        return dict(value)

    def from_json(self, data: Any) -> Any:
        return data

    def type_name(self) -> str:
        return f"BIT FIELD OF {self.codec.type_name}"


class SetNode(Node):
    """SET(n): ``n`` octets of flags, element k in bit k % 8 of octet k // 8 → `frozenset[int]`."""

    def __init__(self, octets: int) -> None:
        self.size = octets
        self.count = octets * 8

    def decode(self, buf: Buffer, offset: int) -> frozenset[int]:
        raw = int.from_bytes(buf[offset : offset + self.size], "little")
        members = []
        index = 0
        while raw:
            if raw & 1:
                members.append(index)
            raw >>= 1
            index += 1
        return frozenset(members)

    def encode_into(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, frozenset | set | list | tuple):
            raise LocalProtocolError(f"SET({self.size}) needs a set of element numbers, got {value!r}")
        raw = 0
        for member in value:
            if isinstance(member, bool) or not isinstance(member, int) or not 0 <= member < self.count:
                raise LocalProtocolError(f"SET({self.size}) holds 0..{self.count - 1}, got {member!r}")
            raw |= 1 << member
        out += raw.to_bytes(self.size, "little")

    def to_json(self, value: Any) -> Any:
        return sorted(value)

    def from_json(self, data: Any) -> Any:
        if not isinstance(data, list):
            raise LocalProtocolError(f"SET({self.size}) needs a list of members, got {data!r}")
        return frozenset(data)

    def type_name(self) -> str:
        return f"SET({self.size})"


class ArrayNode(Node):
    """ARRAY[count] OF element → `list`; long arrays of numpy-typed elements decode by column."""

    def __init__(self, element: Node, count: int) -> None:
        self.element = element
        self.count = count
        self.size = element.size * count
        elem_dtype = element.dtype()
        self._elem_dtype = elem_dtype
        self._dtype = np.dtype((elem_dtype, (count,))) if elem_dtype is not None and count else None
        self._fast = elem_dtype is not None and count >= FAST_ARRAY_MIN
        self.plain = element.plain

    def decode(self, buf: Buffer, offset: int) -> list[Any]:
        if self._fast:
            assert self._elem_dtype is not None
            return self.element.from_array(np.frombuffer(buf, self._elem_dtype, self.count, offset))
        step = self.element.size
        decode = self.element.decode
        return [decode(buf, offset + i * step) for i in range(self.count)]

    def encode_into(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, Sequence) or isinstance(value, str | bytes) or len(value) != self.count:
            got = len(value) if isinstance(value, Sequence) else type(value).__name__
            raise LocalProtocolError(f"ARRAY[{self.count}] needs {self.count} elements, got {got}")
        for item in value:
            self.element.encode_into(item, out)

    def dtype(self) -> np.dtype[Any] | None:
        return self._dtype

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        if self.plain:
            return column.tolist()  # type: ignore[no-any-return]
        rows = column.shape[0]
        flat = self.element.from_array(column.reshape((rows * self.count, *column.shape[2:])))
        n = self.count
        return [flat[i : i + n] for i in range(0, rows * n, n)]

    def to_json(self, value: Any) -> Any:
        return [self.element.to_json(v) for v in value]

    def from_json(self, data: Any) -> Any:
        if not isinstance(data, list):
            raise LocalProtocolError(f"ARRAY[{self.count}] needs a list, got {type(data).__name__}")
        return [self.element.from_json(v) for v in data]

    def type_name(self) -> str:
        return f"ARRAY[{self.count}] OF {self.element.type_name()}"


class RecordNode(Node):
    """PACKED RECORD → `dict` of the present fields in order (fields left out by IF are absent)."""

    def __init__(self, fields: Sequence[tuple[str, Node]], units: Mapping[str, str] | None = None) -> None:
        self.fields = list(fields)
        self.units = dict(units or {})
        self.offsets: dict[str, int] = {}
        position = 0
        for name, node in self.fields:
            self.offsets[name] = position
            position += node.size
        self.size = position
        self.by_name = dict(self.fields)
        dtypes = [(name, node.dtype()) for name, node in self.fields]
        self._dtype = (
            np.dtype([(n, d) for n, d in dtypes if d is not None])
            if self.fields and all(d is not None for _, d in dtypes)
            else None
        )
        self._plan = [(name, node.decode, self.offsets[name]) for name, node in self.fields]

    def decode(self, buf: Buffer, offset: int) -> dict[str, Any]:
        return {name: decode(buf, offset + rel) for name, decode, rel in self._plan}

    def encode_into(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, Mapping):
            raise LocalProtocolError(f"a record needs a mapping of fields, got {type(value).__name__}")
        expected = [name for name, _ in self.fields]
        missing = [n for n in expected if n not in value]
        extra = [n for n in value if n not in self.by_name]
        if missing or extra:
            raise LocalProtocolError(f"record fields: missing {missing}, unexpected {extra}; expected {expected}")
        for name, node in self.fields:
            try:
                node.encode_into(value[name], out)
            except LocalProtocolError as exc:
                raise LocalProtocolError(f"{name}: {exc}") from None

    def dtype(self) -> np.dtype[Any] | None:
        return self._dtype

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        names = [name for name, _ in self.fields]
        columns = [node.from_array(column[name]) for name, node in self.fields]
        if len(names) == 1:
            (n0,), (c0,) = names, columns
            return [{n0: a} for a in c0]
        if len(names) == 2:
            (n0, n1), (c0, c1) = names, columns
            return [{n0: a, n1: b} for a, b in zip(c0, c1)]  # noqa: B905 - columns have equal length
        return [dict(zip(names, row)) for row in zip(*columns)]  # noqa: B905

    def to_json(self, value: Any) -> Any:
        return {name: self.by_name[name].to_json(v) for name, v in value.items()}

    def from_json(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise LocalProtocolError(f"a record needs a JSON object, got {type(data).__name__}")
        unknown = [n for n in data if n not in self.by_name]
        if unknown:
            raise LocalProtocolError(f"unknown fields {unknown}; expected {list(self.by_name)}")
        return {name: self.by_name[name].from_json(v) for name, v in data.items()}

    def type_name(self) -> str:
        return "RECORD"
