"""The attacker of linked tables, written apart from the engine it checks.

It reads only what a reader has: the published frames (a missing value where a cell is
hidden, a missing row where a cell is empty) and how the dimensions add up (parent codes,
from the same correspondence tables the publisher cites). It owes nothing to
`cell_system` or `suppression_audit`: cells are keyed by their non-total codes, every
"parent = sum of its children" and "total = sum of the categories" it can see in any frame
becomes an equation, and `scipy.optimize.linprog` gives the smallest and largest value of
each hidden cell. Known facts (a record file's counts, an earlier release's cells) are
extra bounds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

Key = frozenset[tuple[str, Hashable]]


@dataclass
class Published:
    """One frame as a reader sees it: `value` missing where hidden. `fixed`: codes every row
    shares without the frame breaking them down (an earlier release is the table at
    RELEASE=previous)."""

    frame: pd.DataFrame
    dimensions: tuple[str, ...]
    value: str
    fixed: Mapping[str, Hashable] = field(default_factory=dict)


@dataclass
class Attack:
    """Each hidden cell's interval, keyed by its non-total codes."""

    intervals: dict[Key, tuple[float, float]] = field(default_factory=dict)

    def pinned(self, tolerance: float) -> list[Key]:
        return [key for key, (lo, hi) in self.intervals.items() if hi - lo <= tolerance]


def parents_from_levels(levels: pd.DataFrame) -> dict[Hashable, Hashable]:
    """Child -> parent from a correspondence table (coarsest level first), a repeated code
    (`AZ, X, X`) meaning no further breakdown."""
    parents: dict[Hashable, Hashable] = {}
    for row in levels.itertuples(index=False):
        for parent, child in itertools.pairwise(row):
            if child != parent:
                parents[child] = parent
    return parents


def attack(
    tables: Iterable[Published],
    parents: Mapping[str, Mapping[Hashable, Hashable]],
    total: Hashable = "Total",
    known: Mapping[Key, tuple[float, float]] | None = None,
) -> Attack:
    """Bounds of every hidden cell of `tables`, given what they publish and `known`.

    `parents[dim]` maps a code to the code it adds up into; codes without a parent add up
    into `total`. Rows absent from a frame are cells a reader takes as 0.
    """
    value_of: dict[Key, float] = {}
    hidden: set[Key] = set()
    equations: list[tuple[Key, list[Key]]] = []
    for table in tables:
        dims = table.dimensions
        cells: dict[tuple[Hashable, ...], float] = {}
        for row in table.frame.itertuples(index=False):
            record = row._asdict()
            codes = tuple(record[d] for d in dims)
            cells[codes] = record[table.value]
        extra = frozenset(table.fixed.items())
        for codes, number in cells.items():
            key = _key(dims, codes, total) | extra
            if pd.isna(number):
                hidden.add(key)
            else:
                value_of[key] = float(number)
        for axis, dim in enumerate(dims):
            up = parents.get(dim, {})
            present = {codes[axis] for codes in cells} | {total}
            groups: dict[tuple[Hashable, ...], list[tuple[Hashable, ...]]] = {}
            for codes in cells:
                parent = None if codes[axis] == total else up.get(codes[axis], total)
                while parent is not None and parent not in present:  # a level left out
                    parent = up.get(parent, total)
                if parent is not None:
                    whole = (*codes[:axis], parent, *codes[axis + 1 :])
                    groups.setdefault(whole, []).append(codes)
            for whole, parts in groups.items():
                equations.append(
                    (
                        _key(dims, whole, total) | extra,
                        [_key(dims, p, total) | extra for p in parts],
                    )
                )
    hidden -= set(value_of)  # a cell one frame hides and another shows is published
    return _solve(sorted(hidden, key=sorted_key), value_of, equations, known or {})


def sorted_key(key: Key) -> list[tuple[str, str]]:
    return sorted((d, str(c)) for d, c in key)


def _key(dims: tuple[str, ...], codes: tuple[Hashable, ...], total: Hashable) -> Key:
    return frozenset((d, c) for d, c in zip(dims, codes, strict=True) if c != total)


def _solve(
    hidden: list[Key],
    value_of: dict[Key, float],
    equations: list[tuple[Key, list[Key]]],
    known: Mapping[Key, tuple[float, float]],
) -> Attack:
    column = {key: k for k, key in enumerate(hidden)}
    rows, cols, coefs, rhs = [], [], [], []
    for whole, parts in equations:
        terms = [(whole, -1.0)] + [(p, 1.0) for p in parts]
        constant = 0.0
        entries = []
        for key, sign in terms:
            if key in column:
                entries.append((column[key], sign))
            else:
                constant += sign * value_of.get(key, 0.0)  # absent: an empty cell
        if not entries:
            continue
        r = len(rhs)
        for c, sign in entries:
            rows.append(r)
            cols.append(c)
            coefs.append(sign)
        rhs.append(-constant)
    a_eq = sparse.csr_array((coefs, (rows, cols)), shape=(len(rhs), len(hidden)))
    bounds = [known.get(key, (0.0, math.inf)) for key in hidden]
    result = Attack()
    for key, k in column.items():
        objective = np.zeros(len(hidden))
        objective[k] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=rhs, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=rhs, bounds=bounds, method="highs")
        assert low.status == 0, f"the published tables are inconsistent: {low.message}"
        upper = math.inf if high.status == 3 else -high.fun
        result.intervals[key] = (low.fun, upper)
    return result


def with_unknown_margins(
    frame: pd.DataFrame, dims: tuple[str, ...], value: str, total: Hashable
) -> pd.DataFrame:
    """A released frame (interior cells only) plus its margins as rows of unknown value: a
    reader knows they exist and add up, not what they are."""
    parts = []
    for size in range(len(dims)):
        for kept in itertools.combinations(dims, size):
            part = frame[list(kept)].drop_duplicates() if kept else pd.DataFrame(index=[0])
            parts.append(part.assign(**{d: total for d in dims if d not in kept}))
    unknown = pd.concat(parts, ignore_index=True).assign(**{value: np.nan})
    return pd.concat([frame, unknown[[*dims, value]]], ignore_index=True)


def record_file_intervals(
    records: pd.DataFrame,
    dimensions: Mapping[str, str],
    codes: Mapping[str, set[Hashable]],
    left_out: int,
) -> dict[Key, tuple[float, float]]:
    """What a record file says of every cell over `dimensions` (table column -> file column),
    read naively: a row whose value is one of the table's codes counts there for sure; any
    other value (a coarser label, "*") could be anywhere; `left_out` records are not in the
    file at all. Cells of every subset of the dimensions (margins, total) are given."""
    dims = list(dimensions)
    sure = pd.DataFrame(
        {d: records[dimensions[d]].where(records[dimensions[d]].isin(codes[d])) for d in dims}
    )
    result: dict[Key, tuple[float, float]] = {}
    for size in range(len(dims) + 1):
        for kept in itertools.combinations(dims, size):
            for combo in itertools.product(*(sorted(codes[d], key=str) for d in kept)):
                match = np.ones(len(sure), dtype=bool)
                maybe = np.ones(len(sure), dtype=bool)
                for d, code in zip(kept, combo, strict=True):
                    match &= (sure[d] == code).to_numpy()
                    maybe &= ((sure[d] == code) | sure[d].isna()).to_numpy()
                lower = float(match.sum())
                result[frozenset(zip(kept, combo, strict=True))] = (
                    lower,
                    float(maybe.sum()) + left_out,
                )
    return result
