"""Read a solved model into a plan, and write the plan back as scenario data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.common.folders import staged_folder
from forcemodel.mip.solve import SolveOutcome
from forcemodel.optimize.explain import BINDING_COLUMNS, UNMET_COLUMNS
from forcemodel.optimize.model import BuiltModel, Choice
from forcemodel.optimize.prepositioning import PURCHASE_COLUMNS, NewSets, bought
from forcemodel.scenario.model import CAPABILITIES, Scenario
from forcemodel.scenario.write import scenario_data


@dataclass(frozen=True)
class Provenance:
    """Where the plan comes from, printed with it on the command line.

    ``rule``: the stopping rule in words (a time budget or work limits); ``stopped_by``:
    ``optimal`` (proven within the gap), ``time_limit``, ``work_limit`` or ``interrupted``;
    ``kept``: the stage that found the plan kept ("day-0 planner", "sub-MIP around the LP",
    "simulated search from ...", ...); ``simulated``: whether the plan was simulated;
    ``regions``: per region, its simulated closure day, its target and its simulated shortfall
    (brigade-days), empty when not simulated; ``simulated_score``: the simulation's shortfall
    in the model's weights (the model's objective without its cost term, on the simulation);
    ``evaluations``: simulations run by the simulated search.
    """

    rule: str
    stopped_by: str
    kept: str
    simulated: bool = False
    regions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["region", "simulated_closure", "target", "shortfall_bde_days"]
        )
    )
    simulated_score: float | None = None
    evaluations: int = 0


@dataclass(frozen=True)
class OptimizationResult:
    """The chosen plan, its objective and what the solver said.

    ``plan``: one row per unit: ``unit``, ``region``, ``stock`` ('' for its own equipment),
    ``set_type`` ('' when no set is drawn), ``arrive_equipment``, ``arrive_people`` (uncongested
    arrival at the reception, days), ``estimated_closure`` (without queues) and
    ``counted_from`` (first day the model counts all its power, after RSOM queues; NaN if not
    within the horizon).

    ``objective``: one row per region and capability with a requirement: ``shortfall_bde_days``
    (sum over days of the shortfall, brigade-days) and ``weighted`` (times the day weight and the
    region's priority: its share of the objective). ``cost`` is the cost term as it enters the
    objective; ``objective_value = objective.weighted.sum() + cost``.

    ``region_power``: per day, region and capability: ``required`` (above the forces in place),
    ``arrived`` (power the model counts) and ``shortfall``.

    ``bindings``: the binding constraints with their shadow prices (the duals of the LP left
    once the choices are fixed; of the LP itself with ``relaxed``), sorted by absolute shadow
    price: ``kind`` (``rsom_tons``, ``rsom_people``, ``stock``, ``requirement``), ``region``,
    ``stock``, ``capability``, ``day`` (-1 for a stock), ``shadow_price`` (change of the
    objective per ton, person, set or brigade more on the right-hand side) and ``meaning``.
    ``unmet``: each run of days a region's requirement is not met, with ``stopped_by`` in words
    (:mod:`forcemodel.optimize.explain`). Both are empty with ``duals=False``.

    ``purchases``: the new pre-positioned sets bought (scenarios with a ``prepositioning``
    section): one row per depot and set type, ``depot``, ``set_type``, ``stock`` (the stock of
    ``scenario`` that holds them), ``new_sets``, ``set_cost_m``, ``fixed_cost_m`` (the depot's,
    on its first row) and ``spend_m``; ``budget`` (None without the section) and ``spend``, in
    millions of ``currency``. ``scenario`` is then the scenario with the sets bought in its stocks.
    """

    scenario: Scenario
    plan: pd.DataFrame
    objective: pd.DataFrame
    region_power: pd.DataFrame
    objective_value: float
    cost: float
    status: str
    termination: str
    mip_gap: float | None
    runtime_s: float | None
    log: str
    relaxed: bool
    bindings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BINDING_COLUMNS))
    unmet: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMET_COLUMNS))
    purchases: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PURCHASE_COLUMNS))
    budget: float | None = None
    spend: float = 0.0
    currency: str = ""
    #: A lower bound on the model's optimum (over the options offered), where one is known:
    #: HiGHS's when it solved the whole MIP, else the best of the queue-free bound and the LP
    #: relaxation (``mip_gap`` is measured against it); the LP's own optimum with ``relaxed``.
    bound: float | None = None
    #: Where the plan comes from (stopping rule, stage, simulation), when the MIP was searched.
    provenance: Provenance | None = None

    @property
    def choices(self) -> dict[str, Choice]:
        """Each unit's (region id, stock id or None)."""
        return {
            str(r.unit): (str(r.region), str(r.stock) or None)
            for r in self.plan.itertuples(index=False)
        }

    def scenario_data(self) -> dict[str, Any]:
        """The scenario's raw data with this plan in it (see :func:`planned_scenario_data`)."""
        return planned_scenario_data(self.scenario, self.choices)

    def objective_table(self) -> pd.DataFrame:
        """The objective by term: shortfall per region and capability, then the cost term."""
        shortfall = self.objective.assign(term="shortfall")
        cost = pd.DataFrame([{"term": "cost", "weighted": self.cost}])
        table = pd.concat([shortfall, cost], ignore_index=True)
        return table[["term", "region", "capability", "shortfall_bde_days", "weighted"]]

    def save(self, path: str | Path) -> Path:
        """Write the plan as a scenario folder with objective, plan, bindings, unmet and the log.

        Atomic: everything is written into a temporary sibling folder that replaces ``path``
        only once complete, so a failure leaves any earlier folder as it was.
        """
        from forcemodel.scenario.write import scenario_folder_files, write_files

        target = Path(path)
        with staged_folder(target) as tmp:
            write_files(tmp, scenario_folder_files(self.scenario_data()))
            self.objective_table().to_csv(tmp / "objective.csv", index=False)
            self.plan.to_csv(tmp / "plan.csv", index=False)
            self.bindings.to_csv(tmp / "bindings.csv", index=False)
            self.unmet.to_csv(tmp / "unmet.csv", index=False)
            if self.budget is not None:
                self.purchases.to_csv(tmp / "purchases.csv", index=False)
            (tmp / "solver.log").write_text(self.log, encoding="utf-8")
        return target


def planned_scenario_data(scenario: Scenario, choices: Mapping[str, Choice]) -> dict[str, Any]:
    """Raw scenario data, in the scenario format, with each unit's plan written into it.

    Every unit in ``choices`` gets ``assigned_to`` its region; a unit that draws a set keeps its
    ``set_type``, one that does not loses it (so that the simulation does not draw one for it).
    The data is the resolved scenario (catalogue defaults filled in); it loads with
    :func:`forcemodel.load_scenario_data` and writes with
    :func:`forcemodel.scenario.write.write_scenario_folder`. Which stock a unit draws from is the
    simulation's choice (the fastest with sets left), not written down.
    """
    data: dict[str, Any] = scenario_data(scenario)
    for unit in data["units"]:
        choice = choices.get(unit["id"])
        if choice is None:
            continue
        region, stock = choice
        unit["assigned_to"] = region
        if stock is None:
            unit.pop("set_type", None)
    return data


def with_purchases(result: OptimizationResult, new_sets: NewSets) -> OptimizationResult:
    """``result`` (read from a model with candidate stocks) with the sets its plan draws bought.

    The scenario becomes the scenario as given with those sets in its stocks (see
    :func:`forcemodel.optimize.prepositioning.bought`), the plan names the stocks they are
    written into, and ``purchases``, ``budget`` and ``spend`` say what was bought.
    """
    drawn = result.plan.loc[result.plan["stock"] != "", "stock"].value_counts()
    scenario, rename, purchases = bought(new_sets, {str(k): int(v) for k, v in drawn.items()})
    plan = result.plan.assign(stock=[rename.get(str(s), str(s)) for s in result.plan["stock"]])
    return replace(
        result,
        scenario=scenario,
        plan=plan,
        purchases=purchases,
        budget=new_sets.budget,
        spend=float(purchases["spend_m"].sum()) if len(purchases) else 0.0,
        currency=new_sets.currency,
    )


def read_solution(
    scenario: Scenario, built: BuiltModel, outcome: SolveOutcome, *, relaxed: bool
) -> OptimizationResult:
    """Turn the solved model's values into an :class:`OptimizationResult`."""
    m, options = built.model, built.options
    z = m.variables["choose"].solution.to_numpy()
    picked = _pick(options, z)
    frac = built.counted()
    full = frac[picked.index.to_numpy()] >= 1.0 - 1e-4
    counted_from = [float(np.argmax(row)) if row.any() else math.nan for row in full]
    plan = pd.DataFrame(
        {
            "unit": picked["unit_id"].to_numpy(),
            "region": picked["region_id"].to_numpy(),
            "stock": picked["stock_id"].to_numpy(),
            "set_type": [
                scenario.stocks[int(si)].set_type or "" if si >= 0 else "" for si in picked["stock"]
            ],
            "arrive_equipment": picked["arrive_equipment"].to_numpy(),
            "arrive_people": picked["arrive_people"].to_numpy(),
            "estimated_closure": picked["closure"].to_numpy(),
            "counted_from": counted_from,
        }
    )
    short = m.variables["shortfall"].solution  # (region, capability, day)
    weight = built.shortfall_weight
    required = built.required
    rows = []
    for r in scenario.regions:
        for c in CAPABILITIES:
            need = required.sel(region=r.id, capability=c)
            if not float(need.sum()) > 0:
                continue
            s = short.sel(region=r.id, capability=c)
            rows.append(
                {
                    "region": r.id,
                    "capability": c,
                    "shortfall_bde_days": float(s.sum()),
                    "weighted": float((s * weight.sel(region=r.id)).sum()),
                }
            )
    objective = pd.DataFrame(
        rows, columns=["region", "capability", "shortfall_bde_days", "weighted"]
    )
    power = np.array(
        [[getattr(scenario.units[u].power, c) for c in CAPABILITIES] for u in picked["unit"]]
    ).reshape(len(picked), len(CAPABILITIES))
    frames = []
    for r in scenario.regions:
        mine = (picked["region_id"] == r.id).to_numpy()
        counted = power[mine].T @ frac[picked.index.to_numpy()[mine]]  # (capability, day)
        for ci, c in enumerate(CAPABILITIES):
            req = required.sel(region=r.id, capability=c).to_numpy()
            if not req.sum() > 0:
                continue
            frames.append(
                pd.DataFrame(
                    {
                        "day": built.days,
                        "region": r.id,
                        "capability": c,
                        "required": req,
                        "arrived": counted[ci],
                        "shortfall": short.sel(region=r.id, capability=c).to_numpy(),
                    }
                )
            )
    columns = ["day", "region", "capability", "required", "arrived", "shortfall"]
    region_power = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    shortfall_total = float(objective["weighted"].sum())
    value = float(outcome.objective) if outcome.objective is not None else math.nan
    return OptimizationResult(
        scenario=scenario,
        plan=plan,
        objective=objective,
        region_power=region_power,
        objective_value=value,
        cost=value - shortfall_total,
        status=outcome.status,
        termination=outcome.termination,
        mip_gap=outcome.mip_gap,
        runtime_s=outcome.runtime_s,
        log=outcome.log,
        relaxed=relaxed,
        bound=outcome.bound,
    )


def _pick(options: pd.DataFrame, z: np.ndarray) -> pd.DataFrame:
    """The option each unit takes: the one with the largest value (1 in a MIP solution)."""
    frame = options.assign(value=z)
    best = frame.sort_values(["unit", "value"], ascending=[True, False], kind="stable")
    return best.drop_duplicates("unit").sort_values("unit")
