"""Charts of a sweep (matplotlib, PNG): fan charts, the window of vulnerability, a tornado.

Drawn from a sweep folder's tables only; nothing is simulated here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.sweep.aggregate import censored, fan_bands, input_label, latest_region, tornado_rows
from forcemodel.sweep.store import read_runs


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)
    _plt().close(fig)
    return path


def fan_chart(runs: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Land power by day per region: P10-P90 band, median, and the requirement."""
    plt = _plt()
    ok = runs[runs["error"].isna()]
    regions = sorted(ok["region"].dropna().unique())
    cols = min(4, max(1, len(regions)))
    rows = int(np.ceil(len(regions) / cols)) or 1
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False, layout="constrained"
    )
    bands = fan_bands(runs)
    for ax, region in zip(axes.flat, regions, strict=False):
        b = bands[bands["region"] == region]
        days, p10, p50, p90, req = (
            b[c].to_numpy() for c in ("day", "p10", "p50", "p90", "required")
        )
        ax.fill_between(days, p10, p90, color="tab:blue", alpha=0.25, label="P10-P90")
        ax.plot(days, p50, color="tab:blue", lw=1.5, label="median")
        ax.step(days, req, where="post", color="tab:red", lw=1.2, label="requirement")
        ax.set_title(region, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(regions) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title or "Land combat power by day (brigade equivalents)", fontsize=10)
    fig.supxlabel("day", fontsize=8)
    return _save(fig, path)


_LABELS = {
    "vulnerable_days": ("Window of vulnerability", "days above the threat ratio"),
    "closure_day": ("Closure day", "day every requirement is met and stays met"),
}


def window_chart(
    runs: pd.DataFrame, path: Path, by: str | None = None, figure: str = "vulnerable_days"
) -> Path:
    """A figure per region: box plots, or median and P10-P90 band against a swept parameter.

    Default: days vulnerable (the window of vulnerability); closure days are censored at
    ``horizon + 1`` by the caller.
    """
    plt = _plt()
    ok = runs[runs["error"].isna()]
    regions = sorted(ok["region"].dropna().unique())
    title, ylabel = _LABELS.get(figure, (figure.replace("_", " "), figure))
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    if by is not None and by in ok:
        xs = pd.to_numeric(ok[by].replace({"true": "1", "false": "0"}), errors="coerce")
        for region in regions:
            g = ok[ok["region"] == region].assign(x=xs)
            q = g.groupby("x")[figure].quantile([0.1, 0.5, 0.9]).unstack()
            if q.empty:
                continue
            line = ax.plot(q.index, q[0.5], marker="o", ms=3, label=region)[0]
            ax.fill_between(q.index, q[0.1], q[0.9], color=line.get_color(), alpha=0.12)
        ax.set_xlabel(by.removeprefix("p."))
        ax.legend(fontsize=7, ncol=2)
        ax.set_title(f"{title} (median, P10-P90 band)", fontsize=10)
    else:
        data = [ok.loc[ok["region"] == r, figure].dropna().to_numpy(dtype=float) for r in regions]
        ax.boxplot(data, whis=(10, 90), showfliers=False)
        ax.set_xticks(range(1, len(regions) + 1), regions, rotation=30, fontsize=8)
        ax.set_title(f"{title} (box: P25-P75, whiskers: P10-P90)", fontsize=10)
    ax.set_ylabel(ylabel)
    return _save(fig, path)


def tornado(
    sens: pd.DataFrame, path: Path, region: str, figure: str = "closure_day", top: int = 10
) -> Path:
    """The inputs that move a region's figure most: Spearman's rho, strongest first."""
    plt = _plt()
    best = tornado_rows(sens, region, figure, top)
    fig, ax = plt.subplots(figsize=(7, 0.35 * top + 1.2))
    if best.empty:
        ax.text(0.5, 0.5, "no input varies", ha="center")
        return _save(fig, path)
    best = best.iloc[::-1]
    labels = [input_label(i) for i in best["input"]]
    colors = ["tab:red" if v > 0 else "tab:blue" for v in best["rho"]]
    ax.barh(labels, best["rho"], color=colors)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"Spearman rank correlation with {figure.replace('_', ' ')}")
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(
        f"{region}: what moves its {figure.replace('_', ' ')} (red: later / more)", fontsize=10
    )
    return _save(fig, path)


