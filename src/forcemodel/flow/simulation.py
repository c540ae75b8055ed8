"""simulate: move every unit to its region under the network's capacities (docs/simulation.md).

Compile the network, plan each unit's destination, run the engine, tabulate the results.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

from forcemodel.common.fields import step_values
from forcemodel.flow.engine import EngineOutput, run_engine, stop_day
from forcemodel.flow.plan import UnitPlan, plan_units
from forcemodel.network.compile import INF, CompiledNetwork, compile_network
from forcemodel.results import RESULTS_FORMAT, Results
from forcemodel.scenario.model import CAPABILITIES, Curve, Scenario

__all__ = ["simulate"]

Progress = Callable[[str], None]


def simulate(
    scenario: Scenario,
    seed: int = 0,
    progress: Progress | None = None,
    *,
    plans: Sequence[UnitPlan] | None = None,
) -> Results:
    """Run the force-flow simulation of a scenario and return its tidy results.

    The run is deterministic: the same scenario and seed give identical tables (the seed is
    recorded; this engine draws nothing at random yet). Raises
    :class:`~forcemodel.flow.plan.UnreachableError` naming every unit that cannot reach its
    region.

    ``plans``: one :class:`~forcemodel.flow.plan.UnitPlan` per unit, in unit order, to move the
    units by instead of the day-0 planner's (re-planning hands its combined plan back this way,
    docs/optimization.md "Re-planning"); the engine's rules are the same either way.
    """
    say = progress or (lambda _msg: None)
    with _collector_paused():
        say("compiling the network")
        net = compile_network(scenario)
        if plans is None:
            say("planning destinations and pre-positioned sets")
            unit_plans = plan_units(scenario, net)
        else:
            unit_plans = list(plans)
            _check_plans(scenario, unit_plans)
        say(f"moving {len(scenario.units)} units")
        out = run_engine(net, unit_plans)
        say("tabulating results")
        return _results(scenario, net, unit_plans, out, seed)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the run.

    The run builds many short-lived containers but no cycles worth collecting; each full
    collection it triggers scans every object of a large scenario (about 0.1 s at 5,000 units,
    a quarter of the run). Reference counting still frees everything; the collector resumes
    (if it was on) when the run ends or fails.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_plans(scenario: Scenario, plans: list[UnitPlan]) -> None:
    """Given plans must name every unit once, in order, and only regions and stocks there are."""
    if [p.unit for p in plans] != list(range(len(scenario.units))):
        raise ValueError(
            f"plans: need one plan per unit in unit order ({len(scenario.units)}), "
            f"got units {[p.unit for p in plans][:10]}"
        )
    for p in plans:
        if not 0 <= p.region < len(scenario.regions) or (
            p.stock is not None and not 0 <= p.stock < len(scenario.stocks)
        ):
            raise ValueError(f"plans: unit {scenario.units[p.unit].id} has no such region or stock")


def _results(
    scenario: Scenario, net: CompiledNetwork, plans: list[UnitPlan], out: EngineOutput, seed: int
) -> Results:
    from forcemodel import __version__

    horizon = scenario.meta.horizon_days
    units = _units_table(scenario, plans, out)
    region_power = _region_power(scenario, units, horizon)
    shortfall = region_power[region_power["required"] > 0].copy()
    shortfall["shortfall"] = (shortfall["required"] - shortfall["power"]).clip(lower=0.0)
    shortfall = shortfall[["day", "region", "capability", "required", "power", "shortfall"]]
    loads = _server_loads(net, out, horizon)
    events = pd.DataFrame(out.events)
    meta = {
        "results_format": RESULTS_FORMAT,
        "forcemodel_version": __version__,
        "scenario": scenario.meta.name,
        "scenario_digest": scenario.digest(),
        "seed": seed,
        "horizon_days": horizon,
        "stop_day": stop_day(scenario),
        "units_not_closed": int((units["status"] != "closed").sum()),
        "events": out.n_events,
        "warning_day": scenario.meta.warning_day,
        "ratio_threshold": scenario.meta.ratio_threshold,
        "tiers": [t.model_dump(mode="json") for t in scenario.tiers],
    }
    tables = {
        "units": units,
        "unit_events": events,
        "region_power": region_power,
        "shortfall": shortfall.reset_index(drop=True),
        **loads,
    }
    return Results(meta=meta, tables=tables, scenario=scenario)


def _units_table(scenario: Scenario, plans: list[UnitPlan], out: EngineOutput) -> pd.DataFrame:
    units, regions, stocks = scenario.units, scenario.regions, scenario.stocks
    region_ids = [regions[p.region].id for p in plans]
    columns: dict[str, object] = {
        "unit": [u.id for u in units],
        "nation": [u.nation for u in units],
        "type": [u.type for u in units],
        "tier": [u.tier for u in units],
        "personnel": [u.personnel for u in units],
        "equipment_t": [u.equipment_t for u in units],
        "region": region_ids,
        "pre_assigned": [u.assigned_to == r for u, r in zip(units, region_ids, strict=True)],
        "set_from": [stocks[p.stock].id if p.stock is not None else "" for p in plans],
        "urgency": [p.urgency for p in plans],
        "ready_day": out.ready,
        "arrival_day": out.arrival,
        "closure_day": out.closure,
        "planned_closure_day": [p.est_closure for p in plans],
        "status": [
            "stranded" if stuck else ("closed" if closure < INF else "moving")
            for stuck, closure in zip(out.stuck, out.closure, strict=True)
        ],
        "stranded_at": out.stuck,
    }
    for c in CAPABILITIES:
        columns[f"power_{c}"] = [getattr(u.power, c) for u in units]
    return pd.DataFrame(columns)


def _arrived(power: np.ndarray, closure: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Power of the units closed by each day: ``power[closure <= d].sum()`` for each day d.

    Summed afresh only on the days the set of closed units changes (the same sums, bit for
    bit, as summing every day).
    """
    count = np.searchsorted(np.sort(closure), days, side="right")
    out = np.zeros(len(days))
    for k in np.flatnonzero(count > 0):
        same = k > 0 and count[k] == count[k - 1]
        out[k] = out[k - 1] if same else power[closure <= days[k]].sum()
    return out


