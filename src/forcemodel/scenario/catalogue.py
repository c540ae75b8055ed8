"""The built-in catalogue: readiness tiers, mode defaults and unit types, each with its source."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from forcemodel.scenario.model import Tier, UnitType


@dataclass(frozen=True)
class ModeDefaults:
    """Defaults for links of one mode."""

    speed_kmh: float
    circuity: float
    source: str


@dataclass(frozen=True)
class Catalogue:
    """Defaults a scenario inherits unless it states its own."""

    tiers: tuple[Tier, ...]
    modes: dict[str, ModeDefaults]
    unit_types: dict[str, UnitType]


@lru_cache(maxsize=1)
def builtin_catalogue() -> Catalogue:
    """The catalogue shipped with forcemodel (``forcemodel/data/catalogue.yaml``)."""
    text = resources.files("forcemodel").joinpath("data/catalogue.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    return Catalogue(
        tiers=tuple(Tier.model_validate(t) for t in raw["tiers"]),
        modes={k: ModeDefaults(**v) for k, v in raw["modes"].items()},
        unit_types={k: UnitType.model_validate(v) for k, v in raw["unit_types"].items()},
    )
