"""Sweeps: many worlds of one scenario, a grid of parameters times Monte Carlo draws.

``sweep(...)`` runs them over a local process pool or a Dask cluster, streams every run's key
figures to a Parquet table as it finishes (resumable), and summarises: P10/P50/P90 bands and
Spearman rank-correlation sensitivity (docs/sweep.md). The attacker's and defender's searches
are in :mod:`forcemodel.sweep.attack`.
"""

from __future__ import annotations

from forcemodel.sweep.api import SweepResult, run_sweep, sweep
from forcemodel.sweep.run import cluster
from forcemodel.sweep.spec import Param, Plan, SweepError, prepare
from forcemodel.sweep.store import read_runs

__all__ = [
    "Param",
    "Plan",
    "SweepError",
    "SweepResult",
    "cluster",
    "prepare",
    "read_runs",
    "run_sweep",
    "sweep",
]
