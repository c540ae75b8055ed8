"""The dashboard's simulations and optimisations on a real Dask cluster (separate processes on
loopback, the sweep tests' fixture): the results are a local run's, the engine's progress lines
reach the page, and *Cancel* stops the remote job and cancels its future."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import web_remote_task
from web_site import Site, csrf_of

import forcemodel.web.remote as remote
from forcemodel.flow import simulate
from forcemodel.scenario.load import load_scenario
from forcemodel.web.jobs import Job, JobPool, Progress
from support.scenarios import TINY_TEXT

pytestmark = pytest.mark.slow  # the cluster starts in about 10 s; each run crosses it


def _start(site: Site, user: str, scenario: str, action: str = "run", **form: object) -> str:
    client = site.signed_in(user)
    page = client.get(f"/ui/plan/scenarios/{scenario}")
    r = client.post(
        f"/ui/plan/scenarios/{scenario}/{action}", data={"csrf": csrf_of(page.text), **form}
    )
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    site.app.state.web.state.pool.wait(job_id, 600)
    return job_id


def test_a_simulation_runs_on_the_cluster_with_its_progress(
    site: Site, dask_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    monkeypatch.setenv(remote.SCHEDULER_ENV, dask_cluster)
    client = site.signed_in("analyst")
    page = client.get("/ui/plan/scenarios")
    r = client.post(  # an uploaded scenario: its folder is the server's, the cluster gets it
        "/ui/plan/scenarios",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("mine.yaml", TINY_TEXT.encode(), "application/x-yaml")},
    )
    assert r.status_code == 303
    job_id = _start(site, "analyst", "mine")
    web = site.app.state.web.state
    job = web.pool.get(job_id)
    assert job.state == "done", job.error
    assert job.messages[0] == f"sent to the Dask cluster at {dask_cluster}"
    # The engine's steps, sent by the worker as events, in order, then the result.
    steps = [m for m in job.messages if m.startswith(("compiling", "planning", "tabulating"))]
    assert steps == [
        "compiling the network",
        "planning destinations and pre-positioned sets",
        "tabulating results",
    ]
    assert job.messages[-1] == "results received from the cluster" and job.fraction == 1.0
    with Client(dask_cluster, set_as_default=False) as c:
        sent = [m for _t, (_n, m) in c.get_events(f"forcemodel-job-{job_id}")]
    assert sent == job.messages[1:-1]  # every line the worker sent reached the job, once
    # The results are those of a local run of the same scenario.
    ours = web.runs.get(job_id, web.pool.results_dir(job_id), job.source).results
    local = simulate(load_scenario(job.source))
    pd.testing.assert_frame_equal(ours.units, local.units)
    assert client.get(f"/ui/plan/jobs/{job_id}").status_code == 200
    assert "Regions" in client.get(f"/ui/plan/jobs/{job_id}").text


def test_an_optimisation_runs_on_the_cluster(
    site: Site, dask_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forcemodel.optimize import WorkLimits
    from forcemodel.web import plan_pages

    monkeypatch.setenv(remote.SCHEDULER_ENV, dask_cluster)
    monkeypatch.setattr(
        plan_pages, "OPTIMIZE_WORK", WorkLimits(evaluations=3, mip_nodes=20, lp_iterations=5000)
    )
    job_id = _start(site, "coordinator", "tiny", "optimize", stop="work")
    web = site.app.state.web.state
    job = web.pool.get(job_id)
    assert (job.kind, job.state) == ("optimize", "done"), job.error
    assert (
        job.messages[1].startswith("optimizing") and "simulating the optimised plan" in job.messages
    )
    plan = pd.read_csv(web.pool.job_dir(job_id) / "plan" / "plan.csv")
    results = web.runs.get(job_id, web.pool.results_dir(job_id), "tiny").results
    simulated = results.units.set_index("unit")["region"].sort_index()
    assert simulated.to_dict() == plan.set_index("unit")["region"].sort_index().to_dict()


def test_cancel_stops_the_remote_job(dask_cluster: str, tmp_path: Path) -> None:
    from distributed import Client, Event

    with Client(dask_cluster, set_as_default=False) as c:  # the workers import forcemodel only
        c.upload_file(str(Path(web_remote_task.__file__)))
    pool = JobPool(tmp_path)
    seen = threading.Event()

    def run(job: Job, say: Callable[[str], None], out: Path) -> None:
        assert isinstance(say, Progress)

        def relay(message: str) -> None:
            say(message)
            if message == "step 3":
                seen.set()

        remote.run_on_cluster(
            dask_cluster, job.id, relay, say.stopped, out.parent, web_remote_task.endless
        )

    job = pool.submit("simulate", "tiny", "tiny", "a", "analyst", run)
    assert seen.wait(120), job.error
    assert pool.cancel(job.id)
    pool.wait(job.id, 120)
    assert job.state == "cancelled" and not pool.results_dir(job.id).exists()
    with Client(dask_cluster, set_as_default=False) as c:
        assert Event(f"forcemodel-cancel-{job.id}", client=c).is_set()
        # The worker stopped at its next progress line: it sent far fewer than all its steps,
        # and the future is gone from the cluster.
        sent = len(c.get_events(f"forcemodel-job-{job.id}"))
        assert 4 <= sent < web_remote_task.STEPS
        assert not c.who_has() or all(not v for v in c.who_has().values())
    pool.shutdown()
