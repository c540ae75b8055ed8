"""Fixtures of the web tests (helpers in web_site.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_site import Site, start_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """A site of one's own: users of every role and a few records."""
    yield start_site(tmp_path, monkeypatch)


# A real Dask scheduler and two workers as separate processes on loopback: the sweep tests'
# fixture, shared (not copied) with the dashboard's runs on the cluster.
from sweep.conftest import dask_cluster as dask_cluster  # noqa: E402
