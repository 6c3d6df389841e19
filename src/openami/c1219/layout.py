"""Binding a table definition to a device configuration, and the resulting `Layout`.

``bind(table, config)`` resolves every dimension, IF, SWITCH and format once (results are cached per
definition and configuration); the `Layout` then decodes, encodes, gives the table size and the offset
and length of any element, by name path (``"TOT_DATA_BLOCK.SUMMATIONS[1]"``) or by C12.19 index
(``(2, 0, 1)``), for partial reads and writes.
"""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openami.c1219.config import DeviceConfig
from openami.c1219.expr import Expr, UnboundReference
from openami.c1219.ni import ni_codec
from openami.c1219.nodes import ArrayNode, BitsNode, Node, RecordNode, RestNode, ScalarNode, SetNode
from openami.c1219.schema import (
    ArrayOf,
    BitField,
    Dim,
    Element,
    Field,
    If,
    Prim,
    Record,
    SetOf,
    Switch,
    Table,
    Type,
)
from openami.c1219.timefmt import TIME_KINDS, TimeCodec
from openami.c1219.types import BcdCodec, BinaryCodec, BoolCodec, CharsCodec, Codec, IntCodec
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["Layout", "Span", "bind", "bind_prefix"]

GC_PAUSE_OCTETS = 2048
"""Tables at least this long are decoded with the cycle collector paused (see `Layout.decode`)."""


@dataclass(frozen=True, slots=True)
class Span:
    """Where an element lies in a table: ``offset`` and ``size`` in octets, its node and a path label."""

    offset: int
    size: int
    node: Node
    path: str
    count: int = 1


