"""Building a `DeviceConfig` from a device's own table octets.

ST0 describes its own length (its sets are dimensioned by its own DIM_* fields) and sets the formats
every other table is read with, so it is decoded in two steps: the fixed head first, then the whole
table under the formats and dimensions the head gave. The ACT_* tables follow in dependency order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openami.c1219.config import DeviceConfig
from openami.c1219.expr import UnboundReference
from openami.c1219.layout import Layout, bind, bind_prefix
from openami.c1219.schema import Table
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = ["CONFIG_TABLES", "config_from_tables", "decode_self_describing"]

CONFIG_TABLES = (0, 11, 21, 41, 51, 61, 62, 71, 111, 121)
"""Tables whose values make up a device configuration, in the order they must be read."""


def decode_self_describing(table: Table, data: bytes, config: DeviceConfig) -> tuple[dict[str, Any], Layout]:
    """Decode a table whose dimensions come from its own leading fields (ST0); returns (value, layout).

    Raises `RemoteProtocolError` when the octets describe an impossible configuration.
    """
    for _ in range(len(table.record.elements) + 1):
        try:
            layout = bind(table, config)
        except UnboundReference as missing:
            if not missing.name.startswith(table.name + "."):
                raise
            head = bind_prefix(table, config)
            if len(data) < head.size:
                raise RemoteProtocolError(
                    f"{table.label} {table.name} needs at least {head.size} octets for its head, got {len(data)}"
                ) from None
            values = head.decode(data[: head.size])
            try:
                config = config.with_table(table.name, values)
            except LocalProtocolError as exc:  # e.g. a reserved CHAR_FORMAT in the peer's ST0
                raise RemoteProtocolError(f"{table.label} {table.name}: {exc}") from None
            continue
        return layout.decode(data), layout
    raise LocalProtocolError(f"{table.name}: its dimensions do not resolve from its own fields")


def config_from_tables(tables: Mapping[int, bytes], base: DeviceConfig | None = None) -> DeviceConfig:
    """A configuration from raw octets of ST0 and any of the ACT_* tables (`CONFIG_TABLES`).

    Tables absent from ``tables`` are simply not in the configuration; layouts that need them fail to
    bind with a message naming the missing value.
    """
    from openami.c1219.std import STANDARD_TABLES

    config = base if base is not None else DeviceConfig()
    for number in CONFIG_TABLES:
        if number not in tables or number not in STANDARD_TABLES:
            continue
        table = STANDARD_TABLES[number]
        try:
            values, _ = decode_self_describing(table, tables[number], config)
            config = config.with_table(table.name, values)
        except ProtocolError as exc:
            if isinstance(exc, RemoteProtocolError | UnboundReference):
                raise
            raise RemoteProtocolError(f"{table.label}: {exc}") from None
    return config
