"""Privacy criteria on equivalence classes: k-anonymity and l-diversity.

A class fails when it has fewer than k records, or when, for some sensitive
field, it holds fewer than l distinct values (distinct l-diversity) or its
values' entropy is below ln(l) (entropy l-diversity). Records of failing
classes are suppressed; a generalization is acceptable when at most
``max_suppression`` of all records are.

Entropy is compared with a margin (``ENTROPY_MARGIN``): floating point cannot
certify e^H = l exactly, so a class sitting exactly on the boundary (its values
spread evenly over exactly l values) counts as failing. That errs on the safe
side and means an independent checker that floors e^H (as pycanon does) agrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from include.anonymization.frequency_table import FrequencyTable

ENTROPY_MARGIN = 1e-9

LKind = Literal["distinct", "entropy"]


@dataclass(frozen=True)
class PrivacyCriteria:
    """What every published equivalence class must satisfy, and how much may be dropped."""

    k: int
    l_diversity: int = 1
    l_kind: LKind = "distinct"
    max_suppression: float = 0.0

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.l_diversity < 1:
            raise ValueError(f"l must be at least 1, got {self.l_diversity}")
        if self.l_kind not in ("distinct", "entropy"):
            raise ValueError(f"l_kind must be 'distinct' or 'entropy', got {self.l_kind!r}")
        # 1 (everything may be suppressed) is allowed, as ARX allows it: suppressed records
        # count as fully lost in the loss metric, so the search still prefers keeping data.
        if not 0 <= self.max_suppression <= 1:
            raise ValueError(f"max_suppression must be in [0, 1], got {self.max_suppression}")

    def max_suppressed(self, n_records: int) -> int:
        """Most records that may be suppressed: floor(max_suppression × n), in decimal.

        The cap is read as written (0.29 × 100 is 29, not 28.999...).
        """
        return math.floor(Fraction(repr(self.max_suppression)) * n_records)

    @property
    def monotone(self) -> bool:
        """Whether suppression can only shrink as the generalization grows.

        True for k-anonymity and distinct l-diversity: a coarser class failing
        means every finer class inside it failed too. Entropy l-diversity is not:
        merging a passing class with a failing one can fail as a whole.
        """
        return self.l_diversity <= 1 or self.l_kind == "distinct"

    def relaxed(self) -> PrivacyCriteria:
        """Monotone criteria implied by these ones (entropy-l implies distinct-l).

        A node that fails the relaxed criteria fails these too, which makes
        pruning sound even when these criteria are not monotone.
        """
        if self.monotone:
            return self
        return PrivacyCriteria(self.k, self.l_diversity, "distinct", self.max_suppression)

    def describe(self) -> str:
        text = f"k={self.k}"
        if self.l_diversity > 1:
            text += f", {self.l_kind} l={self.l_diversity}"
        return f"{text}, at most {self.max_suppression:.2%} suppressed"


def class_entropies(table: FrequencyTable, sensitive: int) -> np.ndarray:
    """Entropy (natural log) of one sensitive field's values within each class."""
    pairs = table.sensitive[sensitive]
    counts = pairs.count.astype(np.float64)
    weighted = np.bincount(pairs.cls, weights=counts * np.log(counts), minlength=table.n_classes)
    sizes = table.counts.astype(np.float64)
    return np.log(sizes) - weighted / sizes


def class_distinct_values(table: FrequencyTable, sensitive: int) -> np.ndarray:
    """Number of distinct values of one sensitive field within each class."""
    return np.bincount(table.sensitive[sensitive].cls, minlength=table.n_classes)


def failing_classes(table: FrequencyTable, criteria: PrivacyCriteria) -> np.ndarray:
    """Boolean mask of the classes whose records must be suppressed."""
    failing = table.counts < criteria.k
    if criteria.l_diversity > 1:
        for sensitive in range(len(table.sensitive)):
            if criteria.l_kind == "distinct":
                failing |= class_distinct_values(table, sensitive) < criteria.l_diversity
            else:
                entropies = class_entropies(table, sensitive)
                failing |= entropies < math.log(criteria.l_diversity) + ENTROPY_MARGIN
    return failing
