"""Prove a suppression pattern safe: what can a reader derive about each hidden cell?

A published table with margins is a system of linear equations: every row adds up to its
row total, every column to its column total, the totals to the grand total. Hiding a cell
does not hide its value if the equations still pin it down: one hidden cell in a row with a
published total is simply the total minus the rest. Nonnegativity matters too: a hidden
cell can only move if the cells it trades with can absorb the change without going below
zero, so a "rectangle" of hidden cells through zeros can be as revealing as no rectangle.

For every hidden entry (cell or margin), the audit computes the smallest and largest value
consistent with everything published and with all counts being >= 0, by solving two linear
programmes with SciPy's HiGHS. An entry whose minimum equals its maximum is exactly
recoverable: a failure. A sensitive entry (one suppressed by a primary rule) must also leave
room upwards: its maximum must exceed its true value by its required protection, so that
the published table stays consistent with the cell being large enough to publish.

Integrality: we solve the LP relaxation (hidden entries are reals >= 0). For 1-D and 2-D
tables with margins this loses nothing: negating the margin entries turns the constraint
matrix into the incidence matrix of a bipartite graph (table rows versus table columns),
which is totally unimodular, so with integer published values every vertex of the feasible
set is integral and the LP bounds are exactly the integer bounds. The unit tests cross-check
this against `scipy.optimize.milp` on small random tables.

Layout convention (shared with `cell_suppression`): a table is given by its interior cells;
its *extended* form appends the margins, like `pandas.crosstab(..., margins=True)`: a 1-D
table of n cells becomes n + 1 entries (the last is the total); an R x C table becomes
(R + 1) x (C + 1) (last column: row totals; last row: column totals; corner: grand total).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

# Relative to the table's largest entry (its grand total): closer than this, two LP bounds are
# the same number. Count tables have integral bounds (see above), so no real width is lost.
RELATIVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class TableLayout:
    """The additive structure of a 1-D or 2-D table with its margins (see module docstring)."""

    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.shape) not in (1, 2) or min(self.shape, default=0) < 1:
            raise ValueError(
                f"a table must be 1-D or 2-D with at least one cell per dimension, got shape "
                f"{self.shape}; reshape or split the aggregate before suppressing it"
            )

    @cached_property
    def extended_shape(self) -> tuple[int, ...]:
        return tuple(n + 1 for n in self.shape)

    @cached_property
    def size(self) -> int:
        """Number of entries of the extended table (cells and margins)."""
        return math.prod(self.extended_shape)

    @cached_property
    def lines(self) -> tuple[NDArray[np.intp], ...]:
        """Flat indices of each additive line: its parts, then its total (last)."""
        flat = np.arange(self.size).reshape(self.extended_shape)
        if flat.ndim == 1:
            return (flat,)
        return tuple(flat[i, :] for i in range(flat.shape[0])) + tuple(
            flat[:, j] for j in range(flat.shape[1])
        )

    @cached_property
    def equations(self) -> sparse.csr_array:
        """One row per line: +1 on its parts, -1 on its total, so `equations @ values == 0`."""
        rows = np.concatenate([np.full(len(line), k) for k, line in enumerate(self.lines)])
        cols = np.concatenate(self.lines)
        coef = np.concatenate([np.r_[np.ones(len(line) - 1), -1.0] for line in self.lines])
        return sparse.csr_array((coef, (rows, cols)), shape=(len(self.lines), self.size))

    @cached_property
    def margin_mask(self) -> NDArray[np.bool_]:
        """True on the extended entries that are totals rather than interior cells."""
        mask = np.zeros(self.extended_shape, dtype=bool)
        for axis, n in enumerate(self.shape):
            index: list[slice | int] = [slice(None)] * len(self.shape)
            index[axis] = n
            mask[tuple(index)] = True
        return mask.ravel()

    def extend(self, table: NDArray[np.float64]) -> NDArray[np.float64]:
        """Interior table -> flat extended table (margins computed as exact sums)."""
        if table.ndim == 1:
            return np.r_[table, table.sum()]
        row_totals = table.sum(axis=1, keepdims=True)
        bottom = np.c_[table.sum(axis=0, keepdims=True), table.sum()]
        return np.block([[table, row_totals], [bottom]]).ravel()

    def entries_of(self, cells: NDArray[np.intp]) -> NDArray[np.intp]:
        """For interior cells given as a (k, ndim) index array, the flat extended entries each
        one adds to: itself and every margin above it, shape (k, 2 ** ndim)."""
        choices = [
            np.stack([cells[:, axis], np.full(len(cells), n)]) for axis, n in enumerate(self.shape)
        ]
        grids = np.meshgrid(*[np.arange(2)] * len(self.shape), indexing="ij")
        picks = [choices[axis][grid.ravel()] for axis, grid in enumerate(grids)]
        return np.ravel_multi_index(tuple(picks), self.extended_shape).T

    def lines_through(self, flat: Iterable[int]) -> NDArray[np.bool_]:
        """Mask of every entry sharing a line (row, column or total) with one of `flat`."""
        wanted = set(flat)
        mask = np.zeros(self.size, dtype=bool)
        for line in self.lines:
            if wanted.intersection(line.tolist()):
                mask[line] = True
        return mask

    def position(self, flat: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(flat, self.extended_shape))

    def describe(self, flat: int) -> str:
        """Human name of an extended entry, for audit reports and error messages."""
        pos = self.position(flat)
        at_margin = [i == n for i, n in zip(pos, self.shape, strict=True)]
        if len(pos) == 1:
            return "total" if at_margin[0] else f"cell {pos[0]}"
        if all(at_margin):
            return "grand total"
        if at_margin[1]:
            return f"row total {pos[0]}"
        if at_margin[0]:
            return f"column total {pos[1]}"
        return f"cell {pos}"


def recovery_tolerance(values: NDArray[np.float64]) -> float:
    """Below this width an interval is a single point (solver noise, scaled to the table)."""
    return RELATIVE_TOLERANCE * max(1.0, float(np.max(values, initial=0.0)))


@dataclass(frozen=True)
class CellInterval:
    """What a reader can derive about one hidden entry of the extended table."""

    position: tuple[int, ...]  # index in the extended table
    label: str  # "cell (2, 3)", "row total 2", "grand total"...
    margin: bool
    value: float  # the true, hidden value
    lower: float  # smallest value consistent with everything published
    upper: float  # largest value consistent with everything published (may be inf)
    required: float  # upward protection needed (0: only "not exactly recoverable")
    tolerance: float

    @property
    def width(self) -> float:
        return self.upper - self.lower

    @property
    def recoverable(self) -> bool:
        """The published table pins this entry to one value: the suppression failed."""
        return self.width <= self.tolerance

    @property
    def protected(self) -> bool:
        """Not recoverable, and consistent with a value at least `required` above the truth."""
        reach = self.upper - self.value
        return not self.recoverable and reach >= self.required - self.tolerance


class FeasibleSet:
    """Everything a reader knows about the hidden entries, as linear programmes.

    Published entries are constants; hidden ones are variables >= 0; every line of the table
    must add up. Hidden entries that share no equation (directly or through other hidden
    entries) cannot inform each other, so the system is split into connected components
    and each bound is computed on its component only: a large table with scattered
    suppressions becomes many small LPs.

    Every table found feasible (the true one, each LP optimum, a caller's perturbed table,
    each checked before use) is remembered as the lowest and highest value seen per entry:
    a hidden count seen at 0 needs no LP for its minimum, and a cell seen high enough needs
    none to prove its protection. Hiding more entries keeps old tables feasible, so a
    larger hidden set may start from a smaller one's memory (`seen`).
    """

    def __init__(
        self,
        layout: TableLayout,
        values: NDArray[np.float64],
        suppressed: NDArray[np.bool_],
        seen: FeasibleSet | None = None,
    ) -> None:
        self._layout = layout
        self._values = values
        self._suppressed = suppressed
        self._tolerance = recovery_tolerance(values)
        self._hidden = np.flatnonzero(suppressed)
        equations = layout.equations
        a_hidden = equations[:, self._hidden].tocsr()
        rhs = -(equations[:, ~suppressed] @ values[~suppressed])
        touched = np.diff(a_hidden.indptr) > 0
        # A fully published line must add up, or the table handed to us is not additive.
        broken = np.flatnonzero(~touched & (np.abs(rhs) > self._tolerance))
        if broken.size:
            line = layout.lines[int(broken[0])]
            raise ValueError(
                f"the published entries of the line ending at {layout.describe(int(line[-1]))} "
                "do not add up to its total; margins must be exact sums of the cells"
            )
        self._a = a_hidden[touched]
        self._b = rhs[touched]
        n_vars, n_eqs = len(self._hidden), self._a.shape[0]
        coo = self._a.tocoo()
        graph = sparse.coo_array(
            (np.ones(coo.nnz), (coo.col, n_vars + coo.row)), shape=(n_vars + n_eqs,) * 2
        )
        _, labels = connected_components(graph, directed=False)
        self._var_label = labels[:n_vars]
        self._eq_label = labels[n_vars:]
        self._var_of = {int(flat): k for k, flat in enumerate(self._hidden)}
        self._components: dict[int, tuple[NDArray[np.intp], sparse.csr_array, NDArray[Any]]] = {}
        if seen is not None and np.any(seen.suppressed & ~suppressed):
            raise ValueError("`seen` must come from a subset of the hidden entries")
        self.lowest_seen = values.copy() if seen is None else seen.lowest_seen.copy()
        self.highest_seen = values.copy() if seen is None else seen.highest_seen.copy()

    @property
    def suppressed(self) -> NDArray[np.bool_]:
        return self._suppressed

    def record(self, table: NDArray[np.float64]) -> None:
        """Remember a full extended table after checking it is consistent with the publication."""
        consistent = (
            np.all(np.abs(self._layout.equations @ table) <= self._tolerance)
            and np.all(table >= -self._tolerance)
            and np.allclose(
                table[~self._suppressed],
                self._values[~self._suppressed],
                rtol=0,
                atol=self._tolerance,
            )
        )
        if not consistent:
            raise RuntimeError("a table offered as feasible contradicts the publication")
        np.minimum(self.lowest_seen, table, out=self.lowest_seen)
        np.maximum(self.highest_seen, table, out=self.highest_seen)

    def _component(self, label: int) -> tuple[NDArray[np.intp], sparse.csr_array, NDArray[Any]]:
        if label not in self._components:
            variables = np.flatnonzero(self._var_label == label)
            eqs = np.flatnonzero(self._eq_label == label)
            self._components[label] = (variables, self._a[eqs][:, variables], self._b[eqs])
        return self._components[label]

    def _optimize(self, flat: int, sign: float) -> float:
        """min (sign=+1) or -max (sign=-1) of one hidden entry over its component."""
        k = self._var_of[flat]
        variables, a_eq, b_eq = self._component(int(self._var_label[k]))
        objective = np.zeros(len(variables))
        objective[np.searchsorted(variables, k)] = sign
        result = linprog(
            objective,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=(0, None),
            method="highs",
            # Presolve costs more than it saves on these network LPs (measured: 40 % slower).
            options={"presolve": False},
        )
        if result.status == 3:  # unbounded: only possible when maximizing
            return -math.inf
        if result.status != 0:
            raise RuntimeError(
                f"HiGHS could not bound {self._layout.describe(flat)} "
                f"(status {result.status}: {result.message}); the published table may be "
                "inconsistent (negative or non-additive values)"
            )
        table = self._values.copy()
        table[self._hidden[variables]] = result.x
        self.record(table)
        return float(result.fun)

    def lower(self, flat: int) -> float:
        if self.lowest_seen[flat] <= self._tolerance:
            return 0.0
        return max(0.0, self._optimize(flat, 1.0))

    def upper(self, flat: int) -> float:
        return -self._optimize(flat, -1.0)

    def reaches(self, flat: int, goal: float) -> bool:
        """Is a table with this entry >= goal consistent with the publication?"""
        return bool(self.highest_seen[flat] >= goal) or self.upper(flat) >= goal


def audit_layout(
    layout: TableLayout,
    values: NDArray[np.float64],
    suppressed: NDArray[np.bool_],
    required: NDArray[np.float64],
    seen: FeasibleSet | None = None,
) -> list[CellInterval]:
    """The audit on flat extended arrays (see `audit_suppression` for the friendly form).
    `seen` may carry feasible tables met while choosing the suppressions (they are checked)."""
    feasible = FeasibleSet(layout, values, suppressed, seen)
    tolerance = recovery_tolerance(values)
    hidden = [int(flat) for flat in np.flatnonzero(suppressed)]
    # Maxima first: each optimum is a feasible table full of zeros, which then settles most
    # minima without an LP of their own.
    uppers = [feasible.upper(flat) for flat in hidden]
    return [
        CellInterval(
            position=layout.position(flat),
            label=layout.describe(flat),
            margin=bool(layout.margin_mask[flat]),
            value=float(values[flat]),
            lower=feasible.lower(flat),
            upper=upper,
            required=float(required[flat]),
            tolerance=tolerance,
        )
        for flat, upper in zip(hidden, uppers, strict=True)
    ]


def as_table(table: ArrayLike) -> NDArray[np.float64]:
    """Validate an interior table: 1-D or 2-D, finite, nonnegative numbers."""
    array = np.asarray(table, dtype=np.float64)
    TableLayout(array.shape)  # validates the shape
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(
            "table values must be finite and >= 0 (counts or nonnegative magnitudes); "
            "fill missing cells with 0 before suppressing"
        )
    return array


def extended_mask(layout: TableLayout, mask: ArrayLike, name: str) -> NDArray[np.bool_]:
    """A per-entry array given for the interior (margins then False/0) or the extended table."""
    array = np.asarray(mask)
    if array.shape == layout.shape:
        array = np.pad(array, [(0, 1)] * array.ndim)
    if array.shape != layout.extended_shape:
        raise ValueError(
            f"{name} has shape {array.shape}; expected {layout.shape} (interior cells, margins "
            f"published) or {layout.extended_shape} (margins included, last row/column)"
        )
    return array.ravel()


def audit_suppression(
    table: ArrayLike, suppressed: ArrayLike, *, required: ArrayLike | None = None
) -> list[CellInterval]:
    """For each hidden entry of `table`, the interval a reader can derive from what is published.

    `table` holds the interior cells (1-D or 2-D, >= 0); margins are their exact sums.
    `suppressed` is a boolean mask, either of the interior shape (all margins published) or
    of the extended shape (margins included as the last row/column/entry). `required`, same
    shapes, is the upward protection each entry needs (default 0: only exact recovery fails).
    Returns one `CellInterval` per hidden entry, in row-major order of the extended table.
    """
    values = as_table(table)
    layout = TableLayout(values.shape)
    mask = extended_mask(layout, suppressed, "suppressed").astype(bool)
    needs = (
        np.zeros(layout.size)
        if required is None
        else extended_mask(layout, required, "required").astype(np.float64)
    )
    return audit_layout(layout, layout.extend(values), mask, needs)
