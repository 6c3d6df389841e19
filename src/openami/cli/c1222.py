"""``openami c1222``: decode C12.22 messages from hex or from a packet capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from openami.c1222.decode import MessageDecoder
from openami.capture import C1222_PORT, read_capture
from openami.cli.common import console, fail, parse_hex
from openami.errors import ProtocolError

__all__ = ["c1222_app", "parse_key"]

c1222_app = typer.Typer(help="C12.22 messages: decode APDUs and packet captures.", no_args_is_help=True)
_err = Console(stderr=True)
_KEY_HELP = "ID:HEX with ID 0..255 and a 16-byte AES key in hex, e.g. 2:01020304050607080102030405060708"
_LONG = 96  # hex digits shown in the human view before eliding


@c1222_app.callback()
def _group() -> None:
    """C12.22 messages: decode APDUs and packet captures."""


def parse_key(text: str) -> tuple[int, bytes]:
    """``"2:0102…08"`` → (2, 16 key bytes); a one-line error and exit for anything else."""
    ident, sep, hex_key = text.partition(":")
    try:
        key_id = int(ident.strip(), 0)
        key = bytes.fromhex(hex_key.strip().removeprefix("0x"))
    except ValueError:
        fail(f"--key {text!r}: expected {_KEY_HELP}")
    if not sep or not 0 <= key_id <= 0xFF or len(key) != 16:
        fail(f"--key {text!r}: expected {_KEY_HELP}")
    return key_id, key


def _keys(specs: list[str]) -> dict[int, bytes]:
    keys: dict[int, bytes] = {}
    for spec in specs:
        key_id, key = parse_key(spec)
        if key_id in keys and keys[key_id] != key:
            fail(f"--key: two different keys for key id {key_id}")
        keys[key_id] = key
    return keys


def _records(path: Path, ports: list[int], all_ports: bool) -> tuple[list[tuple[bytes, dict[str, Any]]], list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"--pcap: cannot read {path}: {exc.strerror or exc}")
    for port in ports:
        if not 0 <= port <= 0xFFFF:
            fail(f"--port {port}: expected 0..65535")
    try:
        capture = read_capture(data, ports=None if all_ports else (ports or [C1222_PORT]))
    except ProtocolError as exc:
        fail(f"--pcap {path}: {exc}")
    items = [
        (
            r.apdu,
            {
                "frame": r.frame,
                "timestamp": r.timestamp,
                "src": str(r.src),
                "dst": str(r.dst),
                "transport": r.transport,
            },
        )
        for r in capture.records
    ]
    return items, capture.notes


@c1222_app.command("decode")
def decode(
    hex_data: Annotated[str | None, typer.Option("--hex", help="one C12.22 APDU in hex (60 L …)")] = None,
    pcap: Annotated[Path | None, typer.Option("--pcap", help="a pcap or pcapng capture file")] = None,
    key: Annotated[list[str] | None, typer.Option("--key", help=f"a key, {_KEY_HELP} (repeatable)")] = None,
    port: Annotated[
        list[int] | None, typer.Option("--port", help="TCP/UDP port of C12.22 (default 1153; repeatable)")
    ] = None,
    all_ports: Annotated[bool, typer.Option("--all-ports", help="read every TCP/UDP flow of the capture")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document (a list of messages)")] = False,
) -> None:
    """Decode every C12.22 message: ACSE, EPSEM, services, MAC check (good / bad / no-key), plaintext."""
    if (hex_data is None) == (pcap is None):
        fail("give exactly one of --hex HEX or --pcap FILE")
    keys = _keys(key or [])
    decoder = MessageDecoder(keys)
    notes: list[str] = []
    if hex_data is not None:
        apdu = parse_hex(hex_data, "--hex")
        report = decoder.decode(apdu)
        if "error" in report:
            fail(f"--hex: {report['error']}")
    else:
        assert pcap is not None
        items, notes = _records(pcap, port or [], all_ports)
        for apdu, meta in items:
            decoder.decode(apdu, meta)
    for note in notes:
        _err.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(decoder.reports, indent=2))
        return
    if not decoder.reports:
        console.print("no C12.22 messages found", highlight=False)
    for report in decoder.reports:
        console.print(_tree(report))


# --------------------------------------------------------------------------------- the human view


def _value(value: Any, name: str = "") -> str:
    if "checksum" in name and isinstance(value, int) and not isinstance(value, bool):
        return f"0x{value:02X}"
    if isinstance(value, str) and len(value) > _LONG and all(c in "0123456789abcdef" for c in value):
        return escape(f"{value[:_LONG]}… ({len(value) // 2} bytes)")
    if isinstance(value, dict) and set(value) == {"value", "flags"}:
        return escape(f"{value['value']} {value['flags']}")
    return escape(repr(value) if isinstance(value, str) and value != value.strip() else str(value))


def _add(tree: Tree, data: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    for name, value in data.items():
        if name in skip or value is None:
            continue
        if isinstance(value, dict) and set(value) != {"value", "flags"}:
            _add(tree.add(f"[cyan]{escape(name)}[/]"), value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            branch = tree.add(f"[cyan]{escape(name)}[/]")
            for item in value:
                _add(branch.add(escape(str(item.get("type", "")))), item, ("type",))
        else:
            tree.add(f"[cyan]{escape(name)}[/] = {_value(value, name)}")


def _heading(report: dict[str, Any]) -> str:
    parts = [f"[bold]#{report['index']}[/]"]
    if "frame" in report:
        parts.append(f"frame {report['frame']}")
    if report.get("timestamp") is not None:
        try:
            stamp = datetime.fromtimestamp(report["timestamp"], tz=UTC)
            parts.append(stamp.isoformat(timespec="microseconds").replace("+00:00", "Z"))
        except (OverflowError, OSError, ValueError):  # a time stamp no calendar date can show
            parts.append(f"{report['timestamp']} s")
    if "src" in report:
        parts.append(escape(f"{report['transport']} {report['src']} → {report['dst']}"))
    parts.append(f"[bold]{report['kind']}[/]")
    if "request_index" in report:
        parts.append(f"answers #{report['request_index']}")
    if "response_index" in report:
        parts.append(f"answered by #{report['response_index']}")
    parts.append(f"{report['length']} bytes")
    return " · ".join(parts)


def _tree(report: dict[str, Any]) -> Tree:
    tree = Tree(_heading(report))
    if "error" in report:
        tree.add(f"[bold red]error:[/] {escape(report['error'])}")
        tree.add(f"[cyan]apdu[/] = {_value(report['apdu'])}")
    if "acse" in report:
        _add(tree.add("[bold]ACSE[/]"), report["acse"])
    if "epsem" in report:
        epsem = report["epsem"]
        _add(tree.add(f"[bold]EPSEM[/] control {epsem['control_hex']}"), epsem, ("control", "control_hex"))
    security = report.get("security")
    if security is not None:
        colour = {"good": "green", "bad": "red", "no-key": "yellow"}.get(security["mac"], "white")
        node = tree.add(f"[bold]security[/] {security['mode']}, MAC [{colour}]{security['mac']}[/]")
        _add(node, security, ("mode", "mac"))
    services = report.get("services")
    if services is not None:
        branch = tree.add("[bold]services[/]")
        for service in services:
            style = "red" if "error" in service else "white"
            node = branch.add(f"[{style}]{escape(service.get('summary', ''))}[/]")
            _add(node, service, ("summary", "code"))
    return tree
