"""The attacker from the dashboard over plain HTTP: start, follow, read the criticality map.

Attacks of tiny stop by work (k = 1 and a small check limit), never by time: the answer's
status says whether the check proved it.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from test_web_pages import PLAN_READ
from web_site import USERS, Site, csrf_of

from forcemodel.report.sweep_section import criticality_figure
from forcemodel.scenario.load import load_scenario
from forcemodel.web import attacks


def _attack(site: Site, user: str = "analyst", **form: object) -> str:
    client = site.signed_in(user)
    page = client.get("/ui/plan/scenarios/tiny")
    assert 'id="attack"' in page.text
    r = client.post("/ui/plan/scenarios/tiny/attack", data={"csrf": csrf_of(page.text), **form})
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    site.app.state.web.state.pool.wait(job_id, 600)
    return job_id


def test_an_attack_shows_the_criticality_map_and_the_worst_attack(site: Site) -> None:
    job_id = _attack(site, k=1, check=0, region="lithuania")
    web = site.app.state.web.state
    job = web.pool.get(job_id)
    assert (job.kind, job.state) == ("attack", "done"), job.error
    assert job.messages[0].startswith("attacking lithuania: 1 to 1 assets")
    assert any(m.startswith("simulations: ") for m in job.messages)
    folder = web.pool.job_dir(job_id) / attacks.ATTACK_FOLDER
    crit = pd.read_csv(folder / "criticality.csv")
    worst = pd.read_csv(folder / "attacks.csv")
    # What forcemodel report --attack reads: the folder of the scenario, its regions.
    about = json.loads((folder / "attack.json").read_text())
    assert (about["scenario"], about["regions"]) == ("tiny", ["lithuania"])
    assert not (folder / "protection.csv").exists()  # no budget given
    client = site.signed_in("analyst")
    html = client.get(f"/ui/plan/jobs/{job_id}").text
    assert 'id="criticality-lithuania"' in html
    # Each candidate asset on the map with the delay of criticality.csv, coloured as the
    # report's figure colours it.
    shown = dict(re.findall(r'class="asset" data-asset="([^"]+)" data-delay="([^"]+)"', html))
    assert {a: float(d) for a, d in shown.items()} == dict(
        zip(crit["asset"], crit["delay"].astype(float), strict=True)
    )
    s = load_scenario("tiny")
    fig = criticality_figure(crit, *attacks.network(s), "lithuania")
    top = crit.sort_values("delay").iloc[-1]
    line = next(t for t in fig["data"] if str(t.get("hovertemplate", "")).startswith(top["asset"]))
    assert re.search(
        rf'data-asset="{top["asset"]}" data-delay="[^"]+" points="[^"]+" '
        rf'stroke="{re.escape(line["line"]["color"])}"',
        html,
    )
    assert f"{top['asset']}: {top['delay']:g} d" in html  # the worst labelled, not colour only
    # The worst attack with its status: with a work limit of 0 nothing was checked.
    row = worst.iloc[0]
    assert (row["form"], row["k"], row["assets"]) == ("k", 1, top["asset"])
    assert f"<td>{row['status']}</td>" in html
    assert ('id="unproven"' in html) == (row["status"] != "exact")
    # Each table downloads as CSV, the attack's own file.
    for name in ("criticality", "attacks"):
        text = client.get(f"/ui/plan/jobs/{job_id}/attack/{name}.csv").text.splitlines()
        assert text[0] == (folder / f"{name}.csv").read_text().splitlines()[0]
        assert len(text) == len(pd.read_csv(folder / f"{name}.csv")) + 1
    assert client.get(f"/ui/plan/jobs/{job_id}/attack/protection.csv").status_code == 404
    # An attack has no single result: no region page, not offered for comparison.
    assert client.get(f"/ui/plan/jobs/{job_id}/regions/lithuania").status_code == 404
    assert job_id not in client.get("/ui/plan/compare").text
    # The role x page matrix of an attack's pages (test_web_pages.PAGES' rules for a run).
    failures = []
    for user in USERS:
        reader = site.signed_in(user)
        for path in (f"/ui/plan/jobs/{job_id}", f"/ui/plan/jobs/{job_id}/attack/attacks.csv"):
            status = reader.get(path).status_code
            if status != (200 if user in PLAN_READ else 403):
                failures.append(f"{user} GET {path}: {status}")
    assert not failures, failures


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"region": "lithuana"}, "No such region: lithuana (regions: lithuania)"),
        ({"budgets": "10, x"}, "Protection budgets: &#39;x&#39; is not a number"),
        ({"budgets": "-5"}, "Protection budgets: -5 is not allowed"),
        ({"attack_budgets": "0"}, "Attack budgets: 0 is not allowed (a budget is positive)"),
        ({"k": "4"}, "k: Input should be less than or equal to 3"),
        ({"check": "-1"}, "check: Input should be greater than or equal to 0"),
    ],
)
def test_bad_attack_input_is_refused_before_any_work(
    site: Site, form: dict[str, str], message: str
) -> None:
    client = site.signed_in("coordinator")
    page = client.get("/ui/plan/scenarios/tiny")
    r = client.post("/ui/plan/scenarios/tiny/attack", data={"csrf": csrf_of(page.text), **form})
    assert r.status_code == 422 and message in r.text
    assert site.app.state.web.state.pool.all() == []


@pytest.mark.parametrize("user", ["observer", "donor", "partner"])
def test_only_planners_attack(site: Site, user: str) -> None:
    client = site.signed_in(user)
    csrf = csrf_of(client.get("/ui/").text)  # the sign-out form's
    if user == "observer":
        assert 'id="attack"' not in client.get("/ui/plan/scenarios/tiny").text
    r = client.post("/ui/plan/scenarios/tiny/attack", data={"csrf": csrf, "k": 1})
    assert r.status_code == 403
    assert client.post("/ui/plan/scenarios/tiny/attack", data={"k": 1}).status_code == 403
    assert site.app.state.web.state.pool.all() == []


@pytest.mark.slow  # pairs, an attack budget and the defender on tiny: 7 s alone, more under load
def test_an_attack_with_budgets_shows_the_protection_curve(site: Site) -> None:
    job_id = _attack(site, "coordinator", k=2, check=1000, budgets="0, 10", attack_budgets="1")
    web = site.app.state.web.state
    job = web.pool.get(job_id)
    assert job.state == "done", job.error
    folder = web.pool.job_dir(job_id) / attacks.ATTACK_FOLDER
    worst = pd.read_csv(folder / "attacks.csv")
    assert worst["form"].tolist() == ["k", "k", "budget"]
    assert (worst["status"] == "exact").all()  # tiny is small enough to check every cut
    curve = pd.read_csv(folder / "protection.csv")
    html = site.signed_in("observer").get(f"/ui/plan/jobs/{job_id}").text
    assert 'id="proven"' in html
    # One point per budget of the defender's table, its worst delay in the tooltip.
    marks = re.findall(r'<circle class="budget"[^>]*><title>([^<]*)</title>', html)
    assert len(marks) == len(curve) == 2
    for title, (_, row) in zip(marks, curve.iterrows(), strict=True):
        assert title.startswith(
            f"budget {row['budget_m']:g} M: worst attack {row['worst_delay']:g} days"
        )
    client = site.signed_in("analyst")
    for name in ("protection", "measures"):
        text = client.get(f"/ui/plan/jobs/{job_id}/attack/{name}.csv").text.splitlines()
        assert len(text) == len(pd.read_csv(folder / f"{name}.csv")) + 1
