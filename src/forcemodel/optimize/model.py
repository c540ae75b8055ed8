"""Build the optimisation model of a scenario over its options table (:mod:`.options`).

Every unit has a set of **options**: a region it can reach, with its own equipment or with one
set from a stock of its ``set_type``. For each option the uncongested arrival of its two loads at
the region's reception is precomputed from the compiled network (``time_to_go``, the same
estimate the simulation's planner uses), so the model itself only decides which option each
unit takes and how the region's RSOM capacity, and the capacity of the lift pools, links and
nodes on the options' fixed routes that could bind, are shared day by day. The maths, and what
is left out, are in docs/optimization.md.

Why one module of about 700 lines: the weights, the built model's tables and the ``define_*``
functions share the frame of per-option arrays (``_Frame``) and the variables' labels; split,
each would import the others' private layout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.flow.plan import step_value
from forcemodel.mip.terms import Terms
from forcemodel.network.compile import CompiledNetwork
from forcemodel.optimize.options import (
    DEFAULT_MAX_REGIONS,
    DEFAULT_MAX_STOCKS,
    DEFAULT_PRUNE_ABOVE,
    Choice,
    Passage,
    option_table,
)
from forcemodel.optimize.prepositioning import NewSets, add_new_set_rows
from forcemodel.optimize.shared import Shared, add_shared_rows, no_shared, shared_servers
from forcemodel.scenario.model import CAPABILITIES, Scenario

__all__ = [
    "DEFAULT_MAX_REGIONS",
    "DEFAULT_MAX_STOCKS",
    "DEFAULT_PRUNE_ABOVE",
    "BuiltModel",
    "Choice",
    "Passage",
    "Weights",
    "build_model",
    "counted_share",
    "option_table",
]

#: The two loads of a unit, in the order of the ``load`` dimension.
LOADS: tuple[str, str] = ("equipment", "people")

#: Default weight of the cost term (unit-days to closure over units times horizon).
DEFAULT_COST_WEIGHT = 1e-3

#: A shortfall after a region's closure target weighs this much more (1 + it times).
DEFAULT_LATE_WEIGHT = 10.0

#: Days after its uncongested closure within which a unit may start to count (RSOM queue).
DEFAULT_WINDOW = 30

#: Links, nodes and transshipment servers (besides every lift pool that could bind) kept in
#: the model: those that could be overloaded by the most days of their capacity.
DEFAULT_MAX_SERVERS = 24


@dataclass(frozen=True)
class Weights:
    """How shortfall and cost are weighed in the objective.

    ``w(d)`` multiplies a day's shortfall: by default ``1 + early_weight * (H - d) / H`` (a gap on
    day 0 costs ``1 + early_weight`` times one on the horizon day ``H``); ``day_weights`` gives
    the whole sequence instead (``H + 1`` values, one per day ``0..H``, non-negative). Each
    region's gaps are multiplied by its ``priority`` as well. The cost term (docs/optimization.md)
    is below 2 and is multiplied by ``cost_weight``. A shortfall on or after a region's
    ``closure_by`` day (region id -> day: a soft closure target, e.g. the day the plan as
    given closes it in the simulation) weighs ``1 + late_weight`` times as much.
    """

    early_weight: float = 1.0
    day_weights: tuple[float, ...] | None = None
    cost_weight: float = DEFAULT_COST_WEIGHT
    late_weight: float = DEFAULT_LATE_WEIGHT
    closure_by: Mapping[str, float] | None = None
    #: Every brigade-day short weighs 1 (no day weights, priorities or lateness): the
    #: objective in brigade-days, whose duals price a capacity in brigade-days.
    plain: bool = False

    @classmethod
    def of(cls, scenario: Scenario, **overrides: float | None) -> Weights:
        """The scenario's weights (``meta.objective``; the defaults without one), with
        ``overrides`` that are not None in their place (e.g. from the command line)."""
        obj = scenario.meta.objective
        values: dict[str, Any] = {}
        if obj is not None:
            values = {
                "early_weight": obj.early_weight,
                "day_weights": obj.day_weights,
                "late_weight": obj.late_weight,
                "cost_weight": obj.cost_weight,
            }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def by_day(self, horizon: int) -> np.ndarray:
        """The weight of each day ``0..horizon``."""
        if self.day_weights is not None:
            w = np.asarray(self.day_weights, dtype=float)
            if w.shape != (horizon + 1,):
                raise ValueError(
                    f"day_weights needs {horizon + 1} values (days 0..{horizon}), got {w.size}"
                )
            if (w < 0).any() or not np.isfinite(w).all():
                raise ValueError("day_weights must be finite and 0 or more")
            return w
        if not (math.isfinite(self.late_weight) and self.late_weight >= 0):
            raise ValueError(f"late_weight must be 0 or more, got {self.late_weight}")
        if not (math.isfinite(self.early_weight) and self.early_weight >= 0):
            raise ValueError(f"early_weight must be 0 or more, got {self.early_weight}")
        days = np.arange(horizon + 1, dtype=float)
        return 1.0 + self.early_weight * (horizon - days) / horizon


@dataclass
class BuiltModel:
    """A linopy model with the tables needed to read its solution."""

    model: linopy.Model
    options: pd.DataFrame
    days: np.ndarray
    day_weight: np.ndarray
    required: xr.DataArray  # (region, capability, day): requirement above forces in place
    region_weight: xr.DataArray  # (region,): priority
    shortfall_weight: xr.DataArray  # (region, day): weight of a brigade-day short
    cost_weight: float
    window: int = DEFAULT_WINDOW
    first_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    lag: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    #: One row per own-speed constraint: option, step, region and load (indices), the RSOM
    #: days ``first..last`` whose capacity bounds it, and the load's amount.
    own_speed: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Per option: the days of the region's RSOM capacity it needs (0 if unlimited), to
    #: spread what it counts over the days it passed.
    pace: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: (region, load): tons or people a day that one unit of the RSOM rows stands for.
    rsom_unit: xr.DataArray = field(default_factory=lambda: xr.DataArray(np.ones((0, 2))))
    #: Shared servers in the model (links, nodes, transshipment, lift pools; RSOM apart):
    #: index into ``CompiledNetwork.servers``, label and undisrupted rate (one row unit).
    shared: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The candidate new sets (pre-positioning within a budget), if the model may buy any.
    new_sets: NewSets | None = None
    #: The user's hook that added constraints to this model (``build_model(extra=...)``):
    #: the models built from this one (fixed LPs, sub-MIPs) call it too.
    extra: Callable[[BuiltModel], None] | None = None

    def counted(self) -> np.ndarray:
        """Share of each option's power counted on each day (option, day), from the solution."""
        dx = self.model.variables["count_from"].solution.to_numpy()
        return counted_share(np.nan_to_num(dx), self.first_day, len(self.days))

    def through(self) -> np.ndarray:
        """Share of each option's loads through RSOM by the end of each day (option, day -1..H).

        What counts on day ``d + k`` was through by the end of day ``d`` (``k`` the region's
        RSOM lag); the model does not track the loads apart, so both share this curve.
        """
        counted = self.counted()
        n_days = len(self.days)
        out = np.zeros((counted.shape[0], n_days + 1))
        for oi in range(counted.shape[0]):
            k = int(self.lag[oi])
            out[oi, 1 : n_days + 1 - k] = counted[oi, k:]
            out[oi, n_days + 1 - k :] = counted[oi, -1]
        # What counts on the first possible day ``t0`` went through on the days just before
        # ``t0 - k``, at the region's full capacity (its pace, in days): as late as it could.
        last = self.first_day - self.lag  # day -1..H; index + 1
        d = np.arange(-1, n_days)[None, :]
        c0 = out[np.arange(out.shape[0]), np.clip(last + 1, 0, n_days)][:, None]
        pace = np.maximum(self.pace[:, None], 1e-12)
        early = np.clip(c0 - (last[:, None] - d) / pace, 0.0, None)
        return np.where(d <= last[:, None], np.minimum(early, c0), out)


