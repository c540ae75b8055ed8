"""The data behind the report's comparison of two runs: pure functions to tidy frames.

``forcemodel report A --compare B`` (or ``prepare(..., other=b)``) adds to the report of run A
a comparison with run B. Every number comes from :func:`forcemodel.assessment.compare`, the engine
behind ``forcemodel compare``, so the report and the terminal never disagree; this module only
orders, names and reshapes its tables for the two faces (HTML and PNG), and adds both runs'
power curves. Regions are matched by id: runs of different scenarios (the optimised plan written
back as a scenario, a change of posture) compare as well as two runs of one scenario, and a
region in only one run is kept and said to be so. Nothing here reads files, draws or prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from forcemodel.assessment.compare import Comparison
from forcemodel.report.data import CAPABILITY_LABELS, power_frame
from forcemodel.results import Results
from forcemodel.scenario.model import CAPABILITIES, Scenario

#: Titles of the comparison's figures, shared by the HTML report and the PNG figures.
COMPARE_TITLES = {
    "compare": "Comparison of two runs",
    "closure": "Closure day by region",
    "power": "Combat power of both runs vs requirement vs threat",
}
#: Line colours of run A and run B, shared by both faces.
RUN_COLOURS = ("#1f77b4", "#9467bd")


@dataclass(frozen=True)
class ComparisonData:
    """What the report shows of two runs side by side; drawn by ``html`` and ``figures``.

    The numbers are those of :class:`~forcemodel.assessment.Comparison` (differences are B − A).
    """

    #: the names of run A (the report's own run) and run B
    labels: tuple[str, str]
    #: True when both runs record the same scenario digest
    same_scenario: bool
    #: what to read before the numbers (different scenarios, horizons, warning days)
    notes: tuple[str, ...]
    #: one sentence: how many regions B closes earlier, on the same day, later than A
    summary: str
    #: every change of a closure day (per capability), shortfall or window, biggest first
    headline: tuple[str, ...]
    #: what differs from A's scenario to B's, with each changed element's use (Comparison)
    changes: pd.DataFrame
    #: label, scenario, scenario_digest, seed, horizon_days, warning_day, ... (one row per run)
    runs: pd.DataFrame
    #: region, name, in_a, in_b, then the columns of ``Comparison.regions``, worst change first
    regions: pd.DataFrame
    #: region, capability, closure_day_<A>, closure_day_<B>, closure_day_diff, closure, ...
    capabilities: pd.DataFrame
    #: region, capability, day, run, power, in_place, required, threat (both runs, long)
    power: pd.DataFrame
    #: region, capability, series, run, name, day, value: the lines of the power charts
    #: (series ``power``, ``required`` or ``threat``; B's requirement and threat only where
    #: they differ from A's, and then ``name`` says whose)
    lines: pd.DataFrame
    #: region, run, start, end: each run's window of vulnerability ([start, end) in days)
    vulnerable_spans: pd.DataFrame
    #: days shown on the charts: the longer of the two horizons
    horizon: int
    #: warning day of each run, in label order
    warning_days: tuple[float, float]
    #: tables to print, by caption, with readable column names
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def region_name(self, region: str) -> str:
        """Display name of a region (from run A's scenario; its id otherwise)."""
        names = dict(zip(self.regions["region"], self.regions["name"], strict=True))
        return str(names.get(region, region))

    def presence(self, region: str) -> str:
        """``""`` for a region in both runs, else ``"only in <label>"``."""
        row = self.regions.set_index("region").loc[region]
        la, lb = self.labels
        if bool(row["in_a"]) and bool(row["in_b"]):
            return ""
        return f"only in {la}" if bool(row["in_a"]) else f"only in {lb}"

    def region_title(self, region: str) -> str:
        """Title of a region's comparison power figure."""
        where = self.presence(region)
        extra = f" ({where})" if where else ""
        return f"{self.region_name(region)}{extra}: {COMPARE_TITLES['power'].lower()}"

    def closure(self) -> pd.DataFrame:
        """region, name, run, closure_day (missing: not closed), present: one row per run."""
        rows = []
        for side, label in zip(("a", "b"), self.labels, strict=True):
            for r in self.regions.to_dict("records"):
                day = r[f"closure_day_{label}"]
                rows.append(
                    {
                        "region": r["region"],
                        "name": r["name"],
                        "run": label,
                        "closure_day": None if pd.isna(day) else int(day),
                        "present": bool(r[f"in_{side}"]),
                    }
                )
        return pd.DataFrame(rows, columns=["region", "name", "run", "closure_day", "present"])


def prepare_comparison(
    comparison: Comparison, a: Results, b: Results, scenario: Scenario | None = None
) -> ComparisonData:
    """The comparison's report data from :func:`~forcemodel.assessment.compare` of ``a`` and ``b``.

    ``scenario`` (run A's) gives regions their display names and order; regions only in B
    follow in id order. The runs themselves give the power curves (``region_power``).
    """
    la, lb = comparison.labels
    regions = _ordered(comparison.regions, scenario)
    regions.insert(1, "name", [_name(scenario, r) for r in regions["region"]])
    # The outer join says which side a region is missing from.
    regions.insert(2, "in_a", regions["closure"] != f"region only in {lb}")
    regions.insert(3, "in_b", regions["closure"] != f"region only in {la}")
    order = {r: i for i, r in enumerate(regions["region"])}

    caps = comparison.capabilities.copy()
    caps["_o"] = caps["region"].map(order)
    caps["_c"] = caps["capability"].map({c: i for i, c in enumerate(CAPABILITIES)})
    caps = caps.sort_values(["_o", "_c"], kind="stable").drop(columns=["_o", "_c"])
    caps = caps.reset_index(drop=True)

    power = pd.concat(
        [power_frame(a).assign(run=la), power_frame(b).assign(run=lb)], ignore_index=True
    )
    power = power[["region", "capability", "day", "run", "power", "in_place", "required", "threat"]]

    lines = power_lines(power, (la, lb))
    meta_a, meta_b = a.meta, b.meta
    spans = pd.concat(
        [
            _spans(comparison.regions, la).assign(run=la),
            _spans(comparison.regions, lb).assign(run=lb),
        ],
        ignore_index=True,
    )[["region", "run", "start", "end"]]
    return ComparisonData(
        labels=(la, lb),
        same_scenario=comparison.same_scenario,
        notes=comparison.notes,
        summary=summary(comparison.regions, (la, lb)),
        headline=comparison.headline,
        changes=comparison.changes,
        runs=comparison.runs,
        regions=regions,
        capabilities=caps,
        power=power,
        lines=lines,
        vulnerable_spans=spans,
        horizon=max(int(meta_a["horizon_days"]), int(meta_b["horizon_days"])),
        warning_days=(float(meta_a["warning_day"]), float(meta_b["warning_day"])),
        tables=comparison_tables(comparison, regions, caps),
    )


def power_lines(power: pd.DataFrame, labels: tuple[str, str]) -> pd.DataFrame:
    """The lines of the comparison's power charts, from both runs' power frames (long).

    Per region and capability: each run's combat power; the requirement and the threat once
    when both runs have the same (the usual case: one plan against one threat), else each run's,
    named after it. A region or capability in only one run has only that run's lines.
    """
    la, lb = labels
    cols = ["region", "capability", "series", "run", "name", "day", "value"]
    frames = []
    for (reg, capability), g in power.groupby(["region", "capability"], sort=False):
        region, cap = str(reg), str(capability)
        runs = {label: g[g["run"] == label].sort_values("day") for label in labels}
        for label, r in runs.items():
            if len(r):
                frames.append(_line(r, region, cap, "power", label, f"combat power ({label})"))
        for series, word in (("required", "requirement"), ("threat", "threat")):
            ra, rb = runs[la], runs[lb]
            same = len(ra) > 0 and len(rb) > 0 and _steps(ra, series).equals(_steps(rb, series))
            for label, r in runs.items():
                if len(r) == 0 or (same and label == lb):
                    continue
                other = runs[lb if label == la else la]
                name = word if same or other.empty else f"{word} ({label})"
                frames.append(_line(r, region, cap, series, label, name))
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def _line(
    frame: pd.DataFrame, region: str, cap: str, series: str, run: str, name: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": region,
            "capability": cap,
            "series": series,
            "run": run,
            "name": name,
            "day": frame["day"].to_numpy(),
            "value": frame[series].to_numpy(dtype=float),
        }
    )


