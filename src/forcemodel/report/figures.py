"""The report's figures as PNG files through matplotlib (Agg backend), for papers.

The same figures as the HTML report, drawn from the same
:class:`~forcemodel.report.data.ReportData`: one PNG per region for power and for movements, one
for the utilisation heat map, one for the network map and one for the tiers; with a comparison,
one for the closure days of both runs and one per region for both runs' power.

About 540 lines, on purpose: every PNG twin of an HTML chart in one place, so that a change to a
chart is made to both faces side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from forcemodel.report.comparison import COMPARE_TITLES, RUN_COLOURS, ComparisonData
from forcemodel.report.data import (
    CAPABILITY_LABELS,
    COLOURS,
    DISRUPTION_COLOUR,
    LEG_LABELS,
    TITLES,
    ReportData,
    aspect,
)

DPI = 150
DAY_LABEL = "day (0 = decision to reinforce)"


def _mark_days(ax: Any, data: ReportData, closure: float | None, label: bool) -> None:
    ax.axvline(
        data.warning_day, color="#ff7f0e", ls="--", lw=1.4, label="warning day" if label else None
    )
    if closure is not None:
        ax.axvline(closure, color="#2ca02c", lw=1.4, label="closure day" if label else None)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _capability_grid(n_small: int, top_inches: float) -> tuple[Figure, Any, int, int]:
    """A figure with one large panel on top (land) and ``n_small`` below, three a row.

    Returns the figure, its grid spec, and the grid's columns and rows.
    """
    ncol = min(3, max(n_small, 1))
    nrow = 1 + math.ceil(n_small / ncol)
    fig = plt.figure(figsize=(11, top_inches + 2.2 * (nrow - 1)), layout="constrained")
    gs = fig.add_gridspec(nrow, ncol, height_ratios=[1.8] + [1.0] * (nrow - 1))
    return fig, gs, ncol, nrow


def power_png(data: ReportData, region: str) -> Figure:
    """Power, requirement and threat of one region: land large, other capabilities below."""
    p = data.power[data.power["region"] == region]
    caps = list(dict.fromkeys(p["capability"]))
    rest = caps[1:]
    fig, gs, ncol, nrow = _capability_grid(len(rest), 3.6)
    info = data.regions.set_index("region").loc[region]
    closure = _num(info["closure_day"])
    spans = data.vulnerable_spans[data.vulnerable_spans["region"] == region]
    cc = data.capability_closure
    first_ax = None
    for k, cap in enumerate(caps):
        if k == 0:
            ax = fig.add_subplot(gs[0, :])
            first_ax = ax
        else:
            ax = fig.add_subplot(gs[1 + (k - 1) // ncol, (k - 1) % ncol], sharex=first_ax)
        g = p[p["capability"] == cap]
        d = g["day"].to_numpy()
        ax.step(d, g["power"], where="post", color="#1f77b4", lw=2.2, label="combat power")
        ax.step(d, g["required"], where="post", color="#222", ls="--", lw=1.6, label="requirement")
        ax.step(d, g["threat"], where="post", color="#d62728", lw=1.5, label="threat")
        if (g["in_place"] > 0).any():
            ax.step(
                d,
                g["in_place"],
                where="post",
                color="#7f7f7f",
                ls=":",
                lw=1.0,
                label="in place on day 0",
            )
        if k == 0:
            for i, d in enumerate(data.disruptions.to_dict("records")):
                # A band along the top of the land panel, as in the HTML report.
                ax.axvspan(
                    float(d["start"]),
                    min(float(d["end"]), float(data.horizon)),
                    ymin=0.93,
                    color=DISRUPTION_COLOUR,
                    alpha=0.55,
                    lw=0,
                    label="disruption" if i == 0 else None,
                )
                ax.annotate(
                    f"{d['id']} x{d['factor']:g}",
                    (float(d["start"]), 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(2, -2),
                    textcoords="offset points",
                    va="top",
                    fontsize=7,
                    color="#a0005a",
                )
            for i, (start, end) in enumerate(zip(spans["start"], spans["end"], strict=True)):
                ax.axvspan(
                    float(start),
                    float(end),
                    color="#d62728",
                    alpha=0.10,
                    lw=0,
                    label="window of vulnerability" if i == 0 else None,
                )
        c = cc[(cc["region"] == region) & (cc["capability"] == cap)]
        cday = _num(c["closure_day"].iloc[0]) if len(c) else None
        if cday is not None and cday > 0 and k > 0:
            ax.axvline(cday, color="#2ca02c", ls=":", lw=1.0)
        _mark_days(ax, data, closure, label=k == 0)
        ax.set_title(CAPABILITY_LABELS.get(cap, cap), fontsize=10 if k else 11)
        ax.set_xlim(0, data.horizon)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.set_ylabel("brigade equivalents")
            ax.legend(loc="upper left", fontsize=8, ncol=2, framealpha=0.9)
        if (k == 0 and nrow == 1) or (k > 0 and 1 + (k - 1) // ncol == nrow - 1):
            ax.set_xlabel(DAY_LABEL, fontsize=9)
    suffix = f"closure day {closure:g}" if closure is not None else "requirements not all met"
    fig.suptitle(f"{data.region_title(region)} ({suffix})", fontsize=12, x=0.01, ha="left")
    return fig


def gantt_png(data: ReportData, region: str) -> Figure:
    """Movement bars of the shown units of one region, one row per unit and load."""
    bars = data.gantt[data.gantt["region"] == region]
    rows = list(dict.fromkeys(bars["row"]))
    y = {r: i for i, r in enumerate(rows)}
    fig, ax = plt.subplots(figsize=(11, 1.4 + 0.22 * max(len(rows), 4)), layout="constrained")
    for cat in COLOURS:
        b = bars[bars["category"] == cat]
        if b.empty:
            continue
        ax.barh(
            [y[r] for r in b["row"]],
            (b["end"] - b["start"]).to_numpy(),
            left=b["start"].to_numpy(),
            height=0.7,
            color=COLOURS[cat],
            lw=0,
        )
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.invert_yaxis()
    end = float(bars["end"].max()) if len(bars) else float(data.horizon)
    ax.set_xlim(0, min(float(data.horizon), max(1.08 * end, 2 * data.warning_day, 1.0)))
    ax.axvline(data.warning_day, color="#ff7f0e", ls="--", lw=1.2)
    ax.set_xlabel(DAY_LABEL)
    ax.grid(axis="x", alpha=0.3)
    present = [c for c in COLOURS if (bars["category"] == c).any()]
    ax.legend(
        handles=[Patch(color=COLOURS[c], label=LEG_LABELS.get(c, c)) for c in present],
        loc="lower right",
        fontsize=8,
        framealpha=0.9,
    )
    name = data.region_name(region)
    c = data.gantt_counts[data.gantt_counts["region"] == region]
    n_shown, n_total = (int(c["shown"].iloc[0]), int(c["total"].iloc[0])) if len(c) else (0, 0)
    shown = f" (first {n_shown} of {n_total} units to close)" if n_shown < n_total else ""
    ax.set_title(f"{TITLES['gantt']}: {name}{shown}", loc="left", fontsize=11)
    return fig


def heatmap_png(data: ReportData) -> Figure:
    """Utilisation by server and day, busiest servers on top."""
    servers = data.servers
    z = np.full((len(servers), data.horizon), np.nan)
    index = {s: i for i, s in enumerate(servers["server"])}
    u = data.utilisation[data.utilisation["day"] < data.horizon]
    z[u["server"].map(index).to_numpy(dtype=int), u["day"].to_numpy(dtype=int)] = u[
        "utilisation"
    ].to_numpy()
    fig, ax = plt.subplots(figsize=(11, 1.5 + 0.2 * max(len(servers), 4)), layout="constrained")
    cmap = plt.get_cmap("YlOrRd").with_extremes(bad="white")
    im = ax.imshow(
        np.ma.masked_invalid(z),
        aspect="auto",
        cmap=cmap,
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(-0.5, data.horizon - 0.5, len(servers) - 0.5, -0.5),
    )
    ax.set_yticks(range(len(servers)), servers["server"].tolist(), fontsize=7)
    ax.axvline(data.warning_day - 0.5, color="#ff7f0e", ls="--", lw=1.2)
    ax.set_xlabel(DAY_LABEL)
    cb = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    cb.set_label("utilisation")
    cb.ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(TITLES["heatmap"], loc="left", fontsize=11)
    return fig


def map_png(data: ReportData) -> Figure:
    """The network over country outlines, link width by tons carried, colour by mode."""
    x0, y0, x1, y1 = data.view
    ratio = aspect(data.view)
    width = 11.0
    height = min(14.0, max(5.0, width * (y1 - y0) * ratio / max(x1 - x0, 1e-6)))
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    ax.set_facecolor("#dfeaf3")
    ax.add_collection(
        PolyCollection([a for a in data.land], facecolors="#f1eee6", edgecolors="none", zorder=0)
    )
    ax.add_collection(LineCollection(data.borders, colors="#9a9a9a", linewidths=0.5, zorder=1))
    flows = data.flows
    idle = flows[flows["legs"] == 0]
    ax.add_collection(
        LineCollection(
            _segments(idle),
            colors="#bbbbbb",
            linewidths=0.6,
            linestyles=":",
            zorder=2,
        )
    )
    used = flows[flows["legs"] > 0]
    weight = used["tons"] + 0.1 * used["pax"]
    top = float(weight.max()) if len(used) else 1.0
    handles = []
    for mode in [m for m in COLOURS if (used["mode"] == m).any()]:
        m = used[used["mode"] == mode]
        w = 0.8 + 6.0 * np.sqrt((m["tons"] + 0.1 * m["pax"]) / top)
        order = np.argsort(w.to_numpy())
        segs = _segments(m)
        ax.add_collection(
            LineCollection(
                [segs[i] for i in order],
                colors=COLOURS[mode],
                linewidths=w.to_numpy()[order],
                alpha=0.75,
                zorder=3,
                capstyle="round",
            )
        )
        handles.append(
            matplotlib.lines.Line2D([], [], color=COLOURS[mode], lw=3, label=LEG_LABELS[mode])
        )
    for d in data.disruptions.to_dict("records"):
        route = np.asarray(d["route"], dtype=float)
        if not len(route):
            continue
        if d["kind"] == "link":
            ax.plot(route[:, 0], route[:, 1], color=DISRUPTION_COLOUR, lw=3, ls="--", zorder=4)
        mid = route[len(route) // 2]
        ax.scatter([mid[0]], [mid[1]], s=90, marker="X", color=DISRUPTION_COLOUR, zorder=6)
    if len(data.disruptions):
        handles.append(
            matplotlib.lines.Line2D(
                [], [], color=DISRUPTION_COLOUR, marker="X", ls="--", lw=2, label="disruption"
            )
        )
    nodes = data.nodes
    n = nodes[nodes["kind"] != "junction"]
    ax.scatter(n["lon"], n["lat"], s=10, color="#333", zorder=4, lw=0)
    recv = nodes[nodes["region"] != ""]
    ax.scatter(
        recv["lon"], recv["lat"], s=120, marker="*", color="#d62728", ec="white", lw=0.6, zorder=5
    )
    for r in recv.itertuples():
        ax.annotate(
            str(r.region).split(" (")[0],
            (r.lon, r.lat),
            xytext=(4, 5),
            textcoords="offset points",
            fontsize=8,
            color="#7a0000",
            zorder=6,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
        )
    handles.append(
        matplotlib.lines.Line2D(
            [], [], color="#d62728", marker="*", ls="", ms=10, label="reception (region)"
        )
    )
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(ratio)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(
        f"{TITLES['map']} (width: tons, sqrt scale; max {top:,.0f} t)", loc="left", fontsize=11
    )
    ax.text(
        0.995,
        0.005,
        "Outlines: Natural Earth (public domain)",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
        color="#555",
    )
    return fig


#: How each series of the comparison's power charts is drawn, for run A and run B:
#: (colour, line style, width); the same as in the HTML report.
_COMPARE_STYLES: dict[str, tuple[tuple[str, str, float], tuple[str, str, float]]] = {
    "power": ((RUN_COLOURS[0], "-", 2.2), (RUN_COLOURS[1], "-", 2.2)),
    "required": (("#222", "--", 1.6), ("#222", "-.", 1.4)),
    "threat": (("#d62728", "-", 1.5), ("#d62728", ":", 1.5)),
}


def compare_closure_png(c: ComparisonData) -> Figure:
    """Closure day per region, one bar per run; a cross at the horizon: not closed by then."""
    closure = c.closure()
    regions = list(c.regions["region"])
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.55 * max(len(regions), 3)), layout="constrained")
    height = 0.38
    for k, label in enumerate(c.labels):
        rows = closure[closure["run"] == label].set_index("region")
        y = np.arange(len(regions)) + (k - 0.5) * height
        for i, region in enumerate(regions):
            r = rows.loc[region]
            if not bool(r["present"]):
                continue
            day = _num(r["closure_day"])
            if day is None:
                ax.plot([c.horizon], [y[i]], marker="x", ms=9, mew=2, color=RUN_COLOURS[k], ls="")
                continue
            ax.barh(y[i], day, height=height, color=RUN_COLOURS[k])
            ax.annotate(
                f"{day:g}",
                (day, y[i]),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    labels = [
        f"{c.region_name(r)} ({c.presence(r)})" if c.presence(r) else c.region_name(r)
        for r in regions
    ]
    ax.set_yticks(range(len(regions)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, c.horizon * 1.06)
    ax.set_xlabel("closure day (0 = decision to reinforce)")
    ax.grid(axis="x", alpha=0.3)
    handles: list[Artist] = [
        Patch(color=RUN_COLOURS[k], label=label) for k, label in enumerate(c.labels)
    ]
    if closure["closure_day"].isna().any():
        handles.append(
            matplotlib.lines.Line2D(
                [], [], color="#555", marker="x", ls="", label=f"not closed by day {c.horizon}"
            )
        )
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    la, lb = c.labels
    ax.set_title(f"{COMPARE_TITLES['closure']}: {la} vs {lb}", loc="left", fontsize=11)
    return fig


def compare_power_png(c: ComparisonData, region: str) -> Figure:
    """Both runs' combat power in one region against the requirement and the threat."""
    lines = c.lines[c.lines["region"] == region]
    caps = list(dict.fromkeys(lines["capability"]))
    rest = caps[1:]
    fig, gs, ncol, nrow = _capability_grid(len(rest), 3.8)
    closure = c.closure()
    days = [
        (str(r["run"]), _num(r["closure_day"]))
        for r in closure[(closure["region"] == region) & closure["present"]].to_dict("records")
    ]
    spans = c.vulnerable_spans[c.vulnerable_spans["region"] == region]
    first_ax = None
    for k, cap in enumerate(caps):
        if k == 0:
            ax = fig.add_subplot(gs[0, :])
            first_ax = ax
        else:
            ax = fig.add_subplot(gs[1 + (k - 1) // ncol, (k - 1) % ncol], sharex=first_ax)
        for (series, run, name), g in lines[lines["capability"] == cap].groupby(
            ["series", "run", "name"], sort=False
        ):
            colour, style, width = _COMPARE_STYLES[str(series)][c.labels.index(str(run))]
            ax.step(
                g["day"].to_numpy(),
                g["value"].to_numpy(),
                where="post",
                color=colour,
                ls=style,
                lw=width,
                label=str(name),
            )
        for w in sorted(set(c.warning_days)):
            ax.axvline(w, color="#ff7f0e", ls="--", lw=1.2, label="warning day" if k == 0 else None)
        for run, day in days:
            if day is not None:
                ax.axvline(
                    day,
                    color=RUN_COLOURS[c.labels.index(run)],
                    lw=1.2,
                    label=f"closure day {run} ({day:g})" if k == 0 else None,
                )
        if k == 0:
            for run, start, end in zip(spans["run"], spans["start"], spans["end"], strict=True):
                i = c.labels.index(str(run))
                ax.axvspan(
                    float(start),
                    float(end),
                    ymin=0.955 - 0.05 * i,
                    ymax=0.995 - 0.05 * i,
                    color=RUN_COLOURS[i],
                    alpha=0.5,
                    lw=0,
                    label=f"window of vulnerability {run}",
                )
        ax.set_title(CAPABILITY_LABELS.get(cap, cap), fontsize=10 if k else 11)
        ax.set_xlim(0, c.horizon)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.set_ylabel("brigade equivalents")
        if (k == 0 and nrow == 1) or (k > 0 and 1 + (k - 1) // ncol == nrow - 1):
            ax.set_xlabel(DAY_LABEL, fontsize=9)
    if first_ax is not None:
        # Below the panels: inside, it would hide the windows along the top of the land panel.
        fig.legend(
            *first_ax.get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8
        )
    fig.suptitle(c.region_title(region), fontsize=12, x=0.01, ha="left")
    return fig


def tiers_png(data: ReportData) -> Figure:
    """The force model's tiers: troops offered and closed by the tier's day, vs the target."""
    t = data.tiers
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    x = np.arange(len(t))
    closed = []
    for row in t.to_dict("records"):
        day = _num(row.get("target_day"))
        cols = sorted(
            (int(str(c).removeprefix("closed_by_")), c)
            for c in row
            if str(c).startswith("closed_by_")
        )
        fit = [c for d, c in cols if day is None or d <= day] or [c for _, c in cols[:1]]
        closed.append(float(row[fit[-1]]) if fit else 0.0)
    ax.bar(x - 0.2, t["troops"], width=0.4, color="#9ecae1", label="troops offered")
    ax.bar(x + 0.2, closed, width=0.4, color="#1f77b4", label="closed by the tier's day")
    ax.hlines(
        t["target_troops"].astype(float),
        x - 0.45,
        x + 0.45,
        color="#d62728",
        lw=2.5,
        label="force model target",
    )
    ax.set_xticks(x, [f"tier {int(v)}" for v in t["tier"]])
    ax.set_ylabel("troops")
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(TITLES["tiers"], loc="left", fontsize=11)
    return fig


def _segments(links: pd.DataFrame) -> list[np.ndarray]:
    """Links as arrays of the points they are drawn along (lon, lat), for a LineCollection."""
    return [np.asarray(r, dtype=float) for r in links["route"]]


def write_pngs(
    data: ReportData, folder: str | Path, progress: Callable[[str], None] | None = None
) -> list[Path]:
    """Write every figure as a PNG into ``folder`` (created if needed); return the paths.

    With a comparison: also ``compare-closure.png`` and one ``compare-power-<region>.png`` per
    region. ``progress`` is told each figure before it is drawn ("3/20 power-latvia.png").
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    todo: list[tuple[str, Callable[[], Figure]]] = []
    regions = list(data.regions["region"])
    for region in regions:
        if (data.power["region"] == region).any():
            todo.append((f"power-{region}.png", partial(power_png, data, region)))
    for region in regions:
        if (data.gantt["region"] == region).any():
            todo.append((f"movements-{region}.png", partial(gantt_png, data, region)))
    if len(data.servers):
        todo.append(("utilisation.png", partial(heatmap_png, data)))
    todo.append(("map.png", partial(map_png, data)))
    if len(data.tiers):
        todo.append(("tiers.png", partial(tiers_png, data)))
    c = data.comparison
    if c is not None:
        todo.append(("compare-closure.png", partial(compare_closure_png, c)))
        for region in c.regions["region"]:
            if (c.lines["region"] == region).any():
                todo.append((f"compare-power-{region}.png", partial(compare_power_png, c, region)))
    paths = []
    for n, (name, draw) in enumerate(todo, start=1):
        if progress is not None:
            progress(f"{n}/{len(todo)} {name}")
        fig = draw()
        try:
            path = out / name
            fig.savefig(path, dpi=DPI)
        finally:
            plt.close(fig)
        paths.append(path)
    return paths
