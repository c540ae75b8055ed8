"""The HTML report's sweep section: the many worlds of a sweep beside the one run.

``forcemodel report RESULTS --sweep SWEEP_DIR [--attack ATTACK_DIR]`` adds it: fan charts of
land combat power against the requirement per region (P10-P90 band, median), the window of
vulnerability (P10/P50/P90 per region, against the first swept parameter when there is one),
a tornado chart per region (Spearman's rho of the closure day with each input), and, from an
attack folder, the criticality map (assets coloured by the delay their loss causes) with the
worst attacks (docs/sweep.md, "In the report").

Nothing is computed here: the bands and the tornado rows come from
:mod:`forcemodel.sweep.aggregate` (the functions the sweep's PNG charts draw), the window and
closure bands from the sweep's ``summary.parquet``, the sensitivity from its
``sensitivity.parquet``, the delays from the attack folder's ``criticality.csv`` and
``attacks.csv``. A folder of another scenario is refused with a located error.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.common.errors import Problem
from forcemodel.report.charts import _fig_json, _plotly
from forcemodel.results import Results
from forcemodel.sweep.aggregate import fan_bands, input_label, tornado_rows
from forcemodel.sweep.spec import SweepError
from forcemodel.sweep.store import read_runs

KEY = "sweep"
TITLE = "Many worlds: the sweep and the attacker"
#: Inputs per tornado chart.
TORNADO_TOP = 8
#: Colours of the criticality map, no delay to the largest (plotly's "Inferno", reversed).
DELAY_SCALE = "Inferno_r"

Chart = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class SweepSection:
    """What the section shows, read from a sweep folder and/or an attack folder."""

    scenario: str
    sweep: dict[str, Any] | None  # sweep.json
    bands: pd.DataFrame  # fan_bands: region, day, p10, p50, p90, required
    summary: pd.DataFrame  # summary.parquet (P10/P50/P90 per point, region, figure)
    sensitivity: pd.DataFrame  # sensitivity.parquet
    sobol: pd.DataFrame  # sobol.parquet (sweep --sensitivity sobol), else empty
    criticality: pd.DataFrame  # attack folder: asset, region, delay
    attacks: pd.DataFrame  # attack folder: the worst attacks
    nodes: pd.DataFrame  # id, lon, lat (the run's scenario)
    links: pd.DataFrame  # id, src, dst
    key: str = KEY
    title: str = TITLE

    def html(self, chart: Chart) -> str:
        """The section, its charts placed by ``chart`` (the page's)."""
        return sweep_html(self, chart)


def read_sweep_section(
    results: Results, sweep_dir: Path | None = None, attack_dir: Path | None = None
) -> SweepSection:
    """The section's tables from a sweep folder and/or an attack folder of the run's scenario.

    Raises :class:`~forcemodel.sweep.spec.SweepError` (located at the folder's file) for a
    folder that is not a finished sweep or attack, or one of another scenario.
    """
    scenario = results.scenario
    name = str(results.meta.get("scenario", scenario.meta.name if scenario else "?"))
    regions = (
        {r.id for r in scenario.regions}
        if scenario is not None
        else {str(r) for r in results.units["region"].dropna()}
    )
    problems: list[Problem] = []
    meta = None
    bands = summary = sens = sobol = pd.DataFrame()
    if sweep_dir is not None:
        meta = _about(sweep_dir / "sweep.json", "--sweep", "a sweep folder", name, problems)
        if meta is not None:
            done = [sweep_dir / f for f in ("summary.parquet", "sensitivity.parquet")]
            if not all(p.is_file() for p in done):
                problems.append(
                    Problem(
                        str(sweep_dir),
                        None,
                        "--sweep",
                        "the sweep has not finished (no summary.parquet): run forcemodel "
                        "sweep again with the same input to resume it",
                    )
                )
            _same_regions(sweep_dir / "sweep.json", meta.get("regions", []), regions, problems)
    crit = attacks = pd.DataFrame()
    if attack_dir is not None:
        about = _about(attack_dir / "attack.json", "--attack", "an attack folder", name, problems)
        if about is not None:
            _same_regions(attack_dir / "attack.json", about.get("regions", []), regions, problems)
            for f in ("criticality.csv", "attacks.csv"):
                if not (attack_dir / f).is_file():
                    problems.append(Problem(str(attack_dir / f), None, "--attack", "missing"))
    if problems:
        raise SweepError(problems)
    if sweep_dir is not None:
        runs = read_runs(sweep_dir, columns=["run", "region", "error", *_FAN]).to_pandas()
        bands = fan_bands(runs)
        summary = pd.read_parquet(sweep_dir / "summary.parquet")
        sens = pd.read_parquet(sweep_dir / "sensitivity.parquet")
        if (sweep_dir / "sobol.parquet").is_file():
            sobol = pd.read_parquet(sweep_dir / "sobol.parquet")
    if attack_dir is not None:
        crit = pd.read_csv(attack_dir / "criticality.csv")
        attacks = pd.read_csv(attack_dir / "attacks.csv")
    nodes, links = _network(results)
    return SweepSection(name, meta, bands, summary, sens, sobol, crit, attacks, nodes, links)


_FAN = ["land_power", "land_required"]


def _about(
    path: Path, option: str, what: str, scenario: str, problems: list[Problem]
) -> dict[str, Any] | None:
    """A folder's description, or a problem: missing, unreadable, of another scenario."""
    if not path.is_file():
        problems.append(
            Problem(str(path.parent), None, option, f"not {what} (no {path.name} in it)")
        )
        return None
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(Problem(str(path), None, option, f"cannot be read: {exc}"))
        return None
    theirs = meta.get("scenario")
    if theirs != scenario:
        problems.append(
            Problem(
                str(path),
                None,
                "scenario",
                f"{what} of scenario '{theirs}', but the results are of '{scenario}'",
            )
        )
        return None
    return meta


def _same_regions(path: Path, theirs: list[str], ours: set[str], problems: list[Problem]) -> None:
    """A folder whose regions the run does not have is of another version of the scenario."""
    extra = sorted(set(theirs) - ours)
    if extra:
        problems.append(
            Problem(str(path), None, "regions", f"regions not in the results: {', '.join(extra)}")
        )


def _network(results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = results.scenario
    if s is None:
        return pd.DataFrame(columns=["id", "lon", "lat"]), pd.DataFrame(
            columns=["id", "src", "dst"]
        )
    nodes = pd.DataFrame([{"id": n.id, "lon": n.lon, "lat": n.lat} for n in s.nodes])
    links = pd.DataFrame([{"id": lk.id, "src": lk.from_, "dst": lk.to} for lk in s.links])
    return nodes, links


# --------------------------------------------------------------------------- charts


def fan_figure(bands: pd.DataFrame) -> dict[str, Any]:
    """Land power per region: P10-P90 band, median, requirement (a grid of panels)."""
    go = _plotly("plotly.graph_objects")
    sub = _plotly("plotly.subplots")
    regions = list(dict.fromkeys(bands["region"]))
    cols = min(4, max(1, len(regions)))
    rows = max(1, -(-len(regions) // cols))
    fig = sub.make_subplots(
        rows=rows, cols=cols, subplot_titles=regions, horizontal_spacing=0.05, vertical_spacing=0.1
    )
    for i, region in enumerate(regions):
        b = bands[bands["region"] == region]
        at = {"row": i // cols + 1, "col": i % cols + 1}
        first = i == 0
        day = b["day"].to_numpy()
        fig.add_trace(
            go.Scatter(
                x=day,
                y=b["p10"],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
                legendgroup="band",
            ),
            **at,
        )
        fig.add_trace(
            go.Scatter(
                x=day,
                y=b["p90"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(31,119,180,0.25)",
                name="P10-P90",
                legendgroup="band",
                showlegend=first,
                hovertemplate="day %{x}: P90 %{y:.1f}<extra></extra>",
            ),
            **at,
        )
        fig.add_trace(
            go.Scatter(
                x=day,
                y=b["p50"],
                mode="lines",
                line={"color": "#1f77b4"},
                name="median",
                legendgroup="median",
                showlegend=first,
                hovertemplate="day %{x}: median %{y:.1f}<extra></extra>",
            ),
            **at,
        )
        fig.add_trace(
            go.Scatter(
                x=day,
                y=b["required"],
                mode="lines",
                line={"color": "#d62728", "shape": "hv"},
                name="requirement",
                legendgroup="req",
                showlegend=first,
                hovertemplate="day %{x}: required %{y:.1f}<extra></extra>",
            ),
            **at,
        )
    fig.update_layout(
        height=260 * rows + 60,
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        legend={"orientation": "h", "y": -0.05},
    )
    return _fig_json(fig)


def window_figure(summary: pd.DataFrame, figure: str = "vulnerable_days") -> dict[str, Any]:
    """A figure's P10/P50/P90 per region (the sweep's summary), against the first swept
    parameter when there is one: median markers, P10-P90 bars."""
    go = _plotly("plotly.graph_objects")
    rows = summary[summary["figure"] == figure]
    params = [c for c in summary.columns if c.startswith("p.")]
    fig = go.Figure()
    by = params[0] if params and rows[params[0]].nunique() > 1 else None
    for region, g in rows.groupby("region", sort=True):
        g = g.sort_values(by) if by is not None else g
        x = _numbers(g[by]) if by is not None else [region] * len(g)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=g["p50"],
                mode="lines+markers" if by is not None else "markers",
                name=str(region),
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (g["p90"] - g["p50"]).to_numpy(),
                    "arrayminus": (g["p50"] - g["p10"]).to_numpy(),
                },
                customdata=np.stack([g["p10"], g["p90"]], axis=1),
                hovertemplate=f"{html.escape(str(region))}: P10 %{{customdata[0]:g}}, P50 "
                "%{y:g}, P90 %{customdata[1]:g}<extra></extra>",
            )
        )
    fig.update_layout(
        height=380,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        xaxis_title=input_label(by) if by is not None else "region",
        yaxis_title="days above the threat ratio" if figure == "vulnerable_days" else figure,
    )
    return _fig_json(fig)


def _numbers(values: pd.Series) -> list[Any]:
    nums = pd.to_numeric(values.replace({"true": "1", "false": "0"}), errors="coerce")
    return list(values) if nums.isna().any() else list(nums)


def tornado_figure(sens: pd.DataFrame, region: str) -> dict[str, Any]:
    """What moves a region's closure day: Spearman's rho of its top inputs (red: later)."""
    go = _plotly("plotly.graph_objects")
    best = tornado_rows(sens, region, "closure_day", TORNADO_TOP).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=best["rho"],
            y=[input_label(i) for i in best["input"]],
            orientation="h",
            marker={"color": ["#d62728" if v > 0 else "#1f77b4" for v in best["rho"]]},
            customdata=best["p_value"],
            hovertemplate="%{y}: rho %{x:.2f} (p %{customdata:.2g})<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"{region}: closure day", "font": {"size": 13}},
        height=60 + 26 * max(1, len(best)),
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        xaxis={"range": [-1, 1], "title": "Spearman's rho"},
        yaxis={"automargin": True},
    )
    return _fig_json(fig)


def criticality_figure(
    crit: pd.DataFrame, nodes: pd.DataFrame, links: pd.DataFrame, region: str
) -> dict[str, Any]:
    """The network on lon/lat, each candidate asset coloured by the delay its loss causes."""
    go = _plotly("plotly.graph_objects")
    colors = _plotly("plotly.colors")
    mine = crit[crit["region"] == region]
    delay = dict(zip(mine["asset"].astype(str), mine["delay"].astype(float), strict=True))
    top = max([d for d in delay.values() if d == d] + [1.0])
    pos = {
        str(i): (float(x), float(y))
        for i, x, y in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True)
    }
    grey_x: list[float | None] = []
    grey_y: list[float | None] = []
    hit: list[tuple[float, tuple[float, float], tuple[float, float], str]] = []
    for lid, a, b in zip(links["id"].astype(str), links["src"], links["dst"], strict=True):
        pa, pb = pos.get(str(a)), pos.get(str(b))
        if pa is None or pb is None:
            continue
        if lid in delay:
            hit.append((delay[lid], pa, pb, lid))
        else:
            grey_x += [pa[0], pb[0], None]
            grey_y += [pa[1], pb[1], None]
    fig = go.Figure(
        go.Scatter(
            x=grey_x,
            y=grey_y,
            mode="lines",
            line={"color": "#d0d0d0", "width": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    for d, pa, pb, lid in sorted(hit):
        color = colors.sample_colorscale(DELAY_SCALE, [min(1.0, d / top)])[0]
        fig.add_trace(
            go.Scatter(
                x=[pa[0], (pa[0] + pb[0]) / 2, pb[0]],
                y=[pa[1], (pa[1] + pb[1]) / 2, pb[1]],
                mode="lines",
                line={"color": color, "width": 3},
                showlegend=False,
                hovertemplate=f"{html.escape(lid)}: {d:g} days<extra></extra>",
            )
        )
    at = [(a, pos[a], d) for a, d in delay.items() if a in pos]
    fig.add_trace(
        go.Scatter(
            x=[p[0] for _, p, _ in at],
            y=[p[1] for _, p, _ in at],
            mode="markers",
            text=[a for a, _, _ in at],
            marker={
                "color": [d for _, _, d in at],
                "colorscale": DELAY_SCALE,
                "cmin": 0,
                "cmax": top,
                "size": 9,
                "line": {"color": "black", "width": 1},
                "colorbar": {"title": {"text": "days of delay"}},
            },
            showlegend=False,
            hovertemplate="%{text}: %{marker.color:g} days<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"{region}: delay to closure if lost", "font": {"size": 13}},
        height=480,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        xaxis_title="longitude",
        yaxis={"title": "latitude", "scaleanchor": "x", "scaleratio": 1.6},
    )
    return _fig_json(fig)


# --------------------------------------------------------------------------- section


def sweep_html(s: SweepSection, chart: Chart) -> str:
    """The section's HTML: notes, charts and tables."""
    from forcemodel.report.html import table_html

    parts: list[str] = []
    if s.sweep is not None:
        m = s.sweep
        params = ", ".join(f"{p['path']} = {', '.join(map(str, p['values']))}" for p in m["params"])
        parts.append(
            f'<p class="note">Sweep of <b>{html.escape(s.scenario)}</b>: {int(m["runs"]):,} '
            f"runs ({int(m['points'])} grid point(s) × {int(m['draws'])} draws, seed "
            f"{int(m['seed'])}){'; swept: ' + html.escape(params) if params else ''}. "
            "The numbers are those of the sweep's summary.csv and sensitivity.csv.</p>"
        )
        parts.append("<h3>Land combat power vs requirement, P10-P90 of the runs</h3>")
        parts.append(chart(fan_figure(s.bands)) if len(s.bands) else "<p>No run succeeded.</p>")
        parts.append("<h3>Window of vulnerability: P10, P50 and P90 of the runs</h3>")
        parts.append(chart(window_figure(s.summary)))
        closure = s.summary[s.summary["figure"] == "closure_day"]
        keep = [c for c in closure.columns if c not in ("figure", "mean", "point")]
        parts.append("<h3>Closure day: P10, P50, P90 (not closed: horizon + 1)</h3>")
        parts.append(table_html(closure[keep].reset_index(drop=True)))
        parts.append(
            '<h3>What moves the closure day (tornado)</h3><p class="note">Spearman\'s rank '
            "correlation of each region's closure day with each input that varies; red: "
            "a larger input, a later closure.</p>"
        )
        regions = sorted(set(s.sensitivity["region"])) if len(s.sensitivity) else []
        shown = [r for r in regions if len(tornado_rows(s.sensitivity, r, "closure_day"))]
        parts += [chart(tornado_figure(s.sensitivity, r)) for r in shown]
        if not shown:
            parts.append("<p>No input varies the closure day.</p>")
        if len(s.sobol):
            s1 = s.sobol[s.sobol["figure"] == "closure_day"].groupby("region", sort=True).head(3)
            parts.append(
                '<h3>First-order Sobol indices of the closure day (top 3)</h3><p class="note">'
                "The share of the closure day's variance each input explains alone (SALib, "
                "RBD-FAST, from the same runs; S1 conf: 95 % bootstrap half-width).</p>"
            )
            parts.append(table_html(s1.drop(columns="figure").reset_index(drop=True)))
    if len(s.criticality):
        parts.append(
            '<h3>Criticality: the delay each asset\'s loss causes</h3><p class="note">From '
            "forcemodel attack: each candidate link or node taken out alone, as the scenario's "
            "uncertainty.attack says; grey: not a candidate.</p>"
        )
        for region in sorted(set(s.criticality["region"])):
            parts.append(chart(criticality_figure(s.criticality, s.nodes, s.links, region)))
    if len(s.attacks):
        cols = [
            c
            for c in (
                "region",
                "form",
                "k",
                "attack_budget",
                "assets",
                "attack_cost",
                "delay",
                "status",
            )
            if c in s.attacks
        ]
        parts.append("<h3>The worst attacks</h3>")
        parts.append(table_html(s.attacks[cols].reset_index(drop=True)))
    return f'<section id="{KEY}"><h2>{html.escape(TITLE)}</h2>{"".join(parts)}</section>\n'
