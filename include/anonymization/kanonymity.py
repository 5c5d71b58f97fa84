"""Optimal full-domain generalization under k-anonymity and l-diversity.

Every quasi-identifier is generalized to one level of its hierarchy for all
records (full-domain generalization); records of equivalence classes that still
fail k-anonymity or l-diversity are suppressed, up to a cap. Among all
combinations of levels (the lattice) that keep suppression under the cap, the
search returns one of minimal information loss (`information_loss.LossMetric`:
Iyengar's loss metric with suppressed records counted as fully lost).

How it stays fast (in the spirit of ARX's Flash / OLA):

- Rows are read once: the bottom node's frequency table is built from them, and
  every other node's table is rolled up from the smallest already-computed
  finer table (`frequency_table.roll_up`); tables are cached under a memory
  budget.
- Predictive tagging on a monotone predicate R: "suppression under the cap for
  k-anonymity plus distinct l-diversity". R holds for every node above a node
  where it holds and fails below a node where it fails, because a coarser class
  fails these criteria only if every finer class inside it does. Unknown nodes
  are resolved by binary search along chains, so one evaluation tags whole cones.
- Branch and bound: nodes are visited by increasing suppression-free loss, a
  monotone lower bound of the real loss; the search stops once that bound
  reaches the best loss found.

Why it is optimal: a feasible node satisfies R (entropy l-diversity implies
distinct l-diversity, and for the monotone criteria feasibility *is* R), so
pruning nodes where R fails never drops a feasible node. Every node that is not
pruned and whose bound is below the best loss is evaluated exactly. Entropy
l-diversity with suppression is not monotone (merging a passing class into a
failing one can fail as a whole), so it is never used to tag other nodes: it is
only checked on nodes that are evaluated anyway. The tests compare the result
with an exhaustive search on small tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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
from include.anonymization.information_loss import LossMetric
from include.anonymization.lattice import Lattice
from include.source_config import SourceConfig

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024

_UNKNOWN, _PASS, _FAIL = 0, 1, 2


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
    """Encoded quasi-identifiers, sensitive fields and the criteria to enforce."""

    quasi_identifiers: tuple[EncodedColumn, ...]
    sensitive: tuple[SensitiveColumn, ...]
    criteria: PrivacyCriteria

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
        self.metric = LossMetric(self.columns)
        self.bounds = self.metric.lower_bounds(self.lattice.levels)
        rows = row_table(self.columns, [(s.codes, s.n_values) for s in inputs.sensitive])
        bottom, self.row_class = roll_up(rows, self.columns, rows.levels)
        self.cache = _TableCache(self.columns, bottom, cache_bytes)
        self.state = np.zeros(self.lattice.size, dtype=np.int8)
        self.evaluated = np.zeros(self.lattice.size, dtype=bool)
        self.nodes_evaluated = 0
        self.best_loss = math.inf
        self.best_node: int | None = None
        self.fewest_suppressed = self.n_rows

    def run(self) -> AnonymizationResult:
        order = np.lexsort((np.arange(self.lattice.size), self.bounds))
        for node in map(int, order):
            if self.bounds[node] >= self.best_loss:
                break
            if self.evaluated[node] or self.state[node] == _FAIL:
                continue
            if self.state[node] == _PASS:
                self._evaluate(node)
            else:
                self._bisect(self._chain_up(node))
        if self.best_node is None:
            raise self._infeasible()
        return self._result(self.best_node)

    def _evaluate(self, node: int) -> None:
        table = self.cache.get(self.lattice.node_levels(node))
        failing = failing_classes(table, self.relaxed)
        relaxed_suppressed = int(table.counts[failing].sum())
        if self.relaxed is not self.criteria:
            failing = failing_classes(table, self.criteria)
        suppressed = int(table.counts[failing].sum())
        self.nodes_evaluated += 1
        self.evaluated[node] = True
        self.fewest_suppressed = min(self.fewest_suppressed, suppressed)
        if relaxed_suppressed <= self.allowed:
            self.state[self.lattice.at_or_above(node)] = _PASS
        else:
            self.state[self.lattice.at_or_below(node)] = _FAIL
        if suppressed <= self.allowed:
            loss = self.metric.loss(table, failing)
            if loss < self.best_loss:
                self.best_loss, self.best_node = loss, node

    def _chain_up(self, node: int) -> list[int]:
        """A chain of unknown, still promising nodes from `node` upwards.

        Each step takes the successor with the smallest loss bound, i.e. the
        cheapest extra generalization.
        """
        chain = [node]
        while True:
            candidates = [
                s
                for s in self.lattice.successors(chain[-1])
                if self.state[s] == _UNKNOWN and self.bounds[s] < self.best_loss
            ]
            if not candidates:
                return chain
            chain.append(min(candidates, key=lambda s: (self.bounds[s], s)))

    def _bisect(self, chain: list[int]) -> None:
        """Binary search for the lowest node of the chain satisfying R.

        Below it R fails, above it R holds; each evaluation tags a whole cone.
        """
        low, high = 0, len(chain) - 1
        while low <= high:
            middle = (low + high) // 2
            if self.state[chain[middle]] == _UNKNOWN:
                self._evaluate(chain[middle])
            if self.state[chain[middle]] == _PASS:
                high = middle - 1
            else:
                low = middle + 1

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


def anonymize(config: SourceConfig, data: pd.DataFrame) -> tuple[pd.DataFrame, AnonymizationResult]:
    """Search and apply in one call, with the source's quasi-identifiers and criteria."""
    inputs = build_search_inputs(config, data)
    result = find_optimal_generalization(inputs)
    return apply_generalization(data, inputs, result), result
