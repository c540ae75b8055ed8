"""Results of a simulation: tidy tables, saved as Parquet and CSV, loadable again.

A results folder holds one ``<table>.parquet`` and ``<table>.csv`` per table and ``meta.json``
(forcemodel version, results format, scenario name and digest, seed, and what assessment needs:
horizon, warning day, ratio threshold, tier targets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from forcemodel.common.folders import staged_folder

#: Bumped when the layout of a results folder changes.
RESULTS_FORMAT = 1
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


class ResultsError(ValueError):
    """A results folder is missing, incomplete or from an incompatible version."""


@dataclass(frozen=True)
class Results:
    """Tidy tables of one run, with the metadata needed to reproduce and assess it."""

    meta: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    def save(self, path: str | Path) -> Path:
        """Write every table as Parquet and CSV plus meta.json; atomic (temp folder, rename)."""
        target = Path(path)
        with staged_folder(target) as tmp:
            for name, frame in self.tables.items():
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
                frame.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
            (tmp / "meta.json").write_text(
                json.dumps(self.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
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
        return cls(meta=meta, tables=tables)
