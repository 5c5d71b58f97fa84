"""Aggregate (table) disclosure control: primary and complementary cell suppression.

Record-level k-anonymity does not protect published statistics: a count of 2 in "age band x
commune" tells a neighbour who the 2 are, and a hidden cell is no secret if the row total
minus the published cells gives it back. This module decides which cells of a 1-D or 2-D
table (with published margins) are hidden, and proves the decision with the LP audit of
`suppression_audit`.

Rules (all in `DisclosureRule`, `min_count` from the source configuration):

* Primary suppression. A cell (or margin) with 0 < count < min_count is hidden (default 11,
  INSEE's rule for data on individuals). For magnitude tables (sums of amounts), the count is
  the number of contributors, and the (n, k) = (1, 85 %) dominance rule also hides a cell whose
  largest contributor exceeds 85 % of the cell total.
* Zeros are published, never suppressed: a true zero describes nobody. Nor are they used as
  complementary cells: a hidden zero cannot go below zero, so it gives no cover to a
  neighbour that must be able to move up (the audit's nonnegativity bounds make this
  visible: a "rectangle" through zeros can leave a cell exactly recoverable).
* Protection required of every primary cell: the published table must stay consistent with
  the cell being at least `protection` larger than it truly is (count tables; default
  min_count, so a reader cannot even tell the cell is small), or, for magnitude tables, at
  least max(relative_protection x value, largest / dominance_share - value): the second term is
  the increase at which the largest contributor would no longer dominate. Only the upward
  side is required: a small count cannot be hidden downwards (counts are >= 0), and for
  dominance it is the upper estimate of the total that bounds what a rival learns.
  Complementary cells need only not be exactly recoverable.
* Complementary suppression minimizes the total hidden value (records in hidden cells, the
  information lost), not the number of cells: small cells are hidden first. For each
  primary entry not yet protected, a linear programme finds the cheapest perturbation of the
  table that keeps every line additive and every entry >= 0 while raising that entry by its
  required protection (a min-cost flow around cycles of the table, margins included; entries
  already hidden are free, zeros are excluded); the entries it touches are hidden. Hiding them
  makes the perturbed table consistent with the publication, so the entry is protected by
  construction, and further suppressions only widen intervals. The LP audit then checks
  every hidden entry independently; any entry it finds recoverable or short of protection
  gets its whole row and column hidden, then, if that is not enough, every nonzero entry:
  the loop always terminates, with a table that passes.

A table is given as its interior cells; results use the extended layout of
`suppression_audit` (margins as the last row / column / entry).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import linprog

from include.anonymization.suppression_audit import (
    CellInterval,
    FeasibleSet,
    TableLayout,
    as_table,
    audit_layout,
    audit_suppression,
    recovery_tolerance,
)

if TYPE_CHECKING:
    from include.source_config import SourceConfig

__all__ = [
    "CellInterval",
    "DisclosureRule",
    "MagnitudeTable",
    "ProtectedFrame",
    "ProtectedTable",
    "Reason",
    "SuppressionSummary",
    "audit_suppression",
    "protect_count_frame",
    "protect_counts",
    "protect_magnitudes",
]


class Reason(StrEnum):
    """Why an entry is hidden."""

    PRIMARY = "primary"  # 0 < count < min_count
    DOMINANCE = "dominance"  # one contributor > dominance_share of the cell
    COMPLEMENTARY = "complementary"  # hidden so that the others cannot be derived


@dataclass(frozen=True)
class DisclosureRule:
    """Thresholds of table disclosure control (see the module docstring for their meaning)."""

    min_count: int = 11
    dominance_share: float = 0.85
    protection: float | None = None  # count tables; None means min_count
    relative_protection: float = 0.3  # magnitude tables, fraction of the cell value

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")
        if not 0.5 <= self.dominance_share < 1:
            raise ValueError(
                f"dominance_share must be in [0.5, 1), got {self.dominance_share} "
                "(the (1, k) rule with k = 85 % is 0.85)"
            )
        if self.protection is not None and self.protection <= 0:
            raise ValueError(f"protection must be > 0 or None (= min_count), got {self.protection}")
        if not 0 < self.relative_protection <= 1:
            raise ValueError(
                f"relative_protection must be in (0, 1], got {self.relative_protection}"
            )

    @property
    def count_protection(self) -> float:
        return float(self.min_count if self.protection is None else self.protection)

    @classmethod
    def from_source(cls, source: SourceConfig) -> DisclosureRule:
        """The rule a source's configuration asks for (its `min_cell_count`)."""
        return cls(min_count=source.min_cell_count)


