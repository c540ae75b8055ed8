"""Whole-unit targets: the continuous fair shares rounded to whole steps by a small MIP.

Where integrality matters (whole brigades, squadrons, ships) each ally's target is
``step · n_a`` with ``n_a`` whole. The MIP (HiGHS through :mod:`forcemodel.mip`) keeps the
targets' sum at the requirement rounded up to whole steps, every floor and cap, and otherwise
stays as close as it can to the continuous fair shares: it minimises ``Σ |step · n_a − t_a|``,
which rounds up the allies with the largest remainders first (docs/capability.md).
"""

from __future__ import annotations

import math

import linopy
import numpy as np
import pandas as pd

from forcemodel.mip.errors import InfeasibleError, NoSolutionError
from forcemodel.mip.solve import SolverSettings, run_highs

#: The model has one integer per ally: HiGHS proves the optimum at once, so the answer never
#: depends on the clock; the time limit is only a safeguard.
_SETTINGS = SolverSettings(time_limit=60.0, mip_gap=0.0, threads=1)


def whole_targets(
    continuous: np.ndarray, step: float, lo: np.ndarray, hi: np.ndarray, requirement: float
) -> np.ndarray:
    """Targets in whole ``step``s nearest (L1) to ``continuous``, summing to the requirement
    rounded up to a whole step, within ``[lo, hi]`` (floors rounded up, caps down)."""
    n = len(continuous)
    if n == 0:
        return np.zeros(0)
    total = math.ceil(requirement / step - 1e-9)
    lo_n = np.ceil(np.asarray(lo, float) / step - 1e-9)
    hi_n = np.floor(np.asarray(hi, float) / step + 1e-9)
    goal = np.asarray(continuous, float) / step
    ix = pd.RangeIndex(n, name="ally")
    m = linopy.Model()
    count = m.add_variables(lower=lo_n, upper=hi_n, coords=[ix], name="count", integer=True)
    over = m.add_variables(lower=0.0, coords=[ix], name="over")
    under = m.add_variables(lower=0.0, coords=[ix], name="under")
    m.add_constraints(count.sum() == total, name="requirement")
    m.add_constraints(count - over + under == goal, name="deviation")
    m.add_objective((over + under).sum())
    outcome = run_highs(m, _SETTINGS, mip=True)
    if not outcome.has_solution:
        if outcome.termination == "infeasible":
            raise InfeasibleError("no whole-step targets meet the floors and caps")
        raise NoSolutionError(f"HiGHS found no whole-step targets ({outcome.termination})")
    solved = np.rint(count.solution.to_numpy()) + 0.0  # + 0.0: no "-0" in the tables
    return np.asarray(solved * step, dtype=float)
