"""The rows a residual-PII check must read, found for a whole column at once.

Why: the gate's PII checks (`expect_column_values_to_not_match_regex`, ten patterns
on every published text column) were most of its time at a million rows. GX's pandas
implementation is `str.contains`, which for these patterns (their look-behinds are
beyond Arrow's RE2) runs Python's `re` on every value, one pattern at a time. Measured
on 200,000 signalements rows (four text columns, a loaded machine): the whole curated
suite took 22.6 s reading every row, 4.2 s narrowed.

Each pattern carries a *candidate* (`PiiPattern.candidate`): an RE2 pattern found in
every text in which the exact pattern finds a match. Arrow's RE2 marks a slice's
candidates in one pass over the column; GX then runs the exact check, unchanged, on the
rows that are a candidate of some check (the slice's row labels kept), in a column that
holds its own candidates' values and nulls elsewhere. A column-map check does not read
nulls, and a row that is not a candidate cannot match, so the check's outcome, its count
of failing rows and their positions are those of the check on every row (the caller puts
back the slices' row count, `gx_runner._NarrowedChecks`); the table's other checks still
run on the untouched slice.

Only a check this module can vouch for is narrowed: the suite's regex is exactly one of
`PII_PATTERNS` and the check has no argument that reads the share of nulls (`mostly`).
A column holding anything but text is not narrowed either (GX stringifies such values;
every non-null row stays a candidate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from include.validation.pii_patterns import PII_PATTERNS
from include.validation.suites import DERIVED_PREFIX

NOT_MATCH_REGEX = "expect_column_values_to_not_match_regex"
_CANDIDATES = {pattern.regex: pattern.candidate for pattern in PII_PATTERNS}
# Candidates that take a pass of their own instead of joining the one alternation of all
# of them. With the phone number's, the NIR's counted digit groups outgrow the memory RE2
# gives its DFA on digit-dense text, and RE2 falls back to its slower NFA: the
# alternation read 200,000 submission ids (UUIDs) in 0.70 s, and in 0.06 s with the NIR
# apart (prose: 0.08 s, then 0.17 s). On a million curated rows (four text columns) the
# first pass took 4.0 s, and 1.5 s with the NIR apart.
_APART = frozenset(pattern.candidate for pattern in PII_PATTERNS if pattern.name == "nir")
# A narrowed check's column in the frame GX reads: the gate's reserved prefix, so that it
# can never be a column of the source (`frames.validation_slices` refuses those).
_COLUMN_PREFIX = f"{DERIVED_PREFIX}pii_"


def narrowable(expectation: Mapping[str, Any]) -> bool:
    """Whether `expectation` is a PII check whose rows can be narrowed (see the module doc)."""
    kwargs = expectation["kwargs"]
    return (
        expectation["type"] == NOT_MATCH_REGEX
        and set(kwargs) == {"column", "regex"}
        and kwargs["regex"] in _CANDIDATES
    )


def _as_text(values: pd.Series) -> pa.Array | None:
    """The column as Arrow text, or None where it holds anything but strings and nulls.

    Both steps in C (pandas' type inference, Arrow's conversion of an object array): a
    loop over the values and a list cost four times as much (1.6 s at a million rows)."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    return pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)


def narrowed_checks(expectations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The checks as GX is to run them on `narrowed_frame`'s result: each pointed at its
    own column of candidates."""
    return [
        {**expectation, "kwargs": {**expectation["kwargs"], "column": _narrowed_column(index)}}
        for index, expectation in enumerate(expectations)
    ]


def narrowed_frame(frame: pd.DataFrame, expectations: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The rows of `frame` that are a candidate of some check (with their labels, so failing
    rows keep their positions), one column per check (its candidates' values, nulls on
    the other rows), for the checks of `narrowed_checks`.

    Every expectation must be `narrowable`. GX counts the rows it is given: the checks'
    element count is `len(frame)`, not the narrowed frame's.
    """
    for expectation in expectations:
        if not narrowable(expectation):
            raise ValueError(f"check {expectation['meta']['check']!r} cannot be narrowed")
    by_column: dict[str, list[str]] = {}
    for expectation in expectations:
        candidate = _CANDIDATES[expectation["kwargs"]["regex"]]
        by_column.setdefault(expectation["kwargs"]["column"], []).append(candidate)
    marks = {
        column: _candidate_rows(frame[column], candidates)
        for column, candidates in by_column.items()
    }
    kept = np.zeros(len(frame), dtype=bool)
    for column_marks in marks.values():
        for mark in column_marks.values():
            kept |= mark
    columns: dict[str, pd.Series] = {}
    for index, expectation in enumerate(expectations):
        column, regex = expectation["kwargs"]["column"], expectation["kwargs"]["regex"]
        mark = marks[column][_CANDIDATES[regex]][kept]
        columns[_narrowed_column(index)] = frame[column][kept].where(mark, None)
    return pd.DataFrame(columns, index=frame.index[kept])


def _narrowed_column(index: int) -> str:
    """The narrowed frame's column for the check at `index`."""
    return f"{_COLUMN_PREFIX}{index}"


def _candidate_rows(values: pd.Series, candidates: list[str]) -> dict[str, np.ndarray]:
    """For each candidate pattern, the rows of `values` that hold it.

    One pass with all of them at once first (RE2 runs an alternation in one scan; those in
    `_APART` a pass each): most rows hold none, and each candidate alone then reads only
    the rows that hold some.
    """
    text = _as_text(values)
    if text is None:
        present = values.notna().to_numpy()
        return dict.fromkeys(candidates, present)
    distinct = list(dict.fromkeys(candidates))
    together = [candidate for candidate in distinct if candidate not in _APART]
    passes = ([together] if together else []) + [[c] for c in distinct if c in _APART]
    some_found = np.zeros(len(values), dtype=bool)
    for group in passes:
        some_found |= _found(text, "|".join(f"(?:{candidate})" for candidate in group))
    rows = np.flatnonzero(some_found)
    some = text.take(pa.array(rows, type=pa.int64()))
    marks = {}
    for candidate in distinct:
        mark = np.zeros(len(values), dtype=bool)
        mark[rows] = _found(some, candidate)
        marks[candidate] = mark
    return marks


def _found(text: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(
        zero_copy_only=False
    )
