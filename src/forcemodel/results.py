"""Results of a simulation: tidy tables, saved as Parquet and CSV, loadable again.

A results folder holds one ``<table>.parquet`` and ``<table>.csv`` per table, ``meta.json``
(forcemodel version, results format, scenario name and digest, seed, the ``--set`` settings
applied, and what assessment needs: horizon, warning day, ratio threshold, tier targets) and
``scenario.json``: the validated scenario the run was simulated from, in its canonical form
(every default filled in). Assessment, report, compare and explain read the scenario from there,
never by name: a run of an edited copy that kept a bundled scenario's name reports the copy.

The closure day is defined once, here (:func:`closure_days`), below every engine and face that
needs it: the first day from which every requirement is met to the horizon.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forcemodel.common.folders import staged_folder

if TYPE_CHECKING:
    from forcemodel.scenario.model import Scenario

#: Bumped when the layout of a results folder changes (2: the scenario is stored with the run).
RESULTS_FORMAT = 2
TABLES = (
    "units",
    "unit_events",
    "region_power",
    "shortfall",
    "link_load",
    "node_load",
    "pool_load",
    "rsom_load",
)
#: The file of a results folder holding its scenario.
SCENARIO_FILE = "scenario.json"
#: A shortfall below this (brigade equivalents) is rounding, not a gap.
SHORT_EPS = 1e-9


class ResultsError(ValueError):
    """A results folder is missing, incomplete or from an incompatible version."""


@dataclass(frozen=True)
class Results:
    """Tidy tables of one run, with the metadata and the scenario needed to reproduce it.

    ``scenario`` is the validated scenario the run came from (None only for results built by
    hand); :meth:`save` stores it beside the tables and :meth:`load` reads it back.
    """

    meta: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    scenario: Scenario | None = None

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    def _repr_html_(self) -> str:
        """A short view for Jupyter: the run's scenario, seed and clock, and its tables' sizes."""
        from forcemodel.scenario.display import html_view

        meta = self.meta
        sizes = pd.DataFrame(
            {"table": list(self.tables), "rows": [len(t) for t in self.tables.values()]}
        )
        lines = [
            f"seed {meta.get('seed')}, horizon {meta.get('horizon_days')} days, warning day "
            f"{meta.get('warning_day')}, forcemodel {meta.get('forcemodel_version')}",
            *(f"--set {x}" for x in meta.get("settings", [])),
        ]
        title = f"Results of scenario {meta.get('scenario')}"
        return html_view(title, lines, {"tables (results.<table>)": sizes})

    def save(self, path: str | Path) -> Path:
        """Write every table as Parquet and CSV, meta.json and the scenario; atomic.

        Same results, same bytes: tables, metadata and scenario are written in a fixed order
        and form.
        """
        target = Path(path)
        with staged_folder(target) as tmp:
            for name, frame in self.tables.items():
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
                frame.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
            (tmp / "meta.json").write_text(
                json.dumps(self.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
            if self.scenario is not None:
                (tmp / SCENARIO_FILE).write_text(
                    self.scenario.model_dump_json(by_alias=True, indent=1) + "\n",
                    encoding="utf-8",
                )
        return target

    @classmethod
    def load(cls, path: str | Path) -> Results:
        """Read a results folder written by :meth:`save`; raise :class:`ResultsError` if unfit."""
        folder = Path(path)
        if not folder.is_dir():
            raise ResultsError(f"{folder}: no such results folder")
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            raise ResultsError(f"{folder}: not a results folder (meta.json is missing)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{meta_path}: unreadable ({exc})") from None
        fmt = meta.get("results_format") if isinstance(meta, dict) else None
        if fmt != RESULTS_FORMAT:
            raise ResultsError(
                f"{folder}: results format {fmt!r} written by forcemodel "
                f"{meta.get('forcemodel_version', '?') if isinstance(meta, dict) else '?'}; "
                f"this version reads format {RESULTS_FORMAT}: simulate again"
            )
        tables = {}
        for name in TABLES:
            file = folder / f"{name}.parquet"
            if not file.exists():
                raise ResultsError(f"{folder}: table {name}.parquet is missing")
            tables[name] = pd.read_parquet(file)
        return cls(meta=meta, tables=tables, scenario=_load_scenario(folder))


def _load_scenario(folder: Path) -> Scenario:
    """The scenario stored in a results folder; its digest must be the one in meta.json."""
    from pydantic import ValidationError

    from forcemodel.scenario.model import Scenario

    file = folder / SCENARIO_FILE
    if not file.exists():
        raise ResultsError(f"{folder}: {SCENARIO_FILE} is missing (the run's scenario)")
    try:
        scenario = Scenario.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        raise ResultsError(
            f"{file}: not a scenario of this version ({exc.error_count()} errors)"
        ) from None
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("scenario_digest") not in (None, scenario.digest()):
        raise ResultsError(f"{file}: not the scenario of these results (its digest differs)")
    return scenario


def closure_days(
    shortfall: pd.DataFrame, horizon: int, keys: Sequence[str] = ("region",)
) -> dict[Any, int | None]:
    """Closure day per group of ``keys`` from a shortfall table; None: not closed in time.

    The closure day is the first day from which every requirement of the group is met and stays
    met to the horizon: the day after its last day short, 0 if it is never short, None if it is
    still short on the horizon. The shortfall table holds only days with a requirement; days
    without one are met. This is the one definition that assess, compare, explain, optimise and
    replan share.
    """
    out: dict[Any, int | None] = {}
    key_list = list(keys)
    for key, rows in shortfall.groupby(key_list[0] if len(key_list) == 1 else key_list, sort=True):
        unmet = rows.loc[rows["shortfall"].to_numpy() > SHORT_EPS, "day"].to_numpy()
        out[key] = closure_day(unmet, horizon)
    return out


def closure_day(unmet_days: np.ndarray | Sequence[float], horizon: int) -> int | None:
    """The day after the last of ``unmet_days``; 0 if there is none; None if one is on or past
    the horizon."""
    days = np.asarray(unmet_days, dtype=float)
    if not days.size:
        return 0
    last = float(days.max())
    return None if last >= horizon else math.floor(last) + 1
