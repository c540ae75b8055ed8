"""assess: what the results mean for each region and for the alliance.

Per region: closure day (first day every requirement is met and stays met), shortfall-days per
capability, force ratio against the threat after the warning day, the window of vulnerability
(days on which the attacker's ratio exceeds the threshold). Alliance-wide: troops by readiness
tier ready to move and closed in their region by each tier's day, against the force model; the
worst bottlenecks. Pure computation over :class:`~forcemodel.results.Results`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forcemodel.results import SHORT_EPS, Results, closure_day

#: A server counts as at capacity on a day when it is at least this busy.
AT_CAPACITY = 0.999


@dataclass(frozen=True)
class Assessment:
    """The assessment tables of one run."""

    regions: pd.DataFrame
    capabilities: pd.DataFrame
    force_ratio: pd.DataFrame
    tiers: pd.DataFrame
    bottlenecks: pd.DataFrame

    def _repr_html_(self) -> str:
        """A short view for Jupyter: regions, tiers and the worst bottlenecks."""
        from forcemodel.scenario.display import html_view

        tables = {"regions": self.regions, "tiers": self.tiers, "bottlenecks": self.bottlenecks}
        return html_view("Assessment", [], tables)


def capability_table(results: Results) -> pd.DataFrame:
    """Per region and capability with a requirement: closure day and shortfall-days."""
    rows = []
    sf = results.shortfall
    for (region, cap), g in sf.groupby(["region", "capability"], sort=True):
        g = g.sort_values("day")
        short = g["shortfall"].to_numpy()
        unmet = g["day"].to_numpy()[short > SHORT_EPS]
        closed = closure_day(unmet, int(results.meta["horizon_days"]))
        rows.append(
            {
                "region": region,
                "capability": cap,
                "closure_day": closed,
                "shortfall_days": int((short > SHORT_EPS).sum()),
                "shortfall_bde_days": float(short.sum()),
                "max_shortfall": float(short.max()) if short.size else 0.0,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "region",
            "capability",
            "closure_day",
            "shortfall_days",
            "shortfall_bde_days",
            "max_shortfall",
        ],
    )


def force_ratio_table(results: Results, capability: str = "land") -> pd.DataFrame:
    """Attacker:defender ratio per region and day from the warning day on."""
    rp = results.region_power
    w = float(results.meta["warning_day"])
    g = rp[(rp["capability"] == capability) & (rp["day"] >= w)].copy()
    power = g["power"].to_numpy()
    threat = g["threat"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            threat > 0, np.where(power > 0, threat / np.where(power > 0, power, 1), np.inf), 0.0
        )
    g["ratio"] = ratio
    g["vulnerable"] = ratio > float(results.meta["ratio_threshold"])
    return g[["day", "region", "power", "threat", "ratio", "vulnerable"]].reset_index(drop=True)


def region_table(results: Results, caps: pd.DataFrame, ratios: pd.DataFrame) -> pd.DataFrame:
    """Per region: closure day over all its requirements, shortfall, vulnerability window."""
    rows = []
    regions = sorted(set(results.region_power["region"]))
    for region in regions:
        mine = caps[caps["region"] == region]
        days = mine["closure_day"].tolist()
        closure = None if any(d is None or pd.isna(d) for d in days) else max(days, default=0)
        r = ratios[ratios["region"] == region]
        vul = r[r["vulnerable"]]["day"].to_numpy()
        rows.append(
            {
                "region": region,
                "closure_day": closure,
                "shortfall_days": int(mine["shortfall_days"].max()) if len(mine) else 0,
                "shortfall_bde_days": float(mine["shortfall_bde_days"].sum()),
                "vulnerable_days": int(vul.size),
                "vulnerable_from": int(vul.min()) if vul.size else None,
                "vulnerable_until": int(vul.max()) if vul.size else None,
                "max_ratio": float(r["ratio"].max()) if len(r) else 0.0,
            }
        )
    return pd.DataFrame(rows)


def tier_table(results: Results, days: tuple[int, ...] = (10, 30, 180)) -> pd.DataFrame:
    """Troops by readiness tier ready to move and closed in region by each day, vs targets.

    Only days within the run's horizon are counted (nothing is known of day 180 in a 60-day
    run); when some are past it, the horizon itself is counted instead.
    """
    days = tier_days(results, days)
    units = results.units
    targets = {t["tier"]: t for t in results.meta.get("tiers", [])}
    rows = []
    for tier in sorted(set(units["tier"]) | set(targets)):
        mine = units[units["tier"] == tier]
        t = targets.get(tier, {})
        row: dict[str, object] = {
            "tier": int(tier),
            "troops": int(mine["personnel"].sum()),
            "target_troops": t.get("target_troops"),
            "target_day": t.get("by_day"),
        }
        for d in days:
            row[f"ready_by_{d}"] = int(mine.loc[mine["ready_day"] <= d, "personnel"].sum())
            row[f"closed_by_{d}"] = int(mine.loc[mine["closure_day"] <= d, "personnel"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def tier_days(results: Results, days: tuple[int, ...]) -> tuple[int, ...]:
    """``days`` within the horizon, and the horizon when some were past it."""
    horizon = int(results.meta["horizon_days"])
    kept = tuple(d for d in days if d <= horizon)
    return (*kept, horizon) if len(kept) < len(days) and horizon not in kept else kept


def bottleneck_table(results: Results, n: int = 10) -> pd.DataFrame:
    """The ``n`` servers (links, nodes, pools, RSOM) with the most days at capacity."""
    frames = []
    for kind in ("link_load", "node_load", "pool_load", "rsom_load"):
        t = results.tables[kind]
        if len(t):
            frames.append(t.assign(kind=kind.removesuffix("_load")))
    cols = ["server", "kind", "target", "days_at_capacity", "first_day", "mean_utilisation"]
    if not frames:
        return pd.DataFrame(columns=cols)
    loads = pd.concat(frames, ignore_index=True)
    loads["full"] = loads["utilisation"] >= AT_CAPACITY
    keys = ["server", "kind", "target"]
    g = loads.groupby(keys, sort=True)
    out = pd.DataFrame(
        {
            "days_at_capacity": g["full"].sum().astype(int),
            "first_day": loads[loads["full"]].groupby(keys)["day"].min().astype("Int64"),
            "mean_utilisation": g["utilisation"].mean(),
        }
    ).reset_index()
    out = out[out["days_at_capacity"] > 0]
    out = out.sort_values(["days_at_capacity", "server"], ascending=[False, True], kind="stable")
    return out.head(n)[cols].reset_index(drop=True)


def assess(results: Results) -> Assessment:
    """All assessment tables of one run."""
    caps = capability_table(results)
    ratios = force_ratio_table(results)
    return Assessment(
        regions=region_table(results, caps, ratios),
        capabilities=caps,
        force_ratio=ratios,
        tiers=tier_table(results),
        bottlenecks=bottleneck_table(results),
    )
