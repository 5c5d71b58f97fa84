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
this against `scipy.optimize.milp` on small random tables. Hierarchical tables and linked
tables (several tables sharing cells, `cell_system`) have no such guarantee: an attacker who
knows the cells are counts may pin a cell the LP leaves a fraction of width. With
`integral=True` every LP optimum is checked, and where it is fractional the bound is solved
again as an integer programme, so the bounds are the integer ones.

What else a reader knows (`KnownBounds`): counts and amounts are >= 0; a count that the
record-level file of the same release implies, or a cell an earlier release published, is
known exactly; a cumulative cell is at least what an earlier release showed. Such knowledge
enters every programme as bounds on the entries.

Layout convention (shared with `cell_suppression`): a table is given by its interior cells;
its *extended* form appends the margins, like `pandas.crosstab(..., margins=True)`: a 1-D
table of n cells becomes n + 1 entries (the last is the total); an R x C table becomes
(R + 1) x (C + 1) (last column: row totals; last row: column totals; corner: grand total).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from include.anonymization.implied_bounds import implied_bounds
from include.anonymization.linear_programs import UNBOUNDED, BoundProgram

# Closer than this, two LP bounds are the same number: HiGHS's feasibility tolerance (1e-7)
# with a margin, or 1e-10 of the table's largest entry for large amounts. Measured: on
# INSEE's turnover tables (values up to 1.8e8) every LP solution meets every equation to
# 3e-8. It must stay far below the smallest protection a cell needs (a cell of 1 euro needs
# 0.18), so it cannot be a fixed share of the grand total. Count tables have integral
# bounds (see above), so no real width is lost.
ABSOLUTE_TOLERANCE = 1e-6
RELATIVE_TOLERANCE = 1e-10


class AdditiveLayout(ABC):
    """Entries tied by additive lines: in every line, the last entry is the sum of the others.

    A 1-D or 2-D table with its margins (`TableLayout`) is one; so are tables with
    hierarchical dimensions and several tables sharing cells (`cell_system.CellSystem`).
    The audit and the complementary suppression need nothing else: the equations, which
    entries are totals, and a name for each entry in reports and error messages.
    """

    @property
    @abstractmethod
    def size(self) -> int:
        """Number of entries (cells and totals)."""

    @property
    @abstractmethod
    def lines(self) -> tuple[NDArray[np.intp], ...]:
        """Flat indices of each additive line: its parts, then its total (last)."""

    @abstractmethod
    def position(self, flat: int) -> tuple[int, ...]:
        """Where an entry sits (its index in the extended table, for a `TableLayout`)."""

    @abstractmethod
    def describe(self, flat: int) -> str:
        """Human name of an entry, for audit reports and error messages."""

    @cached_property
    def equations(self) -> sparse.csr_array:
        """One row per line: +1 on its parts, -1 on its total, so `equations @ values == 0`."""
        rows = np.concatenate([np.full(len(line), k) for k, line in enumerate(self.lines)])
        cols = np.concatenate(self.lines)
        coef = np.concatenate([np.r_[np.ones(len(line) - 1), -1.0] for line in self.lines])
        return sparse.csr_array((coef, (rows, cols)), shape=(len(self.lines), self.size))

    @cached_property
    def margin_mask(self) -> NDArray[np.bool_]:
        """True on the entries that are the total of some line rather than interior cells."""
        mask = np.zeros(self.size, dtype=bool)
        mask[[int(line[-1]) for line in self.lines]] = True
        return mask

    def lines_through(self, flat: Iterable[int]) -> NDArray[np.bool_]:
        """Mask of every entry sharing a line (row, column or total) with one of `flat`."""
        wanted = np.fromiter(flat, dtype=np.intp)
        touched = np.unique(self.equations[:, wanted].tocoo().row)
        mask = np.zeros(self.size, dtype=bool)
        mask[self.equations[touched].tocoo().col] = True
        return mask


@dataclass(frozen=True)
class TableLayout(AdditiveLayout):
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
        flat = np.arange(self.size).reshape(self.extended_shape)
        if flat.ndim == 1:
            return (flat,)
        return tuple(flat[i, :] for i in range(flat.shape[0])) + tuple(
            flat[:, j] for j in range(flat.shape[1])
        )

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

    def position(self, flat: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(flat, self.extended_shape))

    def describe(self, flat: int) -> str:
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
    return max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * float(np.max(values, initial=0.0)))


