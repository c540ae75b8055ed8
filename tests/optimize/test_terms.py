"""forcemodel.mip.terms: the sparse (CSR) constraints give exactly the padded rows."""

from __future__ import annotations

from typing import Any

import linopy
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import xarray as xr

from forcemodel import load_scenario, load_scenario_data
from forcemodel.mip.terms import Terms
from forcemodel.network.compile import compile_network
from forcemodel.optimize.model import Weights, build_model, option_table
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario


def _padded_constrain(
    self: Terms,
    m: linopy.Model,
    sign: str,
    rhs: Any,
    name: str,
    mask: Any = None,
) -> Any:
    """The reference: the terms as one dense expression padded to the widest row, added the
    classic linopy way (the builder before the sparse constraints)."""
    expr, has = self.build(m)
    keep = has if mask is None else has & xr.DataArray(np.asarray(mask), coords=self.coords)
    if isinstance(rhs, xr.DataArray):
        rhs_da = rhs
    else:
        rhs_da = xr.DataArray(np.broadcast_to(rhs, self.shape).copy(), coords=self.coords)
    con = {"<=": expr <= rhs_da, ">=": expr >= rhs_da, "==": expr == rhs_da}[sign]
    return m.add_constraints(con, name=name, mask=keep)


def _matrices(m: linopy.Model) -> dict[str, Any]:
    mat = m.matrices
    return {
        "A": scipy.sparse.csr_array(mat.A),
        "b": np.asarray(mat.b),
        "sense": np.asarray(mat.sense),
        "clabels": np.asarray(mat.clabels),
        "vlabels": np.asarray(mat.vlabels),
        "c": np.asarray(mat.c),
        "lb": np.asarray(mat.lb),
        "ub": np.asarray(mat.ub),
    }


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    for key in ("b", "sense", "clabels", "vlabels", "c", "lb", "ub"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    diff = a["A"] - b["A"]
    assert a["A"].shape == b["A"].shape
    assert a["A"].nnz == b["A"].nnz
    assert abs(diff).max() == 0 if diff.nnz else True


def _random_terms(rng: np.random.Generator, labels: np.ndarray) -> Terms:
    coords = [pd.RangeIndex(7, name="a"), pd.Index(list("pqrst"), name="b")]
    t = Terms(coords)
    n = 35
    # Rows of very unequal widths, some empty, with a repeated (row, variable) pair.
    for width in (1, 3, 40):
        rows = rng.integers(0, n, size=width * 4)
        t.add(
            rows, labels[rng.integers(0, labels.size, size=rows.size)], rng.normal(size=rows.size)
        )
    t.add([5, 5], [labels[0], labels[0]], [1.5, 2.0])
    t.add(np.arange(n), -1, 1.0)  # no term (label -1)
    return t


@pytest.mark.parametrize("sign", ["<=", ">=", "=="])
def test_sparse_rows_are_the_padded_rows(sign: str) -> None:
    models = []
    for constrain in (Terms.constrain, _padded_constrain):
        with linopy.options as opts:
            opts(semantics="v1")
            m = linopy.Model()
            x = m.add_variables(lower=0.0, upper=3.0, coords=[pd.RangeIndex(50, name="v")])
            rng = np.random.default_rng(7)
            t = _random_terms(rng, x.labels.to_numpy())
            rhs = xr.DataArray(rng.normal(size=(7, 5)), coords=t.coords)
            mask = rng.random((7, 5)) > 0.2
            constrain(t, m, sign, rhs, "rows", mask=mask)
            m.add_objective(x.sum())
            models.append(m)
    sparse, padded = models
    assert isinstance(sparse.constraints["rows"], linopy.constraints.CSRConstraint)
    assert sparse.constraints["rows"].shape == (7, 5)
    _assert_same(_matrices(sparse), _matrices(padded))


def test_rhs_in_another_dimension_order_is_reordered() -> None:
    with linopy.options as opts:
        opts(semantics="v1")
        m = linopy.Model()
        a, b = pd.RangeIndex(2, name="a"), pd.RangeIndex(3, name="b")
        x = m.add_variables(lower=0.0, coords=[a, b], name="x")
        t = Terms([a, b])
        t.add(np.arange(6), x.labels.to_numpy().ravel(), 1.0)
        rhs = xr.DataArray(np.arange(6.0).reshape(3, 2), coords=[b, a])
        t.constrain(m, "<=", rhs, "cap")
        assert t.rows == []  # the terms were handed over
        np.testing.assert_array_equal(m.matrices.b, rhs.transpose("a", "b").to_numpy().ravel())
        with pytest.raises(ValueError, match="sign"):
            Terms([a]).constrain(m, "<", 0.0, "bad")
        t = Terms([a, b])
        t.add([0], [0], 1.0)
        with pytest.raises(ValueError, match="order"):
            t.constrain(m, "<=", xr.DataArray([1.0, 2.0], coords=[pd.Index([1, 0], name="a")]), "c")


def _both_builds(scenario: Scenario, **kw: Any) -> tuple[linopy.Model, linopy.Model]:
    net = compile_network(scenario)
    options = option_table(scenario, net)
    out = []
    with pytest.MonkeyPatch.context() as mp:
        for constrain in (Terms.constrain, _padded_constrain):
            mp.setattr(Terms, "constrain", constrain)
            with linopy.options as opts:
                opts(semantics="v1")
                out.append(build_model(scenario, net, options, Weights(), **kw).model)
    return out[0], out[1]


@pytest.mark.parametrize("shared", [True, False])
def test_model_matrix_is_that_of_the_padded_builder_on_tiny(shared: bool) -> None:
    sparse, padded = _both_builds(load_scenario("tiny"), shared=shared)
    _assert_same(_matrices(sparse), _matrices(padded))


def test_model_matrix_is_that_of_the_padded_builder_on_synthetic() -> None:
    scenario = load_scenario_data(
        synthetic_scenario(units=30, nodes=14, days=60, regions=3, seed=4)
    )
    sparse, padded = _both_builds(scenario, relax=True)
    assert "shared_counted" in sparse.constraints
    _assert_same(_matrices(sparse), _matrices(padded))
