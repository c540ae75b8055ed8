"""What a sweep's runs say together: percentile bands and what the figures are sensitive to.

Bands: P10, P50 and P90 of each figure per grid point and region. A region not closed by the
horizon counts as closing on the day after it (``horizon_days + 1``), so a P90 beyond the
horizon reads "in more than one run in ten, not closed"; ``closed_share`` says how many closed.

Sensitivity: Spearman's rank correlation (:func:`scipy.stats.spearmanr`) of each figure with
each input that varies across the runs (swept parameters with numeric values, drawn inputs),
with its p-value; rank correlation measures a monotone effect without assuming it linear.
On request (``--sensitivity sobol``), first-order Sobol indices too, estimated from the same
runs with SALib (:func:`sobol_indices`): the share of a figure's variance each input explains.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from forcemodel.sweep.figures import CAPABILITY_COLUMNS, FIGURES

#: The figures summarised and correlated (per region).
SUMMARY_FIGURES = ("closure_day", "shortfall_bde_days", "vulnerable_days", "max_ratio")
CLOSURE_COLUMNS = ("closure_day", *CAPABILITY_COLUMNS)


def censored(runs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Runs with closure days of regions not closed set to ``horizon + 1``."""
    out = runs.copy()
    for col in CLOSURE_COLUMNS:
        if col in out:
            out[col] = out[col].fillna(horizon + 1)
    return out


