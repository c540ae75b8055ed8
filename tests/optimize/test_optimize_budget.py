"""Pre-positioning within a budget (issue #4): which depots get how many new sets.

The hand-made scenario `two-depots` (:func:`_data`): armoured brigades at `home`, ready on
day 0, defend `ally` (land 1 per brigade needed from day 0, nothing in place, RSOM unlimited
and 2 x 0.5 = 1 day). Their own equipment loads out for 7 days at home (the catalogue's
`load_out_days` of an armoured brigade) and takes the 20-day road to the front; their people can
reach either depot in a day (a road that carries no tons). From `depot-near` a set reaches the
front in 1 day, from `depot-far` in 8; a drawn set needs no load-out. With 2 draw days, a
brigade counts from day 28 (own equipment: 7 + 20 + 1), day 5 (near: 1 + 2 + 1 + 1) or day 12
(far: 1 + 2 + 8 + 1).
Horizon 30 days; a day's shortfall weighs (60 - d) / 30 (early_weight 1).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forcemodel import ScenarioError, load_scenario, load_scenario_data, simulate
from forcemodel.cli import app
from forcemodel.optimize import OptimizationResult, WorkLimits, optimize
from forcemodel.scenario.model import Scenario
from support.scenarios import TINY_TEXT

runner = CliRunner()

NEAR = "new.abct.depot-near"
FAR = "new.abct.depot-far"

#: Work limits that let these small cases finish (a deterministic stop, never the clock).
EXACT = WorkLimits(evaluations=50, mip_nodes=100_000, lp_iterations=10_000_000)


def _data(
    units: int = 2,
    budget: float = 60.0,
    *,
    cost: float = 60.0,
    near: dict[str, Any] | None = None,
    far: dict[str, Any] | None = None,
    near_km: float = 240.0,
    far_km: float = 1920.0,
) -> dict[str, Any]:
    """The two-depot scenario as raw data (module docstring); ``near``/``far``: depot fields."""
    road = {"mode": "road", "speed_kmh": 10}  # 240 km a day
    return {
        "meta": {"name": "two-depots", "horizon_days": 30},
        "tiers": [{"tier": 1, "notice_to_move_days": 0}],
        "nodes": [
            {"id": "home", "kind": "garrison", "country": "DE", "lat": 52.0, "lon": 10.0},
            {"id": "depot-near", "kind": "depot", "country": "PL", "lat": 53.0, "lon": 20.0},
            {"id": "depot-far", "kind": "depot", "country": "NL", "lat": 51.0, "lon": 6.0},
            {"id": "front", "kind": "assembly_area", "country": "LT", "lat": 54.9, "lon": 23.9},
        ],
        "links": [
            {"from": "home", "to": "front", "distance_km": 4800, **road},
            {"from": "home", "to": "depot-near", "distance_km": 240, "t_per_day": 0, **road},
            {"from": "home", "to": "depot-far", "distance_km": 240, "t_per_day": 0, **road},
            {"from": "depot-near", "to": "front", "distance_km": near_km, **road},
            {"from": "depot-far", "to": "front", "distance_km": far_km, **road},
        ],
        "units": [
            {
                "id": f"bde-{i}",
                "nation": "US",
                "type": "armoured_brigade",
                "tier": 1,
                "home": "home",
                "set_type": "abct",
                # A hand-made road world: no road-march limit on the tracks (issue 14's rule).
                "max_road_march_km": None,
            }
            for i in range(1, units + 1)
        ],
        "regions": [{"id": "ally", "reception": "front", "requirement": {"land": [[0, units]]}}],
        "prepositioning": {
            "budget_m": budget,
            "currency": "USD",
            "sets": [{"set_type": "abct", "cost_m": cost}],
            "depots": [
                {"depot": "depot-near", "draw_days": 2, **(near or {})},
                {"depot": "depot-far", "draw_days": 2, **(far or {})},
            ],
        },
    }


def _solve(data: dict[str, Any], **kwargs: Any) -> OptimizationResult:
    return optimize(load_scenario_data(data), threads=1, mip_gap=0.0, work=EXACT, **kwargs)


def _weighted(short: dict[int, float]) -> float:
    """The weighted shortfall by hand: brigades short per day, times (60 - d) / 30."""
    return sum(s * (60 - d) / 30 for d, s in short.items())


def _short(result: OptimizationResult) -> float:
    return float(result.objective["shortfall_bde_days"].sum())


def _bought(result: OptimizationResult) -> dict[str, int]:
    p = result.purchases
    return {str(d): int(n) for d, n in zip(p["depot"], p["new_sets"], strict=True)}


# --- the optimum by hand ---------------------------------------------------------------------


def test_budget_for_one_set_goes_to_the_depot_that_saves_most() -> None:
    r = _solve(_data(budget=60.0))
    assert r.termination == "optimal"
    assert _bought(r) == {"depot-near": 1}
    assert (r.spend, r.budget, r.currency) == (60.0, 60.0, "USD")
    plan = r.plan.set_index("unit")
    assert sorted(plan["stock"]) == ["", NEAR]
    assert sorted(plan["counted_from"]) == [5.0, 28.0]
    # 2 short on days 0-4, 1 on days 5-27.
    short = {d: 2.0 for d in range(5)} | {d: 1.0 for d in range(5, 28)}
    assert _short(r) == pytest.approx(33.0)
    assert float(r.objective["weighted"].sum()) == pytest.approx(_weighted(short), abs=1e-6)


def test_a_depots_fixed_cost_can_send_the_set_to_the_other() -> None:
    # 60 for the set + 50 to use depot-near: over a budget of 100, so depot-far (no fixed cost).
    r = _solve(_data(budget=100.0, near={"fixed_cost_m": 50}))
    assert _bought(r) == {"depot-far": 1}
    assert r.spend == 60.0
    assert _short(r) == pytest.approx(24 + 16)  # 2 short on days 0-11, 1 on days 12-27
    # With 110 depot-near is affordable, and it saves more.
    r = _solve(_data(budget=110.0, near={"fixed_cost_m": 50}))
    assert _bought(r) == {"depot-near": 1}
    assert r.spend == 110.0
    assert r.purchases.iloc[0][["fixed_cost_m", "spend_m"]].tolist() == [50.0, 110.0]
    assert _short(r) == pytest.approx(33.0)


def test_a_large_budget_is_limited_by_the_depots_capacity() -> None:
    r = _solve(_data(budget=1000.0, near={"capacity_sets": 1}, far={"capacity_sets": 1}))
    assert _bought(r) == {"depot-near": 1, "depot-far": 1}
    assert r.spend == 120.0
    assert _short(r) == pytest.approx(10 + 7)  # 2 short on days 0-4, 1 on days 5-11
    # Without the limit both sets go to depot-near: buying more than the units draw never pays.
    r = _solve(_data(units=2, budget=1000.0))
    assert _bought(r) == {"depot-near": 2}
    assert r.spend == 120.0
    assert _short(r) == pytest.approx(10.0)
    # A depot with no room takes none.
    r = _solve(_data(budget=1000.0, near={"capacity_sets": 0}, far={"capacity_sets": 0}))
    assert r.purchases.empty and r.spend == 0.0
    assert _short(r) == pytest.approx(56.0)  # 2 short on days 0-27


def test_an_existing_slower_stock_stays_an_option() -> None:
    """The candidates do not push the existing stock's option out (``max_stocks`` is 2)."""
    data = _data(units=2, budget=0.0)
    data["stocks"] = [{"id": "old-far", "depot": "depot-far", "set_type": "abct", "sets": 1,
                       "draw_days": 4}]  # fmt: skip
    today = _solve(data)
    assert sorted(today.plan["stock"]) == ["", "old-far"]
    assert _short(today) == pytest.approx(28 + 14)  # counts from day 14 (1 + 4 + 8 + 1) and 28
    r = _solve(data, budget=60.0)
    assert sorted(r.plan["stock"]) == [NEAR, "old-far"]
    assert _short(r) == pytest.approx(10 + 9)  # from day 5 and day 14
    assert r.objective_value < today.objective_value