def _steps(frame: pd.DataFrame, column: str) -> pd.Series:
    """A curve by day, rounded so that float noise does not make two equal curves differ."""
    return pd.Series(frame[column].round(9).to_numpy(), index=frame["day"].to_numpy())


def summary(regions: pd.DataFrame, labels: tuple[str, str]) -> str:
    """One sentence on the closure days: how many regions B closes earlier, same, later than A.

    ``regions`` is :attr:`Comparison.regions`; a region that closes only in A counts as later in
    B, one that closes only in B as earlier.
    """
    la, lb = labels
    words = regions["closure"]
    both, earlier, same, later, neither = _closure_masks(regions, labels)
    n_both = int(both.sum())

    def count(n: int) -> str:
        return "none" if n == 0 else str(n)

    text = (
        f"Of {n_both} region{'s' if n_both != 1 else ''} in both runs, {lb} closes "
        f"{count(int(earlier.sum()))} earlier, {count(int(same.sum()))} on the same day and "
        f"{count(int(later.sum()))} later than {la}"
    )
    if later.any():
        text += f" (later: {', '.join(map(str, regions.loc[later, 'region']))})"
    if neither.any():
        text += f"; {int(neither.sum())} close in neither"
        text += f" ({', '.join(map(str, regions.loc[neither, 'region']))})"
    text += "."
    for label in labels:
        only = regions.loc[words == f"region only in {label}", "region"]
        if len(only):
            text += f" Only in {label}: {', '.join(map(str, only))}."
    if not later.any() and n_both:
        text += f" Every region in both runs closes in {lb} no later than in {la}."
    return text


