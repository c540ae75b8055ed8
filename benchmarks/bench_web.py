"""Benchmark: the board's list pages with 10,000 pledges, and a finished run's results page.

1. **Board**: a SQLite database with 10,000 pledges of 20 donors (and 2,000 requirements);
   signed in as an observer, request pages of 50 pledges through the pages (``/ui/board/...``):
   filtered by donor, by status and capability, and deep pages (offset 5,000). Target: p95 under
   200 ms per page request. Baseline, in the same process on the same data: the API's list of
   pledges (``GET /pledges?limit=50``, JSON), so the ratio is what rendering HTML costs.
2. **Results page**: eastern-flank simulated once (not timed), then the run's page (regions and
   assessment tables) requested right after the run ends (first view: reads and assesses the
   results) and again (cached). Target: under 2 s from a finished run to the page.

Requests go through Starlette's test client (in process, no network), timed by
``time.perf_counter`` around each request. Run: ``python -m benchmarks.bench_web``
(``--pledges``, ``--requests``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from forcemodel.service.api import create_app
from forcemodel.service.auth import add_user
from forcemodel.service.db import session_factory
from forcemodel.service.tables import Donor, Item, Pledge, Requirement, Role


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def fill(app: object, pledges: int) -> dict[str, str]:
    """Items, donors, pledges and requirements written straight to the tables; tokens."""
    rng = random.Random(1)
    sessions = session_factory(app.state.engine)  # type: ignore[attr-defined]
    with sessions() as s:
        tokens = {"observer": add_user(s, "observer", Role.observer, None)[1]}
        items = [
            ("155-he", "ammunition", "nato-155"),
            ("152-he", "ammunition", "soviet-152"),
            ("ifv", "vehicle", "nato"),
            ("sam", "air-defence", "nato"),
        ]
        for i, cat, std in items:
            s.add(Item(id=i, name=i, category=cat, standard=std, version=1))
        donors = [f"D{chr(65 + k // 26)}{chr(65 + k % 26)}"[:3] for k in range(20)]
        for d in donors:
            s.add(Donor(code=d, name=d, version=1))
        s.flush()
        day = dt.date(2026, 3, 1)
        for _n in range(pledges):
            s.add(
                Pledge(
                    donor=rng.choice(donors),
                    item_id=rng.choice(items)[0],
                    quantity=rng.randint(1, 500),
                    available_from=day,
                    location="hub",
                    status="pledged",
                    note="",
                    version=1,
                )
            )
        for _n in range(pledges // 5):
            s.add(
                Requirement(
                    partner="UA",
                    item_id=rng.choice(items)[0],
                    quantity=rng.randint(1, 500),
                    priority=rng.randint(1, 5),
                    needed_by=day,
                    location="Kyiv",
                    note="",
                    version=1,
                )
            )
        s.commit()
    return tokens


def board(requests: int, pledges: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FORCEMODEL_WEB_DIR"] = str(Path(tmp) / "web")
        app = create_app(f"sqlite:///{tmp}/bench.db")
        tokens = fill(app, pledges)
        web = TestClient(app, follow_redirects=False)
        form = web.get("/ui/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        web.post("/ui/login", data={"token": tokens["observer"], "csrf": csrf})
        api = TestClient(app, headers={"Authorization": f"Bearer {tokens['observer']}"})
        pages = [
            "/ui/board/pledges?donor=DAA",
            "/ui/board/pledges?status=pledged&category=ammunition",
            f"/ui/board/pledges?offset={pledges // 2}",
            "/ui/board/requirements?priority=1",
        ]
        api_pages = ["/pledges?donor=DAA&limit=50", "/pledges?status=pledged&limit=50"]
        web_times: list[float] = []
        api_times: list[float] = []
        for k in range(requests):  # interleaved, so that machine noise hits both alike
            t = time.perf_counter()
            r = web.get(pages[k % len(pages)])
            web_times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text[:300]
            t = time.perf_counter()
            r = api.get(api_pages[k % len(api_pages)])
            api_times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text[:300]
        w, a = p95(web_times) * 1000, p95(api_times) * 1000
        print(f"board, {pledges:,} pledges, {requests} page requests each:")
        print(
            f"  pages (HTML, 50 rows, filters and deep offsets): p95 {w:.1f} ms, "
            f"median {statistics.median(web_times) * 1000:.1f} ms (target p95 < 200 ms)"
        )
        print(
            f"  API (JSON, 50 rows):                              p95 {a:.1f} ms, "
            f"median {statistics.median(api_times) * 1000:.1f} ms"
        )
        print(f"  ratio pages / API at p95: {w / a:.2f}")


def results_page() -> None:
    from forcemodel.web.jobs import JobPool
    from forcemodel.web.plan_pages import _simulate

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FORCEMODEL_WEB_DIR"] = str(Path(tmp) / "web")
        app = create_app(f"sqlite:///{tmp}/bench.db")
        with session_factory(app.state.engine)() as s:
            token = add_user(s, "coordinator", Role.coordinator, None)[1]
        pool: JobPool = app.state.web.state.pool
        job = pool.submit(
            "simulate", "eastern-flank", "eastern-flank", "coordinator", "coordinator", _simulate
        )
        pool.wait(job.id, 900)
        assert job.state == "done", job.error
        web = TestClient(app, follow_redirects=False)
        form = web.get("/ui/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        web.post("/ui/login", data={"token": token, "csrf": csrf})
        t = time.perf_counter()
        first = web.get(f"/ui/plan/jobs/{job.id}")
        cold = time.perf_counter() - t
        t = time.perf_counter()
        web.get(f"/ui/plan/jobs/{job.id}")
        warm = time.perf_counter() - t
        t = time.perf_counter()
        web.get(f"/ui/plan/jobs/{job.id}/regions/lithuania")
        region = time.perf_counter() - t
        assert first.status_code == 200 and 'id="regions"' in first.text
        print("eastern-flank results page after the run ended:")
        print(
            f"  first view {cold * 1000:.0f} ms (target < 2,000 ms), again {warm * 1000:.0f} ms, "
            f"a region's charts {region * 1000:.0f} ms; baseline (page already read): "
            f"ratio first / again {cold / warm:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    board(args.requests, args.pledges)
    results_page()


if __name__ == "__main__":
    main()
