"""Aggregate (table) disclosure control: primary and complementary cell suppression.

Record-level k-anonymity does not protect published statistics: a count of 2 in "age band x
commune" tells a neighbour who the 2 are, and a hidden cell is no secret if the row total
minus the published cells gives it back. This module decides which cells of a 1-D or 2-D
table (with published margins) are hidden, and proves the decision with the LP audit of
`suppression_audit`. The same engine (`protect_entries`) works on any additive layout:
tables with hierarchical dimensions and several linked tables protected as one system
(`linked_suppression`), with what a reader knows besides the tables as bounds.

Rules (all in `DisclosureRule`, `min_count` from the source configuration):

* Primary suppression. A cell (or margin) with 0 < count < min_count is hidden (default 11,
  INSEE's rule for data on individuals). For magnitude tables (sums of amounts), the count is
  the number of contributors (even when their amounts add up to 0: one company's turnover of
  0 is still its figure), and the (n, k) = (1, 85 %) dominance rule also hides a cell whose
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
  dominance it is the upper estimate of the total that bounds what a rival learns. A primary
  cell whose amount is 0 needs room of one unit. Complementary cells need only not be
  exactly recoverable (`audit_complements=False` drops even that: τ-ARGUS's criterion).
* Complementary suppression minimizes the total hidden value (records in hidden cells, the
  information lost), not the number of cells: small cells are hidden first. For each
  primary entry not yet protected, a linear programme finds the cheapest perturbation of the
  table that keeps every line additive and every entry >= 0 while raising that entry by its
  required protection (a min-cost flow around cycles of the table, margins included; entries
  already hidden are free, zeros are excluded); the entries it touches are hidden. Hiding them
  makes the perturbed table consistent with the publication, so the entry is protected by
  construction, and further suppressions only widen intervals. Optionally (`prune`, what
  linked tables use), complementary entries that later covers made useless are published
  again, most valuable first. The LP audit then checks every hidden entry independently;
  any entry it finds recoverable or short of protection gets its whole row and column
  hidden, then, if that is not enough, every nonzero entry: the loop always terminates, with
  a table that passes, unless what a reader knows from elsewhere makes a primary cell
  impossible to protect, which is reported (`EntryProtection.exposed`, `unprotectable`).

A table is given as its interior cells; results use the extended layout of
`suppression_audit` (margins as the last row / column / entry).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from include.anonymization.linear_programs import solve_lp
from include.anonymization.suppression_audit import (
    AdditiveLayout,
    CellInterval,
    FeasibleSet,
    KnownBounds,
    TableLayout,
    as_table,
    audit_layout,
    audit_suppression,
    recovery_tolerance,
)

if TYPE_CHECKING:
    from include.core.source_config import SourceConfig

__all__ = [
    "HIDING_REASONS",
    "CellInterval",
    "DisclosureRule",
    "EntryProtection",
    "MagnitudeTable",
    "ProtectedFrame",
    "ProtectedTable",
    "Reason",
    "SuppressionProblem",
    "SuppressionSummary",
    "audit_suppression",
    "primary_suppression",
    "protect_count_frame",
    "protect_counts",
    "protect_entries",
    "protect_magnitudes",
]


class Reason(StrEnum):
    """Why an entry is hidden, or why a small one is shown."""

    PRIMARY = "primary"  # 0 < count < min_count
    DOMINANCE = "dominance"  # one contributor > dominance_share of the cell
    COMPLEMENTARY = "complementary"  # hidden so that the others cannot be derived
    KNOWN = "known"  # shown although sensitive: a reader knows it exactly from elsewhere


HIDING_REASONS = (Reason.PRIMARY, Reason.DOMINANCE, Reason.COMPLEMENTARY)


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
            cells_suppressed={
                r.value: int(((reasons == r) & ~margin).sum()) for r in HIDING_REASONS
            },
            margins_suppressed={
                r.value: int(((reasons == r) & margin).sum()) for r in HIDING_REASONS
            },
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


def primary_suppression(
    values: NDArray[np.float64],
    records: NDArray[np.int64],
    largest: NDArray[np.float64] | None,
    rule: DisclosureRule,
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Reasons and required upward protection of the entries hidden by the primary rules.

    The frequency rule counts contributors, not the amount: one company with a turnover of
    0 is still one company whose figure the cell gives (INSEE's rule, `0 < N_OBS < 3`).
    """
    reasons = np.full(values.shape, None, dtype=object)
    frequency = (records > 0) & (records < rule.min_count)
    reasons[frequency] = Reason.PRIMARY
    if largest is None:
        required = np.where(frequency, rule.count_protection, 0.0)
        return reasons, required
    dominated = (values > 0) & (largest > rule.dominance_share * values)
    reasons[dominated & ~frequency] = Reason.DOMINANCE
    needed = np.maximum(rule.relative_protection * values, largest / rule.dominance_share - values)
    return reasons, np.where(frequency | dominated, needed, 0.0)


