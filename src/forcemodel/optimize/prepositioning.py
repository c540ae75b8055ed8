"""Pre-positioning within a budget: the new sets the optimiser may buy, and their rows.

A scenario's ``prepositioning`` section lists the set types that may be bought (cost of one set)
and the candidate depots (fixed cost of using one, room in sets, days to draw a set there).
Each (candidate depot, set type) pair becomes a **candidate stock**: a stock appended to the
scenario's, holding as many sets as could ever be bought there, so that the options table gives
every unit of that set type the options of drawing one there, exactly as for an existing stock.
The model then decides how many sets each candidate stock really gets (``new_sets``, integer),
which depots are used (``depot_used``, binary where a depot has a fixed cost), under the budget
and each depot's room; the sets drawn from a candidate stock are at most those bought. The maths
is in docs/optimization.md, "Pre-positioning within a budget".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.mip.terms import Terms
from forcemodel.scenario.model import Scenario, Stock

#: Columns of :attr:`NewSets.pairs`.
PAIR_COLUMNS = [
    "stock",
    "stock_id",
    "depot",
    "depot_row",
    "set_type",
    "cost",
    "most",
    "draw_days",
    "merge_into",
]

#: Columns of the purchases table of a result (``OptimizationResult.purchases``).
PURCHASE_COLUMNS = [
    "depot",
    "set_type",
    "stock",
    "new_sets",
    "set_cost_m",
    "fixed_cost_m",
    "spend_m",
]


@dataclass(frozen=True)
class NewSets:
    """The candidate new sets of a scenario, as the model sees them.

    ``base``: the scenario as given. ``budget``: money available (millions of ``currency``).
    ``pairs``: one row per candidate stock (a depot and a set type of which at least one set
    is affordable and fits): ``stock`` (its index in the extended scenario's stocks),
    ``stock_id``, ``depot``, ``depot_row`` (row in ``depots``), ``set_type``, ``cost`` (of one
    set), ``most`` (sets that could be bought there: the units of that set type, the depot's
    room and the budget left after its fixed cost), ``draw_days`` and ``merge_into`` (the id of
    an existing stock at that depot of the same set type and draw time, into which the sets
    bought are written back; '' if none). ``depots``: one row per candidate depot:
    ``depot``, ``fixed_cost``, ``capacity`` (inf: no limit). ``scale``: the money the spend
    term of the objective is divided by (what buying everything would cost, independent of
    the budget, so that more budget never makes the objective worse).
    """

    base: Scenario
    budget: float
    currency: str
    pairs: pd.DataFrame
    depots: pd.DataFrame
    scale: float


def check_budget(scenario: Scenario, budget: float | None) -> None:
    """Raise :class:`ValueError` in plain words for a budget that cannot be used.

    A budget must be a number, 0 or more; one given for a scenario with nothing to buy (no
    ``prepositioning`` section, or one without set types or depots) is refused too, rather
    than silently ignored.
    """
    if budget is None:
        return
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget >= 0):
        raise ValueError(f"budget must be 0 or more (millions), got {budget}")
    prep = scenario.prepositioning
    if prep is None or not prep.sets or not prep.depots:
        raise ValueError(
            f"budget: scenario '{scenario.meta.name}' has nothing to buy with it: give it a "
            "prepositioning section with sets (cost per set type) and depots "
            "(docs/scenario-format.md)"
        )


def candidate_sets(
    scenario: Scenario, budget: float | None = None
) -> tuple[Scenario, NewSets | None]:
    """The scenario extended with one candidate stock per affordable (depot, set type) pair.

    ``budget`` (millions) overrides the scenario's ``prepositioning.budget_m``. Returns the
    scenario unchanged and ``None`` where it has no ``prepositioning`` section. Raises
    :class:`ValueError` for a bad budget (:func:`check_budget`).
    """
    check_budget(scenario, budget)
    prep = scenario.prepositioning
    if prep is None:
        return scenario, None
    money = float(prep.budget_m if budget is None else budget)
    units_of = Counter(u.set_type for u in scenario.units if u.set_type is not None)
    existing = {s.id for s in scenario.stocks}
    depots = pd.DataFrame(
        {
            "depot": [d.depot for d in prep.depots],
            "fixed_cost": [float(d.fixed_cost_m) for d in prep.depots],
            "capacity": [
                math.inf if d.capacity_sets is None else float(d.capacity_sets) for d in prep.depots
            ],
        }
    )
    rows: list[dict[str, object]] = []
    stocks: list[Stock] = []
    scale = 0.0
    for di, d in enumerate(prep.depots):
        held = [s for s in scenario.stocks if s.depot == d.depot and s.kind == "equipment_set"]
        draw = d.draw_days if d.draw_days is not None else min(s.draw_days for s in held)
        room = math.inf if d.capacity_sets is None else d.capacity_sets
        scale += d.fixed_cost_m
        for c in prep.sets:
            wanted = units_of.get(c.set_type, 0)
            scale += c.cost_m * min(room, wanted)
            most = float(min(room, wanted))
            left = money - d.fixed_cost_m
            if left < -1e-9:
                most = 0.0
            elif c.cost_m > 0:
                most = min(most, math.floor(left / c.cost_m + 1e-9))
            if most < 1:
                continue
            sid = _stock_id(d.depot, c.set_type, existing, len(stocks))
            existing.add(sid)
            same = [s.id for s in held if s.set_type == c.set_type and s.draw_days == draw]
            rows.append(
                {
                    "stock": len(scenario.stocks) + len(stocks),
                    "stock_id": sid,
                    "depot": d.depot,
                    "depot_row": di,
                    "set_type": c.set_type,
                    "cost": float(c.cost_m),
                    "most": int(most),
                    "draw_days": float(draw),
                    "merge_into": same[0] if same else "",
                }
            )
            stocks.append(
                Stock(
                    id=sid,
                    depot=d.depot,
                    set_type=c.set_type,
                    sets=int(most),
                    draw_days=draw,
                    source="candidate new sets (prepositioning)",
                )
            )
    extended = scenario.model_copy(update={"stocks": (*scenario.stocks, *stocks)})
    new = NewSets(
        base=scenario,
        budget=money,
        currency=prep.currency,
        pairs=pd.DataFrame(rows, columns=PAIR_COLUMNS),
        depots=depots,
        scale=max(scale, 1.0),
    )
    return extended, new


def _stock_id(depot: str, set_type: str, taken: set[str], n: int) -> str:
    """A stock id for new sets of ``set_type`` at ``depot``, unique among ``taken``."""
    base = f"new.{set_type}.{depot}"
    if len(base) > 110:  # identifiers have at most 120 characters
        base = f"new.{n}"
    sid, k = base, 2
    while sid in taken:
        sid, k = f"{base}.{k}", k + 1
    return sid


def add_new_set_rows(
    m: linopy.Model,
    z_lab: np.ndarray,
    options: pd.DataFrame,
    new: NewSets,
    *,
    relax: bool,
    fix_choices: np.ndarray | None,
) -> linopy.LinearExpression | None:
    """Add the purchase to a model: variables, budget, depot rows; return the spend term.

    ``new_sets[p]`` (integer, 0..most) sets bought for candidate stock ``p``; ``depot_used[q]``
    (binary, only where depot ``q`` has a fixed cost). Rows: the sets drawn from ``p`` are at
    most ``new_sets[p]``; ``new_sets[p] <= most_p * depot_used[q(p)]``; the new sets of a depot
    within its room; set costs plus fixed costs within the budget. With ``relax`` both are
    continuous; with ``fix_choices`` (one value per option) both are fixed at what the choices
    imply (the sets drawn, the depots holding any), so that a fixed plan over the budget is
    infeasible. Returns the spend over :attr:`NewSets.scale` (for the cost term), or ``None``
    where no new set can be bought (then nothing is added: the model is the one without).
    """
    pairs = new.pairs
    n_pair = len(pairs)
    if n_pair == 0:
        return None
    pair = pd.RangeIndex(n_pair, name="new_stock")
    depot = pd.Index(new.depots["depot"].to_numpy(), name="candidate_depot")
    depot_of = pairs["depot_row"].to_numpy(int)
    most = pairs["most"].to_numpy(float)
    cost = pairs["cost"].to_numpy(float)
    fixed_cost = new.depots["fixed_cost"].to_numpy(float)
    capacity = new.depots["capacity"].to_numpy(float)
    # Option -> candidate stock (-1: own equipment or an existing stock).
    row_of_stock = np.full(len(new.base.stocks) + n_pair, -1)
    row_of_stock[pairs["stock"].to_numpy(int)] = np.arange(n_pair)
    stock_of = options["stock"].to_numpy(int)
    p_of = np.where(stock_of >= 0, row_of_stock[np.clip(stock_of, 0, None)], -1)
    has_fixed = fixed_cost > 0

    if fix_choices is not None:
        drawn = np.bincount(
            p_of[p_of >= 0], weights=np.round(fix_choices)[p_of >= 0], minlength=n_pair
        )
        used = np.bincount(depot_of, weights=drawn, minlength=len(depot)) > 0.5
        n = m.add_variables(
            lower=xr.DataArray(drawn, coords=[pair]),
            upper=xr.DataArray(drawn, coords=[pair]),
            name="new_sets",
        )
        y = m.add_variables(
            lower=xr.DataArray(used.astype(float), coords=[depot]),
            upper=xr.DataArray(used.astype(float), coords=[depot]),
            mask=xr.DataArray(has_fixed, coords=[depot]),
            name="depot_used",
        )
    else:
        n = m.add_variables(
            lower=0.0,
            upper=xr.DataArray(most, coords=[pair]),
            integer=not relax,
            name="new_sets",
        )
        mask = xr.DataArray(has_fixed, coords=[depot])
        if relax:
            y = m.add_variables(lower=0.0, upper=1.0, coords=[depot], mask=mask, name="depot_used")
        else:
            y = m.add_variables(coords=[depot], binary=True, mask=mask, name="depot_used")
    n_lab = n.labels.to_numpy()
    y_lab = y.labels.to_numpy()  # -1 where the depot has no fixed cost

    t = Terms([pair])  # drawn from a candidate stock <= bought there
    t.add(p_of[p_of >= 0], z_lab[p_of >= 0], 1.0)
    t.add(np.arange(n_pair), n_lab, -1.0)
    m.add_constraints(t.expression(m) <= 0, name="new_sets_drawn")

    if has_fixed[depot_of].any():
        t = Terms([pair])  # sets only at a depot in use
        t.add(np.arange(n_pair), n_lab, 1.0)
        t.add(np.arange(n_pair), y_lab[depot_of], -most)
        m.add_constraints(
            t.expression(m) <= 0,
            name="new_sets_depot_used",
            mask=xr.DataArray(has_fixed[depot_of], coords=[pair]),
        )

    finite = np.isfinite(capacity)
    if finite.any():
        t = Terms([depot])  # a depot's room
        t.add(depot_of, n_lab, 1.0)
        room = xr.DataArray(np.where(finite, capacity, 0.0), coords=[depot])
        m.add_constraints(
            t.expression(m) <= room,
            name="depot_capacity",
            mask=xr.DataArray(finite, coords=[depot]),
        )

    # Set costs plus fixed costs within the budget, written in units of the budget (or of the
    # dearest item when the budget is smaller): coefficients in millions stalled HiGHS's dual
    # simplex on eastern-flank's relaxation (no end after 150 s, against 6 s scaled).
    unit = max(new.budget, float(cost.max()), float(fixed_cost.max()), 1e-9)
    budget_ix = pd.Index(["budget"], name="money")
    t = Terms([budget_ix])
    t.add(np.zeros(n_pair, dtype=int), n_lab, cost / unit)
    t.add(np.zeros(len(depot), dtype=int), y_lab, fixed_cost / unit)
    share = t.expression(m)
    m.add_constraints(share <= new.budget / unit, name="budget")
    return share.sum() * (unit / new.scale)


def bought(new: NewSets, drawn: Mapping[str, int]) -> tuple[Scenario, dict[str, str], pd.DataFrame]:
    """The scenario as given with the sets bought in it, and what was bought.

    ``drawn``: sets drawn per stock id (of the extended scenario). Each candidate stock drawn
    from becomes a stock holding the sets drawn (the sets bought: buying one more than is
    drawn never lowers the shortfall), merged into the existing stock of the same depot, set
    type and draw time where there is one. The ``prepositioning`` section is dropped: the
    purchase is made, and optimising the plan again should not buy the same sets twice.
    Returns the scenario, the stock id each candidate stock became, and the purchases table
    (:data:`PURCHASE_COLUMNS`, one row per candidate stock drawn from, then the spend).
    """
    stocks = {s.id: s for s in new.base.stocks}
    order = [s.id for s in new.base.stocks]
    rename: dict[str, str] = {}
    rows: list[dict[str, object]] = []
    fixed = dict(zip(new.depots["depot"], new.depots["fixed_cost"].astype(float), strict=True))
    paid: set[str] = set()
    for p in new.pairs.to_dict("records"):
        k = int(drawn.get(str(p["stock_id"]), 0))
        if k <= 0:
            continue
        depot, cost = str(p["depot"]), float(p["cost"])
        target = str(p["merge_into"]) or str(p["stock_id"])
        rename[str(p["stock_id"])] = target
        if target in stocks:
            s = stocks[target]
            note = f"{s.source or ''}; {k} new set(s) bought by forcemodel optimize".lstrip("; ")
            stocks[target] = s.model_copy(update={"sets": s.sets + k, "source": note})
        else:
            stocks[target] = Stock(
                id=target,
                depot=depot,
                set_type=str(p["set_type"]),
                sets=k,
                draw_days=float(p["draw_days"]),
                source=f"{k} new set(s) bought by forcemodel optimize "
                f"({cost:g} M {new.currency} each)",
            )
            order.append(target)
        # A depot's fixed cost is paid once: on its first row.
        once = 0.0 if depot in paid else float(fixed[depot])
        paid.add(depot)
        rows.append(
            {
                "depot": depot,
                "set_type": str(p["set_type"]),
                "stock": target,
                "new_sets": k,
                "set_cost_m": cost,
                "fixed_cost_m": once,
                "spend_m": k * cost + once,
            }
        )
    purchases = pd.DataFrame(rows, columns=PURCHASE_COLUMNS)
    scenario = new.base.model_copy(
        update={"stocks": tuple(stocks[i] for i in order), "prepositioning": None}
    )
    return scenario, rename, purchases
