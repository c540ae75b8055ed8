"""Field paths into a scenario: ``--set PATH=VALUE`` variants without copying any file.

A path names one value of the scenario as the files hold it, before defaults are filled:
``meta.warning_day``, ``nodes.lt-sestokai.transship.t_per_day``,
``units.de-pzbrig-45.assigned_to``, ``regions.lithuania.rsom.days``. Items of a component table
are named by their id (links without an id by ``FROM_TO_MODE``, tiers by their number, threats
by their region) or by their 0-based position (``stocks.0.sets``). The value is read as YAML
(``4000``, ``lithuania``, ``[[0, 3], [10, 6]]``, ``null`` to drop a value and take the default).
A whole new item is added by naming it and giving a mapping:
``disruptions.suwalki-cut={target: pl-suwalki, start_day: 5, days: 20, capacity_factor: 0}``.

Setting happens on the raw data, so the scenario is then validated exactly as if the file had
said so: a wrong value is reported like a file error, located at ``--set PATH=VALUE``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from forcemodel.common.errors import Problem
from forcemodel.common.read import Locations, Path_

#: Where problems with a setting are reported (the "file" of a :class:`Problem`).
SET_LABEL = "--set"

#: The field that names an item of a table when it has no ``id``.
_KEY_FIELDS = {"tiers": "tier", "threats": "region"}


@dataclass(frozen=True)
class Setting:
    """One ``PATH=VALUE``: the dotted path as written and the value read as YAML."""

    text: str
    path: tuple[str, ...]
    value: Any

    @property
    def label(self) -> str:
        """How problems with this setting are located: ``--set PATH=VALUE``."""
        return f"{SET_LABEL} {self.text}"


class SettingError(ValueError):
    """A ``PATH=VALUE`` that cannot be applied; ``problems`` says why, located."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_setting(text: str) -> Setting:
    """Read ``PATH=VALUE``; raises :class:`SettingError` when it is not of that form.

    >>> parse_setting("nodes.a.transship.t_per_day=4000").value
    4000
    """
    path_text, sep, value_text = text.partition("=")
    path = tuple(path_text.strip().split("."))
    if not sep or not path_text.strip() or any(not part for part in path):
        raise SettingError(
            [Problem(SET_LABEL, None, path_text.strip(), f"'{text}' is not of the form PATH=VALUE")]
        )
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SettingError(
            [Problem(SET_LABEL, None, path_text, f"the value '{value_text}': {problem}")]
        ) from None
    return Setting(text, path, value)


def item_key(table: str, item: Any) -> str | None:
    """The name by which an item of ``table`` is addressed in a path (its id or key field)."""
    if not isinstance(item, dict):
        return None
    if item.get("id") is not None:
        return str(item["id"])
    if table == "links" and all(k in item for k in ("from", "to", "mode")):
        return f"{item['from']}_{item['to']}_{item['mode']}"
    key = _KEY_FIELDS.get(table)
    return None if key is None or item.get(key) is None else str(item[key])


def apply_settings(
    raw: dict[str, Any], settings: Sequence[str | Setting], locs: Locations
) -> list[Problem]:
    """Apply each setting to ``raw`` in order; returns the problems (nothing applied for those).

    Each value set is located at its ``--set PATH=VALUE`` in ``locs``, so that validation
    reports a bad value there rather than in the file it replaced.
    """
    problems: list[Problem] = []
    for entry in settings:
        try:
            setting = parse_setting(entry) if isinstance(entry, str) else entry
            where = _resolve(raw, setting)
        except SettingError as exc:
            problems.extend(exc.problems)
            continue
        parent, key, raw_path, value = where
        if value is None:
            if isinstance(parent, dict):
                parent.pop(key, None)
        elif isinstance(parent, list) and key == len(parent):
            parent.append(value)
        else:
            parent[key] = value
        for old in [p for p in locs if p[: len(raw_path)] == raw_path]:
            del locs[old]
        # A line of 0: the setting has no line; the file label says where it came from.
        locs[raw_path] = (setting.label, 0)
    return problems


