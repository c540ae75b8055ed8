"""The simulated search (forcemodel.optimize.simulated, .refine), the user's hook, provenance,
work limits, Ctrl-C and bad settings of the optimiser's commands (issues 13 and 15)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import linopy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forcemodel import load_scenario, load_scenario_data, simulate
from forcemodel.cli import app
from forcemodel.network.compile import compile_network
from forcemodel.optimize import BuiltModel, WorkLimits, optimize, planned_scenario_data
from forcemodel.optimize.model import Weights
from forcemodel.optimize.safeguard import bundled_closure_days
from forcemodel.optimize.simulated import Scorer, planned, sim_plan_of
from forcemodel.optimize.start import planner_choices
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario

runner = CliRunner()

#: A deterministic stopping rule small enough for the quick tier.
SMALL = WorkLimits(evaluations=30, mip_nodes=200, lp_iterations=200_000)


def _simulated_score(scenario: Scenario, choices: dict[str, tuple[str, str | None]]) -> float:
    """The plan's simulated shortfall in the model's weights, with the bundled targets."""
    weights = Weights.of(scenario)
    weights = Weights(
        early_weight=weights.early_weight,
        day_weights=weights.day_weights,
        cost_weight=weights.cost_weight,
        late_weight=weights.late_weight,
        closure_by=bundled_closure_days(scenario),
    )
    return Scorer(scenario, weights, simulate)(sim_plan_of(scenario, choices)).score


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 50), units=st.integers(6, 14))
def test_kept_plan_is_never_worse_in_the_simulation_than_the_planner(seed: int, units: int) -> None:
    """On synthetic scenarios the plan kept, simulated, scores no worse (in the model's
    weights) than the day-0 planner's plan, whatever stopped the search."""
    scenario = load_scenario_data(
        synthetic_scenario(units=units, nodes=8, days=60, regions=2, seed=seed)
    )
    result = optimize(scenario, closure_by="bundled", work=SMALL, threads=1, duals=False)
    planner = planner_choices(scenario, compile_network(scenario), None)
    kept = _simulated_score(scenario, result.choices)
    assert kept <= _simulated_score(scenario, planner) + 1e-9 * max(1.0, kept)
    p = result.provenance
    assert p is not None and p.simulated and p.simulated_score == pytest.approx(kept)
    assert p.evaluations <= SMALL.evaluations


def test_planned_scenario_is_the_written_plan() -> None:
    """The search simulates the plan as the folder writes it: the same scenario."""
    tiny = load_scenario("tiny")
    choices = {u.id: ("lithuania", None) for u in tiny.units}
    choices["armd-bde-1"] = ("lithuania", "powidz-set")
    written = load_scenario_data(planned_scenario_data(tiny, choices))
    quick = planned(tiny, sim_plan_of(tiny, choices))
    assert simulate(quick).tables["shortfall"].equals(simulate(written).tables["shortfall"])


@pytest.mark.slow
def test_work_limits_give_the_same_plan_twice() -> None:
    scenario = load_scenario_data(synthetic_scenario(units=10, nodes=8, days=60, regions=2, seed=3))
    a = optimize(scenario, closure_by="bundled", work=SMALL, threads=1, duals=False)
    b = optimize(scenario, closure_by="bundled", work=SMALL, threads=1, duals=False)
    assert a.choices == b.choices and a.objective_value == b.objective_value
    assert a.provenance is not None and "work limits" in a.provenance.rule


def test_extra_functionality_adds_the_users_constraint() -> None:
    """PyPSA-style hook: a constraint added to every built model holds in the plan kept."""
    tiny = load_scenario("tiny")
    free = optimize(tiny, threads=1, duals=False)
    assert free.choices["armd-bde-1"] == ("lithuania", "powidz-set")
    seen: list[int] = []

    def no_set_for_the_armour(built: BuiltModel) -> None:
        seen.append(len(built.options))
        opts = built.options
        rows = opts.index[(opts["unit_id"] == "armd-bde-1") & (opts["stock_id"] != "")]
        choose = built.model.variables["choose"]
        m: linopy.Model = built.model
        m.add_constraints(choose.sel(option=list(rows)).sum() == 0, name="user_no_set")

    hooked = optimize(tiny, threads=1, duals=False, extra_functionality=no_set_for_the_armour)
    assert seen  # called on the models built
    assert hooked.choices["armd-bde-1"] == ("lithuania", None)
    assert hooked.objective_value > free.objective_value
    with pytest.raises(ValueError, match="extra_functionality"):
        optimize(tiny, extra_functionality=42)  # type: ignore[arg-type]


