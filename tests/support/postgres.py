"""Pytest plugin: the service's tests run on SQLite and on a real PostgreSQL server.

The ``postgres`` session fixture installs PostgreSQL through apt when it is missing and starts a
throwaway server on loopback (``tests/support/pg_server.py``), once per session and only when a test
asks for it. In CI (``CI`` set) a server that cannot be installed or started fails the tests
loudly; elsewhere (a laptop without root or apt) the PostgreSQL cases are skipped with the
reason. ``-m "not postgresql"`` leaves them out.

Each test that takes ``database_url`` gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.pg_server import PostgresServer, PostgresUnavailable

#: The database backends a service test runs on.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: runs on the PostgreSQL server that the test setup starts"
    )


def in_ci() -> bool:
    """Whether we run in CI, where nothing may be skipped."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (installed when missing, removed afterwards)."""
    try:
        # fsync off: these tests kill the service, never PostgreSQL or the machine, so what
        # PostgreSQL acknowledged survives without flushing it to disk; the tests run faster.
        server = PostgresServer.start(settings={"fsync": "off"})
    except PostgresUnavailable as exc:
        if in_ci():
            pytest.fail(f"CI needs PostgreSQL and it could not be started: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL is not available here: {exc}")
    yield server
    server.stop()


def new_database(
    backend: str, request: pytest.FixtureRequest, folder: Path, name: str = "service"
) -> Iterator[str]:
    """Yield the URL of a fresh database of the backend; dropped (or left to tmp) afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    with server.database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of the test: sqlite or postgresql."""
    value: str = request.param
    return value


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on the test's backend."""
    yield from new_database(backend, request, tmp_path)


def database_kind(url: str) -> str:
    """'sqlite' or 'postgresql', from a URL."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"