@dataclass(frozen=True, eq=False)
class SuppressionProblem:
    """Entries of any additive layout (one table, or several linked ones) and their data.

    `hideable` marks the entries this release publishes or hides; the others are never
    published (the new records between two releases, an earlier release's cells): they cost
    nothing to leave hidden and are audited only when a primary rule makes them sensitive.
    `bounds` is what a reader knows besides the tables (`KnownBounds`): an entry known
    exactly is a constant, whether this release shows it or not. `integral`: the entries are
    counts, so the audit takes whole numbers into account (see `suppression_audit`).
    """

    layout: AdditiveLayout
    values: NDArray[np.float64]
    records: NDArray[np.int64]  # contributors (records, for count tables) per entry
    largest: NDArray[np.float64] | None  # largest contributor per entry (magnitude tables)
    hideable: NDArray[np.bool_]
    bounds: KnownBounds
    integral: bool = False

    @classmethod
    def of_table(
        cls,
        layout: AdditiveLayout,
        values: NDArray[np.float64],
        records: NDArray[np.int64],
        largest: NDArray[np.float64] | None = None,
    ) -> SuppressionProblem:
        """One table alone: every entry is published or hidden here, counts are >= 0."""
        size = layout.size
        return cls(
            layout, values, records, largest, np.ones(size, bool), KnownBounds.nonnegative(size)
        )


@dataclass(frozen=True, eq=False)
class EntryProtection:
    """The outcome on a `SuppressionProblem`, per flat entry."""

    reasons: NDArray[np.object_]  # Reason or None
    hidden: NDArray[np.bool_]  # what the release hides, plus the never-published entries
    required: NDArray[np.float64]
    intervals: tuple[CellInterval, ...]  # every audited hidden entry
    exposed: NDArray[np.bool_]  # sensitive entries a reader knows exactly: hiding cannot help
    unprotectable: NDArray[np.bool_]  # sensitive entries no suppression pattern can protect
    complements_audited: bool = True  # False: complementary entries may be derivable
    # With `known="publish"` (see `protect_entries`): sensitive entries published because a
    # reader knows them exactly anyway, and hidden ones whose protection is what the reader's
    # bounds leave (less than the rule asks).
    given: NDArray[np.bool_] | None = None
    limited: NDArray[np.bool_] | None = None

    @property
    def audit_passed(self) -> bool:
        limited = self.limited if self.limited is not None else np.zeros_like(self.exposed)
        return not (self.exposed.any() or (self.unprotectable & ~limited).any()) and all(
            interval.protected for interval in self.intervals
        )


def _cheapest_cover(
    problem: SuppressionProblem, hidden: NDArray[np.bool_], target: int, amount: float
) -> NDArray[np.float64] | None:
    """The cheapest perturbation y that lets `target` be `amount` larger in a table consistent
    with the publication once y's support is hidden: y = up - down, equations @ y == 0,
    values + y within the known bounds, y[target] == amount. Hidden entries cost nothing,
    others their value per unit of `amount`; zeros cannot take part (they would protect
    nothing, see module doc), nor can entries a reader knows exactly. None: no suppression
    pattern at all can give `target` that room.
    """
    layout, values, bounds = problem.layout, problem.values, problem.bounds
    n = layout.size
    movable = ~bounds.exact & (hidden | (problem.hideable & (values > 0)))
    cost = np.where(hidden, 0.0, values)
    lower = np.zeros(2 * n)
    upper = np.r_[
        np.where(movable, bounds.upper - values, 0.0), np.where(movable, values - bounds.lower, 0.0)
    ]
    lower[target] = upper[target] = amount
    upper[n + target] = 0.0
    equations = layout.equations
    result = solve_lp(
        np.r_[cost, cost],
        sparse.hstack([equations, -equations], format="csr"),
        np.zeros(equations.shape[0]),
        np.column_stack([lower, upper]),
    )
    if result.status == 2:  # infeasible: the entry's partners cannot absorb `amount`
        return None
    if result.status != 0:
        raise RuntimeError(
            f"no perturbation can raise {layout.describe(target)} by {amount:g} "
            f"(HiGHS status {result.status}: {result.message}); is the table additive and >= 0?"
        )
    return result.x[:n] - result.x[n:]


def _cover_amount(required: float) -> float:
    """How much room a sensitive entry needs: its required protection, or, when that is 0 (an
    amount of 0 with contributors), one unit, so that it is not recoverable."""
    return required if required > 0 else 1.0


