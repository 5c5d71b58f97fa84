"""Tables with hierarchical dimensions, and several tables sharing cells, as one additive system.

WHY one system: a release publishes several aggregates of the same records. Two tables that
share a dimension share cells (the "activity" margin of activity x size is the "activity"
margin of activity x legal form), and a hidden cell of one table can be recomputed through
the other's published margins. Protecting each table alone is therefore no protection;
τ-ARGUS calls this the linked-tables problem. Here every cell of every table becomes one
entry of a single `AdditiveLayout`, so that complementary suppression and the LP audit of
`cell_suppression` / `suppression_audit` see all the equations at once.

A cell is identified by its code on every dimension of the system, the dimensions a table
does not break down being at their total: `ACTIVITY=01 x SIZE=Total` of one table and
`ACTIVITY=01 x CJ=Total` of another are both "ACTIVITY=01" and are the same entry (they
must then hold the same figures, which is checked). This is rtauargus's notion of common
cells; it assumes the linked tables count the same population and the same variable.

A dimension may be hierarchical (`Hierarchy`: A10 -> A21 -> A88 activity codes, NUTS2 ->
NUTS3 regions): every code with children is the sum of its children, one more additive
line per parent and per combination of the other dimensions' codes. A table uses the codes
it has rows for, and every ancestor of them (`Hierarchy.restricted`): a table given only at
the A21 level has A21 codes as its leaves; a subtotal it left out is added (computed, for
counts), so that every relation a reader of the hierarchy knows is in the system.

Rows a table leaves out are zero cells (an empty cell describes nobody and is published).
Totals may be left out of count tables (they are the sums of the cells); magnitude tables
must give every nonzero total, since the number of contributors and the largest
contribution of a total cannot be derived from its cells.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from include.anonymization.suppression_audit import (
    AdditiveLayout,
    KnownBounds,
    recovery_tolerance,
)

DEFAULT_TOTAL = "Total"


def _label(dimensions: Sequence[str], totals: Sequence[Hashable], key: Sequence[Hashable]) -> str:
    """A cell's name in reports: its codes on the dimensions it breaks down."""
    parts = [f"{d}={c}" for d, c, t in zip(dimensions, key, totals, strict=True) if c != t]
    return " x ".join(parts) if parts else "grand total"


