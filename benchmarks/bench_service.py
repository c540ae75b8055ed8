"""Benchmark: read latency of the assistance service with 50 concurrent clients, on PostgreSQL.

Starts a throwaway PostgreSQL server (``tests/support/pg_server.py``: installed through apt when
missing, on loopback), fills a database with 5 donors' 1,000 pledges, 200 requirements and 400
allocations, runs ``forcemodel serve`` (uvicorn, one process, as shipped) on it, and lets 50
clients (threads, one keep-alive connection each, on a plain socket: ``SocketClient``) read:
one pledge, one requirement, one allocation, a page of 100 pledges (a donor's, or after a random
id: keyset pages), the caller. Paced (each client 4 reads/s on a fixed schedule) and saturated
(each client reads again as soon as it has its answer). Every request carries a token, so each
one also looks its caller up. The latency of a request is the time from when it was due to
having read and parsed its answer, measured by the client. Target: p95 under 50 ms; issue 19:
list p95 (pages of 100) under 100 ms. Each run also reports the CPU the clients, the server
process and the whole machine used over the measured seconds: the clients share the machine's
cores with the server, and on a shared machine so does everything else.

The baselines, measured in the same run with the same data and the same clients:

- **sqlite**: the same service on a SQLite file (the default deployment);
- **postgresql, no pool**: the same service on the same PostgreSQL database, but with
  SQLAlchemy's ``NullPool``: a new database connection for every session (two per request:
  the caller's lookup and the read), what a service without a connection pool pays;
- **before (REV)** (``--before REV``): the service of an earlier git revision on the same
  databases, as it shipped then (uvicorn with h11 and asyncio's loop).

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
import resource
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
from tests.support.pg_server import PostgresServer, free_port

ROOT = Path(__file__).resolve().parent.parent

TARGET_P95_MS = 50.0
#: Issue 19: list p95 (pages of 100) and read p95 with 45 matches queued, at 50 clients.
TARGET_LIST_P95_MS = 100.0
TARGET_QUEUED_P95_MS = 100.0
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


def _serve_before(url: str, port: int) -> None:
    """The service of an earlier revision (its ``src`` first on the path), as it shipped then:
    uvicorn with its pure-Python HTTP parser (h11) and asyncio's event loop."""
    import uvicorn

    from forcemodel.service import api

    app = api.create_app(url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http="h11", loop="asyncio")


def source_of(ref: str, into: Path) -> Path:
    """The ``src`` folder of git revision ``ref``, written under ``into``."""
    archive = into / "src.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


@dataclass
class Server:
    """A running service: its base URL and its process id."""

    base: str
    pid: int


@contextlib.contextmanager
def serving(
    url: str, log: Path, *, pool: bool = True, before: Path | None = None
) -> Iterator[Server]:
    """The service on the database, in a subprocess (``before``: the ``src`` of an earlier
    revision, served as it shipped then)."""
    port = free_port()
    env = dict(os.environ)
    if before is not None:
        command = [sys.executable, "-m", "benchmarks.bench_service", "--serve-before"]
        command += [url, str(port)]
        env["PYTHONPATH"] = os.pathsep.join([str(before), str(ROOT)])
    elif pool:
        command = [sys.executable, "-m", "forcemodel", "serve", "--port", str(port)]
        command += ["--database-url", url]
    else:
        command = [sys.executable, "-m", "benchmarks.bench_service", "--serve-without-pool"]
        command += [url, str(port)]
    with log.open("a") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
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
        yield Server(base, process.pid)
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


