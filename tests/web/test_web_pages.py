"""The web pages over plain HTTP: who may open what, signing in, forms, conflicts, security.

Like the API's role × endpoint matrix (tests/service/test_service.py): every page is opened by
every role and the answer checked against the roles the API (and the planning dashboard)
allows; then the board's stories (edit, validation in place, version conflict and reapply,
matcher explanations, audit) and the security details (CSP, cookies, CSRF, open redirects).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from web_site import USERS, Site, TestClient, csrf_of, start_site

from forcemodel.web.frame import CSP

READ = frozenset(USERS)
EDIT = frozenset({"donor", "coordinator"})  # the pledge belongs to DE: other_donor may not
COORD = frozenset({"coordinator"})
PLAN_READ = frozenset({"analyst", "coordinator", "observer"})
PLAN = frozenset({"analyst", "coordinator"})

#: page -> roles that open it (200); the others get 403.
PAGES: dict[str, frozenset[str]] = {
    "/ui/": READ,
    "/ui/board/pledges": READ,
    "/ui/board/pledges?donor=DE&status=pledged&category=ammunition&limit=1": READ,
    "/ui/board/requirements": READ,
    "/ui/board/requirements?partner=UA&priority=1": READ,
    "/ui/board/pledges/{p155}": READ,
    "/ui/board/requirements/{urgent}": READ,
    "/ui/board/pledges.csv": READ,
    "/ui/board/requirements.csv": READ,
    "/ui/board/pledges/{p155}/edit": frozenset({"donor", "coordinator"}),
    "/ui/board/cases": READ,
    "/ui/board/plan": READ,
    "/ui/board/pledges/import": frozenset({"donor", "other_donor"}),
    "/ui/board/requirements/import": frozenset({"partner"}),
    "/ui/board/match": COORD,
    "/ui/board/audit/pledge/{p155}": COORD,
    "/ui/plan/scenarios": PLAN_READ,
    "/ui/plan/scenarios/tiny": PLAN_READ,
    "/ui/plan/jobs": PLAN_READ,
    "/ui/plan/compare": PLAN_READ,
}


def test_role_page_matrix(site: Site) -> None:
    failures = []
    for user in USERS:
        client = site.signed_in(user)
        for page, allowed in PAGES.items():
            path = page.format(**site.ids)
            status = client.get(path).status_code
            expected = 200 if user in allowed else 403
            if status != expected:
                failures.append(f"{user} GET {path}: {status}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_edit_links_only_for_those_who_may_edit(site: Site) -> None:
    path = f"/ui/board/pledges/{site.ids['p155']}"
    for user in USERS:
        html = site.signed_in(user).get(path).text
        assert ("Edit this pledge" in html) == (user in EDIT), user


def test_signed_out_pages_lead_to_sign_in(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    r = client.get("/ui/board/pledges?donor=DE")
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login?next=%2Fui%2Fboard%2Fpledges%3Fdonor%3DDE"
    assert client.post("/ui/board/match", data={"csrf": "x"}).status_code == 401


def test_bad_token_and_stale_sign_in_form(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    csrf = csrf_of(client.get("/ui/login").text)
    r = client.post("/ui/login", data={"token": "fm_wrong", "csrf": csrf})
    assert r.status_code == 401 and "That token is not valid." in r.text
    other = TestClient(site.app, follow_redirects=False)  # no sign-in cookie: a forged form
    r = other.post("/ui/login", data={"token": site.tokens["donor"], "csrf": csrf})
    assert r.status_code == 400


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/ui/", "/elsewhere", "/ui\\..\\x"]
)
def test_sign_in_never_redirects_off_site(site: Site, target: str) -> None:
    client = TestClient(site.app, follow_redirects=False)
    csrf = csrf_of(client.get("/ui/login").text)
    r = client.post("/ui/login", data={"token": site.tokens["donor"], "csrf": csrf, "next": target})
    assert r.status_code == 303 and r.headers["location"] == "/ui/"


def test_security_headers_and_cookie_flags(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    form = client.get("/ui/login")
    assert form.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    assert form.headers["x-content-type-options"] == "nosniff"
    assert form.headers["x-frame-options"] == "DENY"
    assert form.headers["cache-control"] == "no-store"
    r = client.post(
        "/ui/login", data={"token": site.tokens["observer"], "csrf": csrf_of(form.text)}
    )
    cookie = r.headers["set-cookie"].lower()
    assert "fm_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    # Pages never carry inline scripts or style attributes (the CSP would block them).
    html = site.signed_in("coordinator").get("/ui/plan/scenarios/tiny").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\sstyle=", html)


def test_forms_without_the_csrf_token_are_refused(site: Site) -> None:
    client = site.signed_in("donor")
    path = f"/ui/board/pledges/{site.ids['p155']}/edit"
    r = client.post(path, data={"version": "1", "quantity": "5"})
    assert r.status_code == 400
    assert site.api("observer", "GET", f"/pledges/{site.ids['p155']}")["quantity"] == 100


def _edit(
    site: Site, user: str, meanwhile: Callable[[], object] = lambda: None, **fields: str
) -> tuple[object, str]:
    """Open the pledge's form as the user, run ``meanwhile``, then send it with ``fields``."""
    client = site.signed_in(user)
    path = f"/ui/board/pledges/{site.ids['p155']}/edit"
    form = client.get(path)
    version = re.search(r'name="version" value="(\d+)"', form.text)
    original = re.search(r'name="original" value="([^"]*)"', form.text)
    assert version and original
    shown = json.loads(unescape(original[1]))  # the values the form shows
    meanwhile()
    data = {**shown, **fields, "csrf": csrf_of(form.text), "original": unescape(original[1])}
    data["version"] = version.group(1)
    return client.post(path, data=data), path