def counted_share(dx: np.ndarray, first_day: np.ndarray, n_days: int) -> np.ndarray:
    """Cumulative share counted per option and day from the per-step increments ``dx``."""
    n_opt, n_step = dx.shape
    out = np.zeros((n_opt, n_days + n_step))
    rows = np.repeat(np.arange(n_opt), n_step)
    cols = (first_day[:, None] + np.arange(n_step)[None, :]).ravel()
    ok = cols < n_days
    np.add.at(out, (rows[ok], cols[ok]), dx.ravel()[ok])
    share: np.ndarray = np.clip(np.cumsum(out[:, :n_days], axis=1), 0.0, 1.0)
    return share


ExtraHook = Callable[["BuiltModel"], None]


def build_model(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    weights: Weights,
    *,
    relax: bool = False,
    fix_choices: np.ndarray | None = None,
    window: int = DEFAULT_WINDOW,
    shared: bool = True,
    max_servers: int | None = None,
    servers: np.ndarray | None = None,
    new_sets: NewSets | None = None,
    queues: bool = True,
    extra: ExtraHook | None = None,
) -> BuiltModel:
    """The linopy model over the options table (docs/optimization.md, "The model").

    Call under linopy's v1 semantics (:func:`forcemodel.optimize.optimize` does). With ``relax``
    the option choices are continuous in [0, 1] (the LP relaxation); otherwise binary (a MIP).
    ``fix_choices`` (one value per option) fixes the choices at those values and makes them
    continuous: the LP that remains once a MIP's integers are fixed, whose duals
    :mod:`forcemodel.optimize.explain` reads. ``window``: the days after its uncongested
    closure within which an option's power may be counted (later: not within the model).
    ``shared``: add the capacities of the links, nodes, transshipment and lift pools on the
    options' routes that could bind (docs/optimization.md, "Shared capacities on the way"):
    every lift pool and the ``max_servers`` others (default :data:`DEFAULT_MAX_SERVERS`) that
    could be overloaded by the most days, or exactly ``servers`` (indices into
    ``net.servers``; a sub-model built for some of the options passes its parent's, so that
    both have the same columns). ``new_sets``: the candidate stocks of ``scenario`` (built by
    :func:`forcemodel.optimize.prepositioning.candidate_sets`) whose sets are bought within
    the budget (docs/optimization.md, "Pre-positioning within a budget"). ``queues=False``
    treats every RSOM capacity as unlimited (no RSOM rows, no own-pace rows): with
    ``window=0``, ``shared=False`` and ``relax`` that is the cheap lower bound of
    :mod:`forcemodel.optimize.bound`. ``extra``: the user's hook, called with the built model
    last (as PyPSA's ``extra_functionality``) to add constraints before any solve; it is kept
    on the result, so that the models built from this one call it too.

    The constraint families are added in order by the ``define_*`` functions below.
    """
    if window < 0:
        raise ValueError(f"window must be 0 or more days, got {window}")
    f = _frame(scenario, net, options, weights, window, queues)
    m = linopy.Model()
    v = define_variables(m, f, relax=relax, fix_choices=fix_choices)
    define_choices(m, f, v, scenario)
    define_served(m, f, v)
    own_speed = define_own_speed(m, f, v)
    define_rsom(m, f, v)
    shared_table = (
        shared_servers(
            net,
            options,
            f.n_days,
            DEFAULT_MAX_SERVERS if max_servers is None else max_servers,
            servers,
        )
        if shared
        else no_shared()
    )
    define_shared(m, f, v, shared_table)
    define_power(m, f, v, scenario)
    required = define_shortfall(m, f, v, scenario)
    priority, w = define_objective(
        m, f, v, scenario, weights, new_sets, relax=relax, fix_choices=fix_choices
    )
    built = BuiltModel(
        model=m,
        options=options,
        days=f.days,
        day_weight=f.day_weight,
        required=required,
        region_weight=priority,
        shortfall_weight=w,
        cost_weight=weights.cost_weight,
        window=window,
        first_day=f.first,
        lag=f.lag,
        own_speed=own_speed,
        pace=(np.where(f.finite[f.r_of, :, 0], f.amount, 0.0) / f.rsom_unit[f.r_of]).max(axis=1)
        if f.n_opt
        else np.zeros(0),
        rsom_unit=xr.DataArray(f.rsom_unit, coords=[f.region, f.load]),
        shared=shared_table.servers,
        new_sets=new_sets,
        extra=extra,
    )
    if extra is not None:
        extra(built)
    return built


