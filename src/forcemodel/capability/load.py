"""Reading the capability file and the bundled capability tables, with located errors.

The only module of the domain that touches the file system. The capability file is YAML read
by :mod:`forcemodel.common.read` (so every value keeps its file and line); the bundled tables
are CSV files beside the package data, each row with its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from forcemodel.capability.errors import CapabilityError, CapabilityInputError, Path_
from forcemodel.capability.model import CapabilityFile
from forcemodel.common.errors import Problem
from forcemodel.common.read import Locations, ReadError, dotted, locate, parse_yaml, read_text


@dataclass(frozen=True)
class Loaded:
    """A validated capability file with where each of its values was read."""

    plan: CapabilityFile
    label: str = "<capability>"
    locs: Locations = field(default_factory=dict)
    #: Options given beside the file (CLI or API), by field: they win over the file and errors
    #: in them are reported under the option's name.
    options: dict[str, str] = field(default_factory=dict)

    def where(self, path: Path_) -> tuple[str, int | None]:
        """The file and line of ``path``, or of its nearest located parent."""
        return locate(self.locs, self.label, path)

    def problem(self, path: Path_, message: str) -> Problem:
        """A located problem for a field of the file (or the option that set it)."""
        if path and str(path[0]) in self.options:
            return Problem(self.options[str(path[0])], None, "", message)
        file, line = self.where(path)
        return Problem(file, line, dotted(path), message)

    def located(self, exc: CapabilityInputError) -> CapabilityError:
        """The engine's error with each issue located in the file."""
        return CapabilityError([self.problem(i.path, i.message) for i in exc.issues])


def load_capability_file(source: str | Path | None) -> Loaded:
    """Read and validate a capability file (YAML); ``None``: an empty one (all defaults)."""
    if source is None:
        return Loaded(CapabilityFile())
    path = Path(source)
    label = str(path)
    problems: list[Problem] = []
    locs: Locations = {}
    try:
        raw = parse_yaml(read_text(path, label), label, locs, problems)
    except ReadError as exc:
        raise CapabilityError(exc.problems) from None
    return _validate(raw, label, locs, problems)


def load_capability_data(data: Mapping[str, Any], label: str = "<capability>") -> Loaded:
    """Validate a capability file already read into Python data."""
    return _validate(dict(data), label, {}, [])


def _validate(raw: Any, label: str, locs: Locations, problems: list[Problem]) -> Loaded:
    if not isinstance(raw, dict):
        problems.append(Problem(label, 1, "", "a capability file is a mapping of sections"))
        raise CapabilityError(problems)
    try:
        plan = CapabilityFile.model_validate(raw)
    except ValidationError as exc:
        loaded = Loaded(CapabilityFile(), label, locs)
        errors = exc.errors(include_url=False)
        locs_seen = [tuple(e["loc"]) for e in errors]
        for err in errors:
            loc = tuple(err["loc"])
            deeper = any(o[: len(loc)] == loc and len(o) > len(loc) for o in locs_seen)
            if err["type"] == "too_short" and deeper:
                continue  # a list emptied by its own invalid items: those items say why
            problems.append(loaded.problem(_clean(loc), field_message(err)))
    if problems:
        raise CapabilityError(problems)
    return Loaded(plan, label, locs)


def _clean(loc: tuple[Any, ...]) -> Path_:
    return tuple(p for p in loc if not str(p).startswith("function-after"))


def field_message(err: Any) -> str:
    """Pydantic's message in the words of the rest of forcemodel."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "greater_than_equal":
        return f"must be {ctx['ge']:g} or more, got {value}"
    if kind == "greater_than":
        return f"must be more than {ctx['gt']:g}, got {value}"
    if kind == "less_than_equal":
        return f"must be {ctx['le']:g} or less, got {value}"
    return str(err["msg"]).removeprefix("Value error, ")


# --- bundled tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tables:
    """The bundled, sourced tables (docs/capability.md, "Bundled data")."""

    allies: pd.DataFrame  # ally, name, member_since, source
    spending: pd.DataFrame  # ally, year, share_gdp_pct, expenditure_musd (current and 2015
    # prices), equipment_share_pct, source
    economy: pd.DataFrame  # ally, year, gdp_busd, gdp_const_busd, population_m, source
    unit_costs: pd.DataFrame  # item, capability, unit, per_power, low, default, high, currency
    production: pd.DataFrame  # item, line, day, per_month, lead_time_days, source
    pledge: pd.DataFrame  # the same, under the Defence Industrial Pledge's ramp
    consumption: pd.DataFrame  # item, capability, per_power_per_day, source
    stockpiles: pd.DataFrame  # item, capability, quantity, source (assumptions)
    sources: dict[str, Any]


_BUNDLED: Tables | None = None


def bundled_tables() -> Tables:
    """The tables shipped with forcemodel (read once)."""
    global _BUNDLED
    if _BUNDLED is None:
        root = files("forcemodel") / "data" / "capability"

        def csv(name: str) -> pd.DataFrame:
            with (root / name).open("r", encoding="utf-8") as f:
                return pd.read_csv(f, keep_default_na=False, na_values=[""])

        with (root / "sources.yaml").open("r", encoding="utf-8") as f:
            sources = yaml.safe_load(f)
        _BUNDLED = Tables(
            allies=csv("allies.csv"),
            spending=csv("spending.csv"),
            economy=csv("economy.csv"),
            unit_costs=csv("unit_costs.csv"),
            production=csv("production.csv"),
            pledge=csv("pledge.csv"),
            consumption=csv("consumption.csv"),
            stockpiles=csv("stockpiles.csv"),
            sources=sources,
        )
    return _BUNDLED
