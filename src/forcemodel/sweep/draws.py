"""One draw of a scenario's ``uncertainty`` section, as ordinary scenario settings.

Reproducible whatever runs it: draw ``d`` of seed ``S`` reads its numbers from
``numpy.random.SeedSequence(S, spawn_key=(d, stream))`` (the child that ``spawn`` would give),
one stream per input (the warning day, each slip, each pool, each hazard at each target),
named by a stable hash of its id. So a draw is the same in any process, on any worker, in any
order; adding a hazard leaves the other inputs' draws as they were; and the same draw under
two protection plans sees the same random numbers (common random numbers: a measure's effect
is not hidden by noise).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtri

from forcemodel.scenario.model import Scenario
from forcemodel.scenario.paths import Setting, parse_setting
from forcemodel.scenario.uncertainty import CAUSE, Dist, Hazard, Measure, Uncertainty, Value


@dataclass(frozen=True)
class Draw:
    """One world: the settings that make it and the drawn inputs, for the runs table."""

    settings: tuple[str, ...]
    inputs: dict[str, float] = field(default_factory=dict)
    disruptions: tuple[dict[str, Any], ...] = ()
    #: Units whose notice to move the draw changes: id -> days (set as one table).
    notice: tuple[tuple[str, float], ...] = ()


def stream(seed: int, draw: int, *names: str) -> np.random.Generator:
    """The random stream of one input of one draw (independent of every other)."""
    key = tuple(zlib.crc32(n.encode()) for n in names)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(draw, *key)))


def quantile(v: Value, u: float) -> float:
    """The value of ``v`` at probability ``u`` (inverse transform: one uniform, one value)."""
    if not isinstance(v, Dist):
        return float(v)
    u = min(max(u, 1e-12), 1 - 1e-12)
    if v.dist == "fixed":
        x = float(v.value or 0.0)
    elif v.dist == "uniform":
        lo, hi = float(v.low or 0.0), float(v.high or 0.0)
        x = lo + u * (hi - lo)
    elif v.dist == "triangular":
        lo, mo, hi = float(v.low or 0.0), float(v.mode or 0.0), float(v.high or 0.0)
        if hi == lo:
            x = lo
        elif u < (mo - lo) / (hi - lo):
            x = lo + math.sqrt(u * (hi - lo) * (mo - lo))
        else:
            x = hi - math.sqrt((1 - u) * (hi - lo) * (hi - mo))
    elif v.dist == "normal":
        x = float(v.mean or 0.0) + float(v.sd or 0.0) * float(ndtri(u))
    elif v.dist == "lognormal":
        x = float(v.median or 0.0) * math.exp(float(v.sigma or 0.0) * float(ndtri(u)))
    else:  # choice
        w = np.asarray(v.weights or [1.0] * len(v.values), dtype=float)
        cum = np.cumsum(w / w.sum())
        x = float(v.values[min(int(np.searchsorted(cum, u, side="right")), len(v.values) - 1)])
    lo_b, hi_b = v.bounds()
    return min(max(x, lo_b), hi_b)


def _setting(path: str, value: Any) -> str:
    # JSON is YAML: the value reads back exactly (floats round-trip through repr).
    return f"{path}={json.dumps(value)}"


def draw(
    scenario: Scenario,
    unc: Uncertainty,
    seed: int,
    index: int,
    fixed: frozenset[str] = frozenset(),
) -> Draw:
    """Draw world ``index`` of ``seed`` from ``unc`` for ``scenario`` (already validated).

    Scalars come back as ``PATH=VALUE`` settings; the drawn disruptions and notices to move
    as rows (:func:`world_settings` makes them settings of whole tables, one each).
    ``fixed``: paths a sweep sets by parameter; they are not drawn.
    """
    settings: list[str] = []
    inputs: dict[str, float] = {}
    horizon = float(scenario.meta.horizon_days)

    if unc.warning_day is not None and "meta.warning_day" not in fixed:
        w = quantile(unc.warning_day, float(stream(seed, index, "warning_day").random()))
        w = min(max(w, 0.0), horizon)
        settings.append(_setting("meta.warning_day", w))
        inputs["warning_day"] = w
    else:
        inputs["warning_day"] = float(scenario.meta.warning_day)

    # Extra days of notice to move per unit: slips, then delays of cable and jamming events.
    extra: dict[str, float] = {}
    by_tier: dict[int, list[str]] = {}
    for u in scenario.units:
        by_tier.setdefault(u.tier, []).append(u.id)
    for n, slip in enumerate(unc.notice_to_move):
        name = slip.id or f"slip{n}"
        ids = list(slip.units) + [i for t in slip.tiers for i in by_tier.get(t, [])]
        if not slip.units and not slip.tiers:
            ids = [u.id for u in scenario.units]
        ids = list(dict.fromkeys(ids))
        rng = stream(seed, index, "notice_to_move", name)
        group = max(0.0, quantile(slip.days, float(rng.random())))
        for uid in ids:
            days = group if slip.per == "group" else max(0.0, quantile(slip.days, rng.random()))
            extra[uid] = extra.get(uid, 0.0) + days

    for lift in unc.lift:
        if f"lift_pools.{lift.pool}.availability" in fixed:
            continue
        a = quantile(lift.availability, float(stream(seed, index, "lift", lift.pool).random()))
        a = min(max(a, 0.01), 1.0)  # the scenario's own rule: more than 0, at most 1
        settings.append(_setting(f"lift_pools.{lift.pool}.availability", a))
        inputs[f"lift.{lift.pool}"] = a

    active = [m for m in unc.measures if m.active]
    drawn: list[dict[str, Any]] = []
    for hazard in unc.hazards:
        events, days_lost = _hazard_events(scenario, hazard, active, seed, index, horizon, extra)
        drawn.extend(events)
        inputs[f"hazard.{hazard.id}"] = float(len(events) or days_lost > 0)
        inputs[f"hazard.{hazard.id}.days"] = float(
            sum(e["days"] * (1 - e["capacity_factor"]) for e in events) + days_lost
        )

    ntm = {u.id: u.notice_to_move_days for u in scenario.units}
    notice: list[tuple[str, float]] = []
    for uid, days in extra.items():
        if days > 0 and f"units.{uid}.notice_to_move_days" not in fixed:
            notice.append((uid, ntm[uid] + days))
    slips = [extra[uid] for uid, _ in notice]
    inputs["notice_to_move_slip"] = float(np.mean(slips)) if slips else 0.0
    return Draw(tuple(settings), inputs, tuple(drawn), tuple(notice))


def _hazard_events(
    scenario: Scenario,
    hazard: Hazard,
    active: list[Measure],
    seed: int,
    index: int,
    horizon: float,
    extra: dict[str, float],
) -> tuple[list[dict[str, Any]], float]:
    """The disruptions one hazard causes in one draw, and the days of delay it adds to units."""
    events: list[dict[str, Any]] = []
    delay_total = 0.0
    lo, hi = hazard.window if hazard.window is not None else (0.0, horizon)
    n_days = max(0, math.floor(min(hi, horizon) - lo) + 1)
    for target in (*hazard.targets, *(f"unit:{u}" for u in hazard.units)):
        mine = [
            m for m in active if m.hazard == hazard.id and (not m.targets or target in m.targets)
        ]
        p = hazard.probability * math.prod(m.probability_factor for m in mine)
        days_factor = math.prod(m.days_factor for m in mine)
        floor = max((m.capacity_floor for m in mine), default=0.0)
        rng = stream(seed, index, "hazard", hazard.id, target)
        if hazard.per == "campaign":
            u = rng.random(4)
            starts = [quantile(hazard.start_day, u[1])] if u[0] < p else []
            u_days, u_cap = [u[2]], [u[3]]
        else:
            u = rng.random((3, n_days))
            hit = np.nonzero(u[0] < p)[0]
            starts = [lo + float(d) for d in hit]
            u_days, u_cap = list(u[1, hit]), list(u[2, hit])
        for n, start in enumerate(starts):
            days = quantile(hazard.days, float(u_days[n])) * days_factor
            cap = max(quantile(hazard.capacity_factor, float(u_cap[n])), floor)
            if target.startswith("unit:"):
                # Slower command traffic: the unit is ready later, if it was not ready yet.
                uid = target.removeprefix("unit:")
                delay = quantile(hazard.delay_days, float(u_days[n])) * days_factor
                if start <= scenario_ntm(scenario, uid) + extra.get(uid, 0.0):
                    extra[uid] = extra.get(uid, 0.0) + delay
                    delay_total += delay
                continue
            if days <= 0 or cap >= 1.0 or start > horizon:
                continue
            events.append(
                {
                    "id": f"drawn-{hazard.id}-{target}-{n}",
                    "target": target,
                    "start_day": round(start, 6),
                    "days": round(days, 6),
                    "capacity_factor": round(cap, 6),
                    "cause": CAUSE[hazard.kind],
                    "source": f"drawn from hazard {hazard.id}",
                }
            )
    return events, delay_total


def scenario_ntm(scenario: Scenario, unit_id: str) -> float:
    """The notice to move of a unit as the scenario gives it."""
    for u in scenario.units:
        if u.id == unit_id:
            return u.notice_to_move_days
    raise KeyError(unit_id)


def world_settings(
    world: Draw,
    before: Sequence[str],
    units: Sequence[dict[str, Any]],
    disruptions: Sequence[dict[str, Any]],
) -> list[Setting]:
    """The settings of one world: ``before`` (grid), its scalars, then whole tables.

    ``units`` and ``disruptions``: the grid point's raw rows. Changing the notice to move of
    hundreds of units is one setting of the units table, not hundreds of settings.
    """
    out = [parse_setting(s) for s in (*before, *world.settings)]
    if world.notice:
        new = dict(world.notice)
        rows = [
            {**r, "notice_to_move_days": new[str(r.get("id"))]} if str(r.get("id")) in new else r
            for r in units
        ]
        out.append(Setting("units=<drawn notice to move>", ("units",), rows))
    if world.disruptions:
        rows = [*disruptions, *world.disruptions]
        out.append(Setting("disruptions=<drawn>", ("disruptions",), rows))
    return out
