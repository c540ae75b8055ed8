"""flow: move every unit to its region under the network's capacities (docs/simulation.md).

This package only re-exports; the run is :mod:`forcemodel.flow.simulation`, the day-0 planner
:mod:`.plan`, the engine :mod:`.engine` over its compiled core :mod:`.core`.
"""

from forcemodel.flow.plan import UnreachableError
from forcemodel.flow.simulation import simulate

__all__ = ["UnreachableError", "simulate"]
