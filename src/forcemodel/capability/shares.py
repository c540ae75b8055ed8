"""Fair shares: each ally's weight (GDP, population, defence budget or a blend) and the
continuous apportionment of a requirement under floors and caps ("water-filling").

The rule (docs/capability.md, "Apportionment"): ally *a* with weight *w_a* gets
``t_a = clamp(λ · w_a · R, lo_a, hi_a)``, with the one λ for which the targets sum to the
requirement *R*. Without bounds that is ``w_a · R``; a capped ally's excess goes to the others
in proportion to their weights, as NATO's defence planning apportions "on the basis of a fair
share of the overall requirement".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forcemodel.capability.errors import CapabilityInputError, Issue
from forcemodel.capability.model import CapabilityFile

#: Columns of :func:`figures`.
FIGURE_COLUMNS = (
    "ally",
    "gdp_busd",
    "gdp_const_busd",
    "population_m",
    "expenditure_musd",
    "expenditure_const_musd",
    "budget_musd",
    "share_gdp_pct",
    "equipment_share_pct",
    "source",
)

#: The figure each share rule is proportional to (a column of :func:`figures`).
RULE_COLUMN = {"gdp": "gdp_busd", "population": "population_m", "budget": "budget_musd"}


def figures(
    spending: pd.DataFrame,
    plan: CapabilityFile,
    year: int,
    economy: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each ally's figures for ``year``: the bundled tables, overridden by the file's figures.

    GDP and population come from the bundled economy table (World Bank, docs/capability.md,
    "Bundled data"); the defence budget a ``budget`` rule weighs is the expenditure at 2015
    prices (comparable across allies and years), or the file's own ``expenditure_musd`` for an
    ally it gives no ``expenditure_const_musd``. A file figure with expenditure and share but
    no GDP gives the GDP they imply.
    """
    rows = spending[spending["year"] == year].drop(columns=["year"])
    if economy is not None:
        eco = economy[economy["year"] == year].drop(columns=["year", "source"])
        rows = rows.merge(eco, on="ally", how="outer")
    for col in FIGURE_COLUMNS[1:-1]:
        if col not in rows:
            rows[col] = np.nan
    rows["budget_musd"] = rows["expenditure_const_musd"]
    rows["source"] = rows["source"].fillna("") if "source" in rows else ""
    out = rows[list(FIGURE_COLUMNS)].set_index("ally")
    for f in plan.figures:
        if f.year != year:
            continue
        if f.ally not in out.index:
            out.loc[f.ally] = [np.nan] * (len(FIGURE_COLUMNS) - 2) + [""]
        for col in FIGURE_COLUMNS[1:-1]:
            value = getattr(f, col, None)
            if value is not None:
                out.loc[f.ally, col] = value
        if f.expenditure_const_musd is not None:
            out.loc[f.ally, "budget_musd"] = f.expenditure_const_musd
        elif f.expenditure_musd is not None:
            out.loc[f.ally, "budget_musd"] = f.expenditure_musd
        if f.expenditure_musd is not None and f.share_gdp_pct and f.gdp_busd is None:
            out.loc[f.ally, "gdp_busd"] = f.expenditure_musd / f.share_gdp_pct * 100 / 1000
        out.loc[f.ally, "source"] = f.source
    return out.reset_index()


def weights(
    figs: pd.DataFrame, allies: Sequence[str], plan: CapabilityFile, year: int
) -> pd.Series:
    """Each ally's share of the total (sums to 1) under the plan's rule.

    An ally without the figure the rule needs for ``year`` is an error that names it.
    """
    rule = plan.share.rule
    mix = dict(plan.share.blend or {}) if rule == "blend" else {rule: 1.0}
    table = figs.set_index("ally")
    issues: list[Issue] = []
    total = pd.Series(0.0, index=list(allies))
    for what, w in mix.items():
        if w == 0:
            continue
        col = RULE_COLUMN[what]
        values = table[col].reindex(list(allies)) if col in table else pd.Series(dtype=float)
        missing = [a for a in allies if not (a in values.index and np.isfinite(float(values[a])))]
        for a in missing:
            issues.append(
                Issue(
                    ("allies",),
                    f"ally {a} has no {what} figure for {year} (the share rule '{rule}' needs "
                    f"it): add one under figures, or leave {a} out of allies",
                )
            )
        if missing:
            continue
        s = float(values.sum())
        if s <= 0:
            issues.append(Issue(("share",), f"the allies' {what} figures for {year} sum to 0"))
            continue
        total += w * values / s
    if issues:
        raise CapabilityInputError(issues)
    return total / float(total.sum())