def _resolve(raw: dict[str, Any], setting: Setting) -> tuple[Any, Any, Path_, Any]:
    """The container and key that ``setting`` writes to, the raw path and the value to write."""
    node: Any = raw
    raw_path: list[str | int] = []
    parts = setting.path
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            new = last and depth == 1 and isinstance(setting.value, dict)
            if new and not _names(node, parts[0], part):
                # ``table.NEW={...}``: a new item named NEW, appended (validated like the rest).
                item = dict(setting.value)
                item.setdefault(_KEY_FIELDS.get(parts[0], "id"), part)
                return node, len(node), (*raw_path, len(node)), item
            index = _find_item(node, parts[0], part, setting, here)
            if last:
                return node, index, (*raw_path, index), setting.value
            raw_path.append(index)
            node = node[index]
            continue
        if not isinstance(node, dict):
            raise _error(setting, here, f"'{'.'.join(parts[:depth])}' holds a value, not fields")
        if last:
            return node, part, (*raw_path, part), setting.value
        child = node.get(part)
        if child is None:
            if depth == 0 and part not in _TOP_KEYS:
                raise _error(setting, here, f"no such section{_hint(part, _TOP_KEYS)}")
            if depth == 0 and part in _TABLES:
                if depth + 2 == len(parts) and isinstance(setting.value, dict):
                    child = node[part] = []  # the first item of a table the file lacks
                    raw_path.append(part)
                    node = child
                    continue
                raise _error(setting, here, f"the scenario has no {part}")
            child = node[part] = {}  # a nested field not written in the file: set inside it
        raw_path.append(part)
        node = child
    raise _error(setting, ".".join(parts), "an empty path")


def _names(items: list[Any], table: str, part: str) -> bool:
    """Whether ``part`` names an item of ``items`` (by its key or its position)."""
    if part.isdigit() and int(part) < len(items):
        return True
    return part in (item_key(table, item) for item in items)


def _find_item(items: list[Any], table: str, part: str, setting: Setting, here: str) -> int:
    keys = [item_key(table, item) for item in items]
    if part in keys:
        return keys.index(part)
    if part.isdigit() and int(part) < len(items):
        return int(part)
    names = [k for k in keys if k is not None]
    raise _error(setting, here, f"no item '{part}' in {table}{_hint(part, names)}")


def _hint(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _error(setting: Setting, field: str, message: str) -> SettingError:
    return SettingError([Problem(setting.label, None, field, message)])


_TABLES = (
    "tiers",
    "nodes",
    "links",
    "lift_pools",
    "units",
    "stocks",
    "regions",
    "threats",
    "disruptions",
)
_TOP_KEYS = ("meta", "unit_types", *_TABLES, "prepositioning")


def all_paths(raw: dict[str, Any]) -> list[str]:
    """Every leaf path of ``raw`` as ``--set`` writes it (for listings and tests)."""
    out: list[str] = []

    def walk(node: Any, prefix: str, table: str | None) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key), table or str(key))
        elif isinstance(node, list) and node and all(isinstance(i, dict) for i in node):
            for n, item in enumerate(node):
                name = item_key(table or "", item) if prefix.count(".") == 0 else None
                walk(item, f"{prefix}.{name if name is not None else n}", table)
        else:
            out.append(prefix)

    walk(raw, "", None)
    return out


def get_value(raw: dict[str, Any], path: str) -> Any:
    """The value at ``path`` in ``raw`` (as :func:`all_paths` names it); KeyError if absent."""
    node: Any = raw
    parts = path.split(".")
    for part in parts:
        if isinstance(node, list):
            keys = [item_key(parts[0], item) for item in node]
            if part in keys:
                node = node[keys.index(part)]
            elif part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise KeyError(path)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(path)
    return node
