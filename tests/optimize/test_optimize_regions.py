"""The search by groups of regions (forcemodel.optimize.neighbourhoods) and ``search=``."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import linopy
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forcemodel import load_scenario_data
from forcemodel.mip.solve import SolverSettings, run_highs
from forcemodel.network.compile import CompiledNetwork, compile_network
from forcemodel.optimize import LARGE_OPTIONS, SEARCHES, WorkLimits, optimize
from forcemodel.optimize.model import BuiltModel, Weights, build_model, option_table
from forcemodel.optimize.neighbourhoods import (
    group_model,
    improve_by_regions,
    region_groups,
    region_values,
)
from forcemodel.optimize.start import planner_z
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario

Case = tuple[Scenario, CompiledNetwork, pd.DataFrame, Weights, np.ndarray]

SETTINGS = SolverSettings(
    time_limit=math.inf, mip_gap=1e-6, threads=1, node_limit=100_000, iteration_limit=10_000_000
)
WORK = WorkLimits(evaluations=20, mip_nodes=100_000, lp_iterations=10_000_000)


@pytest.fixture(scope="module")
def case() -> Case:
    # 10 regions and a few stocks, small enough for whole MIPs in seconds.
    scenario = load_scenario_data(
        synthetic_scenario(units=40, nodes=24, days=60, regions=10, seed=3)
    )
    net = compile_network(scenario)
    options = option_table(scenario, net)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(scenario, net, options, Weights.of(scenario), shared=False)
        z = planner_z(scenario, net, built, None)
    assert z is not None
    return scenario, net, options, Weights.of(scenario), z


def _fixed(
    scenario: Scenario, net: CompiledNetwork, options: pd.DataFrame, z: np.ndarray
) -> BuiltModel:
    with linopy.options as opts:
        opts(semantics="v1")
        lp = build_model(
            scenario, net, options, Weights.of(scenario), relax=True, fix_choices=z, shared=False
        )
        out = run_highs(lp.model, SETTINGS, mip=False)
    assert out.termination == "optimal"
    return lp


def _drawing(scenario: Scenario, options: pd.DataFrame, z: np.ndarray) -> np.ndarray:
    """``z`` with as many units as the stocks allow moved to their first option drawing a set
    (the planner draws none on this case)."""
    z = z.copy()
    left = {s.id: s.sets for s in scenario.stocks}
    unit = options["unit"].to_numpy()
    for u, rows in options[options["stock"] >= 0].groupby("unit", sort=True):
        first = rows.iloc[0]
        if left[first["stock_id"]] > 0:
            left[first["stock_id"]] -= 1
            z[unit == u] = 0.0
            z[int(str(first.name))] = 1.0
    return z


def _value(lp: BuiltModel) -> float:
    return float(lp.model.objective.value)  # type: ignore[arg-type]


def test_groups_cover_every_region_once_and_start_from_the_worst() -> None:
    options = pd.DataFrame({"unit": [0, 0, 1, 1, 2, 2, 3], "region": [0, 1, 1, 2, 2, 3, 4]})
    value = np.array([1.0, 0.0, 5.0, 0.0, 2.0])
    groups = region_groups(options, 5, value, size=2)
    assert sorted(r for g in groups for r in g) == [0, 1, 2, 3, 4]
    # The worst region (2) starts; it shares units 1 and 2 with regions 1 and 3, the lower
    # index joins it. Then region 4 (value 2), which shares no unit: region 0 joins.
    assert groups == [[2, 1], [4, 0], [3]]
    with pytest.raises(ValueError, match="at least 1 region"):
        region_groups(options, 5, value, size=0)


@settings(max_examples=50, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 6)), min_size=1, max_size=40),
    value=st.lists(st.floats(0, 100), min_size=7, max_size=7),
    size=st.integers(1, 7),
)
def test_groups_are_a_partition_of_the_regions(
    pairs: list[tuple[int, int]], value: list[float], size: int
) -> None:
    options = pd.DataFrame(pairs, columns=["unit", "region"])
    groups = region_groups(options, 7, np.array(value), size=size)
    assert sorted(r for g in groups for r in g) == list(range(7))
    assert all(1 <= len(g) <= size for g in groups)
    assert groups[0][0] == int(np.lexsort((np.arange(7), -np.array(value)))[0])


@pytest.mark.parametrize("sets", [False, True], ids=["planner", "drawing-sets"])
def test_the_objective_falls_apart_into_the_groups(case: Case, sets: bool) -> None:
    """The method's premise: with every other unit fixed, the whole model's value (without the
    shared capacities) is the sum of the groups' own models' values."""
    scenario, net, options, _, z = case
    if sets:
        z = _drawing(scenario, options, z)
    whole = _value(_fixed(scenario, net, options, z))
    values = region_values(_fixed(scenario, net, options, z))
    total = 0.0
    for group in region_groups(options, len(scenario.regions), values, size=3):
        gm = group_model(scenario, options, z, group)
        if gm is None:  # no unit sent there: the regions' shortfall is a constant
            cut = scenario.model_copy(update={"regions": tuple(scenario.regions[r] for r in group)})
            lp = _fixed(cut, net, options.iloc[:0], np.zeros(0))
        else:
            lp = _fixed(gm.scenario, net, gm.options, gm.current)
        total += _value(lp)
    assert total == pytest.approx(whole, rel=1e-7)


def test_a_group_model_frees_the_units_sent_there_and_leaves_the_stocks_sets(case: Case) -> None:
    scenario, _, options, _, z = case
    z = _drawing(scenario, options, z)
    chosen = z > 0.5
    drawing = options.loc[chosen & (options["stock"] >= 0)]
    assert len(drawing), "the case should draw some sets"
    group = sorted({int(r) for r in drawing["region"]})[:1]
    gm = group_model(scenario, options, z, group)
    assert gm is not None
    sent = set(options.loc[chosen & options["region"].isin(group), "unit"])
    assert set(gm.options["unit"]) == sent
    assert set(gm.options["region"]) <= {0}  # renumbered within the group's regions
    assert [r.id for r in gm.scenario.regions] == [scenario.regions[group[0]].id]
    outside = Counter(
        options.loc[chosen & ~options["unit"].isin(sent) & (options["stock"] >= 0), "stock_id"]
    )
    for before, after in zip(scenario.stocks, gm.scenario.stocks, strict=True):
        assert after.sets == before.sets - outside.get(before.id, 0)
    # A frozen stock: its drawers stay put and nobody else is offered it.
    frozen = int(drawing["stock"].iloc[0])
    gm2 = group_model(scenario, options, z, group, frozen_stocks=[frozen])
    drawer = set(drawing.loc[drawing["stock"] == frozen, "unit"]) & sent
    if gm2 is not None:
        assert not (gm2.options["stock"] == frozen).any()
        assert not drawer & set(gm2.options["unit"])


def _search(case: Case, deadline: float, size: int = 3) -> tuple[np.ndarray, float, list[str]]:
    """The case's planner plan improved by groups of ``size`` regions until ``deadline``
    (``time.monotonic()``: ``math.inf`` stops by work alone, 0 has passed before it starts)."""
    scenario, net, options, weights, z = case
    before = _fixed(scenario, net, options, z)
    with linopy.options as opts:
        opts(semantics="v1")
        return improve_by_regions(
            scenario,
            net,
            options,
            z,
            region_values(before),
            weights,
            SETTINGS,
            deadline,
            size=size,
        )


@pytest.mark.slow
def test_the_search_gains_exactly_what_it_says_and_keeps_a_plan(case: Case) -> None:
    scenario, net, options, _, z = case
    before = _fixed(scenario, net, options, z)
    new, gained, logs = _search(case, math.inf)  # stopped by work (SETTINGS)
    after = _value(_fixed(scenario, net, options, new))
    assert gained > 0.0, "".join(logs)
    assert after == pytest.approx(_value(before) - gained, rel=1e-6)
    # Still a plan: one option per unit, no stock overdrawn.
    chosen = options[new > 0.5]
    assert sorted(chosen["unit"]) == sorted(set(options["unit"]))
    drawn = Counter(chosen.loc[chosen["stock"] >= 0, "stock_id"])
    sets = {s.id: s.sets for s in scenario.stocks}
    assert all(n <= sets[sid] for sid, n in drawn.items())
    assert any("pass 1 gained" in line for line in logs)


def test_the_search_stops_at_its_deadline(case: Case) -> None:
    new, gained, logs = _search(case, 0.0)  # a deadline long past: no clock race
    assert gained == 0.0 and np.array_equal(new, case[4]) and logs == []


@pytest.mark.slow
def test_optimize_by_regions_beats_the_planner_and_says_so(case: Case) -> None:
    scenario = case[0]
    result = optimize(scenario, work=WORK, search="regions", threads=1)
    log = result.log
    assert "Regions search: pass 1 gained" in log
    planner = float(
        next(line for line in log.splitlines() if line.startswith("Day-0 planner: ")).split()[2]
    )
    assert result.objective_value < planner - 1e-6
    assert "search by groups of regions" in log.split("Incumbents:")[1]
    assert result.bound is not None and result.bound <= result.objective_value + 1e-6
    # The plan is written back whole: every unit placed once.
    assert sorted(result.plan["unit"]) == sorted(u.id for u in scenario.units)


def test_the_safeguard_checks_the_regions_search_plan() -> None:
    """With closure targets the plans of the search are simulated like any other: the plan
    kept closes no region of tiny later than the scenario as given."""
    from forcemodel import load_scenario, simulate
    from forcemodel.optimize import bundled_closure_days

    tiny = load_scenario("tiny")
    targets = bundled_closure_days(tiny)
    assert targets
    result = optimize(
        tiny,
        work=WORK,
        search="regions",
        threads=1,
        closure_by="bundled",
        simulated_search=False,  # the safeguard (the simulated search is tested on its own)
    )
    assert "Simulated: " in result.log and "Kept: " in result.log
    # tiny's optimum, worked out by hand (docs/optimization.md, "tiny by hand").
    assert result.objective_value == pytest.approx(50.210480343, rel=1e-8)
    closed = bundled_closure_days(result.scenario)
    for region, day in targets.items():
        assert closed[region] <= day + 1e-9, (region, closed[region], day)
    assert simulate(result.scenario).tables["units"]["region"].notna().all()


@pytest.mark.slow
def test_auto_searches_by_regions_only_above_the_size(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, _, options, _, _ = case
    assert len(options) <= LARGE_OPTIONS and "auto" in SEARCHES
    small = WorkLimits(evaluations=1, mip_nodes=20, lp_iterations=100_000)
    below = optimize(scenario, work=small, threads=1, duals=False)
    assert "==== LP relaxation" in below.log and "Regions search" not in below.log
    monkeypatch.setattr("forcemodel.optimize.search.LARGE_OPTIONS", len(options) - 1)
    above = optimize(scenario, work=small, threads=1, duals=False)
    assert "Regions search" in above.log and "==== LP relaxation" not in above.log


def test_bad_search_settings_are_refused(case: Case) -> None:
    scenario = case[0]
    with pytest.raises(ValueError, match="search must be one of auto, relaxation, regions"):
        optimize(scenario, search="nearby")
    with pytest.raises(ValueError, match="use start='planner'"):
        optimize(scenario, search="regions", start=None)
    with pytest.raises(ValueError, match="cannot be used with relax=True"):
        optimize(scenario, search="regions", relax=True)


def test_the_cli_takes_a_search_and_refuses_a_bad_one(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from forcemodel.cli import app

    runner = CliRunner()
    bad = runner.invoke(app, ["optimize", "tiny", "--out", str(tmp_path / "a"), "--search", "x"])
    assert bad.exit_code == 2 and "--search" in bad.output
    both = runner.invoke(
        app, ["optimize", "tiny", "--out", str(tmp_path / "b"), "--search", "regions", "--relax"]
    )
    assert both.exit_code == 2 and "cannot be used with --relax" in both.output
    ok = runner.invoke(
        app,
        [
            "optimize",
            "tiny",
            "--out",
            str(tmp_path / "c"),
            "--search",
            "regions",
            "--deterministic",  # by work, not seconds: the search runs on a busy machine too
            "--no-closure-by-bundled",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "Regions search" in (tmp_path / "c" / "solver.log").read_text()
