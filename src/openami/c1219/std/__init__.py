"""The standard tables, one module per decade; `STANDARD_TABLES` maps table number → definition."""

from __future__ import annotations

from openami.c1219.schema import Table
from openami.c1219.std import decade0, decade1, decade2, decade4, decade5, decade6, decade7, decade11, decade12

__all__ = ["STANDARD_TABLES", "table_by_name"]

_MODULES = (decade0, decade1, decade2, decade4, decade5, decade6, decade7, decade11, decade12)

STANDARD_TABLES: dict[int, Table] = {t.number: t for module in _MODULES for t in module.TABLES}


def table_by_name(name: str) -> Table:
    """The definition named ``name`` (``"GEN_CONFIG_TBL"``) or numbered (``"ST0"``, ``"0"``)."""
    key = name.upper().removeprefix("ST")
    if key.isdigit() and int(key) in STANDARD_TABLES:
        return STANDARD_TABLES[int(key)]
    for table in STANDARD_TABLES.values():
        if table.name == name.upper():
            return table
    raise KeyError(name)
