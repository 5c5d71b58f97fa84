"""The information-loss measures the k-anonymity search can minimize.

Three measures, chosen per search with a `MetricSpec` (and per source in its config):

- ``lm`` (the default): Iyengar's loss metric, suppressed records counted as lost.
  Each published cell of quasi-identifier i loses (values its label covers − 1) /
  (|D_i| − 1), |D_i| the distinct values of i present in the data: 0 when the
  value is kept, 1 for "*"; every cell of a suppressed record loses 1; the loss is
  the mean over all n × q cells, in [0, 1]. Unlike the generalization height it
  knows that "20-24" loses less than a région, and it charges suppression.
- ``arx_loss``: ARX's Loss (`MetricMDNMLoss`), so that ARX's published optima can
  be reproduced. Per attribute, a kept cell loses its label's share of the
  hierarchy's *domain* (the leaves of a value-mapping file, else the values
  present) times the generalization factor g; a suppressed cell loses 1 (or, with
  a suppression factor s < 1, its share plus s × the rest). The sum is normalized
  to [0, 1] between n·g/|D| and n, and attributes are combined by ARX's geometric
  mean, ∏(vᵢ + 1)^(1/q) − 1. The gs-factor in [0, 1] sets g and s: 0.5 weighs both
  fully, below it suppression counts less (s = 2·gs), above it generalization
  counts less (g = 1 − 2·(gs − 0.5)).
- ``non_uniform_entropy``: ARX's non-uniform entropy (`MetricMDNUEntropyPrecomputed`,
  and `MetricMDNUNMEntropyPrecomputed` when not monotonic): per attribute,
  −g · Σ over records of log₂(P(value | its label)), with P read from the whole
  input, summed over attributes (bits). The monotonic variant ignores suppression
  (a suppressed record keeps its generalization's cost); the non-monotonic one adds,
  per attribute, s × the entropy of the suppressed records' labels.

ARX rounds every attribute's value down to 10 decimal places before combining
them; the two ARX measures do the same, so that ties resolve alike.

Why each is searchable: every measure here is at least its suppression-free value
(a suppressed cell costs at least what the same cell costs generalized), and that
value depends only on the levels, not on the grouped data. It is the lower bound
that lets the search stop once no unexplored node can beat the best one found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from include.anonymization.frequency_table import FrequencyTable
from include.anonymization.hierarchies import EncodedColumn
from include.core.metric_spec import MetricSpec

# ARX's Metric.round: floor to 10 decimal places.
_ROUNDING = 1e10


class InformationLossMetric(ABC):
    """A measure split into a suppression-free part and a suppression penalty per attribute.

    ``level_values[i][level]`` is attribute i's suppression-free value at that level;
    `penalties` gives what suppressing some classes adds to each attribute, and
    `_combine` turns both into the node's loss, growing with each of them.

    Why a penalty per attribute: for monotone criteria a finer node suppresses every
    record a coarser node suppresses, and each such record costs at least as much
    at the finer node (its labels cover less), so a coarser node's penalties are a
    lower bound of a finer node's. The search passes them down the lattice to
    discard nodes before looking at their data.
    """

    def __init__(self, columns: Sequence[EncodedColumn]) -> None:
        self.n_rows = columns[0].n_rows
        self.n_columns = len(columns)
        self.level_values: list[np.ndarray] = []

    @abstractmethod
    def _combine(self, values: np.ndarray, penalties: np.ndarray) -> np.ndarray:
        """Loss from suppression-free values and penalties (last axis: attributes)."""

    @abstractmethod
    def penalties(self, table: FrequencyTable, suppressed: np.ndarray) -> np.ndarray:
        """What suppressing the classes of `suppressed` adds to each attribute (>= 0)."""

    def bounds(self, nodes: np.ndarray, penalties: np.ndarray) -> np.ndarray:
        """`bound` of every row of a (nodes × attributes) level matrix, penalties alike."""
        values = np.column_stack(
            [level_values[nodes[:, i]] for i, level_values in enumerate(self.level_values)]
        )
        return self._combine(values, penalties)

    @staticmethod
    def _suppressed_per_code(table: FrequencyTable, suppressed: np.ndarray) -> list[np.ndarray]:
        """Per attribute, the number of suppressed records holding each code of the node.

        One weighted count per attribute over all classes: cheaper than selecting the
        suppressed classes attribute by attribute.
        """
        weights = np.where(suppressed, table.counts, 0).astype(np.float64)
        return [np.bincount(codes, weights=weights) for codes in table.codes]

    def lower_bounds(self, nodes: np.ndarray) -> np.ndarray:
        """The suppression-free loss of every row of a (nodes × attributes) level matrix."""
        return self.bounds(nodes, np.zeros(self.n_columns))

    def bound(self, levels: Sequence[int], penalties: np.ndarray) -> float:
        """The node's loss with at least these penalties (the loss itself when they are exact)."""
        values = np.array([v[level] for v, level in zip(self.level_values, levels, strict=True)])
        return float(self._combine(values, penalties))

    def lower_bound(self, levels: Sequence[int]) -> float:
        """The node's loss if nothing were suppressed (never above its loss)."""
        return self.bound(levels, np.zeros(self.n_columns))

    def loss(self, table: FrequencyTable, suppressed_classes: np.ndarray) -> float:
        """The node's loss when the records of `suppressed_classes` are suppressed."""
        if not suppressed_classes.any():
            return self.lower_bound(table.levels)
        return self.bound(table.levels, self.penalties(table, suppressed_classes))


def _arx_round(values: np.ndarray) -> np.ndarray:
    return np.floor(values * _ROUNDING) / _ROUNDING