@dataclass(frozen=True)
class Hierarchy:
    """One dimension's codes and how they add up: every code but the total has one parent.

    A parent code given no parent of its own adds up into the total: `{"Lyon": "69"}` makes
    "69" a child of the total.
    """

    name: str
    parents: Mapping[Hashable, Hashable]  # code -> the code it adds up into
    total: Hashable = DEFAULT_TOTAL

    def __post_init__(self) -> None:
        if self.total in self.parents:
            raise ValueError(f"hierarchy '{self.name}': the total {self.total!r} has a parent")
        tops = {p: self.total for p in self.parents.values() if p not in self.parents}
        tops.pop(self.total, None)
        object.__setattr__(self, "parents", {**self.parents, **tops})
        for code in self.parents:
            seen = {code}
            parent = self.parents[code]
            while parent != self.total:
                if parent in seen:
                    raise ValueError(f"hierarchy '{self.name}': a cycle goes through {code!r}")
                seen.add(parent)
                parent = self.parents[parent]

    @classmethod
    def flat(
        cls, name: str, codes: Iterable[Hashable], total: Hashable = DEFAULT_TOTAL
    ) -> Hierarchy:
        """A dimension without levels: every code adds up into the total."""
        return cls(name, {code: total for code in codes if code != total}, total)

    @classmethod
    def from_levels(
        cls, name: str, levels: pd.DataFrame, total: Hashable = DEFAULT_TOTAL
    ) -> Hierarchy:
        """From a correspondence table: one row per finest code, one column per level from
        the coarsest to the finest (INSEE's `activity_corr_table`: A10, A21, A88).

        A code repeated at the next level (`AZ, X, X`) is not broken down further, and a
        missing value ends the row's chain, as in rtauargus's `write_hrc2`.
        """
        parents: dict[Hashable, Hashable] = {}
        for row_number, row in enumerate(levels.itertuples(index=False), start=2):
            parent = total
            for code in row:
                if pd.isna(code) or code == parent:
                    continue
                known = parents.setdefault(code, parent)
                if known != parent:
                    raise ValueError(
                        f"hierarchy '{name}', row {row_number}: code {code!r} is under "
                        f"{parent!r} here but under {known!r} above; a code has one parent"
                    )
                parent = code
        return cls(name, parents, total)

    @cached_property
    def children(self) -> dict[Hashable, tuple[Hashable, ...]]:
        """Codes with children, each with its children in the order they were declared."""
        grouped: dict[Hashable, list[Hashable]] = {}
        for code, parent in self.parents.items():
            grouped.setdefault(parent, []).append(code)
        return {parent: tuple(codes) for parent, codes in grouped.items()}

    def ancestors(self, code: Hashable) -> list[Hashable]:
        """The codes a code adds up into, from its parent to the total."""
        chain = []
        while code != self.total:
            code = self.parents[code]
            chain.append(code)
        return chain

    def restricted(self, present: Iterable[Hashable]) -> Hierarchy:
        """The hierarchy over the codes a table has and all their ancestors.

        WHY every ancestor, even one the table gave no row for: the relation "département =
        sum of its communes" holds whether or not this table shows the département, and
        another table may show it; leaving it out would let the audit miss that attack.
        """
        unknown = [c for c in present if c != self.total and c not in self.parents]
        if unknown:
            raise ValueError(
                f"dimension '{self.name}' has codes {sorted(map(str, unknown))[:5]} missing "
                "from its hierarchy; add them to the correspondence table or fix the table"
            )
        kept = {c for c in present if c != self.total}
        kept.update(a for c in list(kept) for a in self.ancestors(c) if a != self.total)
        # declaration order, so that children keep their order
        return Hierarchy(
            self.name, {c: p for c, p in self.parents.items() if c in kept}, self.total
        )

    @cached_property
    def codes(self) -> tuple[Hashable, ...]:
        """Every code, the total first, each parent before its children."""
        order: list[Hashable] = []
        pending = [self.total]
        while pending:
            code = pending.pop()
            order.append(code)
            pending.extend(reversed(self.children.get(code, ())))
        return tuple(order)

    @cached_property
    def below(self) -> NDArray[np.float64]:
        """(codes x codes) 0/1 matrix: row c marks the leaf codes that add up into c."""
        index = {code: k for k, code in enumerate(self.codes)}
        matrix = np.zeros((len(self.codes), len(self.codes)))
        for code in self.codes:
            if code not in self.children:
                matrix[index[code], index[code]] = 1.0
                for ancestor in self.ancestors(code):
                    matrix[index[ancestor], index[code]] = 1.0
        return matrix


@dataclass(frozen=True)
class LinkedTable:
    """One table of a release (or of its context), in long format: one row per cell.

    `value` is a count of records (`contributors` None) or a sum of amounts, then with its
    number of `contributors` and, for the dominance rule, its `largest` contribution.
    `published=False`: a table the release does not publish but a reader can relate to it,
    e.g. the new records between two releases (cumulative = earlier + new).
    """

    frame: pd.DataFrame
    dimensions: tuple[str, ...]
    value: str = "count"
    contributors: str | None = None
    largest: str | None = None
    published: bool = True

    @property
    def is_count(self) -> bool:
        return self.contributors is None


@dataclass(frozen=True)
class KnownCell:
    """What a reader knows about one cell from outside the tables being protected.

    `cell` gives the cell's code on the dimensions it breaks down (the others are at their
    total). Exact (`lower == upper`): a count the record-level file of the same release
    gives, a cell an earlier release published and that cannot have changed. A lower bound
    only (`upper` infinite): a cumulative cell is at least what an earlier release showed.
    """

    cell: Mapping[str, Hashable]
    lower: float
    upper: float = float("inf")
    source: str = ""

    @classmethod
    def exact(cls, cell: Mapping[str, Hashable], value: float, source: str = "") -> KnownCell:
        return cls(cell, float(value), float(value), source)


@dataclass(frozen=True, eq=False)
class _TableGrid:
    """One table placed in the system: its codes per dimension and its entries."""

    name: str
    table: LinkedTable
    hierarchies: tuple[Hierarchy, ...]  # restricted to the table's codes, one per dimension
    entries: NDArray[np.intp]  # system entry of each grid cell, shape = codes per dimension
    rows: NDArray[np.intp]  # system entry of each row of the table's frame


