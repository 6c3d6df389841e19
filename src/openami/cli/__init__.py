"""The ``openami`` command line: one Typer app, one sub-module per command group."""

from __future__ import annotations

import typer

from openami.cli.c1222 import c1222_app
from openami.cli.client import register as register_client
from openami.cli.meter import meter_app
from openami.cli.plc import plc_app
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
app.add_typer(c1222_app, name="c1222")
app.add_typer(plc_app, name="plc")
app.add_typer(meter_app, name="meter")
register_client(app)


@app.command()
def demo() -> None:
    """Run the main job (for now: a tour of the C12.19 table engine on a real meter's ST0)."""
    from openami.cli.demo import run_demo

    run_demo()


def main() -> None:
    """Console entry point."""
    app()
