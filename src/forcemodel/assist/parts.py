"""The pool model split into its parts: an upper bound part by part, and a plan improved by them.

The pool model of a large case is one MIP that HiGHS cannot even relax within the time budget
(docs/performance.md, "Security assistance: matching"), but most of it falls apart into
*parts* that share only a few kinds of rows: lines of one requirement, the items that serve
them, the ammunition of their families and the crew courses of their systems form a part; parts
meet only in hub and capped-route capacity, in pledges of funds, and in the graduates of
courses that qualify no system (basic courses: prerequisites of crew courses of many parts).

- **Bound** (:func:`part_bounds`): each part with its own copy of everything shared (hubs,
  funds, basic courses) is a relaxation of the whole for that part's objective: any plan of the
  whole, cut to the part, is a plan of it (the other parts' terms dropped from a shared row are
  never negative: deliveries only grow, funds buy non-negative amounts, entrants are
  non-negative). The basic courses' own objective terms are costs (never positive), left out.
  So the sum of the parts' optima, or of their LP optima, bounds the whole's optimum from
  above. On :func:`forcemodel.assist.pool.build_pool`'s relaxation (``outer=True``) it bounds
  the daily model, the exact one.
- **Improvement** (:func:`improve`): a large-neighbourhood search: one group (a part, or one
  item of a large part: :func:`neighbourhoods`) at a time, every other variable fixed at the
  current plan, the group's MIP is solved with the plan as its start (what the other groups
  use of the shared rows is taken off their right-hand sides), and its plan replaces the
  group's when it is better. Each step keeps every row of the whole, so the result is a plan
  of the model, never worse than the start. The search is limited by work, not time (a fixed
  number of rounds over the groups in a fixed order; per group's MIP one thread and at most
  :data:`GROUP_MAX_NODES` nodes), so the same input gives the same plan on any machine; a
  time limit is only a safety net, and says so when it acts.

No file is read and nothing is printed here.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import highspy
import linopy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from forcemodel.assist.compile import Compiled, compile_case
from forcemodel.assist.formulation import DOMINATED_COLUMN_RULE
from forcemodel.assist.model import AssistanceCase
from forcemodel.assist.pool import PoolModel, build_pool

logger = logging.getLogger(__name__)

__all__ = [
    "GROUP_MAX_NODES",
    "GROUP_PRESOLVE_RULES_OFF",
    "Improved",
    "PartBound",
    "Parts",
    "daily_bound",
    "improve",
    "neighbourhoods",
    "part_bounds",
    "split_parts",
]

#: Rows that may join parts: per-day capacity of hubs and capped routes (on increments of
#: cumulative arrivals, never negative), funds (non-negative purchases) and prerequisites
#: (non-negative entrants; a row whose graduates belong to a part joins that part's entrants).
SHARED_ROWS = frozenset({"hub_capacity", "route_capacity", "funds", "prerequisites"})


@dataclass
class Parts:
    """The model's matrix, by column position (``labels[j]`` is column ``j``'s label), and the
    part of every column (-1: shared, i.e. copied into every part)."""

    A: sp.csr_array
    lower: np.ndarray  # row lower bounds
    upper: np.ndarray  # row upper bounds
    cost: np.ndarray  # objective (maximised)
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    labels: np.ndarray
    part: np.ndarray
    n_parts: int
    row_name: np.ndarray

    def columns(self, k: int) -> np.ndarray:
        """Positions of part ``k``'s own columns."""
        return np.flatnonzero(self.part == k)


@dataclass(frozen=True)
class PartBound:
    """An upper bound of the model's optimum: the sum of its parts' (LP) optima."""

    bound: float
    parts: np.ndarray  # per part: its optimum (an upper bound of its share of any plan)
    seconds: float
    solved: bool  # False: some part's LP did not finish; ``bound`` is then infinite


