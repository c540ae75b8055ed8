"""Re-planning on day t (docs/optimization.md, "Re-planning"): history, recovery, the CLI."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import forcemodel.optimize as fo
from forcemodel.cli import app
from forcemodel.flow import simulate
from forcemodel.optimize import WorkLimits
from forcemodel.optimize.replan import ReplanResult, in_force, replan
from forcemodel.scenario import load_scenario, load_scenario_data
from forcemodel.scenario.model import Disruption, Scenario
from forcemodel.scenario.synthetic import synthetic_scenario

#: Fields of a unit_events row fixed when the row starts (the leg and its route).
START_FIELDS = ["unit", "load", "leg", "kind", "from", "to", "link", "mode", "start"]

#: A deterministic stopping rule: the same re-plan on any machine, however loaded.
WORK = WorkLimits(evaluations=20, mip_nodes=50, lp_iterations=200_000)


def two_routes() -> Scenario:
    """One region, two ways in: pre-positioned sets behind one road, or own equipment by sea.

    People go by rail to the depot (1 day), draw a set (3 days) and drive the road east
    (1 day): 5 days. Own equipment cannot take the rail (0 t a day): it loads out at home
    (7 days, the catalogue's for an armoured brigade), drives to the port (4 hours), changes
    from road to sea there (no transship: unloading 2 plus loading 24 hours) and sails at
    5,000 t a day: 25,000 t take 5 days, plus 40 hours at sea. So the day-0 planner gives the
    sets to the two armoured brigades; when the road east is cut, the set is the slow way.
    """
    return load_scenario_data(yaml.safe_load(TWO_ROUTES))


TWO_ROUTES = """
meta: {name: two-routes, horizon_days: 60, warning_day: 10}
nodes:
  - {id: garrison, kind: garrison, country: DE, lat: 52.4, lon: 10.0}
  - {id: port-de, kind: port, country: DE, lat: 54.3, lon: 10.1}
  - {id: depot-p, kind: depot, country: PL, lat: 52.4, lon: 17.8}
  - {id: assembly, kind: assembly_area, country: LT, lat: 54.9, lon: 23.9}
links:
  - {id: rail-depot, from: garrison, to: depot-p, mode: rail, gauge: 1435, distance_km: 600,
     speed_kmh: 25, t_per_day: 0}
  - {id: road-east, from: depot-p, to: assembly, mode: road, distance_km: 600, speed_kmh: 25,
     t_per_day: 30000, pax_per_day: 20000}
  - {id: road-port, from: garrison, to: port-de, mode: road, distance_km: 100, speed_kmh: 25}
  - {id: sea-east, from: port-de, to: assembly, mode: sea, distance_km: 1000, speed_kmh: 25,
     t_per_day: 5000}
units:
  - {id: bde-1, nation: DE, type: armoured_brigade, tier: 1, notice_to_move_days: 2,
     home: garrison, set_type: armoured_brigade,
     max_road_march_km: null}
  - {id: bde-2, nation: DE, type: armoured_brigade, tier: 1, notice_to_move_days: 10,
     home: garrison, set_type: armoured_brigade,
     max_road_march_km: null}
  - {id: bde-3, nation: NL, type: mechanised_brigade, tier: 2, notice_to_move_days: 12,
     home: garrison, max_road_march_km: null}
stocks:
  - {id: depot-set, depot: depot-p, set_type: armoured_brigade, sets: 2, draw_days: 3}
regions:
  - {id: east, reception: assembly, rsom: {days: 2},
     requirement: {land: [[0, 0.5], [10, 1.5], [20, 2.5]]}}
"""


ROAD_CUT = Disruption(target="road-east", start_day=5, days=30, capacity_factor=0.0)


def assert_history_kept(result: ReplanResult) -> None:
    """Everything before the day of the re-plan happened the same with and without it."""
    t = result.day
    before = result.without_replan.tables["unit_events"]
    after = result.with_replan.tables["unit_events"]

    def ended(ev: pd.DataFrame) -> pd.DataFrame:
        done = ev[ev["arrive"] < t]
        return done.sort_values(["unit", "load", "leg"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(ended(before), ended(after))
    committed = set(result.units.loc[result.units["status"] == "committed", "unit"])

    def started(ev: pd.DataFrame) -> pd.DataFrame:
        rows = ev[(ev["start"] < t) & ev["unit"].isin(committed)][START_FIELDS]
        return rows.sort_values(["unit", "load", "leg"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(started(before), started(after))
    # Committed units keep their day-0 plan.
    units = result.units.set_index("unit")
    for uid in committed:
        assert units.loc[uid, "region_after"] == units.loc[uid, "region_before"]
        assert units.loc[uid, "set_after"] == units.loc[uid, "set_before"]
        assert not units.loc[uid, "changed"]


def test_recovery_on_two_routes() -> None:
    """The road behind the sets is cut on day 5: bde-2 is re-planned onto its own equipment."""
    s = two_routes()
    for method in ("planner", "optimize"):
        r = replan(s, 5, ROAD_CUT, method=method, work=WORK)  # type: ignore[arg-type]
        assert_history_kept(r)
        units = r.units.set_index("unit")
        assert units.loc["bde-1", "status"] == "committed"  # ready on day 2, drawing its set
        assert r.replanned == ["bde-2"]
        assert (units.loc["bde-2", "set_before"], units.loc["bde-2", "set_after"]) == (
            "depot-set",
            "",
        )
        # Without the re-plan bde-2 waits at the depot for the road (day 35); by sea it
        # closes on day 25.7: ready 10, loaded out 17, at the port 17.17, transferred 18.25,
        # 5,000 t on each of days 18-22 (through at 22.0), 40 hours at sea, 2 days' RSOM.
        assert units.loc["bde-2", "closure_without_replan"] == pytest.approx(39.0)
        assert units.loc["bde-2", "closure_with_replan"] == pytest.approx(25 + 2 / 3)
        row = r.comparison.iloc[0]
        assert row["closure_with_replan"] <= row["closure_without_replan"]
        assert row["shortfall_recovered"] > 0
        assert row["shortfall_with_replan"] >= row["shortfall_undisrupted"] - 1e-9


def test_planning_view_delays_a_closed_road_and_takes_committed_off() -> None:
    s = two_routes().model_copy(update={"disruptions": (ROAD_CUT,)})
    assert in_force(s, 5)["road-east"].closed_days == 30
    assert in_force(s, 20)["road-east"].closed_days == 15
    assert "road-east" not in in_force(s, 35)
    r = replan(two_routes(), 5, ROAD_CUT, method="planner")
    view = r.planning_scenario
    assert [u.id for u in view.units] == ["bde-2", "bde-3"]
    assert view.stocks[0].sets == 1  # bde-1 draws one of the two sets
    road = next(lk for lk in view.links if lk.id == "road-east")
    assert road.distance_km / road.speed_kmh == pytest.approx(24 + 24 * 30)
    # bde-1's land power (1) counts from its forecast closure (day 38) in the view.
    assert view.regions[0].requirement.land[-1] == (38.0, 1.5)


def test_history_kept_on_synthetic_with_the_optimiser() -> None:
    s = load_scenario_data(synthetic_scenario(units=12, nodes=10, days=60, regions=2, seed=1))
    base = simulate(s)
    t = 9.0
    ready = base.tables["units"]
    late = set(ready.loc[ready["ready_day"] >= t, "unit"])
    assert late and len(late) < len(s.units)
    ev = base.tables["unit_events"]
    # A capacitated link the units not yet moving would use, closed for 20 days.
    links = {lk.id: lk for lk in s.links if lk.t_per_day}
    used = ev[(ev["kind"] == "move") & ev["unit"].isin(late) & ev["link"].isin(links)]
    target = str(used["link"].value_counts().index[0])
    r = replan(
        s, t, Disruption(target=target, start_day=t, days=20, capacity_factor=0.0), work=WORK
    )
    assert_history_kept(r)
    assert r.replanned  # the identity is not trivially true
    assert set(r.units.loc[r.units["status"] == "free", "unit"]) == late
    assert r.optimization is not None


def test_tiny_and_planner_without_disruption_changes_nothing() -> None:
    tiny = load_scenario("tiny")
    r = replan(tiny, 0, method="planner")
    assert not r.replanned
    assert (r.units["status"] == "free").all()
    assert r.with_replan is r.without_replan
    assert r.comparison["days_recovered"].tolist() == [0.0]
    cut = Disruption(target="gauge-change", start_day=20, days=10, capacity_factor=0.0)
    r = replan(tiny, 20, cut, work=WORK)
    assert_history_kept(r)
    assert r.units.set_index("unit")["status"].to_dict() == {
        "armd-bde-1": "committed",
        "mech-bde-2": "free",
        "ad-bn-1": "committed",
    }


def test_the_replan_submodule_is_not_hidden() -> None:
    """``forcemodel.optimize.replan`` is the module (the package re-exports no function of
    that name over it)."""
    import forcemodel.optimize.replan as module

    assert fo.replan is module and module.replan is replan


@pytest.mark.parametrize(
    ("day", "disruption", "message"),
    [
        (-1, None, "between 0 and the horizon"),
        (61, None, "between 0 and the horizon"),
        (math.nan, None, "between 0 and the horizon"),
        (5, Disruption(target="nowhere", start_day=5, days=1, capacity_factor=0), "no link"),
        (5, Disruption(target="road-port", start_day=5, days=1, capacity_factor=0), "unlimited"),
    ],
)
def test_bad_input(day: float, disruption: Disruption | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replan(two_routes(), day, disruption)


def test_bad_method_and_time_limit() -> None:
    with pytest.raises(ValueError, match="method"):
        replan(two_routes(), 5, method="guess")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time_limit"):
        replan(two_routes(), 5, time_limit=0)


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, ["replan", *args])


def test_cli_writes_both_results_and_the_comparison(tmp_path: Path) -> None:
    out = tmp_path / "rp"
    args = ["--day", "20", "--disrupt", "gauge-change", "--factor", "0.2", "--days", "5"]
    res = _run("tiny", *args, "--method", "planner", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert (out / "without-replan" / "meta.json").exists()
    assert (out / "with-replan" / "unit_events.parquet").exists()
    comparison = pd.read_csv(out / "comparison.csv")
    assert comparison["region"].tolist() == ["lithuania"]
    assert len(pd.read_csv(out / "units.csv")) == 3
    again = _run("tiny", "--day", "20", "--method", "planner", "--out", str(out))
    assert again.exit_code == 2 and "exists" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "-1"], "--day"),
        (["--day", "61"], "between 0 and the horizon"),
        (["--day", "5", "--disrupt", "nowhere"], "no link or node 'nowhere'"),
        (["--day", "5", "--disrupt", "gauge-change", "--factor", "1.5"], "--factor"),
        (["--day", "5", "--disrupt", "gauge-change", "--days", "0"], "--days"),
        (["--day", "5", "--method", "guess"], "--method"),
        (["--day", "5", "--time-limit", "0"], "--time-limit"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    res = _run("tiny", *args, "--out", str(tmp_path / "x"))
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "x").exists()
