"""The issue's end-to-end stories in Debian's Chromium (headless, Playwright, network blocked).

Each page visited is screenshot (checked not blank) and checked with axe-core (no serious or
critical violation). Screenshots go to the test's temporary folder, or to
``$FORCEMODEL_WEB_SCREENSHOTS`` when set (to look at them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, accessible, chromium_missing, live_server, not_blank
from browser import offline as block_network
from web_site import Site, start_site

from forcemodel.assist import bundled_cases
from support.scenarios import TINY_TEXT

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
#: Each story takes 10 to 80 s on a loaded 2-core machine (axe-core on every page).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    missing = chromium_missing()
    assert missing is None, missing
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A browser session on a live site: sign in, open pages, screenshot and check each."""

    def __init__(self, browser: Any, url: str, site: Site, shots: Path, width: int = 1280):
        self.url, self.site, self.shots = url, site, shots
        self.blocked: list[str] = []
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        block_network(self.context, self.blocked)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.count = 0

    def sign_in(self, user: str) -> None:
        self.page.goto(f"{self.url}/ui/login")
        self.page.get_by_label("Token").fill(self.site.tokens[user])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(f"{self.url}/ui/")
        self.check(f"{user}-home")

    def nav(self, name: str) -> None:
        """Follow a link of the main navigation."""
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()

    def check(self, name: str) -> None:
        """Screenshot the page (not blank) and check its accessibility."""
        self.count += 1
        png = self.shots / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(png), full_page=False)
        not_blank(png)
        violations = accessible(self.page)
        assert not violations, f"{name}: " + "\n".join(violations)

    def close(self) -> None:
        self.context.close()
        assert not self.blocked, f"requests left the machine: {self.blocked}"
        assert not [e for e in self.errors if "Content Security Policy" in e], self.errors