def test_donor_edits_a_pledge_and_the_audit_shows_it(site: Site) -> None:
    r, _ = _edit(site, "donor", quantity="120", note="two more lots")
    assert r.status_code == 303  # type: ignore[attr-defined]
    pledge = site.api("observer", "GET", f"/pledges/{site.ids['p155']}")
    assert (pledge["quantity"], pledge["note"], pledge["version"]) == (120, "two more lots", 2)
    html = site.signed_in("coordinator").get(f"/ui/board/audit/pledge/{site.ids['p155']}").text
    assert "update" in html and "donor (donor)" in html
    assert re.search(r"quantity</th><td>100</td><td>120</td>", html)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "lots", "a whole number of items"),
        ("quantity", "0", "greater than"),
        ("available_from", "1 March", "a date such as"),
        ("location", "", "required"),
    ],
)
def test_validation_errors_show_beside_their_field(
    site: Site, field: str, value: str, message: str
) -> None:
    r, _ = _edit(site, "donor", **{field: value})
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    error = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', html)
    assert error and message in error.group(1), html
    assert f'aria-describedby="e-{field}"' in html
    assert site.api("observer", "GET", f"/pledges/{site.ids['p155']}")["version"] == 1


def test_version_conflict_shows_both_versions_and_reapplies(site: Site) -> None:
    def colleague() -> None:  # a colleague at DE's desk changes the pledge meanwhile (API)
        body = {"location": "Lviv", "version": 1}
        site.api("donor", "PATCH", f"/pledges/{site.ids['p155']}", json=body)

    r, path = _edit(site, "donor", colleague, quantity="90")
    assert r.status_code == 409  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert "Someone else changed pledge" in html
    rows = dict(
        re.findall(
            r'<th scope="row">([^<]+?)(?: <span class="tag">differs</span>)?'
            r"</th><td>([^<]*)</td>",
            html,
        )
    )
    assert rows["Quantity"] == "90" and rows["Location"] == "Rzeszow hub"  # as the donor saw it
    assert re.search(r"<td>90</td><td>100</td>", html)
    # Reapplying posts the user's values on the current version: saved.
    hidden = {
        k: unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', html)
    }
    assert hidden["version"] == "2" and hidden["quantity"] == "90"
    client = site.signed_in("donor")
    hidden["csrf"] = csrf_of(client.get(path).text)
    again = client.post(path, data=hidden)
    assert again.status_code == 303, again.text
    pledge = site.api("observer", "GET", f"/pledges/{site.ids['p155']}")
    # Only the donor's change is reapplied: the colleague's location stays.
    assert (pledge["quantity"], pledge["location"], pledge["version"]) == (90, "Lviv", 3)


