"""The board's own assistance plan (/ui/board/plan): the matcher over the board's records with
their hubs, routes, courses and item needs, in the service's match queue; every number checked
against the assist domain's own tables (forcemodel.assist.pipeline)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_site import USERS, Site, start_site

from forcemodel.assist import fleet_mix
from forcemodel.assist.pipeline import hub_throughput, usable_systems
from forcemodel.web.tables import csv_text

#: 4 self-propelled guns of 55 t, crews of 5: 220 t through the hub, 20 trainees.
GUNS, TONS, CREW = 4, 55.0, 5


def _logistics(site: Site) -> None:
    """A system with its weight and crew, a hub and a route to it from where the guns wait, a
    crew course behind a basic course; a pledge of the guns and the partner's requirement."""
    body = {"id": "sph-155", "name": "SPH", "category": "system", "standard": "nato-155"}
    site.api("coordinator", "POST", "/items", json=body)
    site.api(
        "coordinator",
        "POST",
        "/item-needs",
        json={"item_id": "sph-155", "tons": TONS, "crew": CREW},
    )
    site.api("coordinator", "POST", "/item-needs", json={"item_id": "155-he", "tons": 0.05})
    hub = {"id": "rzeszow", "name": "Rzeszow", "location": "Rzeszow, PL", "t_per_day": 100.0}
    site.api("coordinator", "POST", "/hubs", json=hub)
    route = {"id": "gdansk-rzeszow", "origin": "Gdansk", "hub_id": "rzeszow"}
    site.api("coordinator", "POST", "/routes", json={**route, "to_hub_days": 2, "onward_days": 1})
    basic = {"id": "basic", "cohort_size": 30, "duration_days": 10}
    site.api("coordinator", "POST", "/courses", json=basic)
    crew = {"id": "sph-crew", "item_id": "sph-155", "cohort_size": 10, "duration_days": 20}
    site.api("coordinator", "POST", "/courses", json={**crew, "prerequisites": ["basic"]})
    pledge = {"item_id": "sph-155", "quantity": GUNS, "available_from": "2026-03-01"}
    site.api("donor", "POST", "/pledges", json={**pledge, "location": "Gdansk"})
    need = {"item_id": "sph-155", "quantity": GUNS, "priority": 1, "needed_by": "2026-04-15"}
    site.api("partner", "POST", "/requirements", json={**need, "location": "Kyiv"})


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    site = start_site(tmp_path, monkeypatch)
    _logistics(site)
    yield site


def _result(site: Site) -> Any:
    plans = site.app.state.web.state.board_plans
    assert plans.plan is not None
    return plans.plan.result


def test_the_plan_shows_the_pipelines_own_figures(board: Site) -> None:
    client = board.signed_in("observer")
    page = client.get("/ui/board/plan")
    assert page.status_code == 200, page.text
    html, result = page.text, _result(board)
    # When each system is usable: every row of the pipeline's table, as it says.
    usable = usable_systems(result)
    guns = usable.set_index("item").loc["sph-155"]
    assert guns["delivered"] == GUNS and guns["trainees"] == GUNS * CREW
    # The guns wait for their crews (30 days of courses), not for the 3 days of the route.
    assert guns["held_by"] == "crews" and guns["first_usable_date"] == guns["first_crews_date"]
    for row in usable.to_dict("records"):
        assert f"<td>{row['item']}</td>" in html and f"<td>{row['first_usable_date']}</td>" in html
    assert "<td>crews</td>" in html
    # The training pipeline: a lane per cohort that runs, the crew course behind the basic one.
    bars = re.findall(r'<rect class="cohort"[^>]*><title>([^<]*)</title>', html)
    assert len(bars) == len(result.training) > 1
    crew = result.training[result.training["course"] == "sph-crew"]
    basic = result.training[result.training["course"] == "basic"]
    assert crew["start"].min() >= basic["end"].min()
    assert "<td>basic</td>" in html  # the course table names the prerequisite
    # The hubs: the recorded one charted with its capacity; the plan's direct way is no hub.
    assert "Hub rzeszow: tons a day" in html and "Hub direct" not in html
    hubs = hub_throughput(result)
    assert hubs.loc[hubs["hub"] == "rzeszow", "tons"].sum() == pytest.approx(GUNS * TONS)
    # The fleet mix and every table as CSV, the pipeline's own tables.
    assert len(re.findall(r"<td>\d{4}-\d{2}-\d{2}</td>", html)) >= len(fleet_mix(result, every=15))
    assert client.get("/ui/board/plan/usable.csv").text == csv_text(usable)
    weekly = client.get("/ui/board/plan/hubs.csv").text
    assert weekly == csv_text(hub_throughput(result, 7))
    assert client.get("/ui/board/plan/cohorts.csv").text == csv_text(result.training)