def summary(runs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """P10/P50/P90, mean and share closed of each figure, per grid point and region."""
    ok = runs[runs["error"].isna()]
    params = [c for c in runs.columns if c.startswith("p.")]
    cols = ["point", *params, "region", "figure", "runs", "p10", "p50", "p90", "mean"]
    if ok.empty:
        return pd.DataFrame(columns=[*cols, "closed_share"])
    data = censored(ok, horizon)
    rows = []
    for key, g in data.groupby(["point", "region"], sort=True):
        point, region = key
        closed = float((g["closure_day"] <= horizon).mean())
        head = {"point": int(str(point)), **{p: g[p].iloc[0] for p in params}, "region": region}
        for f in (*FIGURES, *CAPABILITY_COLUMNS):
            v = g[f].dropna().to_numpy(dtype=float)
            if v.size == 0:
                continue
            p10, p50, p90 = np.percentile(v, [10, 50, 90])
            rows.append(
                {
                    **head,
                    "figure": f,
                    "runs": int(v.size),
                    "p10": float(p10),
                    "p50": float(p50),
                    "p90": float(p90),
                    "mean": float(v.mean()),
                    "closed_share": closed,
                }
            )
    return pd.DataFrame(rows, columns=[*cols, "closed_share"])


def numeric_inputs(runs: pd.DataFrame) -> dict[str, pd.Series]:
    """Inputs that vary across runs, as numbers (swept values that are not numbers are left out)."""
    out: dict[str, pd.Series] = {}
    for c in runs.columns:
        if c.startswith("in."):
            s = runs[c].astype(float)
        elif c.startswith("p."):
            s = pd.to_numeric(runs[c].replace({"true": "1", "false": "0"}), errors="coerce").astype(
                float
            )
            if s.isna().any():
                continue
        else:
            continue
        if s.nunique(dropna=True) > 1:
            out[c] = s
    return out


def sensitivity(
    runs: pd.DataFrame, horizon: int, figures: tuple[str, ...] = SUMMARY_FIGURES
) -> pd.DataFrame:
    """Spearman's rho of each figure with each varying input, per region (and all regions)."""
    ok = censored(runs[runs["error"].isna()], horizon)
    cols = ["region", "figure", "input", "rho", "p_value", "runs"]
    rows = []
    for region, g in ok.groupby("region", sort=True):
        inputs = numeric_inputs(g)
        for f in figures:
            y = g[f].astype(float)
            for name, x in inputs.items():
                mask = x.notna() & y.notna()
                if mask.sum() < 3 or y[mask].nunique() < 2 or x[mask].nunique() < 2:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = spearmanr(x[mask], y[mask])
                rho, p = float(res.statistic), float(res.pvalue)
                if rho == rho:
                    rows.append(
                        {
                            "region": region,
                            "figure": f,
                            "input": name,
                            "rho": rho,
                            "p_value": p,
                            "runs": int(mask.sum()),
                        }
                    )
    frame = pd.DataFrame(rows, columns=cols)
    if frame.empty:
        return frame
    frame["abs"] = frame["rho"].abs()
    frame = frame.sort_values(["region", "figure", "abs"], ascending=[True, True, False])
    return frame.drop(columns="abs").reset_index(drop=True)


#: Sensitivity methods: Spearman's rank correlation (always), first-order Sobol indices.
SENSITIVITY_METHODS = ("spearman", "sobol")
#: Fewer runs per region than this give no Sobol estimate worth the name (RBD-FAST's
#: harmonics, M = 10, need several times 2M + 1 points).
SOBOL_MIN_RUNS = 50


def sobol_indices(
    runs: pd.DataFrame,
    horizon: int,
    figures: tuple[str, ...] = SUMMARY_FIGURES,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order Sobol indices (S1) of each figure for each varying input, per region.

    Estimated from the sweep's own runs, whatever drew them, by RBD-FAST (Tarantola et al.
    2006; Plischke 2010, with its bias correction) in SALib (``SALib.analyze.rbd_fast``),
    which accepts any sample of independent inputs; ``S1_conf`` is its bootstrap 95 %
    interval half-width (seeded by ``seed``). A region with fewer than
    :data:`SOBOL_MIN_RUNS` successful runs gets no row.
    """
    from SALib.analyze import rbd_fast

    ok = censored(runs[runs["error"].isna()], horizon)
    cols = ["region", "figure", "input", "S1", "S1_conf", "runs"]
    rows = []
    for region, g in ok.groupby("region", sort=True):
        inputs = numeric_inputs(g)
        if not inputs:
            continue
        names = list(inputs)
        x = pd.DataFrame(inputs)
        for f in figures:
            y = g[f].astype(float)
            mask = x.notna().all(axis=1) & y.notna()
            if mask.sum() < SOBOL_MIN_RUNS or y[mask].nunique() < 2:
                continue
            xs = x[mask].to_numpy(dtype=float)
            problem = {
                "num_vars": len(names),
                "names": names,
                "bounds": [[float(c.min()), float(c.max())] for c in xs.T],
            }
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = rbd_fast.analyze(problem, xs, y[mask].to_numpy(dtype=float), seed=seed)
            for name, s1, conf in zip(names, res["S1"], res["S1_conf"], strict=True):
                if s1 == s1:
                    rows.append(
                        {
                            "region": region,
                            "figure": f,
                            "input": name,
                            "S1": float(s1),
                            "S1_conf": float(conf),
                            "runs": int(mask.sum()),
                        }
                    )
    frame = pd.DataFrame(rows, columns=cols)
    if frame.empty:
        return frame
    frame = frame.sort_values(["region", "figure", "S1"], ascending=[True, True, False])
    return frame.reset_index(drop=True)


# The numbers behind the sweep's charts, shared by its PNG files (:mod:`.plots`) and the HTML
# report's sweep section (:mod:`forcemodel.report.sweep_section`): one source for each.


def fan_bands(runs: pd.DataFrame) -> pd.DataFrame:
    """Land power by day per region over the successful runs: P10, P50, P90 and the
    requirement (of the first run: the plan does not vary between draws)."""
    ok = runs[runs["error"].isna()]
    cols = ["region", "day", "p10", "p50", "p90", "required"]
    frames = []
    for region in sorted(ok["region"].dropna().unique()):
        g = ok[ok["region"] == region]
        power = np.array([np.asarray(v, dtype=float) for v in g["land_power"]])
        if power.size == 0:
            continue
        p10, p50, p90 = np.percentile(power, [10, 50, 90], axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "region": region,
                    "day": np.arange(power.shape[1]),
                    "p10": p10,
                    "p50": p50,
                    "p90": p90,
                    "required": np.asarray(g["land_required"].iloc[0], dtype=float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def latest_region(runs: pd.DataFrame, horizon: int) -> str | None:
    """The region that closes latest by median (whose drivers matter most), if any ran."""
    ok = runs[runs["error"].isna()]
    if ok.empty:
        return None
    return str(censored(ok, horizon).groupby("region")["closure_day"].median().idxmax())


def tornado_rows(
    sens: pd.DataFrame, region: str, figure: str = "closure_day", top: int = 10
) -> pd.DataFrame:
    """The ``top`` inputs that move a region's figure most (|rho| largest first)."""
    mine = sens[(sens["figure"] == figure) & (sens["region"] == region)].copy()
    if mine.empty:
        return mine
    mine["abs"] = mine["rho"].abs()
    best = mine.sort_values(["abs", "input"], ascending=[False, True]).drop_duplicates("input")
    return best.head(top).drop(columns="abs").reset_index(drop=True)


def input_label(name: str) -> str:
    """An input column's name as a chart shows it (``in.``/``p.`` prefixes dropped)."""
    return name.removeprefix("in.").removeprefix("p.")