@dataclass(frozen=True, eq=False)
class CellSystem(AdditiveLayout):
    """All cells of several linked tables, as entries of one additive layout.

    Build with `CellSystem.build`. Entries are numbered in the order tables first mention
    them; `values`, `records` (contributors) and `largest` are per entry.
    """

    dimensions: tuple[str, ...]
    totals: tuple[Hashable, ...]  # each dimension's total code
    keys: tuple[tuple[Hashable, ...], ...]  # per entry, its code on every dimension
    grids: Mapping[str, _TableGrid]
    values: NDArray[np.float64]
    records: NDArray[np.int64]
    largest: NDArray[np.float64] | None
    published: NDArray[np.bool_]  # in at least one published table
    all_lines: tuple[NDArray[np.intp], ...] = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def lines(self) -> tuple[NDArray[np.intp], ...]:
        return self.all_lines

    @property
    def is_count(self) -> bool:
        return self.largest is None

    def position(self, flat: int) -> tuple[int, ...]:
        return (flat,)

    def describe(self, flat: int) -> str:
        return _label(self.dimensions, self.totals, self.keys[flat])

    @cached_property
    def _index(self) -> dict[tuple[Hashable, ...], int]:
        return {key: flat for flat, key in enumerate(self.keys)}

    def entry(self, cell: Mapping[str, Hashable]) -> int:
        """The entry of a cell given by its codes (dimensions left out are at their total)."""
        unknown = sorted(set(cell) - set(self.dimensions))
        if unknown:
            raise ValueError(
                f"cell {dict(cell)} names dimensions {unknown} that no table has; "
                f"the system's dimensions are {list(self.dimensions)}"
            )
        key = tuple(
            cell.get(dim, total) for dim, total in zip(self.dimensions, self.totals, strict=True)
        )
        if key not in self._index:
            raise ValueError(
                f"cell {dict(cell)} is in none of the tables; add a table that contains it "
                "(e.g. the table the known value comes from) to relate it to the others"
            )
        return self._index[key]

    def known_bounds(self, known: Iterable[KnownCell]) -> KnownBounds:
        """Bounds per entry from what a reader knows; several facts on one cell intersect."""
        lower = np.zeros(self.size)
        upper = np.full(self.size, np.inf)
        for fact in known:
            flat = self.entry(fact.cell)
            if not fact.lower <= fact.upper:
                raise ValueError(f"known cell {dict(fact.cell)}: lower above upper")
            lower[flat] = max(lower[flat], fact.lower)
            upper[flat] = min(upper[flat], fact.upper)
            if lower[flat] > upper[flat]:
                raise ValueError(
                    f"the facts given on {self.describe(flat)} contradict each other "
                    f"(the last, from '{fact.source}', leaves no value)"
                )
        return KnownBounds(lower, upper)

    def table_entries(self, name: str) -> NDArray[np.intp]:
        """Entries of one table's grid (every cell, totals included), in row-major order."""
        return self.grids[name].entries.ravel()

    def row_entries(self, name: str) -> NDArray[np.intp]:
        """The entry of each row of one table's frame, in the frame's order."""
        return self.grids[name].rows

    @classmethod
    def build(
        cls,
        tables: Mapping[str, LinkedTable],
        hierarchies: Mapping[str, Hierarchy] | None = None,
        total: Hashable = DEFAULT_TOTAL,
    ) -> CellSystem:
        """Place every table in one system; dimensions without a hierarchy are flat, with
        `total` as their total code."""
        if not tables:
            raise ValueError("give at least one table to protect")
        kinds = {table.is_count for table in tables.values()}
        if len(kinds) > 1:
            raise ValueError(
                "tables mix counts and magnitudes; linked tables must share one response "
                "variable (protect count tables and magnitude tables separately)"
            )
        for name, table in tables.items():
            _validate(name, table)
        full = _system_hierarchies(tables, dict(hierarchies or {}), total)
        dimensions = tuple(full)
        builder = _Builder(dimensions, tuple(h.total for h in full.values()))
        grids = {
            name: builder.place(name, table, [full[d] for d in table.dimensions])
            for name, table in tables.items()
        }
        values, records, largest = builder.figures(is_count=kinds == {True})
        return cls(
            dimensions=dimensions,
            totals=builder.totals,
            keys=tuple(builder.keys),
            grids=grids,
            values=values,
            records=records,
            largest=largest,
            published=builder.published_mask(),
            all_lines=tuple(builder.lines.values()),
        )


