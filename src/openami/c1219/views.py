"""Decoded views that join tables: the unit of every register value.

C12.19 gives units indirectly: ST22 DATA_SELECTION_TBL names, for the n-th summation / demand /
coincident value of ST23 (and the snapshots ST24–ST26), a source index into ST16; ST16 says which sources
have an ST12 UOM entry (the n-th entry belongs to the n-th source whose UOM_ENTRY_FLAG is set); ST12
describes the quantity, time base and multiplier. `register_units` follows that chain once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openami.c1219.std.decade1 import source_indices
from openami.c1219.uom import Unit, describe_uom, scale
from openami.errors import RemoteProtocolError

__all__ = ["NOT_USED", "RegisterUnits", "labelled_registers", "register_units"]

NOT_USED = 0xFF
"""A source selection of 0xFF means the register slot is not used."""


@dataclass(frozen=True, slots=True)
class RegisterUnits:
    """The unit of each summation, demand and coincident slot (None: not used or no ST12 entry)."""

    summations: tuple[Unit | None, ...]
    demands: tuple[Unit | None, ...]
    coincidents: tuple[Unit | None, ...]


def register_units(st12: Mapping[str, Any], st16: Mapping[str, Any], st22: Mapping[str, Any]) -> RegisterUnits:
    """Units of the register slots from decoded ST12, ST16 and ST22.

    Raises `RemoteProtocolError` when ST22 selects a source ST16 does not have, or ST16 points past ST12.
    """
    links = source_indices(st16["SOURCE_LINK"])
    entries: Sequence[Mapping[str, Any]] = st12["UOM_ENTRY"]

    def unit_of(what: str, slot: int, source: int) -> Unit | None:
        if source == NOT_USED:
            return None
        if source >= len(links):
            raise RemoteProtocolError(f"ST22 {what}[{slot}] selects source {source}; ST16 has {len(links)}")
        index = links[source].uom
        if index is None:
            return None
        if index >= len(entries):
            raise RemoteProtocolError(f"ST16 source {source} is UOM entry {index}; ST12 has {len(entries)}")
        return describe_uom(entries[index])

    def units(what: str) -> tuple[Unit | None, ...]:
        return tuple(unit_of(what, i, s) for i, s in enumerate(st22.get(what, [])))

    coincident_sources = st22.get("COINCIDENT_SELECT", [])
    return RegisterUnits(
        summations=units("SUMMATION_SELECT"),
        demands=units("DEMAND_SELECT"),
        coincidents=tuple(unit_of("COINCIDENT_SELECT", i, s) for i, s in enumerate(coincident_sources)),
    )


@dataclass(frozen=True, slots=True)
class LabelledValue:
    """One register value with its unit and its value in the unit's base (multiplier applied)."""

    path: str
    raw: Any
    unit: Unit | None

    @property
    def base_value(self) -> Any:
        return self.raw if self.unit is None or not isinstance(self.raw, int | float) else scale(self.raw, self.unit)

    def __str__(self) -> str:
        return f"{self.raw} {self.unit}" if self.unit is not None else str(self.raw)


def labelled_registers(register_data: Mapping[str, Any], units: RegisterUnits) -> list[LabelledValue]:
    """Every summation and demand of a decoded ST23-like value, labelled with its unit.

    Covers TOT_DATA_BLOCK and each TIER_DATA_BLOCK[t]; demands list each occurrence.
    """
    blocks: list[tuple[str, Mapping[str, Any]]] = [("TOT_DATA_BLOCK", register_data["TOT_DATA_BLOCK"])]
    blocks += [(f"TIER_DATA_BLOCK[{t}]", b) for t, b in enumerate(register_data.get("TIER_DATA_BLOCK", []))]
    out: list[LabelledValue] = []
    for prefix, block in blocks:
        for i, value in enumerate(block.get("SUMMATIONS", [])):
            unit = units.summations[i] if i < len(units.summations) else None
            out.append(LabelledValue(f"{prefix}.SUMMATIONS[{i}]", value, unit))
        for i, demand in enumerate(block.get("DEMANDS", [])):
            unit = units.demands[i] if i < len(units.demands) else None
            for k, value in enumerate(demand.get("DEMAND", [])):
                out.append(LabelledValue(f"{prefix}.DEMANDS[{i}].DEMAND[{k}]", value, unit))
    return out
