"""``openami demo``: the main job.

Until the head-end lands this is a tour of the C12.19 table engine: a real meter's ST0 (EPRI c12test)
decoded into the formats every other table depends on; then a simulated residential meter's tables —
registers labelled with their units through ST22 → ST16 → ST12, and its load profile (ST64) as a chart.
"""

from __future__ import annotations

import numpy as np
from rich.panel import Panel
from rich.table import Table as RichTable

from openami.c1219.config import DeviceConfig
from openami.c1219.device import config_from_tables, decode_self_describing
from openami.c1219.layout import bind
from openami.c1219.ni import NI_FORMAT_NAMES
from openami.c1219.sample import INTERVAL_MIN, residential_meter
from openami.c1219.std import STANDARD_TABLES
from openami.c1219.views import labelled_registers, register_units
from openami.cli.common import console

__all__ = ["run_demo"]

EPRI_ST0 = bytes.fromhex(  # a real 79-octet ST0, from EPRI's c12test (c12-protocol-facts.md §7)
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)
BARS = " ▁▂▃▄▅▆▇█"


def run_demo(seed: int = 1) -> None:
    """Print the tour."""
    console.print(Panel.fit("openami — C12.19 table engine tour (the head-end demo comes with the head-end)"))
    _real_st0()
    _simulated_meter(np.random.default_rng(seed))


def _real_st0() -> None:
    value, layout = decode_self_describing(STANDARD_TABLES[0], EPRI_ST0, DeviceConfig())
    formats = layout.config.formats
    summary = RichTable("field", "value", title=f"A real meter's ST0 ({layout.size} octets, EPRI c12test)")
    summary.add_row("device class", value["DEVICE_CLASS"])
    summary.add_row("byte order", formats.data_order.name)
    summary.add_row("characters", formats.char_format.name)
    summary.add_row("date/time format", f"TM_FORMAT {int(formats.tm_format)} ({formats.tm_format.name})")
    ni = f"{NI_FORMAT_NAMES[formats.ni_format1]} / {NI_FORMAT_NAMES[formats.ni_format2]}"
    summary.add_row("NI_FMAT1 / NI_FMAT2", ni)
    summary.add_row("standard tables", f"{len(value['STD_TBLS_USED'])} used")
    summary.add_row("standard procedures", ", ".join(f"SP{n}" for n in sorted(value["STD_PROC_USED"])))
    summary.add_row("re-encodes to the same octets", str(layout.encode(value) == EPRI_ST0))
    console.print(summary)


def _simulated_meter(rng: np.random.Generator) -> None:
    device = residential_meter(rng, days=2)
    config = config_from_tables(device.tables)
    tables = RichTable("table", "name", "octets", title="A simulated residential meter's tables")
    for number, octets in sorted(device.tables.items()):
        definition = STANDARD_TABLES[number]
        tables.add_row(definition.label, definition.name, str(len(octets)))
    console.print(tables)

    decode = {n: bind(STANDARD_TABLES[n], config).decode(device.tables[n]) for n in (12, 16, 22, 23, 64)}
    units = register_units(decode[12], decode[16], decode[22])
    registers = RichTable("register (ST23)", "value", "unit", title="Registers, labelled through ST22 → ST16 → ST12")
    for item in labelled_registers(decode[23], units):
        registers.add_row(item.path, f"{item.raw:,}", str(item.unit) if item.unit else "")
    console.print(registers)

    wh = np.array([interval["INT_DATA"][0] for block in decode[64]["LP_DATA_SET1"] for interval in block["LP_INT"]])
    hourly_kwh = wh.reshape(-1, 60 // INTERVAL_MIN).sum(axis=1) / 1000.0
    top = hourly_kwh.max()
    chart = "".join(BARS[round(float(v) / top * (len(BARS) - 1))] for v in hourly_kwh)
    console.print(
        Panel(
            f"{chart}\n0 h{' ' * (len(chart) - 8)}{len(chart)} h\n"
            f"hourly energy from ST64, peak {top:.2f} kWh, total {wh.sum() / 1000:.2f} kWh",
            title="Load profile (ST64, 15-minute intervals)",
        )
    )