def split_parts(pm: PoolModel) -> Parts:
    """The pool model as a matrix and its parts (module docstring)."""
    m = pm.model
    mat = m.matrices
    if not np.all(mat.var_scaling == 1):
        raise ValueError("scaled variables are not supported")
    labels = np.asarray(mat.vlabels, dtype=np.int64)
    pos = np.full(m.shape[1], -1, dtype=np.int64)
    pos[labels] = np.arange(labels.size)
    A = sp.csr_array(mat.A)
    b = np.asarray(mat.b, dtype=float)
    sense = np.asarray(mat.sense)
    lower = np.where(sense == "<", -math.inf, b)
    upper = np.where(sense == ">", math.inf, b)
    # Name of every row, by the position linopy gives it (constraints in order, active rows).
    names = list(m.constraints)
    name_of_label = np.full(int(m._cCounter), -1, dtype=np.int64)
    for k, name in enumerate(names):
        lab = m.constraints[name].labels.to_numpy().ravel()
        name_of_label[lab[lab >= 0]] = k
    row_name = np.asarray(names, dtype=object)[name_of_label[np.asarray(mat.clabels)]]
    cost = np.asarray(mat.c, dtype=float)
    integer = np.isin(np.asarray(mat.vtypes), ["I", "B"])

    # Shared columns: trainees and runs of courses that qualify no system (basic courses).
    comp = pm.comp
    tr, co = comp.training, comp.cohorts
    qualifying = set(tr.loc[tr["item"] != "", "course"])
    shared_tr = ~tr["course"].isin(qualifying).to_numpy()
    shared_co = ~co["course"].isin(qualifying).to_numpy()
    shared_lab = np.concatenate([pm.trainees[shared_tr], pm.runs[shared_co]])
    shared = np.zeros(labels.size, dtype=bool)
    shared[pos[shared_lab[shared_lab >= 0]]] = True
    # Sharing drops the shared columns' objective terms from the bound: only costs may be.
    if (cost[shared] > 0).any() or (np.asarray(mat.lb)[shared] < 0).any():
        shared[:] = False

    # Parts: columns joined by any row that is not a shared row, or by a prerequisites row
    # whose graduates (negative terms) belong to a part (the row cannot be cut there).
    coo = A.tocoo()
    r, c, v = coo.row, coo.col, coo.data
    joins = ~np.isin(row_name, list(SHARED_ROWS))
    neg_own = np.zeros(A.shape[0], dtype=bool)
    neg_own[r[(v < 0) & ~shared[c]]] = True
    joins |= (row_name == "prerequisites") & neg_own
    keep = joins[r] & ~shared[c]
    n_col, n_row = A.shape[1], A.shape[0]
    graph = sp.coo_array(
        (np.ones(int(keep.sum())), (c[keep], n_col + r[keep])), shape=(n_col + n_row,) * 2
    )
    _, comp_of = connected_components(graph, directed=False)
    col_comp = comp_of[:n_col]
    own = np.unique(col_comp[~shared])
    renum = np.full(int(comp_of.max()) + 1, -1, dtype=np.int64)
    renum[own] = np.arange(own.size)
    part = np.where(shared, -1, renum[col_comp])
    return Parts(
        A=A,
        lower=lower,
        upper=upper,
        cost=cost,
        col_lower=np.asarray(mat.lb, dtype=float),
        col_upper=np.asarray(mat.ub, dtype=float),
        integer=integer,
        labels=labels,
        part=part,
        n_parts=int(own.size),
        row_name=row_name,
    )


def _highs(time_limit: float, *, mip: bool, gap: float = 1e-4) -> highspy.Highs:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.05, float(time_limit)))
    h.setOptionValue("threads", 1)
    if mip:
        # The reduction that cuts optima off these MIPs (formulation.DOMINATED_COLUMN_RULE).
        h.setOptionValue("presolve_rule_off", DOMINATED_COLUMN_RULE)
        h.setOptionValue("mip_rel_gap", float(gap))
    return h


def _run(h: highspy.Highs) -> None:
    """Run ``h``. HiGHS keeps one thread scheduler per process, and refuses a run asking for
    another number of threads than it was started with: after any HiGHS run with more threads
    in this process, every one-thread run here would fail (and the improvement silently do
    nothing). So a refused run restarts the scheduler and runs again (with one thread now; a
    later run with HiGHS's default thread count then uses it)."""
    status = h.run()
    if (
        status == highspy.HighsStatus.kError
        and h.getModelStatus() == highspy.HighsModelStatus.kNotset
        and h.getOptionValue("threads")[1] == 1
    ):
        highspy.Highs.resetGlobalScheduler(True)
        h.run()