class Layout:
    """A table definition bound to one device configuration."""

    def __init__(
        self, table: Table, config: DeviceConfig, root: RecordNode, rest: RestNode | None = None, rest_name: str = ""
    ) -> None:
        self.table = table
        self.config = config
        self.root = root
        self.rest = rest
        self.size = root.size
        """Octets of the table (its fixed part when the table ends in a variable tail)."""
        self.max_size = root.size + (rest.max_size if rest is not None else 0)
        self._rest_name = rest_name

    # -- whole table --------------------------------------------------------------------------------
    def decode(self, data: bytes | bytearray | memoryview) -> dict[str, Any]:
        """Decode the whole table (raises `RemoteProtocolError` for a wrong length or bad contents)."""
        n = len(data)
        if not self.size <= n <= self.max_size:
            expect = f"{self.size}" if self.size == self.max_size else f"{self.size}..{self.max_size}"
            raise RemoteProtocolError(
                f"{self.table.label} {self.table.name} is {expect} octets under this configuration, got {n}"
            )
        buf = bytes(data) if isinstance(data, memoryview) else data
        if n >= GC_PAUSE_OCTETS and gc.isenabled():
            # a large table allocates thousands of dicts and lists that can never form cycles; letting
            # the cycle collector scan them mid-decode costs a third of the time (ST64 blocks)
            gc.disable()
            try:
                value = self.root.decode(buf, 0)
            finally:
                gc.enable()
        else:
            value = self.root.decode(buf, 0)
        if self.rest is not None:
            value[self._rest_name] = bytes(buf[self.size :])
        return value

    def encode(self, value: Mapping[str, Any]) -> bytes:
        """Encode a decoded-shape value (raises `LocalProtocolError` naming the offending field)."""
        out = bytearray()
        if self.rest is None:
            self.root.encode_into(value, out)
            return bytes(out)
        head = {k: v for k, v in value.items() if k != self._rest_name}
        if self._rest_name not in value:
            raise LocalProtocolError(f"{self.table.name}: missing {self._rest_name}")
        self.root.encode_into(head, out)
        self.rest.encode_into(value[self._rest_name], out)
        return bytes(out)

    def to_json(self, value: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-ready form of a decoded value (octets as hex, times ISO 8601, sets as sorted lists)."""
        head = {k: v for k, v in value.items() if self.rest is None or k != self._rest_name}
        out: dict[str, Any] = self.root.to_json(head)
        if self.rest is not None and self._rest_name in value:
            out[self._rest_name] = value[self._rest_name].hex()
        return out

    def from_json(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The inverse of `to_json`."""
        head = {k: v for k, v in data.items() if self.rest is None or k != self._rest_name}
        out: dict[str, Any] = self.root.from_json(head)
        if self.rest is not None and self._rest_name in data:
            try:
                out[self._rest_name] = bytes.fromhex(data[self._rest_name])
            except (TypeError, ValueError):
                raise LocalProtocolError(f"{self._rest_name} needs a hex string") from None
        return out

    # -- elements -----------------------------------------------------------------------------------
    def locate(self, path: str) -> Span:
        """The span of the element at a name path such as ``"DEMANDS[1].EVENT_TIME[0]"``."""
        node: Node = self.root
        offset = 0
        for token in _tokens(path):
            if isinstance(token, str):
                if not isinstance(node, RecordNode) or token not in node.by_name:
                    have = list(node.by_name) if isinstance(node, RecordNode) else node.type_name()
                    raise LocalProtocolError(f"{self.table.name}: no field {token!r} in {path!r}; have {have}")
                offset += node.offsets[token]
                node = node.by_name[token]
            else:
                if not isinstance(node, ArrayNode) or not 0 <= token < node.count:
                    raise LocalProtocolError(f"{self.table.name}: index [{token}] out of range in {path!r}")
                offset += token * node.element.size
                node = node.element
        return Span(offset, node.size, node, path)

    def locate_index(self, indices: Sequence[int], count: int = 1) -> Span:
        """The span of ``count`` consecutive elements at a C12.19 index path.

        At a record an index counts the fields present under this configuration (0 = first); at an
        array it is the element number. ``count`` > 1 takes that many neighbours at the last level.
        """
        if not indices:
            raise LocalProtocolError("an index path needs at least one index")
        node: Node = self.root
        offset = 0
        labels: list[str] = []
        parent: Node = node
        for index in indices:
            parent = node
            if isinstance(node, RecordNode):
                if not 0 <= index < len(node.fields):
                    raise LocalProtocolError(f"{self.table.name}: index {index} past {len(node.fields)} fields")
                name, node = node.fields[index]
                offset += parent.offsets[name]  # type: ignore[attr-defined]
                labels.append(("." if labels else "") + name)
            elif isinstance(node, ArrayNode):
                if not 0 <= index < node.count:
                    raise LocalProtocolError(f"{self.table.name}: index {index} past {node.count} elements")
                offset += index * node.element.size
                node = node.element
                labels.append(f"[{index}]")
            else:
                raise LocalProtocolError(f"{self.table.name}: {''.join(labels)} ({node.type_name()}) has no elements")
        size = node.size
        if count != 1:
            size = self._neighbours_size(parent, indices[-1], count)
        return Span(offset, size, node, "".join(labels), count)

    def _neighbours_size(self, parent: Node, first: int, count: int) -> int:
        if isinstance(parent, ArrayNode):
            if count < 1 or first + count > parent.count:
                raise LocalProtocolError(f"{count} elements from {first} run past ARRAY[{parent.count}]")
            return count * parent.element.size
        assert isinstance(parent, RecordNode)
        if count < 1 or first + count > len(parent.fields):
            raise LocalProtocolError(f"{count} fields from {first} run past the record's {len(parent.fields)}")
        return sum(node.size for _, node in parent.fields[first : first + count])

    def decode_span(self, span: Span, data: bytes | bytearray) -> Any:
        """Decode the octets of one located element (a partial read's data)."""
        if len(data) != span.size:
            raise RemoteProtocolError(f"{span.path} is {span.size} octets, got {len(data)}")
        if span.count == 1:
            return span.node.decode(bytes(data), 0)
        if span.size == span.count * span.node.size:
            step = span.node.size
            return [span.node.decode(bytes(data), i * step) for i in range(span.count)]
        raise LocalProtocolError("decode several record fields with decode_span on each field")

    def __repr__(self) -> str:
        return f"<Layout {self.table.label} {self.table.name} {self.size} octets>"


_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|(\.)")


def _tokens(path: str) -> list[str | int]:
    out: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(path):
        if match.start() != position:
            break
        position = match.end()
        if match.group(1):
            out.append(match.group(1))
        elif match.group(2):
            out.append(int(match.group(2)))
    if position != len(path) or not out:
        raise LocalProtocolError(f"bad element path {path!r}; expected e.g. FIELD.SUB[2].LEAF")
    return out


# -- binding -----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def bind(table: Table, config: DeviceConfig) -> Layout:
    """Resolve ``table`` against ``config`` (raises `UnboundReference` / `LocalProtocolError`)."""
    return _bind(table, config, stop_at_unbound=False)


def bind_prefix(table: Table, config: DeviceConfig) -> Layout:
    """Bind the leading top-level fields that ``config`` can resolve (to bootstrap ST0 from itself)."""
    return _bind(table, config, stop_at_unbound=True)


def _bind(table: Table, config: DeviceConfig, stop_at_unbound: bool) -> Layout:
    binder = _Binder(config, table)
    fields: list[tuple[str, Node]] = []
    units: dict[str, str] = {}
    try:
        binder.elements(table.record.elements, fields, units, top=True)
    except UnboundReference:
        if not stop_at_unbound:
            raise
    rest: RestNode | None = None
    rest_name = ""
    if fields and isinstance(fields[-1][1], RestNode):
        rest_name, node = fields.pop()
        assert isinstance(node, RestNode)
        rest = node
    return Layout(table, config, RecordNode(fields, units), rest, rest_name)


class _Binder:
    def __init__(self, config: DeviceConfig, table: Table) -> None:
        self.config = config
        self.table = table

    def dim(self, dim: Dim, what: str) -> int:
        value = dim.evaluate(self.config) if isinstance(dim, Expr) else dim
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LocalProtocolError(f"{self.table.name}.{what}: dimension {dim} is {value!r}, not a count")
        return value

    def elements(
        self, elements: Sequence[Element], out: list[tuple[str, Node]], units: dict[str, str], top: bool = False
    ) -> None:
        for element in elements:
            if isinstance(element, If):
                chosen = element.then if element.condition.evaluate(self.config) else element.orelse
                self.elements(chosen, out, units, top)
                continue
            assert isinstance(element, Field)
            node = self.type(element.type, element.name)
            if isinstance(node, RestNode) and not (top and element is self.table.record.elements[-1]):
                raise LocalProtocolError(f"{self.table.name}.{element.name}: REST is only allowed last")
            out.append((element.name, node))
            if element.unit:
                units[element.name] = element.unit

    def type(self, t: Type, what: str) -> Node:
        if isinstance(t, Prim):
            if t.kind == "REST":
                return RestNode(BinaryCodec(0, "REST"), self.dim(t.size, what))
            return ScalarNode(self.codec(t, what))
        if isinstance(t, Record):
            fields: list[tuple[str, Node]] = []
            units: dict[str, str] = {}
            self.elements(t.elements, fields, units)
            return RecordNode(fields, units)
        if isinstance(t, ArrayOf):
            return ArrayNode(self.type(t.element, what), self.dim(t.dim, what))
        if isinstance(t, SetOf):
            return SetNode(self.dim(t.dim, what))
        if isinstance(t, BitField):
            base = IntCodec(self.dim(t.base.size, what), False, self.config.formats)
            return BitsNode(base, [(b.name, b.lo, b.top, b.is_flag) for b in t.members])
        assert isinstance(t, Switch)
        selector = t.selector.evaluate(self.config)
        for case, chosen in t.cases:
            if case == selector:
                return self.type(chosen, what)
        if t.default is None:
            cases = [c for c, _ in t.cases]
            raise LocalProtocolError(f"{self.table.name}.{what}: {t.selector} = {selector!r}, not one of {cases}")
        return self.type(t.default, what)

    def codec(self, t: Prim, what: str) -> Codec:
        formats = self.config.formats
        kind = t.kind
        if kind in ("UINT", "INT"):
            return IntCodec(self.dim(t.size, what), kind == "INT", formats)
        if kind == "NI1":
            return ni_codec(formats.ni_format1, formats)
        if kind == "NI2":
            return ni_codec(formats.ni_format2, formats)
        if kind in TIME_KINDS:
            return TimeCodec(kind, formats)
        if kind == "BOOL":
            return BoolCodec()
        size = self.dim(t.size, what)
        if kind == "BCD":
            return BcdCodec(size)
        if kind == "STRING":
            return CharsCodec(size, formats)
        if kind in ("BINARY", "FILL"):
            return BinaryCodec(size, f"{kind}({size})")
        raise LocalProtocolError(f"{self.table.name}.{what}: unknown primitive {kind}")