def sweep_plots(folder: str | Path, by: str | None = None, region: str | None = None) -> list[Path]:
    """Fan chart, window of vulnerability (and closure day against the first swept parameter)
    and tornado of a sweep folder, as PNG files there.

    ``by``: the swept parameter the window is drawn against (default: the first);
    ``region``: the tornado's region (default: the one that closes latest, by median).
    """
    base = Path(folder)
    meta = json.loads((base / "sweep.json").read_text(encoding="utf-8"))
    runs = read_runs(base).to_pandas()
    horizon = int(meta.get("horizon_days", 0))
    params = [c for c in runs.columns if c.startswith("p.")]
    if by is None and params:
        by = params[0]
    out = [fan_chart(censored(runs, horizon), base / "fan.png")]
    out.append(window_chart(runs, base / "window.png", by))
    if by is not None:
        out.append(window_chart(censored(runs, horizon), base / "closure.png", by, "closure_day"))
    sens_path = base / "sensitivity.parquet"
    ok = runs[runs["error"].isna()]
    if sens_path.exists() and len(ok):
        worst = region or latest_region(runs, horizon)
        out.append(tornado(pd.read_parquet(sens_path), base / "tornado.png", str(worst)))
    return out


def criticality_map(
    assets: pd.DataFrame, nodes: pd.DataFrame, links: pd.DataFrame, path: Path, title: str
) -> Path:
    """Assets coloured by the delay their loss causes, on the scenario's map (lon/lat).

    ``assets``: columns asset, delay; ``nodes``: id, lat, lon; ``links``: id, src, dst. Two
    panels when the network spans oceans: all of it, and the part where the assets lie closest.
    """
    plt = _plt()
    from matplotlib import colors as mcolors

    pos = {
        str(i): (float(x), float(y))
        for i, x, y in zip(
            nodes["id"], nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float), strict=True
        )
    }
    delay = {
        str(a): float(d)
        for a, d in zip(assets["asset"], assets["delay"].to_numpy(dtype=float), strict=True)
    }
    top = max([d for d in delay.values() if d == d] + [1.0])
    norm = mcolors.Normalize(vmin=0, vmax=top)
    cmap = plt.get_cmap("inferno_r")
    lons = [pos[a][0] for a in delay if a in pos]
    wide = bool(lons) and max(lons) - min(lons) > 60
    fig, axes = plt.subplots(1, 2 if wide else 1, figsize=(13 if wide else 8, 6), squeeze=False)
    for n, ax in enumerate(axes.flat):
        for r in links.itertuples():
            a, b = pos.get(str(r.src)), pos.get(str(r.dst))
            if a is None or b is None:
                continue
            d = delay.get(str(r.id))
            if d is None:
                ax.plot([a[0], b[0]], [a[1], b[1]], color="0.85", lw=0.5, zorder=1)
            else:
                ax.plot([a[0], b[0]], [a[1], b[1]], color=cmap(norm(d)), lw=2.5, zorder=2)
        mine = [(pos[a], d) for a, d in delay.items() if a in pos]
        ax.scatter(
            [p[0] for p, _ in mine],
            [p[1] for p, _ in mine],
            c=[d for _, d in mine],
            cmap=cmap,
            norm=norm,
            s=40,
            edgecolor="black",
            zorder=3,
        )
        if n == 1:
            # The continent where most assets lie: within 30 degrees of their median longitude.
            mid = float(np.median([p[0] for p, _ in mine]))
            near = [p for p, _ in mine if abs(p[0] - mid) < 30]
            ax.set_xlim(min(p[0] for p in near) - 2, max(p[0] for p in near) + 2)
            ax.set_ylim(min(p[1] for p in near) - 1.5, max(p[1] for p in near) + 1.5)
        for name, d in sorted(delay.items(), key=lambda t: -t[1])[:5]:
            if name in pos and d > 0:
                ax.annotate(
                    name, pos[name], fontsize=7, xytext=(3, 3), textcoords="offset points", zorder=4
                )
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=list(axes.flat), label="days of delay to closure if lost")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def protection_curve(curve: pd.DataFrame, path: Path, title: str) -> Path:
    """Worst-attack delay against the protection budget (columns budget_m, worst_delay)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.step(curve["budget_m"], curve["worst_delay"], where="post", marker="o")
    ax.set_xlabel("protection budget (millions)")
    ax.set_ylabel("delay of the worst attack (days)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0)
    return _save(fig, path)