def test_coordinator_edits_the_status_only(site: Site) -> None:
    client = site.signed_in("coordinator")
    path = f"/ui/board/pledges/{site.ids['p155']}/edit"
    form = client.get(path).text
    assert 'name="status"' in form and 'name="quantity"' not in form
    # An allocation makes the pledge allocated (version 2); the coordinator ships it.
    body = {"pledge_id": site.ids["p155"], "requirement_id": site.ids["urgent"], "quantity": 80}
    site.api("coordinator", "POST", "/allocations", json=body)
    form = client.get(path).text
    data = {"csrf": csrf_of(form), "version": "2", "status": "shipped", "quantity": "1"}
    original = re.search(r'name="original" value="([^"]*)"', form)
    assert original
    data["original"] = unescape(original[1])
    r = client.post(path, data=data)
    assert r.status_code == 303, r.text
    pledge = site.api("observer", "GET", f"/pledges/{site.ids['p155']}")
    assert (pledge["status"], pledge["quantity"]) == ("shipped", 100)


def test_a_status_the_lifecycle_forbids_shows_its_rule_beside_the_field(site: Site) -> None:
    r, _ = _edit(site, "donor", status="shipped")
    assert r.status_code == 409  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    error = re.search(r'<p class="error" id="e-status">([^<]*)</p>', html)
    assert error and "allocated-before-shipped" in error.group(1), html
    assert "Someone else changed" not in html


def test_other_nations_donor_cannot_edit(site: Site) -> None:
    client = site.signed_in("other_donor")
    assert client.get(f"/ui/board/pledges/{site.ids['p155']}/edit").status_code == 403


@pytest.mark.slow
def test_matcher_explains_the_unmet_requirement(site: Site) -> None:
    client = site.signed_in("coordinator")
    page = client.get("/ui/board/match")
    r = client.post("/ui/board/match", data={"csrf": csrf_of(page.text), "apply": "no"})
    assert r.status_code == 200, r.text
    unmet = re.search(r'<ul class="unmet" id="unmet">(.*?)</ul>', r.text, re.S)
    assert unmet, r.text
    item = re.search(rf"Requirement {site.ids['soviet']}</a>.*?</li>", unmet.group(1), re.S)
    assert item and "10 of 40 short" in item.group(0) and "no pledge" in item.group(0)
    assert site.api("observer", "GET", "/allocations") == []  # a dry run writes nothing
    r = client.post("/ui/board/match", data={"csrf": csrf_of(page.text), "apply": "yes"})
    assert "allocations written" in r.text
    assert len(site.api("observer", "GET", "/allocations")) == 2


def test_lists_filter_and_page(site: Site) -> None:
    client = site.signed_in("observer")
    first = client.get("/ui/board/pledges?limit=1").text
    assert "Rows 1–1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/ui/board/pledges?limit=1&offset=1").text
    assert "Rows 2–2 of 2" in second and 'rel="prev"' in second
    assert "152-he" in second and "152-he</td>" not in first
    only = client.get("/ui/board/requirements?priority=2").text
    assert "Rows 1–1 of 1" in only and "soviet-152" in only
    assert client.get("/ui/board/pledges?limit=100000").status_code == 422
    assert client.get("/ui/board/pledges?donor=<script>").status_code == 422


def test_text_is_escaped(site: Site) -> None:
    r, _ = _edit(site, "donor", note='<script>alert("x")</script>')
    assert r.status_code == 303  # type: ignore[attr-defined]
    html = site.signed_in("observer").get(f"/ui/board/pledges/{site.ids['p155']}").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert '<script>alert("x")' not in html


def test_sign_out_ends_the_session(site: Site) -> None:
    client = site.signed_in("observer")
    home = client.get("/ui/")
    assert client.post("/ui/logout", data={"csrf": csrf_of(home.text)}).status_code == 303
    assert client.get("/ui/").status_code == 303


@pytest.mark.slow
def test_failed_sign_ins_are_slowed_like_the_apis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCEMODEL_AUTH_FAILURE_LIMIT", "3/minute")
    site = start_site(tmp_path, monkeypatch)
    client = TestClient(site.app, follow_redirects=False)
    csrf = csrf_of(client.get("/ui/login").text)
    answers = [
        client.post("/ui/login", data={"token": f"fm_wrong{k}", "csrf": csrf}).status_code
        for k in range(5)
    ]
    assert answers[:3] == [401, 401, 401] and answers[3:] == [429, 429]
    # The API shares the count: the same client is refused there too.
    assert client.get("/me", headers={"Authorization": "Bearer fm_x"}).status_code == 429
