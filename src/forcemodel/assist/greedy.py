"""A feasible plan of the pool model built greedily: the first incumbent for large cases.

At the target size (10,000 pledges, 2,000 requirements, 50 courses) HiGHS does not finish the
LP relaxation of the pool model within the time budget on a small machine (docs/performance.md,
"Security assistance: matching"), so an LP-rounding start is out of reach there and HiGHS's
own heuristics find poor plans. This module builds a plan directly, by the rule a coordinator
would follow, and hands it to HiGHS as its first incumbent:

1. training: every cohort runs, in start order, as full as its prerequisites allow (graduates
   of each prerequisite course by the start, less those already entered; at most
   ``max_cohorts`` per course); a cohort's trainees are shared equally among the systems it
   qualifies;
2. requirements' lines, most valuable first (priority per unit, then needed-by date): as many
   whole systems as can be operational by the needed-by date, limited by the requirement's
   quantity, the items that can arrive by then (pledges available by the ship day, hub and
   route capacity on the days the loads pass), the compatible first loads that can arrive by
   then, and the crews trained by then that no earlier line took; those goods are shipped,
   earliest first, and the systems are operational from the first grid day everything is
   there;
3. then pledges of funds buy for lines still short, the most value per euro first (a line's
   weight per unit over the price of one more unit: its item, if priced, and the first loads
   of its systems at the cheapest priced item of their family): what is missing for as many
   more units as the requirement and free crews allow, from the pledges that still have money
   and whose purchase can be ready to ship in time (earliest ready first); the line then takes
   what it can as in step 2, and the part of the purchase nothing was shipped from is given
   back (its money returns);
4. then, in value order, what can still arrive by a line's date but cannot be made
   operational is delivered too (a delivery is worth a tenth of an operational system).

Every constraint of :func:`forcemodel.assist.pool.build_pool` holds for the plan by
construction (tested against the model's rows in tests/assist/test_assist_solver.py): a purchase is
stock at its factory from its ready day on, as a pledge is, and the money spent stays under
each pledge's funds. The plan is only a start: HiGHS improves it, or, for large models,
:func:`forcemodel.assist.parts.improve`.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from forcemodel.assist.compile import TOL
from forcemodel.assist.pool import PoolModel

__all__ = ["greedy_values"]


class _Plan:
    """Goods shipped so far, and what each resource has left, on the model's grid."""

    def __init__(self, pm: PoolModel) -> None:
        case, comp, grid = pm.case, pm.comp, pm.grid
        self.grid = grid
        self.H = comp.horizon
        fl = pm.flows
        self.n_f, self.n = len(fl), len(grid)
        self.f_item = fl["item"].to_numpy(object)
        self.f_loc = fl["location"].to_numpy(object)
        self.f_hub = fl["hub"].to_numpy(object)
        self.f_route = fl["route"].to_numpy(object)
        self.f_L = fl["L"].to_numpy(int)
        self.f_onward = fl["onward"].to_numpy(int)
        self.f_tons = fl["tons"].to_numpy(float)
        self.f_int = fl["integer"].to_numpy(bool)
        self.f_live = grid[None, :] >= fl["earliest"].to_numpy(int)[:, None]
        self.inc = np.zeros((self.n_f, self.n))  # arrivals per flow and grid point
        self.flows_of: dict[str, list[int]] = defaultdict(list)
        for f in range(self.n_f):
            self.flows_of[str(self.f_item[f])].append(f)
        # What each (item, location) holds by each day (item pledges here; purchases are added
        # by `stock`); shipments are taken off it from their ship day on.
        src = comp.sources
        held: dict[tuple[str, str], np.ndarray] = {}
        for item, loc, avail, qty, funds in zip(
            src["item"],
            src["location"],
            src["available"],
            src["quantity"],
            src["funds"],
            strict=True,
        ):
            if funds or not math.isfinite(float(qty)) or int(avail) > self.H:
                continue
            arr = held.setdefault((str(item), str(loc)), np.zeros(self.H + 1))
            arr[int(avail) :] += float(qty)
        #: What each (item, location) still holds by each day: held less shipped by then.
        self.slack = held
        # Per flow, as plain Python values (the loops below look them up a million times).
        self.days = [int(d) for d in grid]
        self.first_p = [int(np.argmax(row)) if row.any() else self.n for row in self.f_live]
        self.key = [(str(i), str(loc)) for i, loc in zip(self.f_item, self.f_loc, strict=True)]
        self.L = [int(v) for v in self.f_L]
        self.onward = [int(v) for v in self.f_onward]
        self.tons = [float(v) for v in self.f_tons]
        self.whole = [bool(v) for v in self.f_int]
        self.hub = [str(v) for v in self.f_hub]
        self.route = [str(v) for v in self.f_route]
        self.hub_left = {h.id: np.full(self.H + 1, float(h.t_per_day)) for h in case.hubs}
        #: Per tuple of items: the last grid point by which nothing more of them can arrive.
        self.exhausted: dict[tuple[str, ...], int] = {}
        self.route_left = {
            rt.id: np.full(self.n, float(rt.t_per_day))
            for rt in case.routes
            if rt.t_per_day is not None
        }

    def room(self, f: int, p: int) -> float:
        """Most units flow ``f`` can still bring on grid point ``p``."""
        if p < self.first_p[f]:
            return 0.0
        ship = self.days[p] - self.L[f]
        key = self.key[f]
        if ship < 0 or key not in self.slack:
            return 0.0
        # Shipping x on day `ship` raises what has left by every later day: each must stay
        # within what the location holds by then.
        left = float(self.slack[key][ship:].min())
        tons = self.tons[f]
        if tons > 0:
            hub_day = self.days[p] - self.onward[f]
            if self.hub[f] in self.hub_left and 0 <= hub_day <= self.H:
                left = min(left, float(self.hub_left[self.hub[f]][hub_day]) / tons)
            if self.route[f] in self.route_left:
                left = min(left, float(self.route_left[self.route[f]][p]) / tons)
        left = max(0.0, left - TOL)
        return float(math.floor(left + TOL)) if self.whole[f] else left

    def take(self, f: int, p: int, x: float) -> None:
        """Ship ``x`` units along flow ``f`` to arrive on grid point ``p`` (negative: undo)."""
        ship = self.days[p] - self.L[f]
        self.slack[self.key[f]][ship:] -= x
        self.inc[f, p] += x
        tons = self.tons[f]
        if tons > 0:
            hub_day = self.days[p] - self.onward[f]
            if self.hub[f] in self.hub_left and 0 <= hub_day <= self.H:
                self.hub_left[self.hub[f]][hub_day] -= tons * x
            if self.route[f] in self.route_left:
                self.route_left[self.route[f]][p] -= tons * x

    def bring(
        self, items: list[str], last: int, want: float, log: list[tuple[int, int, float]] | None
    ) -> tuple[float, int]:
        """Bring up to ``want`` units of ``items`` by grid point ``last``, earliest first:
        the quantity and the last grid point used (-1: none). With a ``log``, the shipments are
        made and logged (for :meth:`undo`); without, it only looks.
        """
        got, when = 0.0, -1
        key = tuple(items)
        if last <= self.exhausted.get(key, -1):
            return got, when
        for p in range(last + 1):
            for i in items:
                for f in self.flows_of.get(i, []):
                    if got >= want - TOL:
                        return got, when
                    if p < self.first_p[f]:
                        continue
                    x = min(self.room(f, p), want - got)
                    if self.whole[f]:
                        x = float(math.floor(x + TOL))
                    if x <= TOL:
                        continue
                    if log is not None:
                        self.take(f, p, x)
                        log.append((f, p, x))
                    got += x
                    when = p
        if log is not None and got < want - TOL:
            # Every room up to `last` was taken and nothing more of these items can arrive by
            # then: capacity and stocks only shrink (until an undo), so a later call up to
            # `last` need not look again.
            self.exhausted[key] = max(self.exhausted.get(key, -1), last)
        return got, when

    def stock(self, key: tuple[str, str], day: int, x: float) -> None:
        """Hold ``x`` more units of (item, location) ``key`` from ``day`` on (a purchase;
        negative: a refund)."""
        self.slack.setdefault(key, np.zeros(self.H + 1))[day:] += x
        # More stock: items said exhausted may arrive now.
        self.exhausted.clear()

    def undo(self, log: list[tuple[int, int, float]]) -> None:
        for f, p, x in reversed(log):
            self.take(f, p, -x)
        self.exhausted.clear()


