"""``import forcemodel.assist`` loads neither Numba nor the flow core, the optimiser or the
scenario loader: the matcher takes its solver plumbing from forcemodel.mip and its located
reading and field types from forcemodel.common.

The package ``forcemodel/__init__.py`` is not run here (it re-exports the engines; making it
lazy is its own change): a fresh interpreter registers the package by its path alone, imports
``forcemodel.assist`` and lists what came with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import forcemodel

PROBE = """
import importlib.util, json, sys, types
pkg = types.ModuleType("forcemodel")
pkg.__path__ = [{path!r}]
sys.modules["forcemodel"] = pkg
import forcemodel.assist
print(json.dumps(sorted(sys.modules)))
"""

FORBIDDEN = (
    "numba",
    "forcemodel.flow",
    "forcemodel.optimize",
    "forcemodel.scenario",
    "forcemodel.network",
    "forcemodel.assessment",
    "forcemodel.report",
)


def test_the_assist_package_imports_no_engine_of_another_domain() -> None:
    path = str(Path(forcemodel.__file__).parent)
    got = subprocess.run(
        [sys.executable, "-c", PROBE.format(path=path)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(got.stdout.splitlines()[-1])
    assert "forcemodel.assist.solve" in loaded
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []
