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

from forcemodel.assessment import Assessment, assess
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


def read_run(job_id: str, folder: Path, source: str) -> Run:
    """Load a job's results, assess them and prepare the frames its pages show."""
    results = Results.load(folder)
    scenario = load_scenario(source)
    assessment = assess(results)
    regions = report_data.region_frame(results, assessment, scenario)
    return Run(
        job_id=job_id,
        results=results,
        assessment=assessment,
        scenario=scenario,
        regions=regions,
        power=report_data.power_frame(results),
        spans=report_data.vulnerable_spans(assessment),
        tables=assessment_tables(assessment),
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
