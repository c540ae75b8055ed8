"""The ``forcemodel`` command assembled: every domain's commands added to :data:`app`, and
:func:`main`, its entry point.

Importing the domain modules adds their commands to the app (in the order of
``forcemodel --help``); ``assist`` and ``capability`` are registered lazily
(:data:`forcemodel.cli.app.LAZY`) because they load engines; the service's ``serve`` and
``users`` come from :mod:`forcemodel.service.commands`.
"""

from __future__ import annotations

# The domain modules add their commands on import: this order is that of ``forcemodel --help``.
# isort: off
from forcemodel.cli import scenario
from forcemodel.cli import listing
from forcemodel.cli import flow
from forcemodel.cli import explain
from forcemodel.cli import optimize

# isort: on
from forcemodel.cli.app import app
from forcemodel.cli.replan import replan_cmd
from forcemodel.cli.sweep import attack_cmd, sweep_cmd

__all__ = ["app", "main"]
_COMMANDS = (scenario, listing, flow, explain, optimize)
app.command("replan")(replan_cmd)
# ``assist`` and ``capability`` are registered lazily (forcemodel.cli.app.LAZY): they load engines.
app.command("sweep")(sweep_cmd)
app.command("attack")(attack_cmd)


def _add_service_commands() -> None:
    """``forcemodel serve`` and ``forcemodel users``: the assistance service."""
    from forcemodel.service.commands import register

    register(app)


_add_service_commands()


def main() -> None:
    """Entry point of the ``forcemodel`` command."""
    app()