def test_interrupt_keeps_the_best_plan_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after the day-0 planner's plan was scored: that plan comes back, marked."""
    tiny = load_scenario("tiny")

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("forcemodel.optimize.search.queue_free_bound", stop)
    result = optimize(tiny, threads=1)
    assert result.termination == "interrupted"
    assert result.provenance is not None and result.provenance.kept == "day-0 planner"
    monkeypatch.setattr("forcemodel.optimize.search.planner_z", stop)
    with pytest.raises(KeyboardInterrupt):
        optimize(tiny, threads=1)


def test_cli_interrupt_writes_the_plan_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("forcemodel.optimize.search.queue_free_bound", stop)
    out = tmp_path / "plan"
    result = runner.invoke(app, ["optimize", "tiny", "--out", str(out), "--threads", "1"])
    assert result.exit_code == 130, result.output
    assert (out / "plan.csv").exists() and "interrupted" in result.output
    monkeypatch.setattr("forcemodel.optimize.search.planner_z", stop)
    none = runner.invoke(app, ["optimize", "tiny", "--out", str(tmp_path / "none")])
    assert none.exit_code == 130 and "nothing written" in none.output
    assert not (tmp_path / "none").exists()


def test_cli_prints_provenance_and_progress(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    args = ["optimize", "tiny", "--out", str(out), "--threads", "1", "--work-limit", "10"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Plan kept:" in text and "stopped by:" in text and "work limits (10 simulations" in text
    assert "Simulated closure by region against its target" in text
    assert "incumbent" in text and "bound" in text  # progress lines, plain text


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--time-limit", "inf"], "--time-limit must be a finite number"),
        (["--time-limit", "nan"], "--time-limit must be a finite number"),
        (["--gap", "2"], "--gap must be 0 or more and below 1"),
        (["--write-model", "/nonexistent/x.mps"], "does not exist"),
        (["--work-limit", "0"], "--work-limit"),
    ],
)
def test_cli_bad_settings_exit_2_with_a_message(
    tmp_path: Path, args: list[str], words: str
) -> None:
    result = runner.invoke(app, ["optimize", "tiny", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert words in result.output.replace("\n", " ")
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--days", "inf", "--disrupt", "home-road"], "--days must be a finite number"),
        (["--time-limit", "inf"], "--time-limit must be a finite number"),
        (["--day", "inf"], "--day must be a finite day"),
    ],
)
def test_cli_replan_bad_settings_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    base = ["replan", "tiny", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*base, *(["--day", "5"] if "--day" not in args else []), *args])
    assert result.exit_code == 2, result.output
    assert words in result.output.replace("\n", " ")


