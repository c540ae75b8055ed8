"""The service under careless input and hostile load (issue 19), in process.

Strict input, strict CSV, spreadsheet-safe exports, security headers, the SQLite file's
permissions, token revocation, rate limits, the match queue and pagination; on SQLite and
PostgreSQL where the database matters. Real HTTP (the 200 MB body, two server processes):
test_service_limits.py.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_service import Service, _v, start_service

from forcemodel.service.auth import remove_user, rotate_token
from forcemodel.service.csvio import escape_cell, unescape_cell
from forcemodel.service.db import session_factory
from forcemodel.service.deps import MAX_PAGE
from forcemodel.service.jobs import MatchQueue, run_here
from forcemodel.service.records import RecordError
from forcemodel.service.tables import Role

CSV = {"Content-Type": "text/csv"}
#: A service of its own with the settings given, for the ``with`` block.
serving = contextlib.contextmanager(start_service)


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    yield from start_service(database_url)


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[Service]:
    yield from start_service(f"sqlite:///{tmp_path / 'service.db'}")


# --- strict input ------------------------------------------------------------------------------


PLEDGE = {"item_id": "155-he", "quantity": 5, "available_from": "2026-03-01", "location": "X"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", True),
        ("quantity", "5"),
        ("quantity", 5.0),
        ("quantity", None),
        ("available_from", "2026-03-01T00:00:00"),
        ("available_from", "2026-03-01T00:00:00Z"),
        ("available_from", 1767225600),
        ("available_from", "1 March 2026"),
    ],
)
def test_quantities_and_dates_are_taken_only_as_they_are(
    sqlite_service: Service, field: str, value: Any
) -> None:
    response = sqlite_service.call("donor", "POST", "/pledges", json={**PLEDGE, field: value})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert sqlite_service.ok("donor", "POST", "/pledges", json=PLEDGE)["quantity"] == 5


@pytest.mark.parametrize("tag", ['"0"', "0", '"3', '3"', '"3", "4"', "*", "W/3x", '"99999999999"'])
def test_if_match_takes_only_a_version(sqlite_service: Service, tag: str) -> None:
    pledge = sqlite_service.pledge()
    url = f"/pledges/{pledge['id']}"
    response = sqlite_service.call(
        "donor", "PATCH", url, json={"quantity": 7}, headers={"If-Match": tag}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["header", "If-Match"]


def test_the_description_offers_if_match_as_a_version_only(sqlite_service: Service) -> None:
    spec = sqlite_service.client.get("/openapi.json").json()
    params = [
        p
        for ops in spec["paths"].values()
        for op in ops.values()
        for p in op.get("parameters", [])
        if p["name"].lower() == "if-match"
    ]
    assert params
    for param in params:
        assert param["schema"]["type"] == "string" and "anyOf" not in param["schema"]
        assert param["schema"]["pattern"].startswith("^(W/)?")


# --- strict CSV --------------------------------------------------------------------------------

HEADER = "donor,item_id,quantity,available_from,location"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # An unterminated quote swallowed the next row into location.
        (f'{HEADER}\nDE,155-he,5,2026-05-01,"Gdansk\nDE,155-he,6,2026-05-01,Lviv\n', "line 2"),
        (f'{HEADER}\nDE,155-he,5,2026-05-01,"Gdansk"port\n', "line 2: column 5 (location)"),
        (f'{HEADER}\nDE,155-he,5,2026-05-01,"Gdansk\nport"\n', "line 2: column 5 (location)"),
        (f"{HEADER},quantity\nDE,155-he,5,2026-05-01,Gdansk,6\n", "columns 3 and 6"),
        (f"{HEADER}\nDE,155-he,5,2026-05-01\n", "fewer cells (4) than columns (5)"),
        (f"{HEADER}\nDE,155-he,5.0,2026-05-01,G\n", "line 2: quantity"),
        (f"{HEADER}\nDE,155-he,true,2026-05-01,G\n", "line 2: quantity"),
        (f"{HEADER}\nDE,155-he,5,2026-05-01T10:00:00,G\n", "line 2: available_from"),
    ],
)
def test_csv_import_refuses_malformed_files_naming_line_and_column(
    sqlite_service: Service, text: str, where: str
) -> None:
    before = sqlite_service.client.get("/pledges", headers=sqlite_service.auth("donor")).json()
    response = sqlite_service.call("donor", "POST", "/pledges.csv", content=text, headers=CSV)
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert where in message, message
    after = sqlite_service.client.get("/pledges", headers=sqlite_service.auth("donor")).json()
    assert after == before  # all rows or none


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "'=x", "''+y", "'plain", "ok"]
)
def test_cell_escaping_is_undone_by_import(text: str) -> None:
    escaped = escape_cell(text)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_cell(escaped) == text


def test_exports_cannot_attack_a_spreadsheet_and_import_back_unchanged(service: Service) -> None:
    body = {**PLEDGE, "location": "=cmd|' /C calc'!A0", "note": "@SUM(1+1)"}
    pledge = service.ok("donor", "POST", "/pledges", json=body)
    exported = service.client.get("/pledges.csv", headers=service.auth("donor")).text
    row = next(line for line in exported.splitlines() if line.startswith(f"{pledge['id']},"))
    cells = row.split(",")
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=cmd" in row and "'@SUM" in row
    again = service.call("donor", "POST", "/pledges.csv", content=exported, headers=CSV)
    assert again.status_code == 200, again.text
    assert again.json()["updated"] == 0 and again.json()["created"] == 0
    stored = service.ok("observer", "GET", f"/pledges/{pledge['id']}")
    assert stored["location"] == body["location"] and stored["note"] == body["note"]


# --- headers and the database file -------------------------------------------------------------


def test_every_answer_carries_the_security_headers(sqlite_service: Service) -> None:
    s = sqlite_service
    answers = [
        s.client.get("/health"),
        s.client.get("/me"),
        s.call("observer", "GET", "/pledges/999"),
        s.call("observer", "GET", "/pledges/abc"),
        s.call("observer", "PUT", "/pledges/1"),
        s.call("observer", "GET", "/pledges.csv"),
        s.client.get("/openapi.json"),
        s.client.get("/docs"),
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "default-src 'none'" in answers[0].headers["content-security-policy"]


def test_the_sqlite_file_is_readable_by_its_owner_only(sqlite_service: Service) -> None:
    url = sqlite_service.url
    path = Path(url.removeprefix("sqlite:///"))
    for file in path.parent.glob(f"{path.name}*"):
        assert stat.S_IMODE(os.stat(file).st_mode) == 0o600, file


# --- revocation ----------------------------------------------------------------------------------


def test_a_removed_user_or_replaced_token_is_refused_at_once(service: Service) -> None:
    engine = service.client.app.state.engine  # type: ignore[attr-defined]
    assert service.call("observer", "GET", "/me").status_code == 200
    with session_factory(engine)() as session:
        remove_user(session, "observer")
    response = service.call("observer", "GET", "/me")
    assert response.status_code == 401 and response.json()["detail"] == "invalid token"
    old = service.tokens["partner"]
    assert service.call("partner", "GET", "/me").status_code == 200
    with session_factory(engine)() as session:
        new = rotate_token(session, "partner")
    assert service.call("partner", "GET", "/me").status_code == 401
    service.tokens["partner"] = new
    assert service.call("partner", "GET", "/me").json()["name"] == "partner"
    assert old != new
    log = service.ok("coordinator", "GET", "/audit", params={"entity": "user", "limit": 1000})
    removed = [e for e in log if e["action"] == "delete"]  # type: ignore[union-attr]
    assert [e["before"]["name"] for e in removed] == ["observer"]
    assert all("token_hash" not in (e["before"] or {}) for e in log)  # type: ignore[union-attr]


# --- rate limits ---------------------------------------------------------------------------------


def test_a_flood_of_unknown_tokens_is_slowed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flood.db'}"
    with serving(url, auth_failure_limit="5/minute") as s:
        bad = {"Authorization": "Bearer fm_guess"}
        statuses = [s.client.get("/me", headers=bad).status_code for _ in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        refused = s.client.get("/me", headers=bad)
        assert int(refused.headers["Retry-After"]) >= 1
        # The flooding client is held off even with a good token; others are not counted.
        assert s.call("observer", "GET", "/me").status_code == 429
        assert s.client.get("/health").status_code == 200


def test_matches_and_imports_are_limited_per_caller(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    with serving(url, expensive_limit="2/minute") as s:
        assert [s.call("coordinator", "POST", "/match").status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        text = "donor,item_id,quantity,available_from,location\n"
        codes = [
            s.call("donor", "POST", "/pledges.csv", content=text, headers=CSV).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]


# --- the match queue -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_match_job_is_queued_then_polled(sqlite_service: Service) -> None:
    s = sqlite_service
    s.pledge()
    s.requirement()
    response = s.call("coordinator", "POST", "/match/jobs")
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"/match/jobs/{job['id']}"
    matcher: MatchQueue = s.client.app.state.matcher  # type: ignore[attr-defined]
    found = matcher.get(job["id"])
    assert found is not None and found._finished.wait(120)
    done = s.ok("coordinator", "GET", f"/match/jobs/{job['id']}")
    assert done["status"] == "done" and done["result"]["allocations"]
    assert s.call("donor", "GET", f"/match/jobs/{job['id']}").status_code == 403
    assert s.call("coordinator", "GET", f"/match/jobs/{'0' * 32}").status_code == 404


def test_reads_do_not_wait_for_queued_matches(tmp_path: Path) -> None:
    """45 matches wait on a matcher that cannot start; reads are answered all the while."""
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    with serving(url, match_queue=50) as s:
        matcher: MatchQueue = s.client.app.state.matcher  # type: ignore[attr-defined]
        gate = threading.Event()
        real = matcher.run

        def held(*args: Any) -> Any:
            gate.wait()
            return real(*args)

        matcher.run = held
        answers: list[int] = []
        threads = [
            threading.Thread(
                target=lambda: answers.append(s.call("coordinator", "POST", "/match").status_code)
            )
            for _ in range(45)
        ]
        for t in threads:
            t.start()
        try:
            while matcher.waiting() < 44:  # one is taken by the matcher's thread, held there
                gate.wait(0.01)
            for _ in range(20):
                assert s.call("observer", "GET", "/items").status_code == 200
                assert s.call("observer", "GET", "/pledges").status_code == 200
            assert not answers  # every match still waits
        finally:
            gate.set()
            for t in threads:
                t.join(300)
        assert answers == [200] * 45


def test_a_full_queue_refuses_with_retry_after(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'full.db'}"
    with serving(url) as s:
        gate = threading.Event()
        here = run_here(s.client.app.state.db.plain)  # type: ignore[attr-defined]

        def held(*args: Any) -> Any:
            gate.wait()
            return here(*args)

        queue = MatchQueue(held, size=2)
        actor = next(iter([_principal()]))
        try:
            first = queue.submit(actor, apply=False, time_limit=5)  # taken by the thread
            while queue.waiting():  # the thread takes it off the queue, then waits
                threading.Event().wait(0.01)
            queue.submit(actor, apply=False, time_limit=5)
            queue.submit(actor, apply=False, time_limit=5)
            with pytest.raises(RecordError) as refused:
                queue.submit(actor, apply=False, time_limit=5)
            assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "10"}
        finally:
            gate.set()
        assert first._finished.wait(120) and first.status == "done"
        queue.close()


def _principal() -> Any:
    from forcemodel.service.auth import Principal

    return Principal(id=1, name="coordinator", role=Role.coordinator, nation=None)


# --- pagination ----------------------------------------------------------------------------------


def test_every_list_pages_by_key_with_a_link_to_the_next(service: Service) -> None:
    for _ in range(5):
        service.allocation(1)
    for path, key in (
        ("/items", "id"),
        ("/donors", "code"),
        ("/pledges", "id"),
        ("/requirements", "id"),
        ("/allocations", "id"),
        ("/audit", "id"),
    ):
        user = "coordinator"
        everything = service.ok(user, "GET", path, params={"limit": MAX_PAGE})
        seen: list[Any] = []
        url: str | None = f"{path}?limit=2"
        while url:
            response = service.call(user, "GET", url)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page) <= 2
            seen += [row[key] for row in page]
            link = response.headers.get("Link")
            url = link[1 : link.index(">")] if link else None
        assert seen == [row[key] for row in everything], path  # in order, none twice or lost
    too_big = service.call("observer", "GET", "/pledges", params={"limit": MAX_PAGE + 1})
    assert too_big.status_code == 422


def test_a_page_is_stable_while_rows_are_added(sqlite_service: Service) -> None:
    s = sqlite_service
    first = [s.pledge()["id"] for _ in range(3)]
    page = s.ok("observer", "GET", "/pledges", params={"limit": 2})
    assert [p["id"] for p in page] == first[:2]  # type: ignore[index]
    added = s.pledge()["id"]
    rest = s.ok("observer", "GET", "/pledges", params={"after": first[1], "limit": 10})
    assert [p["id"] for p in rest] == [first[2], added]  # type: ignore[index]


def test_an_edited_status_is_refused_in_a_stale_csv_row(sqlite_service: Service) -> None:
    s = sqlite_service
    allocation = s.allocation()
    pledge = s.ok("observer", "GET", f"/pledges/{allocation['pledge_id']}")
    shipped = s.ok(
        "donor", "PATCH", f"/pledges/{pledge['id']}", json={"status": "shipped"}, headers=_v(pledge)
    )
    text = f"id,version,status\n{shipped['id']},{shipped['version']},allocated\n"
    response = s.call("donor", "POST", "/pledges.csv", content=text, headers=CSV)
    assert response.status_code == 409 and "rule" in response.json()["detail"]


def test_users_rotate_and_remove_on_the_command_line(sqlite_service: Service) -> None:
    from typer.testing import CliRunner

    from forcemodel.cli import app as cli_app

    s, runner = sqlite_service, CliRunner()
    url = ["--database-url", s.url]
    rotated = runner.invoke(cli_app, ["users", "rotate", "donor", *url])
    assert rotated.exit_code == 0, rotated.output
    token = rotated.stdout.strip().splitlines()[-1]
    assert token.startswith("fm_")
    assert s.call("donor", "GET", "/me").status_code == 401  # the old token
    me = s.client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "donor"
    assert runner.invoke(cli_app, ["users", "remove", "observer", *url]).exit_code == 0
    assert s.call("observer", "GET", "/me").status_code == 401
    unknown = runner.invoke(cli_app, ["users", "remove", "nobody", *url])
    assert unknown.exit_code == 2 and "no user named 'nobody'" in unknown.output
