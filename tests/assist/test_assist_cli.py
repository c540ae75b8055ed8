"""The command line over the service's database: CSV export and import, and the matcher.

``forcemodel assist export|import pledges|requirements`` and ``forcemodel assist match
--database-url [--apply]`` on a SQLite file in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from forcemodel.cli import app
from forcemodel.service import records
from forcemodel.service.auth import Principal
from forcemodel.service.db import make_engine, session_factory
from forcemodel.service.migrate import upgrade_to_head
from forcemodel.service.schemas import DonorIn, ItemIn
from forcemodel.service.tables import Allocation, AuditEntry, Pledge, Role

runner = CliRunner()

PLEDGES = """\
donor,item_id,quantity,available_from,location
DE,155-he,100,2026-03-01,Rzeszow
FR,155-he,50,2026-05-01,Lyon
DE,152-he,30,2026-03-01,Rzeszow
"""
REQUIREMENTS = """\
partner,item_id,quantity,priority,needed_by,location
UA,155-he,80,1,2026-03-15,Kyiv
UA,155-he,60,3,2026-04-01,Lviv
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database with two items and two donors (as a coordinator would set it up)."""
    url = f"sqlite:///{tmp_path / 'service.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed = Principal(id=0, name="test setup", role=Role.coordinator, nation=None)
    with session_factory(engine)() as session:
        for item, standard in (("155-he", "nato-155"), ("152-he", "soviet-152")):
            body = {"id": item, "name": item, "category": "ammunition", "standard": standard}
            records.create_item(session, seed, ItemIn.model_validate(body))
        for code in ("DE", "FR"):
            records.create_donor(session, seed, DonorIn(code=code, name=code))
        session.commit()
    engine.dispose()
    return url


def _run(*args: str) -> Result:
    result = runner.invoke(app, ["assist", *args])
    assert "Traceback" not in result.output
    return result


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _import(db: str, tmp_path: Path) -> None:
    for kind, text in (("pledges", PLEDGES), ("requirements", REQUIREMENTS)):
        path = _write(tmp_path, f"{kind}.csv", text)
        result = runner.invoke(app, ["assist", "import", kind, str(path), "--database-url", db])
        assert result.exit_code == 0, result.output
        assert "created" in result.stderr


def _rows(db: str, model: type) -> list[object]:
    engine = make_engine(db)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(model)))
    engine.dispose()
    return rows


def test_import_then_export_round_trips(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["assist", "export", "pledges", "--database-url", db, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("id,donor,item_id,category,standard,quantity")
    assert len(text.splitlines()) == 4
    # Pledges of two donors in one file: each row acts for its own donor.
    donors = sorted(p.donor for p in _rows(db, Pledge))
    assert donors == ["DE", "DE", "FR"]
    again = runner.invoke(app, ["assist", "import", "pledges", str(out), "--database-url", db])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 3 unchanged" in again.stderr
    stdout = runner.invoke(app, ["assist", "export", "requirements", "--database-url", db])
    assert stdout.exit_code == 0
    assert stdout.stdout.count("\n") == 3


def test_bad_rows_are_located_and_nothing_is_imported(db: str, tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "pledges.csv",
        "donor,item_id,quantity,available_from,location\n"
        "DE,155-he,100,2026-03-01,Rzeszow\n"
        "DE,155-he,many,2026-03-01,Rzeszow\n"
        "FR,no-such-item,5,2026-03-01,Lyon\n"
        ",155-he,5,2026-03-01,Lyon\n",
    )
    result = _run("import", "pledges", str(bad), "--database-url", db)
    assert result.exit_code == 2
    stderr = result.stderr
    assert "nothing was imported" in stderr
    assert f"{bad}:3: quantity" in stderr
    assert f"{bad}:4: " in stderr and "no-such-item" in stderr
    assert f"{bad}:5: donor: missing" in stderr
    assert _rows(db, Pledge) == []


def test_a_stale_row_is_refused(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    out = tmp_path / "export.csv"
    assert _run("export", "pledges", "--database-url", db, "--out", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    # Change the first pledge (version 1 -> 2), then import the old export with another edit.
    first = lines[1].split(",")
    first[5] = "90"
    edited = _write(tmp_path, "edited.csv", "\n".join([lines[0], ",".join(first)]) + "\n")
    assert _run("import", "pledges", str(edited), "--database-url", db).exit_code == 0
    first[5] = "95"
    stale = _write(tmp_path, "stale.csv", "\n".join([lines[0], ",".join(first)]) + "\n")
    result = _run("import", "pledges", str(stale), "--database-url", db)
    assert result.exit_code == 2
    assert "version" in result.stderr


def test_match_on_the_database_dry_run_then_apply(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    dry = _run("match", "--database-url", db, "--out", str(tmp_path / "plan"))
    assert dry.exit_code == 0, dry.output
    assert "Allocations proposed" in dry.stdout
    plan = (tmp_path / "plan" / "allocations.csv").read_text(encoding="utf-8").splitlines()
    assert plan[0].startswith("pledge_id,requirement_id,quantity")
    assert len(plan) == 4  # 80 + 20 of the first pledge, 40 of the late one
    assert _rows(db, Allocation) == []
    applied = _run("match", "--database-url", db, "--apply")
    assert applied.exit_code == 0, applied.output
    allocations = _rows(db, Allocation)
    assert sorted(a.quantity for a in allocations) == [20, 40, 80]
    actors = {e.actor for e in _rows(db, AuditEntry) if e.entity == "allocation"}
    assert actors == {"forcemodel assist match"}


def test_bad_arguments_exit_2_without_traceback(db: str, tmp_path: Path) -> None:
    cases = [
        (["export", "widgets", "--database-url", db], "choose pledges or requirements"),
        (["export", "pledges"], "--database-url"),
        (["import", "pledges", str(tmp_path / "missing.csv"), "--database-url", db], "missing.csv"),
        (["match", "--database-url", db, "example"], "not both"),
        (["match", "--apply"], "--database-url"),
        (["match", "--database-url", "nonsense://x"], "--database-url"),
    ]
    for args, words in cases:
        result = _run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.stderr, (args, result.stderr)


def test_a_database_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    """A typo in a SQLite URL used to create an empty database and report an optimal plan."""
    typo = tmp_path / "typo.db"
    for args in (
        ["match", "--database-url", f"sqlite:///{typo}"],
        ["export", "pledges", "--database-url", f"sqlite:///{typo}"],
    ):
        result = _run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "--database-url" in result.stderr
        assert f"no database file {typo}" in result.stderr
        assert "optimal" not in result.output
        assert not typo.exists()


def test_match_out_on_the_database_replaces_the_folder_at_once(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    out = tmp_path / "plan"
    out.mkdir()
    (out / "old.csv").write_text("old\n", encoding="utf-8")
    refused = _run("match", "--database-url", db, "--out", str(out))
    assert refused.exit_code == 2
    assert (out / "old.csv").is_file()
    done = _run("match", "--database-url", db, "--out", str(out), "--force")
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.iterdir()) == [
        "allocations.csv",
        "fleet_mix.csv",
        "unmet.csv",
    ]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".plan")] == []