@dataclass
class _Frame:
    """The indices and per-option arrays every constraint family is written from."""

    horizon: int
    n_days: int
    days: np.ndarray
    day_weight: np.ndarray
    n_opt: int
    window: int
    opt: pd.RangeIndex
    step: pd.RangeIndex
    load: pd.Index
    day: pd.Index
    region_ids: list[str]
    region: pd.Index
    cap_idx: pd.Index
    n_reg: int
    n_cap: int
    options: pd.DataFrame
    r_of: np.ndarray
    amount: np.ndarray  # (option, load): tons, people
    lag: np.ndarray  # per option: days from RSOM done to counted
    closure: np.ndarray  # per option: uncongested closure
    first: np.ndarray  # per option: first day it can count
    count_day: np.ndarray  # (option, step)
    valid: np.ndarray  # (option, step): count day within the horizon
    release: np.ndarray  # (option, load): day a load reaches RSOM
    cap: np.ndarray  # (region, load, day): RSOM capacity (inf: unlimited)
    rsom_unit: np.ndarray  # (region, load): tons or people a day per row unit
    pooled: np.ndarray  # per option: received through the region's pooled RSOM
    finite: np.ndarray  # (region, load, day): RSOM rows exist


def _frame(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    weights: Weights,
    window: int,
    queues: bool,
) -> _Frame:
    horizon = scenario.meta.horizon_days
    n_days = horizon + 1
    days = np.arange(n_days)
    n_opt = len(options)
    step = pd.RangeIndex(window + 1, name="step")
    region_ids = [r.id for r in scenario.regions]
    n_reg = len(region_ids)
    r_of = options["region"].to_numpy(int)
    arrive = np.stack(
        [options["arrive_equipment"].to_numpy(float), options["arrive_people"].to_numpy(float)],
        axis=1,
    )
    amount = np.stack([options["tons"].to_numpy(float), options["people"].to_numpy(float)], axis=1)
    # Lag from RSOM done to counted: a load through by the end of day e counts from e + k.
    k_region = np.array(
        [math.ceil(r.rsom.days * r.rsom.assigned_factor - 1e-9) for r in scenario.regions]
    )
    lag = k_region[r_of] if n_opt else np.zeros(0, dtype=int)
    if n_opt and "rsom_days" in options:
        # Per option: a ship or squadron's port or air base has its own reception days.
        lag = np.ceil(options["rsom_days"].to_numpy(float) - 1e-9).astype(int)
    # First day an option can count: its uncongested closure, rounded up.
    closure = options["closure"].to_numpy(float)
    first = np.ceil(closure - 1e-9).astype(int)
    count_day = first[:, None] + step.to_numpy()[None, :]  # (option, step)
    # RSOM capacity per region, load and calendar day (inf: unlimited, no server).
    cap = np.full((n_reg, 2, n_days), np.inf)
    # The RSOM rows are written in days of the region's undisrupted capacity (a 25,000 t
    # brigade at 5,000 t a day is 5), not tons: coefficients near 1 keep the LP well scaled.
    rsom_unit = np.ones((n_reg, 2))
    for ri, r in enumerate(scenario.regions):
        for li, srv in enumerate((net.rsom_t_server[r.id], net.rsom_pax_server[r.id])):
            if srv is not None:
                cap[ri, li, :] = [net.servers[srv].day_capacity(int(d)) for d in days]
                rsom_unit[ri, li] = net.servers[srv].rate
    return _Frame(
        horizon=horizon,
        n_days=n_days,
        days=days,
        day_weight=weights.by_day(horizon),
        n_opt=n_opt,
        window=window,
        opt=pd.RangeIndex(n_opt, name="option"),
        step=step,
        load=pd.Index(list(LOADS), name="load"),
        day=pd.Index(days, name="day"),
        region_ids=region_ids,
        region=pd.Index(region_ids, name="region"),
        cap_idx=pd.Index(list(CAPABILITIES), name="capability"),
        n_reg=n_reg,
        n_cap=len(CAPABILITIES),
        options=options,
        r_of=r_of,
        amount=amount,
        lag=lag,
        closure=closure,
        first=first,
        count_day=count_day,
        valid=count_day <= horizon,
        release=np.floor(arrive).astype(int),
        cap=cap,
        rsom_unit=rsom_unit,
        # A ship or squadron received at a port or air base passes that reception's servers
        # (on its route, options.py), not the region's pooled RSOM.
        pooled=(options["pooled"].to_numpy(bool) if "pooled" in options else np.ones(n_opt, bool)),
        finite=np.isfinite(cap) & queues,  # (region, load, day); constant over days
    )