@dataclass(frozen=True, eq=False)
class MagnitudeTable:
    """A table of sums of nonnegative amounts, with what the dominance rule needs to know.

    All arrays are flat extended tables (margins included): the total, the number of distinct
    contributors and the largest single contributor's total, per entry.
    """

    shape: tuple[int, ...]
    totals: NDArray[np.float64]
    contributors: NDArray[np.int64]
    largest: NDArray[np.float64]

    @classmethod
    def from_contributions(
        cls,
        shape: Sequence[int],
        cells: ArrayLike,
        amounts: ArrayLike,
        contributors: ArrayLike | None = None,
    ) -> MagnitudeTable:
        """Build from one row per contribution: its cell index, amount and contributor.

        `cells` is a (k, ndim) integer array (or length-k for a 1-D table). Contributions of
        the same contributor to the same entry are added first, so that a company split over
        several records, or present in several cells of a row, is judged on its share of each
        cell and of each margin. Without `contributors`, each contribution is its own
        contributor.
        """
        layout = TableLayout(tuple(int(n) for n in shape))
        index = np.asarray(cells, dtype=np.intp).reshape(-1, len(layout.shape))
        amount = np.asarray(amounts, dtype=np.float64)
        if amount.shape != (len(index),):
            raise ValueError(
                f"{len(index)} cell indices but amounts of shape {amount.shape}: give one "
                "amount per contribution"
            )
        if not np.all(np.isfinite(amount)) or np.any(amount < 0):
            raise ValueError("contribution amounts must be finite and >= 0")
        outside = np.any((index < 0) | (index >= np.array(layout.shape)), axis=1)
        if outside.any():
            raise ValueError(
                f"contribution {int(np.argmax(outside))} points at cell "
                f"{tuple(index[outside][0])}, outside a table of shape {layout.shape}"
            )
        if contributors is None:
            who = np.arange(len(index))
        else:
            who = np.unique(np.asarray(contributors), return_inverse=True)[1].ravel()
            if who.shape != amount.shape:
                raise ValueError("give one contributor id per contribution")
        n_who = int(who.max(initial=0)) + 1
        entries = layout.entries_of(index)  # (k, 2 ** ndim)
        keys = (entries * n_who + who[:, None]).ravel()
        groups, group_of = np.unique(keys, return_inverse=True)
        per_group = np.bincount(group_of, weights=np.repeat(amount, entries.shape[1]))
        entry_of_group = groups // n_who
        largest = np.zeros(layout.size)
        np.maximum.at(largest, entry_of_group, per_group)
        return cls(
            shape=layout.shape,
            totals=np.bincount(entry_of_group, weights=per_group, minlength=layout.size),
            contributors=np.bincount(entry_of_group, minlength=layout.size).astype(np.int64),
            largest=largest,
        )


