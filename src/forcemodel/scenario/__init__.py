"""The scenario: its format, the catalogue of defaults, loading and validation."""

from forcemodel.common.errors import Problem, ScenarioError
from forcemodel.scenario.load import bundled_scenarios, load_scenario, load_scenario_data
from forcemodel.scenario.model import Scenario

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "bundled_scenarios",
    "load_scenario",
    "load_scenario_data",
]
