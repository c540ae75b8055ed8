"""The tiny scenario as data, and writers of scenarios as files or folders (tests' helpers)."""

from __future__ import annotations

import copy
import csv
import io
import itertools
from pathlib import Path
from typing import Any

import linopy
import numpy as np
import yaml

from forcemodel.scenario.load import bundled_scenarios

TINY_PATH: Path = bundled_scenarios()["tiny"]
TINY_TEXT: str = TINY_PATH.read_text(encoding="utf-8")
_TINY_DATA: dict[str, Any] = yaml.safe_load(TINY_TEXT)

#: Tables written as CSV files in the folder form (regions and threats are nested: YAML).
FOLDER_CSV_TABLES = ("nodes", "links", "lift_pools", "units", "stocks", "disruptions")

_counter = itertools.count()


def tiny_raw() -> dict[str, Any]:
    """A fresh deep copy of the tiny scenario's YAML data."""
    return copy.deepcopy(_TINY_DATA)


def tiny_with_poland() -> dict[str, Any]:
    """tiny with a second defended region, to which the tier-2 brigade is pre-assigned."""
    raw = tiny_raw()
    raw["regions"].append(
        {
            "id": "poland",
            "reception": "depot-p",
            "in_place": [{"type": "infantry_brigade", "count": 1, "nation": "PL"}],
            "rsom": {"t_per_day": 5000, "days": 2},
            "requirement": {"land": [[0, 1], [20, 3]]},
        }
    )
    raw["units"][1]["assigned_to"] = "poland"
    return raw


def model_violations(m: linopy.Model, values: np.ndarray, tol: float = 1e-6) -> list[str]:
    """Rows, bounds and integrality of ``m`` that ``values`` (by label) break."""
    bad: list[str] = []
    for name in m.constraints:
        c = m.constraints[name]
        v, co = c.vars.to_numpy(), c.coeffs.to_numpy()
        lhs = (np.where(v >= 0, values[np.maximum(v, 0)], 0.0) * np.where(v >= 0, co, 0)).sum(-1)
        rhs, sign = c.rhs.to_numpy(), c.sign.to_numpy()
        over = np.where(sign == "<=", lhs - rhs, np.where(sign == ">=", rhs - lhs, abs(lhs - rhs)))
        if ((c.labels.to_numpy() >= 0) & (over > tol * np.maximum(1.0, abs(rhs)))).any():
            bad.append(name)
    for name in m.variables:
        var = m.variables[name]
        lab = var.labels.to_numpy()
        x = values[np.maximum(lab, 0)]
        out = (x < var.lower.to_numpy() - tol) | (x > var.upper.to_numpy() + tol)
        if name in m.variables.integers or name in m.variables.binaries:
            out |= abs(x - np.round(x)) > tol
        if ((lab >= 0) & out).any():
            bad.append(name)
    return bad


def line_of(text: str, needle: str, start: int = 1) -> int:
    """1-based number of the first line at or after ``start`` that contains ``needle``."""
    for n, line in enumerate(text.splitlines(), 1):
        if n >= start and needle in line:
            return n
    raise AssertionError(f"{needle!r} not in the text")


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested fields as dotted columns: {'transship': {'hours': 1}} -> {'transship.hours': 1}."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def csv_text(rows: list[dict[str, Any]]) -> str:
    """A CSV table of the rows, nested fields as dotted columns, columns in first-seen order."""
    flat = [flatten(r) for r in rows]
    columns: list[str] = []
    for r in flat:
        columns.extend(c for c in r if c not in columns)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in flat:
        writer.writerow(["" if r.get(c) is None else _cell(r.get(c)) for c in columns])
    return buf.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_yaml(directory: Path, data: Any, name: str = "scenario.yaml") -> Path:
    """Write ``data`` as a YAML file in ``directory``; returns the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_folder(
    directory: Path, data: dict[str, Any], tables: tuple[str, ...] = FOLDER_CSV_TABLES
) -> Path:
    """Write ``data`` as a scenario folder: ``scenario.yaml`` plus one CSV file per table.

    The CSV files are found by name (``nodes.csv``), not named in ``scenario.yaml``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rest = {k: v for k, v in data.items() if k not in tables}
    write_yaml(directory, rest)
    for table in tables:
        if table in data:
            (directory / f"{table}.csv").write_text(csv_text(data[table]), encoding="utf-8")
    return directory


class Writer:
    """Writes scenarios into fresh sub-folders of one folder (usable inside hypothesis tests)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def fresh(self) -> Path:
        """A new, empty folder."""
        path = self.root / f"s{next(_counter)}"
        path.mkdir(parents=True)
        return path

    def yaml(self, data: Any, name: str = "scenario.yaml") -> Path:
        """A YAML file holding ``data``."""
        return write_yaml(self.fresh(), data, name)

    def text(self, text: str | bytes, name: str = "scenario.yaml") -> Path:
        """A file holding exactly ``text``."""
        path = self.fresh() / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def folder(self, data: dict[str, Any], tables: tuple[str, ...] = FOLDER_CSV_TABLES) -> Path:
        """A scenario folder (``scenario.yaml`` and CSV tables) holding ``data``."""
        return write_folder(self.fresh() / "scenario", data, tables)
