"""What the planning dashboard shows, ready for its templates: scenarios, runs, charts, maps.

Numbers come from the engines and the report's data layer (:mod:`forcemodel.report.data`,
:func:`forcemodel.assess`, :func:`forcemodel.assessment.compare.compare`); this module only
places them on screen (scales, projections, SVG path text) and stores uploaded scenarios.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import tempfile
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.assessment import AT_CAPACITY, Assessment, assess
from forcemodel.common.errors import LocatedError, Problem
from forcemodel.report import data as report_data
from forcemodel.report.world import BBox, outlines
from forcemodel.results import Results
from forcemodel.scenario.load import bundled_scenarios, load_scenario
from forcemodel.scenario.model import Scenario

#: An uploaded scenario is refused past this many bytes (a zip of a folder, or one YAML file).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: ... or past this many files in a zip.
MAX_UPLOAD_FILES = 200
#: Names of uploaded scenarios: lower-case letters, digits and hyphens.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,59}$"

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), each mode
#: also drawn with its own dash pattern so that colour is never the only cue.
MODE_STYLE: dict[str, tuple[str, str]] = {
    "rail": ("#0072B2", ""),
    "road": ("#E69F00", "6 3"),
    "sea": ("#56B4E9", "2 3"),
    "air": ("#CC79A7", "8 3 2 3"),
    "inland": ("#009E73", "4 2"),
}
SERIES_STYLE = {
    "power": ("#0072B2", "", "combat power"),
    "required": ("#E69F00", "7 4", "requirement"),
    "threat": ("#D55E00", "2 3", "threat"),
}


class UploadError(ValueError):
    """An upload that is not a scenario file or folder (the message says why)."""


# --- scenarios ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioEntry:
    """A scenario the dashboard offers."""

    name: str
    source: str
    bundled: bool


def scenario_dir(data_dir: Path) -> Path:
    """Where uploaded scenarios are kept."""
    return data_dir / "scenarios"


def scenarios(data_dir: Path) -> list[ScenarioEntry]:
    """Bundled scenarios, then uploaded ones, each by name."""
    out = [ScenarioEntry(n, n, True) for n in bundled_scenarios()]
    folder = scenario_dir(data_dir)
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() and re.match(NAME_PATTERN, entry.name):
                out.append(ScenarioEntry(entry.name, str(entry), False))
    return out


def find_scenario(data_dir: Path, name: str) -> ScenarioEntry | None:
    """The scenario of the name, or None."""
    return next((s for s in scenarios(data_dir) if s.name == name), None)


def _name_from(filename: str, taken: set[str]) -> str:
    stem = Path(filename).name
    for suffix in (".zip", ".yaml", ".yml"):
        stem = stem.removesuffix(suffix)
    base = re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-")[:50] or "scenario"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _unpack(content: bytes, filename: str, into: Path) -> None:
    if filename.lower().endswith((".yaml", ".yml")):
        (into / "scenario.yaml").write_bytes(content)
        return
    if not filename.lower().endswith(".zip"):
        raise UploadError(f"{filename}: upload a scenario YAML file (.yaml) or a zipped folder")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise UploadError(f"{filename}: not a zip file") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_UPLOAD_FILES:
        raise UploadError(f"{filename}: {len(members)} files; at most {MAX_UPLOAD_FILES}")
    if sum(m.file_size for m in members) > 5 * MAX_UPLOAD_BYTES:
        raise UploadError(f"{filename}: unpacks to more than {5 * MAX_UPLOAD_BYTES} bytes")
    names = [m.filename for m in members]
    # A zip of a folder holds "folder/scenario.yaml": take the folder's content.
    prefix = ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        prefix = next(iter(tops)) + "/"
    for m in members:
        rel = m.filename.removeprefix(prefix)
        parts = Path(rel).parts
        if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
            raise UploadError(f"{filename}: unsafe path {m.filename!r} in the zip")
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(m))
    if not (into / "scenario.yaml").is_file():
        raise UploadError(f"{filename}: the zip holds no scenario.yaml")


def upload_scenario(data_dir: Path, filename: str, content: bytes) -> tuple[str, list[Problem]]:
    """Validate an uploaded scenario and keep it when it loads; its name and its problems.

    Problems name the file as uploaded (``eastern.yaml:12: units.0.tier: ...``), as the command
    line does; a scenario with problems is not kept. Raises :class:`UploadError` for an upload
    that is not a scenario at all.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{filename}: larger than {MAX_UPLOAD_BYTES} bytes")
    folder = scenario_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    taken = {s.name for s in scenarios(data_dir)}
    name = _name_from(filename, taken)
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=folder))
    try:
        target = staging / name
        target.mkdir()
        _unpack(content, filename, target)
        try:
            load_scenario(target)
        except LocatedError as exc:
            shown = Path(filename).name
            single = filename.lower().endswith((".yaml", ".yml"))

            def located(file: str) -> str:
                if single and file == str(target / "scenario.yaml"):
                    return shown
                return file.replace(str(target), shown.removesuffix(".zip"))

            return name, [
                Problem(located(p.file), p.line, p.field, p.message) for p in exc.problems
            ]
        target.rename(folder / name)
        return name, []
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- runs: loaded once, kept for a few pages ------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A finished run, with what its pages show."""

    job_id: str
    results: Results
    assessment: Assessment
    scenario: Scenario
    regions: pd.DataFrame
    power: pd.DataFrame
    spans: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: The movement chart's bars (report_data.gantt_frame) and units shown per region.
    gantt: pd.DataFrame = field(default_factory=pd.DataFrame)
    gantt_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The busiest servers (report_data.server_frames): utilisation by day, and their summary.
    utilisation: pd.DataFrame = field(default_factory=pd.DataFrame)
    servers: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: An optimised run's plan, objective and unmet requirements (its plan folder), by name.
    plan: dict[str, pd.DataFrame] = field(default_factory=dict)


class RunCache:
    """The last few runs read from disk (a results page reads its run once, not per request)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job_id: str, folder: Path, source: str) -> Run:
        """The run of a job, read from its results folder on first use."""
        with self._lock:
            if job_id in self._runs:
                self._runs.move_to_end(job_id)
                return self._runs[job_id]
        run = read_run(job_id, folder, source)
        with self._lock:
            self._runs[job_id] = run
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
        return run


