"""A backup taken while 50 clients write restores to a database that passes every check.

PostgreSQL, as docs/service.md ("Deployment") tells operators to do it: ``pg_dump
--format=custom`` while the load of test_service_http.py runs, ``pg_restore`` into an empty
database, then the consistency checks of the load (every row as its last audit entry, versions
without gaps, no allocation beyond its pledge or requirement) on the restored one, with every
write acknowledged before the dump began present. A write answered after that may or may not be
in the backup (its commit may have come before the dump's snapshot), but at most once.
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import make_url
from test_service_http import (
    REQUEST_TIMEOUT_S,
    Write,
    check_consistency,
    make_shared_records,
    make_users,
    run_client,
    serving,
)

from support.pg_server import SUPERUSER, PostgresServer

#: Writes acknowledged before the backup starts; then the load goes on during it.
BEFORE_BACKUP = 300
WRITES_PER_CLIENT = 20


def _database(url: str) -> str:
    name = make_url(url).database
    assert name is not None
    return name


def _pg(server: PostgresServer, program: str, *args: str) -> None:
    connection = ["--host", "127.0.0.1", "--port", str(server.port), "--username", SUPERUSER]
    subprocess.run(
        [str(server.bin_dir / program), *connection, *args],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.postgresql
def test_a_backup_taken_during_writes_restores_every_acknowledged_write(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dump = tmp_path / "forcemodel.dump"
    with postgres.database() as url:
        world = make_users(url)
        with serving(url, tmp_path / "server.log") as server:
            make_shared_records(server.base, world, url)
            out: list[Write] = []
            errors: list[str] = []
            acknowledged = threading.Semaphore(0)
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=run_client,
                    args=(server.base, c, world, WRITES_PER_CLIENT, out, acknowledged, stop),
                    kwargs={"seed": c.index, "prefix": "", "errors": errors},
                )
                for c in world.clients
            ]
            for thread in threads:
                thread.start()
            for _ in range(BEFORE_BACKUP):
                assert acknowledged.acquire(timeout=REQUEST_TIMEOUT_S), "the load stalled"
            answered_before = len(out)  # every write answered so far committed before the dump
            _pg(postgres, "pg_dump", "--format=custom", f"--file={dump}", _database(url))
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT_S * 5)
                assert not thread.is_alive(), "a client hung"
            assert not errors, errors[:5]
    # Answered after the dump began: in the backup or not (as if unanswered), at most once.
    writes = [
        w if i < answered_before else dataclasses.replace(w, status=None) for i, w in enumerate(out)
    ]
    assert sum(w.acknowledged for w in writes) >= BEFORE_BACKUP
    with postgres.database("restored") as restored:
        _pg(
            postgres,
            "pg_restore",
            "--exit-on-error",
            "--no-owner",
            "--dbname",
            _database(restored),
            str(dump),
        )
        counts = check_consistency(restored, world, writes)
    assert counts.get("no answer", 0) > 0  # the load went on while the dump was taken
