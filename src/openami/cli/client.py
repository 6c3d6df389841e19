"""``openami read`` / ``write`` / ``procedure``: a meter reader's tool over C12.22 (TCP, or UDP).

Each command opens one `openami.client.MeterClient` to ``HOST:PORT``, does its work and prints the
result (``--json``: one JSON object). Bad arguments give a one-line ``error:`` and exit code 2; errors
from the meter or the network (a non-ok response code, no answer, a MAC failure) exit 1.

Meters refuse a peer's repeated invocation ids and IVs for minutes, so successive runs must not reuse
them: each run reserves a block of both in a small state file, per calling ApTitle —
``$OPENAMI_CLIENT_STATE``, else ``$XDG_STATE_HOME/openami/client-state.json`` (default
``~/.local/state``). When the file cannot be used, the run takes a random first invocation id and
clock IVs.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from openami.c1219.procedures import ProcedureResponse, StandardProcedure
from openami.c1219.std import STANDARD_TABLES, table_by_name
from openami.c1222.aptitle import ApTitle
from openami.c1222.security import MAX_IV, IvSource
from openami.c1222.services import format_table_id, parse_table_id
from openami.cli.c1222 import parse_key
from openami.cli.common import console, fail, parse_hex, read_json_file
from openami.client import DEFAULT_CALLED, DEFAULT_CALLING, ClientError, MeterClient, TableRead
from openami.errors import LocalProtocolError, ProtocolError
from openami.transport import DEFAULT_PORT

try:  # POSIX: serialise concurrent runs on the state file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["STATE_ENV", "procedure", "read", "register", "write"]

STATE_ENV = "OPENAMI_CLIENT_STATE"
"""Environment variable naming the state file (invocation ids and IVs already used)."""

_RESERVE = 32
"""Invocation ids and IVs reserved per run (a run using more records what it used at the end)."""
_ID_SPACE = 1 << 32
_SHOWN = 32  # list elements shown in the human view
_T = TypeVar("_T")
_err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add ``read``, ``write`` and ``procedure`` to the top level of ``app``."""
    app.command("read")(read)
    app.command("write")(write)
    app.command("procedure")(procedure)


# ------------------------------------------------------------------------------------------- options

_TARGET_HELP = "the meter: host:port, or host (port 1153); an IPv6 address in brackets"
Target = Annotated[str, typer.Argument(metavar="HOST:PORT", help=_TARGET_HELP)]
Udp = Annotated[bool, typer.Option("--udp", help="C12.22 over UDP (default TCP)")]
Mode = Annotated[int, typer.Option("--security-mode", help="EPSEM security mode: 0 clear, 1 MAC, 2 encrypted")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="ID:HEX, a 16-octet AES key under key id ID")]
Password = Annotated[str | None, typer.Option("--password", help="sent in a Security service with each request")]
UserId = Annotated[int | None, typer.Option("--user-id", help="user id of the Security service (0..65535)")]
Called = Annotated[str, typer.Option("--called-ap-title", help="the meter's ApTitle")]
Calling = Annotated[str, typer.Option("--calling-ap-title", help="our ApTitle")]
Timeout = Annotated[float, typer.Option("--timeout", help="seconds to wait for each answer")]
Retries = Annotated[int, typer.Option("--retries", help="re-sends before giving up")]
TableOpt = Annotated[str, typer.Option("--table", "-t", help="table: 23, ST23, CURRENT_REG_DATA_TBL or MT<n>")]
Offset = Annotated[int | None, typer.Option("--offset", help="partial access: octet offset")]
IndexOpt = Annotated[str | None, typer.Option("--index", help="partial access: C12.19 index path, e.g. 1.0.1")]
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object")]


@dataclass(frozen=True)
class _Connection:
    """Everything needed to open a `MeterClient` (validated)."""

    host: str
    port: int
    settings: dict[str, Any]
    calling: ApTitle