#: Where a sweeping job keeps its sweep folder (forcemodel.sweep's), beside its results folder.
SWEEP_FOLDER = "sweep"


def sweep_tables(job_dir: Path) -> dict[str, pd.DataFrame]:
    """A finished sweep's summary and sensitivity tables, as the sweep wrote them."""
    out: dict[str, pd.DataFrame] = {}
    for name in ("summary", "sensitivity"):
        path = job_dir / SWEEP_FOLDER / f"{name}.csv"
        if path.is_file():
            out[name] = pd.read_csv(path)
    return out


#: Where an optimising job keeps its plan (the optimiser's folder), beside its results folder.
PLAN_FOLDER = "plan"


def read_plan(folder: Path) -> dict[str, pd.DataFrame]:
    """An optimised plan's tables as the optimiser wrote them (none when there is no plan)."""
    out: dict[str, pd.DataFrame] = {}
    for name in ("plan", "objective", "unmet"):
        path = folder / f"{name}.csv"
        if path.is_file():
            out[name] = pd.read_csv(path)
    return out


def read_run(job_id: str, folder: Path, source: str) -> Run:
    """Load a job's results, assess them and prepare the frames its pages show."""
    results = Results.load(folder)
    scenario = load_scenario(source)
    assessment = assess(results)
    regions = report_data.region_frame(results, assessment, scenario)
    gantt, gantt_counts = report_data.gantt_frame(results)
    utilisation, servers = report_data.server_frames(results, BOTTLENECK_ROWS)
    return Run(
        job_id=job_id,
        results=results,
        assessment=assessment,
        scenario=scenario,
        regions=regions,
        power=report_data.power_frame(results),
        spans=report_data.vulnerable_spans(assessment),
        tables=assessment_tables(assessment),
        gantt=gantt,
        gantt_counts=gantt_counts,
        utilisation=utilisation,
        servers=servers,
        plan=read_plan(folder.parent / PLAN_FOLDER),
    )


