"""Uploaded scenarios: the dashboard's list of scenarios, and an upload checked and kept.

An upload (one YAML file, or a zip of a scenario folder) is unpacked into a staging folder,
loaded as the command line loads it, and kept under the data folder only when it loads; its
problems name the file as uploaded.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from forcemodel.common.errors import LocatedError, Problem
from forcemodel.scenario.load import bundled_scenarios, load_scenario

#: An uploaded scenario is refused past this many bytes (a zip of a folder, or one YAML file).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: ... or past this many files in a zip.
MAX_UPLOAD_FILES = 200
#: Names of uploaded scenarios: lower-case letters, digits and hyphens.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,59}$"


class UploadError(ValueError):
    """An upload that is not a scenario file or folder (the message says why)."""


@dataclass(frozen=True)
class ScenarioEntry:
    """A scenario the dashboard offers."""

    name: str
    source: str
    bundled: bool


def scenario_dir(data_dir: Path) -> Path:
    """Where uploaded scenarios are kept."""
    return data_dir / "scenarios"


def scenarios(data_dir: Path) -> list[ScenarioEntry]:
    """Bundled scenarios, then uploaded ones, each by name."""
    out = [ScenarioEntry(n, n, True) for n in bundled_scenarios()]
    folder = scenario_dir(data_dir)
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() and re.match(NAME_PATTERN, entry.name):
                out.append(ScenarioEntry(entry.name, str(entry), False))
    return out


def find_scenario(data_dir: Path, name: str) -> ScenarioEntry | None:
    """The scenario of the name, or None."""
    return next((s for s in scenarios(data_dir) if s.name == name), None)


def name_from(filename: str, taken: set[str], default: str = "scenario") -> str:
    """A free name for an upload, from its file name (lower case, digits and hyphens)."""
    stem = Path(filename).name
    for suffix in (".zip", ".yaml", ".yml"):
        stem = stem.removesuffix(suffix)
    base = re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-")[:50] or default
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def unpack(
    content: bytes, filename: str, into: Path, main: str = "scenario.yaml", what: str = "scenario"
) -> None:
    """An uploaded YAML file (kept as ``main``), or a zip of a folder holding ``main`` and the
    files it names, unpacked into ``into``; :class:`UploadError` for anything else, and for a
    zip with too many files, too many bytes or a path that leaves the folder."""
    if filename.lower().endswith((".yaml", ".yml")):
        (into / main).write_bytes(content)
        return
    if not filename.lower().endswith(".zip"):
        raise UploadError(f"{filename}: upload a {what} YAML file (.yaml) or a zipped folder")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise UploadError(f"{filename}: not a zip file") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_UPLOAD_FILES:
        raise UploadError(f"{filename}: {len(members)} files; at most {MAX_UPLOAD_FILES}")
    if sum(m.file_size for m in members) > 5 * MAX_UPLOAD_BYTES:
        raise UploadError(f"{filename}: unpacks to more than {5 * MAX_UPLOAD_BYTES} bytes")
    names = [m.filename for m in members]
    # A zip of a folder holds "folder/scenario.yaml" (or case.yaml): take the folder's content.
    prefix = ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        prefix = next(iter(tops)) + "/"
    for m in members:
        rel = m.filename.removeprefix(prefix)
        parts = Path(rel).parts
        if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
            raise UploadError(f"{filename}: unsafe path {m.filename!r} in the zip")
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(m))
    if not (into / main).is_file():
        raise UploadError(f"{filename}: the zip holds no {main}")


def as_uploaded(
    problems: list[Problem], target: Path, filename: str, main: str = "scenario.yaml"
) -> list[Problem]:
    """Problems of an upload unpacked into ``target``, naming the files as uploaded."""
    shown = Path(filename).name
    single = filename.lower().endswith((".yaml", ".yml"))

    def located(file: str) -> str:
        if single and file == str(target / main):
            return shown
        return file.replace(str(target), shown.removesuffix(".zip"))

    return [Problem(located(p.file), p.line, p.field, p.message) for p in problems]


def upload_scenario(data_dir: Path, filename: str, content: bytes) -> tuple[str, list[Problem]]:
    """Validate an uploaded scenario and keep it when it loads; its name and its problems.

    Problems name the file as uploaded (``eastern.yaml:12: units.0.tier: ...``), as the command
    line does; a scenario with problems is not kept. Raises :class:`UploadError` for an upload
    that is not a scenario at all.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{filename}: larger than {MAX_UPLOAD_BYTES} bytes")
    folder = scenario_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    taken = {s.name for s in scenarios(data_dir)}
    name = name_from(filename, taken)
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=folder))
    try:
        target = staging / name
        target.mkdir()
        unpack(content, filename, target)
        try:
            load_scenario(target)
        except LocatedError as exc:
            return name, as_uploaded(exc.problems, target, filename)
        target.rename(folder / name)
        return name, []
    finally:
        shutil.rmtree(staging, ignore_errors=True)