def _host_port(text: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port``, ``host`` (port 1153) or a bare IPv6 address."""
    value = text.strip()
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
        if not sep or (rest and port_text is None):
            fail(f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:1153 or [::1]:1153")
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    else:
        host, port_text = value, None
    if not host:
        fail(f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:1153")
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text.isdecimal() or not 1 <= int(port_text) <= 0xFFFF:
        fail(f"{text!r}: the port must be a number 1..65535")
    return host, int(port_text)


def _title(text: str, option: str) -> ApTitle:
    try:
        return ApTitle.parse(text.strip())
    except ProtocolError as exc:
        fail(f"{option} {text!r}: {exc}")


def _connection(
    target: str,
    udp: bool,
    mode: int,
    key: str | None,
    password: str | None,
    user_id: int | None,
    called: str,
    calling: str,
    timeout: float,
    retries: int,
) -> _Connection:
    host, port = _host_port(target)
    if mode not in (0, 1, 2):
        fail(f"--security-mode {mode}: expected 0 (cleartext), 1 (authenticated) or 2 (encrypted)")
    keys = dict([parse_key(key)]) if key is not None else {}
    if mode and not keys:
        fail(f"--security-mode {mode} needs --key ID:HEX")
    if user_id is not None and password is None:
        fail("--user-id goes with --password (it is sent in the Security service)")
    if user_id is not None and not 0 <= user_id <= 0xFFFF:
        fail(f"--user-id {user_id}: expected 0..65535")
    if password is not None:
        try:
            if len(password.encode("latin-1")) > 20:
                fail("--password: at most 20 characters")
        except UnicodeEncodeError:
            fail("--password: Latin-1 characters only")
    if not timeout > 0 or retries < 0:
        fail("--timeout must be > 0 seconds and --retries >= 0")
    settings: dict[str, Any] = {
        "udp": udp,
        "called": _title(called, "--called-ap-title"),
        "calling": _title(calling, "--calling-ap-title"),
        "security_mode": mode,
        "keys": keys,
        "password": password,
        "user_id": user_id,
        "response_timeout": timeout,
        "retries": retries,
    }
    return _Connection(host, port, settings, settings["calling"])


def _table_id(text: str) -> int:
    """A standard table openami defines (number, ST<n> or name), or a manufacturer table MT<n>."""
    try:
        return table_by_name(text.strip()).number
    except KeyError:
        pass
    if text.strip().upper().startswith("MT"):
        try:
            return parse_table_id(text)
        except ProtocolError as exc:
            fail(f"--table {text!r}: {exc}")
    known = ", ".join(str(n) for n in sorted(STANDARD_TABLES))
    fail(f"--table {text!r}: unknown table; expected MT<n> or one of the standard tables {known}")


def _index(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = text.replace(",", ".").split(".")
    if not 1 <= len(parts) <= 9 or not all(p.strip().isdecimal() and int(p) <= 0xFFFF for p in parts):
        fail(f"--index {text!r}: expected 1 to 9 indices 0..65535 separated by dots, e.g. 1.0.1")
    return tuple(int(p) for p in parts)


# ------------------------------------------------------------------------------------------- state


def _state_path() -> Path:
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "openami" / "client-state.json"


def _update_state(path: Path, change: Callable[[dict[str, Any]], None]) -> bool:
    """Read, change and write the state file under an exclusive lock; False if it cannot be used."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+", encoding="utf-8") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            try:
                data = json.loads(handle.read() or "{}")
            except ValueError:
                data = {}
            if not isinstance(data, dict):
                data = {}
            change(data)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(data, sort_keys=True))
        return True
    except OSError:
        return False


def _entry(data: dict[str, Any], key: str) -> dict[str, Any]:
    entry = data.get(key)
    return entry if isinstance(entry, dict) else {}


