"""Helpers shared by the command groups: one-line errors, hex and JSON input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

__all__ = ["console", "fail", "parse_hex", "read_json_file"]

console = Console()
_err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on one line to stderr and exit with ``code``."""
    _err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def parse_hex(text: str, what: str) -> bytes:
    """Octets from hex text (spaces, colons and a 0x prefix allowed)."""
    cleaned = text.strip().removeprefix("0x").replace(" ", "").replace(":", "").replace("\n", "")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        fail(f"{what}: expected hexadecimal octets (e.g. 0a1b2c), got {text[:40]!r}")


def read_json_file(path: Path, what: str) -> Any:
    """Parsed JSON from ``path`` ('-' = stdin), failing with a one-line error."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as exc:
        fail(f"{what}: cannot read {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"{what}: {path} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
