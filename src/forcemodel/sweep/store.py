"""A sweep's folder: its runs streamed to disk as they finish, so that it resumes.

Layout::

    DIR/sweep.json        what the sweep is (scenario, grid, seed, draws, digest), its state
    DIR/parts/*.parquet   runs as they finished, one file per batch (each written atomically)
    DIR/runs.parquet      every run, sorted by run then region (when the sweep is complete)
    DIR/summary.*         P10/P50/P90 per grid point, region and figure
    DIR/sensitivity.*     Spearman rank correlation of each figure with each input

A resumed sweep reads which runs the folder already holds and runs only the others; a folder
holding another sweep (another scenario, grid, seed or number of draws) is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forcemodel.common.errors import Problem
from forcemodel.sweep.figures import CAPABILITY_COLUMNS, FIGURES
from forcemodel.sweep.spec import Plan, SweepError

SWEEP_FORMAT = 1


def runs_schema(plan: Plan, inputs: Iterable[str]) -> pa.Schema:
    """The columns of the runs table: which run, its parameters and draws, its figures."""
    fields = [
        pa.field("run", pa.int64()),
        pa.field("point", pa.int64()),
        pa.field("draw", pa.int64()),
    ]
    fields += [pa.field(f"p.{p.path}", pa.string()) for p in plan.params]
    fields += [pa.field(f"in.{k}", pa.float64()) for k in inputs]
    fields.append(pa.field("region", pa.string()))
    fields += [pa.field(f, pa.float64()) for f in (*FIGURES, *CAPABILITY_COLUMNS)]
    fields += [
        pa.field("land_power", pa.list_(pa.float32())),
        pa.field("land_required", pa.list_(pa.float32())),
        pa.field("error", pa.string()),
    ]
    return pa.schema(fields)


class Store:
    """The folder of one sweep."""

    def __init__(self, folder: Path, plan: Plan, schema: pa.Schema, meta: dict[str, Any]) -> None:
        self.folder = folder
        self.plan = plan
        self.schema = schema
        self.meta = meta
        self.parts = folder / "parts"

    def open(self) -> set[int]:
        """Create the folder or check that it holds this sweep; the runs already done."""
        spec = self.folder / "sweep.json"
        if self.folder.exists() and not self.folder.is_dir():
            raise SweepError([Problem("--out", None, "", f"{self.folder} is a file, not a folder")])
        if spec.exists():
            try:
                old = json.loads(spec.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SweepError(
                    [Problem("--out", None, "", f"{spec}: unreadable ({exc}); use another folder")]
                ) from None
            if old.get("digest") != self.plan.digest:
                what = old.get("scenario", "?")
                raise SweepError(
                    [
                        Problem(
                            "--out",
                            None,
                            "",
                            f"{self.folder} holds another sweep (scenario {what}, "
                            f"{old.get('runs', '?')} runs, seed {old.get('seed', '?')}; its "
                            "scenario, grid, seed or draws differ): resume it with the same "
                            "input or use another folder",
                        )
                    ]
                )
        elif self.folder.is_dir() and any(self.folder.iterdir()):
            raise SweepError(
                [Problem("--out", None, "", f"{self.folder} is not empty and holds no sweep")]
            )
        self.parts.mkdir(parents=True, exist_ok=True)
        _atomic_text(spec, json.dumps({**self.meta, "complete": False}, indent=2) + "\n")
        return self.done()

    def done(self) -> set[int]:
        """Runs the folder holds (finished or failed)."""
        out: set[int] = set()
        for f in self._files():
            out.update(pq.read_table(f, columns=["run"]).column("run").to_pylist())
        return out

    def _files(self) -> list[Path]:
        files = sorted(self.parts.glob("*.parquet")) if self.parts.is_dir() else []
        runs = self.folder / "runs.parquet"
        return [runs, *files] if runs.exists() else files

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Add finished runs (one batch) as a part file, atomically."""
        if not rows:
            return
        table = pa.Table.from_pylist(rows, schema=self.schema)
        first = int(rows[0]["run"])
        path = self.parts / f"part-{first:09d}-{os.getpid()}-{len(rows)}.parquet"
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(path)

    def finish(self) -> None:
        """Gather every run into runs.parquet (sorted by run and region); drop the parts.

        Each part holds a run of consecutive runs; when no two parts' runs interleave (every
        sweep not resumed, and most that were), the parts are copied one at a time in order,
        so gathering needs the memory of one part, not of the whole table.
        """
        files = self._files()
        spans = []
        for f in files:
            runs = pq.read_table(f, columns=["run"]).column("run")
            if len(runs):
                spans.append((pc.min(runs).as_py(), pc.max(runs).as_py(), f))
        spans.sort(key=lambda t: (t[0], t[1]))
        apart = all(a[1] < b[0] for a, b in pairwise(spans))
        target = self.folder / "runs.parquet"
        tmp = target.with_name(".runs.parquet.tmp")
        order = [("run", "ascending"), ("region", "ascending")]
        with pq.ParquetWriter(tmp, self.schema) as writer:
            if apart:
                for _, _, f in spans:
                    writer.write_table(self._read(f).sort_by(order))
            elif spans:
                tables = [self._read(f) for _, _, f in spans]
                writer.write_table(pa.concat_tables(tables).sort_by(order))
        tmp.replace(target)
        for f in files:
            if f != target:
                f.unlink()

    def _read(self, path: Path) -> pa.Table:
        return pq.read_table(path).select(self.schema.names).cast(self.schema)

    def close(self, extra: dict[str, Any]) -> None:
        """Mark the sweep complete, with what it holds."""
        _atomic_text(
            self.folder / "sweep.json",
            json.dumps({**self.meta, **extra, "complete": True}, indent=2) + "\n",
        )


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_runs(folder: str | Path, columns: list[str] | None = None) -> pa.Table:
    """The runs table of a sweep folder (complete or not), sorted by run and region.

    ``columns``: only these (with ``run`` and ``region``, needed to sort).
    """
    base = Path(folder)
    files = [base / "runs.parquet"] if (base / "runs.parquet").exists() else []
    files += sorted((base / "parts").glob("*.parquet")) if (base / "parts").is_dir() else []
    if not files:
        raise SweepError([Problem(str(base), None, "", "no runs in this folder")])
    if columns is not None:
        columns = list(dict.fromkeys(["run", "region", *columns]))
    tables = [pq.read_table(f, columns=columns) for f in files]
    table = pa.concat_tables(tables, promote_options="default")
    return table.sort_by([("run", "ascending"), ("region", "ascending")])