def test_every_role_reads_the_plan_and_one_plan_serves_unchanged_records(board: Site) -> None:
    for user in USERS:
        r = board.signed_in(user).get("/ui/board/plan")
        assert r.status_code == 200, (user, r.text[:500])
    plans = board.app.state.web.state.board_plans
    (job,) = plans.jobs.values()  # six views, one plan
    assert job.kind == "plan" and job.status == "done"
    client = board.signed_in("observer")
    assert 'href="/ui/board/plan"' in client.get("/ui/board/cases").text
    assert client.get("/ui/board/plan/secrets.csv").status_code == 422
    signed_out = TestClient(board.app, follow_redirects=False).get("/ui/board/plan")
    assert signed_out.status_code == 303 and "/ui/login" in signed_out.headers["location"]
    # A change to the records makes the next view plan again, with the change.
    hub = board.api("observer", "GET", "/hubs/rzeszow")
    board.api(
        "coordinator",
        "PATCH",
        "/hubs/rzeszow",
        json={"t_per_day": 50.0, "version": hub["version"]},
    )
    assert client.get("/ui/board/plan").status_code == 200
    (again,) = plans.jobs.values()
    assert again is not job
    assert set(_result(board).hubs.query("hub == 'rzeszow'")["capacity"]) == {50.0}


def test_records_that_cannot_be_planned_are_located(board: Site) -> None:
    body = {"id": "advanced", "cohort_size": 5, "duration_days": 10, "prerequisites": ["basik"]}
    board.api("coordinator", "POST", "/courses", json=body)
    page = board.signed_in("partner").get("/ui/board/plan")
    assert page.status_code == 422 and "The records cannot be planned" in page.text
    assert (
        "/courses/advanced: prerequisites[0]: no course &#39;basik&#39; "
        "(did you mean &#39;basic&#39;?)" in page.text
    )
    csv = board.signed_in("partner").get("/ui/board/plan/usable.csv")
    assert csv.status_code == 422 and "basik" in csv.text
    # Fixed, the next view plans.
    course = board.api("observer", "GET", "/courses/advanced")
    board.api(
        "coordinator",
        "PATCH",
        "/courses/advanced",
        json={"prerequisites": ["basic"], "version": course["version"]},
    )
    assert board.signed_in("partner").get("/ui/board/plan").status_code == 200


@pytest.mark.slow
def test_the_plan_page_in_chromium_is_drawn_and_accessible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian's Chromium, network blocked: the page from the cases list, screenshot not blank,
    no serious axe-core violation (the browser tests' own checks)."""
    from browser import CHROMIUM, CHROMIUM_ARGS, chromium_missing, live_server
    from test_web_browser import Visit

    missing = chromium_missing()
    assert missing is None, missing
    from playwright.sync_api import sync_playwright

    site = start_site(tmp_path, monkeypatch)
    _logistics(site)
    shots = tmp_path / "shots"
    shots.mkdir()
    with (
        live_server(site.app) as url,
        sync_playwright() as p,
    ):
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        visit = Visit(chromium, url, site, shots)
        try:
            visit.sign_in("partner")
            visit.nav("Assistance plans")
            visit.page.get_by_role("link", name="The board's own assistance plan").click()
            visit.page.wait_for_url(f"{url}/ui/board/plan", timeout=120_000)
            visit.page.get_by_role("heading", name="When each system is usable").wait_for()
            assert visit.page.locator("rect.cohort").count() == len(_result(site).training)
            visit.check("partner-board-plan")
        finally:
            visit.close()
            chromium.close()