@dataclass(frozen=True, eq=False)
class KnownBounds:
    """What a reader knows of each entry, published or not: lower <= entry <= upper.

    By default only that counts and amounts are >= 0. A count the record-level file of the
    same release implies, or a cell an earlier release published unchanged, is known exactly
    (lower == upper: hiding it protects nothing); a cumulative cell is at least what an
    earlier release showed (a lower bound only).
    """

    lower: NDArray[np.float64]
    upper: NDArray[np.float64]

    def __post_init__(self) -> None:
        if self.lower.shape != self.upper.shape or self.lower.ndim != 1:
            raise ValueError(
                f"known bounds need two flat arrays of one length, got shapes "
                f"{self.lower.shape} and {self.upper.shape}"
            )
        if np.any(self.lower > self.upper) or np.any(self.lower < 0):
            raise ValueError("known bounds must satisfy 0 <= lower <= upper on every entry")

    @classmethod
    def nonnegative(cls, size: int) -> KnownBounds:
        return cls(np.zeros(size), np.full(size, np.inf))

    @cached_property
    def exact(self) -> NDArray[np.bool_]:
        """Entries a reader knows exactly, whatever the tables show."""
        return np.asarray(self.lower == self.upper)


@dataclass(frozen=True)
class CellInterval:
    """What a reader can derive about one hidden entry."""

    index: int  # flat index of the entry in its layout
    position: tuple[int, ...]  # index in the extended table (a `TableLayout`), or (index,)
    label: str  # "cell (2, 3)", "row total 2", "grand total", "ACTIVITY=01 x SIZE=tr1"...
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


@dataclass(frozen=True, eq=False)
class _Component:
    """Hidden entries tied by equations, apart from every other: their own programme."""

    variables: NDArray[np.intp]  # positions among the hidden entries
    entries: NDArray[np.intp]  # flat indices in the layout
    program: BoundProgram