@dataclass
class _Vars:
    """The model's variables and their labels (numpy, -1 where masked)."""

    z: linopy.Variable
    dx: linopy.Variable
    v: linopy.Variable
    arrived: linopy.Variable
    through: linopy.Variable
    done: linopy.Variable
    power: linopy.Variable
    s: linopy.Variable
    z_lab: np.ndarray
    dx_lab: np.ndarray
    v_lab: np.ndarray


def define_variables(
    m: linopy.Model, f: _Frame, *, relax: bool, fix_choices: np.ndarray | None
) -> _Vars:
    """Every variable, in one place so that their labels come in a fixed order: the choices
    ``choose`` (binary, continuous with ``relax``, fixed with ``fix_choices``), the share
    counted per step ``count_from``, ``served``, the RSOM queues' cumulative arrivals,
    throughput and work done, the counted ``power`` and the ``shortfall``."""
    if fix_choices is not None:
        fix = xr.DataArray(np.asarray(fix_choices, dtype=float), coords=[f.opt])
        z = m.add_variables(lower=fix, upper=fix, name="choose")
    elif relax:
        z = m.add_variables(lower=0.0, upper=1.0, coords=[f.opt], name="choose")
    else:
        z = m.add_variables(coords=[f.opt], binary=True, name="choose")
    dx = m.add_variables(
        lower=0.0,
        upper=1.0,
        coords=[f.opt, f.step],
        mask=xr.DataArray(f.valid, coords=[f.opt, f.step]),
        name="count_from",
    )
    v = m.add_variables(lower=0.0, upper=1.0, coords=[f.opt], name="served")
    rld = [f.region, f.load, f.day]
    rsom_mask = xr.DataArray(f.finite, coords=rld)
    arrived = m.add_variables(lower=0.0, coords=rld, mask=rsom_mask, name="rsom_arrived")
    through = m.add_variables(lower=0.0, coords=rld, mask=rsom_mask, name="rsom_through")
    done = m.add_variables(lower=0.0, coords=rld, mask=rsom_mask, name="rsom_done")
    power = m.add_variables(lower=0.0, coords=[f.region, f.cap_idx, f.day], name="power")
    s = m.add_variables(lower=0.0, coords=[f.region, f.cap_idx, f.day], name="shortfall")
    return _Vars(
        z,
        dx,
        v,
        arrived,
        through,
        done,
        power,
        s,
        z.labels.to_numpy(),
        dx.labels.to_numpy(),  # -1 where not valid
        v.labels.to_numpy(),
    )


