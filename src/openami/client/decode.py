"""Decoding what a table read returned: the whole table or the element a partial read covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openami.c1219.layout import Layout, Span
from openami.c1219.nodes import ArrayNode, Node, RecordNode
from openami.errors import ProtocolError

__all__ = ["TableRead", "decode_read", "element_at"]


@dataclass(frozen=True)
class TableRead:
    """One table read: ``table`` id (bit 11 = manufacturer), the octets, and their decoded value.

    ``decoded`` holds Python values (`Layout.decode`), ``json`` their JSON-ready form (`Layout.to_json`),
    ``element`` the element path a partial read covered ("" for the whole table; the first element's
    path for a run of elements); ``note`` says why ``decoded`` is None when it is.
    """

    table: int
    data: bytes
    decoded: Any = None
    json: Any = None
    element: str | None = None
    note: str | None = None
    offset: int | None = None
    index: tuple[int, ...] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        """``{"table", "data_hex", "decoded", "element", "note"}`` (JSON-ready)."""
        return {
            "table": self.table,
            "data_hex": self.data.hex(),
            "decoded": self.json,
            "element": self.element,
            "note": self.note,
        }


def element_at(layout: Layout, offset: int, count: int) -> Span | None:
    """The element of ``layout`` spanning exactly octets ``offset .. offset + count`` (the outermost one
    when several do; a run of whole array elements gives a span with ``count`` > 1), or None."""
    if count <= 0 or offset < 0:
        return None
    if offset == 0 and count == layout.size:
        return Span(0, count, layout.root, "")
    node: Node = layout.root
    base = 0
    path = ""
    while True:
        if isinstance(node, RecordNode):
            for name, child in node.fields:
                start = base + node.offsets[name]
                if start <= offset and offset + count <= start + child.size:
                    path = f"{path}.{name}" if path else name
                    base, node = start, child
                    break
            else:
                return None
        elif isinstance(node, ArrayNode):
            size = node.element.size
            if size == 0 or offset + count > base + node.count * size:
                return None
            first = (offset - base) // size
            start = base + first * size
            if start == offset and count > size and count % size == 0:
                return Span(start, count, node.element, f"{path}[{first}]", count // size)
            path, base, node = f"{path}[{first}]", start, node.element
        else:
            return None
        if base == offset and node.size == count:
            return layout.locate(path)


def decode_read(
    table: int,
    layout: Layout | None,
    data: bytes,
    *,
    offset: int | None = None,
    index: Sequence[int] | None = None,
    count: int = 1,
    note: str | None = None,
) -> TableRead:
    """Decode the octets of a full read (neither ``offset`` nor ``index``), a partial read by ``offset``
    (``len(data)`` octets) or by ``index`` (``count`` elements). Never raises for bad octets: they give
    ``decoded`` None and a ``note``."""
    index_path = tuple(index) if index is not None else None
    base = TableRead(table, bytes(data), offset=offset, index=index_path, note=note)
    if layout is None:
        return base
    try:
        if offset is None and index_path is None:
            value = layout.decode(data)
            return _with(base, value, layout.to_json(value), "")
        if index_path is not None:
            span = layout.locate_index(index_path, count)
        else:
            found = element_at(layout, offset or 0, len(data))
            if found is None:
                where = f"octets {offset}..{(offset or 0) + len(data)}"
                return _with(base, None, None, None, f"{where} are not one element (or a run of array elements)")
            span = found
        if len(data) != span.size:
            return _with(base, None, None, span.path, f"{span.path} is {span.size} octets, got {len(data)}")
        value, jsonable = _decode_span(layout, span, index_path, bytes(data))
        return _with(base, value, jsonable, span.path)
    except ProtocolError as exc:
        return _with(base, None, None, None, f"does not decode: {exc}")


def _with(base: TableRead, decoded: Any, jsonable: Any, element: str | None, note: str | None = None) -> TableRead:
    return TableRead(base.table, base.data, decoded, jsonable, element, note, base.offset, base.index)


def _decode_span(layout: Layout, span: Span, index: tuple[int, ...] | None, data: bytes) -> tuple[Any, Any]:
    """Value and JSON form of one located span: one element, a run of array elements (a list), or a
    run of record fields (a dict by field name; index reads only)."""
    node = span.node
    if span.count == 1:
        value = node.decode(data, 0)
        return value, node.to_json(value)
    parent = None
    if index is not None:
        parent = layout.root if len(index) == 1 else layout.locate_index(index[:-1]).node
    if index is None or isinstance(parent, ArrayNode):
        values = [node.decode(data, i * node.size) for i in range(span.count)]
        return values, [node.to_json(v) for v in values]
    values_by_name: dict[str, Any] = {}
    json_by_name: dict[str, Any] = {}
    for i in range(span.count):
        part = layout.locate_index((*index[:-1], index[-1] + i))
        value = part.node.decode(data, part.offset - span.offset)
        name = part.path.rsplit(".", 1)[-1]
        values_by_name[name], json_by_name[name] = value, part.node.to_json(value)
    return values_by_name, json_by_name
