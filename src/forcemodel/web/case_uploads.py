"""Uploaded assistance case files: checked as ``forcemodel assist match`` loads them, kept only
when they load, then matched in the server's job pool.

An upload (a case YAML file, or a zip of a case folder: ``case.yaml`` and the CSV files it
names) is unpacked into a staging folder (:func:`forcemodel.web.uploads.unpack`: the same size
and path limits as a scenario's) and loaded with :func:`forcemodel.assist.load_case`; its
problems name the file as uploaded, and nothing is kept when there is one. A kept case is
matched by a ``match`` job of the pool (:func:`match_job`), which keeps the matcher's tables
in the job's ``match/`` folder as ``forcemodel assist match --out`` writes them, and hands
the plan to the server's :class:`~forcemodel.web.cases.CaseCache`; after a restart the case's
page matches it again on first view, as a bundled case's.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from forcemodel.common.errors import LocatedError, Problem
from forcemodel.web.jobs import Job
from forcemodel.web.uploads import NAME_PATTERN, UploadError, as_uploaded, name_from, unpack

if TYPE_CHECKING:
    from forcemodel.assist import MatchResult

#: An uploaded case is refused past this many bytes (a case YAML file, or a zip of a folder).
MAX_CASE_BYTES = 5 * 1024 * 1024
#: Where a match job keeps the matcher's tables.
MATCH_FOLDER = "match"


def case_dir(data_dir: Path) -> Path:
    """Where uploaded cases are kept."""
    return data_dir / "cases"


def uploaded_cases(data_dir: Path) -> dict[str, Path]:
    """Uploaded cases by name, and their folders."""
    import re

    folder = case_dir(data_dir)
    if not folder.is_dir():
        return {}
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_dir() and re.match(NAME_PATTERN, p.name) and (p / "case.yaml").is_file()
    }


def upload_case(
    data_dir: Path, filename: str, content: bytes, taken: set[str]
) -> tuple[str, list[Problem]]:
    """Check an uploaded case and keep it when it loads; its name and its problems.

    ``taken``: names already in use (the bundled cases'). Raises
    :class:`~forcemodel.web.uploads.UploadError` for an upload that is not a case at all.
    """
    from forcemodel.assist import load_case

    if len(content) > MAX_CASE_BYTES:
        raise UploadError(f"{filename}: larger than {MAX_CASE_BYTES} bytes")
    folder = case_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = name_from(filename, taken | set(uploaded_cases(data_dir)), default="case")
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=folder))
    try:
        target = staging / name
        target.mkdir()
        unpack(content, filename, target, main="case.yaml", what="case")
        try:
            load_case(target)
        except LocatedError as exc:
            return name, as_uploaded(exc.problems, target, filename, main="case.yaml")
        target.rename(folder / name)
        return name, []
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def match_job(
    keep: Callable[[str, MatchResult], None], time_limit: float
) -> Callable[[Job, Callable[[str], None], Path], None]:
    """A job that matches the uploaded case (the job's ``scenario`` is its name, ``source``
    its folder), keeps the tables in the job's match folder and hands the plan to ``keep``."""

    def run(job: Job, say: Callable[[str], None], out: Path) -> None:
        from forcemodel.assist import load_case, match_case
        from forcemodel.assist.report import result_tables
        from forcemodel.common.folders import staged_folder

        say(f"loading the case {job.scenario}")
        case = load_case(job.source)
        say("matching pledges to requirements (hubs, routes, training)")
        result = match_case(case, time_limit=time_limit)
        say(f"matched ({result.termination}); saving the tables")
        with staged_folder(out.parent / MATCH_FOLDER) as folder:
            for table, frame in result_tables(result).items():
                frame.to_csv(folder / f"{table}.csv", index=False)
            (folder / "solver.log").write_text(result.log, encoding="utf-8")
        keep(job.scenario, result)

    return run
