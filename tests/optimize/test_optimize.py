"""forcemodel.optimize: tiny's optimum by hand, a synthetic plan, the written plan, bad input."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from forcemodel import ScenarioError, load_scenario, load_scenario_data, simulate
from forcemodel.cli import app
from forcemodel.flow.plan import plan_units
from forcemodel.network.compile import compile_network
from forcemodel.optimize import (
    Choice,
    InfeasibleError,
    OptimizationResult,
    Weights,
    WorkLimits,
    bundled_closure_days,
    capacity_spans,
    optimize,
    planned_scenario_data,
)
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario
from forcemodel.scenario.write import write_scenario_folder
from support.scenarios import TINY_TEXT

runner = CliRunner()

#: Work limits that let these small cases finish (a deterministic stop, never the clock).
EXACT = WorkLimits(evaluations=50, mip_nodes=100_000, lp_iterations=10_000_000)


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    return load_scenario("tiny")


@pytest.fixture(scope="module")
def tiny_result(tiny: Scenario) -> OptimizationResult:
    return optimize(tiny, threads=1)


def test_tiny_optimum_as_worked_out_by_hand(tiny_result: OptimizationResult) -> None:
    """docs/optimization.md, "tiny by hand"."""
    r = tiny_result
    assert r.termination == "optimal"
    plan = r.plan.set_index("unit")
    assert plan.loc["armd-bde-1", "stock"] == "powidz-set"
    assert plan.loc["mech-bde-2", "stock"] == ""
    assert plan.loc["ad-bn-1", "stock"] == ""
    assert set(plan["region"]) == {"lithuania"}
    assert plan["estimated_closure"].to_dict() == pytest.approx(
        {"armd-bde-1": 19.708333, "mech-bde-2": 44.116667, "ad-bn-1": 22.166667}, abs=1e-5
    )
    assert plan["counted_from"].to_dict() == {"armd-bde-1": 24, "mech-bde-2": 47, "ad-bn-1": 23}
    obj = r.objective.set_index("capability")
    assert obj.loc["land", "shortfall_bde_days"] == pytest.approx(23.95)
    assert obj.loc["air_defence", "shortfall_bde_days"] == pytest.approx(8.0)
    assert obj.loc["land", "weighted"] == pytest.approx(36.676667, abs=1e-5)
    assert obj.loc["air_defence", "weighted"] == pytest.approx(13.533333, abs=1e-5)
    assert r.cost == pytest.approx(0.000480343, abs=1e-8)
    assert r.objective_value == pytest.approx(50.210480343, abs=1e-7)
    assert "HiGHS" in r.log or "MIP" in r.log
    land = r.region_power[r.region_power["capability"] == "land"].set_index("day")
    assert land.loc[20:24, "arrived"].tolist() == pytest.approx([0.4, 0.6, 0.8, 0.9, 1.0])


def test_tiny_without_the_set_is_worse(tiny: Scenario, tiny_result: OptimizationResult) -> None:
    fixed: dict[str, Choice] = {"armd-bde-1": ("lithuania", None)}
    worse = optimize(tiny, fixed=fixed, threads=1)
    assert worse.objective_value > tiny_result.objective_value + 1.0


def test_relaxation_bounds_the_mip(tiny: Scenario, tiny_result: OptimizationResult) -> None:
    lp = optimize(tiny, relax=True, method="simplex", threads=1)
    assert lp.relaxed
    assert lp.objective_value <= tiny_result.objective_value + 1e-7


def _bundled_choices(scenario: Scenario) -> dict[str, Choice]:
    """The simulation's own day-0 plan as fixed choices."""
    net = compile_network(scenario)
    return {
        scenario.units[p.unit].id: (
            scenario.regions[p.region].id,
            scenario.stocks[p.stock].id if p.stock is not None else None,
        )
        for p in plan_units(scenario, net)
    }


@pytest.fixture(scope="module")
def synthetic() -> Scenario:
    return load_scenario_data(synthetic_scenario(units=12, nodes=10, days=60, regions=2, seed=1))


