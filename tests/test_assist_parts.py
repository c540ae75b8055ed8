"""The pool model by parts: the bound is an upper bound, the improved plan a plan of the model.

See docs/assistance.md ("Large cases: parts, bound and improvement").
"""

from __future__ import annotations

import linopy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forcemodel.assist import AssistanceCase, load_case, load_case_data, match
from forcemodel.assist.greedy import greedy_values
from forcemodel.assist.match import compile_case, pool_size, solve
from forcemodel.assist.parts import daily_bound, improve, part_bounds, split_parts
from forcemodel.assist.pool import build_pool
from forcemodel.assist.synthetic import synthetic_case


def _violations(m: linopy.Model, values: np.ndarray, tol: float = 1e-6) -> list[str]:
    """Rows, bounds and integrality of ``m`` that ``values`` (by label) break (as in
    tests/test_assist_solver.py)."""
    bad: list[str] = []
    for name in m.constraints:
        c = m.constraints[name]
        v, co = c.vars.to_numpy(), c.coeffs.to_numpy()
        lhs = (np.where(v >= 0, values[np.maximum(v, 0)], 0.0) * np.where(v >= 0, co, 0)).sum(-1)
        rhs, sign = c.rhs.to_numpy(), c.sign.to_numpy()
        over = np.where(sign == "<=", lhs - rhs, np.where(sign == ">=", rhs - lhs, abs(lhs - rhs)))
        if ((c.labels.to_numpy() >= 0) & (over > tol * np.maximum(1.0, abs(rhs)))).any():
            bad.append(name)
    for name in m.variables:
        var = m.variables[name]
        lab = var.labels.to_numpy()
        x = values[np.maximum(lab, 0)]
        out = (x < var.lower.to_numpy() - tol) | (x > var.upper.to_numpy() + tol)
        if name in m.variables.integers or name in m.variables.binaries:
            out |= abs(x - np.round(x)) > tol
        if ((lab >= 0) & out).any():
            bad.append(name)
    return bad


def _example() -> AssistanceCase:
    case = load_case("example")
    return case.model_copy(update={"deliveries": ()})


def _objective(m: linopy.Model, values: np.ndarray) -> float:
    expr = m.objective.expression
    v, co = expr.vars.to_numpy().ravel(), expr.coeffs.to_numpy().ravel()
    return float((np.where(v >= 0, values[np.maximum(v, 0)], 0.0) * co).sum())


def test_the_relaxation_at_step_1_is_the_daily_model() -> None:
    case = _example()
    with linopy.options as opts:
        opts(semantics="v1")
        a = build_pool(case, step=1, relax=True)
        b = build_pool(case, step=1, relax=True, outer=True)
    assert a.model.nvars == b.model.nvars
    assert a.model.ncons == b.model.ncons


@pytest.mark.parametrize("case_of", ["example", "synthetic"])
def test_the_bound_is_above_the_exact_optimum(case_of: str) -> None:
    case = _example() if case_of == "example" else load_case_data(synthetic_case(40, 10, 6, seed=1))
    exact = solve(case, formulation="pool", step=1, mip_gap=0.0)
    assert exact.termination == "optimal"
    lp = solve(case, formulation="pool", step=1, relax=True)
    daily = daily_bound(case, step=1)
    weekly = daily_bound(case, step=7)
    monthly = daily_bound(case, step=30)
    assert daily.solved and weekly.solved and monthly.solved
    # Parts with copies of what they share relax the whole LP, which relaxes the MIP; a coarser
    # relaxation is never tighter than the daily one.
    assert daily.bound >= lp.objective - 1e-6 * abs(lp.objective)
    assert lp.objective >= exact.objective - 1e-7 * abs(exact.objective)
    assert weekly.bound >= daily.bound - 1e-6 * abs(daily.bound)
    assert monthly.bound >= exact.objective - 1e-7 * abs(exact.objective)
    # And a bound that says something: the example's optimum is 10.35 of at most ~13.
    if case_of == "example":
        assert weekly.bound < 1.1 * exact.objective


def test_a_grid_plan_is_below_the_bound_of_its_relaxation() -> None:
    case = load_case_data(synthetic_case(300, 60, 12, seed=2))
    plan = solve(case, formulation="pool", step=7, mip_gap=0.0, time_limit=60.0)
    bound = daily_bound(case, step=7)
    assert bound.solved
    assert plan.objective <= bound.bound * (1 + 1e-7)


