"""What the dashboard's simulation and optimisation jobs do, in the server or on a Dask worker.

Each task is ``task(progress, folder, ...)``: it runs the engine on a scenario (the object,
not a path: a Dask worker may not see the server's files) and writes the job's folders under
``folder``: ``results/`` (:meth:`forcemodel.results.Results.save`) and, for an optimisation,
``plan/`` (:meth:`forcemodel.optimize.OptimizationResult.save`). The server's pool runs them
with the job's folder (:mod:`.plan_pages`), the cluster with a temporary one whose files come
back (:mod:`.remote`). Imports nothing of the web application (a worker imports this module).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forcemodel.scenario.model import Scenario

#: The folders a job writes under its own folder.
RESULTS_FOLDER = "results"
PLAN_FOLDER = "plan"
#: The optimiser's loggers whose progress lines the run's page shows (as the CLI prints them).
OPTIMIZE_LOGGERS = (
    "forcemodel.optimize.progress",
    "forcemodel.optimize.refine",
    "forcemodel.optimize.simulated",
)


def simulate_task(say: Callable[[str], None], folder: Path, scenario: Scenario) -> None:
    """Simulate the scenario; its results in ``folder/results``."""
    from forcemodel.flow import simulate  # the engine loads on the first run, not at start

    results = simulate(scenario, progress=say)
    say("saving results")
    results.save(folder / RESULTS_FOLDER)


class ProgressLines(logging.Handler):
    """Passes the optimiser's progress lines to the job (whose ``say`` raises once the user
    cancels: the optimiser stops at its next progress line)."""

    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__(level=logging.INFO)
        self.say = say

    def emit(self, record: logging.LogRecord) -> None:
        self.say(record.getMessage().split("\n", 1)[0].strip("= "))


def optimize_task(
    say: Callable[[str], None],
    folder: Path,
    scenario: Scenario,
    name: str,
    seconds: int | None,
    limit_s: float,
    work: Any,
) -> None:
    """Optimise the scenario (the CLI's defaults: closure targets from the scenario as given),
    stopped after ``seconds`` or, with None, by the work limits ``work`` (``limit_s`` the time
    limit then); the plan in ``folder/plan``, its simulation in ``folder/results``."""
    from forcemodel.flow import simulate
    from forcemodel.optimize import WorkLimits, optimize
    from forcemodel.scenario.load import load_scenario_data

    say("optimizing: choosing each unit's region and set use")
    handler = ProgressLines(say)
    loggers = [logging.getLogger(n) for n in OPTIMIZE_LOGGERS]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        result = optimize(
            scenario,
            time_limit=float(seconds or limit_s),
            work=None if seconds else (work or WorkLimits()),
            closure_by="bundled",
        )
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    say(f"plan found ({result.termination.replace('_', ' ')}); saving it")
    result.save(folder / PLAN_FOLDER)
    planned = load_scenario_data(result.scenario_data(), f"{name} (optimised)")
    say("simulating the optimised plan")
    results = simulate(planned, progress=say)
    say("saving results")
    results.save(folder / RESULTS_FOLDER)
