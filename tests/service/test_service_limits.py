"""The service's limits over real HTTP: ``forcemodel serve`` in a subprocess, as deployed.

A 200 MB body sent without a token is refused unread (the server's memory stays flat and it
keeps answering); a removed user's token is refused at once by every server process on the
database, not only by the one that was told.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_service_http import ServiceProcess, serving

from forcemodel.service.auth import add_user
from forcemodel.service.db import make_engine, session_factory
from forcemodel.service.migrate import upgrade_to_head
from forcemodel.service.tables import Role

MIB = 1024 * 1024
#: What the server may grow by while a 200 MB body is refused ("a few MiB").
GROWTH_MIB = 8


def _rss_mib(server: ServiceProcess) -> float:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _chunks(total: int) -> Iterator[bytes]:
    chunk = b" " * MIB  # white space: a JSON parser would read on
    for _ in range(total // MIB):
        yield chunk


def _send(url: str, headers: dict[str, str]) -> int | None:
    """POST 200 MB; the status, or None when the server closed the connection first."""
    try:
        response = httpx.post(url, content=_chunks(200 * MIB), headers=headers, timeout=120)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        return None
    return response.status_code


@pytest.mark.slow
def test_a_200_mb_body_is_refused_unread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    with serving(url, tmp_path / "server.log", FORCEMODEL_MAX_BODY_BYTES=str(MIB)) as server:
        health = f"{server.base}/health"
        for _ in range(3):  # settle the allocator before measuring
            assert httpx.get(health, timeout=30).status_code == 200
        before = _rss_mib(server)
        json_headers = {"Content-Type": "application/json"}
        declared = {**json_headers, "Content-Length": str(200 * MIB)}
        # Declared length: refused before a byte of the body is read.
        assert _send(f"{server.base}/pledges", declared) in (413, None)
        # Chunked, no length: refused once the bytes read pass the limit (1 MiB here).
        assert _send(f"{server.base}/pledges", json_headers) in (413, None)
        response = httpx.post(
            f"{server.base}/pledges", content=b"x" * (2 * MIB), headers=json_headers, timeout=60
        )
        assert response.status_code == 413
        assert "larger than the service takes" in response.json()["detail"]
        assert httpx.get(health, timeout=30).status_code == 200
        grown = _rss_mib(server) - before
        assert grown < GROWTH_MIB, f"the server grew by {grown:.1f} MiB"


@pytest.mark.slow
def test_a_removed_token_is_refused_by_every_server_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with session_factory(engine)() as session:
        token = add_user(session, "leaver", Role.observer, None)[1]
    engine.dispose()
    auth = {"Authorization": f"Bearer {token}"}
    with (
        serving(url, tmp_path / "one.log") as one,
        serving(url, tmp_path / "two.log") as two,
    ):
        for server in (one, two):
            assert httpx.get(f"{server.base}/me", headers=auth, timeout=30).status_code == 200
        subprocess.run(
            [
                sys.executable,
                "-m",
                "forcemodel",
                "users",
                "remove",
                "leaver",
                "--database-url",
                url,
            ],
            check=True,
            capture_output=True,
        )
        for server in (one, two):
            assert httpx.get(f"{server.base}/me", headers=auth, timeout=30).status_code == 401