def test_cli_replan_says_why_nothing_changed(tmp_path: Path) -> None:
    """tiny re-planned on day 0 by the planner's rule: the same choices, and it says why."""
    args = ["replan", "tiny", "--day", "0", "--method", "planner", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "nothing changed:" in result.output and "same region and set" in result.output


@pytest.mark.slow
def test_highs_banner_never_on_stdout(tmp_path: Path) -> None:
    """The HiGHS banner (printed by highspy at C level) stays off stdout: only the tables."""
    out = tmp_path / "plan"
    cmd = [sys.executable, "-m", "forcemodel", "optimize", "tiny", "--out", str(out)]
    done = subprocess.run(
        [*cmd, "--threads", "1", "--work-limit", "5"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Running HiGHS" not in done.stdout and "Copyright" not in done.stdout
    assert "Plan: region and set per unit" in done.stdout


@pytest.mark.slow
def test_capacity_prices_hold_over_the_range_they_state() -> None:
    """Finite differences: raising the binding capacity row with the largest price by half the
    room HiGHS's ranging gives (``holds_for``) changes the objective by the price times the
    change; the plan's choices fixed, as the explanations are read."""
    import numpy as np

    from forcemodel.mip.solve import SolverSettings, run_highs
    from forcemodel.optimize.explain import bindings_table, row_room
    from forcemodel.optimize.model import build_model, option_table
    from forcemodel.optimize.start import choices_z

    scenario = load_scenario_data(
        synthetic_scenario(units=40, nodes=12, days=60, regions=3, seed=2)
    )
    plan = optimize(scenario, threads=1, work=SMALL, duals=False)
    net = compile_network(scenario)
    options = option_table(scenario, net)
    settings = SolverSettings(time_limit=float("inf"), threads=1, iteration_limit=10**7)
    with linopy.options as opts:
        opts(semantics="v1")
        probe = build_model(scenario, net, options, Weights.of(scenario), relax=True)
        z = choices_z(scenario, probe, plan.choices)
        assert z is not None
        built = build_model(scenario, net, options, Weights.of(scenario), relax=True, fix_choices=z)
        run_highs(built.model, dataclasses.replace(settings, method="simplex"), mip=False)
        table = bindings_table(scenario, built, relaxed=False)
        checked = 0
        for name in ("rsom_capacity", "shared_capacity"):
            if name not in built.model.constraints:
                continue
            con = built.model.constraints[name]
            dual = con.dual.to_series().dropna()
            dual = dual[dual.abs() > 1e-6]
            room = row_room(built, name)
            if dual.empty or room is None:
                continue
            key = dual.abs().idxmax()
            step = float(room.loc[key]) / 2 if np.isfinite(room.loc[key]) else 1.0
            assert step > 0
            label = int(con.labels.to_series().loc[key])
            row = int(np.flatnonzero(np.asarray(built.model.matrices.clabels) == label)[0])
            h = built.model.solver_model
            before = h.getInfo().objective_function_value
            rhs = float(con.rhs.to_series().loc[key])
            h.changeRowBounds(row, -np.inf, rhs + step)
            h.run()
            after = h.getInfo().objective_function_value
            assert after - before == pytest.approx(float(dual.loc[key]) * step, rel=1e-6, abs=1e-9)
            checked += 1
        assert checked, "no capacity binds on this scenario: pick another"
    cap = table[table["kind"].isin(["rsom_tons", "rsom_people", "shared"])]
    assert cap["holds_for"].notna().any() and "HiGHS ranging" in " ".join(cap["meaning"])


def test_chain_estimate_backfills_the_region_the_unit_leaves() -> None:
    """The chains of the simulated search (``_chains``), worked by hand: region B is short one
    brigade on days 5-9 (past its target, so weighed 100 times), A is exactly met by unit 0
    (counted from day 2) and C has one brigade to spare. Unit 0 to B (counted from day 3)
    gains 5 late days there (500) but leaves A short on days 2-9 (8): 492. The chain that also
    sends unit 1 from C to A (counted from day 3) leaves A short on day 2 only and C nothing:
    500 - 1 - 0 = 499, ranked above the single move."""
    from forcemodel.optimize.simulated import SimPlan, _chains, _State

    n_days = 10
    deficit = np.zeros((3, 1, n_days))
    deficit[1, 0, 5:] = 1.0  # B short
    deficit[2, 0, :] = -1.0  # C spare
    w = np.ones((3, n_days))
    w[1, 5:] *= 100.0  # B's days from its target on
    state = _State(
        deficit=deficit,
        w=w,
        power=np.ones((2, 1)),
        start_old=np.array([2, 2]),
        delay=np.zeros((3, 2)),
        apart=np.zeros((2, 3), dtype=bool),
        late=np.array([False, True, False]),
        rix={"A": 0, "B": 1, "C": 2},
        n_days=n_days,
    )
    plan = SimPlan(("A", "C"), (False, False))
    single = -state.change(1, [(-np.ones(1), 3)]) - state.change(0, [(np.ones(1), 2)])
    assert single == pytest.approx(492.0)
    arrival = {(0, "B", False): 3.0, (1, "A", False): 3.0}
    chains = _chains(state, plan, {1: [(single, 0, False, 3)]}, ["A", "B", "C"], arrival)
    assert [m.changes for m in chains] == [((0, "B", False), (1, "A", False))]
    assert chains[0].estimate == pytest.approx(499.0)
