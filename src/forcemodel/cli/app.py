"""The ``forcemodel`` Typer application, to which each domain's module adds its commands."""

from __future__ import annotations

from typing import Annotated

import typer

import forcemodel
from forcemodel.cli.common import out

app = typer.Typer(
    name="forcemodel",
    help="Plan an alliance's deterrence and defence posture: force model, reinforcement, needs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: flags without a "<bool>" type beside them, options as --name <type>.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"forcemodel {forcemodel.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """forcemodel: open, reproducible planning of deterrence and defence posture."""