def _pass(
    h: highspy.Highs,
    A: sp.csr_array,
    lower: np.ndarray,
    upper: np.ndarray,
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray | None,
) -> None:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(A.shape[1]), int(A.shape[0])
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = lower, upper
    lp.sense_ = highspy.ObjSense.kMaximize
    csc = sp.csc_array(A)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    if integer is not None and integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in integer.tolist()
        ]
    h.passModel(lp)


def part_bounds(parts: Parts, *, time_limit: float = 60.0, method: str = "simplex") -> PartBound:
    """The sum of the parts' LP optima, each part with its own copy of the shared columns and
    of the shared rows' capacity: an upper bound of the model's optimum (module docstring)."""
    start = time.perf_counter()
    A = parts.A
    shared = parts.part == -1
    Ac = sp.csc_array(A)
    touches_shared = np.zeros(A.shape[0], dtype=bool)
    if shared.any():
        touches_shared = np.asarray(abs(Ac[:, np.flatnonzero(shared)]).sum(axis=1)).ravel() > 0
    nnz_rows = np.diff(A.indptr) > 0
    only_shared = touches_shared & ~np.asarray(
        abs(Ac[:, np.flatnonzero(~shared)]).sum(axis=1)
    ).ravel().astype(bool)
    values = np.zeros(parts.n_parts)
    solved = True
    # Largest parts first: should time run out, the small ones are the ones left.
    sizes = np.bincount(parts.part[~shared], minlength=parts.n_parts)
    for k in np.argsort(-sizes, kind="stable").tolist():
        cols = np.flatnonzero((parts.part == k) | shared)
        sub = Ac[:, cols]
        rows = np.flatnonzero((np.diff(sp.csr_array(sub).indptr) > 0) & nnz_rows)
        rows = np.union1d(rows, np.flatnonzero(only_shared))
        left = time_limit - (time.perf_counter() - start)
        if left <= 0:
            solved = False
            break
        h = _highs(left, mip=False)
        h.setOptionValue("solver", method)
        cost = np.where(shared[cols], 0.0, parts.cost[cols])
        _pass(
            h,
            sp.csr_array(sub)[rows],
            parts.lower[rows],
            parts.upper[rows],
            cost,
            parts.col_lower[cols],
            parts.col_upper[cols],
            None,
        )
        _run(h)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            solved = False
            break
        values[k] = float(h.getInfo().objective_function_value)
    seconds = time.perf_counter() - start
    return PartBound(float(values.sum()) if solved else math.inf, values, seconds, solved)


#: Work limits of one group's MIP in :func:`improve`, none of them a time: the same input gives
#: the same plan on any machine and under any load. Branch-and-bound nodes per group MIP (at
#: the target size every group's MIP finishes at its root node, so this only caps a group that
#: would branch for long).
GROUP_MAX_NODES = 500
#: HiGHS presolve reductions off in a group's MIP: the dominated-column rule for correctness
#: (:data:`forcemodel.assist.formulation.DOMINATED_COLUMN_RULE`), and, for speed only, the
#: aggregator (bit 12) and dual fixing (bit 17) of HiGHS 1.16: with them off too, one round at
#: the target size took about half the HiGHS time (8.6 s against 15.8 s, same machine and
#: minute) to a plan as good. Fewer reductions cannot cut an optimum off.
GROUP_PRESOLVE_RULES_OFF = DOMINATED_COLUMN_RULE | (1 << 12) | (1 << 17)


@dataclass(frozen=True)
class Improved:
    """What :func:`improve` did: the plan, and per group tried (group, objective before,
    after)."""

    x: np.ndarray
    log: list[tuple[int, float, float]]
    rounds: int  # rounds over the groups begun
    timed_out: bool  # the safety-net time limit cut it short: the plan may depend on the machine


def _row_activity(parts: Parts, x: np.ndarray) -> np.ndarray:
    return np.asarray(parts.A @ x, dtype=float)


