"""Sparse linear terms built as arrays, turned into linopy expressions and constraints.

The optimiser (:mod:`forcemodel.optimize.model`) and the assistance matcher
(:mod:`forcemodel.assist.match`) build every row this way: numpy arrays of (row, variable
label, coefficient), never a Python object per variable, and a row may gather terms from
variables of different shapes.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr


class Terms:
    """Linear terms collected as flat arrays (row, variable label, coefficient).

    Rows are flat indices into a labelled shape; :meth:`expression` turns them into one linopy
    expression over that shape, every row padded to the same number of terms. Building the
    model this way keeps it vectorised (numpy arrays, never a Python object per variable) and
    lets a row gather terms from variables of different shapes (a region's day from the
    options that count on it).
    """

    def __init__(self, coords: list[pd.Index]) -> None:
        self.coords = coords
        self.shape = tuple(len(c) for c in coords)
        self.rows: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.coeffs: list[np.ndarray] = []

    def add(self, rows: object, labels: object, coeffs: object) -> None:
        """Terms ``coeffs * labels`` in ``rows`` (flat row indices); labels < 0 are no term.

        Rows and labels of the same size pair up element by element, whatever their shapes
        (with a scalar or flat ``coeffs``); otherwise the three broadcast together.
        """
        r = np.asarray(rows, dtype=np.int64)
        lab = np.asarray(labels, dtype=np.int64)
        c = np.asarray(coeffs, dtype=float)
        if r.size == lab.size and c.ndim <= 1 and c.size in (1, lab.size):
            r, lab = r.ravel(), lab.ravel()
            c = np.broadcast_to(c.ravel() if c.ndim else c, lab.shape)
        else:
            r, lab, c = np.broadcast_arrays(r, lab, c)
        keep = (lab >= 0) & (c != 0)
        self.rows.append(r[keep].ravel())
        self.labels.append(lab[keep].ravel())
        self.coeffs.append(c[keep].ravel())

    def _flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0, np.int64)
        coeffs = np.concatenate(self.coeffs) if self.coeffs else np.zeros(0)
        order = np.argsort(rows, kind="stable")
        return rows[order], labels[order], coeffs[order]

    @staticmethod
    def _padded(
        rows: np.ndarray, labels: np.ndarray, coeffs: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``0..n-1`` (``rows`` sorted) as (n, width) arrays of labels and coefficients."""
        count = np.bincount(rows, minlength=n)
        width = max(1, int(count.max()) if n else 1)
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        pos = np.arange(rows.size) - start[rows]
        v = np.full((n, width), -1, dtype=np.int64)
        c = np.zeros((n, width))
        v[rows, pos] = labels
        c[rows, pos] = coeffs
        return v, c

    def expression(self, m: linopy.Model) -> linopy.LinearExpression:
        """The terms as one expression over the coords, rows padded to the longest."""
        return self.build(m)[0]

    def build(self, m: linopy.Model) -> tuple[linopy.LinearExpression, xr.DataArray]:
        """The expression over the coords, and the mask of rows that have any term."""
        n = int(np.prod(self.shape))
        rows, labels, coeffs = self._flat()
        v, c = self._padded(rows, labels, coeffs, n)
        width = v.shape[1]
        dims = [str(ix.name) for ix in self.coords]
        coords = {str(ix.name): ix for ix in self.coords}
        data = xr.Dataset(
            {
                "vars": ([*dims, "_term"], v.reshape(*self.shape, width)),
                "coeffs": ([*dims, "_term"], c.reshape(*self.shape, width)),
            },
            coords=coords,
        )
        count = np.bincount(rows, minlength=n)
        mask = xr.DataArray((count > 0).reshape(self.shape), coords=self.coords)
        return linopy.LinearExpression(data, m), mask

    def equal_zero_by_width(self, m: linopy.Model, name: str) -> None:
        """``row == 0`` for every row, as one constraint per band of row lengths.

        linopy stores a constraint padded to its longest row; rows of very unequal lengths
        (a lift pool on a busy day against a quiet link) would waste most of it, so rows are
        grouped by length (powers of 4), each group a constraint ``name_w<k>`` over a flat
        ``row`` coordinate (the row's flat index in the labelled shape).
        """
        n = int(np.prod(self.shape))
        rows, labels, coeffs = self._flat()
        count = np.bincount(rows, minlength=n)
        band = np.ceil(np.log(np.maximum(count, 1)) / np.log(4)).astype(int)
        for k in np.unique(band):
            ids = np.flatnonzero(band == k)
            local = np.full(n, -1, dtype=np.int64)
            local[ids] = np.arange(ids.size)
            sel = local[rows] >= 0
            v, c = self._padded(local[rows[sel]], labels[sel], coeffs[sel], ids.size)
            data = xr.Dataset(
                {"vars": (["row", "_term"], v), "coeffs": (["row", "_term"], c)},
                coords={"row": pd.Index(ids, name="row")},
            )
            m.add_constraints(linopy.LinearExpression(data, m) == 0, name=f"{name}_w{k}")
