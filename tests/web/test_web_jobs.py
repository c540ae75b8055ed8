"""The planning dashboard over plain HTTP: uploads, runs as jobs, progress, results, restarts.

Runs use the bundled ``tiny`` scenario (a second or two each); the browser tests run
eastern-flank.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from web_site import Site, csrf_of

from forcemodel.assessment import AT_CAPACITY
from forcemodel.report import data as report_data
from forcemodel.web import plan_pages, planning
from forcemodel.web.jobs import Job, JobPool, JobRefused
from forcemodel.web.plan_pages import csv_text
from support.scenarios import TINY_TEXT, line_of


def _run(site: Site, user: str = "coordinator", scenario: str = "tiny") -> str:
    client = site.signed_in(user)
    page = client.get(f"/ui/plan/scenarios/{scenario}")
    r = client.post(f"/ui/plan/scenarios/{scenario}/run", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    site.app.state.web.state.pool.wait(job_id, 600)
    return job_id


def test_broken_upload_shows_the_located_problem_and_keeps_nothing(site: Site) -> None:
    broken = TINY_TEXT.replace("home: garrison-a,", "home: garrison-x,", 1)
    line = line_of(broken, "garrison-x")
    client = site.signed_in("coordinator")
    page = client.get("/ui/plan/scenarios")
    r = client.post(
        "/ui/plan/scenarios",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("my-flank.yaml", broken.encode(), "application/x-yaml")},
    )
    assert r.status_code == 422
    assert re.search(
        rf"my-flank.yaml:{line}: units\[\d\]\.home: unknown node &#39;garrison-x&#39;", r.text
    )
    assert "not kept" in r.text
    assert not (site.app.state.web.state.data_dir / "scenarios" / "my-flank").exists()


def test_valid_upload_of_a_zipped_folder_is_kept(site: Site) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("variant/scenario.yaml", TINY_TEXT)
    client = site.signed_in("coordinator")
    page = client.get("/ui/plan/scenarios")
    r = client.post(
        "/ui/plan/scenarios",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("Variant.zip", data.getvalue(), "application/zip")},
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/plan/scenarios/variant?uploaded=1"
    assert "uploaded" in client.get("/ui/plan/scenarios").text
    assert "Uploaded and valid" in client.get(r.headers["location"]).text


@pytest.mark.parametrize("name", ["../../evil.yaml", "/abs.yaml"])
def test_zip_with_unsafe_paths_is_refused(site: Site, name: str) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("scenario.yaml", TINY_TEXT)
        z.writestr(name, "x")
    client = site.signed_in("coordinator")
    page = client.get("/ui/plan/scenarios")
    r = client.post(
        "/ui/plan/scenarios",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("x.zip", data.getvalue(), "application/zip")},
    )
    assert r.status_code == 422 and "unsafe path" in r.text


@pytest.mark.parametrize("user", ["observer", "donor", "partner"])
def test_only_planners_upload_or_run(site: Site, user: str) -> None:
    client = site.signed_in(user)
    page = client.get("/ui/")
    csrf = csrf_of(page.text)  # the sign-out form's
    if user == "observer":
        shown = client.get("/ui/plan/scenarios/tiny")
        assert shown.status_code == 200 and "Simulate tiny" not in shown.text
    assert client.post("/ui/plan/scenarios/tiny/run", data={"csrf": csrf}).status_code == 403
    r = client.post(
        "/ui/plan/scenarios",
        data={"csrf": csrf},
        files={"file": ("a.yaml", TINY_TEXT.encode(), "application/x-yaml")},
    )
    assert r.status_code == 403
    assert site.app.state.web.state.pool.all() == []


def test_an_analyst_uploads_runs_and_cancels(site: Site) -> None:
    client = site.signed_in("analyst")
    page = client.get("/ui/plan/scenarios/tiny")
    assert "Simulate tiny" in page.text
    r = client.post(
        "/ui/plan/scenarios",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("mine.yaml", TINY_TEXT.encode(), "application/x-yaml")},
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/plan/scenarios/mine")
    job_id = _run(site, "analyst", "mine")
    job = site.app.state.web.state.pool.get(job_id)
    assert (job.state, job.owner, job.owner_role) == ("done", "analyst", "analyst")
    shown = client.get(f"/ui/plan/jobs/{job_id}")
    assert shown.status_code == 200 and "Regions" in shown.text
    # Cancelling a finished run changes nothing, and is the analyst's to ask.
    cancel = client.post(f"/ui/plan/jobs/{job_id}/cancel", data={"csrf": csrf_of(shown.text)})
    assert cancel.status_code == 303
    assert site.app.state.web.state.pool.get(job_id).state == "done"


def test_a_run_reports_progress_and_results(site: Site) -> None:
    job_id = _run(site)
    client = site.signed_in("coordinator")
    with client.stream("GET", f"/ui/plan/jobs/{job_id}/events") as events:
        text = "".join(events.iter_text())
    progress = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
    assert progress[-1]["state"] == "done" and progress[-1]["fraction"] == 1.0
    assert progress[-1]["messages"][:2] == [
        "compiling the network",
        "planning destinations and pre-positioned sets",
    ]
    assert 'event: end\ndata: "done"' in text
    page = client.get(f"/ui/plan/jobs/{job_id}").text
    assert 'id="regions"' in page and f"/ui/plan/jobs/{job_id}/regions/lithuania" in page
    region = client.get(f"/ui/plan/jobs/{job_id}/regions/lithuania")
    assert region.status_code == 200 and "<polyline" in region.text
    closure = (
        site.app.state.web.state.runs.get(
            job_id, site.app.state.web.state.pool.results_dir(job_id), "tiny"
        )
        .regions.set_index("region")
        .loc["lithuania", "closure_day"]
    )
    assert f'<strong id="closure">{int(closure)}</strong>' in region.text
    csv = client.get(f"/ui/plan/jobs/{job_id}/tables/regions.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("region,closure_day")
    assert csv.text.splitlines()[1].startswith(f"lithuania,{int(closure)},")


def test_results_show_unit_movements_and_bottlenecks_from_the_report_data(site: Site) -> None:
    job_id = _run(site, "analyst")
    client = site.signed_in("analyst")
    web = site.app.state.web.state
    results = web.runs.get(job_id, web.pool.results_dir(job_id), "tiny").results
    bars, counts = report_data.gantt_frame(results)
    ours = bars[bars["region"] == "lithuania"]
    assert len(ours) > 0
    region = client.get(f"/ui/plan/jobs/{job_id}/regions/lithuania").text
    legs = re.findall(
        r'<rect class="leg" data-category="([a-z_]+)"[^>]*><title>([^<]*)</title>', region
    )
    # One bar per leg of the report's movement chart (tiny ends well inside its horizon).
    assert sorted(c for c, _ in legs) == sorted(ours["category"])
    first = ours.iloc[0]
    assert any(t.startswith(f"{first['unit']} ({first['load']})") for _, t in legs)
    shown = counts.set_index("region").loc["lithuania"]
    assert f"the {shown['shown']} of {shown['total']} units that close first" in region
    # The bottlenecks: one cell per loaded day of the busiest servers, as the report's heat map.
    page = client.get(f"/ui/plan/jobs/{job_id}").text
    util, servers = report_data.server_frames(results, planning.BOTTLENECK_ROWS)
    loaded = util[(util["utilisation"] > 0) & (util["day"] < results.meta["horizon_days"])]
    assert page.count('<rect class="load"') == len(loaded) > 0
    full = int((loaded["utilisation"] >= AT_CAPACITY).sum())
    wide = planning.bottleneck_chart(web.runs.get(job_id, web.pool.results_dir(job_id), "tiny"))
    marked = (wide["right"] - wide["left"]) / results.meta["horizon_days"] >= planning.MARK_MIN_W
    assert marked and page.count(">×</text>") == full  # tiny's days are wide enough
    assert str(servers["server"].iloc[0]) in page
    # Both as CSV, every unit and every server.
    moves = client.get(f"/ui/plan/jobs/{job_id}/tables/movements.csv").text.splitlines()
    assert moves[0].startswith("row,region,unit,load,category,start,end")
    assert len(moves) - 1 == len(report_data.gantt_frame(results, None)[0])
    every = client.get(f"/ui/plan/jobs/{job_id}/tables/servers.csv").text.splitlines()
    assert every[0] == "server,kind,days_at_capacity,mean_utilisation,peak"
    assert len(every) - 1 == len(report_data.server_frames(results, None)[1])


@pytest.mark.slow  # the optimiser on tiny, then a simulation: about 30 s on a loaded machine
def test_an_analyst_optimizes_and_reads_the_plan_and_its_simulation(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forcemodel.optimize import WorkLimits

    monkeypatch.setattr(
        plan_pages, "OPTIMIZE_WORK", WorkLimits(evaluations=3, mip_nodes=20, lp_iterations=5000)
    )
    client = site.signed_in("analyst")
    page = client.get("/ui/plan/scenarios/tiny")
    assert 'id="optimize"' in page.text
    r = client.post(
        "/ui/plan/scenarios/tiny/optimize", data={"csrf": csrf_of(page.text), "stop": "work"}
    )
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    web = site.app.state.web.state
    web.pool.wait(job_id, 600)
    job = web.pool.get(job_id)
    assert (job.kind, job.state) == ("optimize", "done"), job.error
    assert job.messages[0].startswith("optimizing") and len(job.messages) > 3
    assert "simulating the optimised plan" in job.messages and job.fraction == 1.0
    # The plan, as the optimiser writes it, and its simulation are what the pages show.
    plan = pd.read_csv(web.pool.job_dir(job_id) / planning.PLAN_FOLDER / "plan.csv")
    results = web.runs.get(job_id, web.pool.results_dir(job_id), "tiny").results
    simulated = results.units.set_index("unit")["region"].sort_index()
    assert simulated.to_dict() == plan.set_index("unit")["region"].sort_index().to_dict()
    html = client.get(f"/ui/plan/jobs/{job_id}").text
    assert "The optimised plan" in html and 'id="regions"' in html
    assert all(f"<td>{u}</td>" in html for u in plan["unit"])
    table = client.get(f"/ui/plan/jobs/{job_id}/tables/plan.csv").text.splitlines()
    assert table[0].startswith("unit,region,stock") and len(table) == len(plan) + 1
    # Observers read it once done; a simulation has no plan to download.
    assert site.signed_in("observer").get(f"/ui/plan/jobs/{job_id}").status_code == 200
    other = _run(site, "analyst")
    assert client.get(f"/ui/plan/jobs/{other}/tables/plan.csv").status_code == 404
    assert "The optimised plan" not in client.get(f"/ui/plan/jobs/{other}").text


@pytest.mark.slow  # 4 runs of tiny in a pool of 2 processes, then the charts: about 15 s
def test_an_analyst_sweeps_and_reads_the_fan_charts(site: Site) -> None:
    client = site.signed_in("analyst")
    page = client.get("/ui/plan/scenarios/tiny")
    r = client.post(
        "/ui/plan/scenarios/tiny/sweep", data={"csrf": csrf_of(page.text), "draws": 4, "seed": 1}
    )
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    web = site.app.state.web.state
    web.pool.wait(job_id, 600)
    job = web.pool.get(job_id)
    assert (job.kind, job.state) == ("sweep", "done"), job.error
    assert "runs: 4 of 4 done" in job.messages and job.messages[-1] == "drawing the fan charts"
    html = client.get(f"/ui/plan/jobs/{job_id}").text
    assert 'id="sweep-fan"' in html and 'alt="Fan chart' in html
    png = client.get(f"/ui/plan/jobs/{job_id}/sweep/fan.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    # The summary is the sweep's own file, shown and downloadable.
    folder = web.pool.job_dir(job_id) / planning.SWEEP_FOLDER
    summary = pd.read_csv(folder / "summary.csv")
    assert set(summary["runs"]) == {4}
    text = client.get(f"/ui/plan/jobs/{job_id}/sweep/summary.csv").text.splitlines()
    assert text[0] == ",".join(summary.columns) and len(text) == len(summary) + 1
    # A sweep has no single result: no region page, not offered for comparison.
    assert client.get(f"/ui/plan/jobs/{job_id}/regions/lithuania").status_code == 404
    assert job_id not in client.get("/ui/plan/compare").text
    assert client.get(f"/ui/plan/jobs/{job_id}/sweep/secret.png").status_code == 422


def test_two_runs_compare_side_by_side(site: Site) -> None:
    a, b = _run(site), _run(site)
    client = site.signed_in("observer")  # observers read finished runs
    r = client.get(f"/ui/plan/compare?a={a}&b={b}")
    assert r.status_code == 200
    assert "closure_day_A" in r.text and "closure_day_B" in r.text and 'id="comparison"' in r.text


def test_finished_runs_reopen_after_a_restart_and_unfinished_are_interrupted(
    site: Site, tmp_path: Path
) -> None:
    job_id = _run(site)
    folder = site.app.state.web.state.pool.folder
    # A job that was running when the server stopped.
    stale = Job(
        "0123456789ab",
        "simulate",
        "tiny",
        "tiny",
        "coordinator",
        "coordinator",
        "2026-01-01T00:00:00+00:00",
        state="running",
    )
    (folder / stale.id).mkdir()
    (folder / stale.id / "job.json").write_text(json.dumps(stale.__dict__))
    (folder / "junk").mkdir()
    (folder / "junk" / "job.json").write_text("{not json")
    again = JobPool(folder)
    done = again.get(job_id)
    assert done is not None and done.state == "done"
    interrupted = again.get(stale.id)
    assert interrupted is not None and interrupted.state == "interrupted"
    assert json.loads((folder / stale.id / "job.json").read_text())["state"] == "interrupted"
    assert {j.id for j in again.all()} == {job_id, stale.id}


def _blocked(release: threading.Event, started: threading.Event | None = None):  # type: ignore[no-untyped-def]
    def run(job: Job, say, out: Path) -> None:  # type: ignore[no-untyped-def]
        say("compiling the network")
        if started is not None:
            started.set()
        release.wait(30)
        say("moving 1 units")  # raises when cancelled meanwhile
        out.mkdir()

    return run


def test_cancel_a_running_and_a_queued_job_and_the_queue_is_bounded(tmp_path: Path) -> None:
    pool = JobPool(tmp_path, workers=1, max_queued=1)
    release, started = threading.Event(), threading.Event()
    running = pool.submit(
        "simulate", "tiny", "tiny", "a", "coordinator", _blocked(release, started)
    )
    assert started.wait(30)
    queued = pool.submit("simulate", "tiny", "tiny", "a", "coordinator", _blocked(release))
    with pytest.raises(JobRefused, match="waiting already"):
        pool.submit("simulate", "tiny", "tiny", "a", "coordinator", _blocked(release))
    assert pool.cancel(queued.id) and pool.cancel(running.id)
    release.set()
    pool.wait(running.id, 30)
    assert queued.state == "cancelled" and running.state == "cancelled"
    assert not pool.results_dir(running.id).exists()
    assert not pool.cancel(running.id)  # finished: nothing to cancel
    pool.shutdown()


def test_a_failing_run_says_why(tmp_path: Path) -> None:
    pool = JobPool(tmp_path)

    def fail(job: Job, say, out: Path) -> None:  # type: ignore[no-untyped-def]
        raise ValueError("no route from garrison-a to assembly-lt")

    job = pool.submit("simulate", "tiny", "tiny", "a", "coordinator", fail)
    pool.wait(job.id, 30)
    assert job.state == "failed" and job.error == "no route from garrison-a to assembly-lt"
    pool.shutdown()


def test_observers_see_only_finished_runs(site: Site) -> None:
    pool = site.app.state.web.state.pool
    release = threading.Event()
    job = pool.submit("simulate", "tiny", "tiny", "coordinator", "coordinator", _blocked(release))
    try:
        assert site.signed_in("observer").get(f"/ui/plan/jobs/{job.id}").status_code == 404
        assert site.signed_in("coordinator").get(f"/ui/plan/jobs/{job.id}").status_code == 200
    finally:
        release.set()
        pool.wait(job.id, 30)


def test_csv_cells_cannot_become_formulas() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"a": ["=HYPERLINK(1)", "@x", "-1.5", "+cmd", "plain"], "b": [1, 2, 3, 4, 5]}
    )
    lines = csv_text(frame).splitlines()
    assert lines[1:] == ["'=HYPERLINK(1),1", "'@x,2", "-1.5,3", "'+cmd,4", "plain,5"]


def test_a_stored_scenario_that_no_longer_loads_shows_its_problems(site: Site) -> None:
    folder = site.app.state.web.state.data_dir / "scenarios" / "edited"
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(TINY_TEXT.replace("horizon_days: 60", "horizon_days: -1"))
    r = site.signed_in("observer").get("/ui/plan/scenarios/edited")
    assert r.status_code == 422 and "horizon_days" in r.text and 'id="map"' not in r.text
