"""The service over real HTTP: 50 concurrent clients, a SIGKILL in the middle, and a fuzzer.

Each test runs ``forcemodel serve`` (uvicorn) in a subprocess on a free loopback port, on SQLite
and on PostgreSQL (``support.postgres``), and talks to it with httpx clients in threads: sockets,
threads and processes as in a deployment, not an in-process test client.

The load: 40 donor clients (8 for each of 5 nations) create pledges and race to edit their
nation's shared pledges; 10 coordinator clients allocate the shared pledges and race to edit
shared allocations; every edit names the version its client has just read. Every write carries
a unique tag in its ``note``, so the audit log and the rows tell which writes landed.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from forcemodel.service.auth import add_user
from forcemodel.service.db import make_engine, session_factory
from forcemodel.service.migrate import upgrade_to_head
from forcemodel.service.tables import Allocation, AuditEntry, Pledge, Requirement, Role
from support.pg_server import free_port
from support.postgres import BACKENDS, new_database

#: Seconds a server may take to start answering (a loaded 2-core CI machine, a cold import).
STARTUP_TIMEOUT_S = 90.0
#: Seconds one request may take before the client gives up (generous: 50 clients, 2 cores).
REQUEST_TIMEOUT_S = 60.0

SERVE = [sys.executable, "-m", "forcemodel", "serve"]
UNLIMITED_ENV = {
    "FORCEMODEL_AUTH_FAILURE_LIMIT": "1000000/minute",
    "FORCEMODEL_EXPENSIVE_LIMIT": "1000000/minute",
}
NATIONS = ("DE", "FR", "PL", "NL", "SE")
DONORS_PER_NATION = 8
COORDINATORS = 10
CLIENTS = len(NATIONS) * DONORS_PER_NATION + COORDINATORS  # 50
WRITES_PER_CLIENT = 40  # 2,000 writes in all
SHARED_PLEDGES_PER_NATION = 3
REQUIREMENTS = 10


# --- the server in a subprocess -------------------------------------------------------------


class ServiceProcess:
    """``forcemodel serve`` on a database, in a subprocess, on a free loopback port."""

    def __init__(self, database_url: str, log_path: Path, **env: str) -> None:
        self.database_url = database_url
        self.log_path = log_path
        # Limits far above what the load and the fuzzer send, unless a test sets its own.
        self.env = {**os.environ, **UNLIMITED_ENV, **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self) -> ServiceProcess:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [*SERVE, "--port", str(port), "--database-url", self.database_url],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return self
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start in time:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, no closing of connections."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


@contextlib.contextmanager
def serving(database_url: str, log_path: Path, **env: str) -> Iterator[ServiceProcess]:
    server = ServiceProcess(database_url, log_path, **env).start()
    try:
        yield server
    finally:
        server.stop()


# --- the users and the shared records -------------------------------------------------------


@dataclass
class Client:
    """One of the 50 clients: a user with a token."""

    index: int
    name: str
    role: Role
    nation: str | None
    token: str


@dataclass
class World:
    """The users, and the records the clients race on."""

    clients: list[Client]
    coordinator: str  # a coordinator's token, for the setup
    partner: str
    shared_pledges: dict[str, list[int]] = field(default_factory=dict)  # nation -> ids
    shared_allocations: list[int] = field(default_factory=list)
    requirements: list[int] = field(default_factory=list)
    audit_watermark: int = 0  # the last audit entry of the setup


def make_users(database_url: str) -> World:
    """Migrate the database and add the users (before the server starts)."""
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    clients: list[Client] = []
    with session_factory(engine)() as session:
        for nation in NATIONS:
            for k in range(DONORS_PER_NATION):
                name = f"donor-{nation}-{k}"
                token = add_user(session, name, Role.donor, nation)[1]
                clients.append(Client(len(clients), name, Role.donor, nation, token))
        for k in range(COORDINATORS):
            name = f"coordinator-{k}"
            token = add_user(session, name, Role.coordinator, None)[1]
            clients.append(Client(len(clients), name, Role.coordinator, None, token))
        partner = add_user(session, "partner-UA", Role.partner, "UA")[1]
    engine.dispose()
    coordinator = next(c.token for c in clients if c.role is Role.coordinator)
    return World(clients, coordinator, partner)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()
    return data


def make_shared_records(base: str, world: World, database_url: str) -> None:
    """The item, requirements, shared pledges and allocations the clients race on.

    Every shared pledge is allocated once here, so it is ``allocated`` before the load: an
    allocation made during the load changes no pledge's status, and each write of the load is
    then exactly one audited change.
    """

    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as http:
        item = {"id": "155-he", "name": "155 mm HE", "category": "ammunition"}
        _ok(
            http.post(
                "/items", json={**item, "standard": "nato-155"}, headers=auth(world.coordinator)
            )
        )
        for k in range(REQUIREMENTS):
            body = {"item_id": "155-he", "quantity": 2000, "priority": 1 + k % 5}
            body |= {"needed_by": "2027-01-01", "location": "Kyiv", "note": "setup"}
            world.requirements.append(
                _ok(http.post("/requirements", json=body, headers=auth(world.partner)))["id"]
            )
        for nation in NATIONS:
            owner = next(c for c in world.clients if c.nation == nation)
            for _ in range(SHARED_PLEDGES_PER_NATION):
                body = {"item_id": "155-he", "quantity": 400, "available_from": "2026-06-01"}
                body |= {"location": "Rzeszow", "note": "setup"}
                pledge = _ok(http.post("/pledges", json=body, headers=auth(owner.token)))
                world.shared_pledges.setdefault(nation, []).append(pledge["id"])
                body = {"pledge_id": pledge["id"], "requirement_id": world.requirements[0]}
                body |= {"quantity": 10, "note": "setup"}
                allocation = _ok(
                    http.post("/allocations", json=body, headers=auth(world.coordinator))
                )
                world.shared_allocations.append(allocation["id"])
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        world.audit_watermark = (
            session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
        )
    engine.dispose()


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Write:
    """One write of the load and what became of it."""

    tag: str
    kind: str  # create pledge, edit pledge, allocate, edit allocation
    entity: str  # pledge, allocation
    row_id: int | None  # the row edited; for a creation, the id in the answer
    status: int | None = None  # None: no answer (the server was killed)
    version: int | None = None  # the version in the answer
    detail: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


#: What each kind of write may be answered; 422 only where a quantity would be overdrawn.
EXPECTED = {
    "create pledge": {201},
    "edit pledge": {200, 409, 422},  # 422: below what is allocated already
    "edit own pledge": {200},
    "allocate": {201, 422},  # 422: more than the pledge has left
    "edit allocation": {200, 409, 422},
}


def run_client(
    base: str,
    client: Client,
    world: World,
    writes: int,
    out: list[Write],
    acknowledged: threading.Semaphore | None,
    stop: threading.Event,
    seed: int,
    prefix: str,
    errors: list[str],
) -> None:
    """Make ``writes`` writes; stop at the first request without an answer.

    Anything unexpected (an answer that is not JSON, a failed read) goes to ``errors``.
    """
    try:
        _run_client(base, client, world, writes, out, acknowledged, stop, seed, prefix)
    except Exception as exc:
        errors.append(f"{client.name}: {exc!r}")


def _run_client(
    base: str,
    client: Client,
    world: World,
    writes: int,
    out: list[Write],
    acknowledged: threading.Semaphore | None,
    stop: threading.Event,
    seed: int,
    prefix: str,
) -> None:
    rng = random.Random(seed)
    mine: list[int] = []  # pledges this client created
    headers = {"Authorization": f"Bearer {client.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT_S) as http:
        for k in range(writes):
            if stop.is_set():
                return
            tag = f"{prefix}c{client.index:02d}-w{k:03d}"
            try:
                write, request = _next_write(http, client, world, rng, tag, mine)
            except httpx.TransportError:
                return  # the server is gone before this write was sent
            try:
                response = request()
            except httpx.TransportError as exc:
                write.detail = repr(exc)
                out.append(write)  # sent, but no answer: it may or may not have landed
                return
            write.status = response.status_code
            json = response.headers.get("content-type", "").startswith("application/json")
            body = response.json() if json else {"detail": response.text}
            if write.acknowledged:
                write.version = body["version"]
                if write.row_id is None:
                    write.row_id = body["id"]
                if write.kind == "create pledge":
                    mine.append(body["id"])
                if acknowledged is not None:
                    acknowledged.release()
            else:
                write.detail = str(body.get("message") or body.get("detail"))
            out.append(write)


def _next_write(
    http: httpx.Client,
    client: Client,
    world: World,
    rng: random.Random,
    tag: str,
    mine: list[int],
) -> tuple[Write, Any]:
    """The next write of a client, and a function that sends it; reads what it edits first."""
    if client.role is Role.donor:
        assert client.nation is not None
        roll = rng.random()
        if roll < 0.3 or (roll < 0.45 and not mine):
            body = {"item_id": "155-he", "quantity": rng.randint(1, 100)}
            body |= {"available_from": "2026-09-01", "location": "Gdansk", "note": tag}
            return Write(tag, "create pledge", "pledge", None), lambda: http.post(
                "/pledges", json=body
            )
        if roll < 0.45:
            pledge_id = rng.choice(mine)
            current = _ok(http.get(f"/pledges/{pledge_id}"))
            body = {"note": tag, "location": rng.choice(["Gdansk", "Rostock"])}
            body["version"] = current["version"]
            return Write(tag, "edit own pledge", "pledge", pledge_id), lambda: http.patch(
                f"/pledges/{pledge_id}", json=body
            )
        pledge_id = rng.choice(world.shared_pledges[client.nation])
        current = _ok(http.get(f"/pledges/{pledge_id}"))
        body = {"note": tag, "quantity": rng.randint(60, 450), "version": current["version"]}
        return Write(tag, "edit pledge", "pledge", pledge_id), lambda: http.patch(
            f"/pledges/{pledge_id}", json=body
        )
    if rng.random() < 0.5:
        nation = rng.choice(NATIONS)
        body = {
            "pledge_id": rng.choice(world.shared_pledges[nation]),
            "requirement_id": rng.choice(world.requirements),
            "quantity": rng.randint(1, 40),
            "note": tag,
        }
        return Write(tag, "allocate", "allocation", None), lambda: http.post(
            "/allocations", json=body
        )
    allocation_id = rng.choice(world.shared_allocations)
    current = _ok(http.get(f"/allocations/{allocation_id}"))
    body = {"note": tag, "quantity": rng.randint(1, 60)}
    headers = {"If-Match": f'"{current["version"]}"'}
    return Write(tag, "edit allocation", "allocation", allocation_id), lambda: http.patch(
        f"/allocations/{allocation_id}", json=body, headers=headers
    )


def run_load(
    base: str,
    world: World,
    writes_per_client: int,
    *,
    clients: list[Client] | None = None,
    kill_after: int | None = None,
    server: ServiceProcess | None = None,
    prefix: str = "",
) -> list[Write]:
    """Every client in its own thread, all at once; SIGKILL the server after ``kill_after``
    acknowledged writes when asked."""
    out: list[Write] = []
    errors: list[str] = []
    stop = threading.Event()
    acknowledged = threading.Semaphore(0) if kill_after is not None else None
    threads = [
        threading.Thread(
            target=run_client,
            args=(
                *(base, c, world, writes_per_client, out, acknowledged, stop, c.index, prefix),
                errors,
            ),
            name=f"client-{c.index}",
        )
        for c in clients or world.clients
    ]
    for thread in threads:
        thread.start()
    if kill_after is not None:
        assert acknowledged is not None and server is not None
        for _ in range(kill_after):
            assert acknowledged.acquire(timeout=REQUEST_TIMEOUT_S), "the load stalled"
        server.kill()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S * 5)
        assert not thread.is_alive(), "a client hung"
    assert not errors, errors[:5]
    return out


# --- what must hold afterwards ---------------------------------------------------------------


def _tag(entry: AuditEntry) -> str | None:
    row = entry.after if entry.after is not None else entry.before
    return None if row is None else row.get("note")


def check_consistency(database_url: str, world: World, writes: list[Write]) -> dict[str, int]:
    """Every acknowledged write there once, every refused one absent, versions without gaps,
    one audit entry per change, no allocation beyond its pledge or its requirement.

    Writes without an answer (the server was killed) may have landed or not, but at most once.
    Returns counts by outcome.
    """
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            _check(session, world, writes)
    finally:
        engine.dispose()
    return dict(Counter("no answer" if w.status is None else str(w.status) for w in writes))


def _check(session: Session, world: World, writes: list[Write]) -> None:
    # Answers: only the expected ones; never a 500.
    for w in writes:
        assert w.status is None or w.status in EXPECTED[w.kind], (w, EXPECTED[w.kind])
        if w.status == 422:
            assert "exceeds" in w.detail or "below the" in w.detail, w
        if w.status == 409:
            assert "changed since you read it" in w.detail, w
    by_tag = {w.tag: w for w in writes}
    assert len(by_tag) == len(writes)

    audit = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    load_entries = [e for e in audit if e.id > world.audit_watermark]
    # One audit entry per acknowledged change: each entry of the load is one write of ours...
    tags = Counter(_tag(e) for e in load_entries)
    assert all(tag in by_tag for tag in tags), [t for t in tags if t not in by_tag]
    assert max(tags.values(), default=0) <= 1, tags.most_common(3)
    entry_of = {_tag(e): e for e in load_entries}
    for w in writes:
        entry = entry_of.get(w.tag)
        if w.acknowledged:
            # ...and each acknowledged write has its entry, for its row and its new version.
            assert entry is not None, f"acknowledged but not stored: {w}"
            assert (entry.entity, entry.entity_id) == (w.entity, str(w.row_id)), (w, entry)
            assert entry.after is not None and entry.after["version"] == w.version, (w, entry)
            assert entry.action == (
                "create" if w.kind in ("create pledge", "allocate") else "update"
            )
        elif w.status is not None:
            assert entry is None, f"refused ({w.status}) but stored: {w}"
    assert not [e for e in audit if e.action == "delete"]

    # Every row: one creation, versions 1..n in the log without gaps, and the row as last logged.
    tables: dict[str, Any] = {
        "pledge": Pledge,
        "allocation": Allocation,
        "requirement": Requirement,
    }
    history: dict[tuple[str, str], list[AuditEntry]] = defaultdict(list)
    for e in audit:
        if e.entity in tables:
            history[e.entity, e.entity_id].append(e)
    for entity, model in tables.items():
        rows = {str(r.id): r for r in session.scalars(select(model))}
        logged = {key for (kind, key) in history if kind == entity}
        assert set(rows) == logged, (entity, set(rows) ^ logged)
        for key, row in rows.items():
            entries = history[entity, key]
            assert entries[0].action == "create"
            versions = [e.after["version"] for e in entries if e.after is not None]
            assert versions == list(range(1, len(entries) + 1)), (entity, key, versions)
            befores = [None if e.before is None else e.before["version"] for e in entries]
            assert befores == [None, *versions[:-1]], (entity, key, befores)
            last = entries[-1].after
            assert last is not None
            assert (row.version, row.note, row.quantity) == (
                last["version"],
                last["note"],
                last["quantity"],
            ), (entity, key)
    # Refused writes left nothing: no row holds their tag.
    notes = {r.note for model in tables.values() for r in session.scalars(select(model))}
    refused = {w.tag for w in writes if w.status is not None and not w.acknowledged}
    assert not notes & refused

    # No pledge gives, and no requirement receives, more than its quantity.
    given: Counter[int] = Counter()
    received: Counter[int] = Counter()
    for a in session.scalars(select(Allocation)):
        given[a.pledge_id] += a.quantity
        received[a.requirement_id] += a.quantity
    for p in session.scalars(select(Pledge)):
        assert given[p.id] <= p.quantity, (p.id, given[p.id], p.quantity)
    for r in session.scalars(select(Requirement)):
        assert received[r.id] <= r.quantity, (r.id, received[r.id], r.quantity)


def sqlite_integrity(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("PRAGMA integrity_check")).scalar())
    finally:
        engine.dispose()


# --- the tests --------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def load_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database(request.param, request, tmp_path)


@pytest.mark.slow
def test_50_clients_race_and_no_write_is_lost_or_doubled(
    load_database: str, tmp_path: Path
) -> None:
    world = make_users(load_database)
    with serving(load_database, tmp_path / "server.log") as server:
        make_shared_records(server.base, world, load_database)
        started = time.monotonic()
        writes = run_load(server.base, world, WRITES_PER_CLIENT)
        elapsed = time.monotonic() - started
        counts = check_consistency(load_database, world, writes)
    assert len(writes) == CLIENTS * WRITES_PER_CLIENT == 2000
    assert "no answer" not in counts, server.log()
    # The race was real: some edits were stale, and the rest were not all refused.
    assert counts.get("409", 0) > 0 and counts.get("200", 0) > 0, counts
    print(f"{len(writes)} writes in {elapsed:.1f} s: {counts}")


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_write(load_database: str, tmp_path: Path) -> None:
    world = make_users(load_database)
    log = tmp_path / "server.log"
    server = ServiceProcess(load_database, log).start()
    try:
        make_shared_records(server.base, world, load_database)
        # Kill it about a third of the way through the 2,000 writes.
        writes = run_load(server.base, world, WRITES_PER_CLIENT, kill_after=600, server=server)
    finally:
        server.stop()
    unanswered = [w for w in writes if w.status is None]
    assert sum(w.acknowledged for w in writes) >= 600
    if load_database.startswith("sqlite"):
        assert sqlite_integrity(load_database) == "ok"
    # Restarted on the same database, it holds every acknowledged write and goes on working.
    with serving(load_database, log) as restarted:
        check_consistency(load_database, world, writes)
        more = run_load(restarted.base, world, 5, clients=world.clients[::5], prefix="after-")
        assert all(w.status is not None for w in more)
        check_consistency(load_database, world, writes + more)
    if load_database.startswith("sqlite"):
        assert sqlite_integrity(load_database) == "ok"
    print(f"killed with {len(unanswered)} writes unanswered")


# --- schemathesis: every operation fuzzed with a token of each role --------------------------

#: The roles the fuzzer calls with, and their nations.
FUZZ_USERS: dict[str, tuple[Role, str | None]] = {
    "coordinator": (Role.coordinator, None),
    "donor": (Role.donor, "DE"),
    "partner": (Role.partner, "UA"),
    "observer": (Role.observer, None),
}
#: A fixed seed: the same cases in every run, so CI is reproducible (change it to explore).
FUZZ_SEED = int(os.environ.get("FORCEMODEL_FUZZ_SEED", "20261123"))
#: Cases per operation and phase: enough to reach every branch of the validation, short enough
#: for the normal suite.
FUZZ_EXAMPLES = 10
#: schemathesis' settings. Schema-valid data may still be refused for what a schema cannot say:
#: an item that is not in the catalogue (422), a change without a version (428), a stale one
#: (409), a record that is not there (404); every other check keeps its defaults.
FUZZ_CONFIG = """\
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "428"]
"""


@dataclass
class Fuzzed:
    server: ServiceProcess
    tokens: dict[str, str]
    config: Path


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    """A server with a user of each role and a few records for the fuzzer to find."""
    folder = tmp_path_factory.mktemp("fuzz")
    for url in new_database(request.param, request, folder):
        engine = make_engine(url)
        upgrade_to_head(engine)
        with session_factory(engine)() as session:
            tokens = {
                name: add_user(session, name, role, nation)[1]
                for name, (role, nation) in FUZZ_USERS.items()
            }
        engine.dispose()
        config = folder / "schemathesis.toml"
        config.write_text(FUZZ_CONFIG)
        with serving(url, folder / "server.log") as server:
            _seed_records(server.base, tokens)
            yield Fuzzed(server, tokens, config)


def _seed_records(base: str, tokens: dict[str, str]) -> None:
    def post(user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        return _ok(httpx.post(f"{base}{path}", json=body, headers=headers, timeout=30))

    item = {"id": "155mm-he", "name": "155 mm HE", "category": "ammunition"}
    post("coordinator", "/items", {**item, "standard": "nato-155"})
    pledge = post(
        "donor",
        "/pledges",
        {"item_id": "155mm-he", "quantity": 100, "available_from": "2026-01-01", "location": "x"},
    )
    body = {"item_id": "155mm-he", "quantity": 50, "priority": 1, "needed_by": "2026-02-01"}
    req = post("partner", "/requirements", {**body, "location": "Kyiv"})
    body = {"pledge_id": pledge["id"], "requirement_id": req["id"], "quantity": 10}
    post("coordinator", "/allocations", body)


@pytest.mark.slow
@pytest.mark.parametrize("user", FUZZ_USERS)
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(
    fuzzed: Fuzzed, user: str
) -> None:
    """``schemathesis run --checks all`` over /openapi.json: every phase (examples, coverage,
    fuzzing, stateful), valid and invalid data; any failure fails the test with its report."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(fuzzed.config),
        "run",
        f"{fuzzed.server.base}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {fuzzed.tokens[user]}",
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--seed",
        str(FUZZ_SEED),
        "--request-timeout",
        str(REQUEST_TIMEOUT_S),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        cwd=fuzzed.config.parent,  # schemathesis keeps a cache folder in its working folder
    )
    report = done.stdout[-20000:] + done.stderr[-5000:]
    assert done.returncode == 0, f"{report}\n--- server log ---\n{fuzzed.server.log()}"
    # Every operation of the description was tested (however many the service has).
    selected = re.search(r"Selected: (\d+)/(\d+)", done.stdout)
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert selected and tested, report
    assert selected[1] == selected[2] == tested[1], report
