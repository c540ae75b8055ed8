"""The ``forcemodel`` Typer application, to which each domain's module adds its commands.

Commands whose module imports a heavy engine at its top (the assistance matcher loads linopy)
are registered lazily (:class:`LazyGroup`): ``forcemodel --help`` lists them by a one-line help
kept here, and their module is imported only when the command runs or its own help is asked for.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

import forcemodel
from forcemodel.cli.common import out

#: Sub-applications imported on first use: name -> (module, Typer attribute, one-line help).
#: The help is the sub-application's own (a test keeps them equal).
LAZY: dict[str, tuple[str, str, str]] = {
    "assist": (
        "forcemodel.cli.assist",
        "assist_app",
        "Security assistance: match pledges to a partner's requirements, explain the gaps.",
    ),
    "capability": (
        "forcemodel.cli.capability",
        "capability_app",
        "Capability planning: fair-share targets, spending against guidelines, stockpiles.",
    ),
}


class LazyGroup(TyperGroup):
    """The root command group: eager commands, plus the :data:`LAZY` ones loaded on demand."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return names + [n for n in LAZY if n not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY and cmd_name not in self.commands:
            module, attribute, _ = LAZY[cmd_name]
            sub = getattr(importlib.import_module(module), attribute)
            sub.rich_markup_mode = None  # the same plain help as every other command
            command = typer.main.get_command(sub)
            command.name = cmd_name
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands and their one-line help, without importing the lazy ones."""
        rows = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        for name in names:
            if name in LAZY and name not in self.commands:
                rows.append((name, LAZY[name][2]))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name="forcemodel",
    cls=LazyGroup,
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