class SocketClient:
    """One keep-alive HTTP/1.1 connection on a plain socket, as light a client as Python has.

    ``http.client`` parses every answer's headers with the ``email`` package, which costs the
    shared CPU more than the server's own parsing does; this client reads only the status and
    ``Content-Length`` (every answer of the service has one) and parses the JSON body.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = f" HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
        self.buffer = b""

    def get(self, path: str) -> int:
        """GET the path; the answer's status, after its body has been read and parsed."""
        self.sock.sendall(f"GET {path}{self.head}".encode())
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._more()
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        length = next(
            int(value)
            for name, _, value in (line.partition(":") for line in lines[1:])
            if name.strip().lower() == "content-length"
        )
        begin = end + 4
        while len(self.buffer) < begin + length:
            self._more()
        json.loads(self.buffer[begin : begin + length])
        self.buffer = self.buffer[begin + length :]
        return int(lines[0].split()[1])

    def _more(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


class StdlibClient:
    """The same with ``http.client`` (``--client http.client``): what the figures before
    the socket client were measured with."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.http = HTTPConnection(host, port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> int:
        """GET the path; the answer's status, after its body has been read and parsed."""
        self.http.request("GET", path, headers=self.headers)
        response = self.http.getresponse()
        json.loads(response.read())
        return response.status

    def close(self) -> None:
        self.http.close()


CLIENTS: dict[str, type[SocketClient | StdlibClient]] = {
    "socket": SocketClient,
    "http.client": StdlibClient,
}


def _cpu_of(pid: int) -> float:
    """CPU seconds (user and system) a process and its threads have used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy so far (every core, every process)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load(
    server: Server,
    tokens: dict[str, str],
    clients: int,
    seconds: float,
    rate: float,
    client_kind: str = "socket",
) -> dict[str, Any]:
    """``clients`` threads reading for ``seconds`` (after a 2 s warm-up); latencies by kind.

    ``rate``: reads per second of each client, on a fixed schedule; a read's latency counts
    from when it was due, so a server that falls behind is not excused by clients that wait
    for it. 0: each client reads again as soon as it has its answer (saturation).
    One keep-alive connection per client (``CLIENTS``). Also measured over the same seconds:
    the CPU the clients (this process), the server and the whole machine used.
    """
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    clock = {"warm_until": 0.0, "stop_at": 0.0}
    names = list(tokens)
    host, port = server.base.removeprefix("http://").split(":")
    make = CLIENTS[client_kind]

    def client(index: int) -> None:
        rng = random.Random(index)
        mine: dict[str, list[float]] = defaultdict(list)
        http = make(host, int(port), tokens[names[index % len(names)]])
        http.get("/me")  # open the connection before the clock starts
        start.wait()
        due = time.perf_counter() + (rng.random() / rate if rate else 0.0)
        while due < clock["stop_at"]:
            kind, path = _reads(rng)
            if rate:
                time.sleep(max(0.0, due - time.perf_counter()))
            else:
                due = time.perf_counter()
            status = http.get(path)
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
    time.sleep(max(0.0, clock["warm_until"] - time.perf_counter()))
    before = (_own_cpu(), _cpu_of(server.pid), _machine_busy())
    time.sleep(max(0.0, clock["stop_at"] - time.perf_counter()))
    after = (_own_cpu(), _cpu_of(server.pid), _machine_busy())
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed reads, e.g. {errors[:3]}")
    every = [x for values in latencies.values() for x in values]
    parts = ("clients", "server", "machine")
    cpu = {k: (b - a) / seconds for k, a, b in zip(parts, before, after, strict=True)}
    return {"all": every, **latencies, "_seconds": seconds, "_cpu": cpu}


#: One read of each kind, for the CPU each costs the server (``cpu_per_read``).
EACH_KIND = {
    "GET /pledges/{id}": "/pledges/517",
    "GET /requirements/{id}": "/requirements/77",
    "GET /allocations/{id}": "/allocations/201",
    "GET /pledges?after= (page of 100)": "/pledges?after=300&limit=100",
    "GET /me": "/me",
}


def cpu_per_read(server: Server, token: str, reads: int) -> dict[str, float]:
    """The server's CPU milliseconds per read of each kind: one client, one read after another.

    CPU time, not wall time, from the kernel's count for the server process: what a read costs
    the server, whatever else the machine runs (a busy machine still inflates it somewhat:
    caches and cores are shared). The least of three batches of ``reads`` reads.
    """
    host, port = server.base.removeprefix("http://").split(":")
    client = SocketClient(host, int(port), token)
    out = {}
    for kind, path in EACH_KIND.items():
        for _ in range(20):
            client.get(path)
        batches = []
        for _ in range(3):
            start = _cpu_of(server.pid)
            for _ in range(reads):
                client.get(path)
            batches.append((_cpu_of(server.pid) - start) / reads * 1000)
        out[kind] = min(batches)
    client.close()
    return out


def interleaved_cpu(
    servers: dict[str, tuple[Server, str]], reads: int, rounds: int
) -> dict[str, dict[str, float]]:
    """The servers' CPU milliseconds per read of each kind, measured in turn (``--cpu-only``).

    Every server runs at once; each round reads ``reads`` times of each kind from each server in
    turn, so that a change in the machine's load meanwhile falls on all of them alike. The least
    over the rounds, by server and kind.
    """
    best = {name: dict.fromkeys(EACH_KIND, float("inf")) for name in servers}
    for _ in range(rounds):
        for kind, path in EACH_KIND.items():
            for name, (server, token) in servers.items():
                # A connection per batch: an idle one is closed by the server meanwhile.
                host, port = server.base.removeprefix("http://").split(":")
                client = SocketClient(host, int(port), token)
                for _ in range(10):
                    client.get(path)
                start = _cpu_of(server.pid)
                for _ in range(reads):
                    client.get(path)
                took = (_cpu_of(server.pid) - start) / reads * 1000
                best[name][kind] = min(best[name][kind], took)
                client.close()
    return best


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if values else 0.0


def _machine() -> str:
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({platform.machine()}), {platform.system()}, Python {python}"


def _table(results: dict[str, dict[str, Any]]) -> None:
    print("| | reads | reads/s | p50 ms | p95 ms | p99 ms | CPU clients | server | machine |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        every, cpu = r["all"], r["_cpu"]
        print(
            f"| {name} | {len(every)} | {len(every) / r['_seconds']:.0f} | "
            f"{_p(every, 50):.1f} | {_p(every, 95):.1f} | {_p(every, 99):.1f} | "
            f"{cpu['clients']:.2f} | {cpu['server']:.2f} | {cpu['machine']:.2f} |"
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
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also measure the service of git revision REV (same schema), as it shipped then",
    )
    parser.add_argument("--client", choices=sorted(CLIENTS), default="socket")
    parser.add_argument(
        "--cpu-reads",
        type=int,
        default=200,
        help="reads of each kind, one at a time, for the server's CPU per read (0: skip)",
    )
    parser.add_argument(
        "--cpu-only",
        action="store_true",
        help="only the server's CPU per read, this tree's and --before's servers in turn",
    )
    parser.add_argument("--cpu-rounds", type=int, default=5, help="rounds of --cpu-only")
    parser.add_argument("--serve-without-pool", nargs=2, metavar=("URL", "PORT"))
    parser.add_argument("--serve-before", nargs=2, metavar=("URL", "PORT"))
    args = parser.parse_args()
    # The service's limits are for hostile clients; these are not (45 matches by one caller).
    os.environ["FORCEMODEL_EXPENSIVE_LIMIT"] = "100000/minute"
    if args.serve_without_pool:
        _serve_without_pool(args.serve_without_pool[0], int(args.serve_without_pool[1]))
        return 0
    if args.serve_before:
        _serve_before(args.serve_before[0], int(args.serve_before[1]))
        return 0

    server = PostgresServer.start()
    version = subprocess.run(
        [str(server.bin_dir / "postgres"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    paced: dict[str, dict[str, Any]] = {}
    saturated: dict[str, dict[str, Any]] = {}
    queued: dict[str, dict[str, Any]] = {}
    left: dict[str, int] = {}
    per_read: dict[str, dict[str, float]] = {}

    def measure(service: Server, tokens: dict[str, str], rate: float) -> dict[str, Any]:
        return load(service, tokens, args.clients, args.seconds, rate, args.client)

    with tempfile.TemporaryDirectory(prefix="bench-service-") as folder:
        log = Path(folder) / "server.log"
        before = source_of(args.before, Path(folder)) if args.before else None
        try:
            pg_url = server.url(server.create_database("bench"))
            pg_tokens = fill(pg_url)
            sqlite_url = f"sqlite:///{Path(folder) / 'bench.db'}"
            sqlite_tokens = fill(sqlite_url)
            if args.cpu_only:
                if before is None:
                    parser.error("--cpu-only compares with --before REV")
                with contextlib.ExitStack() as stack:
                    servers = {
                        f"{label}{name}": (
                            stack.enter_context(serving(url, log, before=src)),
                            tokens["observer"],
                        )
                        for label, src in (("", None), (f"before ({args.before}): ", before))
                        for name, url, tokens in (
                            ("postgresql", pg_url, pg_tokens),
                            ("sqlite", sqlite_url, sqlite_tokens),
                        )
                    }
                    best = interleaved_cpu(servers, args.cpu_reads, args.cpu_rounds)
                _cpu_table(best, args.before, args.cpu_reads, args.cpu_rounds)
                return 0
            runs: list[tuple[str, str, dict[str, str], bool, Path | None]] = [
                ("postgresql (pooled, as shipped)", pg_url, pg_tokens, True, None),
                ("baseline: sqlite (as shipped)", sqlite_url, sqlite_tokens, True, None),
                ("baseline: postgresql, no pool", pg_url, pg_tokens, False, None),
            ]
            databases: list[tuple[str, str, dict[str, str], Path | None]] = [
                ("postgresql", pg_url, pg_tokens, None),
                ("sqlite", sqlite_url, sqlite_tokens, None),
            ]
            if before is not None:
                runs += [
                    (f"before ({args.before}): postgresql", pg_url, pg_tokens, True, before),
                    (f"before ({args.before}): sqlite", sqlite_url, sqlite_tokens, True, before),
                ]
                databases += [
                    (f"before ({args.before}), {name}", url, tokens, before)
                    for name, url, tokens, _ in list(databases)
                ]
            for name, url, tokens, pool, src in [] if args.only_queued else runs:
                print(f"{name}: {args.clients} clients, {args.seconds:.0f} s twice", flush=True)
                with serving(url, log, pool=pool, before=src) as service:
                    paced[name] = measure(service, tokens, args.rate)
                    saturated[name] = measure(service, tokens, 0.0)
                    if args.cpu_reads:
                        per_read[name] = cpu_per_read(service, tokens["observer"], args.cpu_reads)
            for name, url, tokens, src in databases if args.queued_matches else []:
                print(f"{name}: reads alone, then with matches queued", flush=True)
                with serving(url, log, before=src) as service:
                    queued[f"{name}: reads alone (baseline)"] = measure(service, tokens, args.rate)
                    coordinator = tokens["coordinator"]
                    jobs = _queue_matches(service.base, coordinator, args.queued_matches)
                    queued[f"{name}: reads, {args.queued_matches} matches queued"] = measure(
                        service, tokens, args.rate
                    )
                    left[name] = _still_waiting(service.base, coordinator, jobs)
        finally:
            server.stop()

    offered = args.clients * args.rate
    print()
    print(f"machine: {_machine()}; {version}; client: {args.client}")
    print(f"{args.clients} clients, each measured {args.seconds:.0f} s after a 2 s warm-up")
    print("CPU: cores busy over the measured seconds (1.00 = one core): the clients (this")
    print("process), the server process, the whole machine (PostgreSQL and all else running)")
    if args.only_queued:
        _queued_table(queued, left, args.queued_matches)
        return 0
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
        if kind.startswith("_") or kind == "all":
            continue
        print(f"| `{kind}` | {len(values)} | {_p(values, 50):.1f} | {_p(values, 95):.1f} |")
    p95 = _p(paced[first]["all"], 95)
    verdict = "meets" if p95 < TARGET_P95_MS else "misses"
    print(
        f"\np95 on PostgreSQL, paced: {p95:.1f} ms: {verdict} the target of {TARGET_P95_MS:.0f} ms"
    )
    print()
    for label, run in (("paced", paced), ("saturated", saturated)):
        for name, r in run.items():
            if "no pool" in name:
                continue
            pages = [x for kind, xs in r.items() if "page of 100" in kind for x in xs]
            p95 = _p(pages, 95)
            verdict = "meets" if p95 < TARGET_LIST_P95_MS else "misses"
            print(
                f"list p95, pages of 100, {label}, {name}: {p95:.1f} ms "
                f"({verdict} the target of {TARGET_LIST_P95_MS:.0f} ms)"
            )
    if per_read:
        print()
        print("server CPU ms per read, one client reading one after another (least of 3 x")
        print(f"{args.cpu_reads} reads of each kind):")
        print()
        names = list(per_read)
        print("| read | " + " | ".join(names) + " |")
        print("| --- |" + " ---: |" * len(names))
        for kind in EACH_KIND:
            print(f"| `{kind}` | " + " | ".join(f"{per_read[n][kind]:.2f}" for n in names) + " |")
    _queued_table(queued, left, args.queued_matches)
    return 0


def _cpu_table(best: dict[str, dict[str, float]], before: str, reads: int, rounds: int) -> None:
    print(f"machine: {_machine()}")
    print(
        f"server CPU ms per read, one client, {reads} reads of each kind from each server in "
        f"turn, least of {rounds} rounds:"
    )
    print()
    print("| read | database | this tree | before | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for kind in EACH_KIND:
        for name in ("postgresql", "sqlite"):
            now, then = best[name][kind], best[f"before ({before}): {name}"][kind]
            print(f"| `{kind}` | {name} | {now:.2f} | {then:.2f} | {now / then:.2f} |")


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
        verdict = "meets" if busy < TARGET_QUEUED_P95_MS else "misses"
        print(
            f"{name}: read p95 {busy:.1f} ms with matches queued against {alone:.1f} ms "
            f"alone (ratio {busy / alone:.2f}; {verdict} the target of "
            f"{TARGET_QUEUED_P95_MS:.0f} ms); {left[name]} matches still waiting or "
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
