"""The JSON Schema of the scenario file format, derived from the models (one description)."""

from __future__ import annotations

from typing import Any

from forcemodel.common.read import CSV_TABLES
from forcemodel.scenario.model import FILLED_BY_LOADER, Scenario

SCHEMA_ID = "https://forcemodel.org/schema/scenario.json"


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario YAML file.

    Fields the loader fills (catalogue defaults, computed distances) are optional here, and
    tables that may live in a CSV file also accept the CSV file's name.
    """
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})
    for model, fields in FILLED_BY_LOADER.items():
        spec = defs.get(model)
        if spec and "required" in spec:
            spec["required"] = [f for f in spec["required"] if f not in fields]
            for f in fields:
                if f in spec.get("properties", {}):
                    prop = spec["properties"][f]
                    note = "Optional in a file: filled by the loader when left out."
                    prop["description"] = f"{prop.get('description', '')} {note}".strip()
    props = schema["properties"]
    for table in CSV_TABLES:
        if table in props:
            array = props[table]
            props[table] = {
                "description": f"A list of items, or the name of a CSV file holding {table}.",
                "anyOf": [array, {"type": "string", "pattern": r"\.csv$"}],
            }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "forcemodel scenario"
    schema["description"] = (
        "A forcemodel scenario: network, lift, units, stocks, regions, threats, disruptions."
    )
    return schema