def define_choices(m: linopy.Model, f: _Frame, v: _Vars, scenario: Scenario) -> None:
    """Each unit takes exactly one option; a stock gives at most its sets."""
    options = f.options
    unit_of = xr.DataArray(options["unit_id"].to_numpy(), coords=[f.opt], name="unit")
    m.add_constraints(v.z.groupby(unit_of).sum() == 1, name="one_option")
    drawing = options["stock"].to_numpy() >= 0
    if drawing.any():
        sel = f.opt[drawing]
        stock_of = xr.DataArray(
            options.loc[drawing, "stock_id"].to_numpy(), coords=[sel], name="stock"
        )
        used = v.z.sel(option=sel).groupby(stock_of).sum()
        stock_ids = [str(x) for x in used.coords["stock"].values]
        by_id = {st.id: st.sets for st in scenario.stocks}
        sets = xr.DataArray([float(by_id[i]) for i in stock_ids], coords=[("stock", stock_ids)])
        m.add_constraints(used <= sets, name="sets")


def define_served(m: linopy.Model, f: _Frame, v: _Vars) -> None:
    """served[o] = the share of the option counted within its window, and only if chosen."""
    opt_rows = np.repeat(np.arange(f.n_opt), f.window + 1)
    t = Terms([f.opt])
    t.add(np.arange(f.n_opt), v.v_lab, 1.0)
    t.add(opt_rows, v.dx_lab, -1.0)
    t.constrain(m, "==", 0.0, "served_share")
    m.add_constraints(v.v - v.z <= 0, name="served_chosen")


