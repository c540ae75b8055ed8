"""A run that fails is recorded with its error and does not stop the others."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from forcemodel.sweep.aggregate import summary
from forcemodel.sweep.spec import prepare
from forcemodel.sweep.store import Store, read_runs, runs_schema
from forcemodel.sweep.worker import run_batch

# A congested line closed for good: the tier-2 brigade's equipment has no route (point 1).
PARAM = "links.garrison-a_depot-p_rail.t_per_day=[2500, 0]"


def test_failed_runs_keep_their_error_and_the_others_run(tmp_path: Path) -> None:
    plan = prepare("tiny", draws=2, seed=0, uncertainty="tiny", params=[PARAM])
    rows = run_batch(plan, range(plan.runs))
    failed = [r for r in rows if r["error"]]
    assert [r["run"] for r in failed] == [2, 3]
    assert all("mech-bde-2: no route" in r["error"] and r["region"] is None for r in failed)
    ok = [r for r in rows if not r["error"]]
    assert [r["run"] for r in ok] == [0, 1] and all(r["closure_day"] > 0 for r in ok)
    # The rows fit the runs table, and the summary counts only the runs that ran.
    inputs = [k.removeprefix("in.") for k in ok[0] if k.startswith("in.")]
    store = Store(tmp_path / "s", plan, runs_schema(plan, inputs), {"digest": plan.digest})
    store.open()
    store.write(rows)
    store.finish()
    table = read_runs(tmp_path / "s")
    assert table.num_rows == 4 and table.column("error").null_count == 2
    summ = summary(table.to_pandas(), horizon=60)
    assert set(summ["point"]) == {0} and (summ["runs"] == 2).all()
    assert isinstance(table, pa.Table)
