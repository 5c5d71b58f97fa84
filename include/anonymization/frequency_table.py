"""Equivalence-class frequency tables, rolled up from finer tables.

A node of the generalization lattice (one level per quasi-identifier) splits the
records into equivalence classes: records whose generalized quasi-identifiers are
all equal. Everything the privacy criteria need is in that node's frequency
table: per class, its quasi-identifier codes, its number of records and, per
sensitive field, which values it holds how often.

Why roll up: a coarser node's classes are unions of a finer node's classes, so
its table follows from the finer (usually much smaller) table by mapping the
codes one level up and re-aggregating; the raw rows are read once, for the
bottom node, and never again. Grouping uses a combined int64 key per class and
a dense bincount when the key range is small, a sort otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from include.anonymization.hierarchies import EncodedColumn

# Keys spanning at most this many slots per grouped element are grouped densely
# (bincount-style, linear time); sparser keys are sorted.
_DENSE_SLOTS_PER_KEY = 4
_DENSE_MIN_SLOTS = 1 << 16


@dataclass(frozen=True, eq=False)
class SensitiveCounts:
    """The (class, sensitive value) pairs present in a table, with their record counts."""

    n_values: int
    cls: np.ndarray
    value: np.ndarray
    count: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.cls.nbytes + self.value.nbytes + self.count.nbytes


@dataclass(frozen=True, eq=False)
class FrequencyTable:
    """The equivalence classes of one lattice node.

    ``codes[i][c]`` is class c's code for quasi-identifier i at ``levels[i]``;
    ``counts[c]`` its number of records; ``sensitive[s]`` its sensitive values.
    Classes are ordered by their combined key, so a table does not depend on
    which finer table it was rolled up from.
    """

    levels: tuple[int, ...]
    codes: tuple[np.ndarray, ...]
    counts: np.ndarray
    sensitive: tuple[SensitiveCounts, ...]

    @property
    def n_classes(self) -> int:
        return len(self.counts)

    @property
    def nbytes(self) -> int:
        return (
            sum(c.nbytes for c in self.codes)
            + self.counts.nbytes
            + sum(s.nbytes for s in self.sensitive)
        )


def _dense_limit(n_keys: int) -> int:
    return max(_DENSE_MIN_SLOTS, _DENSE_SLOTS_PER_KEY * n_keys)


def group_keys(keys: np.ndarray, key_range: int) -> tuple[np.ndarray, np.ndarray]:
    """Group int64 keys in ``[0, key_range)``.

    Returns ``inverse`` (the group of each key, groups numbered in key order) and
    ``representative`` (for each group, the position of one of its keys).
    """
    if key_range <= _dense_limit(len(keys)):
        present = np.zeros(key_range, dtype=bool)
        present[keys] = True
        slot_dtype = np.int32 if key_range < 2**31 else np.int64
        group_of_slot = np.cumsum(present, dtype=slot_dtype)
        group_of_slot -= 1
        inverse = group_of_slot[keys]
        n_groups = int(group_of_slot[-1]) + 1 if key_range else 0
    else:
        _, inverse = np.unique(keys, return_inverse=True)
        n_groups = int(inverse.max()) + 1 if len(inverse) else 0
    representative = np.empty(n_groups, dtype=np.int64)
    representative[inverse] = np.arange(len(keys), dtype=np.int64)
    return inverse, representative


def combine_codes(columns: Sequence[np.ndarray], radices: Sequence[int]) -> tuple[np.ndarray, int]:
    """One int64 key per element from one or more code columns (mixed radix).

    Returns the keys and their range. When the product of radices would overflow,
    the partial key is renumbered densely first, so any number of columns works.
    """
    keys = np.zeros(len(columns[0]), dtype=np.int64)
    key_range = 1
    dense_limit = _dense_limit(len(keys))
    for column, radix in zip(columns, radices, strict=True):
        if key_range > 1 and key_range * radix > dense_limit:
            # Renumbering the partial key (densely, in key order) keeps every grouping in
            # linear time, and the order of the final keys stays that of the full ones.
            keys, representative = group_keys(keys, key_range)
            keys = keys.astype(np.int64, copy=False)
            key_range = len(representative)
        keys *= radix
        keys += column
        key_range *= radix
    return keys, key_range


def _sum_by_group(inverse: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    # float64 sums of integer counts are exact below 2**53 records.
    return np.bincount(inverse, weights=weights, minlength=n_groups).astype(np.int64)


def roll_up(
    source: FrequencyTable, columns: Sequence[EncodedColumn], levels: Sequence[int]
) -> tuple[FrequencyTable, np.ndarray]:
    """The table of the node `levels`, from the table of a finer (or equal) node.

    Also returns, for each class of `source`, the class of the new table it falls in.
    """
    levels = tuple(levels)
    mapped = [
        codes if finer == coarser else column.level_map(finer, coarser)[codes]
        for column, codes, finer, coarser in zip(
            columns, source.codes, source.levels, levels, strict=True
        )
    ]
    radices = [column.n_codes(level) for column, level in zip(columns, levels, strict=True)]
    keys, key_range = combine_codes(mapped, radices)
    inverse, representative = group_keys(keys, key_range)
    n_classes = len(representative)
    sensitive = []
    for pairs in source.sensitive:
        pair_keys = inverse[pairs.cls].astype(np.int64) * pairs.n_values + pairs.value
        pair_inverse, pair_rep = group_keys(pair_keys, n_classes * pairs.n_values)
        kept = pair_keys[pair_rep]
        sensitive.append(
            SensitiveCounts(
                n_values=pairs.n_values,
                cls=kept // pairs.n_values,
                value=kept % pairs.n_values,
                count=_sum_by_group(pair_inverse, pairs.count, len(pair_rep)),
            )
        )
    table = FrequencyTable(
        levels=levels,
        codes=tuple(codes[representative] for codes in mapped),
        counts=_sum_by_group(inverse, source.counts, n_classes),
        sensitive=tuple(sensitive),
    )
    return table, inverse


def row_table(
    columns: Sequence[EncodedColumn], sensitive_codes: Sequence[tuple[np.ndarray, int]]
) -> FrequencyTable:
    """The raw rows seen as a table of one-record classes at level 0.

    Rolling it up to the bottom node (all levels 0) gives the bottom table and,
    as the returned inverse, each row's class; no other code path reads rows.
    """
    n_rows = columns[0].n_rows
    rows = np.arange(n_rows, dtype=np.int64)
    ones = np.ones(n_rows, dtype=np.int64)
    return FrequencyTable(
        levels=(0,) * len(columns),
        codes=tuple(column.codes for column in columns),
        counts=ones,
        sensitive=tuple(
            SensitiveCounts(n_values=n_values, cls=rows, value=codes.astype(np.int64), count=ones)
            for codes, n_values in sensitive_codes
        ),
    )