def _count(value: Any, limit: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit else None


def _reserve(path: Path, key: str, now: float) -> tuple[int | None, int]:
    """(last IV to continue after or None, first invocation id) for this run; a block of both reserved."""
    chosen: dict[str, int] = {}

    def change(data: dict[str, Any]) -> None:
        entry = _entry(data, key)
        last_iv = max(int(now), _count(entry.get("last_iv"), MAX_IV) or 0)
        first = _count(entry.get("next_invocation_id"), _ID_SPACE - 1)
        first = first if first is not None else secrets.randbelow(_ID_SPACE)
        data[key] = {"last_iv": min(last_iv + _RESERVE, MAX_IV), "next_invocation_id": (first + _RESERVE) % _ID_SPACE}
        chosen.update(last_iv=last_iv, first=first)

    if _update_state(path, change):
        return chosen["last_iv"], chosen["first"]
    _err.print(f"[yellow]warning:[/] cannot use {escape(str(path))} (set ${STATE_ENV}); IVs follow the clock")
    return None, secrets.randbelow(_ID_SPACE)


def _record(path: Path, key: str, first: int, client: MeterClient) -> None:
    """After a run that used more than its reserved block, move the state past what it used."""

    def change(data: dict[str, Any]) -> None:
        entry = _entry(data, key)
        last_iv = client.last_iv
        if last_iv is not None and last_iv > (_count(entry.get("last_iv"), MAX_IV) or 0):
            entry["last_iv"] = last_iv
        if (client.next_invocation_id - first) % _ID_SPACE > _RESERVE:
            entry["next_invocation_id"] = client.next_invocation_id
        data[key] = entry

    _update_state(path, change)


async def _session(connection: _Connection, action: Callable[[MeterClient], Awaitable[_T]]) -> _T:
    path = _state_path()
    key = str(connection.calling.absolute())
    last_iv, first = _reserve(path, key, time.time())
    client = MeterClient(
        connection.host,
        connection.port,
        iv_source=IvSource(last_iv) if last_iv is not None else None,
        first_invocation_id=first,
        **connection.settings,
    )
    try:
        async with client:
            return await action(client)
    finally:
        _record(path, key, first, client)


def _execute(connection: _Connection, action: Callable[[MeterClient], Awaitable[_T]]) -> _T:
    try:
        return asyncio.run(_session(connection, action))
    except ClientError as exc:
        fail(escape(str(exc)), 1)
    except LocalProtocolError as exc:
        fail(escape(str(exc)), 2)
    except ProtocolError as exc:
        fail(escape(str(exc)), 1)


# ------------------------------------------------------------------------------------------- output


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _nested(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and any(isinstance(v, dict | list) for v in value)


def _leaf(value: Any) -> str:
    if isinstance(value, list):
        shown = ", ".join(_scalar(v) for v in value[:_SHOWN])
        return f"[{shown}{', …' if len(value) > _SHOWN else ''}]"
    return _scalar(value)


def _render(tree: Tree, value: Any) -> None:
    """Add a JSON-ready value to ``tree``: records as branches, lists of scalars on one line."""
    items = value.items() if isinstance(value, dict) else ((f"[{i}]", v) for i, v in enumerate(value[:_SHOWN]))
    for name, item in items:
        label = f"[cyan]{escape(str(name))}[/]"
        if _nested(item):
            _render(tree.add(label), item)
        else:
            tree.add(f"{label} = {escape(_leaf(item))}")
    if isinstance(value, list) and len(value) > _SHOWN:
        tree.add(f"… {len(value) - _SHOWN} more")


def _title_line(read: TableRead, count: int | None) -> str:
    definition = STANDARD_TABLES.get(read.table)
    name = f"{format_table_id(read.table)} {definition.name}" if definition else format_table_id(read.table)
    if read.offset is not None:
        where = f"offset {read.offset}, {len(read.data)} octets"
    elif read.index is not None:
        elements = f"{count} elements" if count and count > 1 else "1 element"
        where = f"index {'.'.join(map(str, read.index))} ({elements}), {len(read.data)} octets"
    else:
        where = f"{len(read.data)} octets"
    element = f": {read.element}" if read.element else ""
    return f"[bold]{escape(name)}[/] — {where}{escape(element)}"


def _print_read(read: TableRead, count: int | None) -> None:
    tree = Tree(_title_line(read, count))
    if read.json is None:
        tree.add(f"octets = {read.data.hex() or '-'}")
    elif _nested(read.json):
        _render(tree, read.json)
    else:
        tree.add(escape(_leaf(read.json)))
    console.print(tree)
    if read.note:
        console.print(f"[dim]note: {escape(read.note)}[/]")


def _procedure_name(result: ProcedureResponse) -> str:
    if result.mfg:
        return f"MFG{result.procedure}"
    try:
        return f"SP{result.procedure} {StandardProcedure(result.procedure).name}"
    except ValueError:
        return f"SP{result.procedure}"


# ------------------------------------------------------------------------------------------- commands


def read(
    target: Target,
    table: TableOpt,
    offset: Offset = None,
    count: Annotated[int | None, typer.Option("--count", help="octets (with --offset) or elements (--index)")] = None,
    index: IndexOpt = None,
    udp: Udp = False,
    security_mode: Mode = 0,
    key: KeyOpt = None,
    password: Password = None,
    user_id: UserId = None,
    called_ap_title: Called = DEFAULT_CALLED,
    calling_ap_title: Calling = DEFAULT_CALLING,
    timeout: Timeout = 5.0,
    retries: Retries = 2,
    as_json: AsJson = False,
) -> None:
    """Read a table (whole, by --offset and --count, or by --index) and print it decoded."""
    number = _table_id(table)
    path = _index(index)
    if offset is not None and path is not None:
        fail("--offset and --index exclude each other")
    if offset is not None and count is None:
        fail("--offset needs --count (octets)")
    if count is not None and offset is None and path is None:
        fail("--count goes with --offset or --index")
    if (offset is not None and not 0 <= offset <= 0xFFFFFF) or (count is not None and not 0 <= count <= 0xFFFF):
        fail("--offset must be 0..16777215 and --count 0..65535")
    connection = _connection(
        target, udp, security_mode, key, password, user_id, called_ap_title, calling_ap_title, timeout, retries
    )
    result = _execute(connection, lambda client: client.read(number, offset, count, path))
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    else:
        _print_read(result, count)


def write(
    target: Target,
    table: TableOpt,
    hex_data: Annotated[str | None, typer.Option("--hex", help="the octets to write, in hex")] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="JSON file of the value ('-' = stdin), as read --json decoded")
    ] = None,
    offset: Offset = None,
    index: IndexOpt = None,
    udp: Udp = False,
    security_mode: Mode = 0,
    key: KeyOpt = None,
    password: Password = None,
    user_id: UserId = None,
    called_ap_title: Called = DEFAULT_CALLED,
    calling_ap_title: Calling = DEFAULT_CALLING,
    timeout: Timeout = 5.0,
    retries: Retries = 2,
) -> None:
    """Write a table (whole, at --offset or at --index) from --hex octets or a --json value."""
    number = _table_id(table)
    path = _index(index)
    if (hex_data is None) == (json_file is None):
        fail("give exactly one of --hex and --json")
    if offset is not None and path is not None:
        fail("--offset and --index exclude each other")
    if offset is not None and not 0 <= offset <= 0xFFFFFF:
        fail("--offset must be 0..16777215")
    data: Any = parse_hex(hex_data, "--hex") if hex_data is not None else None
    if json_file is not None:
        if offset is not None:
            fail("--json values are written whole or at --index; use --hex with --offset")
        data = read_json_file(json_file, "--json")
    connection = _connection(
        target, udp, security_mode, key, password, user_id, called_ap_title, calling_ap_title, timeout, retries
    )

    async def action(client: MeterClient) -> int:
        octets = data if isinstance(data, bytes) else await client.encode(number, data, path)
        await client.write(number, octets, offset, path)
        return len(octets)

    size = _execute(connection, action)
    where = f" at offset {offset}" if offset is not None else f" at index {index}" if path is not None else ""
    console.print(f"wrote {size} octets to {format_table_id(number)}{where}", highlight=False)


