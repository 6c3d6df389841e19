"""Property checks shared by every table definition's tests.

`check_table(table, config, data)` binds ``table`` to ``config`` and checks, with values drawn from the
hypothesis ``data`` object: valid values round-trip exactly; decodable random octets re-encode to the
same octets (or, for formats with several encodings of one value, to octets that decode to the same
value); random octets decode or raise `ProtocolError`; truncated and oversized input raises
`RemoteProtocolError`; a partial decode at a random element equals that element of the full decode.
"""

from __future__ import annotations

import datetime as dt
import math
import string
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.formats import Formats, IntFormat, TmFormat
from openami.c1219.layout import Layout, bind
from openami.c1219.ni import ScaledIntCodec
from openami.c1219.nodes import ArrayNode, BitsNode, Node, RecordNode, RestNode, ScalarNode, SetNode
from openami.c1219.timefmt import TimeCodec
from openami.c1219.types import BcdCodec, BinaryCodec, BoolCodec, CharsCodec, FloatCharCodec, FloatCodec, IntCodec
from openami.errors import ProtocolError, RemoteProtocolError

__all__ = [
    "check_table",
    "formats_strategy",
    "gen_config_values",
    "layout_values",
    "same_value",
    "value_strategy",
]

NON_CANONICAL_NI = {0, 1, 2, 3, 13}  # floats (NaN payloads) and FLOAT_CHAR (free text layout)


def formats_strategy(tm_formats: tuple[int, ...] = (0, 1, 2, 3, 4)) -> st.SearchStrategy[Formats]:
    """Random valid ST0 format controls."""
    return st.builds(
        Formats,
        data_order=st.sampled_from([0, 1]),
        char_format=st.sampled_from([1, 2, 3, 4, 5]),
        int_format=st.sampled_from([0, 1, 2]),
        tm_format=st.sampled_from(tm_formats),
        ni_format1=st.integers(0, 13),
        ni_format2=st.integers(0, 13),
        id_form=st.sampled_from([0, 1]),
    )


def gen_config_values(formats: Formats, **overrides: Any) -> dict[str, Any]:
    """GEN_CONFIG_TBL values consistent with ``formats`` (every standard table and procedure marked used)."""
    values: dict[str, Any] = {
        "FORMAT_CONTROL_1": {"DATA_ORDER": int(formats.data_order), "CHAR_FORMAT": int(formats.char_format),
                             "MODEL_SELECT": 0},
        "FORMAT_CONTROL_2": {"TM_FORMAT": int(formats.tm_format), "DATA_ACCESS_METHOD": 3,
                             "ID_FORM": formats.id_form, "INT_FORMAT": int(formats.int_format)},
        "FORMAT_CONTROL_3": {"NI_FORMAT1": formats.ni_format1, "NI_FORMAT2": formats.ni_format2},
        "DEVICE_CLASS": "OAMI",
        "NAMEPLATE_TYPE": 2,
        "DEFAULT_SET_USED": 0,
        "MAX_PROC_PARM_LENGTH": 32,
        "MAX_RESP_DATA_LEN": 32,
        "STD_VERSION_NO": 2,
        "STD_REVISION_NO": 0,
        "DIM_STD_TBLS_USED": 20,
        "DIM_MFG_TBLS_USED": 0,
        "DIM_STD_PROC_USED": 5,
        "DIM_MFG_PROC_USED": 0,
        "DIM_MFG_STATUS_USED": 2,
        "NBR_PENDING": 2,
        "STD_TBLS_USED": frozenset(range(160)),
        "MFG_TBLS_USED": frozenset(),
        "STD_PROC_USED": frozenset(range(40)),
        "MFG_PROC_USED": frozenset(),
        "STD_TBLS_WRITE": frozenset(range(160)),
        "MFG_TBLS_WRITE": frozenset(),
    }
    values.update(overrides)
    return values


# -- values ------------------------------------------------------------------------------------------
_CHAR_ALPHABET = string.ascii_letters + string.digits + " -_.#"


