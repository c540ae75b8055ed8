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
import scipy.sparse
import xarray as xr
from linopy import CSRConstraint

# linopy exports no constructor of a CSR constraint's grid: Grid is taken from linopy.csr,
# which is why pyproject.toml bounds linopy below its next minor version (tested: 0.10.1).
from linopy.csr import Grid

#: Largest index stored in 32 bits; rows and labels up to it take half the memory.
_INT32_MAX = int(np.iinfo(np.int32).max)

#: Constraint signs :meth:`Terms.constrain` takes, in linopy's spelling.
_SIGNS: dict[str, str] = {"<=": "<=", ">=": ">=", "==": "=", "=": "="}


def _index_array(values: object) -> np.ndarray:
    """``values`` as integers, in 32 bits when they fit (halves the memory of every term)."""
    a = np.asarray(values)
    if a.dtype == np.int32:
        return a
    a = a.astype(np.int64, copy=False)
    if a.size == 0 or (int(a.max()) <= _INT32_MAX and int(a.min()) >= -_INT32_MAX):
        return a.astype(np.int32)
    return a


class Terms:
    """Linear terms collected as flat arrays (row, variable label, coefficient).

    Rows are flat indices into a labelled shape. :meth:`constrain` adds ``terms sign rhs`` as
    one linopy constraint over that shape stored as a sparse (CSR) matrix: every row keeps only
    its own terms, so a wide row (a region's day gathering hundreds of option terms) costs no
    padding in the narrow ones. :meth:`expression` gives the terms as an ordinary (dense)
    linopy expression instead, every row padded to the longest, for an objective or a row
    that must be combined further. Building the model this way keeps it vectorised (numpy
    arrays, never a Python object per variable) and lets a row gather terms from variables of
    different shapes (a region's day from the options that count on it).
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
        r = _index_array(rows)
        lab = _index_array(labels)
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
        """All terms as three flat arrays in the order added (the pieces are merged into one
        so that they are not held twice)."""
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int32)
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0, np.int32)
        coeffs = np.concatenate(self.coeffs) if self.coeffs else np.zeros(0)
        self.rows, self.labels, self.coeffs = [rows], [labels], [coeffs]
        return rows, labels, coeffs

    def _sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The terms ordered by row (stable: within a row, in the order added)."""
        rows, labels, coeffs = self._flat()
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
        """The expression over the coords (rows padded to the longest), and the mask of rows
        that have any term."""
        n = int(np.prod(self.shape))
        rows, labels, coeffs = self._sorted()
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

    def matrix(self, n_cols: int) -> scipy.sparse.csr_array:
        """The terms as a sparse matrix, one row per flat row of the shape, ``n_cols`` columns
        (variable labels); terms of the same row and variable are summed."""
        n = int(np.prod(self.shape))
        rows, labels, coeffs = self._flat()
        # COO to CSR is a counting sort (no argsort of the terms); duplicates are summed, as
        # a solver needs them, and each row's columns come out sorted.
        a = scipy.sparse.coo_array((coeffs, (rows, labels)), shape=(n, n_cols)).tocsr()
        a.sum_duplicates()
        return a

    def constrain(
        self,
        m: linopy.Model,
        sign: str,
        rhs: float | np.ndarray | xr.DataArray,
        name: str,
        mask: np.ndarray | xr.DataArray | None = None,
    ) -> linopy.constraints.ConstraintBase:
        """Add ``terms sign rhs`` to ``m`` as constraint ``name`` over the coords, stored sparse.

        ``sign`` is ``<=``, ``>=`` or ``==``; ``rhs`` a number or an array over the coords
        (an ``xr.DataArray`` is put in the coords' order); ``mask`` (same shape) leaves rows
        out where False. A row without terms is left out, as linopy leaves out a row whose
        expression is empty. The constraint keeps its name and coordinates (its duals read as
        over the coords, NaN where no row), but its rows are held as one CSR matrix, not as
        arrays padded to the widest row: the memory is that of the terms themselves. The
        terms are handed over: this ``Terms`` is empty afterwards.
        """
        if sign not in _SIGNS:
            raise ValueError(f"sign must be one of {', '.join(_SIGNS)}, got {sign!r}")
        n = int(np.prod(self.shape))
        a = self.matrix(m.shape[1])  # every variable label so far
        active = np.diff(a.indptr) > 0
        if mask is not None:
            active &= _on_coords(mask, self.coords).astype(bool).reshape(n)
        positions = np.flatnonzero(active)
        if positions.size < n:
            a = a[positions]
        values = np.broadcast_to(_on_coords(rhs, self.coords).astype(float), self.shape)
        con = CSRConstraint(
            a,
            positions,
            np.ascontiguousarray(values.reshape(n)[positions]),
            _SIGNS[sign],
            grid=Grid.from_coords(self.coords),
            model=m,
        )
        # The terms now live in the constraint's matrix: drop them (halves the peak memory of
        # a model built one constraint after another).
        self.rows, self.labels, self.coeffs = [], [], []
        return m.add_constraints(con, name=name, freeze=True)


def _on_coords(values: object, coords: list[pd.Index]) -> np.ndarray:
    """``values`` as a numpy array in the order of ``coords`` (a DataArray is transposed to
    it; anything else is taken as it is and must broadcast to the shape)."""
    if isinstance(values, xr.DataArray):
        dims = [str(ix.name) for ix in coords]
        missing = [d for d in values.dims if d not in dims]
        if missing:
            raise ValueError(f"values over dimensions {missing} that the rows do not have")
        for ix in coords:
            name = str(ix.name)
            if name in values.dims and not values.get_index(name).equals(ix):
                raise ValueError(f"values over '{name}' are not in the rows' order")
        values = values.expand_dims([d for d in dims if d not in values.dims])
        return np.asarray(values.transpose(*dims).to_numpy())
    return np.asarray(values)