def define_own_speed(m: linopy.Model, f: _Frame, v: _Vars) -> pd.DataFrame:
    """Own speed: a load cannot pass faster than its region's whole RSOM capacity from the day
    it arrives; the share counted on day t is at most the share that could be through k days
    earlier (rows only where it cuts). This keeps the pooled capacity of :func:`define_rsom`
    from passing a unit before it arrives. Returns one row per constraint (explain.py adds
    their shadow prices to the capacity's)."""
    n_opt, window, r_of, amount = f.n_opt, f.window, f.r_of, f.amount
    beta_l = np.ones((2, n_opt, window + 1))
    cum = np.concatenate([np.zeros((f.n_reg, 2, 1)), np.cumsum(np.where(f.finite, f.cap, 0), 2)], 2)
    until = np.clip(f.count_day - f.lag[:, None], -1, f.horizon)  # last RSOM day that counts
    for li in range(2):
        has = (amount[:, li] > 0) & f.finite[r_of, li, 0] & f.pooled
        rel = np.clip(f.release[:, li], 0, f.n_days)[:, None]
        lo = np.minimum(rel, until + 1)
        avail = cum[r_of[:, None], li, until + 1] - cum[r_of[:, None], li, lo]
        share = avail / np.maximum(amount[:, li, None], 1e-12)
        beta_l[li] = np.where(has[:, None], np.clip(share, 0.0, 1.0), 1.0)
    beta = beta_l.min(axis=0)
    # Which load sets each own-speed bound, and the RSOM days whose capacity it sums: the
    # shadow price of a day's capacity includes these rows' (explain.py).
    own_load = beta_l.argmin(axis=0)
    own_from = np.take_along_axis(f.release.T[:, :, None].repeat(window + 1, 2), own_load[None], 0)[
        0
    ]
    # Arrays over (option, step) are most of the build's memory: each is freed once used.
    del beta_l, lo, avail, share
    rows_o, rows_s = np.nonzero(f.valid & (beta < 1.0 - 1e-12))
    if not rows_o.size:
        return pd.DataFrame(columns=["option", "step", "region", "load", "first", "last", "amount"])
    t = Terms([f.opt, f.step])
    flat = rows_o * (window + 1) + rows_s
    for back in range(window + 1):
        ok = rows_s - back >= 0
        t.add(flat[ok], v.dx_lab[rows_o[ok], rows_s[ok] - back], 1.0)
    t.add(flat, v.z_lab[rows_o], -beta[rows_o, rows_s])
    mask = np.zeros((n_opt, window + 1), dtype=bool)
    mask[rows_o, rows_s] = True
    t.constrain(m, "<=", 0.0, "own_speed", mask=mask)
    return pd.DataFrame(
        {
            "option": rows_o,
            "step": rows_s,
            "region": r_of[rows_o],
            "load": own_load[rows_o, rows_s],
            "first": own_from[rows_o, rows_s],
            "last": until[rows_o, rows_s],
            "amount": amount[rows_o, own_load[rows_o, rows_s]],
        }
    )


