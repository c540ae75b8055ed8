"""Shared fixtures: the tiny scenario as data, writers of scenarios, hypothesis profiles.

The helpers themselves live in ``support/`` (importable as ``support.scenarios``).
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from support.scenarios import TINY_TEXT, Writer, tiny_raw


def _consoles_follow_their_environment() -> None:
    """Make the CLI's rich consoles with no COLUMNS or LINES set.

    A console made while COLUMNS is set keeps that width for good, and pytest-xdist's workers
    run with COLUMNS=80: made here without it, each command's width follows the environment it
    runs in (the doc tests set it), whichever test first imports the CLI, in whatever order.
    """
    saved = {k: os.environ.pop(k) for k in ("COLUMNS", "LINES") if k in os.environ}
    try:
        importlib.import_module("forcemodel.cli.common")
    finally:
        os.environ.update(saved)


_consoles_follow_their_environment()

pytest_plugins = ["support.postgres"]  # the service tests' databases: SQLite and PostgreSQL

# CI: reproducible examples, a modest number of them, no deadline (the machine is shared).
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Hunting for bugs: pytest --hypothesis-profile=thorough tests/scenario/test_properties.py
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def tiny_data() -> dict[str, Any]:
    """The tiny scenario's raw data (as YAML reads it); a fresh copy for each test."""
    return tiny_raw()


@pytest.fixture
def tiny_text() -> str:
    """The text of tiny.yaml."""
    return TINY_TEXT


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """Writer of scenario files and folders under this test's tmp_path."""
    return Writer(tmp_path)


@pytest.fixture(scope="session")
def session_writer() -> Iterator[Writer]:
    """A writer whose folder lives for the session: for hypothesis tests (no function fixture)."""
    with tempfile.TemporaryDirectory(prefix="forcemodel-tests-") as root:
        yield Writer(Path(root))
