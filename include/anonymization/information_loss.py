"""The information-loss measure the k-anonymity search minimizes.

Measure: Iyengar's loss metric (LM), with suppressed records counted as lost.
Each published cell of a quasi-identifier i loses

    (number of distinct original values its label covers − 1) / (|D_i| − 1)

where |D_i| is the number of distinct values of i in the data: 0 when the value
is kept, 1 for "*". Every cell of a suppressed record loses 1. The loss of a
node is the mean over all n × q cells, so it lies in [0, 1]. (When a column has
a single distinct value, nothing can be lost and its cells count 0.)

Why this measure: unlike the generalization height it knows that "20-24" loses
less than a région, and unlike a height-only measure it charges suppression, so
among nodes under the suppression cap it prefers the one that keeps more data.

Why it is searchable: without suppression, LM only grows as a node is
generalized (each label covers at least as many values), and it can be computed
from per-column averages without looking at the data grouped. With suppression a
node's loss is never below that suppression-free value, because a suppressed
cell's loss 1 is the maximum. So the suppression-free value is a monotone lower
bound that lets the search stop as soon as no unexplored node can beat the best
one found.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from include.anonymization.frequency_table import FrequencyTable
from include.anonymization.hierarchies import EncodedColumn


class LossMetric:
    """Precomputed per-level cell losses for a set of encoded quasi-identifiers."""

    def __init__(self, columns: Sequence[EncodedColumn]) -> None:
        self.n_rows = columns[0].n_rows
        self.n_columns = len(columns)
        self.cell_loss: list[list[np.ndarray]] = []
        self.level_loss: list[np.ndarray] = []
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
            self.level_loss.append(
                np.array(
                    [
                        float(value_counts @ loss[column.maps[level]]) / self.n_rows
                        for level, loss in enumerate(per_level)
                    ]
                )
            )

    def lower_bound(self, levels: Sequence[int]) -> float:
        """The node's loss if nothing were suppressed (a lower bound of its loss)."""
        return float(
            sum(self.level_loss[i][level] for i, level in enumerate(levels)) / self.n_columns
        )

    def lower_bounds(self, nodes: np.ndarray) -> np.ndarray:
        """`lower_bound` of every row of a (nodes × columns) level matrix."""
        total = np.zeros(len(nodes))
        for i, level_loss in enumerate(self.level_loss):
            total += level_loss[nodes[:, i]]
        return total / self.n_columns

    def loss(self, table: FrequencyTable, suppressed_classes: np.ndarray) -> float:
        """The node's loss when the records of `suppressed_classes` are suppressed."""
        bound = self.lower_bound(table.levels)
        if not suppressed_classes.any():
            return bound
        kept_loss = np.zeros(int(suppressed_classes.sum()))
        for i, (codes, level) in enumerate(zip(table.codes, table.levels, strict=True)):
            kept_loss += self.cell_loss[i][level][codes[suppressed_classes]]
        extra = float(table.counts[suppressed_classes] @ (self.n_columns - kept_loss))
        return bound + extra / (self.n_rows * self.n_columns)