def define_rsom(m: linopy.Model, f: _Frame, v: _Vars) -> None:
    """RSOM, pooled per region and load: cumulative arrivals (of the work that is counted),
    cumulative throughput under the daily capacity, cumulative work counted (k days later)."""
    n_days, n_reg, finite, r_of, amount = f.n_days, f.n_reg, f.finite, f.r_of, f.amount
    rld = n_reg * 2 * n_days
    coords = [f.region, f.load, f.day]

    def _rld(r: np.ndarray, li: int | np.ndarray, d: np.ndarray) -> np.ndarray:
        flat: np.ndarray = (r * 2 + li) * n_days + d
        return flat

    a_lab, y_lab, w_lab = (x.labels.to_numpy() for x in (v.arrived, v.through, v.done))
    rr, ll, ee = np.meshgrid(np.arange(n_reg), np.arange(2), f.days, indexing="ij")
    flat = _rld(rr, ll, ee).ravel()
    prev_ok = (ee > 0).ravel()
    prev = flat - 1

    t = Terms(coords)  # arrivals
    t.add(flat, a_lab.ravel(), 1.0)
    t.add(flat[prev_ok], a_lab.ravel()[prev[prev_ok] % rld], -1.0)
    for li in range(2):
        inside = (f.release[:, li] <= f.horizon) & f.pooled
        size = amount[inside, li] / f.rsom_unit[r_of[inside], li]
        t.add(_rld(r_of[inside], li, f.release[inside, li]), v.v_lab[inside], -size)
    t.constrain(m, "==", 0.0, "rsom_arrivals", mask=finite)

    t = Terms(coords)  # through <= arrived
    t.add(flat, y_lab.ravel(), 1.0)
    t.add(flat, a_lab.ravel(), -1.0)
    t.constrain(m, "<=", 0.0, "rsom_released", mask=finite)

    t = Terms(coords)  # capacity per day
    t.add(flat, y_lab.ravel(), 1.0)
    t.add(flat[prev_ok], y_lab.ravel()[prev[prev_ok]], -1.0)
    cap_da = xr.DataArray(np.where(finite, f.cap, 0.0) / f.rsom_unit[:, :, None], coords=coords)
    t.constrain(m, "<=", cap_da, "rsom_capacity", mask=finite)

    t = Terms(coords)  # work counted, by the last RSOM day it needs
    t.add(flat, w_lab.ravel(), 1.0)
    t.add(flat[prev_ok], w_lab.ravel()[prev[prev_ok]], -1.0)
    e_of = f.count_day - f.lag[:, None]
    for li in range(2):
        ok = f.valid & (e_of >= 0) & (amount[:, li, None] > 0) & f.pooled[:, None]
        oo, ss = np.nonzero(ok)
        size = amount[oo, li] / f.rsom_unit[r_of[oo], li]
        t.add(_rld(r_of[oo], li, e_of[oo, ss]), v.dx_lab[oo, ss], -size)
    t.constrain(m, "==", 0.0, "rsom_counted", mask=finite)

    t = Terms(coords)  # counted work was through RSOM
    t.add(flat, w_lab.ravel(), 1.0)
    t.add(flat, y_lab.ravel(), -1.0)
    t.constrain(m, "<=", 0.0, "rsom_done_before", mask=finite)


def define_shared(m: linopy.Model, f: _Frame, v: _Vars, shared_table: Shared) -> None:
    """Shared capacities on the way (links, nodes, transshipment, lift pools), in the RSOM
    form per server and day: what arrives there (of the work that counts), what passes under
    the day's capacity, and what must be through for each counting day."""
    if len(shared_table.passages):
        add_shared_rows(
            m,
            shared_table,
            v.dx_lab,
            v.v_lab,
            f.count_day,
            f.valid,
            f.first,
            f.closure,
            f.n_days,
            f.horizon,
        )


