"""The bundled uncertainty files follow the scenario's JSON Schema and load."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from forcemodel.scenario.schema import scenario_json_schema
from forcemodel.sweep.spec import prepare

DATA = Path(__file__).resolve().parents[2] / "src/forcemodel/sweep/data"


@pytest.mark.parametrize("name", ["tiny", "eastern-flank"])
def test_bundled_uncertainty_matches_the_schema(name: str) -> None:
    full = scenario_json_schema()
    section = {"$ref": "#/$defs/Uncertainty", "$defs": full["$defs"]}
    data = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, section)
    assert full["properties"]["uncertainty"]["anyOf"][0] == {"$ref": "#/$defs/Uncertainty"}
    # And it loads against its scenario, every reference resolved.
    plan = prepare(name, draws=1, seed=0, uncertainty=name)
    assert plan.runs == 1


def test_a_bad_distribution_is_refused_by_the_schema() -> None:
    full = scenario_json_schema()
    section = {"$ref": "#/$defs/Uncertainty", "$defs": full["$defs"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"hazards": [{"id": "h", "kind": "sabotage", "targets": ["a"], "probability": 1.5}]},
            section,
        )
