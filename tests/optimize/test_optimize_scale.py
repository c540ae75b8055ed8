"""forcemodel.optimize at scale: the options pruned per unit (option_table)."""

from __future__ import annotations

import math

import linopy
import numpy as np
import pytest

from forcemodel import load_scenario, load_scenario_data
from forcemodel.mip.solve import SolverSettings, run_highs
from forcemodel.network.compile import compile_network
from forcemodel.optimize.model import Weights, build_model, option_table
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario


def _key(options: object) -> set[tuple[str, str, str]]:
    return set(zip(options["unit_id"], options["region_id"], options["stock_id"], strict=True))  # type: ignore[index]


@pytest.mark.parametrize("name", ["tiny", "eastern-flank"])
def test_defaults_prune_nothing_on_the_bundled_scenarios(name: str) -> None:
    scenario = load_scenario(name)
    net = compile_network(scenario)
    every = option_table(scenario, net, max_regions=None, max_stocks=None)
    assert option_table(scenario, net).equals(every)


@pytest.fixture(scope="module")
def many_regions() -> Scenario:
    # 12 regions and 6 stocks: more than the defaults keep per unit.
    return load_scenario_data(synthetic_scenario(units=24, nodes=20, days=60, regions=12, seed=5))


def test_pruning_keeps_the_nearest_regions_the_assigned_one_and_the_kept_choice(
    many_regions: Scenario,
) -> None:
    net = compile_network(many_regions)
    every = option_table(many_regions, net, max_regions=None, max_stocks=None)
    pruned = option_table(many_regions, net, max_regions=3, max_stocks=1, prune_above=None)
    assert len(pruned) < len(every)
    assert _key(pruned) <= _key(every)
    # Every region keeps the units that close on it first (3 x 24 / 12 = 6 of them).
    for r, rows in every.groupby("region"):
        first = rows.groupby("unit")["closure"].min().sort_values(kind="stable").index[:6]
        assert set(first) <= set(pruned.loc[pruned["region"] == r, "unit"])
    for u in many_regions.units:
        mine = pruned[pruned["unit_id"] == u.id]
        assert (mine.groupby("region")["stock"].apply(lambda s: int((s >= 0).sum())) <= 1).all()
        if u.assigned_to is not None:
            assert u.assigned_to in set(mine["region_id"])
        # The regions kept are those the unit closes on first.
        all_mine = every[every["unit_id"] == u.id]
        first = all_mine.groupby("region")["closure"].min().sort_values(kind="stable")
        assert set(first.index[:3]) <= set(mine["region"])
    # A unit pinned by ``keep`` keeps that option, however far.
    far = every.sort_values("closure").iloc[-1]
    kept = option_table(
        many_regions,
        net,
        max_regions=1,
        max_stocks=0,
        prune_above=None,
        keep={far.unit_id: (far.region_id, far.stock_id or None)},
    )
    assert (far.unit_id, far.region_id, far.stock_id) in _key(kept)


def _optimum(scenario: Scenario, options: object) -> tuple[float, np.ndarray]:
    net = compile_network(scenario)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(scenario, net, options, Weights(), shared=False)  # type: ignore[arg-type]
        settings = SolverSettings(
            time_limit=math.inf, mip_gap=0.0, threads=1, node_limit=10**6, iteration_limit=10**8
        )
        out = run_highs(built.model, settings, mip=True)
    assert out.termination == "optimal"
    assert out.objective is not None
    return out.objective, np.round(built.model.variables["choose"].solution.to_numpy()) > 0.5


@pytest.mark.slow
def test_small_scenarios_are_not_pruned_and_pruning_costs_little_when_forced(
    many_regions: Scenario,
) -> None:
    net = compile_network(many_regions)
    every = option_table(many_regions, net, max_regions=None, max_stocks=None)
    # 288 options offered: under prune_above, so the default table is every option (exact).
    assert option_table(many_regions, net).equals(every)
    best, z = _optimum(many_regions, every)
    forced = option_table(many_regions, net, prune_above=None)
    assert len(forced) < len(every)
    value, _ = _optimum(many_regions, forced)
    # Pruning is a restriction (docs/optimization.md): never better, and here within 0.1 %.
    assert best - 1e-6 <= value <= best * 1.001
    # Every option the unpruned optimum takes that counts within the horizon is kept but
    # for at most one unit (options closing after the horizon never count: ties).
    chosen = every[z & (every["closure"] <= many_regions.meta.horizon_days).to_numpy()]
    assert len(_key(chosen) - _key(forced)) <= 1


def test_bad_pruning_limits_are_refused(many_regions: Scenario) -> None:
    net = compile_network(many_regions)
    with pytest.raises(ValueError, match="max_regions"):
        option_table(many_regions, net, max_regions=0)
    with pytest.raises(ValueError, match="max_stocks"):
        option_table(many_regions, net, max_stocks=-1)