@dataclass(frozen=True)
class SuppressionSummary:
    """What the audit ledger and the release manifest record about one protected table."""

    shape: tuple[int, ...]
    min_count: int
    cells: int
    cells_suppressed: dict[str, int]  # by reason, interior cells
    margins_suppressed: dict[str, int]  # by reason, row/column/grand totals
    records: int  # records (contributors, for magnitude tables) in the whole table
    records_in_suppressed_cells: int
    audit_passed: bool
    recoverable: int  # hidden entries the audit can pin to one value
    unprotected: int  # hidden entries short of their required protection
    worst_interval_width: float | None  # narrowest hidden interval; None: nothing hidden
    worst_protection_ratio: float | None  # min (upper - value) / required over primary entries

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; an infinite figure (unbounded interval) is written as null."""
        data = {
            "shape": list(self.shape),
            "min_count": self.min_count,
            "cells": self.cells,
            "cells_suppressed": dict(self.cells_suppressed),
            "margins_suppressed": dict(self.margins_suppressed),
            "records": self.records,
            "records_in_suppressed_cells": self.records_in_suppressed_cells,
            "audit_passed": self.audit_passed,
            "recoverable": self.recoverable,
            "unprotected": self.unprotected,
            "worst_interval_width": self.worst_interval_width,
            "worst_protection_ratio": self.worst_protection_ratio,
        }
        return {k: None if isinstance(v, float) and math.isinf(v) else v for k, v in data.items()}


@dataclass(frozen=True, eq=False)
class ProtectedTable:
    """A table after disclosure control, with the audit that proves it.

    Array properties have the extended shape (margins as the last row / column / entry).
    """

    layout: TableLayout
    rule: DisclosureRule
    flat_values: NDArray[np.float64]
    flat_records: NDArray[np.int64]
    flat_reasons: NDArray[np.object_]  # Reason or None per extended entry
    intervals: tuple[CellInterval, ...]

    def _shaped(self, flat: NDArray[Any]) -> NDArray[Any]:
        return flat.reshape(self.layout.extended_shape)

    @property
    def values(self) -> NDArray[np.float64]:
        """True values, margins included (private: do not publish)."""
        return self._shaped(self.flat_values)

    @property
    def reasons(self) -> NDArray[np.object_]:
        return self._shaped(self.flat_reasons)

    @property
    def suppressed(self) -> NDArray[np.bool_]:
        return self._shaped(np.not_equal(self.flat_reasons, None))

    @property
    def published(self) -> NDArray[np.float64]:
        """What may be released: the values with NaN (missing, never 0) where hidden."""
        return np.where(self.suppressed, np.nan, self.values)

    @property
    def audit_passed(self) -> bool:
        return all(interval.protected for interval in self.intervals)

    def summary(self) -> SuppressionSummary:
        margin = self.layout.margin_mask
        reasons = self.flat_reasons
        hidden = np.not_equal(reasons, None)
        sensitive = [iv for iv in self.intervals if iv.required > 0]
        return SuppressionSummary(
            shape=self.layout.shape,
            min_count=self.rule.min_count,
            cells=int((~margin).sum()),
            cells_suppressed={r.value: int(((reasons == r) & ~margin).sum()) for r in Reason},
            margins_suppressed={r.value: int(((reasons == r) & margin).sum()) for r in Reason},
            records=int(self.flat_records[~margin].sum()),
            records_in_suppressed_cells=int(self.flat_records[hidden & ~margin].sum()),
            audit_passed=self.audit_passed,
            recoverable=sum(iv.recoverable for iv in self.intervals),
            unprotected=sum(not iv.protected for iv in self.intervals),
            worst_interval_width=min((iv.width for iv in self.intervals), default=None),
            worst_protection_ratio=min(
                ((iv.upper - iv.value) / iv.required for iv in sensitive), default=None
            ),
        )


def _primary(
    values: NDArray[np.float64],
    records: NDArray[np.int64],
    largest: NDArray[np.float64] | None,
    rule: DisclosureRule,
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Reasons and required upward protection of the entries hidden by the primary rules."""
    reasons = np.full(values.shape, None, dtype=object)
    frequency = (values > 0) & (records < rule.min_count)
    reasons[frequency] = Reason.PRIMARY
    if largest is None:
        required = np.where(frequency, rule.count_protection, 0.0)
        return reasons, required
    dominated = (values > 0) & (largest > rule.dominance_share * values)
    reasons[dominated & ~frequency] = Reason.DOMINANCE
    needed = np.maximum(rule.relative_protection * values, largest / rule.dominance_share - values)
    return reasons, np.where(frequency | dominated, needed, 0.0)


def _cheapest_cover(
    layout: TableLayout,
    values: NDArray[np.float64],
    suppressed: NDArray[np.bool_],
    target: int,
    amount: float,
) -> NDArray[np.float64]:
    """The cheapest perturbation y that lets `target` be `amount` larger in a table consistent
    with the publication once y's support is hidden: y = up - down, equations @ y == 0,
    values + y >= 0, y[target] == amount. Hidden entries cost nothing, others their value per
    unit of `amount`; zeros cannot take part (they would protect nothing, see module doc).
    """
    n = layout.size
    usable = suppressed | (values > 0)
    cost = np.where(suppressed, 0.0, values)
    lower = np.zeros(2 * n)
    upper = np.r_[np.where(usable, np.inf, 0.0), np.where(usable, values, 0.0)]
    lower[target] = upper[target] = amount
    upper[n + target] = 0.0
    equations = layout.equations
    result = linprog(
        np.r_[cost, cost],
        A_eq=sparse.hstack([equations, -equations], format="csr"),
        b_eq=np.zeros(equations.shape[0]),
        bounds=np.column_stack([lower, upper]),
        method="highs",
        options={"presolve": False},  # 5x faster on these flow LPs (300 x 36 table: 150 -> 30 ms)
    )
    if result.status != 0:
        raise RuntimeError(
            f"no perturbation can raise {layout.describe(target)} by {amount:g} "
            f"(HiGHS status {result.status}: {result.message}); is the table additive and >= 0?"
        )
    return result.x[:n] - result.x[n:]


