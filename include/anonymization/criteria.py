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
ARX differs here by design: it keeps such a class (H >= ln l passes), so on a
table where a class sits exactly on ln l the two can choose different optima.

The entropy of a class is estimated from its counts (``EntropyEstimator``): the
plug-in Shannon estimate by default, or Grassberger's bias-corrected one, which
ARX offers because the plug-in estimate is biased low on small classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
from scipy.special import digamma

from include.anonymization.frequency_table import FrequencyTable

ENTROPY_MARGIN = 1e-9

LKind = Literal["distinct", "entropy"]
EntropyEstimator = Literal["shannon", "grassberger"]


@dataclass(frozen=True)
class PrivacyCriteria:
    """What every published equivalence class must satisfy, and how much may be dropped."""

    k: int
    l_diversity: int = 1
    l_kind: LKind = "distinct"
    max_suppression: float = 0.0
    entropy_estimator: EntropyEstimator = "shannon"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.l_diversity < 1:
            raise ValueError(f"l must be at least 1, got {self.l_diversity}")
        if self.l_kind not in ("distinct", "entropy"):
            raise ValueError(f"l_kind must be 'distinct' or 'entropy', got {self.l_kind!r}")
        if self.entropy_estimator not in ("shannon", "grassberger"):
            raise ValueError(
                f"entropy_estimator must be 'shannon' or 'grassberger', got "
                f"{self.entropy_estimator!r}"
            )
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
            if self.l_kind == "entropy" and self.entropy_estimator != "shannon":
                text += f" ({self.entropy_estimator} estimate)"
        return f"{text}, at most {self.max_suppression:.2%} suppressed"


def grassberger_g(counts: np.ndarray) -> np.ndarray:
    """Grassberger's G(n) as ARX evaluates it: an odd n above 1 takes G(n - 1).

    G(n) = ψ(n) + ½ (−1)ⁿ (ψ((n+1)/2) − ψ(n/2)) (Grassberger 2003, "Entropy estimates
    from insufficient samplings"). ARX tabulates G at 1 and at even n and rounds odd
    counts down to even; the same rule here makes the two agree on which class passes.
    """
    n = np.asarray(counts, dtype=np.float64)
    even = np.where(n > 1, n - n % 2, n)
    sign = np.where(even % 2 == 0, 1.0, -1.0)
    return digamma(even) + 0.5 * sign * (digamma((even + 1) / 2) - digamma(even / 2))


def class_entropies(
    table: FrequencyTable, sensitive: int, estimator: EntropyEstimator = "shannon"
) -> np.ndarray:
    """Entropy (natural log) of one sensitive field's values within each class.

    H = ψ(N) − Σ nᵢ ψ(nᵢ) / N, with ψ = ln for the plug-in (Shannon) estimate and
    ψ = G for Grassberger's.
    """
    psi = np.log if estimator == "shannon" else grassberger_g
    pairs = table.sensitive[sensitive]
    counts = pairs.count.astype(np.float64)
    weighted = np.bincount(pairs.cls, weights=counts * psi(counts), minlength=table.n_classes)
    sizes = table.counts.astype(np.float64)
    return psi(sizes) - weighted / sizes


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
                entropies = class_entropies(table, sensitive, criteria.entropy_estimator)
                failing |= entropies < math.log(criteria.l_diversity) + ENTROPY_MARGIN
                if criteria.entropy_estimator != "shannon":
                    # Only the plug-in estimate implies l distinct values; ARX asks for them
                    # whatever the estimate, and so does the search's pruning (`relaxed`).
                    failing |= class_distinct_values(table, sensitive) < criteria.l_diversity
    return failing
