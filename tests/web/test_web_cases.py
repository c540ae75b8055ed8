"""The assistance plan of a case: training pipeline, usable systems, hubs, fleet mix."""

from __future__ import annotations

import re

from web_site import USERS, Site

from forcemodel.assist import fleet_mix


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
