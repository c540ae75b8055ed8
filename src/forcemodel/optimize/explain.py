"""Why a plan falls short: shadow prices of the capacities, and unmet requirements in words.

A MIP has no duals. Once it is solved, the choices are fixed at their optimal values and the LP
that remains (RSOM progress, counted power, shortfall) is solved again with the simplex method;
its duals are the shadow prices reported here: how much the objective changes for one more unit
of a right-hand side *with the choices kept as they are*. With ``relax`` the model already is an
LP and its own duals are read. docs/optimization.md, "Duals and explanations", says what the
numbers mean and where they stop meaning it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.optimize.model import BuiltModel
from forcemodel.scenario.model import CAPABILITIES, Scenario

#: A shadow price smaller than this (objective per ton, person, set or brigade) is not binding.
BINDING_TOL = 1e-9

#: Shortfall below this (brigade equivalents) is no shortfall.
SHORT_TOL = 1e-6

BINDING_COLUMNS = [
    "kind",
    "region",
    "stock",
    "capability",
    "day",
    "shadow_price",
    "meaning",
    "server",
    "holds_for",
    "price_bde_days",
]

UNMET_COLUMNS = [
    "region",
    "capability",
    "from_day",
    "to_day",
    "peak_shortfall",
    "shortfall_bde_days",
    "stopped_by",
]

#: Kinds of binding constraint that are capacities one could buy (the rest are requirements).
CAPACITY_KINDS = ("rsom_tons", "rsom_people", "stock", "shared")

_LOAD_KIND = {"equipment": "rsom_tons", "people": "rsom_people"}
_LOAD_WORD = {"equipment": "ton", "people": "person"}


_SERVER_WORD = {"t": "ton", "pax": "person", "pool": "asset-day"}


def _server_unit(label: str) -> str:
    """What a shared server's capacity counts, from its label (network.compile's)."""
    if label.startswith("lift pool"):
        return "pool"
    return "pax" if label.endswith("(pax)") else "t"


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) >= 1e-3 else f"{x:.2e}"


def bindings_table(scenario: Scenario, built: BuiltModel, *, relaxed: bool) -> pd.DataFrame:
    """Binding constraints of a solved LP (``built``), sorted by absolute shadow price.

    ``shadow_price`` is the change of the objective for one more unit of the right-hand side:
    a ton or a person a day of RSOM capacity (negative: more capacity, less shortfall), a set in
    a stock, or a brigade equivalent of requirement above the forces in place (positive). With
    the MIP's choices fixed, a stock's limit has no price (its sets are already given out by the
    fixed choices): a stock whose sets are all drawn is listed with ``shadow_price`` NaN.
    """
    rows = [
        *_rsom_rows(built),
        *_shared_rows(built),
        *_requirement_rows(built),
        *_stock_rows(scenario, built, relaxed=relaxed),
    ]
    table = pd.DataFrame(rows, columns=BINDING_COLUMNS)
    if table.empty:
        return table
    table["server"] = table["server"].astype(object).where(table["server"].notna(), "")
    table["holds_for"] = table["holds_for"].astype(float)
    table["price_bde_days"] = table["price_bde_days"].astype(float)
    order = table["shadow_price"].abs().fillna(-1.0)
    table = table.assign(_o=order).sort_values(["_o", "kind", "day"], ascending=[False, True, True])
    return table.drop(columns="_o").reset_index(drop=True)


def _rsom_rows(built: BuiltModel) -> list[dict[str, object]]:
    """RSOM capacity per region, load and day (with the own-pace rows that sum it)."""
    m = built.model
    rows: list[dict[str, object]] = []
    if "rsom_capacity" in m.constraints:
        dual = _capacity_prices(built).to_series().dropna()
        room = row_room(built, "rsom_capacity")
        for (region, load, day), price in dual.items():
            if abs(price) <= BINDING_TOL:
                continue
            what = _LOAD_WORD[str(load)]
            verb = "cut" if price < 0 else "add to"
            unit = float(built.rsom_unit.sel(region=region, load=load))
            holds = _holds(room, (region, load, day), unit)
            rows.append(
                {
                    "kind": _LOAD_KIND[str(load)],
                    "region": region,
                    "stock": "",
                    "capability": "",
                    "day": int(day),
                    "shadow_price": float(price),
                    "meaning": (
                        f"one more {what} a day of RSOM at {region} on day {int(day)} would "
                        f"{verb} the objective by {_fmt(abs(price))}{_holds_words(holds, what)}"
                    ),
                    "holds_for": holds,
                }
            )
    return rows


def _shared_rows(built: BuiltModel) -> list[dict[str, object]]:
    """Shared capacities on the way (links, nodes, transshipment, lift pools) per day."""
    m = built.model
    rows: list[dict[str, object]] = []
    if "shared_capacity" in m.constraints and len(built.shared):
        rate = built.shared.set_index("label")["rate"]
        dual = m.constraints["shared_capacity"].dual.to_series().dropna()
        room = row_room(built, "shared_capacity")
        for (label, day), value in dual.items():
            price = float(value) / float(rate[label])
            if abs(price) <= BINDING_TOL:
                continue
            what = _SERVER_WORD[_server_unit(str(label))]
            verb = "cut" if price < 0 else "add to"
            holds = _holds(room, (label, day), float(rate[label]))
            rows.append(
                {
                    "kind": "shared",
                    "region": "",
                    "stock": "",
                    "capability": "",
                    "day": int(day),
                    "shadow_price": price,
                    "meaning": (
                        f"one more {what} a day of {label} on day {int(day)} would {verb} the "
                        f"objective by {_fmt(abs(price))}{_holds_words(holds, what)}"
                    ),
                    "server": str(label),
                    "holds_for": holds,
                }
            )
    return rows


def _requirement_rows(built: BuiltModel) -> list[dict[str, object]]:
    """Requirements (above the forces in place) per region, capability and day."""
    m = built.model
    rows: list[dict[str, object]] = []
    for name in ("gap", "gap_empty"):
        if name not in m.constraints:
            continue
        dual = m.constraints[name].dual.to_series().dropna()
        for (region, cap, day), price in dual.items():
            if abs(price) <= BINDING_TOL:
                continue
            cap_word = str(cap).replace("_", " ")
            rows.append(
                {
                    "kind": "requirement",
                    "region": region,
                    "stock": "",
                    "capability": cap,
                    "day": int(day),
                    "shadow_price": float(price),
                    "meaning": (
                        f"one more brigade of {cap_word} needed at {region} on day {int(day)} "
                        f"would add {_fmt(price)} to the objective (one more in place, save as "
                        "much)"
                    ),
                }
            )
    return rows


def _stock_rows(scenario: Scenario, built: BuiltModel, *, relaxed: bool) -> list[dict[str, object]]:
    """Stocks whose sets are all drawn (priced only in the LP relaxation)."""
    m = built.model
    rows: list[dict[str, object]] = []
    if "sets" in m.constraints:
        con = m.constraints["sets"]
        dual = con.dual.to_series()
        by_id = {st.id: st.sets for st in scenario.stocks}
        z = m.variables["choose"].solution.to_numpy()
        options = built.options
        for sid, price in dual.items():
            drawn = float(z[(options["stock_id"] == sid).to_numpy()].sum())
            sets = by_id[str(sid)]
            if relaxed:
                if not abs(price) > BINDING_TOL:
                    continue
                meaning = (
                    f"one more set in {sid} would cut the objective by {_fmt(abs(price))} "
                    "(in the LP relaxation)"
                )
                value = float(price)
            else:
                if drawn < sets - 1e-6:
                    continue
                meaning = (
                    f"all {sets} set(s) of {sid} are drawn; with the choices fixed the limit "
                    "has no price: re-run with one more set to value it"
                )
                value = math.nan
            rows.append(
                {
                    "kind": "stock",
                    "region": "",
                    "stock": sid,
                    "capability": "",
                    "day": -1,
                    "shadow_price": value,
                    "meaning": meaning,
                }
            )
    return rows


def row_room(built: BuiltModel, name: str) -> pd.Series | None:
    """How far each row of constraint ``name`` of a solved LP may be raised before its shadow
    price stops holding (HiGHS's ranging of the row's bound: the basis stays optimal up to
    it), in the row's own units, indexed like the constraint's duals; ``None`` without a
    solver model or ranging. HiGHS's rows are linopy's constraint labels in the order of
    ``model.matrices.clabels``."""
    m = built.model
    h = m.solver_model
    if h is None or name not in m.constraints:
        return None
    _, ranging = h.getRanging()
    if not getattr(ranging, "valid", False):
        return None
    clabels = np.asarray(m.matrices.clabels)
    up = np.asarray(ranging.row_bound_up.value_, dtype=float)
    if up.size != clabels.size:
        return None
    pos = np.full(int(clabels.max()) + 1 if clabels.size else 0, -1, dtype=np.int64)
    pos[clabels] = np.arange(clabels.size)
    con = m.constraints[name]
    labels = con.labels.to_series()
    rhs = con.rhs.to_series().reindex(labels.index)
    lab = labels.to_numpy()
    ok = (lab >= 0) & (lab < pos.size)
    row = np.where(ok, pos[np.clip(lab, 0, max(pos.size - 1, 0))], -1)
    room = np.full(lab.size, np.nan)
    have = row >= 0
    room[have] = up[row[have]] - rhs.to_numpy(float)[have]
    return pd.Series(room, index=labels.index)


def _holds(room: pd.Series | None, key: tuple[Any, ...], unit: float) -> float:
    """The room of one row in the capacity's own unit (tons, people, asset-days a day)."""
    if room is None:
        return math.nan
    try:
        value = float(room.loc[key])
    except KeyError:
        return math.nan
    return value * unit if math.isfinite(value) else math.inf if value > 0 else math.nan