@pytest.mark.slow
def test_synthetic_plan_is_feasible_and_no_worse_than_bundled(synthetic: Scenario) -> None:
    best = optimize(synthetic, threads=1, work=EXACT)
    assert best.termination == "optimal"
    # Every unit once, each to a region; no stock gives more sets than it holds.
    assert sorted(best.plan["unit"]) == sorted(u.id for u in synthetic.units)
    drawn = best.plan[best.plan["stock"] != ""]["stock"].value_counts()
    sets = {s.id: s.sets for s in synthetic.stocks}
    assert all(n <= sets[sid] for sid, n in drawn.items())
    units = {u.id: u for u in synthetic.units}
    for r in best.plan.itertuples():
        if r.stock:
            assert units[str(r.unit)].set_type == r.set_type
    bundled = optimize(synthetic, fixed=_bundled_choices(synthetic), threads=1)
    assert best.objective_value <= bundled.objective_value + 1e-6
    # Keeping the pre-assignments is a restriction: never better than the free optimum.
    kept = optimize(synthetic, keep_assignments=True, threads=1)
    assert best.objective_value <= kept.objective_value + 1e-6
    for u in synthetic.units:
        if u.assigned_to is not None:
            assert kept.choices[u.id][0] == u.assigned_to


def test_written_plan_loads_and_simulates(tiny: Scenario, tmp_path: Path) -> None:
    result = optimize(tiny, threads=1)
    data = result.scenario_data()
    planned = load_scenario_data(data)
    for u in planned.units:
        region, stock = result.choices[u.id]
        assert u.assigned_to == region
        assert (u.set_type is not None) == (stock is not None)
    write_scenario_folder(data, tmp_path / "plan")
    again = load_scenario(tmp_path / "plan")
    assert again == planned
    res = simulate(again)
    units = res.tables["units"].set_index("unit")
    assert units.loc["armd-bde-1", "set_from"] == "powidz-set"
    assert (units["region"] == "lithuania").all()
    # docs/optimization.md: the simulation closes later than the model counts.
    assert units["closure_day"].to_dict() == {
        "armd-bde-1": 27.0,
        "mech-bde-2": 49.0,
        "ad-bn-1": 28.0,
    }


def test_planned_data_drops_sets_not_drawn(tiny: Scenario) -> None:
    data = planned_scenario_data(tiny, {"armd-bde-1": ("lithuania", None)})
    armd = next(u for u in data["units"] if u["id"] == "armd-bde-1")
    assert "set_type" not in armd and armd["assigned_to"] == "lithuania"
    assert load_scenario_data(data).units[0].set_type is None


def _tiny_data() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(TINY_TEXT))


def test_unreachable_unit_is_named() -> None:
    data = _tiny_data()
    data["nodes"].append(
        {"id": "island", "kind": "garrison", "country": "IS", "lat": 64.1, "lon": -21.9}
    )
    data["units"].append(
        {"id": "lost-bn", "nation": "IS", "type": "infantry_brigade", "tier": 1, "home": "island"}
    )
    with pytest.raises(InfeasibleError) as info:
        optimize(load_scenario_data(data), threads=1)
    assert "cannot reach" in str(info.value) and "lost-bn" in str(info.value)