def test_budget_zero_is_todays_answer() -> None:
    data = _data(budget=0.0)
    r = _solve(data)
    assert r.purchases.empty and r.spend == 0.0
    assert set(r.plan["stock"]) == {""}
    assert _short(r) == pytest.approx(56.0)  # 2 short on days 0-27
    # The same as the scenario without the section: the same model.
    without = copy.deepcopy(data)
    del without["prepositioning"]
    for u in without["units"]:
        del u["set_type"]
    assert _solve(without).objective_value == pytest.approx(r.objective_value, abs=1e-9)


def test_budget_zero_on_tiny_keeps_the_optimum_worked_out_by_hand() -> None:
    raw = yaml.safe_load(TINY_TEXT)
    raw["prepositioning"] = {
        "budget_m": 0,
        "sets": [{"set_type": "armoured_brigade", "cost_m": 100}],
        "depots": [{"depot": "depot-p"}],  # draw days: those of powidz-set
    }
    r = optimize(load_scenario_data(raw), threads=1)
    assert r.objective_value == pytest.approx(50.210480343, abs=1e-7)  # test_optimize.py
    assert r.plan.set_index("unit").loc["armd-bde-1", "stock"] == "powidz-set"
    assert r.purchases.empty
    # A budget for a second set at depot-p: armd-bde-1 already draws the one there, and no
    # other unit has the set type, so none is bought.
    r = optimize(load_scenario_data(raw), threads=1, budget=500)
    assert r.purchases.empty and r.objective_value == pytest.approx(50.210480343, abs=1e-7)


