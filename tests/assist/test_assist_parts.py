"""The pool model by parts: the bound is an upper bound, the improved plan a plan of the model.

See docs/assistance.md ("Large cases: parts, bound and improvement").
"""

from __future__ import annotations

import functools
import math
import re
import time

import highspy
import linopy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forcemodel.assist import (
    AssistanceCase,
    MatchResult,
    load_case,
    load_case_data,
    match_case,
    result_tables,
)
from forcemodel.assist import parts as parts_module
from forcemodel.assist import solve as dispatcher
from forcemodel.assist.compile import arc_count, compile_case, pool_size
from forcemodel.assist.greedy import greedy_values
from forcemodel.assist.parts import daily_bound, improve, part_bounds, split_parts
from forcemodel.assist.pool import build_pool
from forcemodel.assist.solve import solve
from forcemodel.assist.synthetic import synthetic_case
from support.scenarios import model_violations


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


@pytest.mark.slow
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
    # Stopped by work (nodes), not seconds: what is asserted holds at any stopping point.
    plan = solve(case, formulation="pool", step=7, mip_gap=0.0, time_limit=math.inf, node_limit=500)
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
        got = improve(parts, values[parts.labels], rounds=2)
        assert not got.timed_out
        x, log = got.x, got.log
        out = values.copy()
        out[parts.labels] = x
        assert model_violations(pm.model, out) == []
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
    monkeypatch.setattr(dispatcher, "AUTO_POOL_VARIABLES", 0)
    monkeypatch.setattr(dispatcher, "AUTO_GRID_VARIABLES", pool_size(comp) - 1)
    monkeypatch.setattr(dispatcher, "AUTO_PARTS_VARIABLES", 0)
    # The parts are limited by work; no time limit (the safety net) at all.
    res = solve(case, time_limit=math.inf, node_limit=1)
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


@pytest.mark.slow
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
        x = improve(parts, values[parts.labels]).x
        out = values.copy()
        out[parts.labels] = x
        assert model_violations(pm.model, out) == []
        value = _objective(pm.model, out)
    assert value >= _objective(pm.model, values) - 1e-9
    bound = daily_bound(case, step=7)
    assert bound.solved
    assert value <= bound.bound + 1e-6 * max(1.0, abs(bound.bound))


def _tables(result: MatchResult) -> dict[str, bytes]:
    """The tables ``forcemodel assist match --out`` saves, as the bytes it writes."""
    frames = result_tables(result)
    out = {name: frame.to_csv(index=False).encode() for name, frame in frames.items()}
    out["solver.log"] = result.log.encode()
    return out


def _parts_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto`` as at the target size, scaled down: pool model, 7-day grid, improvement by
    parts; parts of more than 200 columns split by item, so that both kinds of group run."""
    monkeypatch.setattr(dispatcher, "AUTO_POOL_VARIABLES", 0)
    monkeypatch.setattr(dispatcher, "AUTO_GRID_VARIABLES", 0)
    monkeypatch.setattr(dispatcher, "AUTO_PARTS_VARIABLES", 0)
    split_by_item = functools.partial(parts_module.neighbourhoods, max_columns=200)
    monkeypatch.setattr(parts_module, "neighbourhoods", split_by_item)


@pytest.mark.slow
def test_the_parts_path_gives_the_same_plan_on_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case_data(synthetic_case(1000, 200, 20, seed=0))
    _parts_path(monkeypatch)
    first = match_case(case)
    assert first.termination == "feasible"
    assert "improved part by part" in first.log
    # The improvement did something (else two equal runs would prove nothing), and some of
    # its groups were items of split parts.
    before, after = re.search(r"objective (\S+) -> (\S+)", first.log).groups()  # type: ignore[union-attr]
    assert float(after) > float(before)
    groups = int(re.search(r"of (\d+) groups", first.log).group(1))  # type: ignore[union-attr]
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=7)
        assert groups > split_parts(pm).n_parts
    # The second run on a clock 50 times as fast, as on a machine 50 times as slow or busy: a
    # search that shared out time would give other plans; one limited by work gives the same.
    real = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: 50.0 * real())
    second = match_case(case, time_limit=3600.0)
    monkeypatch.setattr(time, "perf_counter", real)
    assert second.termination == "feasible"
    assert second.objective == first.objective
    assert _tables(second) == _tables(first)


def test_the_safety_net_says_when_it_cut_the_improvement_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = load_case_data(synthetic_case(300, 60, 12, seed=0))
    _parts_path(monkeypatch)
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=7)
        start = _objective(pm.model, greedy_values(pm))
    res = solve(case, time_limit=1e-9)
    assert res.termination == "time_limit"
    assert "may depend on the machine" in res.log
    assert res.objective == pytest.approx(start, rel=1e-9)
    done = solve(case)
    assert done.termination == "feasible"
    assert "may depend" not in done.log
    assert done.objective > res.objective


@pytest.mark.parametrize("case_of", ["example", (200, 40, 10, 0), (1000, 200, 20, 3)])
def test_auto_counts_the_per_arc_model_from_the_pool_compile(
    case_of: str | tuple[int, int, int, int],
) -> None:
    # `auto` decides between the models from this count without the per-arc compile: it must
    # be the per-arc compile's exact number of arcs.
    if isinstance(case_of, str):
        case = load_case(case_of)
    else:
        p, r, c, seed = case_of
        case = load_case_data(synthetic_case(p, r, c, seed=seed))
    assert arc_count(case, compile_case(case, per_line=False)) == len(compile_case(case).arcs)


def _two_thread_highs_run() -> None:
    """A HiGHS run with two threads, which leaves the process's HiGHS scheduler with two (as
    any earlier solve with HiGHS's default threads may, e.g. in the service's process)."""
    highspy.Highs.resetGlobalScheduler(True)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 2)
    h.addVar(0.0, 10.0)
    integer = np.array([int(highspy.HighsVarType.kInteger)], dtype=np.uint8)
    h.changeColsIntegrality(1, np.array([0], dtype=np.int32), integer)
    h.changeColsCost(1, np.array([0], dtype=np.int32), np.array([-1.0]))
    assert h.run() == highspy.HighsStatus.kOk
    one = highspy.Highs()  # type: ignore[no-untyped-call]
    one.setOptionValue("output_flag", False)
    one.setOptionValue("threads", 1)
    one.addVar(0.0, 1.0)
    # What the improvement's MIPs met before: refused.
    assert one.run() == highspy.HighsStatus.kError


def test_the_improvement_runs_after_highs_ran_with_more_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = load_case_data(synthetic_case(300, 60, 12, seed=0))
    _parts_path(monkeypatch)
    first = solve(case)
    _two_thread_highs_run()
    again = solve(case)
    assert "improved part by part" in again.log
    assert again.objective == first.objective
    assert _tables(again) == _tables(first)
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=7)
        assert again.objective > _objective(pm.model, greedy_values(pm)) + 1.0
    _two_thread_highs_run()
    assert daily_bound(case, step=7).solved