def _validate(name: str, table: LinkedTable) -> None:
    """Columns present, dimension codes set and unique per row, figures finite and >= 0."""
    frame, dims = table.frame, list(table.dimensions)
    figures = [c for c in (table.value, table.contributors, table.largest) if c is not None]
    missing = [c for c in [*dims, *figures] if c not in frame.columns]
    if missing or not dims or len(set(dims)) != len(dims):
        raise ValueError(
            f"table '{name}': need distinct dimension columns and the figure columns "
            f"{figures}; got dimensions {dims}, missing {missing}"
        )
    if table.largest is not None and table.contributors is None:
        raise ValueError(f"table '{name}': a largest contribution needs a contributors column")
    if frame[dims].isna().any().any():
        raise ValueError(f"table '{name}': dimension columns {dims} have missing codes")
    duplicated = frame.duplicated(dims)
    if duplicated.any():
        first = frame.loc[duplicated, dims].iloc[0].tolist()
        raise ValueError(f"table '{name}': cell {first} of {dims} appears twice")
    for column in figures:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if numbers.isna().any() or not np.all(np.isfinite(numbers)) or (numbers < 0).any():
            raise ValueError(
                f"table '{name}': column '{column}' must hold finite numbers >= 0 on every row"
            )
    count_columns = [table.value] if table.is_count else [table.contributors]
    for column in count_columns:
        numbers = frame[column].to_numpy(dtype=np.float64)
        if not np.array_equal(numbers, np.round(numbers)):
            raise ValueError(f"table '{name}': column '{column}' counts, so must be whole")
    if table.largest is not None:
        over = frame[table.largest].to_numpy(float) > frame[table.value].to_numpy(float) * (
            1 + 1e-12
        )
        if over.any():
            row = frame.loc[over, dims].iloc[0].tolist()
            raise ValueError(
                f"table '{name}': cell {row} has a largest contribution above its total"
            )


def _system_hierarchies(
    tables: Mapping[str, LinkedTable], hierarchies: dict[str, Hierarchy], total: Hashable
) -> dict[str, Hierarchy]:
    """One hierarchy per dimension of any table, in order of first mention."""
    full: dict[str, Hierarchy] = {}
    for table in tables.values():
        for dim in table.dimensions:
            if dim in full:
                continue
            if dim in hierarchies:
                full[dim] = hierarchies[dim]
            else:
                codes = pd.unique(
                    pd.concat([t.frame[dim] for t in tables.values() if dim in t.dimensions])
                )
                full[dim] = Hierarchy.flat(dim, codes, total)
    unused = sorted(set(hierarchies) - set(full))
    if unused:
        raise ValueError(f"hierarchies given for {unused}, a dimension of no table")
    return full


