"""One protection across everything a release publishes: linked tables and what is known.

Cell suppression table by table leaks: two tables sharing a dimension give each other's
hidden cells back through their margins, a record-level file published beside them gives
exact counts, and an earlier release pins cells the new one hides. `protect_linked` decides
primary and complementary suppression once, over every cell of every table as one system
of equations (`cell_system.CellSystem`), with what a reader knows from elsewhere
(`KnownCell`) as bounds; the LP audit then runs over that whole system, so a pattern passes
only if no hidden cell can be narrowed below its protection through any table, any margin
or any known value.

The rules are the project's (`DisclosureRule`): frequency (fewer than `min_count`
contributors), dominance for magnitude tables, the upward protection each primary cell
needs, complementary cells chosen to hide as little value as possible, then those found
unnecessary published again. Measured against τ-ARGUS 4.2.3 on INSEE's four linked
turnover tables (`tests/unit/anonymization/test_rtauargus_reference.py`,
`bench/bench_linked_suppression.py`): the same primary cells; 448 secondary cells where
τ-ARGUS hides 354, because here no hidden cell may be derivable, secondary ones included
(issue #12's requirement); under τ-ARGUS's own criterion (`audit_complements=False`,
only primary cells protected) this engine hides 354 as well.

What cannot be protected is said, not hidden: a sensitive cell a reader knows exactly
(`exposed`: the record file gives it) or whose partners are all known (`unprotectable`)
fails the audit; the release must then publish less (a coarser record file, fewer tables).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from include.anonymization.cell_suppression import (
    HIDING_REASONS,
    CellInterval,
    DisclosureRule,
    EntryProtection,
    Reason,
    SuppressionProblem,
    protect_entries,
)
from include.anonymization.cell_system import (
    DEFAULT_TOTAL,
    CellSystem,
    Hierarchy,
    KnownCell,
    LinkedTable,
)

__all__ = [
    "Hierarchy",
    "KnownCell",
    "LinkedProtection",
    "LinkedSummary",
    "LinkedTable",
    "TableLoss",
    "protect_linked",
]


@dataclass(frozen=True)
class TableLoss:
    """Information lost in one published table (each cell once; totals are cells)."""

    name: str
    cells: int
    cells_suppressed: dict[str, int]  # by reason
    value: float  # sum of the values of all its cells, totals included
    value_suppressed: dict[str, float]  # by reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cells": self.cells,
            "cells_suppressed": dict(self.cells_suppressed),
            "value": self.value,
            "value_suppressed": dict(self.value_suppressed),
        }


@dataclass(frozen=True)
class LinkedSummary:
    """What the ledger and the manifest record about a jointly protected set of tables."""

    tables: tuple[TableLoss, ...]
    cells: int  # distinct cells of the published tables (a shared cell counts once)
    cells_suppressed: dict[str, int]  # distinct cells, by reason
    value_suppressed: dict[str, float]  # over distinct cells, by reason
    known_cells: int  # cells a reader knows something of besides >= 0
    complements_audited: bool  # False: only sensitive cells were required to be protected
    audit_passed: bool
    recoverable: int  # hidden cells a reader can pin to one value
    unprotected: int  # hidden cells short of their required protection
    exposed: tuple[str, ...]  # sensitive cells a reader knows exactly from elsewhere
    unprotectable: tuple[str, ...]  # sensitive cells no suppression pattern protects
    worst_protection_ratio: float | None  # min (upper - value) / required, sensitive cells
    given: tuple[str, ...] = ()  # sensitive cells published: a reader knows them exactly
    limited: tuple[str, ...] = ()  # hidden cells protected only as far as what is known allows

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (no infinity)."""
        ratio = self.worst_protection_ratio
        return {
            "tables": [t.as_dict() for t in self.tables],
            "cells": self.cells,
            "cells_suppressed": dict(self.cells_suppressed),
            "value_suppressed": dict(self.value_suppressed),
            "known_cells": self.known_cells,
            "complements_audited": self.complements_audited,
            "audit_passed": self.audit_passed,
            "recoverable": self.recoverable,
            "unprotected": self.unprotected,
            "exposed": list(self.exposed),
            "unprotectable": list(self.unprotectable),
            "worst_protection_ratio": None if ratio is None or math.isinf(ratio) else ratio,
            "given_by_known": list(self.given),
            "limited_by_known": list(self.limited),
        }


def _counts_by_reason(reasons: np.ndarray) -> dict[str, int]:
    return {reason.value: int((reasons == reason).sum()) for reason in HIDING_REASONS}


def _values_by_reason(reasons: np.ndarray, values: np.ndarray) -> dict[str, float]:
    return {reason.value: float(values[reasons == reason].sum()) for reason in HIDING_REASONS}


