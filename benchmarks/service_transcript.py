"""Before/after check of the assistance service: the same requests, the same answers.

``transcript(url)`` makes a fresh service on a new SQLite database, makes the users it needs,
and sends a fixed sequence of requests by every role to every route (records made, read,
changed, refused for each reason the service has: 401, 403, 404, 405, 409, 422, 428; CSV
export and import; the matcher's dry run and apply; the OpenAPI description). It answers each
request's method, path, status, chosen headers and body, with what must vary (timestamps)
replaced by a placeholder.

Run as a module to compare the service of a git revision with the working tree::

    python -m benchmarks.service_transcript --ref main

It writes the source of ``--ref`` to a temporary folder, runs the transcript once on each
source (in a subprocess each, so each imports its own forcemodel) and prints the first
request whose answer differs, or that every answer is identical (exit status 0). A refactoring
of the service (issue 13: the routers, one auth path) must leave it identical.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Headers compared besides the status and the body.
HEADERS = (
    "etag",
    "allow",
    "www-authenticate",
    "content-type",
    "content-disposition",
    "link",
    "location",
    "retry-after",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
)
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
#: Answer fields whose values are the clock's.
_CLOCK_FIELDS = frozenset({"created_at", "updated_at", "at"})


def _normal(value: Any) -> Any:
    """The value with every timestamp replaced, so that two runs compare equal."""
    if isinstance(value, dict):
        return {
            k: "<time>" if k in _CLOCK_FIELDS and isinstance(v, str) else _normal(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str):
        return _TIME.sub("<time>", value)
    if isinstance(value, bytes):
        return repr(value)
    return value


def transcript(database_url: str) -> list[dict[str, Any]]:
    """Every request of the fixed sequence with its answer (see the module docstring).

    One long function on purpose: a script of requests, one a line, read top to bottom.
    """
    from forcemodel.service.api import create_app
    from forcemodel.service.auth import add_user
    from forcemodel.service.db import session_factory
    from forcemodel.service.tables import Role

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    users = {
        "donor": (Role.donor, "DE"),
        "other_donor": (Role.donor, "FR"),
        "partner": (Role.partner, "UA"),
        "coordinator": (Role.coordinator, None),
        "observer": (Role.observer, None),
    }
    app = create_app(database_url)
    tokens: dict[str | None, str] = {}
    with session_factory(app.state.engine)() as session:
        for name, (role, nation) in users.items():
            tokens[name] = add_user(session, name, role, nation)[1]
    log: list[dict[str, Any]] = []

    with TestClient(app) as client:

        def call(user: str | None, method: str, path: str, **kw: Any) -> Any:
            headers = dict(kw.pop("headers", {}))
            if user == "bad":
                headers["Authorization"] = "Bearer fm_not-a-token"
            elif user is not None:
                headers["Authorization"] = f"Bearer {tokens[user]}"
            r = client.request(method, path, headers=headers, **kw)
            ctype = r.headers.get("content-type", "")
            body: Any = r.json() if ctype.startswith("application/json") else r.text
            log.append(
                {
                    "request": [user, method, path, _normal(kw)],
                    "status": r.status_code,
                    "headers": {h: r.headers[h] for h in HEADERS if h in r.headers},
                    "body": _normal(body),
                    # The bytes as sent (timestamps aside): a faster serialiser must not
                    # change a space, an escape or the order of keys.
                    "raw": _TIME.sub("<time>", r.text),
                }
            )
            return body

        def v(n: int) -> dict[str, str]:
            return {"If-Match": f'"{n}"'}

        call(None, "GET", "/health")
        call(None, "GET", "/me")
        call("bad", "GET", "/me")
        for user in users:
            call(user, "GET", "/me")
        # items and donors
        for item, std in (("155-he", "nato-155"), ("152-he", "soviet-152"), ("gun", "nato-155")):
            body = {"id": item, "name": item, "category": "ammunition", "standard": std}
            call("coordinator", "POST", "/items", json=body)
        call("coordinator", "POST", "/items", json={"id": "155-he", "name": "x"})
        call(
            "coordinator",
            "POST",
            "/items",
            json={"id": "155-he", "name": "x", "category": "a", "standard": "b"},
        )
        call("donor", "POST", "/items", json={"id": "x", "name": "x", "category": "a"})
        call("observer", "GET", "/items")
        call("observer", "GET", "/items/155-he")
        call("observer", "GET", "/items/nope")
        call("observer", "GET", "/items/BAD ID")
        call("coordinator", "PATCH", "/items/gun", json={"name": "gun 2"}, headers=v(1))
        call("coordinator", "PATCH", "/items/gun", json={"name": "gun 3"}, headers=v(1))
        call("coordinator", "PATCH", "/items/gun", json={"name": "gun 3"})
        call("coordinator", "PATCH", "/items/gun", json={"name": None, "version": 2})
        call("coordinator", "PATCH", "/items/gun", json={"name": "g"}, headers={"If-Match": "x"})
        call("coordinator", "PATCH", "/items/gun", json={"name": "g", "version": 3}, headers=v(2))
        call("coordinator", "POST", "/donors", json={"code": "PL", "name": "Poland"})
        call("coordinator", "POST", "/donors", json={"code": "PL", "name": "Poland"})
        call("coordinator", "POST", "/donors", json={"code": "pl", "name": "Poland"})
        call("observer", "GET", "/donors")
        call("observer", "GET", "/donors/DE")
        call("observer", "GET", "/donors/XX")
        call("coordinator", "PATCH", "/donors/PL", json={"name": "Polska", "version": 1})
        call("partner", "PATCH", "/donors/PL", json={"name": "Polska", "version": 2})
        # pledges
        pledge = {"item_id": "155-he", "quantity": 100, "available_from": "2026-03-01"}
        call("donor", "POST", "/pledges", json={**pledge, "location": "Rzeszow"})
        call("donor", "POST", "/pledges", json={**pledge, "location": "Gdansk", "note": "n"})
        call("donor", "POST", "/pledges", json={**pledge, "location": "X", "donor": "FR"})
        call("other_donor", "POST", "/pledges", json={**pledge, "location": "Paris"})
        call("donor", "POST", "/pledges", json={**pledge, "item_id": "nope", "location": "X"})
        call("donor", "POST", "/pledges", json={**pledge, "quantity": 0, "location": "X"})
        call("donor", "POST", "/pledges", json={**pledge, "extra": 1, "location": "X"})
        call("donor", "POST", "/pledges", content=b"{not json", headers={"Content-Type": "a/j"})
        call("partner", "POST", "/pledges", json={**pledge, "location": "X"})
        call(
            "donor",
            "POST",
            "/pledges",
            json={**pledge, "item_id": "152-he", "quantity": 30, "location": "Y"},
        )
        call("observer", "GET", "/pledges")
        call("observer", "GET", "/pledges", params={"donor": "DE"})
        call("observer", "GET", "/pledges", params={"status": "pledged"})
        call("observer", "GET", "/pledges", params={"status": "lost"})
        call("observer", "GET", "/pledges/1")
        call("observer", "GET", "/pledges/999")
        call("observer", "GET", "/pledges/0")
        call("donor", "PATCH", "/pledges/1", json={"quantity": 120}, headers=v(1))
        call("other_donor", "PATCH", "/pledges/1", json={"quantity": 1}, headers=v(2))
        call("coordinator", "PATCH", "/pledges/1", json={"quantity": 1}, headers=v(2))
        call("donor", "PATCH", "/pledges/1", json={"quantity": 1}, headers=v(1))
        call("donor", "DELETE", "/pledges/2")
        call("donor", "DELETE", "/pledges/2", params={"version": 1})
        call("donor", "DELETE", "/pledges/2", params={"version": 1})
        call("observer", "PUT", "/pledges/1")
        call("observer", "DELETE", "/pledges")
        # requirements
        req = {"item_id": "155-he", "quantity": 80, "priority": 1, "needed_by": "2026-03-15"}
        call("partner", "POST", "/requirements", json={**req, "location": "Kyiv"})
        call(
            "partner",
            "POST",
            "/requirements",
            json={**req, "quantity": 60, "priority": 3, "needed_by": "2026-04-01", "location": "L"},
        )
        call(
            "partner",
            "POST",
            "/requirements",
            json={**req, "item_id": "152-he", "quantity": 40, "location": "O"},
        )
        call("partner", "POST", "/requirements", json={**req, "priority": 9, "location": "K"})
        call("donor", "POST", "/requirements", json={**req, "location": "Kyiv"})
        call("observer", "GET", "/requirements")
        call("observer", "GET", "/requirements", params={"partner": "UA"})
        call("observer", "GET", "/requirements/1")
        call("observer", "GET", "/requirements/77")
        call("partner", "PATCH", "/requirements/2", json={"priority": 2}, headers=v(1))
        call("partner", "PATCH", "/requirements/2", json={"priority": 2}, headers=v(1))
        # allocations
        call(
            "coordinator",
            "POST",
            "/allocations",
            json={"pledge_id": 1, "requirement_id": 1, "quantity": 30},
        )
        call(
            "coordinator",
            "POST",
            "/allocations",
            json={"pledge_id": 1, "requirement_id": 3, "quantity": 5},
        )
        call(
            "coordinator",
            "POST",
            "/allocations",
            json={"pledge_id": 1, "requirement_id": 1, "quantity": 500},
        )
        call(
            "coordinator",
            "POST",
            "/allocations",
            json={"pledge_id": 99, "requirement_id": 1, "quantity": 5},
        )
        call(
            "donor",
            "POST",
            "/allocations",
            json={"pledge_id": 1, "requirement_id": 1, "quantity": 5},
        )
        call("observer", "GET", "/allocations")
        call("observer", "GET", "/allocations/1")
        call("observer", "GET", "/pledges/1")
        call("coordinator", "PATCH", "/allocations/1", json={"quantity": 40}, headers=v(1))
        call("donor", "PATCH", "/pledges/1", json={"quantity": 10}, headers=v(3))
        call("donor", "PATCH", "/pledges/1", json={"item_id": "gun"}, headers=v(3))
        call("partner", "DELETE", "/requirements/1", headers=v(1))
        call("donor", "DELETE", "/pledges/1", headers=v(3))
        call("coordinator", "PATCH", "/pledges/1", json={"status": "shipped"}, headers=v(3))
        # csv
        call("observer", "GET", "/pledges.csv")
        call("observer", "GET", "/requirements.csv")
        call(
            "donor",
            "POST",
            "/pledges.csv",
            content="donor,item_id,quantity,available_from,location\nDE,155-he,5,2026-05-01,G\n",
            headers={"Content-Type": "text/csv"},
        )
        call(
            "donor",
            "POST",
            "/pledges.csv",
            content="donor,item_id,quantity,colour\nDE,155-he,5,red\n",
            headers={"Content-Type": "text/csv"},
        )
        call(
            "donor",
            "POST",
            "/pledges.csv",
            content="id,version,quantity\n5,1,7\n5,1,8\n",
            headers={"Content-Type": "text/csv"},
        )
        call(
            "partner",
            "POST",
            "/requirements.csv",
            content="partner,item_id,quantity,priority,needed_by,location\n"
            "UA,155-he,5,2,2026-06-01,Lviv\nUA,155-he,x,2,2026-06-01,Lviv\n",
            headers={"Content-Type": "text/csv"},
        )
        call(
            "partner",
            "POST",
            "/requirements.csv",
            content=b"\xff\xfe",
            headers={"Content-Type": "text/csv"},
        )
        exported = call("partner", "GET", "/requirements.csv")
        call(
            "partner",
            "POST",
            "/requirements.csv",
            content=exported,
            headers={"Content-Type": "text/csv"},
        )
        # matching
        call("donor", "POST", "/match")
        call("coordinator", "POST", "/match", params={"time_limit": 0})
        call("coordinator", "POST", "/match")
        call("coordinator", "POST", "/match", params={"apply": "true"})
        call("observer", "GET", "/allocations")
        call("observer", "GET", "/pledges")
        # audit and removal
        call("coordinator", "DELETE", "/allocations/1", headers=v(1))
        call("coordinator", "DELETE", "/allocations/1", headers=v(2))
        call("coordinator", "GET", "/audit", params={"entity": "allocation"})
        call("coordinator", "GET", "/audit", params={"after_id": 5, "limit": 3})
        call("observer", "GET", "/audit")
        # pages of one row (each with its Link to the next) and text that JSON must escape
        for path in ("/pledges", "/requirements", "/allocations", "/items", "/donors"):
            call("observer", "GET", path, params={"limit": 1})
        call("observer", "GET", "/pledges", params={"after": 1, "limit": 2})
        odd = 'Zürich "q" \\ \u0001\t</script> é 😀 \u2028'
        call("donor", "POST", "/pledges", json={**pledge, "location": odd, "note": odd})
        call("observer", "GET", "/pledges", params={"donor": "DE", "limit": 1000})
        call("observer", "GET", "/me")
        call(None, "GET", "/openapi.json")
    app.state.engine.dispose()
    return log


def _source(ref: str, into: Path) -> Path:
    """The ``src`` folder of git revision ``ref``, written under ``into``."""
    archive = into / "src.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run(src: Path, folder: Path) -> list[dict[str, Any]]:
    """The transcript of the service in ``src``, run in a process of its own."""
    out = folder / "transcript.json"
    code = (
        "import json, sys; from benchmarks.service_transcript import transcript; "
        f"json.dump(transcript(sys.argv[1]), open({str(out)!r}, 'w'))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
    subprocess.run(
        [sys.executable, "-c", code, f"sqlite:///{folder / 'service.db'}"],
        cwd=folder,
        env=env,
        check=True,
    )
    result: list[dict[str, Any]] = json.loads(out.read_text())
    return result


def main(argv: list[str] | None = None) -> int:
    """Compare the service of ``--ref`` with the working tree's; 0 when identical."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="main", help="git revision to compare with")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "before").mkdir()
        (base / "after").mkdir()
        before = _run(_source(args.ref, base / "before"), base / "before")
        after = _run(ROOT / "src", base / "after")
    for i, (old, new) in enumerate(zip(before, after, strict=False)):
        if old != new:
            print(f"request {i} differs: {json.dumps(old['request'])}")
            print(f"  before: {json.dumps({k: old[k] for k in old if k != 'request'})[:2000]}")
            print(f"  after:  {json.dumps({k: new[k] for k in new if k != 'request'})[:2000]}")
            return 1
    if len(before) != len(after):
        print(f"{len(before)} requests before, {len(after)} after")
        return 1
    print(f"{len(after)} requests: every status, header and body identical to {args.ref}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
