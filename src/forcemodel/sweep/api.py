"""The sweep API: prepare a plan of runs, run it, summarise it (docs/sweep.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from forcemodel.common.errors import Problem
from forcemodel.scenario.load import RawScenario
from forcemodel.sweep.aggregate import SENSITIVITY_METHODS, sobol_indices, summary
from forcemodel.sweep.aggregate import sensitivity as spearman
from forcemodel.sweep.draws import draw
from forcemodel.sweep.run import Progress, cluster, execute
from forcemodel.sweep.spec import Param, Plan, SweepError, prepare
from forcemodel.sweep.store import SWEEP_FORMAT, Store, read_runs, runs_schema
from forcemodel.sweep.worker import point_of


@dataclass(frozen=True)
class SweepResult:
    """Where a sweep's tables lie, and the small ones in memory."""

    folder: Path
    runs: int
    ran: int
    failed: int
    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    horizon_days: int
    #: First-order Sobol indices (``sensitivity="sobol"``), else None.
    sobol: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        """The runs table (every run's figures with its parameters and draws)."""
        frame: pd.DataFrame = read_runs(self.folder).to_pandas()
        return frame


def sweep(
    scenario: str | Path | RawScenario,
    *,
    draws: int,
    seed: int,
    out: str | Path,
    params: Sequence[str | Param] = (),
    settings: Sequence[str] = (),
    uncertainty: str | Path | None = None,
    workers: int = 0,
    scheduler: str | Any | None = None,
    progress: Progress | None = None,
    sensitivity: str = "spearman",
) -> SweepResult:
    """Run a sweep: every grid point of ``params`` (``PATH=LIST|RANGE``) times ``draws``.

    ``scenario``: a path, a bundled name or a :class:`RawScenario`; ``settings``: ``--set``
    changes for every run; ``uncertainty``: a YAML file (or bundled name) replacing the
    scenario's ``uncertainty`` section. Runs on a local pool of ``workers`` processes, or on
    the Dask cluster at ``scheduler`` (``tcp://HOST:PORT`` or a ``distributed.Client``). Rows
    go to ``out`` as runs finish; a second call with the same input resumes there. Raises
    :class:`SweepError` (located) before any run when the input is wrong. ``sensitivity``:
    ``spearman`` (rank correlation, always computed) or ``sobol`` (first-order Sobol indices
    from SALib as well, in ``sobol.parquet``).
    """
    check_method(sensitivity)
    plan = prepare(
        scenario, draws=draws, seed=seed, params=params, settings=settings, uncertainty=uncertainty
    )
    return run_sweep(
        plan,
        out,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        sensitivity=sensitivity,
    )


def check_method(method: str) -> None:
    """Refuse an unknown sensitivity method (located at the option)."""
    if method not in SENSITIVITY_METHODS:
        known = ", ".join(SENSITIVITY_METHODS)
        raise SweepError([Problem("--sensitivity", None, "", f"'{method}' is not one of {known}")])


def run_sweep(
    plan: Plan,
    out: str | Path,
    *,
    workers: int = 0,
    scheduler: str | Any | None = None,
    progress: Progress | None = None,
    sensitivity: str = "spearman",
) -> SweepResult:
    """Run a checked plan (see :func:`sweep`)."""
    check_method(sensitivity)
    method = sensitivity
    folder = Path(out)
    first = point_of(plan, 0)
    horizon = first.scenario.meta.horizon_days
    inputs: dict[str, None] = {}
    for p in range(min(len(plan.points), 50)):
        pt = point_of(plan, p)
        inputs.update(
            dict.fromkeys(draw(pt.scenario, pt.uncertainty, plan.seed, 0, pt.fixed).inputs)
        )
    meta = {
        "sweep_format": SWEEP_FORMAT,
        "scenario": first.scenario.meta.name,
        "digest": plan.digest,
        "seed": plan.seed,
        "draws": plan.draws,
        "points": len(plan.points),
        "runs": plan.runs,
        "params": [{"path": p.path, "values": list(p.values)} for p in plan.params],
        "settings": list(plan.settings),
        "horizon_days": horizon,
        "regions": list(plan.regions),
    }
    store = Store(folder, plan, runs_schema(plan, inputs), meta)
    # The scheduler is reached (or refused) before the folder is touched.
    with cluster(workers, scheduler) as where:
        done = store.open()
        todo = [r for r in range(plan.runs) if r not in done]
        if progress is not None:
            progress(len(done), plan.runs, 0)
        execute(plan, todo, where, store.write, progress, done_before=len(done))
    store.finish()
    # The summaries need the figures, not the daily curves: about 2 KB a run of 8 regions.
    scalar = [n for n in store.schema.names if n not in ("land_power", "land_required")]
    runs = read_runs(folder, columns=scalar).to_pandas()
    failed = int(runs.loc[runs["error"].notna(), "run"].nunique())
    summ = summary(runs, horizon)
    sens = spearman(runs, horizon)
    sobol = sobol_indices(runs, horizon, seed=plan.seed) if method == "sobol" else None
    for name, frame in (("summary", summ), ("sensitivity", sens), ("sobol", sobol)):
        if frame is not None:
            _atomic_frame(frame, folder / name)
    store.close({"failed": failed, "where": where.where})
    return SweepResult(folder, plan.runs, len(todo), failed, summ, sens, horizon, sobol)


def _atomic_frame(frame: pd.DataFrame, stem: Path) -> None:
    for suffix in (".parquet", ".csv"):
        path = stem.with_suffix(suffix)
        tmp = path.with_name(f".{path.name}.tmp")
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, lineterminator="\n")
        tmp.replace(path)
