"""The matching MIPs are solved to their true optimum (docs/assistance.md, "Correctness").

HiGHS 1.16's "dominated column" presolve reduction cut the optimum off both formulations on
the bundled example without its recorded deliveries: 10.2135 (pool) and 10.2260 (per arc),
both reported optimal at gap 0, while a plan of 10.3507 exists (found with that reduction
off, and checked against every constraint). These tests keep it off.
"""

from __future__ import annotations

import math

import linopy
import numpy as np
import pytest

from forcemodel.assist import AssistanceCase, load_case, load_case_data
from forcemodel.assist.formulation import DOMINATED_COLUMN_RULE, MatchSettings
from forcemodel.assist.greedy import greedy_values
from forcemodel.assist.pool import build_pool
from forcemodel.assist.solve import solve
from forcemodel.assist.synthetic import synthetic_case
from support.scenarios import model_violations


def _without_deliveries(hubs: float = 1.0) -> AssistanceCase:
    case = load_case("example")
    return case.model_copy(
        update={
            "deliveries": (),
            "hubs": tuple(
                h.model_copy(update={"t_per_day": h.t_per_day * hubs}) for h in case.hubs
            ),
        }
    )


def test_both_formulations_reach_the_same_optimum() -> None:
    case = _without_deliveries()
    pool = solve(case, formulation="pool", mip_gap=0.0)
    arcs = solve(case, formulation="arcs", mip_gap=0.0)
    assert pool.termination == arcs.termination == "optimal"
    assert pool.objective == pytest.approx(arcs.objective, rel=1e-7)
    # With the reduction on, HiGHS stopped at 10.2135 / 10.2260 and called them optimal.
    assert arcs.objective > 10.35
    lp = solve(case, formulation="arcs", relax=True)
    assert arcs.objective <= lp.objective + 1e-7


def test_more_hub_capacity_never_gives_a_worse_optimum() -> None:
    values = [
        solve(_without_deliveries(k), formulation="arcs", mip_gap=0.0).objective
        for k in (1.0, 10.0, 100.0)
    ]
    # Was 10.2260, 10.2283, 10.2138: a larger feasible set with a smaller "optimum".
    assert values[0] <= values[1] * (1 + 1e-7)
    assert values[1] <= values[2] * (1 + 1e-7)


def test_the_reduction_is_off_for_mips_only() -> None:
    settings = MatchSettings(time_limit=5.0, mip_gap=0.0)
    assert settings.highs_options(mip=True)["presolve_rule_off"] & DOMINATED_COLUMN_RULE
    assert "presolve_rule_off" not in settings.highs_options(mip=False)


@pytest.mark.parametrize("size, step", [(None, 1), ((200, 40, 10), 1), ((1000, 200, 20), 7)])
def test_the_greedy_start_is_a_plan_of_the_pool_model(
    size: tuple[int, int, int] | None, step: int
) -> None:
    case = _without_deliveries() if size is None else load_case_data(synthetic_case(*size, seed=0))
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=step)
        values = greedy_values(pm)
        assert model_violations(pm.model, values) == []
        expr = pm.model.objective.expression
        v, co = expr.vars.to_numpy().ravel(), expr.coeffs.to_numpy().ravel()
        value = float((np.where(v >= 0, values[np.maximum(v, 0)], 0.0) * co).sum())
    # A plan worth something (the bundled example's optimum is 10.35).
    assert value > (4.0 if size is None else 50.0)


def test_the_pool_solve_is_never_worse_than_its_start() -> None:
    case = load_case_data(synthetic_case(200, 40, 10, seed=0))
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=7)
        values = greedy_values(pm)
        expr = pm.model.objective.expression
        v, co = expr.vars.to_numpy().ravel(), expr.coeffs.to_numpy().ravel()
        start = float((np.where(v >= 0, values[np.maximum(v, 0)], 0.0) * co).sum())
    # Stopped by work right after the start is read: never worse than the start.
    res = solve(case, formulation="pool", step=7, time_limit=math.inf, node_limit=1, mip_gap=0.0)
    assert res.objective >= start - 1e-6


@pytest.mark.parametrize("size", [(200, 40, 10), (300, 60, 12)])
def test_the_greedy_start_buys_with_funds_what_no_pledge_holds(size: tuple[int, int, int]) -> None:
    # Priced ammunition pledged by no one: the first loads of its calibres exist only if the
    # pledges of funds buy them.
    data = synthetic_case(*size, seed=0)
    priced = {i["id"] for i in data["items"] if i.get("price_eur")}
    data["pledges"] = [p for p in data["pledges"] if p.get("item") not in priced]
    without = dict(data, pledges=[p for p in data["pledges"] if not p.get("funds_eur")])
    assert len(without["pledges"]) < len(data["pledges"])
    got: list[tuple[float, float]] = []
    for d in (data, without):
        case = load_case_data(d)
        with linopy.options as opts:
            opts(semantics="v1")
            pm = build_pool(case, step=7)
            values = greedy_values(pm)
            assert model_violations(pm.model, values) == []
            expr = pm.model.objective.expression
            v, co = expr.vars.to_numpy().ravel(), expr.coeffs.to_numpy().ravel()
            value = float((np.where(v >= 0, values[np.maximum(v, 0)], 0.0) * co).sum())
            got.append((value, float(values[pm.B[pm.B >= 0]].sum())))
    (with_funds, bought), (no_funds, _) = got
    assert bought > 0
    # What was bought made something operational or delivered: worth more than without funds.
    assert with_funds > no_funds * 1.05
