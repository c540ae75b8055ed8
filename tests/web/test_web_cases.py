"""The assistance plan of a case: training pipeline, usable systems, hubs, fleet mix."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from web_site import USERS, Site, csrf_of

from forcemodel.assist import bundled_cases, fleet_mix
from forcemodel.web import case_uploads
from forcemodel.web.cases import CaseCache
from forcemodel.web.jobs import Job
from support.scenarios import line_of


def test_a_case_shows_its_pipeline_hubs_and_fleet_from_the_matcher(site: Site) -> None:
    client = site.signed_in("donor")
    assert 'href="/ui/board/cases/example"' in client.get("/ui/board/cases").text
    page = client.get("/ui/board/cases/example")
    assert page.status_code == 200, page.text
    plan = site.app.state.web.state.cases.get("example")  # matched once, on the first view
    html = page.text
    # One bar per cohort that runs, titled with its trainees and dates.
    bars = re.findall(r'<rect class="cohort"[^>]*><title>([^<]*)</title>', html)
    assert len(bars) == len(plan.result.training) > 0
    first = plan.result.training.iloc[0]
    assert any(f"{first['start_date']} to {first['end_date']}" in b for b in bars)
    # When each system is usable, and what holds it back.
    usable = plan.tables["usable"]
    for row in usable.to_dict("records"):
        assert f"<td>{row['item']}</td>" in html
    assert "<td>crews</td>" in html
    # A chart per hub (tons and capacity), and the fleet mix by standard.
    hubs = sorted(plan.result.hubs["hub"].unique())
    assert all(f"Hub {h}: tons a day" in html for h in hubs)
    assert 'data-key="nato"' in html and 'data-key="soviet"' in html
    mix = fleet_mix(plan.result, every=15)
    assert len(re.findall(r"<td>\d{4}-\d{2}-\d{2}</td>", html)) >= len(mix)
    # Every table as CSV.
    csv = client.get("/ui/board/cases/example/usable.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("item,delivered,first_delivery_date")
    assert len(csv.text.splitlines()) == len(usable) + 1
    fleet = client.get("/ui/board/cases/example/fleet.csv").text.splitlines()
    assert fleet[0] == "day,date,nato,soviet,other,nato_share" and len(fleet) == len(mix) + 1


def test_every_role_reads_cases_and_unknown_ones_are_not_found(site: Site) -> None:
    for user in USERS:
        assert site.signed_in(user).get("/ui/board/cases").status_code == 200
    client = site.signed_in("observer")
    assert client.get("/ui/board/cases/nope").status_code == 404
    assert client.get("/ui/board/cases/example/secrets.csv").status_code == 422  # no such table


EXAMPLE = (bundled_cases()["example"]).read_text(encoding="utf-8")


def _upload(site: Site, user: str, filename: str, content: bytes) -> Any:
    client = site.signed_in(user)
    page = client.get("/ui/board/cases")
    return client.post(
        "/ui/board/cases",
        data={"csrf": csrf_of(page.text)},
        files={"file": (filename, content, "application/octet-stream")},
    )


def test_a_coordinator_uploads_a_case_matched_in_the_job_pool(site: Site) -> None:
    r = _upload(site, "coordinator", "My Case.yaml", EXAMPLE.encode())
    assert r.status_code == 303 and r.headers["location"] == "/ui/board/cases/my-case"
    web = site.app.state.web.state
    (job,) = web.pool.all()
    assert (job.kind, job.scenario, job.owner) == ("match", "my-case", "coordinator")
    web.pool.wait(job.id, 600)
    assert job.state == "done", job.error
    assert job.messages[-1].startswith("matched (")
    # The page is the bundled case's page, of the plan the job matched.
    client = site.signed_in("partner")  # every role reads the plans
    assert 'href="/ui/board/cases/my-case"' in client.get("/ui/board/cases").text
    html = client.get("/ui/board/cases/my-case").text
    plan = web.cases.get("my-case")
    bars = re.findall(r'<rect class="cohort"[^>]*><title>([^<]*)</title>', html)
    assert len(bars) == len(plan.result.training) > 0
    # Its tables download as CSV; the job kept the matcher's own, as `assist match --out`.
    kept = web.pool.job_dir(job.id) / case_uploads.MATCH_FOLDER
    for table in ("deliveries", "requirements"):
        text = client.get(f"/ui/board/cases/my-case/{table}.csv").text.splitlines()
        assert len(text) == len(pd.read_csv(kept / f"{table}.csv")) + 1
    with client.stream("GET", "/ui/board/cases/my-case/events") as events:
        assert 'event: end\ndata: "done"' in "".join(events.iter_text())
    # After a restart (no plan at hand) the page matches the kept file again, as a bundled one.
    web.cases = CaseCache()
    again = client.get("/ui/board/cases/my-case").text
    assert len(re.findall(r'<rect class="cohort"', again)) == len(bars)
    # The job is a planner's run to read, not a scenario's; it has no region pages.
    page = site.signed_in("analyst").get(f"/ui/plan/jobs/{job.id}").text
    assert 'href="/ui/board/cases/my-case"' in page
    # A second upload of the same name gets a name of its own; a bundled name is never taken.
    assert (
        _upload(site, "coordinator", "example.yaml", EXAMPLE.encode()).headers["location"]
        == "/ui/board/cases/example-2"
    )


def test_a_broken_case_shows_its_located_problems_and_keeps_nothing(site: Site) -> None:
    broken = EXAMPLE.replace("horizon_days: 150", "horizon_days: -5", 1)
    line = line_of(broken, "horizon_days: -5")
    r = _upload(site, "coordinator", "broken.yaml", broken.encode())
    assert r.status_code == 422
    assert re.search(rf"broken.yaml:{line}: meta.horizon_days: [^<]+", r.text), r.text
    assert "nothing was kept" in r.text
    web = site.app.state.web.state
    assert not (web.data_dir / "cases" / "broken").exists() and web.pool.all() == []
    assert site.signed_in("donor").get("/ui/board/cases/broken").status_code == 404


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("case.txt", b"meta: {}", "upload a case YAML file (.yaml) or a zipped folder"),
        ("case.zip", b"not a zip", "not a zip file"),
        ("big.yaml", b"#" * (6 * 1024 * 1024), "larger than"),
    ],
)
def test_what_is_not_a_case_is_refused(
    site: Site, filename: str, content: bytes, message: str
) -> None:
    r = _upload(site, "coordinator", filename, content)
    assert r.status_code == 422 and message in r.text
    assert not (site.app.state.web.state.data_dir / "cases").exists() or not any(
        p for p in (site.app.state.web.state.data_dir / "cases").iterdir()
    )


def test_a_zipped_case_folder_with_a_csv_table_loads(site: Site) -> None:
    donors = re.search(r"^donors:\n((?:  - .*\n)+)", EXAMPLE, re.M)
    assert donors is not None
    rows = re.findall(r'\{id: ([^,]+), name: "([^"]+)", source: ([^}]+)\}', donors.group(1))
    assert len(rows) == donors.group(1).count("\n") > 0
    table = "id,name,source\n" + "".join(f'{i},"{n}",{s}\n' for i, n, s in rows)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("folder/case.yaml", EXAMPLE.replace(donors.group(0), "donors: donors.csv\n"))
        z.writestr("folder/donors.csv", table)
    r = _upload(site, "coordinator", "Zipped.zip", data.getvalue())
    assert r.status_code == 303 and r.headers["location"] == "/ui/board/cases/zipped"
    # A problem in the CSV table is located in it, as the command line locates it.
    with zipfile.ZipFile(data := io.BytesIO(), "w") as z:
        z.writestr("case.yaml", EXAMPLE.replace(donors.group(0), "donors: donors.csv\n"))
        z.writestr("donors.csv", table.replace(f"{rows[1][0]},", ",", 1))
    r = _upload(site, "coordinator", "csv.zip", data.getvalue())
    assert r.status_code == 422 and re.search(r"csv/donors.csv:3: donors\[1\]\.id", r.text), r.text
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("case.yaml", EXAMPLE)
        z.writestr("../evil.csv", "x")
    r = _upload(site, "coordinator", "evil.zip", bad.getvalue())
    assert r.status_code == 422 and "unsafe path" in r.text


@pytest.mark.parametrize("user", ["donor", "partner", "observer", "analyst"])
def test_only_coordinators_upload_cases(site: Site, user: str) -> None:
    client = site.signed_in(user)
    page = client.get("/ui/board/cases").text
    assert 'id="upload-case"' not in page
    r = client.post(
        "/ui/board/cases",
        data={"csrf": csrf_of(client.get("/ui/").text)},
        files={"file": ("x.yaml", EXAMPLE.encode(), "application/x-yaml")},
    )
    assert r.status_code == 403
    assert site.app.state.web.state.pool.all() == []


def test_the_page_of_a_case_being_matched_follows_the_job(site: Site) -> None:
    web = site.app.state.web.state
    name, problems = case_uploads.upload_case(
        web.data_dir, "waiting.yaml", EXAMPLE.encode(), set(bundled_cases())
    )
    assert (name, problems) == ("waiting", [])
    source = str(case_uploads.uploaded_cases(web.data_dir)[name])
    release = threading.Event()

    def blocked(job: Job, say: Callable[[str], None], out: Path) -> None:
        say("loading the case waiting")
        release.wait(30)
        raise ValueError("the matcher found no plan")

    job = web.pool.submit("match", name, source, "coordinator", "coordinator", blocked)
    try:
        page = site.signed_in("donor").get("/ui/board/cases/waiting").text
        assert 'data-events="/ui/board/cases/waiting/events"' in page
        assert "<li>loading the case waiting</li>" in page and "job.js" in page
    finally:
        release.set()
        web.pool.wait(job.id, 30)
    failed = site.signed_in("donor").get("/ui/board/cases/waiting")
    assert failed.status_code == 200 and "the matcher found no plan" in failed.text
    assert site.signed_in("donor").get("/ui/board/cases/waiting/usable.csv").status_code == 409