def water_fill(requirement: float, w: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Targets ``clamp(λ w R, lo, hi)`` summing to ``requirement`` (bounds assumed feasible:
    ``lo <= hi`` and ``sum(lo) <= R <= sum(hi)``; see :func:`bound_issues`)."""
    r = float(requirement)
    w = np.asarray(w, dtype=float)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if r <= 0:
        return lo.copy()
    base = w * r

    def total(lam: float) -> float:
        return float(np.clip(lam * base, lo, hi).sum())

    # total(λ) is continuous and non-decreasing: bisect for λ, then solve the free allies'
    # share exactly so that the targets sum to R to the last bit that floats allow.
    a, b = 0.0, 1.0
    while total(b) < r and b < 1e12:
        b *= 2.0
    for _ in range(200):
        m = 0.5 * (a + b)
        if total(m) < r:
            a = m
        else:
            b = m
    lam = b
    t = np.clip(lam * base, lo, hi)
    free = (lam * base > lo) & (lam * base < hi)
    if free.any() and base[free].sum() > 0:
        rest = r - t[~free].sum()
        t[free] = np.clip(rest * base[free] / base[free].sum(), lo[free], hi[free])
    return t


def bound_issues(
    capability: str,
    requirement: float,
    allies: Sequence[str],
    lo: np.ndarray,
    hi: np.ndarray,
    lo_from: Sequence[tuple[str | int, ...]],
    hi_from: Sequence[tuple[str | int, ...]],
    step: float | None = None,
) -> list[Issue]:
    """Why floors and caps admit no targets for one capability, naming ally and bound.

    ``lo_from``/``hi_from``: the field each ally's floor and cap came from. With ``step``,
    floors round up and caps down to whole steps and the requirement rounds up.
    """
    issues: list[Issue] = []
    lo_e, hi_e, req = np.asarray(lo, float), np.asarray(hi, float), float(requirement)
    if step:
        lo_e = np.ceil(lo_e / step - 1e-9) * step
        hi_e = np.floor(hi_e / step + 1e-9) * step
        req = float(np.ceil(req / step - 1e-9) * step)
    for i, a in enumerate(allies):
        if lo_e[i] > hi_e[i] + 1e-9:
            whole = f" in whole steps of {step:g}" if step else ""
            issues.append(
                Issue(
                    lo_from[i],
                    f"{capability}: the floor of {a} ({lo[i]:g}) is above its cap ({hi[i]:g}, "
                    f"set by {'.'.join(map(str, hi_from[i]))}){whole}",
                )
            )
    if issues:
        return issues
    if lo_e.sum() > req + 1e-9:
        named = ", ".join(f"{a} {lo_e[i]:g}" for i, a in enumerate(allies) if lo_e[i] > 0)
        first = next(i for i in range(len(allies)) if lo_e[i] > 0)
        issues.append(
            Issue(
                lo_from[first],
                f"{capability}: floors sum to {lo_e.sum():g}, more than the requirement "
                f"{req:g} ({named}): lower them",
            )
        )
    if hi_e.sum() < req - 1e-9:
        named = ", ".join(f"{a} {hi_e[i]:g}" for i, a in enumerate(allies))
        issues.append(
            Issue(
                hi_from[int(np.argmin(hi_e))],
                f"{capability}: caps allow at most {hi_e.sum():g} of the requirement {req:g} "
                f"({named}): raise cap_share or the caps, or add allies",
            )
        )
    return issues
