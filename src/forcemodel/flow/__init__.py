"""simulate: move every unit to its region under the network's capacities (docs/simulation.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from forcemodel.flow.engine import Engine, EngineOutput
from forcemodel.flow.plan import UnitPlan, UnreachableError, plan_units, step_value
from forcemodel.network.compile import INF, CompiledNetwork, compile_network
from forcemodel.results import RESULTS_FORMAT, Results
from forcemodel.scenario.model import CAPABILITIES, Curve, Scenario

__all__ = ["UnreachableError", "simulate"]

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
    recorded; this engine draws nothing at random yet). Raises :class:`UnreachableError`
    naming every unit that cannot reach its region.

    ``plans``: one :class:`~forcemodel.flow.plan.UnitPlan` per unit, in unit order, to move the
    units by instead of the day-0 planner's (re-planning hands its combined plan back this way,
    docs/optimization.md "Re-planning"); the engine's rules are the same either way.
    """
    say = progress or (lambda _msg: None)
    say("compiling the network")
    net = compile_network(scenario)
    if plans is None:
        say("planning destinations and pre-positioned sets")
        unit_plans = plan_units(scenario, net)
    else:
        unit_plans = list(plans)
        _check_plans(scenario, unit_plans)
    say(f"moving {len(scenario.units)} units")
    out = Engine(net, unit_plans).run()
    say("tabulating results")
    return _results(scenario, net, unit_plans, out, seed)


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
    return Results(meta=meta, tables=tables)


def _units_table(scenario: Scenario, plans: list[UnitPlan], out: EngineOutput) -> pd.DataFrame:
    rows = []
    for i, (u, p) in enumerate(zip(scenario.units, plans, strict=True)):
        region = scenario.regions[p.region]
        row = {
            "unit": u.id,
            "nation": u.nation,
            "type": u.type,
            "tier": u.tier,
            "personnel": u.personnel,
            "equipment_t": u.equipment_t,
            "region": region.id,
            "pre_assigned": u.assigned_to == region.id,
            "set_from": scenario.stocks[p.stock].id if p.stock is not None else "",
            "urgency": p.urgency,
            "ready_day": out.ready[i],
            "arrival_day": out.arrival[i],
            "closure_day": out.closure[i],
            "planned_closure_day": p.est_closure,
        }
        for c in CAPABILITIES:
            row[f"power_{c}"] = getattr(u.power, c)
        rows.append(row)
    return pd.DataFrame(rows)


def _region_power(scenario: Scenario, units: pd.DataFrame, horizon: int) -> pd.DataFrame:
    days = np.arange(horizon + 1, dtype=float)
    w = scenario.meta.warning_day
    threats = {t.region: t for t in scenario.threats}
    frames = []
    for region in scenario.regions:
        mine = units[units["region"] == region.id]
        closure = mine["closure_day"].to_numpy()
        for c in CAPABILITIES:
            in_place = sum(getattr(f.power, c) * f.count for f in region.in_place)
            power_c = mine[f"power_{c}"].to_numpy()
            req_curve: Curve = getattr(region.requirement, c)
            threat = threats.get(region.id)
            thr_curve: Curve = getattr(threat, c) if threat is not None else ()
            if in_place == 0 and not power_c.any() and not req_curve and not thr_curve:
                continue
            arrived = np.array([power_c[closure <= d].sum() for d in days])
            offset = w if threat is not None and threat.relative_to == "warning_day" else 0.0
            frames.append(
                pd.DataFrame(
                    {
                        "day": days.astype(int),
                        "region": region.id,
                        "capability": c,
                        "in_place": in_place,
                        "arrived": arrived,
                        "power": in_place + arrived,
                        "required": [step_value(req_curve, d) for d in days],
                        "threat": [step_value(thr_curve, max(0.0, d - offset)) for d in days],
                    }
                )
            )
    if not frames:
        return pd.DataFrame(
            columns=[
                "day",
                "region",
                "capability",
                "in_place",
                "arrived",
                "power",
                "required",
                "threat",
            ]
        )
    return pd.concat(frames, ignore_index=True)


def _server_loads(net: CompiledNetwork, out: EngineOutput, horizon: int) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[dict[str, object]]] = {
        k: [] for k in ("arc", "node", "transship", "pool", "rsom")
    }
    for server, days in zip(net.servers, out.server_days, strict=True):
        for d in sorted(days):
            work = days[d]
            if d >= horizon or work <= 1e-12:
                continue
            cap = server.day_capacity(d)
            rows[server.kind].append(
                {
                    "day": d,
                    "server": server.label,
                    "target": server.target,
                    "load": float(work),
                    "capacity": float(cap),
                    "utilisation": float(work / cap) if cap > 0 else INF,
                }
            )
    cols = ["day", "server", "target", "load", "capacity", "utilisation"]

    def frame(kinds: tuple[str, ...]) -> pd.DataFrame:
        data = [r for k in kinds for r in rows[k]]
        return (
            pd.DataFrame(data, columns=cols)
            .sort_values(["server", "day"], kind="stable")
            .reset_index(drop=True)
        )

    return {
        "link_load": frame(("arc",)),
        "node_load": frame(("node", "transship")),
        "pool_load": frame(("pool",)),
        "rsom_load": frame(("rsom",)),
    }