def _holds_words(holds: float, what: str) -> str:
    if math.isnan(holds):
        return ""
    if math.isinf(holds):
        return f" (for any number more {what}s)"
    return f" (for up to {_fmt(holds)} more {what}s a day, HiGHS ranging)"


def _capacity_prices(built: BuiltModel) -> Any:
    """Shadow price of each region's RSOM capacity per load and day (region, load, day).

    A day's capacity enters two kinds of rows: the pooled capacity row of that day, and the
    own-speed rows of the units that arrive on or before it (their bound is the capacity summed
    from their arrival, over the load's amount). One more ton or person on day ``d`` relaxes
    each of those by ``z / amount``, so its price is the capacity row's dual plus theirs, each
    times ``z / amount``.
    """
    m = built.model
    # The capacity rows are in days of the undisrupted capacity: per ton, divide by it.
    price = m.constraints["rsom_capacity"].dual / built.rsom_unit
    rows = built.own_speed
    if "own_speed" not in m.constraints or rows.empty:
        return price
    dual = m.constraints["own_speed"].dual.to_numpy()[rows["option"], rows["step"]]
    z = m.variables["choose"].solution.to_numpy()[rows["option"]]
    per = np.nan_to_num(dual) * z / rows["amount"].to_numpy(float)
    first = rows["first"].to_numpy(int)
    last = rows["last"].to_numpy(int)
    keep = (per != 0) & (last >= first)
    if not keep.any():
        return price
    length = (last - first + 1)[keep]
    which = np.repeat(np.flatnonzero(keep), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    values = price.to_numpy().copy()
    np.add.at(
        values,
        (
            rows["region"].to_numpy(int)[which],
            rows["load"].to_numpy(int)[which],
            first[which] + offset,
        ),
        per[which],
    )
    return price.copy(data=values)


def unmet_requirements(
    scenario: Scenario, built: BuiltModel, bindings: pd.DataFrame
) -> pd.DataFrame:
    """Each run of days on which a region's requirement is not met, and what stops it.

    ``stopped_by`` names, in words: the day before which no unit with the capability can count
    in the region at all (route times plus RSOM, without queues); when the units that can reach
    the region hold less of the capability than is needed; the binding RSOM capacity on the
    days on which it serves a unit of that capability that is not yet through when the run
    starts, early enough to count within it (RSOM work on day ``d`` counts from day
    ``d + ceil(rsom days)``); and the unit whose counting ends the run.
    """
    m = built.model
    short = m.variables["shortfall"].solution  # (region, capability, day)
    through = built.through()  # (option, day -1..H): both loads alike
    phi = np.stack([through, through], axis=1)  # (option, load, day -1..H)
    g = built.counted()  # (option, day)
    chosen = m.variables["choose"].solution.to_numpy() > 0.5
    options = built.options
    closure = options["closure"].to_numpy(float)
    arrival = options[["arrive_equipment", "arrive_people"]].max(axis=1).to_numpy(float)
    power = np.array(
        [[getattr(scenario.units[u].power, c) for c in CAPABILITIES] for u in options["unit"]]
    ).reshape(len(options), len(CAPABILITIES))
    rsom = bindings[bindings["kind"].isin(["rsom_tons", "rsom_people"])]
    horizon = int(built.days[-1])
    rows: list[dict[str, object]] = []
    for r in scenario.regions:
        here = (options["region_id"] == r.id).to_numpy()
        lag = math.ceil(r.rsom.days * r.rsom.assigned_factor - 1e-9)
        for ci, c in enumerate(CAPABILITIES):
            s = short.sel(region=r.id, capability=c).to_numpy()
            cap_word = c.replace("_", " ")
            able = here & (power[:, ci] > 0)
            earliest = math.ceil(closure[able].min() - 1e-9) if able.any() else None
            # Most power any plan could bring there: each unit that can go, counted once.
            units_able = set(options.loc[able, "unit"].tolist())
            most = sum(getattr(scenario.units[u].power, c) for u in units_able)
            need = built.required.sel(region=r.id, capability=c).to_numpy()
            serving = np.flatnonzero(able & chosen)
            for start, end in _runs(s > SHORT_TOL):
                why: list[str] = []
                if earliest is None:
                    why.append(f"no unit with {cap_word} can reach {r.id}")
                elif start < earliest:
                    why.append(
                        f"route times: no unit with {cap_word} can count at {r.id} before day "
                        f"{earliest}"
                    )
                if start > 0 and need[start] > need[start - 1] + SHORT_TOL:
                    n = float(need[start])
                    why.append(
                        f"the need above the forces in place rises to {n:.3g} "
                        f"brigade{'' if n == 1 else 's'} on day {start}"
                    )
                peak_need = float(need[start : end + 1].max())
                if peak_need > most + SHORT_TOL:
                    why.append(
                        f"too few forces: the units that can reach {r.id} hold {most:.3g} "
                        f"brigades of {cap_word}, {peak_need:.3g} needed"
                    )
                for li, (load, kind) in enumerate(_LOAD_KIND.items()):
                    # phi has day -1 at index 0: day d is index d + 1.
                    first = max(start - lag, -1) + 1
                    open_ = [o for o in serving if phi[o, li, first] < 1.0 - SHORT_TOL]
                    days = [
                        int(d)
                        for d in rsom.loc[(rsom["kind"] == kind) & (rsom["region"] == r.id), "day"]
                        if d + lag <= end
                        and any(phi[o, li, d + 1] - phi[o, li, d] > SHORT_TOL for o in open_)
                    ]
                    if days:
                        prices = rsom.loc[
                            (rsom["kind"] == kind)
                            & (rsom["region"] == r.id)
                            & rsom["day"].isin(days),
                            "shadow_price",
                        ]
                        what = "tons" if load == "equipment" else "people"
                        why.append(
                            f"RSOM {what} at {r.id} full on {_days(days)} (one more "
                            f"{_LOAD_WORD[load]} a day is worth up to "
                            f"{_fmt(float(prices.abs().max()))})"
                        )
                if end < horizon:
                    rise = g[serving, end + 1] - g[serving, end]
                    if rise.size and rise.max() > SHORT_TOL:
                        o = serving[int(np.argmax(rise * power[serving, ci]))]
                        why.append(
                            f"met from day {end + 1}, as {options.loc[o, 'unit_id']} (at the "
                            f"reception on day {arrival[o]:.1f} without queues) comes through "
                            "RSOM"
                        )
                else:
                    why.append("still short at the horizon")
                if not why:
                    why.append(
                        f"the units with {cap_word} that could cover it are planned elsewhere"
                    )
                rows.append(
                    {
                        "region": r.id,
                        "capability": c,
                        "from_day": int(built.days[start]),
                        "to_day": int(built.days[end]),
                        "peak_shortfall": float(s[start : end + 1].max()),
                        "shortfall_bde_days": float(s[start : end + 1].sum()),
                        "stopped_by": "; ".join(why),
                    }
                )
    return pd.DataFrame(rows, columns=UNMET_COLUMNS)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, v in enumerate(mask):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(mask) - 1))
    return out


