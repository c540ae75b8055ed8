"""The model builders' user hook: constraints of one's own, added before the objective.

Both builders (:func:`forcemodel.assist.arcs.build_model`, :func:`forcemodel.assist.pool.
build_pool`) take ``extra``, as PyPSA's ``extra_functionality``: here it forbids any delivery
to one requirement, and the solved plan must deliver it nothing while the plan without the
hook delivers it something.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd

from forcemodel.assist import AssistanceCase, load_case
from forcemodel.assist.arcs import BuiltModel, build_model
from forcemodel.assist.compile import compile_case
from forcemodel.assist.formulation import MatchSettings, add_rows
from forcemodel.assist.pool import PoolModel, build_pool
from forcemodel.assist.pool_readout import read_pool
from forcemodel.assist.readout import read_arcs
from forcemodel.assist.result import MatchResult
from forcemodel.mip.solve import run_highs
from forcemodel.mip.terms import Terms

SETTINGS = MatchSettings(time_limit=600.0, mip_gap=0.0)


def _case() -> AssistanceCase:
    return load_case("example").model_copy(update={"deliveries": ()})


def _delivered(result: MatchResult, requirement: str) -> float:
    dl = result.deliveries
    return float(dl.loc[dl["requirement"] == requirement, "quantity"].sum())


def _target(case: AssistanceCase) -> str:
    """A requirement that the plan without any hook delivers something to."""
    with linopy.options as opts:
        opts(semantics="v1")
        comp = compile_case(case)
        built = build_model(case, comp, relax=True)
        free = read_arcs(case, built, run_highs(built.model, SETTINGS, mip=False))
    got = free.deliveries.groupby("requirement")["quantity"].sum()
    assert (got > 0).any()
    return str(got.idxmax())


def _forbid(t: Terms, labels: np.ndarray) -> Terms:
    t.add(np.zeros(labels.size, dtype=np.int64), labels.ravel(), 1.0)
    return t


def test_the_per_arc_hook_adds_its_constraints_before_the_solve() -> None:
    case = _case()
    target = _target(case)

    def nothing_to(case: AssistanceCase, built: BuiltModel) -> None:
        arcs = built.compiled.arcs
        mine = (arcs["requirement"] == target).to_numpy()
        t = _forbid(Terms([pd.RangeIndex(1, name="mine")]), built.x[mine, -1])
        add_rows(built.model, t, "<=", 0.0, "user_forbids")

    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(case, compile_case(case), relax=True, extra=nothing_to)
        assert "user_forbids" in built.model.constraints
        got = read_arcs(case, built, run_highs(built.model, SETTINGS, mip=False))
    assert _delivered(got, target) == 0.0


def test_the_pool_hook_adds_its_constraints_before_the_solve() -> None:
    case = _case()
    target = _target(case)

    def nothing_to(case: AssistanceCase, pm: PoolModel) -> None:
        lines = pm.comp.lines
        mine = (lines["requirement"] == target).to_numpy()
        t = _forbid(Terms([pd.RangeIndex(1, name="mine")]), pm.Y[mine, -1])
        add_rows(pm.model, t, "<=", 0.0, "user_forbids")

    with linopy.options as opts:
        opts(semantics="v1")
        free = build_pool(case, relax=True)
        before = read_pool(free, run_highs(free.model, SETTINGS, mip=False))
        pm = build_pool(case, relax=True, extra=nothing_to)
        assert "user_forbids" in pm.model.constraints
        got = read_pool(pm, run_highs(pm.model, SETTINGS, mip=False))
    assert _delivered(before, target) > 0.0
    assert _delivered(got, target) == 0.0
    assert got.objective < before.objective
