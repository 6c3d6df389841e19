"""`DeviceConfig`: everything a table layout depends on, taken from the device's own tables.

A configuration holds decoded values of the tables that set formats, dimensions and flags — ST0
GEN_CONFIG_TBL and the ACT_* tables (ST11, ST21, ST41, ST51, ST61, ST71, ST111, ST121 …) — keyed by the
standard's table name, and the `Formats` read from ST0. Expressions in definitions look values up by
dotted name (``ACT_LP_TBL.LP_FLAGS.BLK_END_READ_FLAG``). Configurations are immutable and hashable, so
bound layouts are cached per configuration. `openami.c1219.device.config_from_tables` builds one from
raw table octets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openami.c1219.expr import UnboundReference
from openami.c1219.formats import Formats
from openami.errors import LocalProtocolError

__all__ = ["DeviceConfig", "formats_from_gen_config"]


def formats_from_gen_config(st0: Mapping[str, Any] | None) -> Formats:
    """The `Formats` in decoded GEN_CONFIG_TBL values (defaults for what is absent)."""
    if not st0:
        return Formats()
    fc1 = st0.get("FORMAT_CONTROL_1", {})
    fc2 = st0.get("FORMAT_CONTROL_2", {})
    fc3 = st0.get("FORMAT_CONTROL_3", {})
    default = Formats()
    return Formats(
        data_order=fc1.get("DATA_ORDER", default.data_order),
        char_format=fc1.get("CHAR_FORMAT", default.char_format),
        int_format=fc2.get("INT_FORMAT", default.int_format),
        tm_format=fc2.get("TM_FORMAT", default.tm_format),
        ni_format1=fc3.get("NI_FORMAT1", default.ni_format1),
        ni_format2=fc3.get("NI_FORMAT2", default.ni_format2),
        id_form=int(fc2.get("ID_FORM", default.id_form)),
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ("{", tuple((k, _freeze(v)) for k, v in sorted(value.items())))
    if isinstance(value, list | tuple):
        return ("[", tuple(_freeze(v) for v in value))
    if isinstance(value, frozenset | set):
        return ("s", tuple(sorted(value)))
    return value


class DeviceConfig:
    """Formats and configuration-table values of one device (immutable, hashable)."""

    __slots__ = ("_hash", "_key", "formats", "tables")

    def __init__(self, tables: Mapping[str, Mapping[str, Any]] | None = None, formats: Formats | None = None) -> None:
        self.tables: dict[str, Mapping[str, Any]] = dict(tables or {})
        self.formats = formats if formats is not None else formats_from_gen_config(self.tables.get("GEN_CONFIG_TBL"))
        self._key = (self.formats, _freeze(self.tables))
        self._hash = hash(self._key)

    def lookup(self, name: str) -> Any:
        """The value at a dotted name, e.g. ``ACT_REGS_TBL.NBR_TIERS``; raises `UnboundReference`."""
        parts = name.split(".")
        value: Any = self.tables
        for part in parts:
            if not isinstance(value, Mapping) or part not in value:
                raise UnboundReference(name)
            value = value[part]
        return value

    def with_table(self, name: str, values: Mapping[str, Any], *, keep_formats: bool = False) -> DeviceConfig:
        """A copy with table ``name`` set to ``values`` (formats re-read from ST0 unless kept)."""
        if not name.isupper():
            raise LocalProtocolError(f"table names are the standard's upper-case names, got {name!r}")
        tables = dict(self.tables)
        tables[name] = values
        return DeviceConfig(tables, self.formats if keep_formats or name != "GEN_CONFIG_TBL" else None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceConfig) and self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"DeviceConfig({self.formats}, tables={sorted(self.tables)})"