def _days(days: list[int]) -> str:
    """'day 4' or 'days 18-21, 43' from a list of days."""
    ds = sorted(set(int(d) for d in days))
    parts = []
    for a, b in _runs(np.isin(np.arange(ds[0], ds[-1] + 1), ds)):
        parts.append(f"{ds[0] + a}" if a == b else f"{ds[0] + a}-{ds[0] + b}")
    return ("day " if len(ds) == 1 else "days ") + ", ".join(parts)


#: The columns that name a binding row (a capacity or requirement on a day).
_ROW_KEY = ["kind", "region", "stock", "capability", "server", "day"]


def with_bde_day_prices(weighted: pd.DataFrame, plain: pd.DataFrame | None) -> pd.DataFrame:
    """``weighted`` (the bindings of the objective's LP) with ``price_bde_days``: each row's
    shadow price in the LP of the same fixed plan whose objective counts every brigade-day
    short alike (``plain``'s bindings, :attr:`Weights.plain`): how many brigade-days of
    shortfall one more unit of the row would save (negative) or add. 0 where the row does not
    bind in that LP; NaN for every row when it was not solved (``None``)."""
    if weighted.empty:
        return weighted
    out = weighted.drop(columns="price_bde_days")
    if plain is None:
        return out.assign(price_bde_days=np.nan)[BINDING_COLUMNS]
    prices = plain[[*_ROW_KEY, "shadow_price"]].rename(columns={"shadow_price": "price_bde_days"})
    merged = out.merge(prices, how="left", on=_ROW_KEY, validate="many_to_one")
    merged["price_bde_days"] = merged["price_bde_days"].fillna(0.0)
    # A stock's price is NaN with the choices fixed in both LPs: it stays NaN.
    merged.loc[merged["shadow_price"].isna(), "price_bde_days"] = np.nan
    cap = merged["kind"].isin(CAPACITY_KINDS) & merged["price_bde_days"].notna()
    merged.loc[cap, "meaning"] = [
        f"{text}; in brigade-days of shortfall: {_fmt(price)}"
        for text, price in zip(
            merged.loc[cap, "meaning"], merged.loc[cap, "price_bde_days"], strict=True
        )
    ]
    return merged[BINDING_COLUMNS]