def test_budget_argument_overrides_the_scenarios() -> None:
    r = _solve(_data(budget=0.0), budget=60.0)
    assert _bought(r) == {"depot-near": 1} and r.budget == 60.0
    r = _solve(_data(budget=60.0), budget=0.0)
    assert r.purchases.empty and r.budget == 0.0


def test_relaxation_bounds_the_mip_with_a_budget() -> None:
    data = _data(units=3, budget=130.0, near={"fixed_cost_m": 20, "capacity_sets": 2})
    mip = _solve(data)
    lp = _solve(data, relax=True)
    assert lp.objective_value <= mip.objective_value + 1e-7
    assert mip.spend <= 130.0


# --- the plan written back -------------------------------------------------------------------


def test_plan_reloads_and_simulates_with_the_new_sets(tmp_path: Path) -> None:
    r = _solve(_data(budget=1000.0, near={"capacity_sets": 1}, far={"capacity_sets": 1}))
    r.save(tmp_path / "plan")
    assert (tmp_path / "plan" / "purchases.csv").exists()
    purchases = pd.read_csv(tmp_path / "plan" / "purchases.csv")
    assert purchases["spend_m"].sum() == 120.0
    again = load_scenario(tmp_path / "plan")
    assert again.prepositioning is None  # bought: optimising the plan again buys nothing more
    stocks = {s.id: (s.depot, s.set_type, s.sets, s.draw_days) for s in again.stocks}
    assert stocks == {NEAR: ("depot-near", "abct", 1, 2.0), FAR: ("depot-far", "abct", 1, 2.0)}
    units = simulate(again).tables["units"].set_index("unit")
    assert sorted(units["set_from"]) == [FAR, NEAR]
    assert (units["region"] == "ally").all()


def test_new_sets_join_the_stock_already_at_the_depot() -> None:
    data = _data(units=3, budget=60.0, near={"capacity_sets": 1})
    del data["prepositioning"]["depots"][0]["draw_days"]  # those of the stock there: 2
    data["stocks"] = [{"id": "old-set", "depot": "depot-near", "set_type": "abct", "sets": 1,
                       "draw_days": 2}]  # fmt: skip
    r = _solve(data)
    assert _bought(r) == {"depot-near": 1}
    assert r.purchases.iloc[0]["stock"] == "old-set"
    assert (r.plan["stock"] == "old-set").sum() == 2
    assert {s.id: s.sets for s in r.scenario.stocks} == {"old-set": 2}
    units = simulate(load_scenario_data(r.scenario_data())).tables["units"]
    assert (units["set_from"] == "old-set").sum() == 2


