"""Benchmark: read latency of the assistance service with 50 concurrent clients, on PostgreSQL.

Starts a throwaway PostgreSQL server (``tests/support/pg_server.py``: installed through apt when
missing, on loopback), fills a database with 5 donors' 1,000 pledges, 200 requirements and 400
allocations, runs ``forcemodel serve`` (uvicorn, one process, as shipped) on it, and lets 50
clients (threads, one keep-alive httpx connection each) read as fast as they can for a fixed
time: one pledge, one requirement, one allocation, a page of 100 pledges (a donor's, or after
a random id: keyset pages), the caller.
Every request carries a token, so each one also looks its caller up. The latency of a request
is the time from sending it to having read and parsed its answer, measured by the client.
Target: p95 under 50 ms.

The baselines, measured in the same run with the same data and the same clients:

- **sqlite**: the same service on a SQLite file (the default deployment);
- **postgresql, no pool**: the same service on the same PostgreSQL database, but with
  SQLAlchemy's ``NullPool``: a new database connection for every session (two per request:
  the caller's lookup and the read), what a service without a connection pool pays.

Then, on each database, the same paced reads with ``--queued-matches`` (default 45) dry-run
matches queued on the matcher (``POST /match/jobs``), against the same reads with none queued
in the same server: reads must not wait for matches (issue 19: read p95 under 100 ms).

Run: ``.venv/bin/python -m benchmarks.bench_service`` (``--help`` for clients and seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
from tests.support.pg_server import PostgresServer, free_port

ROOT = Path(__file__).resolve().parent.parent

TARGET_P95_MS = 50.0
STARTUP_TIMEOUT_S = 90.0
NATIONS = ("DE", "FR", "PL", "NL", "SE")
PLEDGES_PER_DONOR = 200
REQUIREMENTS = 200
ALLOCATIONS = 400


def _serve_without_pool(url: str, port: int) -> None:
    """The service as ``forcemodel serve`` runs it, with a new connection for every session."""
    import uvicorn
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from forcemodel.service import api
    from forcemodel.service.db import database_url

    api.make_engine = lambda u: create_engine(database_url(u), poolclass=NullPool)  # type: ignore[assignment]
    uvicorn.run(api.create_app(url), host="127.0.0.1", port=port, log_level="warning")


@contextlib.contextmanager
def serving(url: str, log: Path, *, pool: bool = True) -> Iterator[str]:
    """The service on the database, in a subprocess; its base URL."""
    port = free_port()
    if pool:
        command = [sys.executable, "-m", "forcemodel", "serve", "--port", str(port)]
        command += ["--database-url", url]
    else:
        command = [sys.executable, "-m", "benchmarks.bench_service", "--serve-without-pool"]
        command += [url, str(port)]
    with log.open("a") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def fill(url: str) -> dict[str, str]:
    """Users and records; the tokens by user name."""
    from sqlalchemy import insert

    from forcemodel.service.auth import add_user
    from forcemodel.service.db import make_engine, session_factory
    from forcemodel.service.migrate import upgrade_to_head
    from forcemodel.service.tables import (
        Allocation,
        Item,
        Pledge,
        Requirement,
        Role,
        utcnow,
    )

    engine = make_engine(url)
    upgrade_to_head(engine)
    tokens: dict[str, str] = {}
    rng = random.Random(0)
    now = utcnow()
    stamp = {"version": 1, "created_at": now, "updated_at": now}
    with session_factory(engine)() as session:
        for nation in NATIONS:
            tokens[nation] = add_user(session, f"donor-{nation}", Role.donor, nation)[1]
        tokens["observer"] = add_user(session, "observer", Role.observer, None)[1]
        tokens["coordinator"] = add_user(session, "coordinator", Role.coordinator, None)[1]
        item = {"id": "155-he", "name": "155 mm HE", "category": "ammunition"}
        session.execute(insert(Item), [{**item, "standard": "nato-155", **stamp}])
        allocated = {1 + k * 2 for k in range(ALLOCATIONS)}  # the pledges allocated below
        session.execute(
            insert(Pledge),
            [
                {"donor": nation, "item_id": "155-he", "quantity": rng.randint(10, 1000)}
                | {"available_from": now.date(), "location": "Rzeszow"}
                | {"status": "allocated" if n + 1 in allocated else "pledged"}
                | {"note": f"pledge {k} of {nation}", **stamp}
                for n, (nation, k) in enumerate(
                    (nation, k) for nation in NATIONS for k in range(PLEDGES_PER_DONOR)
                )
            ],
        )
        session.execute(
            insert(Requirement),
            [
                {"partner": "UA", "item_id": "155-he", "quantity": 10_000, "priority": 1 + k % 5}
                | {"needed_by": now.date(), "location": "Kyiv", "note": "", **stamp}
                for k in range(REQUIREMENTS)
            ],
        )
        session.execute(
            insert(Allocation),
            [
                {"pledge_id": 1 + k * 2, "requirement_id": 1 + k % REQUIREMENTS, "quantity": 1}
                | {"note": "", **stamp}
                for k in range(ALLOCATIONS)
            ],
        )
        session.commit()
    engine.dispose()
    return tokens


def _reads(rng: random.Random) -> tuple[str, str]:
    """The next read of a client: (kind, path)."""
    roll = rng.random()
    if roll < 0.35:
        return "GET /pledges/{id}", f"/pledges/{rng.randint(1, len(NATIONS) * PLEDGES_PER_DONOR)}"
    if roll < 0.55:
        return "GET /requirements/{id}", f"/requirements/{rng.randint(1, REQUIREMENTS)}"
    if roll < 0.75:
        return "GET /allocations/{id}", f"/allocations/{rng.randint(1, ALLOCATIONS)}"
    if roll < 0.80:
        return "GET /pledges?donor= (page of 100)", f"/pledges?donor={rng.choice(NATIONS)}"
    if roll < 0.90:
        after = rng.randint(0, len(NATIONS) * PLEDGES_PER_DONOR - 100)
        return "GET /pledges?after= (page of 100)", f"/pledges?after={after}&limit=100"
    return "GET /me", "/me"


def load(
    base: str, tokens: dict[str, str], clients: int, seconds: float, rate: float
) -> dict[str, Any]:
    """``clients`` threads reading for ``seconds`` (after a 2 s warm-up); latencies by kind.

    ``rate``: reads per second of each client, on a fixed schedule; a read's latency counts
    from when it was due, so a server that falls behind is not excused by clients that wait
    for it. 0: each client reads again as soon as it has its answer (saturation).
    The clients use http.client (one keep-alive connection each): lighter than httpx, so that
    on a small machine they leave the server as much of the CPU as they can.
    """
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    clock = {"warm_until": 0.0, "stop_at": 0.0}
    names = list(tokens)
    host, port = base.removeprefix("http://").split(":")

    def client(index: int) -> None:
        rng = random.Random(index)
        headers = {"Authorization": f"Bearer {tokens[names[index % len(names)]]}"}
        mine: dict[str, list[float]] = defaultdict(list)
        http = HTTPConnection(host, int(port), timeout=60)

        def get(path: str) -> int:
            http.request("GET", path, headers=headers)
            response = http.getresponse()
            json.loads(response.read())
            return response.status

        get("/me")  # open the connection before the clock starts
        start.wait()
        due = time.perf_counter() + (rng.random() / rate if rate else 0.0)
        while due < clock["stop_at"]:
            kind, path = _reads(rng)
            if rate:
                time.sleep(max(0.0, due - time.perf_counter()))
            else:
                due = time.perf_counter()
            status = get(path)
            took = time.perf_counter() - due
            if status != 200:
                with lock:
                    errors.append(f"{path}: {status}")
            if due >= clock["warm_until"]:
                mine[kind].append(took)
            due += 1.0 / rate if rate else 0.0
        http.close()
        with lock:
            for kind, values in mine.items():
                latencies[kind].extend(values)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    clock["warm_until"] = time.perf_counter() + 2.0
    clock["stop_at"] = clock["warm_until"] + seconds
    start.wait()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed reads, e.g. {errors[:3]}")
    every = [x for values in latencies.values() for x in values]
    return {"all": every, **latencies, "_seconds": seconds}


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if values else 0.0


def _machine() -> str:
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({platform.machine()}), {platform.system()}, Python {python}"


def _table(results: dict[str, dict[str, Any]]) -> None:
    print("| | reads | reads/s | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        every = r["all"]
        print(
            f"| {name} | {len(every)} | {len(every) / r['_seconds']:.0f} | "
            f"{_p(every, 50):.1f} | {_p(every, 95):.1f} | {_p(every, 99):.1f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=4.0, help="reads/s of each client, paced")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured, after 2 s warm-up")
    parser.add_argument(
        "--queued-matches",
        type=int,
        default=45,
        help="matches queued while reads are measured again (0: skip that part)",
    )
    parser.add_argument(
        "--only-queued", action="store_true", help="measure only reads with matches queued"
    )
    parser.add_argument("--serve-without-pool", nargs=2, metavar=("URL", "PORT"))
    args = parser.parse_args()
    # The service's limits are for hostile clients; these are not (45 matches by one caller).
    os.environ["FORCEMODEL_EXPENSIVE_LIMIT"] = "100000/minute"
    if args.serve_without_pool:
        _serve_without_pool(args.serve_without_pool[0], int(args.serve_without_pool[1]))
        return 0

    server = PostgresServer.start()
    version = subprocess.run(
        [str(server.bin_dir / "postgres"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    paced: dict[str, dict[str, Any]] = {}
    saturated: dict[str, dict[str, Any]] = {}
    queued: dict[str, dict[str, Any]] = {}
    left: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-service-") as folder:
        log = Path(folder) / "server.log"
        try:
            pg_url = server.url(server.create_database("bench"))
            pg_tokens = fill(pg_url)
            sqlite_url = f"sqlite:///{Path(folder) / 'bench.db'}"
            sqlite_tokens = fill(sqlite_url)
            runs: list[tuple[str, str, dict[str, str], bool]] = [
                ("postgresql (pooled, as shipped)", pg_url, pg_tokens, True),
                ("baseline: sqlite (as shipped)", sqlite_url, sqlite_tokens, True),
                ("baseline: postgresql, no pool", pg_url, pg_tokens, False),
            ]
            for name, url, tokens, pool in [] if args.only_queued else runs:
                print(f"{name}: {args.clients} clients, {args.seconds:.0f} s twice", flush=True)
                with serving(url, log, pool=pool) as base:
                    paced[name] = load(base, tokens, args.clients, args.seconds, args.rate)
                    saturated[name] = load(base, tokens, args.clients, args.seconds, 0.0)
            if args.queued_matches:
                for name, url, tokens in (
                    ("postgresql", pg_url, pg_tokens),
                    ("sqlite", sqlite_url, sqlite_tokens),
                ):
                    print(f"{name}: reads alone, then with matches queued", flush=True)
                    with serving(url, log) as base:
                        queued[f"{name}: reads alone (baseline)"] = load(
                            base, tokens, args.clients, args.seconds, args.rate
                        )
                        jobs = _queue_matches(base, tokens["coordinator"], args.queued_matches)
                        queued[f"{name}: reads, {args.queued_matches} matches queued"] = load(
                            base, tokens, args.clients, args.seconds, args.rate
                        )
                        left[name] = _still_waiting(base, tokens["coordinator"], jobs)
        finally:
            server.stop()

    offered = args.clients * args.rate
    if args.only_queued:
        _queued_table(queued, left, args.queued_matches)
        return 0
    print()
    print(f"machine: {_machine()}; {version}")
    print(f"{args.clients} clients, each measured {args.seconds:.0f} s after a 2 s warm-up")
    print()
    print(f"paced: each client {args.rate:g} reads/s ({offered:.0f} reads/s offered):")
    print()
    _table(paced)
    print()
    print("saturated: each client reads again as soon as it has its answer:")
    print()
    _table(saturated)
    print()
    first = next(iter(paced))
    print(f"by read, paced, {first}:")
    print()
    print("| read | count | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: |")
    for kind, values in sorted(paced[first].items()):
        if kind in ("all", "_seconds"):
            continue
        print(f"| `{kind}` | {len(values)} | {_p(values, 50):.1f} | {_p(values, 95):.1f} |")
    p95 = _p(paced[first]["all"], 95)
    verdict = "meets" if p95 < TARGET_P95_MS else "misses"
    print(
        f"\np95 on PostgreSQL, paced: {p95:.1f} ms: {verdict} the target of {TARGET_P95_MS:.0f} ms"
    )
    for name in ("postgresql", "sqlite"):
        pages = [
            x
            for run in (paced, saturated)
            for key, r in run.items()
            if name in key and "no pool" not in key
            for kind, xs in r.items()
            if "page of 100" in kind
            for x in xs
        ]
        print(f"list p95, pages of 100, {name} (paced and saturated): {_p(pages, 95):.1f} ms")
    _queued_table(queued, left, args.queued_matches)
    return 0


def _queued_table(queued: dict[str, dict[str, Any]], left: dict[str, int], count: int) -> None:
    if not queued:
        return
    print()
    print(f"reads while {count} matches are queued (paced, as above):")
    print()
    _table(queued)
    for name in left:
        alone = _p(queued[f"{name}: reads alone (baseline)"]["all"], 95)
        busy = _p(queued[f"{name}: reads, {count} matches queued"]["all"], 95)
        print(
            f"{name}: read p95 {busy:.1f} ms with matches queued against {alone:.1f} ms "
            f"alone (ratio {busy / alone:.2f}); {left[name]} matches still waiting or "
            "running when the reads ended"
        )


def _queue_matches(base: str, token: str, count: int) -> list[str]:
    """Queue ``count`` dry-run matches (POST /match/jobs); their job ids."""
    headers = {"Authorization": f"Bearer {token}"}
    ids = []
    for _ in range(count):
        response = httpx.post(f"{base}/match/jobs", headers=headers, timeout=60)
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids


def _still_waiting(base: str, token: str, ids: list[str]) -> int:
    """How many of the jobs had not finished (so the reads measured ran beside them)."""
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [
        httpx.get(f"{base}/match/jobs/{i}", headers=headers, timeout=60).json()["status"]
        for i in ids
    ]
    return sum(status in ("queued", "running") for status in statuses)


if __name__ == "__main__":
    raise SystemExit(main())