def assessment_tables(assessment: Assessment) -> dict[str, pd.DataFrame]:
    """The assessment's tables by caption, as the report prints them (long form, no pivot)."""
    return {
        "Regions: closure day, shortfall, window of vulnerability": assessment.regions,
        "Closure day and shortfall per region and capability": assessment.capabilities,
        "Troops by readiness tier: ready to move / closed in region by day": assessment.tiers,
        "Worst bottlenecks (days at capacity)": assessment.bottlenecks,
    }


# --- tables -------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """A table cell as text: no decimals for whole numbers, one otherwise, a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if math.isnan(float(value)):
            return "—"
        v = float(value)
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    return str(value)


def table(frame: pd.DataFrame, limit: int | None = None) -> dict[str, Any]:
    """A frame as header and text rows for the table macro."""
    shown = frame if limit is None else frame.head(limit)
    return {
        "columns": [str(c) for c in shown.columns],
        "rows": [[cell(v) for v in row] for row in shown.itertuples(index=False)],
        "total": len(frame),
    }


# --- charts -------------------------------------------------------------------------------

CHART_W, CHART_H = 720.0, 300.0
PAD_L, PAD_R, PAD_T, PAD_B = 56.0, 16.0, 14.0, 40.0


def _ticks(top: float, n: int = 5) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    return [i * step for i in range(int(top // step) + 1)]


def power_chart(run: Run, region: str, capability: str) -> dict[str, Any]:
    """One region's power, requirement and threat by day for one capability, as SVG geometry.

    Each series is a step line (values hold for the day); vulnerable spans are shaded and the
    closure day marked. Returns the chart's parts for the ``power_chart`` template macro.
    """
    p = run.power[(run.power["region"] == region) & (run.power["capability"] == capability)]
    horizon = max(int(run.results.meta.get("horizon_days", 0)), 1)
    top = float(p[["power", "required", "threat"]].to_numpy().max()) if len(p) else 1.0
    ticks = _ticks(top * 1.05 or 1.0)
    ymax = max(ticks[-1], top * 1.05, 1e-9)
    w, h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(day: float) -> float:
        return round(PAD_L + w * day / horizon, 1)

    def y(v: float) -> float:
        return round(PAD_T + h * (1 - v / ymax), 1)

    series = []
    days = p["day"].to_numpy(dtype=float)
    for key, (colour, dash, label) in SERIES_STYLE.items():
        values = p[key].to_numpy(dtype=float)
        if not len(values) or (key != "power" and not np.any(values > 0)):
            continue
        pts: list[str] = []
        for i, (d, v) in enumerate(zip(days, values, strict=True)):
            end = days[i + 1] if i + 1 < len(days) else horizon
            pts.append(f"{x(d)},{y(v)} {x(end)},{y(v)}")
        series.append(
            {"key": key, "label": label, "colour": colour, "dash": dash, "points": " ".join(pts)}
        )
    spans = run.spans[run.spans["region"] == region]
    shades = (
        [
            {
                "x": x(start),
                "w": round(x(end) - x(start), 1),
                "start": int(start),
                "end": int(end),
            }
            for start, end in zip(
                spans["start"].to_numpy(dtype=float),
                spans["end"].to_numpy(dtype=float),
                strict=True,
            )
        ]
        if capability == "land"
        else []
    )
    caps = run.assessment.capabilities
    row = caps[(caps["region"] == region) & (caps["capability"] == capability)]
    closure = None
    if len(row) and not pd.isna(row["closure_day"].iloc[0]):
        closure = int(row["closure_day"].iloc[0])
    step = 30 if horizon > 90 else 10
    return {
        "title": f"{run.regions.set_index('region')['name'].get(region, region)}: "
        f"{report_data.CAPABILITY_LABELS.get(capability, capability)}",
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "bottom": CHART_H - PAD_B,
        "yticks": [{"y": y(t), "label": cell(float(t))} for t in ticks],
        "xticks": [{"x": x(d), "label": str(d)} for d in range(0, horizon + 1, step)],
        "series": series,
        "shades": shades,
        "closure": None if closure is None else {"x": x(closure), "day": closure},
        "warning": {"x": x(float(run.results.meta.get("warning_day", 0.0)))},
    }


def capabilities_of(run: Run, region: str) -> list[str]:
    """The capabilities shown for a region, in the standard order."""
    present = set(run.power.loc[run.power["region"] == region, "capability"])
    return [c for c in report_data.CAPABILITY_LABELS if c in present]


# --- the movement chart (Gantt) ------------------------------------------------------------

#: Each kind of leg: colour (Okabe-Ito; modes as on the map) and bar thickness (a share of the
#: row), so that waiting and the stages at either end differ from moves by shape, not colour only.
LEG_STYLE: dict[str, tuple[str, float]] = {
    **{mode: (colour, 0.7) for mode, (colour, _dash) in MODE_STYLE.items()},
    "notice_to_move": ("#999999", 0.3),
    "waiting": ("#D55E00", 0.45),
    "draw": ("#F0E442", 0.55),
    "rsom": ("#000000", 0.3),
}
GANTT_LABEL_W, GANTT_ROW_H, GANTT_TOP, GANTT_BOTTOM = 230.0, 18.0, 10.0, 38.0


def _day_ticks(horizon: float) -> list[int]:
    step = 30 if horizon > 120 else 10 if horizon > 30 else 5
    return list(range(0, int(horizon) + 1, step))


def gantt_chart(run: Run, region: str) -> dict[str, Any]:
    """One region's unit movements as SVG geometry: a row per unit and load, a bar per leg.

    The bars are the report's (:func:`forcemodel.report.data.gantt_frame`: the units that close
    first, at most ``UNITS_PER_REGION`` of a region); this only scales them to the page.
    """
    bars = run.gantt[run.gantt["region"] == region]
    counts = run.gantt_counts[run.gantt_counts["region"] == region]
    shown = int(counts["shown"].iloc[0]) if len(counts) else 0
    total = int(counts["total"].iloc[0]) if len(counts) else 0
    rows = list(dict.fromkeys(bars["row"]))
    horizon = float(max(int(run.results.meta.get("horizon_days", 0)), 1))
    end = float(bars["end"].max()) if len(bars) else horizon
    warning = float(run.results.meta.get("warning_day", 0.0))
    x_max = min(horizon, max(1.08 * end, 2.0 * warning, 1.0))
    width = CHART_W + 200.0
    w = width - GANTT_LABEL_W - PAD_R
    height = GANTT_TOP + GANTT_ROW_H * max(len(rows), 1) + GANTT_BOTTOM
    index = {r: i for i, r in enumerate(rows)}

    def x(day: float) -> float:
        return round(GANTT_LABEL_W + w * min(max(day, 0.0), x_max) / x_max, 1)

    marks = []
    for b in bars.to_dict("records"):
        cat = str(b["category"])
        colour, share = LEG_STYLE.get(cat, ("#555555", 0.5))
        start, stop = float(b["start"]), float(b["end"])
        if start >= x_max:
            continue
        where = str(b["from"]) if b["from"] == b["to"] else f"{b['from']} → {b['to']}"
        wait = report_data.number(b["wait_days"]) or 0.0
        title = (
            f"{b['unit']} ({b['load']}), {report_data.LEG_LABELS.get(cat, cat)}: {where}, "
            f"day {start:.2f} → {stop:.2f}"
        )
        if cat == "waiting" and wait > 0 and b["wait_reason"]:
            title += f"; waited {wait:.2f} d for {b['wait_reason']}"
        mid = GANTT_TOP + GANTT_ROW_H * (index[b["row"]] + 0.5)
        bar_h = round(GANTT_ROW_H * share, 1)
        marks.append(
            {
                "x": x(start),
                "y": round(mid - bar_h / 2, 1),
                "w": max(round(x(stop) - x(start), 1), 0.8),
                "h": bar_h,
                "colour": colour,
                "category": cat,
                "title": title,
            }
        )
    present = set(bars["category"])
    bottom = height - GANTT_BOTTOM
    return {
        "title": f"{run.regions.set_index('region')['name'].get(region, region)}: "
        f"{report_data.TITLES['gantt'].lower()}",
        "width": width,
        "height": round(height, 1),
        "left": GANTT_LABEL_W,
        "right": width - PAD_R,
        "top": GANTT_TOP,
        "bottom": round(bottom, 1),
        "rows": [
            {"label": r, "y": round(GANTT_TOP + GANTT_ROW_H * (i + 0.5) + 4, 1)}
            for i, r in enumerate(rows)
        ],
        "bars": marks,
        "xticks": [{"x": x(d), "label": str(d)} for d in _day_ticks(x_max)],
        "warning": {"x": x(warning), "day": warning} if warning < x_max else None,
        "legend": [
            {"category": c, "label": report_data.LEG_LABELS.get(c, c)}
            for c in LEG_STYLE
            if c in present
        ],
        "shown": shown,
        "total": total,
    }


# --- bottlenecks: utilisation of the busiest servers by day ---------------------------------

#: Servers in the bottleneck chart (the busiest first).
BOTTLENECK_ROWS = 20
#: Utilisation bands of the chart: upper bound (exclusive) and colour, light to dark (one hue,
#: so that order reads without colour vision); at capacity is the darkest and also marked.
UTILISATION_BANDS = (
    (0.25, "#deebf7"),
    (0.5, "#9ecae1"),
    (0.75, "#4292c6"),
    (AT_CAPACITY, "#08519c"),
    (math.inf, "#08306b"),
)


#: A day's cell at least this wide (SVG units) also carries a × when at capacity; narrower
#: cells would turn the marks into noise (the darkest band still says it).
MARK_MIN_W = 8.0


def bottleneck_chart(run: Run) -> dict[str, Any]:
    """The busiest servers' utilisation by day as SVG geometry (the report's heat map data,
    :func:`forcemodel.report.data.server_frames`): a row per server, a cell per loaded day."""
    servers = run.servers
    horizon = float(max(int(run.results.meta.get("horizon_days", 0)), 1))
    width = CHART_W + 200.0
    w = width - GANTT_LABEL_W - PAD_R
    keys = list(zip(servers["server"], servers["kind"], strict=True))
    rows = [f"{s} ({k})" for s, k in keys]
    index = {key: i for i, key in enumerate(keys)}
    height = GANTT_TOP + GANTT_ROW_H * max(len(rows), 1) + GANTT_BOTTOM
    day_w = w / horizon

    def x(day: float) -> float:
        return round(GANTT_LABEL_W + day_w * day, 1)

    cells = []
    util = run.utilisation
    for s, k, day, u in zip(
        util["server"], util["kind"], util["day"], util["utilisation"], strict=True
    ):
        value = float(u)
        if value <= 0 or (s, k) not in index or float(day) >= horizon:
            continue
        colour = next(c for top, c in UTILISATION_BANDS if value < top)
        cells.append(
            {
                "x": x(float(day)),
                "y": round(GANTT_TOP + GANTT_ROW_H * index[(s, k)] + 1, 1),
                "w": round(max(day_w, 0.8), 2),
                "h": GANTT_ROW_H - 2,
                "colour": colour,
                "full": value >= AT_CAPACITY and day_w >= MARK_MIN_W,
                "title": f"{s} ({k}), day {int(day)}: {value:.0%} of capacity",
            }
        )
    return {
        "title": "Bottlenecks: utilisation of the busiest links, nodes, lift pools and RSOM by day",
        "width": width,
        "height": round(height, 1),
        "left": GANTT_LABEL_W,
        "right": width - PAD_R,
        "top": GANTT_TOP,
        "bottom": round(height - GANTT_BOTTOM, 1),
        "rows": [
            {"label": r, "y": round(GANTT_TOP + GANTT_ROW_H * (i + 0.5) + 4, 1)}
            for i, r in enumerate(rows)
        ],
        "cells": cells,
        "xticks": [{"x": x(d), "label": str(d)} for d in _day_ticks(horizon)],
        "bands": [
            {"colour": c, "label": _band_label(i, day_w >= MARK_MIN_W)}
            for i, (_top, c) in enumerate(UTILISATION_BANDS)
        ],
    }


def _band_label(i: int, marked: bool) -> str:
    full = "at capacity (marked ×)" if marked else "at capacity"
    return ("under 25 %", "25–50 %", "50–75 %", "75 % to capacity", full)[i]


# --- maps ---------------------------------------------------------------------------------

MAP_W = 1000.0


@dataclass(frozen=True)
class Projection:
    """Equirectangular at the view's mid-latitude, to an SVG of width ``MAP_W``."""

    view: BBox

    @property
    def scale(self) -> float:
        return MAP_W / max(self.view[2] - self.view[0], 1e-6)

    @property
    def ratio(self) -> float:
        return report_data.aspect(self.view)

    @property
    def height(self) -> float:
        return round((self.view[3] - self.view[1]) * self.scale * self.ratio, 1)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            round((lon - self.view[0]) * self.scale, 1),
            round((self.view[3] - lat) * self.scale * self.ratio, 1),
        )

    def path(self, ring: np.ndarray, closed: bool) -> str:
        pts = [self.xy(float(lon), float(lat)) for lon, lat in ring]
        text = "M" + " L".join(f"{a},{b}" for a, b in pts)
        return text + ("Z" if closed else "")


def scenario_map(scenario: Scenario) -> dict[str, Any]:
    """A scenario's network as SVG parts: outlines, links by mode, nodes, regions, stocks."""
    reception = {r.reception: r.name or r.id for r in scenario.regions}
    nodes = pd.DataFrame(
        [
            {
                "id": n.id,
                "name": n.name or n.id,
                "kind": str(n.kind),
                "country": n.country,
                "lon": n.lon,
                "lat": n.lat,
                "tons_in": 0.0,
                "region": reception.get(n.id, ""),
            }
            for n in scenario.nodes
        ],
        columns=["id", "name", "kind", "country", "lon", "lat", "tons_in", "region"],
    )
    view = report_data.map_view(nodes, scenario)
    proj = Projection(view)
    pad = report_data.OUTLINE_MARGIN_DEG
    borders, land = outlines((view[0] - pad, view[1] - pad, view[2] + pad, view[3] + pad))
    pos = {n.id: proj.xy(n.lon, n.lat) for n in scenario.nodes}
    links = []
    for link in scenario.links:
        if link.from_ in pos and link.to in pos:
            colour, dash = MODE_STYLE.get(str(link.mode), ("#555555", ""))
            (x0, y0), (x1, y1) = pos[link.from_], pos[link.to]
            links.append(
                {
                    "id": link.id,
                    "mode": str(link.mode),
                    "colour": colour,
                    "dash": dash,
                    "x0": x0,
                    "y0": y0,
                    "x1": x1,
                    "y1": y1,
                    "title": f"{link.id}: {link.from_} → {link.to} ({link.mode})",
                }
            )
    stocks: dict[str, int] = {}
    for s in scenario.stocks:
        stocks[s.depot] = stocks.get(s.depot, 0) + 1
    units_at: dict[str, list[str]] = {}
    for u in scenario.units:
        units_at.setdefault(u.home, []).append(u.id)
    in_place = {r.reception: sum(f.count for f in r.in_place) for r in scenario.regions}
    node_marks = []
    for n in scenario.nodes:
        x, y = pos[n.id]
        node_marks.append(
            {
                "id": n.id,
                "x": x,
                "y": y,
                "kind": str(n.kind),
                "region": reception.get(n.id, ""),
                "stocks": stocks.get(n.id, 0),
                "units": len(units_at.get(n.id, [])),
                "in_place": in_place.get(n.id, 0),
                "title": f"{n.id} ({n.kind}, {n.country})"
                + (f"; {len(units_at[n.id])} unit(s) at home" if n.id in units_at else "")
                + (f"; {stocks[n.id]} pre-positioned stock(s)" if n.id in stocks else "")
                + (f"; reception of {reception[n.id]}" if n.id in reception else ""),
            }
        )
    return {
        "width": MAP_W,
        "height": proj.height,
        "land": [proj.path(r, True) for r in land],
        "borders": [proj.path(r, False) for r in borders],
        "links": links,
        "nodes": node_marks,
        "modes": [
            {"mode": m, "colour": c, "dash": d}
            for m, (c, d) in MODE_STYLE.items()
            if any(str(link.mode) == m for link in scenario.links)
        ],
    }
