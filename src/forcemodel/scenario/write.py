"""Writing scenario data as files: a scenario folder (scenario.yaml plus CSV tables).

The reader is :mod:`forcemodel.scenario.load`; this is its counterpart, used by the synthetic
generator, ``forcemodel synthetic`` and the optimiser's written plans. The same data always
gives the same bytes, and every folder is written atomically.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from forcemodel.common.folders import staged_folder
from forcemodel.scenario.model import NO_LIMIT

if TYPE_CHECKING:
    from forcemodel.scenario.model import Scenario

__all__ = ["FOLDER_CSV_TABLES", "scenario_folder_files", "write_files", "write_scenario_folder"]

#: Tables written as CSV files in a scenario folder; everything else goes into scenario.yaml.
FOLDER_CSV_TABLES = ("nodes", "links", "lift_pools", "units", "stocks", "disruptions")


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """A loaded scenario as raw data in the scenario format, defaults resolved: what
    :func:`write_scenario_folder` writes and :func:`forcemodel.load_scenario_data` reads back to
    the same scenario.

    Absent values are left out (so that they load as absent), except a unit's "no road-march
    limit", which would otherwise load as its type's limit: it is written as ``none``.
    """
    data: dict[str, Any] = scenario.model_dump(by_alias=True, mode="json", exclude_none=True)
    for raw, unit in zip(data.get("units", []), scenario.units, strict=True):
        if unit.max_road_march_km is None:
            raw["max_road_march_km"] = NO_LIMIT
    return data


def write_scenario_folder(data: dict[str, Any], path: Path) -> None:
    """Write scenario data as a folder: ``scenario.yaml`` plus one CSV file per long table.

    ``nodes``, ``links``, ``lift_pools``, ``units``, ``stocks`` and ``disruptions`` become CSV
    files (nested fields as dotted columns such as ``transship.t_per_day`` or ``power.land``;
    empty cells where a row leaves a field out, so that defaults apply) referenced from
    ``scenario.yaml``, which holds everything else (meta, tiers, regions, threats, ...).

    The same data always gives the same bytes. Writing is atomic: the files go into a
    temporary sibling folder that is renamed into place only when all are written, so an
    existing folder at ``path`` is replaced only on success and a failure leaves it untouched
    and nothing half-written behind.
    """
    files = scenario_folder_files(data)  # render everything before touching the file system
    with staged_folder(Path(path)) as tmp:
        write_files(tmp, files)


def write_files(folder: Path, files: dict[str, str]) -> None:
    """Write name -> text into ``folder`` as UTF-8 with the newlines as given."""
    for name, text in files.items():
        with open(folder / name, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)


def scenario_folder_files(data: dict[str, Any]) -> dict[str, str]:
    """File name -> text of a scenario folder, in a fixed order."""
    doc: dict[str, Any] = {}
    files: dict[str, str] = {}
    for key, value in data.items():
        # An empty table stays in scenario.yaml: a CSV file without a header would be empty.
        if key in FOLDER_CSV_TABLES and isinstance(value, list) and value:
            name = f"{key}.csv"
            files[name] = _csv_text(key, value)
            doc[key] = name
        else:
            doc[key] = value
    header = "# Scenario folder written by forcemodel.scenario.write.\n"
    text = header + yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return {"scenario.yaml": text, **files}


class _Dumper(yaml.SafeDumper):
    """Block style, except that lists of plain values (and curves of them) stay on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(
        not isinstance(v, (dict, list, tuple))
        or (isinstance(v, (list, tuple)) and not any(isinstance(x, (dict, list)) for x in v))
        for v in data
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_Dumper.add_representer(list, _represent_list)


def _csv_text(table: str, rows: list[dict[str, Any]]) -> str:
    flat = [_flatten_row(table, i, row) for i, row in enumerate(rows)]
    columns: dict[str, None] = {}
    for row in flat:
        for col in row:
            columns.setdefault(col, None)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in flat:
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue()


def _flatten_row(table: str, i: int, row: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in row.items():
        col = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten_row(table, i, value, col + "."))
        elif isinstance(value, (list, tuple)):
            raise ValueError(f"{table}[{i}].{col}: a list cannot be written to a CSV cell")
        else:
            out[col] = _cell(value)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