def _select_complements(
    problem: SuppressionProblem,
    required: NDArray[np.float64],
    sensitive: NDArray[np.bool_],
    tables: list[NDArray[np.float64]] | None = None,
) -> tuple[FeasibleSet, NDArray[np.bool_]]:
    """Hide, for each sensitive entry in turn, the cheapest cover it still lacks; returns the
    feasible set of the final hidden entries (with the tables met on the way) and the
    sensitive entries no cover exists for. `tables`, when given, receives every feasible
    table met (each proves that some entries can move)."""
    values, bounds = problem.values, problem.bounds
    tolerance = recovery_tolerance(values)
    hidden = (sensitive | ~problem.hideable) & ~bounds.exact
    unprotectable = np.zeros(values.shape, dtype=bool)
    keep = tables is not None
    feasible = FeasibleSet(
        problem.layout, values, hidden, bounds=bounds, integral=problem.integral, keep_tables=keep
    )
    for target in map(int, np.flatnonzero(sensitive & ~bounds.exact)):
        amount = _cover_amount(float(required[target]))
        if feasible.reaches(target, values[target] + amount - tolerance):
            continue
        change = _cheapest_cover(problem, hidden, target, amount)
        if change is None:
            unprotectable[target] = True
            continue
        hidden = hidden | (np.abs(change) > tolerance)
        if tables is not None and feasible.tables:
            tables.extend(feasible.tables)
        feasible = FeasibleSet(
            problem.layout,
            values,
            hidden,
            seen=feasible,
            bounds=bounds,
            integral=problem.integral,
            keep_tables=keep,
        )
        feasible.record(values + change)
    if tables is not None and feasible.tables:
        tables.extend(feasible.tables)
    return feasible, unprotectable


def _prune(
    problem: SuppressionProblem,
    required: NDArray[np.float64],
    sensitive: NDArray[np.bool_],
    audited: NDArray[np.bool_],
    feasible: FeasibleSet,
    hopeless: NDArray[np.bool_],
    tables: list[NDArray[np.float64]],
) -> FeasibleSet:
    """Publish again the complementary entries no protection needs, most valuable first.

    Covers chosen one sensitive entry at a time overlap: an entry hidden early for one may be
    useless once later covers hid others (on INSEE's act_size table: 98 complementary cells
    before, 85 after; the exact optimum of the same criterion is 73). An entry goes back to
    published when, without it moving, every sensitive entry still has a feasible table
    reaching its protection and every hidden entry that is `audited` one where it moves:
    first looked for among the tables already met (`tables`, no LP), else by LP on the
    smaller hidden set. The audit that follows checks the outcome anyway.
    """
    layout, values, bounds = problem.layout, problem.values, problem.bounds
    tolerance = recovery_tolerance(values)
    hidden = feasible.suppressed.copy()
    targets = np.flatnonzero(sensitive & ~hopeless & hidden)
    goals = values[targets] + np.array([_cover_amount(float(required[t])) for t in targets])
    candidates = np.flatnonzero(hidden & problem.hideable & ~sensitive)
    pool = np.array(tables).reshape(-1, layout.size)
    incidence = abs(layout.equations)
    for entry in map(int, candidates[np.argsort(-values[candidates], kind="stable")]):
        trial = hidden.copy()
        trial[entry] = False
        # A line left with one hidden entry gives it away: `entry` stays, no LP needed.
        lines = incidence[incidence[:, [entry]].tocoo().row]
        alone = (lines @ trial.astype(float) == 1) & (lines @ (trial & audited).astype(float) == 1)
        if alone.any():
            continue
        still = pool[np.abs(pool[:, entry] - values[entry]) <= tolerance]  # entry unmoved
        gap = goals - still[:, targets].max(axis=0, initial=-np.inf)
        # the targets the tables met leave furthest from their goal first: likeliest to fail
        order = np.argsort(-gap, kind="stable")
        short = targets[order][gap[order] > tolerance]
        moving = np.flatnonzero(trial & audited)
        stuck = moving[~(np.abs(still[:, moving] - values[moving]) > tolerance).any(axis=0)]
        if short.size or stuck.size:
            check = FeasibleSet(
                layout, values, trial, bounds=bounds, integral=problem.integral, keep_tables=True
            )
            wanted = dict(zip(targets.tolist(), goals.tolist(), strict=True))
            needed = any(not check.moves(e) for e in stuck.tolist()) or any(
                not check.reaches(t, wanted[t] - tolerance) for t in short.tolist()
            )
            if check.tables:
                pool = np.vstack([pool, np.array(check.tables)])
            if needed:
                continue
        hidden = trial
        pool = pool[np.abs(pool[:, entry] - values[entry]) <= tolerance]  # witnesses still valid
    return FeasibleSet(layout, values, hidden, bounds=bounds, integral=problem.integral)


