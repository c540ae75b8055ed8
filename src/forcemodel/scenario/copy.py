"""Copy a scenario's files into a folder to edit: ``forcemodel scenario copy eastern-flank my``.

The copy is of the files, not of the validated data: comments, sources and the split between
the YAML file and its CSV tables stay as they were, so the copy reads like the original. The
scenario stored in a results folder (the exact scenario of a run, ``--set`` included) is written
out instead as one YAML file in canonical form (:func:`write_canonical`), every default filled in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from forcemodel.common.folders import staged_folder
from forcemodel.common.read import CSV_TABLES
from forcemodel.scenario.load import load_scenario, read_scenario, resolve_source
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.write import scenario_data


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


def write_canonical(scenario: Scenario, dest: str | Path, origin: str) -> list[str]:
    """Write ``scenario`` as ``dest/scenario.yaml`` (every default written out), atomically.

    The file is read back and must give the same scenario (digest); raises :class:`ValueError`
    otherwise, leaving nothing at ``dest``. Returns the names of the files written.
    """
    data = scenario_data(scenario)
    head = (
        f"# The scenario of {origin}, exactly as it was simulated (every --set applied),\n"
        "# written by forcemodel scenario copy with every default filled in.\n"
    )
    text = head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    with staged_folder(Path(dest)) as tmp:
        (tmp / "scenario.yaml").write_text(text, encoding="utf-8")
        if load_scenario(tmp).digest() != scenario.digest():
            raise ValueError(f"{origin}: its scenario does not survive being written as YAML")
    return ["scenario.yaml"]