def _select_complements(
    layout: TableLayout,
    values: NDArray[np.float64],
    required: NDArray[np.float64],
    primary: NDArray[np.bool_],
) -> FeasibleSet:
    """Hide, for each primary entry in turn, the cheapest cover it still lacks; returns the
    feasible set of the final hidden entries (with the tables met on the way)."""
    tolerance = recovery_tolerance(values)
    suppressed = primary
    feasible = FeasibleSet(layout, values, suppressed)
    for target in map(int, np.flatnonzero(required > 0)):
        if feasible.reaches(target, values[target] + required[target] - tolerance):
            continue
        change = _cheapest_cover(layout, values, suppressed, target, float(required[target]))
        suppressed = suppressed | (np.abs(change) > tolerance)
        feasible = FeasibleSet(layout, values, suppressed, seen=feasible)
        feasible.record(values + change)
    return feasible


def _audit_and_repair(
    layout: TableLayout,
    values: NDArray[np.float64],
    required: NDArray[np.float64],
    feasible: FeasibleSet,
) -> tuple[NDArray[np.bool_], list[CellInterval]]:
    """Audit; while some hidden entry fails, hide its rows and columns (then everything)."""
    suppressed = feasible.suppressed
    while True:
        intervals = audit_layout(layout, values, suppressed, required, seen=feasible)
        failing = [
            int(np.ravel_multi_index(iv.position, layout.extended_shape))
            for iv in intervals
            if not iv.protected
        ]
        if not failing:
            return suppressed, intervals
        grown = suppressed | (layout.lines_through(failing) & (values > 0))
        if np.array_equal(grown, suppressed):
            grown = suppressed | (values > 0)
        if np.array_equal(grown, suppressed):
            raise RuntimeError(
                f"{intervals[0].label} and {len(failing) - 1} other entries fail the audit "
                "although every nonzero entry is hidden; the table is not additive"
            )
        suppressed = grown


def _protect(
    layout: TableLayout,
    values: NDArray[np.float64],
    records: NDArray[np.int64],
    largest: NDArray[np.float64] | None,
    rule: DisclosureRule,
) -> ProtectedTable:
    reasons, required = _primary(values, records, largest, rule)
    primary = required > 0
    feasible = _select_complements(layout, values, required, primary)
    suppressed, intervals = _audit_and_repair(layout, values, required, feasible)
    reasons[suppressed & ~primary] = Reason.COMPLEMENTARY
    return ProtectedTable(layout, rule, values, records, reasons, tuple(intervals))


def protect_counts(counts: ArrayLike, rule: DisclosureRule | None = None) -> ProtectedTable:
    """Primary and complementary suppression of a 1-D or 2-D table of counts with margins."""
    table = as_table(counts)
    if not np.array_equal(table, np.round(table)):
        raise ValueError("counts must be whole numbers; for sums of amounts use protect_magnitudes")
    layout = TableLayout(table.shape)
    values = layout.extend(table)
    return _protect(layout, values, values.astype(np.int64), None, rule or DisclosureRule())


def protect_magnitudes(table: MagnitudeTable, rule: DisclosureRule | None = None) -> ProtectedTable:
    """Primary (frequency and dominance) and complementary suppression of a magnitude table."""
    layout = TableLayout(table.shape)
    return _protect(
        layout, table.totals, table.contributors, table.largest, rule or DisclosureRule()
    )