@pytest.mark.parametrize("size, step", [(None, 1), ((300, 60, 12), 7), ((1000, 200, 20), 7)])
def test_the_improved_plan_meets_every_row_and_is_never_worse(
    size: tuple[int, int, int] | None, step: int
) -> None:
    case = _example() if size is None else load_case_data(synthetic_case(*size, seed=0))
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=step)
        values = greedy_values(pm)
        parts = split_parts(pm)
        assert parts.n_parts >= 1
        x, log = improve(parts, values[parts.labels], time_limit=20.0)
        out = values.copy()
        out[parts.labels] = x
        assert _violations(pm.model, out) == []
        before, after = _objective(pm.model, values), _objective(pm.model, out)
        assert after >= before - 1e-9
        assert after == pytest.approx(before + sum(a - b for _, b, a in log), rel=1e-9)
        assert all(a >= b for _, b, a in log)


def test_each_part_bound_is_above_its_share_of_a_plan() -> None:
    case = load_case_data(synthetic_case(300, 60, 12, seed=0))
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=7)
        values = greedy_values(pm)
        parts = split_parts(pm)
        relaxed = build_pool(case, step=7, relax=True)
        rparts = split_parts(relaxed)
    assert rparts.n_parts == parts.n_parts
    got = part_bounds(rparts)
    assert got.solved
    x = values[parts.labels]
    # Parts of the two models matched by the lines they hold (the column order differs: the
    # MIP's integer variables are separate blocks).
    match_of: dict[int, int] = {}
    for a, b in ((pm, parts), (relaxed, rparts)):
        pos = {int(lab): j for j, lab in enumerate(b.labels)}
        first = [next((pos[int(v)] for v in row if v >= 0), -1) for row in a.O]
        if b is parts:
            mine = [int(parts.part[j]) if j >= 0 else -1 for j in first]
        else:
            for k, j in zip(mine, first, strict=True):
                if k >= 0 and j >= 0:
                    assert match_of.setdefault(k, int(rparts.part[j])) == int(rparts.part[j])
    assert match_of
    # The greedy plan is a plan of the restriction, so each part's share of it is at most that
    # part's LP optimum, and the shared columns only cost.
    for k, kr in match_of.items():
        cols = parts.columns(k)
        share = float(parts.cost[cols] @ x[cols])
        assert share <= got.parts[kr] + 1e-6 * max(1.0, abs(got.parts[kr]))
    shared = parts.part == -1
    assert (parts.cost[shared] <= 0).all()
    assert float(parts.cost @ x) <= got.bound + 1e-6


def test_auto_chooses_the_grid_and_parts_for_large_models(monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case_data(synthetic_case(300, 60, 12, seed=0))
    comp = compile_case(case, per_line=False)
    assert pool_size(comp) > 0
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=7, comp=comp)
        start = _objective(pm.model, greedy_values(pm))
    # As at the target size, scaled down: the pool model (no per-arc), a 7-day grid, and the
    # greedy start improved by parts instead of one HiGHS run.
    monkeypatch.setattr(match, "AUTO_POOL_VARIABLES", 0)
    monkeypatch.setattr(match, "AUTO_GRID_VARIABLES", pool_size(comp) - 1)
    monkeypatch.setattr(match, "AUTO_PARTS_VARIABLES", 0)
    res = solve(case, time_limit=20.0)
    assert res.termination == "feasible"
    assert "improved part by part" in res.log
    assert res.objective >= start - 1e-9
    # Decisions on grid days only: what is operational changes on multiples of 7 (or day H).
    changes = res.progress.groupby(["requirement", "item"])["operational"].diff().fillna(0.0)
    days = res.progress.loc[changes.abs() > 1e-9, "day"].to_numpy(int)
    assert ((days % 7 == 0) | (days == case.meta.horizon_days)).all()
    held = {p.id: float(p.quantity or 0.0) for p in case.pledges if p.item is not None}
    given_ = res.deliveries.groupby("pledge")["quantity"].sum()
    for pledge, qty in given_.items():
        if pledge in held:
            assert qty <= held[str(pledge)] + 1e-6


@settings(max_examples=6)
@given(
    pledges=st.integers(20, 200),
    requirements=st.integers(5, 40),
    courses=st.integers(2, 10),
    seed=st.integers(0, 1000),
)
def test_property_improved_plans_are_plans_below_the_bound(
    pledges: int, requirements: int, courses: int, seed: int
) -> None:
    case = load_case_data(synthetic_case(pledges, requirements, courses, seed=seed))
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=7)
        if pm.model.nvars == 0:
            return
        values = greedy_values(pm)
        parts = split_parts(pm)
        x, _ = improve(parts, values[parts.labels], time_limit=5.0)
        out = values.copy()
        out[parts.labels] = x
        assert _violations(pm.model, out) == []
        value = _objective(pm.model, out)
    assert value >= _objective(pm.model, values) - 1e-9
    bound = daily_bound(case, step=7)
    assert bound.solved
    assert value <= bound.bound + 1e-6 * max(1.0, abs(bound.bound))