def procedure(
    target: Target,
    number: Annotated[int, typer.Option("--number", "-n", help="procedure number 0..2047 (SP9, SP10 …)")],
    params: Annotated[str, typer.Option("--params", help="parameter octets in hex")] = "",
    mfg: Annotated[bool, typer.Option("--mfg", help="a manufacturer procedure")] = False,
    udp: Udp = False,
    security_mode: Mode = 0,
    key: KeyOpt = None,
    password: Password = None,
    user_id: UserId = None,
    called_ap_title: Called = DEFAULT_CALLED,
    calling_ap_title: Calling = DEFAULT_CALLING,
    timeout: Timeout = 5.0,
    retries: Retries = 2,
    as_json: AsJson = False,
) -> None:
    """Run a procedure (write ST7, read ST8) and print its result code and response data.

    The exit code is 1 when the result is not COMPLETED.
    """
    if not 0 <= number <= 0x07FF:
        fail(f"--number {number}: expected 0..2047")
    octets = parse_hex(params, "--params")
    connection = _connection(
        target, udp, security_mode, key, password, user_id, called_ap_title, calling_ap_title, timeout, retries
    )
    result = _execute(connection, lambda client: client.procedure(number, octets, mfg=mfg))
    if as_json:
        shape = {
            "procedure": result.procedure,
            "mfg": result.mfg,
            "seq_nbr": result.seq_nbr,
            "result": result.result.name,
            "result_code": int(result.result),
            "data_hex": result.data.hex(),
        }
        typer.echo(json.dumps(shape))
    else:
        console.print(f"{_procedure_name(result)} (seq {result.seq_nbr}): {result.result.name}", highlight=False)
        console.print(f"response data: {result.data.hex() or '-'}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)
