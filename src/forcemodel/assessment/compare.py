"""compare: two runs side by side, e.g. today's posture against the optimised one.

Usage, from the command line::

    forcemodel simulate eastern-flank --out today
    forcemodel simulate my-posture/ --out plan      # e.g. two more brigade sets in Poland
    forcemodel compare today plan                   # tables; labels are the folder names
    forcemodel compare today plan --labels now,planned --format json
    forcemodel compare today plan --out compare.csv # also save the per-region table (or .json)
    forcemodel report today --compare plan --out report.html   # both runs in the HTML report

The terminal shows closure day, shortfall and the window of vulnerability per region, closure
day per region and capability, and troops closed in their region by day 10, 30 and 180;
``--format json`` prints every table in full. A missing or unreadable results folder exits 2.

From Python::

    from forcemodel import Results
    from forcemodel.assessment.compare import compare

    c = compare(Results.load("today"), Results.load("plan"), labels=("today", "plan"))
    c.regions[["region", "closure_day_today", "closure_day_plan", "closure_day_diff"]]

Every compared quantity ``q`` has a column ``q_<label A>``, a column ``q_<label B>`` and, where a
difference means something, ``q_diff`` = B − A (so a negative closure-day difference means B closes
earlier). A value that does not exist on one side (a region that never closes, a region that is
in only one of the runs) is empty (``<NA>``/NaN), and so is the difference; the ``closure`` column
says in words what happened ("closes only in B", "region only in A", "B 3 days earlier").

Comparing runs of different scenarios is the normal case (that is what a change of posture is):
:attr:`Comparison.same_scenario` and :attr:`Comparison.notes` say whether the two runs come from
the same scenario (by the digest recorded in their metadata) and what else differs between them.
Pure computation over two :class:`~forcemodel.results.Results`: it reads no file, prints nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import pandas as pd

from forcemodel.assessment.assess import assess, tier_days, tier_table
from forcemodel.assessment.changes import CHANGE_COLUMNS, headline, scenario_changes
from forcemodel.results import Results

#: Days by which the alliance-wide troops closed in their region are compared.
DEFAULT_DAYS: tuple[int, ...] = (10, 30, 180)

#: Region columns of the assessment, with the dtype they are compared in.
_REGION_COLUMNS: dict[str, str] = {
    "closure_day": "Int64",
    "shortfall_days": "Int64",
    "shortfall_bde_days": "float64",
    "vulnerable_days": "Int64",
    "vulnerable_from": "Int64",
    "vulnerable_until": "Int64",
    "max_ratio": "float64",
}
#: Region columns that get a difference column (B − A).
_REGION_DIFFS = ("closure_day", "shortfall_days", "shortfall_bde_days", "vulnerable_days")

_CAPABILITY_COLUMNS: dict[str, str] = {
    "closure_day": "Int64",
    "shortfall_days": "Int64",
    "shortfall_bde_days": "float64",
}
_CAPABILITY_DIFFS = ("closure_day", "shortfall_days", "shortfall_bde_days")


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: tidy tables with one column per run and one for the difference.

    Attributes:
        labels: the names of the two runs, as used in the column names (``closure_day_<label>``).
        same_scenario: True when both runs record the same scenario digest.
        notes: what to know before reading the numbers (same or different scenarios, different
            horizons or warning days).
        runs: one row per run: label, scenario, digest, seed, horizon, warning day, version.
        regions: per region: closure day, shortfall-days, shortfall brigade-days, vulnerable
            days and window, maximum force ratio; ``closure`` says the change in words.
        capabilities: per region and capability: closure day and shortfall.
        alliance: per day (10, 30, 180 by default): troops closed in their region, all tiers.
        tiers: per readiness tier and day: troops closed in their region.
        changes: what differs from A's scenario to B's, field by field (path, change, a, b),
            with each changed node's, link's or lift pool's use in both runs and a note when
            it carried nothing in either (:mod:`forcemodel.assessment.changes`).
        headline: every change of a closure day (per region and capability), of shortfall and
            of the window of vulnerability, in words, biggest first.
    """

    labels: tuple[str, str]
    same_scenario: bool
    notes: tuple[str, ...]
    runs: pd.DataFrame
    regions: pd.DataFrame
    capabilities: pd.DataFrame
    alliance: pd.DataFrame
    tiers: pd.DataFrame
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))
    headline: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        """A short view for Jupyter: notes, headline, what changed and the regions."""
        from forcemodel.scenario.display import html_view

        la, lb = self.labels
        shown = {"changes": self.changes, "regions": self.regions}
        lines = [*self.notes, "Headline:", *self.headline]
        return html_view(f"Comparison of {la} and {lb} (diff: {lb} - {la})", lines, shown)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in the order they are best read."""
        return {
            "changes": self.changes,
            "runs": self.runs,
            "regions": self.regions,
            "capabilities": self.capabilities,
            "alliance": self.alliance,
            "tiers": self.tiers,
        }


def compare(
    a: Results,
    b: Results,
    labels: Sequence[str] = ("A", "B"),
    days: tuple[int, ...] = DEFAULT_DAYS,
) -> Comparison:
    """Compare run ``a`` with run ``b``; every difference is B − A.

    ``labels`` name the two runs in the column names and the wording; they must be two different,
    non-empty strings, neither of them ``"diff"``. Raises :class:`ValueError` otherwise.
    """
    la, lb = check_labels(labels)
    ass_a, ass_b = assess(a), assess(b)

    regions = _side_by_side(
        _typed(ass_a.regions, ["region"], _REGION_COLUMNS),
        _typed(ass_b.regions, ["region"], _REGION_COLUMNS),
        ["region"],
        list(_REGION_COLUMNS),
        _REGION_DIFFS,
        (la, lb),
    )
    capabilities = _side_by_side(
        _typed(ass_a.capabilities, ["region", "capability"], _CAPABILITY_COLUMNS),
        _typed(ass_b.capabilities, ["region", "capability"], _CAPABILITY_COLUMNS),
        ["region", "capability"],
        list(_CAPABILITY_COLUMNS),
        _CAPABILITY_DIFFS,
        (la, lb),
    )
    tiers = _tiers(a, b, days, (la, lb))
    alliance = (
        tiers.groupby("day", sort=True)[[f"troops_closed_{la}", f"troops_closed_{lb}"]]
        .sum()
        .reset_index()
    )
    alliance = alliance.astype({"day": "int64"})
    alliance["troops_closed_diff"] = (
        alliance[f"troops_closed_{lb}"] - alliance[f"troops_closed_{la}"]
    )
    # Days with no tier at all (no units, no targets) still get their row.
    if alliance.empty:
        alliance = pd.DataFrame(
            {
                "day": list(days),
                f"troops_closed_{la}": 0,
                f"troops_closed_{lb}": 0,
                "troops_closed_diff": 0,
            }
        )

    same, notes = _notes(a.meta, b.meta, (la, lb))
    runs = pd.DataFrame(
        [_run_row(la, a.meta), _run_row(lb, b.meta)],
        columns=[
            "label",
            "scenario",
            "scenario_digest",
            "seed",
            "horizon_days",
            "warning_day",
            "ratio_threshold",
            "forcemodel_version",
        ],
    )
    return Comparison(
        labels=(la, lb),
        same_scenario=same,
        notes=notes,
        runs=runs,
        regions=regions,
        capabilities=capabilities,
        alliance=alliance,
        tiers=tiers,
        changes=scenario_changes(a, b),
        headline=headline(regions, capabilities, (la, lb)),
    )


def check_labels(labels: Sequence[str]) -> tuple[str, str]:
    """The two labels as a checked pair.

    Raises :class:`ValueError` unless they are two different, non-empty strings other than
    ``"diff"`` (which names the difference columns).
    """
    if isinstance(labels, str) or len(labels) != 2:
        raise ValueError(f"two labels are needed, one per run, not {labels!r}")
    la, lb = (str(x) for x in labels)
    if not la or not lb:
        raise ValueError("a label cannot be empty")
    if la == lb:
        raise ValueError(f"the two labels must differ (both are {la!r})")
    if "diff" in (la, lb):
        raise ValueError("'diff' cannot be a label: it names the difference columns")
    return la, lb


def default_labels(a: str | PurePath, b: str | PurePath) -> tuple[str, str]:
    """Labels for two runs named by their folders: the folder names, else the paths as given.

    Falls back to ``("A", "B")`` when neither pair makes two valid labels (the same folder
    twice). Only the names are looked at; nothing is read.
    """
    pa, pb = Path(a), Path(b)
    for pair in ((pa.absolute().name, pb.absolute().name), (str(a), str(b))):
        try:
            return check_labels(pair)
        except ValueError:
            continue
    return ("A", "B")


def _typed(frame: pd.DataFrame, keys: list[str], columns: dict[str, str]) -> pd.DataFrame:
    """The key and value columns of an assessment table, in comparable dtypes.

    Integer quantities that may be missing (a region that never closes) become nullable ``Int64``.
    """
    out = frame.reindex(columns=[*keys, *columns]).copy()
    for key in keys:
        out[key] = out[key].astype(object)
    for col in columns:
        out[col] = pd.to_numeric(out[col].astype(object), errors="raise")
    return out.astype(columns)


def _side_by_side(
    fa: pd.DataFrame,
    fb: pd.DataFrame,
    keys: list[str],
    values: list[str],
    diffs: tuple[str, ...],
    labels: tuple[str, str],
) -> pd.DataFrame:
    """Outer join of two tables on ``keys``: ``q_A``, ``q_B``, ``q_diff``; ``closure`` in words."""
    la, lb = labels
    merged = pd.merge(
        fa, fb, how="outer", on=keys, suffixes=(f"_{la}", f"_{lb}"), indicator=True, sort=True
    )
    columns: list[str] = list(keys)
    for q in values:
        ca, cb = f"{q}_{la}", f"{q}_{lb}"
        columns += [ca, cb]
        if q in diffs:
            merged[f"{q}_diff"] = merged[cb] - merged[ca]
            columns.append(f"{q}_diff")
        if q == "closure_day":
            merged["closure"] = [
                _closure_words(side, x, y, labels)
                for side, x, y in zip(merged["_merge"], merged[ca], merged[cb], strict=True)
            ]
            columns.append("closure")
    return merged[columns].reset_index(drop=True)


def _closure_words(side: str, day_a: Any, day_b: Any, labels: tuple[str, str]) -> str:
    """What happened to the closure day, in words."""
    la, lb = labels
    if side == "left_only":
        return f"region only in {la}"
    if side == "right_only":
        return f"region only in {lb}"
    if pd.isna(day_a) and pd.isna(day_b):
        return "closes in neither"
    if pd.isna(day_a):
        return f"closes only in {lb}"
    if pd.isna(day_b):
        return f"closes only in {la}"
    d = int(day_b) - int(day_a)
    if d == 0:
        return "same day"
    n = abs(d)
    return f"{lb} {n} day{'s' if n != 1 else ''} {'earlier' if d < 0 else 'later'}"


def _tiers(a: Results, b: Results, days: tuple[int, ...], labels: tuple[str, str]) -> pd.DataFrame:
    """Per tier and day: troops closed in their region in each run (0 for a tier a run lacks)."""
    la, lb = labels

    def long(results: Results, label: str) -> pd.DataFrame:
        t = tier_table(results, days)
        counted = tier_days(results, days)  # a run knows nothing past its horizon
        rows = [
            {
                "tier": int(row["tier"]),
                "day": int(d),
                f"troops_closed_{label}": row[f"closed_by_{d}"],
            }
            for _, row in t.iterrows()
            for d in counted
        ]
        return pd.DataFrame(rows, columns=["tier", "day", f"troops_closed_{label}"])

    merged = pd.merge(long(a, la), long(b, lb), how="outer", on=["tier", "day"], sort=True)
    for label in labels:
        merged[f"troops_closed_{label}"] = (
            merged[f"troops_closed_{label}"].fillna(0).astype("int64")
        )
    merged = merged.astype({"tier": "int64", "day": "int64"})
    merged["troops_closed_diff"] = merged[f"troops_closed_{lb}"] - merged[f"troops_closed_{la}"]
    return merged.reset_index(drop=True)


def _run_row(label: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": label,
        "scenario": meta.get("scenario"),
        "scenario_digest": meta.get("scenario_digest"),
        "seed": meta.get("seed"),
        "horizon_days": meta.get("horizon_days"),
        "warning_day": meta.get("warning_day"),
        "ratio_threshold": meta.get("ratio_threshold"),
        "forcemodel_version": meta.get("forcemodel_version"),
    }


def _notes(
    ma: dict[str, Any], mb: dict[str, Any], labels: tuple[str, str]
) -> tuple[bool, tuple[str, ...]]:
    """Whether the runs share their scenario, and what a reader should know first."""
    la, lb = labels
    da, db = ma.get("scenario_digest"), mb.get("scenario_digest")
    notes: list[str] = []

    def name(meta: dict[str, Any], digest: Any) -> str:
        return f"{meta.get('scenario', '?')} (digest {str(digest)[:10]})"

    if not da or not db:
        same = False
        missing = " and ".join(lab for lab, d in ((la, da), (lb, db)) if not d)
        notes.append(
            f"no scenario digest recorded in {missing}: "
            "cannot tell whether the runs come from the same scenario"
        )
    elif da == db:
        same = True
        what = f"same scenario: {name(ma, da)}"
        if ma.get("seed") == mb.get("seed") and ma.get("forcemodel_version") == mb.get(
            "forcemodel_version"
        ):
            notes.append(f"{what}, same seed and version: the runs should be identical")
        else:
            notes.append(f"{what}: differences come from the seed or the forcemodel version")
    else:
        same = False
        notes.append(
            f"different scenarios: {la} is {name(ma, da)}, {lb} is {name(mb, db)}; "
            "the differences show the effect of what changed between them"
        )
    for key, words, why in (
        ("horizon_days", "horizons", "shortfall and vulnerable days count over different spans"),
        ("warning_day", "warning days", "force ratios and windows start on different days"),
        ("ratio_threshold", "ratio thresholds", "vulnerability is judged differently"),
    ):
        if ma.get(key) != mb.get(key):
            notes.append(f"{words} differ ({ma.get(key)} in {la}, {mb.get(key)} in {lb}): {why}")
    return same, tuple(notes)
