"""Copy a scenario's files into a folder to edit: ``forcemodel scenario copy eastern-flank my``.

The copy is of the files, not of the validated data: comments, sources and the split between
the YAML file and its CSV tables stay as they were, so the copy reads like the original.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from forcemodel.common.folders import staged_folder
from forcemodel.common.read import CSV_TABLES
from forcemodel.scenario.load import read_scenario, resolve_source


def copy_scenario(source: str | Path, dest: str | Path) -> list[str]:
    """Copy the scenario ``source`` (file, folder or bundled name) into the folder ``dest``.

    The main file becomes ``dest/scenario.yaml``; the CSV tables it uses are copied beside it
    under their names. ``dest`` is written all at once (replaced if it exists). Raises
    :class:`~forcemodel.common.errors.ScenarioError` if ``source`` cannot be read. Returns
    the names of the files written.
    """
    read_scenario(source)  # the same errors as validate for a source that cannot be read
    path = resolve_source(source)
    main = path / "scenario.yaml" if path.is_dir() else path
    tables = _csv_tables(main)
    with staged_folder(Path(dest)) as tmp:
        shutil.copyfile(main, tmp / "scenario.yaml")
        for name in tables:
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(main.parent / name, target)
    return ["scenario.yaml", *tables]


def _csv_tables(main: Path) -> list[str]:
    """The CSV files (relative to ``main``'s folder) that the scenario file uses."""
    raw = yaml.safe_load(main.read_text(encoding="utf-8"))
    names: list[str] = []
    for table in CSV_TABLES:
        ref = raw.get(table) if isinstance(raw, dict) else None
        if isinstance(ref, str) and ref.lower().endswith(".csv"):
            names.append(ref)
        elif (
            ref is None
            and main.name == "scenario.yaml"
            and (main.parent / f"{table}.csv").is_file()
        ):
            names.append(f"{table}.csv")
    return [n for n in names if (main.parent / n).is_file()]