def neighbourhoods(pm: PoolModel, parts: Parts, *, max_columns: int = 3000) -> np.ndarray:
    """Per column, the group :func:`improve` frees together (-1: never freed): a part's columns,
    or, in a part of more than ``max_columns`` columns (whose MIP does not solve in seconds),
    the columns of one item (its flows, draws, operational systems, first loads drawn by its
    lines, transfers to its family's pool, purchases, and its crews' trainees and cohorts)."""
    comp = pm.comp
    tr, co = comp.training, comp.cohorts
    item_ids = sorted({it.id for it in pm.case.items})
    ipos = {i: k for k, i in enumerate(item_ids)}
    by_label = np.full(pm.model.shape[1], -1, dtype=np.int64)

    def mark(labels: np.ndarray, items: np.ndarray) -> None:
        idx = np.array([ipos.get(str(i), -1) for i in items], dtype=np.int64)
        lab = labels.reshape(len(items), -1) if labels.size else labels.reshape(0, 1)
        for row in range(lab.shape[0]):
            ok = lab[row] >= 0
            by_label[lab[row][ok]] = idx[row]

    mark(pm.F, pm.flows["item"].to_numpy())
    mark(pm.B, comp.sources["item"].to_numpy())
    mark(pm.Y, comp.lines["item"].to_numpy())
    mark(pm.O, comp.lines["item"].to_numpy())
    mark(pm.W, np.asarray(pm.pool_items, dtype=object))
    mark(pm.Z, comp.lines["item"].to_numpy()[comp.slots["line"].to_numpy(int)])
    mark(pm.trainees, tr["item"].to_numpy())
    first_item = tr.groupby("cohort")["item"].first()
    mark(pm.runs, first_item.reindex(range(len(co))).fillna("").to_numpy())
    item_of = by_label[parts.labels]
    sizes = np.bincount(parts.part[parts.part >= 0], minlength=parts.n_parts)
    big = np.zeros(parts.part.size, dtype=bool)
    big[parts.part >= 0] = sizes[parts.part[parts.part >= 0]] > max_columns
    groups = np.where(parts.part >= 0, parts.part, -1)
    # Items get group numbers after the parts'; a big part's column of no item stays fixed.
    groups[big] = np.where(item_of[big] >= 0, parts.n_parts + item_of[big], -1)
    return groups


def improve(
    parts: Parts,
    x: np.ndarray,
    *,
    rounds: int = 1,
    groups: np.ndarray | None = None,
    gap: float = 1e-3,
    max_nodes: int = GROUP_MAX_NODES,
    time_limit: float = math.inf,
) -> Improved:
    """The plan ``x`` (by column position) improved group by group (module docstring).

    ``groups``: per column, the group freed together (-1: never; default: the parts, or see
    :func:`neighbourhoods`). Each of at most ``rounds`` rounds takes every group once, smallest
    first (ties by group number); a group's MIP (one thread, at most ``max_nodes``
    branch-and-bound nodes, relative gap ``gap``) starts from the current plan, and its result
    is kept only when its objective is higher and it meets the rows. A round that improves
    nothing ends the search. No step depends on time, so the same input gives the same plan.
    ``time_limit`` (seconds) is a safety net only: should it cut the search short, the result
    says so (``timed_out``), and its plan may then depend on the machine's speed and load.
    """
    if rounds < 0:
        raise ValueError(f"rounds must be 0 or more, got {rounds}")
    start = time.perf_counter()
    x = x.copy()
    Ac = sp.csc_array(parts.A)
    activity = _row_activity(parts, x)
    groups = parts.part if groups is None else groups
    sizes = np.bincount(groups[groups >= 0])
    order = [int(k) for k in np.argsort(sizes, kind="stable") if sizes[k] > 0]
    log: list[tuple[int, float, float]] = []
    timed_out = False
    done = 0
    # Rounds, because a group's neighbours may have changed since it was last solved.
    for _ in range(rounds):
        done += 1
        improved = False
        for k in order:
            left = time_limit - (time.perf_counter() - start)
            if left <= 0:
                timed_out = True
                break
            cols = np.flatnonzero(groups == k)
            before = float(parts.cost[cols] @ x[cols])
            got, timed_out = _improve_group(parts, Ac, x, activity, cols, gap, max_nodes, left)
            after = before if got is None else float(parts.cost[cols] @ got)
            if got is not None:
                improved = True
            logger.debug("group %d (%d columns): %.9g -> %.9g", k, cols.size, before, after)
            log.append((k, before, after))
            if timed_out:
                break
        if timed_out or not improved:
            break
    return Improved(x, log, done, timed_out)