def define_power(m: linopy.Model, f: _Frame, v: _Vars, scenario: Scenario) -> None:
    """Counted power per region, capability and day: the cumulative sum of what starts
    counting."""
    n_cap, n_days = f.n_cap, f.n_days
    unit_power = np.array(
        [[getattr(u.power, c) for c in CAPABILITIES] for u in scenario.units]
    ).reshape(len(scenario.units), n_cap)
    opt_power = unit_power[f.options["unit"].to_numpy(int)] if f.n_opt else np.zeros((0, n_cap))
    p_lab = v.power.labels.to_numpy()
    rcd = np.meshgrid(np.arange(f.n_reg), np.arange(n_cap), f.days, indexing="ij")
    flat_p = ((rcd[0] * n_cap + rcd[1]) * n_days + rcd[2]).ravel()
    prev_p = (rcd[2] > 0).ravel()
    t = Terms([f.region, f.cap_idx, f.day])
    t.add(flat_p, p_lab.ravel(), 1.0)
    t.add(flat_p[prev_p], p_lab.ravel()[flat_p[prev_p] - 1], -1.0)
    oo, ss = np.nonzero(f.valid)
    for ci in range(n_cap):
        has = opt_power[oo, ci] > 0
        o2, s2 = oo[has], ss[has]
        rows = (f.r_of[o2] * n_cap + ci) * n_days + f.count_day[o2, s2]
        t.add(rows, v.dx_lab[o2, s2], -opt_power[o2, ci])
    t.constrain(m, "==", 0.0, "power_counted")


def define_shortfall(m: linopy.Model, f: _Frame, v: _Vars, scenario: Scenario) -> xr.DataArray:
    """Shortfall against the requirement above the forces in place; returns the requirement."""
    need = np.zeros((f.n_reg, f.n_cap, f.n_days))
    for ri, r in enumerate(scenario.regions):
        for ci, c in enumerate(CAPABILITIES):
            in_place = r.in_place_power(c)
            curve = getattr(r.requirement, c)
            need[ri, ci] = [step_value(curve, float(d)) - in_place for d in f.days]
    need = np.maximum(need, 0.0)
    required = xr.DataArray(need, coords=[f.region, f.cap_idx, f.day])
    m.add_constraints(v.s + v.power >= required, name="gap")
    return required


def define_objective(
    m: linopy.Model,
    f: _Frame,
    v: _Vars,
    scenario: Scenario,
    weights: Weights,
    new_sets: NewSets | None,
    *,
    relax: bool,
    fix_choices: np.ndarray | None,
) -> tuple[xr.DataArray, xr.DataArray]:
    """The weighted shortfall, then the cost (and the money spent on new sets, with their
    rows). Returns the regions' priorities and the weight of each (region, day)'s shortfall.

    Cost: each chosen unit's uncongested closure (capped at H + 1) plus the days its power
    waits beyond it to count, in unit-days over units times days (each part in [0, 1]). It
    prefers the earliest options among equal shortfalls, and makes RSOM serve the units it
    serves as early as capacity allows. A unit never counted costs no waiting: charging it
    (to make RSOM serve everything) makes the LP highly degenerate and slow.
    """
    priority = xr.DataArray([r.priority for r in scenario.regions], coords=[f.region])
    n_units = max(1, len(scenario.units))
    scale = float(n_units * f.n_days)
    wait = np.clip(f.count_day - f.first[:, None], 0, None) / scale
    tau = np.minimum(f.closure, f.n_days) / scale
    cost = (v.z * xr.DataArray(tau, coords=[f.opt])).sum() + (
        v.dx * xr.DataArray(wait, coords=[f.opt, f.step])
    ).sum()
    closure_by = weights.closure_by
    late = np.zeros((f.n_reg, f.n_days))
    for ri, rid in enumerate(f.region_ids):
        if closure_by is not None and rid in closure_by:
            late[ri] = f.days >= closure_by[rid]
    w = (
        xr.DataArray(f.day_weight, coords=[f.day])
        * priority
        * xr.DataArray(1.0 + weights.late_weight * late, coords=[f.region, f.day])
    )
    if weights.plain:
        w = xr.ones_like(w)
    objective = (v.s * w).sum() + weights.cost_weight * cost
    spend = (
        add_new_set_rows(m, v.z_lab, f.options, new_sets, relax=relax, fix_choices=fix_choices)
        if new_sets is not None
        else None
    )
    if spend is not None:  # money spent, as a share of buying everything: a tie-breaker too
        objective = objective + weights.cost_weight * spend
    m.add_objective(objective)
    return priority, w