def test_fixed_choices_over_the_stock_are_infeasible(tiny: Scenario) -> None:
    data = _tiny_data()
    data["units"][1]["set_type"] = "armoured_brigade"
    s = load_scenario_data(data)
    fixed: dict[str, Choice] = {
        "armd-bde-1": ("lithuania", "powidz-set"),
        "mech-bde-2": ("lithuania", "powidz-set"),
    }
    with pytest.raises(InfeasibleError, match="holds 1 set"):
        optimize(s, fixed=fixed, threads=1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time_limit": 0}, "time limit must be more than 0"),
        ({"time_limit": -1.0}, "time limit must be more than 0"),
        ({"mip_gap": -0.1}, "gap must be 0 or more"),
        ({"method": "barrier"}, "unknown method"),
        ({"method": "pdlp"}, "pdlp"),
        ({"threads": 0}, "threads must be 1 or more"),
        ({"weights": Weights(early_weight=-1)}, "early_weight"),
        ({"weights": Weights(day_weights=(1.0, 2.0))}, "day_weights needs 61 values"),
        ({"fixed": {"nobody": ("lithuania", None)}}, "no unit 'nobody'"),
    ],
)
def test_bad_settings_are_refused_in_plain_words(
    tiny: Scenario, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        optimize(tiny, **kwargs)


def test_cli_writes_plan_objective_and_log(tmp_path: Path) -> None:
    out = tmp_path / "opt"
    result = runner.invoke(app, ["optimize", "tiny", "--out", str(out), "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert {"scenario.yaml", "objective.csv", "solver.log", "plan.csv"} <= {
        p.name for p in out.iterdir()
    }
    objective = pd.read_csv(out / "objective.csv")
    # The command keeps the plan best in the simulation (the simulated search): the model's
    # optimum (50.21, "tiny by hand") bounds its objective in the model from below.
    assert objective["weighted"].sum() >= 50.210480343 - 1e-6
    assert "Plan kept:" in result.output and "simulated" in result.output
    assert load_scenario(out).units[0].assigned_to == "lithuania"
    assert (out / "solver.log").read_text().strip()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--time-limit", "0"], "--time-limit must be a finite number of seconds above 0"),
        (["--time-limit", "-5"], "--time-limit must be a finite number of seconds above 0"),
        (["--gap", "-1"], "--gap must be 0 or more"),
        (["--method", "pdlp"], "needs --relax"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path: Path, args: list[str], words: str) -> None:
    result = runner.invoke(app, ["optimize", "tiny", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert words in result.stderr
    assert not (tmp_path / "o").exists()


# --- Exporting the model; duals and explanations (docs/optimization.md) ---------------------


@pytest.mark.slow
def test_write_model_mps_and_lp_resolve_to_the_same_optimum(
    tiny: Scenario, tiny_result: OptimizationResult, tmp_path: Path
) -> None:
    import highspy

    for name in ("tiny.mps", "tiny.lp"):
        path = tmp_path / name
        r = optimize(tiny, threads=1, write_model=path, duals=False)
        assert r.objective_value == pytest.approx(tiny_result.objective_value, rel=1e-9)
        assert path.exists() and path.stat().st_size > 10_000
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 0.0)
        assert h.readModel(str(path)) == highspy.HighsStatus.kOk
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        value = h.getInfo().objective_function_value
        assert value == pytest.approx(tiny_result.objective_value, rel=1e-6)
    # MPS rows keep their constraint names and coordinates.
    assert "rsom_capacity(lithuania,equipment,22)" in (tmp_path / "tiny.mps").read_text()


def test_write_model_other_suffix_is_refused(tiny: Scenario, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"must end in \.mps or \.lp"):
        optimize(tiny, write_model=tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def _rsom_prices(r: OptimizationResult, region: str = "lithuania") -> pd.Series:
    b = r.bindings
    sel = b[(b["kind"] == "rsom_tons") & (b["region"] == region)]
    return sel.set_index("day")["shadow_price"].sort_index()


def test_tiny_rsom_binds_on_the_days_worked_out_by_hand(tiny_result: OptimizationResult) -> None:
    """docs/optimization.md, "Duals on tiny": w(d) = (120 - d) / 60, 25,000 t and 18,000 t."""
    prices = _rsom_prices(tiny_result)
    # Days 18-21 (armd-bde-1) and 43-45 (mech-bde-2); day 22 prices only the cost term.
    assert prices.index.tolist() == [18, 19, 20, 21, 43, 44, 45]
    by_hand = {
        18: -(100 + 99 + 98) / 60 / 25_000,  # a ton more on day 18 counts on days 20-22
        19: -(100 + 99 + 98) / 60 / 25_000,
        20: -(99 + 98) / 60 / 25_000,
        21: -98 / 60 / 25_000,
        43: -0.9 * (75 + 74) / 60 / 18_000,  # mech-bde-2 (0.9 land) counts on days 45-46
        44: -0.9 * (75 + 74) / 60 / 18_000,
        45: -0.9 * 74 / 60 / 18_000,
    }
    # The cost term (earliest RSOM) adds about 1.1e-10 per ton and day of backlog saved.
    assert prices.to_dict() == pytest.approx(by_hand, abs=1e-9)
    b = tiny_result.bindings
    assert b["shadow_price"].abs().fillna(-1).is_monotonic_decreasing
    land10 = b[(b["kind"] == "requirement") & (b["capability"] == "land") & (b["day"] == 10)]
    assert land10["shadow_price"].tolist() == pytest.approx([110 / 60])
    stock = b[b["kind"] == "stock"].iloc[0]
    assert stock["stock"] == "powidz-set" and pd.isna(stock["shadow_price"])
    words = b.set_index(["kind", "day"]).loc[("rsom_tons", 21), "meaning"]
    assert words.startswith(
        "one more ton a day of RSOM at lithuania on day 21 would cut the objective by 6.53e-05"
    )
    # How far the price holds (HiGHS ranging of the day's capacity row), in tons a day.
    assert "HiGHS ranging" in words or "any number" in words
    unmet = tiny_result.unmet
    runs = list(zip(unmet["capability"], unmet["from_day"], unmet["to_day"], strict=True))
    assert runs == [("land", 10, 22), ("land", 30, 46), ("air_defence", 15, 22)]
    why = unmet["stopped_by"].tolist()
    assert "before day 20" in why[0] and "RSOM tons at lithuania full on days 18-21" in why[0]
    assert "full on days 43-45" in why[1] and "mech-bde-2" in why[1]
    assert "before day 23" in why[2] and "RSOM" in why[2].split("; ")[-1]
    assert "full on" not in why[2]


def test_rsom_shadow_price_matches_a_finite_difference(tiny_result: OptimizationResult) -> None:
    """Raising Lithuania's RSOM by 10 t a day on every day moves the objective by 10 times the
    sum of the day prices: the LP with the choices fixed is linear in the capacity within its
    basis, so the tolerance is solver accuracy (1e-6 absolute) plus 0.1 %."""
    step = 10.0
    data = _tiny_data()
    region = next(r for r in data["regions"] if r["id"] == "lithuania")
    region["rsom"]["t_per_day"] += step
    more = optimize(load_scenario_data(data), threads=1, mip_gap=0.0, duals=False)
    assert more.choices == tiny_result.choices
    change = more.objective_value - tiny_result.objective_value
    predicted = step * float(_rsom_prices(tiny_result).sum())
    assert predicted < -0.005
    assert change == pytest.approx(predicted, rel=1e-3, abs=1e-6)
    # The same effect as --explain states it: the spans of Lithuania's RSOM tons, summed.
    spans = capacity_spans(tiny_result.bindings)
    mine = spans[spans["binding"] == "RSOM tons at lithuania"]
    assert change == pytest.approx(step * float(mine["price_sum"].sum()), rel=1e-3, abs=1e-6)


def test_rsom_price_in_brigade_days_matches_a_finite_difference(
    tiny_result: OptimizationResult,
) -> None:
    """docs/optimization.md, "Prices in brigade-days": Lithuania's RSOM raised by 10 t a day
    on every day cuts the plan's shortfall by 10 times the sum of the days' ``price_bde_days``
    (measured: 0.0061 brigade-days, predicted 0.0061000); --explain's spans say the same."""
    step = 10.0
    data = _tiny_data()
    region = next(r for r in data["regions"] if r["id"] == "lithuania")
    region["rsom"]["t_per_day"] += step
    more = optimize(load_scenario_data(data), threads=1, duals=False)
    assert more.choices == tiny_result.choices
    change = float(
        more.objective["shortfall_bde_days"].sum()
        - tiny_result.objective["shortfall_bde_days"].sum()
    )
    b = tiny_result.bindings
    rows = b[(b["kind"] == "rsom_tons") & (b["region"] == "lithuania")]
    predicted = step * float(rows["price_bde_days"].sum())
    assert predicted < -0.001
    assert change == pytest.approx(predicted, rel=1e-3, abs=1e-6)
    spans = capacity_spans(b)
    mine = spans[spans["binding"] == "RSOM tons at lithuania"]
    assert change == pytest.approx(step * float(mine["bde_days_sum"].sum()), rel=1e-3, abs=1e-6)
    # More need never means less shortfall, and a day's need is at most a brigade-day a day.
    need = b[b["kind"] == "requirement"]["price_bde_days"].to_numpy(float)
    assert ((need >= -1e-9) & (need <= 1.0 + 1e-9)).all()


def test_capacity_spans_group_by_server_and_consecutive_days(
    tiny_result: OptimizationResult,
) -> None:
    """tiny's RSOM tons at Lithuania bind on days 18-21 and 43-45 ("Duals on tiny"): two
    spans, each the sum of its days' prices, in tons (never ranked with another unit)."""
    prices = _rsom_prices(tiny_result)
    spans = capacity_spans(tiny_result.bindings)
    mine = spans[spans["binding"] == "RSOM tons at lithuania"]
    got = list(zip(mine["from_day"], mine["to_day"], mine["days"], strict=True))
    assert sorted(got) == [(18, 21, 4), (43, 45, 3)]
    assert set(mine["unit"]) == {"ton"}
    early = mine[mine["from_day"] == 18].iloc[0]
    assert early["price_sum"] == pytest.approx(float(prices.loc[18:21].sum()), rel=1e-12)
    assert early["price_per_day_min"] == pytest.approx(float(prices.loc[18:21].min()))
    # Every span lies within one unit; within a unit the spans are ranked by |sum|.
    for _, group in spans.groupby("unit"):
        sums = group["price_sum"].abs().to_numpy()
        assert (sums[:-1] >= sums[1:] - 1e-15).all()
    assert (spans["to_day"] - spans["from_day"] + 1 == spans["days"]).all()


@pytest.mark.slow
def test_cli_explain_prints_plain_words_and_writes_the_model(tmp_path: Path) -> None:
    out, model = tmp_path / "opt", tmp_path / "tiny.mps"
    args = ["optimize", "tiny", "--out", str(out), "--threads", "1"]
    result = runner.invoke(app, [*args, "--explain", "--write-model", str(model)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Binding capacities per ton" in text and "RSOM tons at lithuania" in text
    assert "18-21" in text and "43-45" in text  # spans of days, not one row a day
    assert "Requirements not met" in text and "route times" in text
    bindings = pd.read_csv(out / "bindings.csv")
    assert {"kind", "region", "day", "shadow_price", "meaning"} <= set(bindings.columns)
    assert (out / "unmet.csv").exists()
    assert model.stat().st_size > 10_000


def test_cli_write_model_other_suffix_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.txt"
    args = ["optimize", "tiny", "--out", str(tmp_path / "o"), "--write-model", str(bad)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--write-model must end in .mps or .lp" in " ".join(result.stderr.split())
    assert not bad.exists() and not (tmp_path / "o").exists()


def test_save_is_atomic(
    tiny_result: OptimizationResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tiny_result.save(tmp_path / "plan")
    names = {p.name for p in target.iterdir()}
    assert {"scenario.yaml", "objective.csv", "plan.csv", "solver.log"} <= names
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        tiny_result.save(target)
    # The earlier folder is untouched and nothing half-written is left beside it.
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


@pytest.mark.slow
def test_planner_start_bounds_the_plan_at_a_tiny_work_limit() -> None:
    """The day-0 planner's plan is HiGHS's first incumbent: the result is never worse, even
    when the search is stopped after one branch-and-bound node (a work limit: the same stop
    on any machine)."""
    scenario = load_scenario_data(
        synthetic_scenario(units=40, nodes=12, days=60, regions=3, seed=2)
    )
    planner = optimize(scenario, fixed=_bundled_choices(scenario), threads=1, duals=False)
    work = WorkLimits(evaluations=1, mip_nodes=1, lp_iterations=100_000)
    quick = optimize(scenario, work=work, threads=1, duals=False)
    assert "MIP start solution is feasible" in quick.log
    assert quick.objective_value <= planner.objective_value + 1e-6
    again = optimize(scenario, work=work, threads=1, duals=False)
    assert again.choices == quick.choices and again.objective_value == quick.objective_value
    with pytest.raises(ValueError, match="start must be"):
        optimize(scenario, start="bundled")


def test_simulated_plan_is_within_the_stated_tolerance_on_tiny(
    tiny_result: OptimizationResult,
) -> None:
    """docs/optimization.md: the simulation closes every unit no earlier than 1 day before the
    model counts it in full, and on tiny no later than 5 days after."""
    res = simulate(load_scenario_data(tiny_result.scenario_data()))
    closed = res.tables["units"].set_index("unit")["closure_day"]
    model = tiny_result.plan.set_index("unit")["counted_from"]
    late = closed - model.reindex(closed.index)
    assert (late >= -1).all() and (late <= 5).all(), late.to_dict()


def test_closure_targets_and_late_weight(tiny: Scenario) -> None:
    bundled = optimize(tiny, threads=1, closure_by="bundled", duals=False, simulated_search=False)
    # tiny's shortfall ends before the bundled closure day (50): the targets change nothing.
    assert bundled.objective_value == pytest.approx(50.210480343, abs=1e-7)
    with pytest.raises(ValueError, match="no region 'atlantis'"):
        optimize(tiny, closure_by={"atlantis": 3.0})
    with pytest.raises(ValueError, match="late_weight"):
        optimize(tiny, weights=Weights(late_weight=-1))


# --- eastern-flank against the bundled plan (docs/optimization.md, "Against the bundled plan")


@pytest.mark.slow
def test_slow_eastern_flank_plan_beats_the_bundled_plan_in_the_simulation() -> None:
    """Issue 15's target on the bundled scenario, stopped by the default rule (work limits:
    the same plan on any machine). SLOW (about 3 minutes on a quiet 2-core machine): the kept
    plan, written back and simulated, closes no region later than the bundled plan and has at
    most 0.75 times its simulated shortfall (brigade-days; measured 0.708). And the model and
    the simulation of the kept plan agree within the stated tolerance, per region: the model
    is optimistic (never more shortfall, never a later closure), the simulated shortfall at
    most 3.5 times the model's (measured 1.24-3.13) and the simulated closure at most 15 days
    after the model's (measured 2-13) (docs/optimization.md, "Against the bundled plan,
    simulated")."""
    scenario = load_scenario("eastern-flank")
    bundled_run = simulate(scenario)
    bundled_short = float(bundled_run.tables["shortfall"]["shortfall"].sum())
    bundled = bundled_closure_days(scenario)
    result = optimize(scenario, closure_by="bundled", duals=False)
    assert result.provenance is not None and result.provenance.simulated
    assert result.provenance.kept.startswith("simulated search")
    assert "work limits" in result.provenance.rule
    kept_run = simulate(load_scenario_data(result.scenario_data()))
    kept_short = float(kept_run.tables["shortfall"]["shortfall"].sum())
    assert kept_short <= 0.75 * bundled_short, (kept_short, bundled_short)
    planned = bundled_closure_days(load_scenario_data(result.scenario_data()))
    late = {
        rid: (planned.get(rid), day)
        for rid, day in bundled.items()
        if not planned.get(rid, 1e9) <= day
    }
    assert not late, late
    assert sorted(result.plan["unit"]) == sorted(u.id for u in scenario.units)
    # The provenance's table is this simulation's.
    regions = result.provenance.regions.set_index("region")
    assert regions["shortfall_bde_days"].sum() == pytest.approx(kept_short)
    # The model against the simulation of the same plan, per region.
    sim_short = kept_run.tables["shortfall"].groupby("region")["shortfall"].sum()
    for rid, rows in result.region_power.groupby("region"):
        model_short = float(rows["shortfall"].sum())
        unmet = rows.loc[rows["shortfall"] > 1e-9, "day"]
        model_close = float(unmet.max() + 1) if len(unmet) else 0.0
        simulated_short = float(sim_short[rid])
        assert model_short - 1e-6 <= simulated_short <= 3.5 * model_short + 1e-6, rid
        assert model_close <= planned[str(rid)] <= model_close + 15, rid


def test_routes_and_shared_servers_on_tiny(tiny: Scenario) -> None:
    """docs/optimization.md, "Shared capacities on the way": the routes followed from the time
    to go, and the servers kept on tiny (none of them binds there: "tiny by hand")."""
    import linopy

    from forcemodel.optimize.model import build_model, option_table

    net = compile_network(tiny)
    options = option_table(tiny, net)
    ad = options[options["unit_id"] == "ad-bn-1"].iloc[0]
    pool = [p for p in ad["route"] if net.servers[p[1]].kind == "pool"]
    # Its 2,500 t go by rail (3.17 days; flown they would pay three transfers, road to air,
    # air to road, road to rail: 4.11 days); its people fly: 600 / 116 a trip x 0.25 days
    # a round trip = 1.3 asset-days.
    assert [(p[0], round(p[4], 1)) for p in pool] == [(1, 1.3)]
    for row in options.itertuples():
        for load, _, enter, leave, _ in row.route:
            arrive = row.arrive_equipment if load == 0 else row.arrive_people
            assert row.ready - 1e-9 <= enter <= leave <= arrive + 1e-9
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(tiny, net, options, Weights())
        bare = build_model(tiny, net, options, Weights(), shared=False)
    # The airlift pool carries people only (at most 8.6 asset-days a day of its 10): it
    # cannot bind and is left out.
    assert sorted(built.shared["kind"]) == ["arc", "arc", "arc", "transship"]
    assert "shared_capacity" in built.model.constraints
    assert "shared_capacity" not in bare.model.constraints


def test_own_equipment_meets_its_servers_after_the_load_out() -> None:
    """docs/simulation.md, "Preparation before the first move": own equipment leaves home
    ``load_out_days`` after the notice to move, its people at once, and a unit of 0 t loads
    nothing out; the options' arrivals and the times on their routes (the shared capacities'
    rows) follow the same rule."""
    from forcemodel.optimize.model import option_table

    raw = yaml.safe_load(TINY_TEXT)
    raw["units"][2]["load_out_days"] = 2  # ad-bn-1, ready on day 18
    raw["units"][1]["load_out_days"] = 5  # mech-bde-2, ready on day 30, moves no tons
    raw["units"][1]["equipment_t"] = 0
    s = load_scenario_data(raw)
    options = option_table(s, compile_network(s)).set_index("unit_id")
    ad = options.loc["ad-bn-1"]
    # By rail, as on tiny: 1 + 1 + 1 + 0.1667 days, from day 20.
    assert ad["arrive_equipment"] == pytest.approx(20 + 3 + 1 / 6)
    assert ad["arrive_people"] == pytest.approx(18 + 4 / 3)
    enter = {load: min(p[2] for p in ad["route"] if p[0] == load) for load in (0, 1)}
    assert enter[0] == pytest.approx(20.0)  # the home line, after the load-out
    assert enter[1] == pytest.approx(18 + 1 / 12)  # the airbase, 2 hours' road from home
    mech = options.loc["mech-bde-2"]
    assert mech["arrive_equipment"] == pytest.approx(30.0)
    assert all(p[0] == 1 for p in mech["route"])


def test_simulated_shortfall_is_within_the_stated_tolerance_on_synthetic(
    synthetic: Scenario,
) -> None:
    """docs/optimization.md, "Consistency with the simulation": per region and capability the
    simulated plan is short by no less than the model says (the model is optimistic), in all
    by at most 5 % more (measured 0-4.1 % on seeds 1-5; 1.2 % on this one), and per region by
    at most 10 % more."""
    r = optimize(synthetic, threads=1, work=EXACT, duals=False)
    short = simulate(load_scenario_data(r.scenario_data())).tables["shortfall"]
    sim = short.groupby(["region", "capability"])["shortfall"].sum()
    model = r.objective.dropna(subset=["capability"])
    model = model[model["capability"] != ""].set_index(["region", "capability"])
    both = sim.to_frame("sim").join(model["shortfall_bde_days"].rename("model"), how="outer")
    both = both.fillna(0.0)
    assert (both["sim"] >= both["model"] - 1e-6).all(), both.to_dict("index")
    assert both["sim"].sum() <= 1.05 * both["model"].sum(), both.to_dict("index")
    # Per region: at most 10 % more (measured 0-8.5 % on seeds 1-5: seed 4's region-001,
    # 157.43 against 145.11; on this seed 0.5 and 1.2 %).
    region = both.groupby(level="region").sum()
    assert (region["sim"] <= 1.10 * region["model"] + 1e-6).all(), region.to_dict("index")


def test_weights_come_from_the_scenario_unless_given() -> None:
    raw = yaml.safe_load(TINY_TEXT)
    horizon = raw["meta"]["horizon_days"]
    raw["meta"]["objective"] = {"early_weight": 3.0, "late_weight": 2.0, "cost_weight": 0.0}
    s = load_scenario_data(raw)
    w = Weights.of(s)
    assert (w.early_weight, w.late_weight, w.cost_weight) == (3.0, 2.0, 0.0)
    # A value given (command line, Python) wins; the rest stay the scenario's.
    w = Weights.of(s, early_weight=0.5, late_weight=None)
    assert (w.early_weight, w.late_weight) == (0.5, 2.0)
    assert Weights.of(load_scenario("tiny")) == Weights()
    # The optimiser uses them: with no cost weight the objective is the shortfall alone.
    r = optimize(s, work=EXACT, duals=False)
    assert r.cost == pytest.approx(0.0, abs=1e-9)
    # day_weights must cover every day of the horizon: the loader says so.
    raw["meta"]["objective"] = {"day_weights": [1.0] * horizon}
    with pytest.raises(ScenarioError, match=f"needs {horizon + 1} values"):
        load_scenario_data(raw)


@pytest.mark.parametrize(
    ("unit_id", "region_id", "received_apart"),
    [
        ("us-navy-tg-1", "estonia", True),  # a ship: by sea to Muuga, under its own power
        ("us-48fw-1", "hungary", True),  # a squadron: flies to the air base
        ("us-1cd-abct1", "lithuania", False),  # tracked: no road march beyond 150 km
        ("us-82abn-irf", "romania", False),  # the army's way
    ],
)
def test_options_route_each_profile_as_the_simulation_plans_it(
    unit_id: str, region_id: str, received_apart: bool
) -> None:
    """docs/optimization.md, "Options": a unit's own-equipment option in a region has the
    uncongested closure the simulation's day-0 planner estimates for it (``planned_closure_day``:
    the same routes, receptions and RSOM days), whatever its movement profile. Before the
    options followed the profiles they were 1.5 days late for the ship and the squadron and
    3.6 days early for the tracked brigade."""
    from forcemodel.optimize.options import option_table

    scenario = load_scenario("eastern-flank")
    unit = next(u for u in scenario.units if u.id == unit_id)
    alone = scenario.model_copy(
        update={"units": (unit.model_copy(update={"assigned_to": region_id, "set_type": None}),)}
    )
    options = option_table(alone, compile_network(alone))
    own = options[(options["region_id"] == region_id) & (options["stock"] < 0)].iloc[0]
    planned = simulate(alone).tables["units"]["planned_closure_day"].iloc[0]
    assert own["closure"] == pytest.approx(planned, abs=1e-9)
    assert bool(own["pooled"]) is not received_apart