def _improve_group(
    parts: Parts,
    Ac: sp.csc_array,
    x: np.ndarray,
    activity: np.ndarray,
    cols: np.ndarray,
    gap: float,
    max_nodes: int,
    left: float,
) -> tuple[np.ndarray | None, bool]:
    """One group's MIP (columns ``cols``) from the current plan ``x``. When it finds a better
    plan that meets the rows, ``x`` and the row ``activity`` are updated in place and the new
    values returned (else ``None``); and whether HiGHS stopped at the time limit."""
    sub = sp.csr_array(Ac[:, cols])
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[rows]
    own = np.asarray(sub @ x[cols], dtype=float)
    # What the rest of the plan puts in these rows, taken off their bounds.
    rest = activity[rows] - own
    # Round-off of the subtraction (1e-8 where the rest puts nothing) scales HiGHS badly.
    rest[np.abs(rest) < 1e-7] = 0.0
    # Rows the current plan meets only within a tolerance (an earlier group's solution, as
    # HiGHS meets rows: 5e-8 over a hub's capacity) made the group's MIP infeasible: widen them
    # to what the plan puts there, so that the plan stays a start and no row gets further out
    # than it is.
    lower = np.minimum(parts.lower[rows] - rest, own)
    upper = np.maximum(parts.upper[rows] - rest, own)
    h = _highs(left, mip=True, gap=gap)
    h.setOptionValue("mip_max_nodes", int(max_nodes))
    h.setOptionValue("presolve_rule_off", GROUP_PRESOLVE_RULES_OFF)
    _pass(
        h,
        sub,
        lower,
        upper,
        parts.cost[cols],
        parts.col_lower[cols],
        parts.col_upper[cols],
        parts.integer[cols],
    )
    sol = highspy.HighsSolution()
    sol.col_value = x[cols].tolist()
    sol.value_valid = True
    h.setSolution(sol)
    _run(h)
    timed_out = h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    if h.getInfo().primal_solution_status != 2:  # 2: feasible
        return None, timed_out
    before = float(parts.cost[cols] @ x[cols])
    new = np.asarray(h.getSolution().col_value, dtype=float)
    ints = parts.integer[cols]
    new[ints] = np.round(new[ints])
    new = np.clip(new, parts.col_lower[cols], parts.col_upper[cols])
    value = float(parts.cost[cols] @ new)
    act = rest + np.asarray(sub @ new, dtype=float)
    tol = 1e-6 * np.maximum(1.0, np.abs(act))
    fits = bool(np.all(act <= np.maximum(parts.upper[rows], activity[rows]) + tol))
    fits &= bool(np.all(act >= np.minimum(parts.lower[rows], activity[rows]) - tol))
    if not (fits and value > before + 1e-9 * max(1.0, abs(before))):
        return None, timed_out
    activity[rows] += np.asarray(sub @ (new - x[cols]), dtype=float)
    x[cols] = new
    return new, timed_out


def daily_bound(
    case: AssistanceCase,
    *,
    step: int = 7,
    time_limit: float = 120.0,
    comp: Compiled | None = None,
) -> PartBound:
    """An upper bound of the daily (exact) pool model's optimum, hence of every plan's value:
    the LP relaxation of its relaxation on a grid of ``step`` days
    (:func:`forcemodel.assist.pool.build_pool` with ``outer=True``), solved part by part
    (:func:`part_bounds`). Larger steps are faster and looser; step 1 is the daily LP."""
    comp = comp if comp is not None else compile_case(case, per_line=False)
    start = time.perf_counter()
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=step, relax=True, comp=comp, outer=True)
        if pm.model.nvars == 0:
            return PartBound(0.0, np.zeros(0), time.perf_counter() - start, True)
        parts = split_parts(pm)
    left = time_limit - (time.perf_counter() - start)
    got = part_bounds(parts, time_limit=left)
    return PartBound(got.bound, got.parts, time.perf_counter() - start, got.solved)
