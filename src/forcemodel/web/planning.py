"""What the planning dashboard shows of a finished run, read once and kept for a few pages.

Numbers come from the engines and the report's data layer (:mod:`forcemodel.report.data`,
:func:`forcemodel.assess`, :func:`forcemodel.assessment.compare.compare`); this module only
reads a finished job's folders. The rest of the dashboard's parts are in their own modules:
uploaded scenarios (:mod:`.uploads`), tables (:mod:`.tables`), charts (:mod:`.charts`) and the
scenario map (:mod:`.mapview`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forcemodel.assessment import Assessment, assess
from forcemodel.report import data as report_data
from forcemodel.results import Results
from forcemodel.scenario.load import load_scenario
from forcemodel.scenario.model import Scenario
from forcemodel.web import work

# Names that moved to their own modules and that the tests and benchmarks read from here.
from forcemodel.web.charts import BOTTLENECK_ROWS as BOTTLENECK_ROWS
from forcemodel.web.charts import MARK_MIN_W as MARK_MIN_W
from forcemodel.web.charts import bottleneck_chart as bottleneck_chart
from forcemodel.web.uploads import scenario_dir as scenario_dir


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
#: The sweep's charts (PNG, by forcemodel.sweep.plots.sweep_plots) and tables the page offers.
SWEEP_FIGURES = {
    "fan": "Fan chart: land combat power by day per region (P10 to P90, median, requirement)",
    "window": "Window of vulnerability across the runs",
    "closure": "Closure day against the swept parameter",
    "tornado": "What moves the closure of the region that closes latest (tornado)",
}
SWEEP_TABLES = ("summary", "sensitivity")


def sweep_tables(job_dir: Path) -> dict[str, pd.DataFrame]:
    """A finished sweep's summary and sensitivity tables, as the sweep wrote them."""
    out: dict[str, pd.DataFrame] = {}
    for name in ("summary", "sensitivity"):
        path = job_dir / SWEEP_FOLDER / f"{name}.csv"
        if path.is_file():
            out[name] = pd.read_csv(path)
    return out


#: Where an optimising job keeps its plan (the optimiser's folder), beside its results folder.
PLAN_FOLDER = work.PLAN_FOLDER


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