def _suffix_min(a: np.ndarray) -> np.ndarray:
    """``out[p] = min(a[p:])``."""
    return np.minimum.accumulate(a[::-1])[::-1]


def _training(pm: PoolModel) -> tuple[np.ndarray, np.ndarray]:
    """Trainees per training row and cohorts run: every cohort, as full as it may be."""
    case, comp = pm.case, pm.comp
    co, tr = comp.cohorts, comp.training
    courses = {c.id: c for c in case.courses}
    T = np.zeros(len(tr))
    U = np.zeros(len(co))
    rows_of: dict[int, list[int]] = defaultdict(list)
    for k, c in enumerate(tr["cohort"].to_numpy(int)):
        rows_of[int(c)].append(k)
    trained = np.zeros(len(co))  # trainees of each cohort
    entered: dict[str, float] = defaultdict(float)  # entrants after each prerequisite so far
    runs: dict[str, int] = defaultdict(int)
    c_course, c_start = co["course"].to_numpy(object), co["start"].to_numpy(int)
    c_end, c_size = co["end"].to_numpy(int), co["size"].to_numpy(float)
    for k in np.lexsort((np.arange(len(co)), c_start)).tolist():
        course = courses[str(c_course[k])]
        if course.max_cohorts is not None and runs[course.id] >= course.max_cohorts:
            continue
        allowed = float(c_size[k])
        for q in course.prerequisites:
            grads = float(trained[(c_course == q) & (c_end <= c_start[k])].sum())
            allowed = min(allowed, grads - entered[q])
        if allowed <= TOL:
            continue
        for q in course.prerequisites:
            entered[q] += allowed
        trained[k] = allowed
        U[k] = 1.0
        runs[course.id] += 1
        for r in rows_of[k]:
            T[r] = allowed / len(rows_of[k])
    return T, U


