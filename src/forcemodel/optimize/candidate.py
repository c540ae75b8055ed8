"""A plan found by the search, and the names of the stages that find plans."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forcemodel.optimize.model import BuiltModel

#: Stages that find plans (the provenance printed with the plan).
PLANNER = "day-0 planner"
FALLBACK = "day-0 planner (scored without the shared capacities)"
LP_INTEGRAL = "LP relaxation, integral"
RENS = "sub-MIP around the LP"
REGIONS = "search by groups of regions (scored without the shared capacities)"
WHOLE_MIP = "whole MIP"
SIMULATED = "simulated search"


@dataclass(frozen=True)
class Candidate:
    """A plan found by the search.

    ``value``: its objective in the model (``shared=False``: in the model without the shared
    capacities on the way, a relaxation); ``stage``: the stage that found it (one of this
    module's names, or a blend's); ``z``: its option choices; ``built``: the LP with its
    choices fixed, solved (its solution is the plan's).
    """

    value: float
    stage: str
    z: np.ndarray
    built: BuiltModel
    shared: bool = True
    #: The day-0 planner's plan (as scored, or as the fallback).
    planner: bool = False


def value_of(built: BuiltModel) -> float:
    """The objective of a solved model (``inf`` if it has none)."""
    value = built.model.objective.value
    return float(value) if value is not None else math.inf
