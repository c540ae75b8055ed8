"""What differs between two scenarios, field by field, in the paths that ``--set`` takes.

Both scenarios are compared in their validated, canonical form (every default filled in), so a
copy that only moved a value from a CSV table into the YAML file, or wrote a default out, shows
no difference. Items of a component table are matched by the name ``--set`` gives them (their
id; links without one by ``FROM_TO_MODE``; tiers by number, threats by region), so an item added
or removed is one line, not a shift of every item after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from forcemodel.scenario.model import Scenario
from forcemodel.scenario.paths import item_key

ChangeKind = Literal["changed", "added", "removed"]


@dataclass(frozen=True)
class Change:
    """One difference: the path, the value in A and in B (None where absent), and its kind."""

    path: str
    a: Any
    b: Any
    kind: ChangeKind

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.path}: added ({_short(self.b)})"
        if self.kind == "removed":
            return f"{self.path}: removed (was {_short(self.a)})"
        return f"{self.path}: {_short(self.a)} -> {_short(self.b)}"

    @property
    def table(self) -> str:
        """The top-level section the change is in (``nodes``, ``meta``, ``disruptions``)."""
        return self.path.split(".", 1)[0]

    @property
    def element(self) -> str | None:
        """The id of the table item changed (``lt-sestokai``), None for a top-level field."""
        parts = self.path.split(".")
        return parts[1] if len(parts) > 1 and self.table not in ("meta",) else None


def diff_scenarios(a: Scenario, b: Scenario) -> list[Change]:
    """Every difference from ``a`` to ``b``, in the order of the scenario format."""
    da = a.model_dump(by_alias=True, mode="json")
    db = b.model_dump(by_alias=True, mode="json")
    changes: list[Change] = []
    for key in list(da) + [k for k in db if k not in da]:
        _diff(da.get(key), db.get(key), key, key, changes, top=True)
    return changes


def _diff(va: Any, vb: Any, path: str, table: str, out: list[Change], top: bool = False) -> None:
    if va == vb:
        return
    if va is None or vb is None:
        kind: ChangeKind = "added" if va is None else "removed"
        out.append(Change(path, va, vb, kind))
        return
    if isinstance(va, dict) and isinstance(vb, dict):
        for key in list(va) + [k for k in vb if k not in va]:
            _diff(va.get(key), vb.get(key), f"{path}.{key}", table, out)
        return
    if top and isinstance(va, list) and isinstance(vb, list):
        ka, kb = _keyed(table, va), _keyed(table, vb)
        for key in list(ka) + [k for k in kb if k not in ka]:
            _diff(ka.get(key), kb.get(key), f"{path}.{key}", table, out)
        return
    out.append(Change(path, va, vb, "changed"))


def _keyed(table: str, items: list[Any]) -> dict[str, Any]:
    """Items by their ``--set`` name; a repeated or missing name falls back to the position."""
    out: dict[str, Any] = {}
    for n, item in enumerate(items):
        key = item_key(table, item)
        out[key if key is not None and key not in out else str(n)] = item
    return out


def _short(value: Any, width: int = 60) -> str:
    """A value on one line, cut to ``width`` characters; a table item by its main fields."""
    if isinstance(value, dict):
        shown = {k: v for k, v in value.items() if v is not None and k not in ("source", "name")}
        text = ", ".join(f"{k}={v}" for k, v in list(shown.items())[:6])
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."