class IyengarLoss(InformationLossMetric):
    """``lm``: the mean over all cells of each cell's loss (see the module docstring)."""

    def __init__(self, columns: Sequence[EncodedColumn]) -> None:
        super().__init__(columns)
        self.cell_loss: list[list[np.ndarray]] = []
        for column in columns:
            domain = column.n_codes(0)
            value_counts = np.bincount(column.codes, minlength=domain).astype(np.float64)
            per_level = []
            for level in range(column.top + 1):
                covered = column.leaf_counts(level).astype(np.float64)
                per_level.append(
                    (covered - 1) / (domain - 1) if domain > 1 else np.zeros_like(covered)
                )
            self.cell_loss.append(per_level)
            self.level_values.append(
                np.array(
                    [
                        float(value_counts @ loss[column.maps[level]]) / self.n_rows
                        for level, loss in enumerate(per_level)
                    ]
                )
            )

    def _combine(self, values: np.ndarray, penalties: np.ndarray) -> np.ndarray:
        return (values + penalties / self.n_rows).sum(axis=-1) / self.n_columns

    def penalties(self, table: FrequencyTable, suppressed: np.ndarray) -> np.ndarray:
        per_code = self._suppressed_per_code(table, suppressed)
        return np.array(
            [
                float(counts.sum() - counts @ self.cell_loss[i][level][: len(counts)])
                for i, (counts, level) in enumerate(zip(per_code, table.levels, strict=True))
            ]
        )


class ArxLoss(InformationLossMetric):
    """``arx_loss``: ARX's Loss with a gs-factor (see the module docstring).

    ``level_values`` holds each attribute's raw total g × Σ share (before ARX's
    normalization), so that a penalty adds to it in the same unit.
    """

    def __init__(self, columns: Sequence[EncodedColumn], spec: MetricSpec) -> None:
        super().__init__(columns)
        self.g = spec.generalization_factor
        self.s = spec.suppression_factor
        self.shares: list[list[np.ndarray]] = []
        self.low = np.empty(self.n_columns)
        for i, column in enumerate(columns):
            size = column.domain_size
            value_counts = np.bincount(column.codes, minlength=column.n_codes(0))
            per_level = [column.domain_counts(level) / size for level in range(column.top + 1)]
            self.shares.append(per_level)
            self.level_values.append(
                self.g * np.array([float(value_counts @ share[m]) for share, m in zip(
                    per_level, column.maps, strict=True)])
            )  # fmt: skip
            self.low[i] = self.g * self.n_rows / size
        self.span = self.n_rows - self.low

    def _combine(self, values: np.ndarray, penalties: np.ndarray) -> np.ndarray:
        # ARX's normalization between n·g/|D| and n; a one-value domain (0/0) loses nothing.
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(self.span > 0, (values + penalties - self.low) / self.span, 0.0)
        normalized = _arx_round(np.maximum(scaled, 0.0))
        return np.prod((normalized + 1.0) ** (1.0 / self.n_columns), axis=-1) - 1.0

    def penalties(self, table: FrequencyTable, suppressed: np.ndarray) -> np.ndarray:
        per_code = self._suppressed_per_code(table, suppressed)
        penalties = np.empty(self.n_columns)
        for i, (counts, level) in enumerate(zip(per_code, table.levels, strict=True)):
            records = float(counts.sum())
            share = float(counts @ self.shares[i][level][: len(counts)])
            lost = records if self.s == 1 else share + self.s * (records - share)
            penalties[i] = lost - self.g * share
        return penalties


class NonUniformEntropy(InformationLossMetric):
    """``non_uniform_entropy``: ARX's non-uniform entropy (see the module docstring).

    The penalty of an attribute is S × the entropy (bits) of the suppressed records'
    labels, S their number: it only grows as records are added or labels refined.
    """

    def __init__(self, columns: Sequence[EncodedColumn], spec: MetricSpec) -> None:
        super().__init__(columns)
        self.g = spec.generalization_factor
        self.s = spec.suppression_factor
        self.monotonic = spec.monotonic
        for column in columns:
            counts = np.bincount(column.codes, minlength=column.n_codes(0)).astype(np.float64)
            present = counts > 0
            per_level = []
            for level in range(column.top + 1):
                label_counts = np.bincount(
                    column.maps[level], weights=counts, minlength=column.n_codes(level)
                )
                covered = label_counts[column.maps[level]]
                bits = counts[present] * np.log2(counts[present] / covered[present])
                per_level.append(-self.g * float(bits.sum()))
            self.level_values.append(np.asarray(per_level))

    def _combine(self, values: np.ndarray, penalties: np.ndarray) -> np.ndarray:
        return _arx_round(values + self.s * penalties).sum(axis=-1)

    def penalties(self, table: FrequencyTable, suppressed: np.ndarray) -> np.ndarray:
        penalties = np.zeros(self.n_columns)
        if self.monotonic:
            return penalties
        for i, per_label in enumerate(self._suppressed_per_code(table, suppressed)):
            per_label = per_label[per_label > 0]
            penalties[i] = -float((per_label * np.log2(per_label / per_label.sum())).sum())
        return penalties


def build_metric(spec: MetricSpec, columns: Sequence[EncodedColumn]) -> InformationLossMetric:
    """The measure `spec` names, prepared for these encoded quasi-identifiers."""
    if spec.name == "arx_loss":
        return ArxLoss(columns, spec)
    if spec.name == "non_uniform_entropy":
        return NonUniformEntropy(columns, spec)
    return IyengarLoss(columns)