def test_cli_budget_writes_the_purchase_and_prints_it(tmp_path: Path) -> None:
    path = tmp_path / "two-depots.yaml"
    path.write_text(yaml.safe_dump(_data(budget=0.0)), encoding="utf-8")
    out = tmp_path / "plan"
    result = runner.invoke(
        app, ["optimize", str(path), "--out", str(out), "--threads", "1", "--budget", "60"]
    )
    assert result.exit_code == 0, result.output
    assert "New pre-positioned sets: spent 60 of a budget of 60 (millions of USD)" in (
        result.stdout
    )
    assert pd.read_csv(out / "purchases.csv")["depot"].tolist() == ["depot-near"]
    assert {s.id for s in load_scenario(out).stocks} == {NEAR}


# --- bad input ---------------------------------------------------------------------------------


def test_budget_below_zero_in_the_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "neg.yaml"
    path.write_text(yaml.safe_dump(_data(budget=-5.0), sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [p] = info.value.problems
    assert (p.file, p.field) == (str(path), "prepositioning.budget_m")
    assert p.line is not None and "greater than or equal to 0" in p.message
    for command in (["validate", str(path)], ["optimize", str(path), "--out", str(tmp_path / "o")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "prepositioning.budget_m" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--budget", "-1"], "--budget must be 0 or more (millions), got -1"),
        (["--budget", "nan"], "--budget must be 0 or more"),
    ],
)
def test_cli_budget_below_zero_exits_2(tmp_path: Path, args: list[str], words: str) -> None:
    path = tmp_path / "two-depots.yaml"
    path.write_text(yaml.safe_dump(_data()), encoding="utf-8")
    result = runner.invoke(app, ["optimize", str(path), "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert words in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_cli_budget_for_a_scenario_with_nothing_to_buy_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["optimize", "tiny", "--out", str(tmp_path / "o"), "--budget", "5"])
    assert result.exit_code == 2
    assert "--budget: scenario 'tiny' has nothing to buy" in result.stderr
    assert not (tmp_path / "o").exists()


def test_python_budget_is_checked_in_plain_words() -> None:
    s = load_scenario_data(_data())
    with pytest.raises(ValueError, match="budget must be 0 or more"):
        optimize(s, budget=-1.0)
    with pytest.raises(ValueError, match="nothing to buy"):
        optimize(load_scenario("tiny"), budget=1.0)


def _problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_data(data)
    return {p.field: p.message for p in info.value.problems}


def test_loader_checks_the_section() -> None:
    data = _data()
    prep = data["prepositioning"]
    prep["sets"].append({"set_type": "sbct", "cost_m": -1})
    prep["depots"] += [
        {"depot": "depot-nowhere", "draw_days": 1},
        {"depot": "front", "draw_days": 1},
        {"depot": "depot-near"},
    ]
    prep["depots"][0]["capacity_sets"] = -2
    prep["currency"] = "euro"
    problems = _problems(data)
    assert "greater than or equal to 0" in problems["prepositioning.sets[1].cost_m"]
    assert "greater than or equal to 0" in problems["prepositioning.depots[0].capacity_sets"]
    assert "three-letter currency code" in problems["prepositioning.currency"]
    # The section's own errors first; fixed, the references are checked.
    prep["sets"][1]["cost_m"] = 10
    prep["depots"][0]["capacity_sets"] = 2
    prep["currency"] = "EUR"
    problems = _problems(data)
    assert problems == {
        "prepositioning.sets[1].set_type": "no unit has set type 'sbct' (did you mean 'abct'?): "
        "a new set no unit can fall in on would never be drawn",
        "prepositioning.depots[2].depot": "unknown node 'depot-nowhere' (did you mean "
        "'depot-near'?)",
        "prepositioning.depots[3].depot": "node 'front' is a assembly_area, not a depot (kind: "
        "depot)",
        "prepositioning.depots[4].depot": "depot 'depot-near' is listed twice (first at depots[0])",
    }


def test_draw_days_are_required_at_a_depot_without_a_stock() -> None:
    data = _data()
    del data["prepositioning"]["depots"][1]["draw_days"]
    problems = _problems(data)
    assert list(problems) == ["prepositioning.depots[1].draw_days"]
    assert "holds no equipment-set stock" in problems["prepositioning.depots[1].draw_days"]


def test_a_units_set_type_may_be_one_only_the_budget_can_buy() -> None:
    data = _data()
    assert load_scenario_data(data).units[0].set_type == "abct"  # no stock holds abct
    data["prepositioning"]["depots"] = []  # nowhere to put one: the reference is unresolved
    assert "no stock provides set type 'abct'" in _problems(data)["units[0].set_type"]


def test_scenarios_without_the_section_keep_their_digest() -> None:
    s = load_scenario("tiny")
    assert s.prepositioning is None
    assert '"prepositioning"' not in s.model_dump_json(by_alias=True, exclude={"prepositioning"})
    with_section = s.model_copy(
        update={"prepositioning": load_scenario_data(_data()).prepositioning}
    )
    assert with_section.digest() != s.digest()
    assert s.digest() == Scenario.model_validate(s.model_dump(by_alias=True)).digest()


# --- more budget never gives a worse optimum -------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(
    units=st.integers(1, 3),
    cost=st.sampled_from([20.0, 45.0, 70.0]),
    near_fixed=st.sampled_from([0.0, 30.0]),
    near_cap=st.sampled_from([None, 0, 1]),
    far_cap=st.sampled_from([None, 1]),
    near_km=st.sampled_from([240.0, 960.0, 2400.0]),
    old_far=st.booleans(),
    budgets=st.tuples(st.integers(0, 8), st.integers(0, 8)).map(sorted),
)
@pytest.mark.slow
def test_more_budget_never_gives_a_worse_optimum(
    units: int,
    cost: float,
    near_fixed: float,
    near_cap: int | None,
    far_cap: int | None,
    near_km: float,
    old_far: bool,
    budgets: list[int],
) -> None:
    """With ``old_far``, an existing set at depot-far draws in 4 days: slower than either
    candidate, so it must not be pruned away by them (``option_table``'s ``max_stocks``)."""
    near: dict[str, Any] = {"fixed_cost_m": near_fixed}
    if near_cap is not None:
        near["capacity_sets"] = near_cap
    far = {"capacity_sets": far_cap} if far_cap is not None else {}
    data = _data(units=units, budget=0.0, cost=cost, near=near, far=far, near_km=near_km)
    if old_far:
        data["stocks"] = [{"id": "old-far", "depot": "depot-far", "set_type": "abct",
                           "sets": 1, "draw_days": 4}]  # fmt: skip
    low, high = (_solve(data, budget=25.0 * b) for b in budgets)
    assert low.termination == high.termination == "optimal"
    assert low.spend <= 25.0 * budgets[0] + 1e-9 and high.spend <= 25.0 * budgets[1] + 1e-9
    assert high.objective_value <= low.objective_value + 1e-7 * max(1.0, abs(low.objective_value))
    assert math.isfinite(high.objective_value)


def test_a_replan_buys_nothing() -> None:
    """Sets cannot be bought and stored forward once the crisis is on: the view drops them."""
    from forcemodel.optimize.replan import replan
    from forcemodel.scenario.model import Disruption

    data = _data(units=2, budget=60.0)
    data["links"][0]["t_per_day"] = 50000  # home-front: a capacity for the disruption to cut
    cut = Disruption(target="home_front_road", start_day=0, days=5, capacity_factor=0.5)
    r = replan(load_scenario_data(data), 0, cut, method="optimize", work=EXACT)
    assert r.planning_scenario.prepositioning is None
    assert set(r.units["unit"]) == {"bde-1", "bde-2"}
    assert not (r.with_replan.tables["units"]["set_from"] != "").any()  # no stock holds a set
