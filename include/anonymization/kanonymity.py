"""Optimal full-domain generalization under k-anonymity and l-diversity.

Every quasi-identifier is generalized to one level of its hierarchy for all
records (full-domain generalization); records of equivalence classes that still
fail k-anonymity or l-diversity are suppressed, up to a cap. Among all
combinations of levels (the lattice) that keep suppression under the cap, the
search returns one of minimal information loss, by the measure the inputs name
(`information_loss.MetricSpec`: Iyengar's loss metric by default, or ARX's Loss
or non-uniform entropy).

How it stays fast:

- Rows are read once: the bottom node's frequency table is built from them, and
  every other node's table is rolled up from the smallest already-computed
  finer table (`frequency_table.roll_up`); tables are cached under a memory
  budget.
- A monotone predicate R: "suppression under the cap for k-anonymity plus
  distinct l-diversity". R fails on every node below a node where it fails,
  because a coarser class fails these criteria only if every finer class inside
  it does; one evaluation discards a whole cone.
- Branch and bound, coarse nodes first. Each measure is at least its
  suppression-free value (a lower bound known before grouping anything) plus a
  suppression penalty per attribute; and because a finer node suppresses every
  record a coarser one suppresses, each at no lower cost, an evaluated node's
  penalties bound those of every node below it. Visiting the lattice from the top
  down lets those penalties reach the fine nodes, whose suppression-free bound is
  small but whose suppression is heavy, before they are looked at: on ARX's
  adult data with k = 100 and no suppression cap, 702 of 12,960 nodes are
  evaluated where visiting by increasing bound evaluated 6,261. Nodes that share
  their exact (level 0) attributes roll up from one shared table of their level-1
  anchor, not each from the bottom.

Why it is optimal: a feasible node satisfies R (entropy l-diversity implies
distinct l-diversity, and for the monotone criteria feasibility *is* R), so
pruning nodes where R fails never drops a feasible node; a node is skipped only
when a lower bound of its loss already loses to the best node found. Ties go to
the smaller suppression-free loss, then the more general node, whatever the
order of visits. Entropy l-diversity with suppression is not monotone (merging a
passing class into a failing one can fail as a whole), so it never prunes: only
the relaxed, distinct criteria do, and their suppressed records give the
penalties. The tests compare the result with an exhaustive search on small tables
for every measure, and with ARX's published optima on its adult benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from include.anonymization.criteria import (
    ENTROPY_MARGIN,
    PrivacyCriteria,
    class_distinct_values,
    class_entropies,
    failing_classes,
)
from include.anonymization.frequency_table import FrequencyTable, roll_up, row_table
from include.anonymization.hierarchies import EncodedColumn, build_generalizer
from include.anonymization.information_loss import build_metric
from include.anonymization.lattice import Lattice
from include.core.metric_spec import MetricSpec
from include.core.source_config import SourceConfig

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class SensitiveColumn:
    """A sensitive field as integer codes; a missing value is a value of its own."""

    field: str
    codes: np.ndarray
    labels: pd.Index

    @property
    def n_values(self) -> int:
        return len(self.labels)


def encode_sensitive(name: str, values: pd.Series | np.ndarray | list[object]) -> SensitiveColumn:
    """Encode a sensitive column; "no answer" counts as one more distinct value."""
    codes, labels = pd.factorize(pd.Series(values), use_na_sentinel=False)
    return SensitiveColumn(field=name, codes=codes.astype(np.int64), labels=pd.Index(labels))


@dataclass(frozen=True, eq=False)
class SearchInputs:
    """Encoded quasi-identifiers, sensitive fields, the criteria and the measure to minimize."""

    quasi_identifiers: tuple[EncodedColumn, ...]
    sensitive: tuple[SensitiveColumn, ...]
    criteria: PrivacyCriteria
    metric: MetricSpec = field(default_factory=MetricSpec)

    def __post_init__(self) -> None:
        if not self.quasi_identifiers:
            raise ValueError("k-anonymity needs at least one quasi-identifier")
        lengths = {c.field: c.n_rows for c in self.quasi_identifiers}
        lengths.update({s.field: len(s.codes) for s in self.sensitive})
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns have different numbers of rows: {lengths}")
        if self.criteria.l_diversity > 1 and not self.sensitive:
            raise ValueError(
                f"l={self.criteria.l_diversity} needs at least one sensitive field; "
                f"give one the role 'sensitive' or set l to 1"
            )

    @property
    def n_rows(self) -> int:
        return self.quasi_identifiers[0].n_rows


def build_search_inputs(config: SourceConfig, data: pd.DataFrame) -> SearchInputs:
    """Quasi-identifiers, sensitive fields and k, l, l_kind, cap from a source config."""
    quasi = config.quasi_identifiers
    sensitive = config.sensitive_fields if config.l_diversity > 1 else []
    missing = [spec.name for spec in [*quasi, *sensitive] if spec.name not in data.columns]
    if missing:
        raise ValueError(
            f"source '{config.name}': the data has no column {missing} although the config "
            f"declares them as quasi-identifiers or sensitive fields"
        )
    if not quasi:
        raise ValueError(
            f"source '{config.name}' declares no quasi-identifier, so there is nothing to "
            f"generalize; give the fields that could identify someone the role "
            f"'quasi_identifier'"
        )
    return SearchInputs(
        quasi_identifiers=tuple(build_generalizer(spec).encode_records(data) for spec in quasi),
        sensitive=tuple(encode_sensitive(spec.name, data[spec.name]) for spec in sensitive),
        criteria=PrivacyCriteria(
            k=config.k,
            l_diversity=config.l_diversity,
            l_kind=config.l_kind,
            max_suppression=config.max_suppression,
        ),
        metric=config.information_loss.spec,
    )


class InfeasibleGeneralizationError(ValueError):
    """No combination of levels meets the criteria within the suppression cap."""

    def __init__(
        self,
        reason: str,
        *,
        fewest_suppressed: int,
        max_suppressed: int,
        nodes_evaluated: int,
        lattice_size: int,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fewest_suppressed = fewest_suppressed
        self.max_suppressed = max_suppressed
        self.nodes_evaluated = nodes_evaluated
        self.lattice_size = lattice_size


@dataclass(frozen=True, eq=False)
class AnonymizationResult:
    """The chosen generalization and what it costs and protects.

    Risks follow the prosecutor model over the published records: the highest
    re-identification probability is 1 / the smallest class, the average is the
    number of classes / the number of published records.
    """

    quasi_identifiers: tuple[str, ...]
    levels: dict[str, int]
    level_names: dict[str, str]
    criteria: PrivacyCriteria
    metric: MetricSpec
    suppressed: np.ndarray
    class_sizes: dict[int, int]
    information_loss: float
    generalization_loss: float
    max_risk: float
    average_risk: float
    nodes_evaluated: int
    lattice_size: int

    @property
    def n_records(self) -> int:
        return len(self.suppressed)

    @property
    def n_suppressed(self) -> int:
        return int(self.suppressed.sum())

    @property
    def suppressed_indices(self) -> np.ndarray:
        """Positions (0-based, in input order) of the suppressed records."""
        return np.flatnonzero(self.suppressed)

    @property
    def n_classes(self) -> int:
        return sum(self.class_sizes.values())

    @property
    def min_class_size(self) -> int:
        """The smallest published class; 0 when every record is suppressed (a 100 % limit)."""
        return min(self.class_sizes, default=0)

    def summary(self) -> str:
        chosen = ", ".join(f"{name}: {self.level_names[name]}" for name in self.quasi_identifiers)
        return (
            f"{chosen}; {self.n_suppressed} of {self.n_records} records suppressed; "
            f"{self.n_classes} classes (smallest {self.min_class_size}); "
            f"loss {self.information_loss:.4f}; risk max {self.max_risk:.3f} "
            f"avg {self.average_risk:.4f}; {self.nodes_evaluated}/{self.lattice_size} nodes"
        )


class _TableCache:
    """Frequency tables of evaluated nodes, kept under a memory budget.

    The bottom table is always kept: any node can be rolled up from it. Among the
    other tables the largest are dropped first, since small tables are the cheap
    sources for rolling up.

    Why the bookkeeping arrays: a search of thousands of nodes looks up its source
    table thousands of times among thousands of cached ones. Scanning them in Python
    and re-summing every table's size on each lookup took most of a 47 s search on
    ARX's adult data (k=100); the cached nodes' levels, class counts and sizes are
    kept in numpy arrays instead, so finding the smallest finer table is one
    vectorised comparison.
    """

    def __init__(
        self, columns: Sequence[EncodedColumn], bottom: FrequencyTable, budget_bytes: int
    ) -> None:
        self.columns = columns
        self.bottom = bottom
        self.budget = budget_bytes
        self.tables: dict[tuple[int, ...], FrequencyTable] = {}
        self._rows: dict[tuple[int, ...], int] = {}
        capacity = 64
        self._levels = np.zeros((capacity, len(columns)), dtype=np.int16)
        self._classes = np.zeros(capacity, dtype=np.int64)
        self._bytes = np.zeros(capacity, dtype=np.int64)
        self._alive = np.zeros(capacity, dtype=bool)
        self._used = 0
        self.total_bytes = 0
        self._add(bottom)

    def _add(self, table: FrequencyTable) -> None:
        if self._used == len(self._alive):
            grow = len(self._alive)
            self._levels = np.concatenate([self._levels, np.zeros_like(self._levels[:grow])])
            self._classes = np.concatenate([self._classes, np.zeros(grow, dtype=np.int64)])
            self._bytes = np.concatenate([self._bytes, np.zeros(grow, dtype=np.int64)])
            self._alive = np.concatenate([self._alive, np.zeros(grow, dtype=bool)])
        row = self._used
        self._used += 1
        self._levels[row] = table.levels
        self._classes[row] = table.n_classes
        self._bytes[row] = table.nbytes
        self._alive[row] = True
        self._rows[table.levels] = row
        self.tables[table.levels] = table
        self.total_bytes += int(self._bytes[row])

    def _drop(self, levels: tuple[int, ...]) -> None:
        row = self._rows.pop(levels)
        del self.tables[levels]
        self._alive[row] = False
        self.total_bytes -= int(self._bytes[row])

    def get(self, levels: tuple[int, ...]) -> FrequencyTable:
        if levels in self.tables:
            return self.tables[levels]
        used = slice(0, self._used)
        finer = np.flatnonzero(
            self._alive[used] & (self._levels[used] <= np.asarray(levels)).all(axis=1)
        )
        fewest = self._classes[finer].min()
        # The fewest classes, then the smallest levels: the same choice as before, in order.
        source = min(
            (self.tables[tuple(int(v) for v in self._levels[row])] for row in finer
             if self._classes[row] == fewest),
            key=lambda table: table.levels,
        )  # fmt: skip
        anchor = tuple(min(level, 1) for level in levels)
        if source is self.bottom and anchor not in (levels, source.levels):
            # A search that visits coarse nodes first finds no finer table but the bottom
            # one; every node with the same exact attributes can start from this one.
            source, _ = roll_up(source, self.columns, anchor)
            self._add(source)
        table, _ = roll_up(source, self.columns, levels)
        self._add(table)
        if self.total_bytes > self.budget:
            self._evict()
        return table

    def _evict(self) -> None:
        """Drop the largest tables (never the bottom one) until the cache fits its budget."""
        rows = np.flatnonzero(self._alive[: self._used])
        for row in rows[np.argsort(-self._bytes[rows], kind="stable")]:
            if self.total_bytes <= self.budget:
                break
            levels = tuple(int(v) for v in self._levels[row])
            if levels != self.bottom.levels:
                self._drop(levels)


class _Search:
    """One run of the branch-and-bound lattice search (see the module docstring)."""

    def __init__(self, inputs: SearchInputs, cache_bytes: int) -> None:
        self.inputs = inputs
        self.columns = inputs.quasi_identifiers
        self.criteria = inputs.criteria
        self.relaxed = inputs.criteria.relaxed()
        self.n_rows = inputs.n_rows
        self.allowed = self.criteria.max_suppressed(self.n_rows)
        self.lattice = Lattice([c.top for c in self.columns], [c.field for c in self.columns])
        self.metric = build_metric(inputs.metric, self.columns)
        self.bounds = self.metric.lower_bounds(self.lattice.levels)
        self.heights = self.lattice.levels.sum(axis=1)
        rows = row_table(self.columns, [(s.codes, s.n_values) for s in inputs.sensitive])
        bottom, self.row_class = roll_up(rows, self.columns, rows.levels)
        self.cache = _TableCache(self.columns, bottom, cache_bytes)
        # Nodes where the monotone predicate R fails (see the module docstring).
        self.failed = np.zeros(self.lattice.size, dtype=bool)
        # Per node and attribute, the least suppression penalty it can have, and the loss
        # bound that gives (see `_evaluate`).
        self.penalty = np.zeros((self.lattice.size, len(self.columns)))
        self.refined = self.bounds.copy()
        self.nodes_evaluated = 0
        self.best_loss = math.inf
        self.best_node: int | None = None
        self.fewest_suppressed = self.n_rows

    def run(self) -> AnonymizationResult:
        # Coarsest first (their penalties bound every finer node), cheapest first within a height.
        order = np.lexsort((np.arange(self.lattice.size), self.bounds, -self.heights))
        for node in map(int, order):
            if not self.failed[node] and self._may_beat(float(self.refined[node]), node):
                self._evaluate(node)
        if self.best_node is None:
            raise self._infeasible()
        return self._result(self.best_node)

    def _may_beat(self, loss: float, node: int) -> bool:
        """Whether a node of this loss (or bound) would be chosen over the best so far.

        Ties go to the smaller suppression-free loss, then to the more general node
        (at no cost in the measure, publish less), then to the smaller node number: the
        answer does not depend on the order nodes are visited in.
        """
        if self.best_node is None or loss < self.best_loss:
            return True
        return loss == self.best_loss and self._tie_key(node) < self._tie_key(self.best_node)

    def _tie_key(self, node: int) -> tuple[float, int, int]:
        return (float(self.bounds[node]), -int(self.heights[node]), node)

    def _evaluate(self, node: int) -> None:
        table = self.cache.get(self.lattice.node_levels(node))
        relaxed_failing = failing = failing_classes(table, self.relaxed)
        relaxed_suppressed = int(table.counts[failing].sum())
        if self.relaxed is not self.criteria:
            failing = failing_classes(table, self.criteria)
        suppressed = int(table.counts[failing].sum())
        self.nodes_evaluated += 1
        self.fewest_suppressed = min(self.fewest_suppressed, suppressed)
        if relaxed_suppressed > self.allowed:
            # R fails here, so on every finer node too.
            self.failed |= self.lattice.at_or_below(node)
            return
        penalties = self.metric.penalties(table, relaxed_failing) if relaxed_suppressed else None
        if penalties is not None and penalties.any():
            # Every finer node suppresses at least these records (R is monotone), each at no
            # lower cost: these penalties bound theirs, and so does the loss they give.
            below = np.flatnonzero(self.lattice.at_or_below(node))
            raised = np.maximum(self.penalty[below], penalties)
            self.penalty[below] = raised
            self.refined[below] = self.metric.bounds(self.lattice.levels[below], raised)
        if suppressed <= self.allowed:
            if failing is relaxed_failing and penalties is not None:
                loss = self.metric.bound(table.levels, penalties)
            else:
                loss = self.metric.loss(table, failing)
            if self._may_beat(loss, node):
                self.best_loss, self.best_node = loss, node

    def _result(self, node: int) -> AnonymizationResult:
        levels = self.lattice.node_levels(node)
        table, bottom_to_node = roll_up(self.cache.bottom, self.columns, levels)
        failing = failing_classes(table, self.criteria)
        sizes = table.counts[~failing]
        distinct_sizes, occurrences = np.unique(sizes, return_counts=True)
        names = [c.field for c in self.columns]
        return AnonymizationResult(
            quasi_identifiers=tuple(names),
            levels=dict(zip(names, levels, strict=True)),
            level_names={
                c.field: c.level_names[level] for c, level in zip(self.columns, levels, strict=True)
            },
            criteria=self.criteria,
            metric=self.inputs.metric,
            suppressed=failing[bottom_to_node[self.row_class]],
            class_sizes=dict(zip(distinct_sizes.tolist(), occurrences.tolist(), strict=True)),
            information_loss=self.metric.loss(table, failing),
            generalization_loss=self.metric.lower_bound(levels),
            # Nothing published (every record suppressed), no one at risk.
            max_risk=1.0 / float(sizes.min()) if len(sizes) else 0.0,
            average_risk=len(sizes) / float(sizes.sum()) if len(sizes) else 0.0,
            nodes_evaluated=self.nodes_evaluated,
            lattice_size=self.lattice.size,
        )

    def _infeasible(self) -> InfeasibleGeneralizationError:
        """Explain why even the top node (one class of every record) fails."""
        top = self.cache.get(self.lattice.node_levels(self.lattice.top))
        criteria = self.criteria
        reasons = []
        if self.n_rows < criteria.k:
            reasons.append(f"the table has only {self.n_rows} record(s), fewer than k={criteria.k}")
        if criteria.l_diversity > 1:
            for index, column in enumerate(self.inputs.sensitive):
                distinct = int(class_distinct_values(top, index)[0])
                entropy = float(class_entropies(top, index)[0])
                if distinct < criteria.l_diversity:
                    reasons.append(
                        f"sensitive field '{column.field}' takes only {distinct} distinct "
                        f"value(s) over all records, fewer than l={criteria.l_diversity}"
                    )
                elif (
                    criteria.l_kind == "entropy"
                    and entropy < math.log(criteria.l_diversity) + ENTROPY_MARGIN
                ):
                    reasons.append(
                        f"sensitive field '{column.field}' is too concentrated: over all "
                        f"records e^entropy = {math.exp(entropy):.3f}, not above "
                        f"l={criteria.l_diversity}"
                    )
        return InfeasibleGeneralizationError(
            f"no generalization meets {criteria.describe()}: even with every "
            f"quasi-identifier generalized to '*', {'; '.join(reasons)}; and no finer "
            f"generalization keeps suppression within {self.allowed} of {self.n_rows} records "
            f"(the fewest suppressed at an evaluated node: {self.fewest_suppressed}). "
            f"Lower k or l, raise max_suppression, or publish more records together.",
            fewest_suppressed=self.fewest_suppressed,
            max_suppressed=self.allowed,
            nodes_evaluated=self.nodes_evaluated,
            lattice_size=self.lattice.size,
        )


def find_optimal_generalization(
    inputs: SearchInputs, *, cache_bytes: int = DEFAULT_CACHE_BYTES
) -> AnonymizationResult:
    """The full-domain generalization of least information loss that meets the criteria.

    Raises `InfeasibleGeneralizationError` (with the reason) when none exists under the cap.
    """
    if inputs.n_rows == 0:
        raise ValueError("there are no records to anonymize")
    return _Search(inputs, cache_bytes).run()


def apply_generalization(
    data: pd.DataFrame, inputs: SearchInputs, result: AnonymizationResult
) -> pd.DataFrame:
    """The publishable rows: quasi-identifiers as generalized labels, suppressed rows removed.

    `data` must be the frame the inputs were encoded from (same rows, same order).
    The index is reset so that published rows carry no trace of their position.
    """
    if len(data) != inputs.n_rows or len(result.suppressed) != inputs.n_rows:
        raise ValueError(
            f"the data has {len(data)} rows but the search ran on {inputs.n_rows}; apply "
            f"a result to the very frame it was computed from"
        )
    kept = ~result.suppressed
    published = data.loc[kept].reset_index(drop=True)
    for column in inputs.quasi_identifiers:
        level = result.levels[column.field]
        if level:
            published[column.field] = column.generalized(level)[kept]
    return published


def kept_rows_by_part(
    published: pd.DataFrame, parts: Iterable[pd.DataFrame], suppressed: np.ndarray
) -> Iterator[pd.DataFrame]:
    """`published` (what `apply_generalization` gave for frames without some columns) with
    those columns put back, a piece at a time: `parts` hold them for the same rows, in
    order, one frame per piece of the input; each yields the published rows of its kept
    rows with its columns beside them.

    WHY: the search and the labels need no free text, but the published rows carry it.
    Taking the kept rows of a whole 1M-row frame copies every string at once beside the
    input, and joining them to the published rows copies them again; piece by piece, one
    piece's strings are held at a time and can be written out as they come.
    """
    kept = ~np.asarray(suppressed, dtype=bool)
    offset = published_offset = 0
    for part in parts:
        rows = kept[offset : offset + len(part)]
        if len(rows) != len(part):
            raise ValueError(f"the pieces hold more rows than the {len(kept)} searched")
        columns = part.loc[rows].reset_index(drop=True)
        clash = sorted(set(columns.columns) & set(published.columns))
        if clash:
            raise ValueError(f"columns {clash} are already in the published rows")
        end = published_offset + len(columns)
        rows_published = published.iloc[published_offset:end].reset_index(drop=True)
        yield pd.concat([rows_published, columns], axis=1)
        offset, published_offset = offset + len(part), end
    if offset != len(kept):
        raise ValueError(f"the pieces hold {offset} rows but the search ran on {len(kept)}")


def anonymize(config: SourceConfig, data: pd.DataFrame) -> tuple[pd.DataFrame, AnonymizationResult]:
    """Search and apply in one call, with the source's quasi-identifiers and criteria."""
    inputs = build_search_inputs(config, data)
    result = find_optimal_generalization(inputs)
    return apply_generalization(data, inputs, result), result