@pytest.fixture
def visit(browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    site = start_site(tmp_path, monkeypatch)
    shots = Path(os.environ.get("FORCEMODEL_WEB_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    visits: list[Visit] = []
    with live_server(site.app) as url:

        def make(width: int = 1280) -> Visit:
            v = Visit(browser, url, site, shots, width)
            visits.append(v)
            return v

        yield make
        for v in visits:
            v.close()


def test_donor_edits_a_pledge_meets_a_conflict_and_reapplies(visit: Any) -> None:
    v = visit()
    v.sign_in("donor")
    page, site = v.page, v.site
    v.nav("Pledges")
    v.check("pledges")
    page.get_by_role("link", name=str(site.ids["p155"]), exact=True).click()
    page.get_by_role("link", name="Edit this pledge").click()
    v.check("pledge-edit")
    # A wrong quantity: the error shows beside the field.
    page.get_by_label("Quantity").fill("lots")
    page.get_by_role("button", name="Save").click()
    assert "a whole number" in page.locator("#e-quantity").inner_text()
    v.check("pledge-edit-invalid")
    # Meanwhile a colleague at DE's desk changes the pledge: the form's version is stale.
    site.api(
        "donor", "PATCH", f"/pledges/{site.ids['p155']}", json={"location": "Lviv", "version": 1}
    )
    page.get_by_label("Quantity").fill("90")
    page.get_by_role("button", name="Save").click()
    assert "Someone else changed pledge" in page.locator("h1").inner_text()
    v.check("pledge-conflict")
    page.get_by_role("button", name="Reapply my change on version 2").click()
    assert "Saved: the pledge is now at version 3" in page.locator("[role=status]").inner_text()
    v.check("pledge-saved")
    pledge = site.api("observer", "GET", f"/pledges/{site.ids['p155']}")
    assert (pledge["quantity"], pledge["location"]) == (90, "Lviv")  # both changes kept


def test_donor_imports_pledges_after_a_row_by_row_preview(visit: Any, tmp_path: Path) -> None:
    v = visit()
    v.sign_in("donor")
    page, site = v.page, v.site
    header = "donor,item_id,quantity,available_from,location\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "DE,155-he,12,2026-05-01,Gdansk\nDE,155-he,many,2026-05-01,Gdansk\n")
    v.nav("Pledges")
    page.get_by_role("link", name="Import pledges from CSV").click()
    v.check("import-form")
    page.get_by_label("A CSV file of pledges").set_input_files(bad)
    page.get_by_role("button", name="Check the file").click()
    assert page.locator("#preview tr.row-bad").count() == 1
    assert "quantity" in page.locator("#preview tr.row-bad").inner_text()
    assert page.locator("#confirm").count() == 0
    v.check("import-refused")
    good = tmp_path / "good.csv"
    good.write_text(header + "DE,155-he,12,2026-05-01,Gdansk\nDE,152-he,4,2026-05-03,Gdansk\n")
    before = len(site.api("observer", "GET", "/pledges"))
    page.get_by_label("A CSV file of pledges").set_input_files(good)
    page.get_by_role("button", name="Check the file").click()
    assert page.locator("#preview tr.row-ok").count() == 2
    v.check("import-preview")
    assert len(site.api("observer", "GET", "/pledges")) == before  # nothing written yet
    page.get_by_role("button", name="Import these 2 rows").click()
    assert "Imported: 2 new" in page.locator("#imported").inner_text()
    v.check("import-done")
    assert len(site.api("observer", "GET", "/pledges")) == before + 2


def test_coordinator_runs_the_matcher_and_reads_why(visit: Any, tmp_path: Path) -> None:
    v = visit(width=800)  # a tablet's width
    v.sign_in("coordinator")
    page, site = v.page, v.site
    v.nav("Requirements")
    v.check("requirements")
    v.nav("Matcher")
    page.get_by_role("button", name="Run the matcher (dry run)").click()
    unmet = page.locator("#unmet li", has_text=f"Requirement {site.ids['soviet']}")
    assert "no pledge" in unmet.inner_text() and "10 of 40 short" in unmet.inner_text()
    v.check("matcher")
    page.goto(f"{v.url}/ui/board/audit/pledge/{site.ids['p155']}")
    assert "create" in page.locator("main").inner_text()
    v.check("audit")
    # The assistance plan of the example case: when systems are usable, cohorts, hubs, fleet.
    v.nav("Assistance plans")
    page.get_by_role("link", name="example").click()
    assert page.locator("#cohorts rect.cohort").count() > 0
    assert "crews" in page.locator("main").inner_text()
    v.check("case-plan")
    page.locator("#h-fleet").scroll_into_view_if_needed()
    assert page.locator("polyline.series").count() >= 3
    v.check("case-fleet")
    # A case file uploaded: a broken one shows its located problem, a good one is matched.
    example = bundled_cases()["example"].read_text(encoding="utf-8")
    broken, good = tmp_path / "broken-case.yaml", tmp_path / "our-case.yaml"
    broken.write_text(example.replace("horizon_days: 150", "horizon_days: -5", 1))
    good.write_text(example)
    v.nav("Assistance plans")
    field = page.get_by_label("A case YAML file, or a zipped case folder")
    field.set_input_files(broken)
    page.get_by_role("button", name="Upload and match").click()
    assert "broken-case.yaml:15: meta.horizon_days" in page.locator("main").inner_text()
    v.check("case-upload-problems")
    field.set_input_files(good)
    page.get_by_role("button", name="Upload and match").click()
    page.wait_for_url(f"{v.url}/ui/board/cases/our-case")
    page.wait_for_selector("#cohorts rect.cohort", timeout=300_000)  # followed, then reloaded
    v.check("uploaded-case-plan")


def test_observer_cannot_reach_an_edit_form(visit: Any) -> None:
    v = visit()
    v.sign_in("observer")
    page, site = v.page, v.site
    page.goto(f"{v.url}/ui/board/pledges/{site.ids['p155']}")
    assert page.get_by_role("link", name="Edit this pledge").count() == 0
    v.check("observer-pledge")
    response = page.goto(f"{v.url}/ui/board/pledges/{site.ids['p155']}/edit")
    assert response.status == 403 and "Not allowed" in page.locator("h1").inner_text()
    assert page.locator("form input[name=quantity]").count() == 0
    v.check("observer-refused")


#: A run's page once the run ended (or any page that is not a run's, such as an error).
FINAL = ", ".join(
    [f'#progress[data-state="{s}"]' for s in ("done", "failed", "cancelled", "interrupted")]
    + ["body:not(:has(#progress))"]
)


def finished(page: Any) -> None:
    """Wait until the run's page shows it ended; it must have ended well."""
    page.wait_for_selector(FINAL, timeout=300_000)
    assert page.locator("#progress").count() == 1, page.content()[:3000]
    state = page.locator("#progress").get_attribute("data-state")
    assert state == "done", page.locator("#progress").inner_text()


def test_analyst_uploads_runs_watches_compares_and_downloads(visit: Any, tmp_path: Path) -> None:
    v = visit()
    v.sign_in("analyst")
    page = v.page
    v.nav("Scenarios")
    broken = tmp_path / "my-flank.yaml"
    broken.write_text(TINY_TEXT.replace("home: garrison-a,", "home: garrison-x,", 1))
    page.get_by_label("A scenario YAML file, or a zipped scenario folder").set_input_files(broken)
    page.get_by_role("button", name="Upload and check").click()
    problems = page.locator("#problems").inner_text()
    assert "my-flank.yaml:" in problems and "unknown node 'garrison-x'" in problems
    v.check("upload-problems")
    page.get_by_role("link", name="eastern-flank").click()
    assert page.locator("#map line").count() > 100
    page.wait_for_selector("#map g.unit image", state="attached")  # APP-6 symbols drawn
    v.check("scenario-map")
    # Keyboard pan: moved as a picture at once, redrawn (the viewBox) once it rests.
    page.locator("#map").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.forcemodelMap.settled()")
    assert page.locator("#map").get_attribute("viewBox").split()[:2] == ["100", "0"]
    assert page.locator(".map-move").evaluate("e => e.style.transform") == ""
    # Two runs (the second to compare with the first); the page follows the first.
    page.get_by_role("button", name="Simulate eastern-flank").click()
    first = page.url
    page.goto(first.rsplit("/jobs/", 1)[0].replace("/plan", "/plan/scenarios/eastern-flank"))
    page.get_by_role("button", name="Simulate eastern-flank").click()
    second = page.url
    page.goto(first)
    assert page.locator("#state").inner_text() in ("queued", "running", "done")
    v.check("run-progress")
    finished(page)  # the page follows the run, and reloads itself when it ends
    assert page.locator("#regions").count() == 1
    assert float(page.locator("#bar").get_attribute("value")) == 1.0
    v.check("run-done")
    assert page.locator("#bottlenecks rect.load").count() > 0
    page.locator("#bottlenecks").scroll_into_view_if_needed()
    v.check("run-bottlenecks")
    page.get_by_role("link", name="Lithuania").click()
    assert page.locator("figure.chart polyline").count() >= 2
    v.check("region")
    assert page.locator("#gantt rect.leg").count() > 0
    page.locator("#gantt").scroll_into_view_if_needed()
    v.check("region-gantt")
    page.goto(second)
    finished(page)
    v.nav("Compare")
    page.get_by_label("Run A").select_option(first.rsplit("/", 1)[1])
    page.get_by_label("Run B").select_option(second.rsplit("/", 1)[1])
    page.get_by_role("button", name="Compare").click()
    assert "closure_day_A" in page.locator("#comparison").inner_text()
    v.check("compare")
    page.goto(first)
    with page.expect_download() as download:
        page.get_by_role("link", name="regions (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("region,closure_day") and "lithuania," in text
    # A sweep of tiny's uncertainty from the page, followed live, and its fan charts.
    page.goto(f"{v.url}/ui/plan/scenarios/tiny")
    page.get_by_label("Draws").fill("4")
    page.get_by_role("button", name="Sweep tiny").click()
    finished(page)
    fan = page.locator("#sweep-fan img")
    assert fan.evaluate("img => img.complete && img.naturalWidth > 100")
    v.check("sweep")
    # The attacker on tiny (single losses, checked up to 5 simulations), its criticality map.
    page.goto(f"{v.url}/ui/plan/scenarios/tiny")
    page.get_by_label("lithuania", exact=True).check()
    page.get_by_label("Work limit (simulations per check)").fill("5")
    page.get_by_role("button", name="Attack tiny").click()
    finished(page)
    assert page.locator("#criticality-lithuania .asset").count() > 0
    v.check("attack")
