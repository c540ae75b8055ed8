"""Sweeps: the same seed gives the same table locally, on a Dask cluster, and after a resume."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from forcemodel.cli import app
from forcemodel.sweep import SweepResult, prepare, read_runs, run_sweep, sweep

#: tiny with its bundled uncertainty: 2 grid points x 4 draws; seconds to run.
ARGS = dict(draws=4, seed=11, params=["meta.warning_day=0,10"], uncertainty="tiny")
CLI_ARGS = ["tiny", "-n", "4", "--seed", "11", "-p", "meta.warning_day=0,10", "-u", "tiny"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SweepResult]:
    """The sweep run locally on one worker."""
    folder = tmp_path_factory.mktemp("ref") / "one"
    return folder, sweep("tiny", out=folder, workers=1, **ARGS)  # type: ignore[arg-type]


def test_a_sweep_holds_every_run_with_its_draw(reference: tuple[Path, SweepResult]) -> None:
    folder, result = reference
    table = read_runs(folder).to_pandas()
    assert result.runs == 8 and result.failed == 0
    assert sorted(set(table["run"])) == list(range(8))
    assert set(table["p.meta.warning_day"]) == {"0", "10"}
    # A parameter set by --param is not drawn: the warning day is the swept one.
    assert (table["in.warning_day"].astype(str) == table["p.meta.warning_day"] + ".0").all()
    # The draws are common to both grid points (the same random numbers for draw d).
    a = table[table["point"] == 0].set_index("draw")["in.lift.airlift"]
    b = table[table["point"] == 1].set_index("draw")["in.lift.airlift"]
    assert a.equals(b) and a.nunique() == 4
    # Ten more warning days, ten fewer days vulnerable: the window moves with the warning.
    v = table.groupby("point")["vulnerable_days"].median()
    assert v[0] - v[1] == 10
    for name in ("summary.parquet", "sensitivity.parquet", "sweep.json"):
        assert (folder / name).exists()
    assert not list((folder / "parts").glob("*.parquet"))


@pytest.mark.parametrize("workers", [2, pytest.param(4, marks=pytest.mark.slow)])
def test_more_workers_give_the_same_table(
    reference: tuple[Path, SweepResult], tmp_path: Path, workers: int
) -> None:
    sweep("tiny", out=tmp_path / "w", workers=workers, **ARGS)  # type: ignore[arg-type]
    assert read_runs(tmp_path / "w").equals(read_runs(reference[0]))


@pytest.mark.slow
def test_dask_cluster_gives_the_same_table(
    reference: tuple[Path, SweepResult], dask_cluster: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            *CLI_ARGS,
            "--scheduler",
            dask_cluster,
            "--out",
            str(tmp_path / "dask"),
            "--no-plots",
        ],
    )
    assert result.exit_code == 0, result.output
    assert read_runs(tmp_path / "dask").equals(read_runs(reference[0]))


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_without_recomputing(
    reference: tuple[Path, SweepResult], tmp_path: Path
) -> None:
    plan = prepare("tiny", **ARGS)  # type: ignore[arg-type]
    folder = tmp_path / "resumed"

    def stop(done: int, total: int, failed: int) -> None:
        if done >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, folder, workers=2, progress=stop)
    kept = {
        int(r)
        for f in (folder / "parts").glob("*.parquet")
        for r in pq.read_table(f, columns=["run"]).column("run").to_pylist()
    }
    assert 3 <= len(kept) < 8
    again = run_sweep(plan, folder, workers=2)
    assert again.ran == 8 - len(kept)
    assert read_runs(folder).equals(read_runs(reference[0]))
    # A third call finds everything done and recomputes nothing.
    assert run_sweep(plan, folder, workers=1).ran == 0
    assert read_runs(folder).equals(read_runs(reference[0]))