@dataclass(frozen=True, eq=False)
class ProtectedFrame:
    """The pandas view: the input rows with hidden counts missing, and the margins."""

    cells: pd.DataFrame  # input rows, same order; count missing where suppressed
    margins: pd.DataFrame  # one row per total; the summed-over dimension is missing
    table: ProtectedTable = field(repr=False)

    def summary(self) -> SuppressionSummary:
        return self.table.summary()


def _levels(column: pd.Series, declared: Sequence[Hashable] | None) -> pd.Index:
    """Categories of one dimension: the declared ones, else those observed (first seen first)."""
    if declared is None:
        return pd.Index(pd.unique(column))
    levels = pd.Index(declared)
    unknown = sorted(set(column) - set(levels), key=str)
    if unknown:
        raise ValueError(
            f"dimension '{column.name}' has values {unknown[:5]} missing from its declared "
            "categories; add them to `categories` or fix the aggregate"
        )
    return levels


def _nullable(dtype: Any) -> Any:
    """A dtype that can hold the missing value margins put in a summed-over dimension."""
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return "Int64"
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return "boolean"
    return dtype


def _with_flags(
    frame: pd.DataFrame, table: ProtectedTable, flat: NDArray[np.intp], count: str
) -> pd.DataFrame:
    """Set the published count (missing where hidden, never 0), the `suppressed` flag and the
    `suppression_reason` of the rows of `frame`, which hold the extended entries `flat`."""
    hidden = table.suppressed.ravel()[flat]
    values = table.flat_values[flat].astype(np.int64)
    frame[count] = pd.array(
        [None if h else v for h, v in zip(hidden, values, strict=True)], dtype="Int64"
    )
    frame["suppressed"] = hidden
    frame["suppression_reason"] = pd.array(
        [None if r is None else r.value for r in table.flat_reasons[flat]], dtype="string"
    )
    return frame


def protect_count_frame(
    frame: pd.DataFrame,
    dimensions: Sequence[str],
    *,
    count: str = "count",
    rule: DisclosureRule | None = None,
    categories: Mapping[str, Sequence[Hashable]] | None = None,
) -> ProtectedFrame:
    """Protect a long-format aggregate (one row per combination of 1 or 2 dimensions + count).

    Combinations absent from `frame` are zeros, and treated as published (a reader who knows
    the categories infers them), which can only make the audit stricter. `categories` lists
    every level of a dimension, including levels with no row at all.
    Returns the same rows with `count` missing (never 0) where hidden, a boolean `suppressed`
    and a `suppression_reason` column, plus the margins in the same format.
    """
    dims = list(dimensions)
    missing = [c for c in [*dims, count] if c not in frame.columns]
    if missing or len(dims) not in (1, 2):
        raise ValueError(
            f"need 1 or 2 dimension columns and a count column present in the frame; got "
            f"dimensions {dims}, count '{count}', missing {missing}"
        )
    if frame[dims].isna().any().any():
        raise ValueError(f"dimension columns {dims} contain missing values; label them first")
    duplicated = frame.duplicated(dims)
    if duplicated.any():
        first = frame.loc[duplicated, dims].iloc[0].tolist()
        raise ValueError(f"combination {first} of {dims} appears twice; aggregate first")
    if frame[count].isna().any():
        raise ValueError(f"column '{count}' has missing counts; a zero count must be 0")
    counts = frame[count].to_numpy(dtype=np.float64)
    levels = [_levels(frame[d], (categories or {}).get(d)) for d in dims]
    codes = tuple(lv.get_indexer(frame[d]) for lv, d in zip(levels, dims, strict=True))
    table = np.zeros(tuple(len(lv) for lv in levels))
    table[codes] = counts
    protected = protect_counts(table, rule)
    layout = protected.layout

    cells = _with_flags(
        frame.copy(), protected, np.ravel_multi_index(codes, layout.extended_shape), count
    )

    margin_flat = np.flatnonzero(layout.margin_mask)
    positions = np.unravel_index(margin_flat, layout.extended_shape)
    margins = pd.DataFrame(
        {
            d: pd.array(
                [None if p == len(lv) else lv[p] for p in pos],
                dtype=_nullable(frame[d].dtype),
            )
            for d, lv, pos in zip(dims, levels, positions, strict=True)
        }
    )
    return ProtectedFrame(
        cells=cells, margins=_with_flags(margins, protected, margin_flat, count), table=protected
    )
