"""``openami demo``: the main job.

Until the head-end lands this is a tour of the C12.19 table engine: a real meter's ST0 (EPRI c12test)
decoded into the formats every other table depends on, then the standard tables the device uses.
"""

from __future__ import annotations

from rich.panel import Panel
from rich.table import Table as RichTable

from openami.c1219.config import DeviceConfig
from openami.c1219.device import decode_self_describing
from openami.c1219.ni import NI_FORMAT_NAMES
from openami.c1219.std import STANDARD_TABLES
from openami.cli.common import console

__all__ = ["run_demo"]

EPRI_ST0 = bytes.fromhex(  # a real 79-octet ST0, from EPRI's c12test (c12-protocol-facts.md §7)
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)


def run_demo() -> None:
    """Print the tour."""
    console.print(Panel.fit("openami — C12.19 table engine tour (the head-end demo comes with the head-end)"))
    value, layout = decode_self_describing(STANDARD_TABLES[0], EPRI_ST0, DeviceConfig())
    formats = layout.config.formats
    summary = RichTable("ST0 of a real meter", "value", title=f"{layout.table.name}: {layout.size} octets")
    summary.add_row("device class", value["DEVICE_CLASS"])
    summary.add_row("byte order", formats.data_order.name)
    summary.add_row("characters", formats.char_format.name)
    summary.add_row("date/time format", f"TM_FORMAT {int(formats.tm_format)} ({formats.tm_format.name})")
    summary.add_row(
        "NI_FMAT1 / NI_FMAT2", f"{NI_FORMAT_NAMES[formats.ni_format1]} / {NI_FORMAT_NAMES[formats.ni_format2]}"
    )
    summary.add_row("standard procedures", ", ".join(f"SP{n}" for n in sorted(value["STD_PROC_USED"])))
    console.print(summary)
    used = sorted(value["STD_TBLS_USED"])
    known = [n for n in used if n in STANDARD_TABLES]
    tables = RichTable("table", "name", "octets for this device", title="Standard tables this meter uses")
    for number in known:
        definition = STANDARD_TABLES[number]
        tables.add_row(
            definition.label, definition.name, "self-describing" if number == 0 else "needs its ACT_* tables"
        )
    console.print(tables)
    console.print(f"re-encoded ST0 identical to the meter's octets: {layout.encode(value) == EPRI_ST0}")
