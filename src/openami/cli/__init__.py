"""The ``openami`` command line: one Typer app, one sub-module per command group."""

from __future__ import annotations

import typer

from openami.cli.table import table_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="openami",
    help="openami: an open smart-metering stack on ANSI C12.19 / C12.22.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(table_app, name="table")


def main() -> None:
    """Console entry point."""
    app()