def _audit_and_repair(
    problem: SuppressionProblem,
    required: NDArray[np.float64],
    audited: NDArray[np.bool_],
    feasible: FeasibleSet,
    hopeless: NDArray[np.bool_],
) -> tuple[NDArray[np.bool_], list[CellInterval]]:
    """Audit; while some hidden entry fails, hide its lines (then everything hideable).

    Entries in `hopeless` stay failing in the audit but grow nothing: no pattern helps them.
    """
    layout, values, bounds = problem.layout, problem.values, problem.bounds
    hidden = feasible.suppressed
    growable = problem.hideable & (values > 0) & ~bounds.exact
    while True:
        intervals = audit_layout(
            layout,
            values,
            hidden,
            required,
            seen=feasible,
            bounds=bounds,
            integral=problem.integral,
            audited=audited,
        )
        failing = [iv.index for iv in intervals if not iv.protected and not hopeless[iv.index]]
        if not failing:
            return hidden, intervals
        grown = hidden | (layout.lines_through(failing) & growable)
        if np.array_equal(grown, hidden):
            grown = hidden | growable
        if np.array_equal(grown, hidden):
            return hidden, intervals
        hidden = grown


def protect_entries(
    problem: SuppressionProblem,
    rule: DisclosureRule,
    *,
    prune: bool = False,
    audit_complements: bool = True,
    known: Literal["refuse", "publish"] = "refuse",
) -> EntryProtection:
    """Primary rules, complementary suppression and the audit on any additive layout.

    `prune` publishes again the complementary entries that turn out unnecessary (`_prune`):
    less information lost, for more LPs. `audit_complements=False` asks protection of the
    sensitive entries only, τ-ARGUS's criterion: a complementary entry may then be derivable
    (harmless, it was publishable, but a "secret" a reader can compute); far fewer cells are
    hidden (INSEE's four linked tables: 354 secondary cells instead of 448).

    `known` says what to do with a sensitive entry the reader's bounds already pin.
    "refuse": it fails the audit (`exposed`, `unprotectable`): the caller must publish less
    elsewhere. "publish" (a release that also publishes its record-level file): an entry the
    reader knows exactly is published (`given`; hiding it would be a pretence, the record
    file gives it), and an entry the reader's bounds confine to less room than the rule asks
    is hidden with that room as its requirement (`limited`): the tables then never tell more
    about it than the reader knew, which the audit checks.
    """
    reasons, required = primary_suppression(problem.values, problem.records, problem.largest, rule)
    given = limited = None
    if known == "publish":
        bounds = problem.bounds
        given = np.not_equal(reasons, None) & bounds.exact
        reasons[given] = None
        required[given] = 0.0
        room = np.maximum(bounds.upper - problem.values, 0.0)
        limited = np.not_equal(reasons, None) & (room < required)
        required = np.where(limited, room, required)
    sensitive = np.not_equal(reasons, None)
    audited = sensitive | problem.hideable if audit_complements else sensitive
    exposed = sensitive & problem.bounds.exact
    tables: list[NDArray[np.float64]] | None = [] if prune else None
    feasible, unprotectable = _select_complements(problem, required, sensitive, tables)
    hopeless = exposed | unprotectable
    if tables is not None:
        feasible = _prune(problem, required, sensitive, audited, feasible, hopeless, tables)
    hidden, intervals = _audit_and_repair(problem, required, audited, feasible, hopeless)
    reasons[hidden & ~sensitive & problem.hideable] = Reason.COMPLEMENTARY
    return EntryProtection(
        reasons,
        hidden,
        required,
        tuple(intervals),
        exposed,
        unprotectable,
        audit_complements,
        given,
        limited,
    )


def _protect(
    layout: TableLayout,
    values: NDArray[np.float64],
    records: NDArray[np.int64],
    largest: NDArray[np.float64] | None,
    rule: DisclosureRule,
) -> ProtectedTable:
    outcome = protect_entries(SuppressionProblem.of_table(layout, values, records, largest), rule)
    if not outcome.audit_passed:
        failing = [iv for iv in outcome.intervals if not iv.protected]
        raise RuntimeError(
            f"{failing[0].label} and {len(failing) - 1} other entries fail the audit "
            "although every nonzero entry that could cover them is hidden; the table is not "
            "additive"
        )
    return ProtectedTable(layout, rule, values, records, outcome.reasons, outcome.intervals)


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
