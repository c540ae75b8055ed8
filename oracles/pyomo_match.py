"""The matching MIP written the straightforward way: Pyomo, one constraint per element, HiGHS.

The same model as :func:`forcemodel.assist.arcs.build_model` (docs/assistance.md, "The
matching model"), built from the same compiled tables, element by element in Python loops as a
user of a classic modelling layer would write it, and solved by HiGHS through Pyomo's appsi
interface. Used by ``bench_match.py`` as the baseline; its objective must equal the engine's.
Recorded deliveries (constraint 11) are not written here: synthetic cases have none.
"""

from __future__ import annotations

import math
from typing import Any

import pyomo.environ as pyo

from forcemodel.assist import AssistanceCase, compile_case
from forcemodel.assist.formulation import (
    DELIVERED_WEIGHT,
    DOMINATED_COLUMN_RULE,
    EARLY_WEIGHT,
    TIE_WEIGHT,
)


def solve_baseline(case: AssistanceCase, *, time_limit: float, mip_gap: float) -> float:
    """Build and solve the matching MIP per element; return the objective value."""
    if case.deliveries:
        raise ValueError("the baseline does not model recorded deliveries")
    comp = compile_case(case)
    H = comp.horizon
    days = range(H + 1)
    arcs = comp.arcs.to_dict("records")
    lines = comp.lines.to_dict("records")
    slots = comp.slots.to_dict("records")
    cohorts = comp.cohorts.to_dict("records")
    training = comp.training.to_dict("records")
    sources = comp.sources.to_dict("records")
    m = pyo.ConcreteModel()
    m.c = pyo.ConstraintList()

    def add(con: Any) -> None:
        # Terms of days before an arc's earliest day are plain zeros: a row of zeros only is
        # a constant (True), not a constraint.
        if con is True:
            return
        if con is False:
            raise ValueError("a constant constraint that no plan meets")
        m.c.add(con)

    X: dict[tuple[int, int], Any] = {}  # (arc, day) -> variable, from the earliest day on
    m.X = pyo.VarList(within=pyo.NonNegativeReals)
    for a, arc in enumerate(arcs):
        for d in range(int(arc["earliest"]), H + 1):
            v = m.X.add()
            v.setub(float(arc["bound"]))
            if arc["integer"]:
                v.domain = pyo.NonNegativeIntegers
            X[a, d] = v

    def x(a: int, d: int) -> Any:
        return X.get((a, d), 0)

    m.O = pyo.VarList(within=pyo.NonNegativeReals)
    OP: dict[tuple[int, int], Any] = {}
    for li, line in enumerate(lines):
        for d in days:
            v = m.O.add()
            v.setub(math.floor(line["quantity"] + 1e-6) if line["system"] else line["quantity"])
            if line["system"]:
                v.domain = pyo.NonNegativeIntegers
            OP[li, d] = v
    m.T = pyo.VarList(within=pyo.NonNegativeReals)
    T = []
    for row in training:
        v = m.T.add()
        v.setub(float(cohorts[int(row["cohort"])]["size"]))
        T.append(v)
    m.U = pyo.VarList(within=pyo.Binary)
    U = [m.U.add() for _ in cohorts]

    for a, _arc in enumerate(arcs):  # (1)
        for d in days:
            if (a, d) in X and (a, d - 1) in X:
                add(X[a, d] >= X[a, d - 1])
    for si, s in enumerate(sources):  # (2)
        mine = [a for a, arc in enumerate(arcs) if arc["source"] == si]
        if mine and math.isfinite(s["quantity"]):
            add(sum(x(a, H) for a in mine) <= s["quantity"])
    for p in case.pledges:
        if p.funds_eur is None:
            continue
        mine = [a for a, arc in enumerate(arcs) if sources[arc["source"]]["funds"] == p.id]
        if mine:
            add(sum(sources[arcs[a]["source"]]["price"] * x(a, H) for a in mine) <= p.funds_eur)
    for r in case.requirements:  # (3)
        mine = [
            a for a, arc in enumerate(arcs) if arc["requirement"] == r.id and arc["role"] == "main"
        ]
        if mine:
            add(sum(x(a, H) for a in mine) <= r.quantity)
    for k, slot in enumerate(slots):  # (4), (6)
        sup = [a for a, arc in enumerate(arcs) if arc["slot"] == k]
        main = [
            a for a, arc in enumerate(arcs) if arc["role"] == "main" and arc["line"] == slot["line"]
        ]
        if sup:
            add(sum(x(a, H) for a in sup) <= slot["per_system"] * sum(x(a, H) for a in main))
        for d in days:
            add(slot["per_system"] * OP[slot["line"], d] <= sum(x(a, d) for a in sup))
    for li, _line in enumerate(lines):  # (5), (11: never falls)
        main = [a for a, arc in enumerate(arcs) if arc["role"] == "main" and arc["line"] == li]
        for d in days:
            add(OP[li, d] <= sum(x(a, d) for a in main))
            if d > 0:
                add(OP[li, d] >= OP[li, d - 1])
    crew_items = sorted({str(line["item"]) for line in lines if line["crew"]})
    for item in crew_items:  # (7)
        for d in days:
            need = sum(
                line["crew"] * OP[li, d] for li, line in enumerate(lines) if line["item"] == item
            )
            have = sum(
                T[k] for k, row in enumerate(training) if row["item"] == item and row["end"] <= d
            )
            add(need <= have)
    for c, co in enumerate(cohorts):  # (8)
        add(sum(T[k] for k, row in enumerate(training) if row["cohort"] == c) <= co["size"] * U[c])
    for course in case.courses:
        if course.max_cohorts is not None:
            runs = [U[c] for c, co in enumerate(cohorts) if co["course"] == course.id]
            if runs:
                add(sum(runs) <= course.max_cohorts)
    pre = [(c.id, q) for c in case.courses for q in c.prerequisites]  # (9)
    for q in sorted({q for _, q in pre}):
        needing = {c for c, qq in pre if qq == q}
        for st in sorted({int(co["start"]) for co in cohorts if co["course"] in needing}):
            enter = [
                T[k]
                for k, row in enumerate(training)
                if row["course"] in needing and row["start"] <= st
            ]
            done = [
                T[k] for k, row in enumerate(training) if row["course"] == q and row["end"] <= st
            ]
            add(sum(enter) <= sum(done))
    for hub in case.hubs:  # (10)
        for h in days:
            load = [
                arc["tons"] * (x(a, h + arc["onward"]) - x(a, h + arc["onward"] - 1))
                for a, arc in enumerate(arcs)
                if arc["hub"] == hub.id and arc["tons"] > 0 and h + arc["onward"] <= H
            ]
            if load:
                add(sum(load) <= hub.t_per_day)
    for rt in case.routes:
        if rt.t_per_day is None:
            continue
        for d in days:
            load = [
                arc["tons"] * (x(a, d) - x(a, d - 1))
                for a, arc in enumerate(arcs)
                if arc["route"] == rt.id and arc["tons"] > 0
            ]
            if load:
                add(sum(load) <= rt.t_per_day)

    w = {r.id: r.priority / r.quantity for r in case.requirements}
    due = {r.id: case.day(r.needed_by) for r in case.requirements}
    spread = EARLY_WEIGHT / (H + 1)
    obj: Any = 0
    for li, line in enumerate(lines):
        wr = w[line["requirement"]]
        obj += wr * OP[li, int(line["due"])] + wr * spread * sum(OP[li, d] for d in days)
    for a, arc in enumerate(arcs):
        wr = w[arc["requirement"]]
        if arc["role"] == "main":
            obj += wr * DELIVERED_WEIGHT * x(a, due[arc["requirement"]])
            obj += wr * DELIVERED_WEIGHT * spread * sum(x(a, d) for d in days)
        else:
            ws = wr / slots[int(arc["slot"])]["per_system"]
            obj += -TIE_WEIGHT * ws * x(a, H) + TIE_WEIGHT * ws * spread * sum(
                x(a, d) for d in days
            )
    crewed = [w[line["requirement"]] for line in lines if line["crew"]]
    w_min = min(crewed, default=1.0)
    if training:
        crew_max = max(1, max((int(line["crew"]) for line in lines), default=1))
        obj += -TIE_WEIGHT * w_min / crew_max * sum(T) - TIE_WEIGHT * w_min * sum(U)
    m.obj = pyo.Objective(expr=obj, sense=pyo.maximize)
    solver = pyo.SolverFactory("appsi_highs")
    solver.config.time_limit = time_limit
    solver.config.mip_gap = mip_gap
    solver.config.stream_solver = False
    solver.config.load_solution = True
    # The same HiGHS setting as the engine: its dominated-column presolve reduction cuts the
    # optimum off these MIPs (docs/assistance.md, "Correctness of the solver").
    solver.highs_options = {"presolve_rule_off": DOMINATED_COLUMN_RULE}
    solver.solve(m)
    return float(pyo.value(m.obj))
