"""What the per-arc and the pool model share: objective weights, solver settings, the row
adder and the training variables and constraints (crews, cohorts, prerequisites).

The maths is in docs/assistance.md ("The matching model"); constraint numbers below are its.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.assist.compile import Compiled, records
from forcemodel.assist.model import AssistanceCase
from forcemodel.mip.solve import SolverSettings
from forcemodel.mip.terms import Terms

#: Weight of a delivered (not yet operational) item against an operational one.
DELIVERED_WEIGHT = 0.1
#: Weight of all days' progress (every day up to the horizon) against the needed-by date.
EARLY_WEIGHT = 0.1
#: Scale of the tie-breaking costs (supplies, trainees, cohorts) against one requirement.
TIE_WEIGHT = 1e-3

#: HiGHS's ``presolve_rule_off`` bit of its "dominated column" presolve reduction (rule 5 in
#: HiGHS 1.16; ``presolve_rule_logging`` names it). With it, HiGHS 1.16 cuts the optimum off
#: both matching models and reports a worse plan as optimal at gap 0 (the bundled example
#: without its deliveries: 10.2135 and 10.2260 instead of 10.3507; docs/assistance.md,
#: "Correctness of the solver"). It is switched off for every matching MIP.
DOMINATED_COLUMN_RULE = 1 << 5


@dataclass(frozen=True)
class MatchSettings(SolverSettings):
    """The solver settings of a matching MIP: the user's, with HiGHS's dominated-column
    presolve reduction off (:data:`DOMINATED_COLUMN_RULE`)."""

    def highs_options(self, *, mip: bool) -> dict[str, Any]:
        opts = super().highs_options(mip=mip)
        if mip:
            opts["presolve_rule_off"] = DOMINATED_COLUMN_RULE
        return opts


def add_rows(m: linopy.Model, t: Terms, sign: str, rhs: np.ndarray | float, name: str) -> None:
    """Add ``t sign rhs`` for every row of ``t`` that has a term (empty rows are left out)."""
    expr, mask = t.build(m)
    rhs_da = xr.DataArray(np.broadcast_to(rhs, t.shape).copy(), coords=t.coords)
    if not bool(mask.any()):
        return
    if sign == "<=":
        m.add_constraints(expr <= rhs_da, name=name, mask=mask)
    else:
        m.add_constraints(expr >= rhs_da, name=name, mask=mask)


def grid_variables(
    m: linopy.Model,
    name: str,
    live: np.ndarray,
    upper: np.ndarray,
    integer: bool,
    grid: np.ndarray,
) -> np.ndarray:
    """Variables (row, grid point) where ``live``; labels, -1 elsewhere."""
    out = np.full(live.shape, -1, dtype=np.int64)
    if not live.any():
        return out
    ix = pd.RangeIndex(live.shape[0], name=f"{name}_row")
    gx = pd.Index(grid, name="day")
    ub = np.broadcast_to(upper.reshape(-1, 1), live.shape)
    var = m.add_variables(
        lower=0.0,
        upper=xr.DataArray(np.where(live, ub, 0.0), coords=[ix, gx]),
        integer=integer,
        name=name,
        mask=xr.DataArray(live, coords=[ix, gx]),
    )
    return np.asarray(var.labels.to_numpy(), dtype=np.int64)


def typed_grid_variables(
    m: linopy.Model,
    name: str,
    live: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray,
    grid: np.ndarray,
) -> np.ndarray:
    """As :func:`grid_variables`: integer in the rows flagged ``integer``, else continuous."""
    out = np.full(live.shape, -1, dtype=np.int64)
    for suffix, sel in (("_int", integer), ("", ~integer)):
        idx = np.flatnonzero(sel)
        if idx.size:
            out[idx] = grid_variables(
                m, name + suffix, live[idx], upper[idx], suffix == "_int", grid
            )
    return out


def monotone_rows(m: linopy.Model, labels: np.ndarray, name: str) -> None:
    """``labels[:, p] >= labels[:, p-1]`` (a -1 label reads as zero)."""
    n_rows, n = labels.shape
    if n_rows == 0 or n < 2:
        return
    t = Terms([pd.RangeIndex(n_rows, name=f"{name}_row"), pd.RangeIndex(n - 1, name="step")])
    rows = np.arange(n_rows)[:, None] * (n - 1) + np.arange(n - 1)[None, :]
    t.add(rows, labels[:, 1:], 1.0)
    t.add(rows, labels[:, :-1], -1.0)
    add_rows(m, t, ">=", 0.0, name)


def requirement_weights(case: AssistanceCase) -> dict[str, float]:
    """The objective's weight of one unit of each requirement: its priority per unit."""
    return {r.id: r.priority / r.quantity for r in case.requirements}


def least_crewed_weight(lines: pd.DataFrame, w_req: dict[str, float]) -> float:
    """The least weight of a crewed line. Trainees and cohorts are worth something only
    through crewed systems: their costs are scaled by it, so they never outweigh what they
    give."""
    crewed = [w_req[str(r)] for r, c in zip(lines["requirement"], lines["crew"], strict=True) if c]
    return min(crewed, default=1.0)


