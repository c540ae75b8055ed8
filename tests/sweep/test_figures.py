"""The runs table's figures are the assessment's, computed faster."""

from __future__ import annotations

import math

import pytest

import forcemodel
from forcemodel.sweep.draws import draw, world_settings
from forcemodel.sweep.figures import CAPABILITY_COLUMNS, run_figures
from forcemodel.sweep.spec import build_variant, prepare
from forcemodel.sweep.worker import point_of


def _same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return float(a) == float(b)  # type: ignore[arg-type]


@pytest.mark.parametrize(("scenario", "draws"), [("tiny", range(6)), ("eastern-flank", [0, 1])])
def test_figures_equal_the_assessment(scenario: str, draws: range) -> None:
    plan = prepare(scenario, draws=10, seed=5, uncertainty=scenario)
    pt = point_of(plan, 0)
    for d in draws:
        world = draw(pt.scenario, pt.uncertainty, plan.seed, d, pt.fixed)
        s = build_variant(plan.raw, world_settings(world, [], pt.units, pt.disruptions))
        results = forcemodel.simulate(s)
        a = forcemodel.assess(results)
        mine = {r["region"]: r for r in run_figures(results)}
        assert set(mine) == set(a.regions["region"])
        for rec in a.regions.to_dict("records"):
            row = mine[rec["region"]]
            for f in (
                "closure_day",
                "shortfall_days",
                "shortfall_bde_days",
                "vulnerable_days",
                "vulnerable_from",
                "vulnerable_until",
                "max_ratio",
            ):
                assert _same(rec[f], row[f]), (rec["region"], f, rec[f], row[f])
        for rec in a.capabilities.to_dict("records"):
            assert _same(rec["closure_day"], mine[rec["region"]][f"closure_{rec['capability']}"])
        assert all(c in row for c in CAPABILITY_COLUMNS)
