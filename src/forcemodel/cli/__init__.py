"""The command line: a thin face over the Python API. It renders; it does not compute.

One module per domain adds its commands to :data:`app` (``scenario``, ``listing``, ``flow``,
``explain``, ``optimize``, ``replan``, ``sweep``, ``attack``; ``assist`` and ``capability`` on
first use; the service's ``serve`` and ``users`` come from :mod:`forcemodel.service.commands`);
:mod:`forcemodel.cli.entry` assembles them and :mod:`forcemodel.cli.common` holds what they share.
Every module imports its engine inside its commands, so that ``forcemodel --help`` stays fast.
This package only re-exports.
"""

from forcemodel.cli.common import MAX_PROBLEMS_SHOWN, err, out, user_errors
from forcemodel.cli.entry import app, main

__all__ = ["MAX_PROBLEMS_SHOWN", "app", "err", "main", "out", "user_errors"]