def _region_power(scenario: Scenario, units: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Each day, region and capability: in place, arrived, power, required and threat.

    A capability a region neither holds, receives, requires nor is threatened in is left out.
    The columns are gathered first and tabled once (one small table per pair costs more).
    """
    days = np.arange(horizon + 1, dtype=float)
    w = scenario.meta.warning_day
    threats = {t.region: t for t in scenario.threats}
    pairs: list[tuple[str, str]] = []
    columns: dict[str, list[np.ndarray]] = {
        k: [] for k in ("in_place", "arrived", "required", "threat")
    }
    region_of = units["region"].to_numpy()
    all_closure = units["closure_day"].to_numpy()
    for region in scenario.regions:
        mine = region_of == region.id
        closure = all_closure[mine]
        for c in CAPABILITIES:
            in_place = region.in_place_power(c)
            power_c = units[f"power_{c}"].to_numpy()[mine]
            req_curve: Curve = getattr(region.requirement, c)
            threat = threats.get(region.id)
            thr_curve: Curve = getattr(threat, c) if threat is not None else ()
            if in_place == 0 and not power_c.any() and not req_curve and not thr_curve:
                continue
            offset = w if threat is not None and threat.relative_to == "warning_day" else 0.0
            pairs.append((region.id, c))
            columns["in_place"].append(np.full(len(days), in_place, dtype=float))
            columns["arrived"].append(_arrived(power_c, closure, days))
            columns["required"].append(step_values(req_curve, days))
            columns["threat"].append(step_values(thr_curve, np.maximum(0.0, days - offset)))
    n = len(days)
    gathered = {k: np.concatenate(v) if v else np.zeros(0) for k, v in columns.items()}
    return pd.DataFrame(
        {
            "day": np.tile(days.astype(np.int64), len(pairs)),
            "region": np.repeat(np.array([r for r, _ in pairs], dtype=object), n),
            "capability": np.repeat(np.array([c for _, c in pairs], dtype=object), n),
            "in_place": gathered["in_place"],
            "arrived": gathered["arrived"],
            "power": gathered["in_place"] + gathered["arrived"],
            "required": gathered["required"],
            "threat": gathered["threat"],
        }
    )


def _server_loads(net: CompiledNetwork, out: EngineOutput, horizon: int) -> dict[str, pd.DataFrame]:
    """Per server kind: each day a server passed work before the horizon, against capacity."""
    s_idx, day = np.nonzero(out.served[:, :horizon] > 1e-12)  # by server, then day
    load = out.served[s_idx, day]
    servers = net.servers
    cap = np.array([servers[s].rate for s in s_idx], dtype=float)
    for i in np.flatnonzero([bool(servers[s].breaks) for s in s_idx]):
        cap[i] = servers[s_idx[i]].day_capacity(int(day[i]))
    kind = np.array([s.kind for s in servers], dtype=object)[s_idx]
    with np.errstate(divide="ignore"):
        utilisation = np.where(cap > 0, load / np.where(cap > 0, cap, 1.0), INF)
    table = pd.DataFrame(
        {
            "day": day.astype(np.int64),
            "server": np.array([s.label for s in servers], dtype=object)[s_idx],
            "target": np.array([s.target for s in servers], dtype=object)[s_idx],
            "load": load,
            "capacity": cap,
            "utilisation": utilisation,
        }
    )

    def frame(kinds: tuple[str, ...]) -> pd.DataFrame:
        rows = table[np.isin(kind, kinds)] if len(table) else table
        return rows.sort_values(["server", "day"], kind="stable").reset_index(drop=True)

    return {
        "link_load": frame(("arc",)),
        "node_load": frame(("node", "transship", "transfer")),
        "pool_load": frame(("pool",)),
        "rsom_load": frame(("rsom",)),
    }
