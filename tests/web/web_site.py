"""A service with the web pages, users of every role and a few records, for the web tests.

``site`` starts the application (the service's ``create_app``, which mounts the pages) on a
SQLite file of its own, with the jobs folder in a temporary folder; ``Site.signed_in(name)``
gives an HTTP client signed in through the sign-in form as that user.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package for its test client; httpx still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from forcemodel.service.api import create_app
from forcemodel.service.auth import add_user
from forcemodel.service.db import session_factory
from forcemodel.service.tables import Role

#: name -> (role, nation)
USERS: dict[str, tuple[Role, str | None]] = {
    "donor": (Role.donor, "DE"),
    "other_donor": (Role.donor, "FR"),
    "partner": (Role.partner, "UA"),
    "coordinator": (Role.coordinator, None),
    "observer": (Role.observer, None),
    "analyst": (Role.analyst, None),
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    """The application, its users' tokens and the ids of the records made."""

    app: FastAPI
    tokens: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)

    def api(self, user: str, method: str, path: str, **kw: Any) -> Any:
        """Call the REST API as a user; the answer's JSON (the call must succeed)."""
        # No `with`: the application's lifespan would stop its match queue on leaving.
        client = TestClient(self.app)
        r = client.request(
            method, path, headers={"Authorization": f"Bearer {self.tokens[user]}"}, **kw
        )
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def signed_in(self, user: str) -> TestClient:
        """A client signed in as the user through the sign-in form (follows no redirect)."""
        client = TestClient(self.app, follow_redirects=False)
        form = client.get("/ui/login")
        token = CSRF.search(form.text)
        assert token, form.text
        r = client.post(
            "/ui/login", data={"token": self.tokens[user], "csrf": token.group(1), "next": ""}
        )
        assert r.status_code == 303, r.text
        return client


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = CSRF.search(html)
    assert found, html[:2000]
    return found.group(1)


def seed(site: Site) -> None:
    """Items, pledges and requirements as in the service's matcher tests (one unmet 152 mm)."""
    for item, standard in (("155-he", "nato-155"), ("152-he", "soviet-152")):
        body = {"id": item, "name": item, "category": "ammunition", "standard": standard}
        site.api("coordinator", "POST", "/items", json=body)

    def pledge(item: str, quantity: int, available: str) -> int:
        body = {
            "item_id": item,
            "quantity": quantity,
            "available_from": available,
            "location": "Rzeszow hub",
        }
        return int(site.api("donor", "POST", "/pledges", json=body)["id"])

    def requirement(item: str, quantity: int, priority: int, by: str) -> int:
        body = {
            "item_id": item,
            "quantity": quantity,
            "priority": priority,
            "needed_by": by,
            "location": "Kyiv",
        }
        return int(site.api("partner", "POST", "/requirements", json=body)["id"])

    site.ids.update(
        p155=pledge("155-he", 100, "2026-03-01"),
        p152=pledge("152-he", 30, "2026-03-01"),
        urgent=requirement("155-he", 80, 1, "2026-03-15"),
        soviet=requirement("152-he", 40, 2, "2026-03-20"),
    )


def start_site(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """A fresh application on a SQLite file in ``folder``, with users and records."""
    monkeypatch.setenv("FORCEMODEL_WEB_DIR", str(folder / "web"))
    app = create_app(f"sqlite:///{folder / 'board.db'}")
    tokens = {}
    with session_factory(app.state.engine)() as session:
        for name, (role, nation) in USERS.items():
            tokens[name] = add_user(session, name, role, nation)[1]
    site = Site(app, tokens)
    seed(site)
    return site
