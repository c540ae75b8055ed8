"""First-order Sobol indices (SALib, RBD-FAST) beside Spearman's rho: right on a function whose
indices are known, none from too few runs, and reachable from the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forcemodel.cli import app
from forcemodel.sweep.aggregate import SOBOL_MIN_RUNS, sobol_indices


def runs_of(n: int, seed: int = 3) -> pd.DataFrame:
    """Runs of one region whose closure day is 4a + b^2 (a, b, c uniform on 0..1; c unused)."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(size=(3, n))
    day = 10 + 4 * a + b**2
    return pd.DataFrame(
        {
            "run": np.arange(n),
            "point": 0,
            "region": "r",
            "error": None,
            "in.a": a,
            "in.b": b,
            "in.c": c,
            "closure_day": day,
            "shortfall_bde_days": day,
            "vulnerable_days": 0.0,
            "max_ratio": 1.0,
        }
    )


def test_the_indices_are_those_of_a_known_function() -> None:
    s = sobol_indices(runs_of(2000), horizon=60, figures=("closure_day",), seed=1)
    s1 = s.set_index("input")["S1"]
    # Var(4a) = 16/12, Var(b^2) = 4/45: S1(a) = 0.9375, S1(b) = 0.0625, S1(c) = 0.
    assert s1["in.a"] == pytest.approx(0.9375, abs=0.05)
    assert s1["in.b"] == pytest.approx(0.0625, abs=0.05)
    assert abs(s1["in.c"]) < 0.05
    assert s["input"].iloc[0] == "in.a"  # largest first
    # Seeded: the same runs and seed, the same table.
    again = sobol_indices(runs_of(2000), horizon=60, figures=("closure_day",), seed=1)
    pd.testing.assert_frame_equal(s, again)


def test_too_few_runs_give_no_index() -> None:
    assert sobol_indices(runs_of(SOBOL_MIN_RUNS - 1), horizon=60).empty
    assert not sobol_indices(runs_of(SOBOL_MIN_RUNS), horizon=60).empty


def test_an_unknown_method_is_refused_before_any_run(tmp_path: Path) -> None:
    args = ["sweep", "tiny", "-n", "2", "-u", "tiny", "--sensitivity", "sobel"]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "--sensitivity: 'sobel' is not one of spearman, sobol" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_a_sweep_writes_sobol_indices_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["sweep", "tiny", "-n", "60", "--seed", "2", "-u", "tiny", "-w", "2"]
    result = CliRunner().invoke(
        app, [*args, "--sensitivity", "sobol", "--no-plots", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    sobol = pd.read_csv(out / "sobol.csv")
    assert set(sobol["region"]) == {"lithuania"} and (sobol["runs"] == 60).all()
    assert sobol["S1"].between(-0.5, 1.5).all()
    # The drawn warning day drives tiny's closure day most (as Spearman's rho says too).
    s1 = sobol[sobol["figure"] == "closure_day"]
    rho = pd.read_csv(out / "sensitivity.csv")
    rho = rho[rho["figure"] == "closure_day"]
    assert s1["input"].iloc[0] == rho.loc[rho["rho"].abs().idxmax(), "input"]