class FeasibleSet:
    """Everything a reader knows about the hidden entries, as linear programmes.

    Published entries are constants; hidden ones are variables within their known bounds
    (>= 0 unless a reader knows more); every line must add up. Hidden entries that share no
    equation (directly or through other hidden entries) cannot inform each other, so the
    system is split into connected components and each bound is computed on its component
    only: a large table with scattered suppressions becomes many small LPs.

    Every table found feasible (the true one, each LP optimum, a caller's perturbed table,
    each checked before use) is remembered as the lowest and highest value seen per entry:
    a hidden count seen at its lower bound needs no LP for its minimum, nor one seen at the
    bound its lines imply (`implied_bounds`), and a cell seen high enough needs none to prove
    its protection. Hiding more entries keeps old tables feasible, so a larger hidden set may
    start from a smaller one's memory (`seen`). With `integral`, only integral tables count
    as seen, and bounds are integer bounds (module docstring).
    `keep_tables` also keeps each remembered table whole (`tables`).
    """

    def __init__(
        self,
        layout: AdditiveLayout,
        values: NDArray[np.float64],
        suppressed: NDArray[np.bool_],
        seen: FeasibleSet | None = None,
        *,
        bounds: KnownBounds | None = None,
        integral: bool = False,
        keep_tables: bool = False,
    ) -> None:
        self._layout = layout
        self._values = values
        self._suppressed = suppressed
        self._bounds = KnownBounds.nonnegative(layout.size) if bounds is None else bounds
        self._integral = integral
        self._tolerance = recovery_tolerance(values)
        outside = (values < self._bounds.lower - self._tolerance) | (
            values > self._bounds.upper + self._tolerance
        )
        if outside.any():
            flat = int(np.argmax(outside))
            raise ValueError(
                f"{layout.describe(flat)} is {values[flat]:g}, outside what a reader is said "
                f"to know of it ([{self._bounds.lower[flat]:g}, {self._bounds.upper[flat]:g}]); "
                "known values must come from the same data as the tables"
            )
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
        self._components: dict[int, _Component] = {}
        if seen is not None and np.any(seen.suppressed & ~suppressed):
            raise ValueError("`seen` must come from a subset of the hidden entries")
        self.lowest_seen = values.copy() if seen is None else seen.lowest_seen.copy()
        self.highest_seen = values.copy() if seen is None else seen.highest_seen.copy()
        # Every remembered table, when asked: a witness that some entry can move, for the
        # caller to check again once fewer entries are hidden (`cell_suppression._prune`).
        self.tables: list[NDArray[np.float64]] | None = [] if keep_tables else None

    @property
    def suppressed(self) -> NDArray[np.bool_]:
        return self._suppressed

    def record(self, table: NDArray[np.float64]) -> None:
        """Remember a full table after checking it is consistent with the publication.

        With `integral`, a fractional table is consistent but proves nothing to a reader who
        knows the entries are whole numbers: it is not remembered.
        """
        tolerance = self._tolerance
        consistent = (
            np.all(np.abs(self._layout.equations @ table) <= tolerance)
            and np.all(table >= self._bounds.lower - tolerance)
            and np.all(table <= self._bounds.upper + tolerance)
            and np.allclose(
                table[~self._suppressed],
                self._values[~self._suppressed],
                rtol=0,
                atol=tolerance,
            )
        )
        if not consistent:
            raise RuntimeError("a table offered as feasible contradicts the publication")
        if self._integral and not np.all(np.abs(table - np.round(table)) <= tolerance):
            return
        np.minimum(self.lowest_seen, table, out=self.lowest_seen)
        np.maximum(self.highest_seen, table, out=self.highest_seen)
        if self.tables is not None:
            self.tables.append(table.copy())

    def _component(self, label: int) -> _Component:
        if label not in self._components:
            variables = np.flatnonzero(self._var_label == label)
            eqs = np.flatnonzero(self._eq_label == label)
            entries = self._hidden[variables]
            program = BoundProgram(
                self._a[eqs][:, variables],
                self._b[eqs],
                self._bounds.lower[entries],
                self._bounds.upper[entries],
            )
            self._components[label] = _Component(variables, entries, program)
        return self._components[label]

    def _optimize(self, flat: int, sign: float) -> float:
        """min (sign=+1) or -max (sign=-1) of one hidden entry over its component."""
        k = self._var_of[flat]
        component = self._component(int(self._var_label[k]))
        position = int(np.searchsorted(component.variables, k))
        result = component.program.optimize(
            position, sign, integral=self._integral, tolerance=self._tolerance
        )
        if result.status == UNBOUNDED:  # only possible when maximizing
            return -math.inf
        if result.status != 0:
            raise RuntimeError(
                f"HiGHS could not bound {self._layout.describe(flat)} "
                f"(status {result.status}: {result.message}); the published table may be "
                "inconsistent (negative or non-additive values)"
            )
        table = self._values.copy()
        table[component.entries] = result.x
        self.record(table)
        return float(result.fun)

    @cached_property
    def _implied(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """What single lines imply of each entry (`implied_bounds`): computed once, on the
        first bound a remembered table does not already give."""
        return implied_bounds(
            self._layout.equations,
            self._values,
            self._suppressed,
            self._bounds.lower,
            self._bounds.upper,
            integral=self._integral,
            tolerance=self._tolerance,
        )

    def lower(self, flat: int) -> float:
        """The entry's minimum: a bound no table goes below that a remembered table meets
        needs no LP (first what the reader knows, then what single lines imply)."""
        if self.lowest_seen[flat] <= self._bounds.lower[flat] + self._tolerance:
            return float(self._bounds.lower[flat])
        floor = float(self._implied[0][flat])
        if self.lowest_seen[flat] <= floor + self._tolerance:
            return floor
        return max(floor, self._optimize(flat, 1.0))

    def upper(self, flat: int) -> float:
        """The entry's maximum, found as `lower` finds the minimum."""
        if self.highest_seen[flat] >= self._bounds.upper[flat] - self._tolerance:
            return float(self._bounds.upper[flat])
        ceiling = float(self._implied[1][flat])
        if self.highest_seen[flat] >= ceiling - self._tolerance:
            return ceiling
        return -self._optimize(flat, -1.0)

    def reaches(self, flat: int, goal: float) -> bool:
        """Is a table with this entry >= goal consistent with the publication?"""
        return bool(self.highest_seen[flat] >= goal) or self.upper(flat) >= goal

    def moves(self, flat: int) -> bool:
        """Is this entry not recoverable? Tables already met answer first (each LP optimum
        moves many entries at once), then its maximum, then only its minimum."""
        value, tolerance = self._values[flat], self._tolerance
        return bool(
            self.highest_seen[flat] > value + tolerance
            or self.lowest_seen[flat] < value - tolerance
            or self.upper(flat) > value + tolerance
            or self.lower(flat) < value - tolerance
        )


def audit_layout(
    layout: AdditiveLayout,
    values: NDArray[np.float64],
    suppressed: NDArray[np.bool_],
    required: NDArray[np.float64],
    seen: FeasibleSet | None = None,
    *,
    bounds: KnownBounds | None = None,
    integral: bool = False,
    audited: NDArray[np.bool_] | None = None,
) -> list[CellInterval]:
    """The audit on flat arrays (see `audit_suppression` for the friendly form).

    `seen` may carry feasible tables met while choosing the suppressions (they are checked).
    `audited` selects the hidden entries to report (default: all of them); entries that are
    never published and protect nobody (e.g. an earlier release's cells) stay variables of
    the programmes without an interval of their own.
    """
    feasible = FeasibleSet(layout, values, suppressed, seen, bounds=bounds, integral=integral)
    tolerance = recovery_tolerance(values)
    wanted = suppressed if audited is None else suppressed & audited
    hidden = [int(flat) for flat in np.flatnonzero(wanted)]
    # Maxima first: each optimum is a feasible table full of zeros, which then settles most
    # minima without an LP of their own.
    uppers = [feasible.upper(flat) for flat in hidden]
    return [
        CellInterval(
            index=flat,
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