def _codec_values(codec: Any) -> st.SearchStrategy[Any]:
    if isinstance(codec, ScaledIntCodec):
        return st.integers(codec.lo, codec.hi).map(lambda v: Decimal(v).scaleb(-4))
    if isinstance(codec, IntCodec):
        return st.integers(codec.lo, codec.hi)
    if isinstance(codec, BcdCodec):
        return st.integers(0, codec.hi)
    if isinstance(codec, FloatCodec):
        return st.floats(allow_nan=False, width=32 if codec.size == 4 else 64)
    if isinstance(codec, FloatCharCodec):
        digits = codec.size - 2
        return st.integers(-(10 ** (digits - 1)) + 1, 10**digits - 1).flatmap(
            lambda v: st.integers(0, min(3, len(str(abs(v))))).map(lambda k: Decimal(v).scaleb(-k))
        ).filter(lambda d: len(str(d)) <= codec.size)
    if isinstance(codec, CharsCodec):
        unit = len(codec._pad)
        return st.text(_CHAR_ALPHABET, min_size=codec.text_size // unit, max_size=codec.text_size // unit)
    if isinstance(codec, BoolCodec):
        return st.booleans()
    if isinstance(codec, BinaryCodec):
        return st.binary(min_size=codec.size, max_size=codec.size)
    if isinstance(codec, TimeCodec):
        return _time_values(codec)
    raise AssertionError(f"no strategy for codec {codec!r}")


def _time_values(codec: TimeCodec) -> st.SearchStrategy[Any]:
    if codec.size == 0:
        return st.none()
    base = _time_base_values(codec)
    if codec.high:
        return st.tuples(base, st.integers(0, 99)).map(lambda p: p[0].replace(microsecond=p[1] * 10_000))
    return base


def _time_base_values(codec: TimeCodec) -> st.SearchStrategy[Any]:
    if codec.kind in ("TIME", "STIME"):
        times = st.times()
        if codec.kind == "STIME" and (codec.discrete or codec.tm == TmFormat.UINT32_MINUTES):
            return times.map(lambda t: t.replace(second=0, microsecond=0))
        return times.map(lambda t: t.replace(microsecond=0))
    if codec.discrete:
        lo, hi = dt.datetime(1990, 1, 1), dt.datetime(2089, 12, 31, 23, 59, 59)
    else:
        lo, hi = dt.datetime(1970, 1, 1), dt.datetime(2106, 2, 7, 6, 28, 0)
    if codec.kind == "DATE":
        return st.dates(lo.date(), hi.date())
    values = st.datetimes(lo, hi).map(lambda d: d.replace(microsecond=0))
    if codec.kind == "STIME_DATE":
        return values.map(lambda d: d.replace(second=0))
    return values


def value_strategy(node: Node) -> st.SearchStrategy[Any]:
    """Valid decoded values of a bound node."""
    if isinstance(node, RestNode):
        return st.binary(max_size=node.max_size)
    if isinstance(node, ScalarNode):
        return _codec_values(node.codec)
    if isinstance(node, BitsNode):
        members = {
            name: st.booleans() if flag else st.integers(0, mask) for name, lo, mask, flag in node.members
        }
        filler = st.integers(0, node.filler_mask).map(lambda v: v & node.filler_mask)
        return st.tuples(st.fixed_dictionaries(members), filler).map(
            lambda pair: {**pair[0], "FILLER": pair[1]} if pair[1] else pair[0]
        )
    if isinstance(node, SetNode):
        return st.frozensets(st.integers(0, node.count - 1), max_size=node.count) if node.count else st.just(
            frozenset()
        )
    if isinstance(node, ArrayNode):
        return st.lists(value_strategy(node.element), min_size=node.count, max_size=node.count)
    assert isinstance(node, RecordNode), node
    return st.fixed_dictionaries({name: value_strategy(child) for name, child in node.fields})


def layout_values(layout: Layout) -> st.SearchStrategy[dict[str, Any]]:
    """Valid decoded values of a whole bound table."""
    head = value_strategy(layout.root)
    if layout.rest is None:
        return head
    name = layout._rest_name
    return st.tuples(head, st.binary(max_size=layout.rest.max_size)).map(lambda p: {**p[0], name: p[1]})


def same_value(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN (decoded floats from random octets)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def is_canonical(formats: Formats) -> bool:
    """Whether every value has exactly one encoding under ``formats`` (so octets round-trip exactly)."""
    return formats.int_format == IntFormat.TWOS_COMPLEMENT and not (
        {formats.ni_format1, formats.ni_format2} & NON_CANONICAL_NI
    )


# -- the check ---------------------------------------------------------------------------------------
def _random_index_path(data: st.DataObject, node: Node) -> list[int]:
    path: list[int] = []
    while True:
        if isinstance(node, RecordNode) and node.fields:
            i = data.draw(st.integers(0, len(node.fields) - 1))
            node = node.fields[i][1]
        elif isinstance(node, ArrayNode) and node.count:
            i = data.draw(st.integers(0, node.count - 1))
            node = node.element
        else:
            return path
        path.append(i)
        if data.draw(st.booleans()):
            return path


def _value_at(layout: Layout, value: Any, path: list[int]) -> Any:
    node: Node = layout.root
    for i in path:
        if isinstance(node, RecordNode):
            name, node = node.fields[i]
            value = value[name]
        else:
            assert isinstance(node, ArrayNode)
            node, value = node.element, value[i]
    return value


def check_table(table: Any, config: DeviceConfig, data: st.DataObject) -> Layout:
    """Run every property above on ``table`` bound to ``config``; returns the layout."""
    layout = bind(table, config)
    value = data.draw(layout_values(layout), label="value")
    octets = layout.encode(value)
    assert layout.size <= len(octets) <= layout.max_size
    decoded = layout.decode(octets)
    assert same_value(decoded, value), (decoded, value)
    assert layout.encode(decoded) == octets
    assert layout.from_json(layout.to_json(decoded)) == decoded or not is_canonical(config.formats)

    # partial decode at a random element equals that element of the full decode
    path = _random_index_path(data, layout.root)
    if path:
        span = layout.locate_index(path)
        part = layout.decode_span(span, octets[span.offset : span.offset + span.size])
        assert same_value(part, _value_at(layout, decoded, path)), (path, part)

    # truncated and oversized
    if len(octets) == layout.size and layout.size > 0:
        try:
            layout.decode(octets[:-1])
        except RemoteProtocolError:
            pass
        else:
            raise AssertionError("a truncated table decoded")
    try:
        layout.decode(octets + b"\x00" * (layout.max_size - len(octets) + 1))
    except RemoteProtocolError:
        pass
    else:
        raise AssertionError("an oversized table decoded")

    # random octets: decode or ProtocolError; decodable octets re-encode exactly (canonical formats)
    size = data.draw(st.integers(layout.size, min(layout.max_size, layout.size + 8)), label="size")
    raw = data.draw(st.binary(min_size=size, max_size=size), label="raw")
    try:
        loose = layout.decode(raw)
    except ProtocolError:
        return layout
    again = layout.encode(loose)
    if is_canonical(config.formats):
        assert again == raw, (raw.hex(), again.hex())
    else:
        assert same_value(layout.decode(again), loose)
    return layout