def training_variables(
    m: linopy.Model, comp: Compiled, *, relax: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Trainees per training row and whether each cohort runs (labels; -1: none)."""
    tr, co = comp.training, comp.cohorts
    trainees = np.full(len(tr), -1, dtype=np.int64)
    runs = np.full(len(co), -1, dtype=np.int64)
    if len(co):
        size = co["size"].to_numpy(float)
        row_ix = pd.RangeIndex(len(tr), name="training_row")
        cap = size[tr["cohort"].to_numpy(int)]
        t_var = m.add_variables(
            lower=0.0, upper=xr.DataArray(cap, coords=[row_ix]), name="trainees"
        )
        trainees = t_var.labels.to_numpy()
        co_ix = pd.RangeIndex(len(co), name="cohort")
        u_var = (
            m.add_variables(lower=0.0, upper=1.0, coords=[co_ix], name="cohort_runs")
            if relax
            else m.add_variables(coords=[co_ix], binary=True, name="cohort_runs")
        )
        runs = u_var.labels.to_numpy()
    return trainees, runs


def training_costs(
    obj: Terms, comp: Compiled, w_min: float, trainees: np.ndarray, runs: np.ndarray
) -> None:
    """The objective's small costs of trainees and cohorts run (tie-breaking)."""
    if len(comp.training):
        lines = comp.lines
        crew_max = max(1, int(lines["crew"].max()) if len(lines) else 1)
        obj.add(0, trainees, -TIE_WEIGHT * w_min / crew_max)
        obj.add(0, runs, -TIE_WEIGHT * w_min)


def training_constraints(
    m: linopy.Model,
    case: AssistanceCase,
    comp: Compiled,
    op: np.ndarray,
    grid: np.ndarray,
    trainees: np.ndarray,
    runs: np.ndarray,
) -> None:
    """Constraints (7)-(9): crews by each day of ``grid`` (``op``: labels (line, grid point)),
    cohorts and prerequisites."""
    define_crews(m, comp, op, grid, trainees)
    define_cohorts(m, case, comp, trainees, runs)
    define_prerequisites(m, case, comp, trainees)


def define_crews(
    m: linopy.Model, comp: Compiled, op: np.ndarray, grid: np.ndarray, trainees: np.ndarray
) -> None:
    """(7) Crews: operational systems of an item need crew x systems people trained by then."""
    lines, tr = comp.lines, comp.training
    n = len(grid)
    crew_items = sorted({str(i) for i, c in zip(lines["item"], lines["crew"], strict=True) if c})
    if not crew_items:
        return
    ipos = {i: k for k, i in enumerate(crew_items)}
    t = Terms([pd.Index(crew_items, name="item"), pd.Index(grid, name="day")])
    for li, line in enumerate(records(lines)):
        if line["crew"]:
            rows = ipos[str(line["item"])] * n + np.arange(n)
            t.add(rows, op[li], float(line["crew"]))
    for k, row in enumerate(records(tr)):
        if str(row["item"]) in ipos:
            d = np.flatnonzero(grid >= int(row["end"]))
            t.add(ipos[str(row["item"])] * n + d, trainees[k], -1.0)
    add_rows(m, t, "<=", 0.0, "crews")


def define_cohorts(
    m: linopy.Model,
    case: AssistanceCase,
    comp: Compiled,
    trainees: np.ndarray,
    runs: np.ndarray,
) -> None:
    """(8) Cohorts: trainees only in a cohort that runs, at most its size; at most max_cohorts."""
    tr, co = comp.training, comp.cohorts
    if not len(co):
        return
    t = Terms([pd.RangeIndex(len(co), name="cohort")])
    t.add(tr["cohort"].to_numpy(int), trainees, 1.0)
    t.add(np.arange(len(co)), runs, -co["size"].to_numpy(float))
    add_rows(m, t, "<=", 0.0, "cohort_size")
    limited = [c for c in case.courses if c.max_cohorts is not None]
    if limited:
        t = Terms([pd.Index([c.id for c in limited], name="course")])
        cpos = {c.id: k for k, c in enumerate(limited)}
        for k, c_id in enumerate(co["course"]):
            if c_id in cpos:
                t.add(cpos[str(c_id)], runs[k], 1.0)
        add_rows(m, t, "<=", np.array([float(c.max_cohorts or 0) for c in limited]), "max_cohorts")


def define_prerequisites(
    m: linopy.Model, case: AssistanceCase, comp: Compiled, trainees: np.ndarray
) -> None:
    """(9) Prerequisites: entrants of the courses that need q, by each of their start days, are
    at most the graduates of q by then."""
    tr, co = comp.training, comp.cohorts
    pre = [(c.id, q) for c in case.courses for q in c.prerequisites]
    if not (pre and len(tr)):
        return
    keys: list[tuple[str, int]] = []
    course_of, start_of = co["course"].to_numpy(), co["start"].to_numpy(int)
    for q in sorted({p for _, p in pre}):
        needing = {c for c, qq in pre if qq == q}
        starts = sorted(
            {int(d0) for c, d0 in zip(course_of, start_of, strict=True) if c in needing}
        )
        keys.extend((q, st) for st in starts)
    t = Terms([pd.RangeIndex(len(keys), name="prerequisite")])
    for k, (q, st) in enumerate(keys):
        needing = {c for c, qq in pre if qq == q}
        enter = tr["course"].isin(needing).to_numpy() & (tr["start"].to_numpy() <= st)
        done = (tr["course"] == q).to_numpy() & (tr["end"].to_numpy() <= st)
        t.add(k, trainees[enter], 1.0)
        t.add(k, trainees[done], -1.0)
    add_rows(m, t, "<=", 0.0, "prerequisites")
