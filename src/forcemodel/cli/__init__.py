"""The command line: a thin face over the Python API. It renders; it does not compute.

One module per domain adds its commands to :data:`app` (``scenario``, ``listing``, ``flow``,
``explain``, ``optimize``, ``replan``; ``assist`` on first use; the service's ``serve`` and
``users`` come from :mod:`forcemodel.service.commands`); :mod:`forcemodel.cli.common` holds
what they share. Every module imports its engine inside its commands, so that
``forcemodel --help`` stays fast.
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
from forcemodel.cli.common import MAX_PROBLEMS_SHOWN, err, out, user_errors
from forcemodel.cli.replan import replan_cmd

__all__ = ["MAX_PROBLEMS_SHOWN", "app", "err", "main", "out", "user_errors"]
_COMMANDS = (scenario, listing, flow, explain, optimize)
app.command("replan")(replan_cmd)
# ``assist`` and ``capability`` are registered lazily (forcemodel.cli.app.LAZY): they load engines.


def _add_service_commands() -> None:
    """``forcemodel serve`` and ``forcemodel users``: the assistance service."""
    from forcemodel.service.commands import register

    register(app)


_add_service_commands()


def main() -> None:
    """Entry point of the ``forcemodel`` command."""
    app()