class _Funds:
    """Pledges of funds: what each has left, and purchases made into the plan's stocks."""

    def __init__(self, pm: PoolModel, plan: _Plan) -> None:
        src = pm.comp.sources
        self.plan = plan
        self.money = {p.id: float(p.funds_eur) for p in pm.case.pledges if p.funds_eur is not None}
        self.item = src["item"].to_numpy(object)
        self.loc = src["location"].to_numpy(object)
        self.pledge = src["funds"].to_numpy(object)
        self.cost = src["price"].to_numpy(float)
        self.ready = src["available"].to_numpy(int)
        bound = pm.comp.arcs.groupby("source")["bound"].max()
        self.upper = bound.reindex(range(len(src))).fillna(0.0).to_numpy(float)
        self.bought = np.zeros(len(src))
        #: Per item, the funds sources that may buy it (with a variable), earliest ready first.
        self.sources: dict[str, list[int]] = defaultdict(list)
        has = np.flatnonzero(pm.B >= 0)
        for s in has[np.lexsort((has, self.ready[has]))].tolist():
            if int(self.ready[s]) <= plan.H:
                self.sources[str(self.item[s])].append(s)
        self.price = {i: min(float(self.cost[s]) for s in ss) for i, ss in self.sources.items()}
        self.whole = {i: any(plan.whole[f] for f in plan.flows_of.get(i, [])) for i in self.sources}

    def buy(self, item: str, need: float, last: int, log: list[tuple[int, float]]) -> float:
        """Buy up to ``need`` units of ``item`` that could arrive by grid point ``last`` (some
        flow from the factory ships after they are ready), with the funds left, earliest ready
        first; logged for :meth:`refund`. Returns the quantity bought."""
        plan, got = self.plan, 0.0
        for s in self.sources.get(item, []):
            if got >= need - TOL:
                break
            key, ready = (item, str(self.loc[s])), int(self.ready[s])
            if not any(
                plan.key[f] == key
                and plan.first_p[f] <= last
                and plan.days[last] - plan.L[f] >= ready
                for f in plan.flows_of.get(item, [])
            ):
                continue
            pledge, price = str(self.pledge[s]), float(self.cost[s])
            # A hair under the money left: the funds row must hold after rounding.
            x = min(need - got, self.money[pledge] / price * (1 - 1e-9))
            x = min(x, self.upper[s] - self.bought[s])
            if self.whole[item]:
                x = float(math.floor(x + TOL))
            if x <= TOL:
                continue
            self.money[pledge] -= x * price
            self.bought[s] += x
            plan.stock(key, ready, x)
            log.append((s, x))
            got += x
        return got

    def refund(self, log: list[tuple[int, float]]) -> None:
        """Give back what was bought (``log``) and not shipped since."""
        plan = self.plan
        for s, x in reversed(log):
            key, ready = (str(self.item[s]), str(self.loc[s])), int(self.ready[s])
            spare = max(0.0, float(plan.slack[key][ready:].min()))
            back = min(x, spare)
            if self.whole[key[0]]:
                back = float(math.floor(back + TOL))
            if back <= 0:
                continue
            plan.stock(key, ready, -back)
            self.bought[s] -= back
            self.money[str(self.pledge[s])] += back * float(self.cost[s])