def comparison_tables(
    comparison: Comparison, regions: pd.DataFrame, capabilities: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The comparison's tables to print, by caption, with readable column names.

    Values are the comparison's own (B − A in the difference columns); a vulnerability window
    reads ``from-until`` (the last vulnerable day), ``-`` when there is none.
    """
    la, lb = comparison.labels
    diff = f"{lb} − {la}"
    r = regions

    def window(label: str) -> list[str]:
        return [
            "-" if pd.isna(f) else f"{int(f)}-{int(u)}"
            for f, u in zip(
                r[f"vulnerable_from_{label}"], r[f"vulnerable_until_{label}"], strict=True
            )
        ]

    closure = pd.DataFrame(
        {
            "region": r["region"],
            "name": r["name"],
            f"closure day {la}": r[f"closure_day_{la}"],
            f"closure day {lb}": r[f"closure_day_{lb}"],
            diff: r["closure_day_diff"],
            "closure": r["closure"],
        }
    )
    shortfall = pd.DataFrame(
        {
            "region": r["region"],
            "name": r["name"],
            f"days short {la}": r[f"shortfall_days_{la}"],
            f"days short {lb}": r[f"shortfall_days_{lb}"],
            f"days {diff}": r["shortfall_days_diff"],
            f"brigade-days short {la}": r[f"shortfall_bde_days_{la}"],
            f"brigade-days short {lb}": r[f"shortfall_bde_days_{lb}"],
            f"brigade-days {diff}": r["shortfall_bde_days_diff"],
        }
    )
    vulnerable = pd.DataFrame(
        {
            "region": r["region"],
            "name": r["name"],
            f"vulnerable days {la}": r[f"vulnerable_days_{la}"],
            f"vulnerable days {lb}": r[f"vulnerable_days_{lb}"],
            f"days {diff}": r["vulnerable_days_diff"],
            f"window {la}": window(la),
            f"window {lb}": window(lb),
            f"max ratio {la}": r[f"max_ratio_{la}"],
            f"max ratio {lb}": r[f"max_ratio_{lb}"],
        }
    )
    c = capabilities
    caps = pd.DataFrame(
        {
            "region": c["region"],
            "capability": [CAPABILITY_LABELS.get(str(x), str(x)) for x in c["capability"]],
            f"closure day {la}": c[f"closure_day_{la}"],
            f"closure day {lb}": c[f"closure_day_{lb}"],
            diff: c["closure_day_diff"],
            "closure": c["closure"],
        }
    )
    alliance = comparison.alliance.rename(
        columns={
            f"troops_closed_{la}": f"troops closed {la}",
            f"troops_closed_{lb}": f"troops closed {lb}",
            "troops_closed_diff": diff,
        }
    )
    runs = comparison.runs.drop(columns=["scenario_digest"]).assign(
        digest=[str(d)[:12] if d else "-" for d in comparison.runs["scenario_digest"]]
    )
    return {
        "Closure day by region, in numbers (-: not reached)": closure,
        "Shortfall by region: days short, brigade-days short": shortfall,
        "Window of vulnerability by region: days the force ratio exceeds the threshold": (
            vulnerable
        ),
        "Closure day by region and capability": caps,
        "Troops closed in their region by day": alliance,
        "Runs compared": runs,
    }


def later_in_b(comparison: ComparisonData) -> pd.Series:
    """Per row of ``comparison.regions``: B closes later than A, or only A closes."""
    later = _closure_masks(comparison.regions, comparison.labels)[3]
    return later.reset_index(drop=True)


def _closure_masks(
    regions: pd.DataFrame, labels: tuple[str, str]
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.Series]:
    """Rows in both runs, and among them B earlier, same day, B later, closed in neither.

    Closing only in A counts as later in B; closing only in B as earlier.
    """
    la, lb = labels
    a, b = regions[f"closure_day_{la}"], regions[f"closure_day_{lb}"]
    both = ~regions["closure"].astype(str).str.startswith("region only in ")
    earlier = both & ((b < a).fillna(False) | (a.isna() & b.notna()))
    later = both & ((b > a).fillna(False) | (a.notna() & b.isna()))
    same = both & (b == a).fillna(False)
    neither = both & a.isna() & b.isna()
    return (
        both.astype(bool),
        earlier.astype(bool),
        same.astype(bool),
        later.astype(bool),
        neither.astype(bool),
    )


def _ordered(regions: pd.DataFrame, scenario: Scenario | None) -> pd.DataFrame:
    """Comparison rows worst change first: regions that close in A but not in B, then by how
    much later B closes, then by how much more B falls short; ties in the scenario's order."""
    order = {r.id: i for i, r in enumerate(scenario.regions)} if scenario is not None else {}
    a, b = (c for c in regions.columns if c.startswith("closure_day_") and c != "closure_day_diff")
    lost = regions[a].notna() & regions[b].isna()
    later = pd.to_numeric(regions["closure_day_diff"], errors="coerce").fillna(0.0)
    short = pd.to_numeric(regions["shortfall_bde_days_diff"], errors="coerce").fillna(0.0)
    out = regions.assign(
        _lost=lost.to_numpy(),
        _later=later.to_numpy(),
        _short=short.to_numpy(),
        _o=[order.get(r, len(order)) for r in regions["region"]],
    )
    out = out.sort_values(
        ["_lost", "_later", "_short", "_o", "region"],
        ascending=[False, False, False, True, True],
        kind="stable",
    ).drop(columns=["_lost", "_later", "_short", "_o"])
    return out.reset_index(drop=True)


def _name(scenario: Scenario | None, region: str) -> str:
    if scenario is None:
        return region
    names = {r.id: r.name or r.id for r in scenario.regions}
    return names.get(region, region)


def _spans(regions: pd.DataFrame, label: str) -> pd.DataFrame:
    """The window of vulnerability of each region in one run as a [start, end) interval.

    The comparison records each window as its first and last vulnerable day; days in between
    that are not vulnerable are not told apart (the vulnerable-day count says how many are).
    """
    rows = [
        {"region": region, "start": float(f), "end": float(u) + 1.0}
        for region, f, u in zip(
            regions["region"],
            regions[f"vulnerable_from_{label}"],
            regions[f"vulnerable_until_{label}"],
            strict=True,
        )
        if not pd.isna(f) and not pd.isna(u)
    ]
    return pd.DataFrame(rows, columns=["region", "start", "end"])
