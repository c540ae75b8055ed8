"""Run HiGHS on a built model, directly (no LP file), with the user's solver settings."""

from __future__ import annotations

import functools
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import linopy

#: Solver methods the user can choose: HiGHS's ``solver`` option for an LP; for a MIP, the
#: method of the LP relaxations inside branch and bound (``mip_lp_solver``).
METHODS: tuple[str, ...] = ("choose", "simplex", "ipm", "pdlp")


@dataclass(frozen=True)
class SolverSettings:
    """What the user can set: time limit (s), relative optimality gap, method, threads.

    ``threads=None`` leaves HiGHS's default; use 1 inside parallel sweeps. ``node_limit`` and
    ``iteration_limit`` (HiGHS's ``mip_max_nodes`` and ``simplex_iteration_limit``) stop a
    solve by work done rather than by the clock, so that it stops at the same point on any
    machine; with one of them ``time_limit`` may be ``math.inf``.
    """

    time_limit: float = 60.0
    mip_gap: float = 1e-4
    method: str = "choose"
    threads: int | None = None
    node_limit: int | None = None
    iteration_limit: int | None = None

    @property
    def by_work(self) -> bool:
        """Whether a work limit (nodes or iterations) stops the solve."""
        return self.node_limit is not None or self.iteration_limit is not None

    def check(self, *, mip: bool) -> None:
        """Raise :class:`ValueError` in plain words for a setting that cannot be used."""
        finite = math.isfinite(self.time_limit) or (self.by_work and self.time_limit == math.inf)
        if not (finite and self.time_limit > 0):
            raise ValueError(
                f"the time limit must be more than 0 seconds and finite, got {self.time_limit}"
            )
        for name, limit in (("node", self.node_limit), ("iteration", self.iteration_limit)):
            if limit is not None and limit < 1:
                raise ValueError(f"the {name} limit must be 1 or more, got {limit}")
        if not (math.isfinite(self.mip_gap) and self.mip_gap >= 0):
            raise ValueError(f"the optimality gap must be 0 or more, got {self.mip_gap}")
        if self.method not in METHODS:
            raise ValueError(f"unknown method '{self.method}': use one of {', '.join(METHODS)}")
        if mip and self.method == "pdlp":
            raise ValueError(
                "method 'pdlp' solves only linear programmes: use it with the LP relaxation "
                "(relax=True, --relax), or choose simplex, ipm or choose for the MIP"
            )
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be 1 or more, got {self.threads}")

    def highs_options(self, *, mip: bool) -> dict[str, Any]:
        """HiGHS option names and values for these settings."""
        opts: dict[str, Any] = {
            "time_limit": float(self.time_limit),
            "mip_rel_gap": float(self.mip_gap),
            "log_to_console": False,
            "output_flag": True,
        }
        opts["mip_lp_solver" if mip else "solver"] = self.method
        if self.node_limit is not None and mip:
            opts["mip_max_nodes"] = int(self.node_limit)
        if self.iteration_limit is not None:
            opts["simplex_iteration_limit"] = int(self.iteration_limit)
        if self.threads is not None:
            opts["threads"] = int(self.threads)
        return opts


@dataclass(frozen=True)
class SolveOutcome:
    """What the solver said: status words, objective, gap, run time and its log."""

    status: str  # linopy status: ok, warning, error, aborted, unknown
    termination: str  # optimal, infeasible, time_limit, ...
    has_solution: bool
    objective: float | None
    mip_gap: float | None
    runtime_s: float | None
    log: str
    #: A lower bound on the model's optimum where one is known (HiGHS's dual bound for a MIP,
    #: the optimum of an LP solved to optimality, or the search's best bound), else ``None``.
    bound: float | None = None


@functools.cache
def quiet_banner() -> None:
    """Print HiGHS's banner to nowhere: highspy prints it on stdout (C level, once a process)
    when the first ``Highs`` object is made, which would mix it into a command's tables. The
    first object is made here with stdout pointed at the null device."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def run_highs(
    model: linopy.Model,
    settings: SolverSettings,
    *,
    mip: bool,
    start: Path | linopy.Model | None = None,
    names: bool = False,
) -> SolveOutcome:
    """Solve ``model`` with HiGHS through linopy's direct interface and capture the log.

    ``start``: a HiGHS solution file (``.sol``, written by ``Highs.writeSolution`` for a model
    with the same columns) that HiGHS reads before it runs; for a MIP, its first incumbent.
    Or a solved model with the same columns (solved with ``names``): its solution is written
    to such a file here (none if it has no solver model).
    ``names``: give HiGHS linopy's column and row names (as it does for a ``start``), so that
    a solution written from this model can be read as the start of another built alike.
    """
    settings.check(mip=mip)
    quiet_banner()
    with tempfile.TemporaryDirectory(prefix="forcemodel-highs-") as tmp:
        log_path = Path(tmp) / "highs.log"
        if isinstance(start, linopy.Model):
            solved = start.solver_model
            start = Path(tmp) / "start.sol" if solved is not None else None
            if solved is not None:
                solved.writeSolution(str(start), 0)
        status, termination = model.solve(
            solver_name="highs",
            io_api="direct",
            log_fn=log_path,
            warmstart_fn=start,
            set_names=True if names else None,
            **settings.highs_options(mip=mip),
        )
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    value = model.objective.value
    has_solution = model.status in ("ok", "warning") and value is not None and math.isfinite(value)
    h = model.solver_model
    gap: float | None = None
    runtime: float | None = None
    bound: float | None = None
    if h is not None:
        info = h.getInfo()
        gap = float(info.mip_gap) if mip else None
        runtime = float(h.getRunTime())
        if mip and math.isfinite(float(info.mip_dual_bound)):
            bound = float(info.mip_dual_bound)
    if not mip and str(termination) == "optimal" and has_solution and value is not None:
        bound = float(value)
    return SolveOutcome(
        status=str(status),
        termination=str(termination),
        has_solution=has_solution,
        objective=float(value) if has_solution and value is not None else None,
        mip_gap=gap,
        runtime_s=runtime,
        log=log,
        bound=bound,
    )
