"""``openami table``: list, decode and encode C12.19 standard tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable
from rich.tree import Tree

from openami.c1219.config import DeviceConfig
from openami.c1219.device import config_from_tables, decode_self_describing
from openami.c1219.expr import UnboundReference
from openami.c1219.layout import Layout, bind
from openami.c1219.nodes import ArrayNode, Node, RecordNode
from openami.c1219.schema import Table
from openami.c1219.std import STANDARD_TABLES, table_by_name
from openami.c1219.views import labelled_registers, register_units
from openami.cli.common import console, fail, parse_hex, read_json_file
from openami.errors import ProtocolError

__all__ = ["table_app"]

table_app = typer.Typer(help="C12.19 tables: list, decode, encode.", no_args_is_help=True)

SELF_DESCRIBING = {0}


@table_app.command("list")
def list_tables() -> None:
    """The standard tables openami defines, with number, name and decade."""
    view = RichTable("table", "name", "decade", "title")
    for number in sorted(STANDARD_TABLES):
        t = STANDARD_TABLES[number]
        view.add_row(t.label, t.name, str(t.decade), t.title)
    console.print(view)


def _table(number: str) -> Table:
    try:
        return table_by_name(number)
    except KeyError:
        known = ", ".join(str(n) for n in sorted(STANDARD_TABLES))
        fail(f"--table {number}: unknown standard table; expected one of {known}")


def _raw_tables(st0: str | None, config_file: Path | None) -> dict[int, bytes]:
    raw: dict[int, bytes] = {}
    if config_file is not None:
        data = read_json_file(config_file, "--config")
        if not isinstance(data, dict):
            fail('--config: expected a JSON object of table → hex octets, e.g. {"0": "120a9a…", "ST61": "…"}')
        for key, value in data.items():
            try:
                number = table_by_name(str(key)).number
            except KeyError:
                fail(f"--config: {key!r} is not a standard table")
            if not isinstance(value, str):
                fail(f"--config: table {key} must be a hex string")
            raw[number] = parse_hex(value, f"--config table {key}")
    if st0 is not None:
        raw[0] = parse_hex(st0, "--st0")
    return raw


def _config(raw: dict[int, bytes]) -> DeviceConfig:
    try:
        return config_from_tables(raw)
    except ProtocolError as exc:
        fail(f"configuration tables: {exc}")


def _hint(exc: UnboundReference) -> str:
    wanted = exc.name.split(".")[0]
    for t in STANDARD_TABLES.values():
        if t.name == wanted:
            flag = "--st0 HEX or --config FILE" if t.number == 0 else "--config FILE"
            return f"this table needs {exc.name} from {t.label} {t.name}: pass {flag}"
    return f"this table needs {exc.name}"


@table_app.command("decode")
def decode(
    table: Annotated[str, typer.Option("--table", "-t", help="table number (0, 23, ST64) or name")],
    hex_data: Annotated[str, typer.Option("--hex", help="the table's octets in hex")],
    st0: Annotated[str | None, typer.Option("--st0", help="the device's ST0 in hex (formats, dimensions)")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help='JSON file {"0": "hex", "61": "hex", …} of the device tables')
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Decode one table's octets with the standard's field names."""
    definition = _table(table)
    data = parse_hex(hex_data, "--hex")
    raw = _raw_tables(st0, config)
    device = _config(raw)
    try:
        if definition.number in SELF_DESCRIBING:
            value, layout = decode_self_describing(definition, data, device)
        else:
            layout = bind(definition, device)
            value = layout.decode(data)
    except UnboundReference as exc:
        fail(_hint(exc))
    except ProtocolError as exc:
        fail(str(exc))
    jsonable = layout.to_json(value)
    if as_json:
        typer.echo(json.dumps(jsonable))
        return
    tree = Tree(f"[bold]{definition.label} {definition.name}[/] — {layout.size} octets")
    _render(tree, layout.root, jsonable)
    console.print(tree)
    if definition.number in REGISTER_TABLES and "TOT_DATA_BLOCK" in value:
        _print_register_units(value, raw, device)


REGISTER_TABLES = {23, 24, 25, 26}


def _print_register_units(value: dict[str, Any], raw: dict[int, bytes], device: DeviceConfig) -> None:
    """The register values with their units, when the device's ST12, ST16 and ST22 were given."""
    if not {12, 16, 22} <= raw.keys():
        console.print("[dim]units: pass ST12, ST16 and ST22 in --config to label the registers[/]")
        return
    try:
        st12, st16, st22 = (bind(STANDARD_TABLES[n], device).decode(raw[n]) for n in (12, 16, 22))
        labelled = labelled_registers(value, register_units(st12, st16, st22))
    except (ProtocolError, KeyError) as exc:
        fail(f"units from ST12/ST16/ST22: {exc}")
    view = RichTable("register", "value", "unit", title="Registers with their units (ST22 → ST16 → ST12)")
    for item in labelled:
        view.add_row(item.path, str(item.raw), str(item.unit) if item.unit else "")
    console.print(view)


def _render(tree: Tree, node: Node, value: Any) -> None:
    if isinstance(node, RecordNode) and isinstance(value, dict):
        for name, item in value.items():
            child = node.by_name.get(name)
            unit = f" [dim]{node.units[name]}[/]" if name in node.units else ""
            nested = isinstance(child, RecordNode) or (
                isinstance(child, ArrayNode) and isinstance(child.element, RecordNode | ArrayNode)
            )
            if nested and item and child is not None:
                _render(tree.add(f"[cyan]{name}[/]{unit}"), child, item)
            else:
                tree.add(f"[cyan]{name}[/] = {item}{unit}")
    elif isinstance(node, ArrayNode) and isinstance(value, list):
        if not isinstance(node.element, RecordNode | ArrayNode) or len(value) > 32:
            tree.add(f"{value if len(value) <= 32 else str(value[:32])[:-1] + ', …]'}")
            return
        for index, item in enumerate(value):
            _render(tree.add(f"[{index}]"), node.element, item)


@table_app.command("encode")
def encode(
    table: Annotated[str, typer.Option("--table", "-t", help="table number or name")],
    json_file: Annotated[Path, typer.Option("--json", help="JSON file of the decoded table ('-' = stdin)")],
    config: Annotated[Path | None, typer.Option("--config", help="JSON file of the device tables in hex")] = None,
    st0: Annotated[str | None, typer.Option("--st0", help="the device's ST0 in hex")] = None,
) -> None:
    """Encode a table from its JSON form (as printed by ``decode --json``); prints hex."""
    definition = _table(table)
    data = read_json_file(json_file, "--json")
    if not isinstance(data, dict):
        fail("--json: expected a JSON object with the table's fields")
    device = _config(_raw_tables(st0, config))
    try:
        if definition.number in SELF_DESCRIBING:
            device = device.with_table(definition.name, data)
        layout: Layout = bind(definition, device)
        octets = layout.encode(layout.from_json(data))
    except UnboundReference as exc:
        fail(_hint(exc))
    except ProtocolError as exc:
        fail(str(exc))
    typer.echo(octets.hex())
