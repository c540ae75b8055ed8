"""A task for the remote cancel's test: it reports progress until it is told to stop.

The Dask workers import forcemodel only: the test sends this module by value (cloudpickle).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

#: Progress lines the task reports at most (it is cancelled long before).
STEPS = 100_000


def endless(say: Callable[[str], None], folder: Path) -> None:
    """Report ``step 0``, ``step 1``, ... until ``say`` raises; then results, never reached."""
    for i in range(STEPS):
        say(f"step {i}")
        time.sleep(0.01)
    (folder / "results").mkdir()