class _Builder:
    """Accumulates entries, figures and lines while tables are placed one after another."""

    def __init__(self, dimensions: tuple[str, ...], totals: tuple[Hashable, ...]) -> None:
        self.dimensions = dimensions
        self.totals = totals
        self.keys: list[tuple[Hashable, ...]] = []
        self.index: dict[tuple[Hashable, ...], int] = {}
        self.lines: dict[tuple[int, ...], NDArray[np.intp]] = {}
        # per entry: the first table that has it, its value, contributors and largest
        self.facts: dict[int, tuple[str, float, float, float]] = {}
        self.in_published: set[int] = set()

    def _entries(
        self, table: LinkedTable, codes: Sequence[tuple[Hashable, ...]]
    ) -> NDArray[np.intp]:
        position = {dim: k for k, dim in enumerate(table.dimensions)}
        flat = []
        for combination in itertools.product(*codes):
            key = tuple(
                combination[position[dim]] if dim in position else total
                for dim, total in zip(self.dimensions, self.totals, strict=True)
            )
            if key not in self.index:
                self.index[key] = len(self.keys)
                self.keys.append(key)
            flat.append(self.index[key])
        return np.array(flat, dtype=np.intp).reshape([len(c) for c in codes])

    def place(self, name: str, table: LinkedTable, system: list[Hierarchy]) -> _TableGrid:
        frame = table.frame
        hierarchies = tuple(
            h.restricted(pd.unique(frame[d])) for h, d in zip(system, table.dimensions, strict=True)
        )
        codes = [h.codes for h in hierarchies]
        entries = self._entries(table, codes)
        positions = tuple(
            pd.Index(c).get_indexer(frame[d]) for c, d in zip(codes, table.dimensions, strict=True)
        )
        rows = entries[positions] if len(frame) else np.zeros(0, dtype=np.intp)
        grid = _TableGrid(name, table, hierarchies, entries, rows)
        self._record_figures(grid, positions)
        self._record_lines(grid)
        if table.published:
            self.in_published.update(entries.ravel().tolist())
        return grid

    def _record_figures(self, grid: _TableGrid, positions: tuple[NDArray[np.intp], ...]) -> None:
        """Every cell's figures: given by a row, or (counts) summed from the cells below it."""
        table, entries = grid.table, grid.entries
        shape = entries.shape
        given = np.zeros(shape, dtype=bool)
        given[positions] = True
        value = np.zeros(shape)
        value[positions] = table.frame[table.value].to_numpy(dtype=np.float64)
        leaves = np.ones(shape, dtype=bool)
        for axis, h in enumerate(grid.hierarchies):
            is_leaf = np.array([code not in h.children for code in h.codes])
            leaves &= np.expand_dims(is_leaf, [a for a in range(len(shape)) if a != axis])
        summed = np.where(leaves, value, 0.0)
        for axis, h in enumerate(grid.hierarchies):
            summed = np.moveaxis(np.tensordot(h.below, summed, axes=([1], [axis])), 0, axis)
        tolerance = recovery_tolerance(np.abs(summed))
        wrong = given & (np.abs(summed - value) > tolerance)
        if wrong.any():
            flat = int(entries[wrong][0])
            raise ValueError(
                f"table '{grid.name}': {self._describe(flat)} is {value[wrong][0]:g} but the "
                f"cells below it add up to {summed[wrong][0]:g}; totals must be exact sums"
            )
        missing_total = ~given & ~leaves & (summed > tolerance)
        if not table.is_count and missing_total.any():
            flat = int(entries[missing_total][0])
            raise ValueError(
                f"magnitude table '{grid.name}' has no row for {self._describe(flat)}: give "
                "every nonzero total, with its contributors and largest contribution"
            )
        value = np.where(given, value, summed)
        contributors = value.copy() if table.is_count else np.zeros(shape)
        largest = np.zeros(shape)
        if not table.is_count:
            contributors[positions] = table.frame[table.contributors].to_numpy(dtype=np.float64)
            if table.largest is not None:
                largest[positions] = table.frame[table.largest].to_numpy(dtype=np.float64)
        for flat, v, n, top in zip(
            entries.ravel(), value.ravel(), contributors.ravel(), largest.ravel(), strict=True
        ):
            self._set(int(flat), grid.name, float(v), float(n), float(top), tolerance)

    def _set(self, flat: int, name: str, v: float, n: float, top: float, tolerance: float) -> None:
        if flat not in self.facts:
            self.facts[flat] = (name, v, n, top)
            return
        other, *figures = self.facts[flat]
        if abs(figures[0] - v) > tolerance or figures[1] != n or abs(figures[2] - top) > tolerance:
            raise ValueError(
                f"{self._describe(flat)} is in tables '{other}' and '{name}' with different "
                f"figures (value, contributors, largest: {tuple(figures)} and {(v, n, top)}); "
                "linked tables must describe the same population and variable"
            )

    def _record_lines(self, grid: _TableGrid) -> None:
        for axis, h in enumerate(grid.hierarchies):
            index = {code: k for k, code in enumerate(h.codes)}
            for parent, children in h.children.items():
                members = [index[c] for c in children] + [index[parent]]
                block = np.moveaxis(np.take(grid.entries, members, axis=axis), axis, -1)
                for line in block.reshape(-1, len(members)):
                    self.lines.setdefault(tuple(line.tolist()), line.astype(np.intp))

    def _describe(self, flat: int) -> str:
        return _label(self.dimensions, self.totals, self.keys[flat])

    def figures(
        self, *, is_count: bool
    ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64] | None]:
        order = range(len(self.keys))
        values = np.array([self.facts[k][1] for k in order])
        records = np.array([round(self.facts[k][2]) for k in order], dtype=np.int64)
        largest = None if is_count else np.array([self.facts[k][3] for k in order])
        return values, records, largest

    def published_mask(self) -> NDArray[np.bool_]:
        mask = np.zeros(len(self.keys), dtype=bool)
        mask[list(self.in_published)] = True
        return mask