def greedy_values(pm: PoolModel) -> np.ndarray:
    """A value for every variable label of ``pm.model``: a feasible plan (module docstring)."""
    g = _Greedy(pm)
    for li in g.order.tolist():
        g.serve(li)
    g.buy_for_short_lines()
    g.deliver_the_rest()
    return g.values()


class _Greedy:
    """The steps of the greedy plan (module docstring) over one pool model: what is built so
    far (draws, operational systems, supply draws and transfers, free crews, what each
    requirement still lacks) and the lines' tables, read out of the frames once."""

    def __init__(self, pm: PoolModel) -> None:
        self.pm = pm
        comp, grid = pm.comp, pm.grid
        n = len(grid)
        lines, slots, tr = comp.lines, comp.slots, comp.training
        items = {it.id: it for it in pm.case.items}
        self.plan = _Plan(pm)
        self.T, self.U = _training(pm)
        # Crews trained for each item by each grid point, less those lines already took.
        self.crews: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
        for row, (item, end) in enumerate(zip(tr["item"], tr["end"], strict=True)):
            if item:
                self.crews[str(item)][grid >= int(end)] += self.T[row]
        self.has_course = {str(i) for i in tr["item"] if i}
        self.Y = np.zeros((len(lines), n))
        self.Op = np.zeros((len(lines), n))
        self.Z = np.zeros((len(slots), n))
        self.W = np.zeros((len(pm.pool_items), n))
        self.w_pos = {i: k for k, i in enumerate(pm.pool_items)}
        self.family_items: dict[str, list[str]] = defaultdict(list)
        for i in pm.pool_items:
            self.family_items[items[i].family].append(i)
        self.slots_of: dict[int, list[int]] = defaultdict(list)
        for sk, li in enumerate(slots["line"].to_numpy(int)):
            self.slots_of[int(li)].append(sk)
        self.per = slots["per_system"].to_numpy(float)
        self.left = {r.id: float(r.quantity) for r in pm.case.requirements}
        self.weight = (lines["priority"] / lines["quantity"]).to_numpy(float)
        self.due = lines["due"].to_numpy(int)
        self.due_p = np.searchsorted(grid, self.due, side="right") - 1
        self.order = np.lexsort((np.arange(len(lines)), self.due, -self.weight))
        self.l_item = lines["item"].to_numpy(object)
        self.l_req = lines["requirement"].to_numpy(object)
        self.l_whole = lines["system"].to_numpy(bool)
        self.l_crew = lines["crew"].to_numpy(float)
        self.s_family = slots["family"].to_numpy(object)
        self.funds = _Funds(pm, self.plan)

    def can_make(self, li: int) -> float:
        """Most units of line ``li`` its requirement and free crews allow (0: none)."""
        k = self.left[str(self.l_req[li])]
        crew = float(self.l_crew[li])
        if crew > 0:
            if str(self.l_item[li]) not in self.has_course:
                return 0.0  # no course: never operational (constraint 7)
            # Operational systems stay so: crews must be free on every day from the date on.
            k = min(
                k, float(_suffix_min(self.crews[str(self.l_item[li])])[int(self.due_p[li])]) / crew
            )
        return k

    def serve(self, li: int) -> None:
        """As many more units of line ``li`` operational by its date as can be (module
        docstring, step 2): goods shipped earliest first, crews taken."""
        plan, per = self.plan, self.per
        item, whole = str(self.l_item[li]), bool(self.l_whole[li])
        last = int(self.due_p[li])
        if last < 0:
            return
        k = self.can_make(li)
        for s in self.slots_of[li]:
            fam = self.family_items.get(str(self.s_family[s]), [])
            got, _ = plan.bring(fam, last, k * per[s], None)
            k = min(k, got / per[s])
        k = min(k, plan.bring([item], last, k, None)[0])
        # Ship it; should a shipment of one good have taken capacity another needed (a hub
        # shared by the items and their rounds), undo and try with less.
        for _ in range(4):
            if whole:
                k = float(math.floor(k + TOL))
            if k <= TOL:
                return
            log: list[tuple[int, int, float]] = []
            got, ready = plan.bring([item], last, k, log)
            short = got < k - 1e-9
            cuts = [len(log)]  # where each slot's shipments start in the log
            for s in self.slots_of[li]:
                need = k * per[s]
                fam = self.family_items.get(str(self.s_family[s]), [])
                got_s, when = plan.bring(fam, last, need, log)
                cuts.append(len(log))
                ready = max(ready, when)
                short |= got_s < need - 1e-9
                if short:
                    break
            if short:
                plan.undo(log)
                k = k - 1.0 if whole else k * 0.99
                continue
            self._take(li, k, ready, log, cuts)
            return

    def _take(
        self, li: int, k: float, ready: int, log: list[tuple[int, int, float]], cuts: list[int]
    ) -> None:
        """Line ``li`` takes ``k`` units shipped as ``log`` (its own item up to ``cuts[0]``,
        then each slot's first loads), operational from grid point ``ready`` (or when crews
        are free)."""
        item, crew = str(self.l_item[li]), float(self.l_crew[li])
        # The line draws its units on arrival; first loads go into the family pool and to the
        # slot on arrival (cumulative: from the arrival's grid point on).
        for _f, p, x in log[: cuts[0]]:
            self.Y[li, p:] += x
        for j, s in enumerate(self.slots_of[li]):
            for f, p, x in log[cuts[j] : cuts[j + 1]]:
                self.W[self.w_pos[str(self.plan.f_item[f])], p:] += x
                self.Z[s, p:] += x
        if crew > 0:
            free = _suffix_min(self.crews[item]) - crew * k >= -TOL
            ready = max(ready, int(np.flatnonzero(free)[0]))
            self.crews[item][ready:] -= crew * k
        self.Op[li, ready:] += k
        self.left[str(self.l_req[li])] -= k

    def _cheapest(self, family: str) -> float:
        prices = self.funds.price
        return min((prices.get(i, math.inf) for i in self.family_items[family]), default=0.0)

    def buy_for_short_lines(self) -> None:
        """Step 3: lines still short that funds could help (their item, or the first loads of
        their systems, can be bought), most value per euro of what one more unit needs first."""
        funds, plan, per = self.funds, self.plan, self.per
        if not funds.sources:
            return
        n_lines = len(self.l_item)
        cost = np.zeros(n_lines)
        for li in range(n_lines):
            loads = (per[s] * self._cheapest(str(self.s_family[s])) for s in self.slots_of[li])
            cost[li] = funds.price.get(str(self.l_item[li]), 0.0) + sum(
                c for c in loads if math.isfinite(c)
            )
        value = np.where(cost > 0, self.weight / np.where(cost > 0, cost, 1.0), 0.0)
        for li in np.lexsort((np.arange(n_lines), self.due, -value)).tolist():
            last = int(self.due_p[li])
            if value[li] <= 0 or last < 0 or self.left[str(self.l_req[li])] <= TOL:
                continue
            k = self.can_make(li)
            if bool(self.l_whole[li]):
                k = float(math.floor(k + TOL))
            if k <= TOL:
                continue
            # Buy what is missing for k more units (item and first loads), let the line take
            # what it can, and give back what it did not take.
            bought: list[tuple[int, float]] = []
            item = str(self.l_item[li])
            have = plan.bring([item], last, k, None)[0]
            if have < k - TOL:
                funds.buy(item, k - have, last, bought)
            for s in self.slots_of[li]:
                fam = self.family_items.get(str(self.s_family[s]), [])
                need = k * per[s]
                short = need - plan.bring(fam, last, need, None)[0]
                for i in sorted(fam, key=lambda i: (funds.price.get(i, math.inf), i)):
                    if short <= TOL:
                        break
                    short -= funds.buy(i, short, last, bought)
            if bought:
                self.serve(li)
                funds.refund(bought)

    def deliver_the_rest(self) -> None:
        """Step 4: what can still arrive by a line's date but cannot be made operational
        (crews or first loads short) is delivered too, for the tenth a delivery is worth."""
        for li in self.order.tolist():
            item, req, last = str(self.l_item[li]), str(self.l_req[li]), int(self.due_p[li])
            if last < 0 or self.left[req] <= TOL:
                continue
            left = self.left[req]
            want = float(math.floor(left + TOL)) if bool(self.l_whole[li]) else left
            shipped: list[tuple[int, int, float]] = []
            got, _ = self.plan.bring([item], last, want, shipped)
            for _f, p, x in shipped:
                self.Y[li, p:] += x
            self.left[req] -= got

    def values(self) -> np.ndarray:
        """The plan as a value for every variable label of the model."""
        pm = self.pm
        values = np.zeros(pm.model.shape[1])
        for labels, v in (
            (pm.F, np.cumsum(self.plan.inc, axis=1)),
            (pm.Y, self.Y),
            (pm.O, self.Op),
            (pm.Z, self.Z),
            (pm.W, self.W),
            (pm.B, self.funds.bought),
            (pm.trainees, self.T),
            (pm.runs, self.U),
        ):
            ok = labels >= 0
            values[labels[ok]] = v[ok]
        return values