@dataclass(frozen=True, eq=False)
class LinkedProtection:
    """The tables after joint disclosure control, with the audit over all of them."""

    system: CellSystem
    rule: DisclosureRule
    known_cells: int
    outcome: EntryProtection

    @property
    def intervals(self) -> tuple[CellInterval, ...]:
        return self.outcome.intervals

    @property
    def audit_passed(self) -> bool:
        return self.outcome.audit_passed

    @property
    def suppressed(self) -> np.ndarray:
        """Per entry of the system: hidden in every table that has it."""
        return np.not_equal(self.outcome.reasons, None) & self.system.published

    def _table_entries(self, name: str) -> tuple[pd.DataFrame, np.ndarray]:
        """The table's rows, then its nonzero totals the frame left out: their codes and entries."""
        grid = self.system.grids[name]
        table = grid.table
        rows = table.frame[list(table.dimensions)].reset_index(drop=True)
        flat = grid.entries.ravel()
        absent = ~np.isin(flat, grid.rows) & (self.system.values[flat] > 0)
        positions = np.unravel_index(np.flatnonzero(absent), grid.entries.shape)
        added = pd.DataFrame(
            {
                dim: np.asarray(h.codes, dtype=object)[pos]
                for dim, h, pos in zip(table.dimensions, grid.hierarchies, positions, strict=True)
            }
        )
        codes = pd.concat([rows, added], ignore_index=True) if len(added) else rows
        return codes, np.r_[grid.rows, flat[absent]].astype(np.intp)

    def frame(self, name: str, *, totals: bool = True) -> pd.DataFrame:
        """One table as the release may publish it: its rows (then, with `totals`, the nonzero
        totals it left out), the value missing where hidden (never 0), `suppressed` and
        `suppression_reason` (`known` on a sensitive cell shown because a reader knows it
        exactly anyway). Contributors and largest contributions are left out: a largest
        contribution is one respondent's figure."""
        table = self.system.grids[name].table
        codes, entries = self._table_entries(name)
        if not totals:
            rows = len(table.frame)
            codes, entries = codes.iloc[:rows], entries[:rows]
        hidden = self.suppressed[entries]
        values = self.system.values[entries]
        published = pd.Series(np.where(hidden, np.nan, values), dtype="float64")
        out = codes.copy()
        out[table.value] = published.round().astype("Int64") if table.is_count else published
        out["suppressed"] = hidden
        reasons = self.outcome.reasons[entries].copy()
        if self.outcome.given is not None:
            reasons[self.outcome.given[entries]] = Reason.KNOWN
        out["suppression_reason"] = pd.array(
            [None if r is None else r.value for r in reasons], dtype="string"
        )
        return out

    def table_loss(self, name: str) -> TableLoss:
        _, entries = self._table_entries(name)
        reasons = self.outcome.reasons[entries]
        values = self.system.values[entries]
        return TableLoss(
            name=name,
            cells=len(entries),
            cells_suppressed=_counts_by_reason(reasons),
            value=float(values.sum()),
            value_suppressed=_values_by_reason(reasons, values),
        )

    def summary(self) -> LinkedSummary:
        system, outcome = self.system, self.outcome
        published = system.published
        sensitive = [iv for iv in outcome.intervals if iv.required > 0]
        return LinkedSummary(
            tables=tuple(
                self.table_loss(name) for name, grid in system.grids.items() if grid.table.published
            ),
            cells=int(published.sum()),
            cells_suppressed=_counts_by_reason(outcome.reasons[published]),
            value_suppressed=_values_by_reason(
                outcome.reasons[published], system.values[published]
            ),
            known_cells=self.known_cells,
            complements_audited=outcome.complements_audited,
            audit_passed=outcome.audit_passed,
            recoverable=sum(iv.recoverable for iv in outcome.intervals),
            unprotected=sum(not iv.protected for iv in outcome.intervals),
            exposed=tuple(system.describe(int(f)) for f in np.flatnonzero(outcome.exposed)),
            unprotectable=tuple(
                system.describe(int(f)) for f in np.flatnonzero(outcome.unprotectable)
            ),
            worst_protection_ratio=min(
                ((iv.upper - iv.value) / iv.required for iv in sensitive), default=None
            ),
            given=self._described(outcome.given),
            limited=self._described(outcome.limited),
        )

    def _described(self, mask: np.ndarray | None) -> tuple[str, ...]:
        if mask is None:
            return ()
        return tuple(self.system.describe(int(f)) for f in np.flatnonzero(mask))


def protect_linked(
    tables: Mapping[str, LinkedTable],
    rule: DisclosureRule | None = None,
    *,
    hierarchies: Mapping[str, Hierarchy] | None = None,
    known: Iterable[KnownCell] = (),
    total: Hashable = DEFAULT_TOTAL,
    prune: bool = True,
    audit_complements: bool = True,
    known_cells: Literal["refuse", "publish"] = "refuse",
) -> LinkedProtection:
    """Protect several tables jointly; shared cells get one status in every table.

    `tables`: every aggregate of the release (and, `published=False`, tables a reader can
    relate to them without their being published now). `hierarchies`: per hierarchical
    dimension; other dimensions are flat with `total` as their total code. `known`: what a
    reader knows besides the tables (counts the record-level file gives, cells an earlier
    release published). `prune=False` skips publishing again the complementary cells found
    unnecessary: faster, more hidden (INSEE's four tables: 3 s and 467 secondary cells
    instead of 8 s and 423, `bench/bench_linked_suppression.py`). `audit_complements=False`:
    τ-ARGUS's criterion, where a complementary cell may itself be derivable (see
    `cell_suppression.protect_entries`); issue #12 asks for 0 derivable hidden cells, so a
    release keeps the default. `known_cells="publish"`: a sensitive cell the reader knows
    exactly (the record file gives it) is published rather than failing the audit, and one
    the reader's bounds already narrow is protected as far as they leave room (see
    `protect_entries`); a release with a record-level file uses it.
    """
    system = CellSystem.build(tables, hierarchies, total)
    facts = list(known)
    bounds = system.known_bounds(facts)
    problem = SuppressionProblem(
        layout=system,
        values=system.values,
        records=system.records,
        largest=system.largest,
        hideable=system.published,
        bounds=bounds,
        integral=system.is_count,
    )
    outcome = protect_entries(
        problem,
        rule or DisclosureRule(),
        prune=prune,
        audit_complements=audit_complements,
        known=known_cells,
    )
    known_cells = int(((bounds.lower > 0) | np.isfinite(bounds.upper)).sum())
    return LinkedProtection(system, rule or DisclosureRule(), known_cells, outcome)
