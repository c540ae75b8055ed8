"""What the explanations read, indexed once: the plan's and the case's tables grouped by
what each reason of :mod:`forcemodel.assist.explain` looks up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forcemodel.assist.compile import TOL
from forcemodel.assist.model import Item
from forcemodel.assist.result import MatchResult


@dataclass(frozen=True)
class MainArcs:
    """Main arcs (columns as arrays) of some items: what a requirement's reasons read."""

    row: np.ndarray  # position in the compiled arcs table
    source: np.ndarray
    pledge: np.ndarray
    earliest: np.ndarray
    onward: np.ndarray
    bound: np.ndarray
    hub: np.ndarray
    route: np.ndarray
    funded: np.ndarray  # the arc's pledge is a pledge of funds

    def take(self, sel: np.ndarray) -> MainArcs:
        return MainArcs(*(np.asarray(getattr(self, f))[sel] for f in _ARC_FIELDS))

    def __len__(self) -> int:
        return int(self.row.size)


_ARC_FIELDS = (
    "row",
    "source",
    "pledge",
    "earliest",
    "onward",
    "bound",
    "hub",
    "route",
    "funded",
)


@dataclass
class PlanIndex:
    """The plan's and the case's tables grouped once, by what each reason looks up.

    Every requirement used to scan the whole progress table (requirements x items x days
    rows), the deliveries and all pledges: about a minute for 2,000 requirements. Grouped once
    here, each lookup is a dictionary access; the figures and their order are the same.
    """

    items: dict[str, Item]
    #: Quantity pledged per item (item pledges only), and the pledges of funds' values.
    pledged: dict[str, float]
    funds_values: list[float]
    any_funds: bool
    #: Progress rows on each requirement's needed-by day, per requirement (table order).
    due_progress: dict[str, pd.DataFrame]
    #: Delivered per (item, day), summed over requirements.
    delivered_on: dict[tuple[str, int], float]
    #: Items of each requirement's lines; main arcs per item.
    line_items: dict[str, set[str]]
    main_arcs: dict[str, MainArcs]
    empty_arcs: MainArcs
    #: Requirements each pledge's deliveries went to (any role).
    pledge_requirements: dict[str, set[str]]
    #: Supply deliveries per (requirement, family of the item delivered).
    supplies: dict[tuple[str, str], pd.DataFrame]
    #: Per hub: its capacity and, per day, whether it was full (cumulative count).
    hub_full: dict[str, tuple[float, np.ndarray, np.ndarray]]
    #: Per capped route: tons delivered per delivery day.
    route_load: dict[str, pd.Series]
    first_end: dict[str, int]
    empty_progress: pd.DataFrame
    funds_by_cheapest: dict[float, float] = field(default_factory=dict)

    @classmethod
    def of(cls, result: MatchResult) -> PlanIndex:
        case, comp = result.case, result.compiled
        items = {it.id: it for it in case.items}
        pledged: dict[str, float] = defaultdict(float)
        for p in case.pledges:
            if p.item is not None:
                pledged[p.item] += float(p.quantity or 0.0)
        due = {r.id: case.day(r.needed_by) for r in case.requirements}
        prog = result.progress
        at_due = prog[prog["day"].to_numpy() == prog["requirement"].map(due).to_numpy()]
        due_progress = {str(k): g for k, g in at_due.groupby("requirement", sort=False)}
        sums = prog.groupby(["item", "day"], sort=False)["delivered"].sum()
        delivered_on = {
            (str(i), int(d)): float(v)
            for i, d, v in zip(
                sums.index.get_level_values(0),
                sums.index.get_level_values(1),
                sums.to_numpy(),
                strict=True,
            )
        }
        line_items: dict[str, set[str]] = defaultdict(set)
        for r, i in zip(comp.lines["requirement"], comp.lines["item"], strict=True):
            line_items[str(r)].add(str(i))
        arcs = comp.arcs
        funds = {p.id for p in case.pledges if p.funds_eur is not None}
        every = MainArcs(
            row=np.arange(len(arcs)),
            source=arcs["source"].to_numpy(int),
            pledge=arcs["pledge"].to_numpy(object),
            earliest=arcs["earliest"].to_numpy(int),
            onward=arcs["onward"].to_numpy(int),
            bound=arcs["bound"].to_numpy(float),
            hub=arcs["hub"].to_numpy(object),
            route=arcs["route"].to_numpy(object),
            funded=arcs["pledge"].isin(funds).to_numpy(bool),
        )
        main = (arcs["role"] == "main").to_numpy()
        arc_item = arcs["item"].to_numpy(object)
        main_arcs = {str(i): every.take(main & (arc_item == i)) for i in pd.unique(arc_item[main])}
        dl = result.deliveries
        pledge_requirements: dict[str, set[str]] = defaultdict(set)
        for pl, r in zip(dl["pledge"], dl["requirement"], strict=True):
            pledge_requirements[str(pl)].add(str(r))
        sup = dl[dl["role"] == "supply"]
        fam = sup["item"].map(lambda i: items[str(i)].family)
        supplies = {
            (str(r), str(f)): g for (r, f), g in sup.groupby([sup["requirement"], fam], sort=False)
        }
        hub_full: dict[str, tuple[float, np.ndarray, np.ndarray]] = {}
        for hub, h in result.hubs.groupby("hub", sort=False):
            full = (h["tons"] >= h["capacity"] * (1 - 1e-6) - TOL).to_numpy()
            hub_full[str(hub)] = (
                float(h["capacity"].iloc[0]),
                h["day"].to_numpy(int),
                np.concatenate([[0], np.cumsum(full)]),
            )
        tons = {it.id: it.tons for it in case.items}
        route_load: dict[str, pd.Series] = {}
        for rt in case.routes:
            if rt.t_per_day is not None:
                d = dl[dl["route"] == rt.id]
                route_load[rt.id] = (
                    (d["quantity"] * d["item"].map(tons)).groupby(d["delivery_day"]).sum()
                )
        co = comp.cohorts
        first_end = {str(k): int(v) for k, v in co.groupby("course")["end"].min().items()}
        return cls(
            items=items,
            pledged=dict(pledged),
            funds_values=[float(p.funds_eur or 0.0) for p in case.pledges],
            any_funds=any(p.funds_eur is not None for p in case.pledges),
            due_progress=due_progress,
            delivered_on=delivered_on,
            line_items=dict(line_items),
            main_arcs=main_arcs,
            empty_arcs=every.take(np.zeros(len(arcs), dtype=bool)),
            pledge_requirements=dict(pledge_requirements),
            supplies=supplies,
            hub_full=hub_full,
            route_load=route_load,
            first_end=first_end,
            empty_progress=prog.iloc[:0],
        )

    def pledged_of(self, ok: set[str]) -> float:
        """Quantity pledged of the items ``ok`` (item pledges)."""
        return sum(self.pledged.get(i, 0.0) for i in sorted(ok))

    def funds_buy(self, cheapest: float) -> float:
        """Items at the price ``cheapest`` that all pledges of funds, one by one, can buy."""
        if cheapest not in self.funds_by_cheapest:
            self.funds_by_cheapest[cheapest] = sum(v // cheapest for v in self.funds_values)
        return self.funds_by_cheapest[cheapest]

    def arcs_of(self, its: set[str]) -> MainArcs:
        """Main arcs of the items ``its``, in the compiled table's order."""
        parts = [self.main_arcs[i] for i in sorted(its) if i in self.main_arcs]
        if not parts:
            return self.empty_arcs
        if len(parts) == 1:
            return parts[0]
        joined = MainArcs(*(np.concatenate([getattr(a, f) for a in parts]) for f in _ARC_FIELDS))
        return joined.take(np.argsort(joined.row, kind="stable"))

    def progress_at_due(self, r: str) -> pd.DataFrame:
        """Progress rows of requirement ``r`` on its needed-by day."""
        return self.due_progress.get(r, self.empty_progress)
