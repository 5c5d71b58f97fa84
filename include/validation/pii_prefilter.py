"""The rows a residual-PII check must read, found for a whole column at once.

Why: the gate's PII checks (`expect_column_values_to_not_match_regex`, ten patterns
on every published text column) were most of its time at a million rows. GX's pandas
implementation is `str.contains`, which for these patterns (their look-behinds are
beyond Arrow's RE2) runs Python's `re` on every value, one pattern at a time. Measured
on 200,000 signalements rows (four text columns, a loaded machine): the whole curated
suite took 22.6 s reading every row, 4.2 s narrowed.

Each pattern carries a *candidate* (`PiiPattern.candidate`): an RE2 pattern found in
every text in which the exact pattern finds a match. Arrow's RE2 marks a slice's
candidates in one pass over the column; GX then runs the exact check, unchanged, on a
column that holds the candidates' values and nulls elsewhere. A column-map check does
not read nulls, and a row that is not a candidate cannot match, so the check's outcome,
its count of failing rows and their positions are those of the check on every row; the
table's other checks still run on the untouched slice.

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
    """The column as Arrow text, or None where it holds anything but strings and nulls."""
    present = values[values.notna()]
    if not all(isinstance(value, str) for value in present):
        return None
    return pa.array(values.where(values.notna(), None).tolist(), type=pa.large_string())


def narrowed_frame(
    frame: pd.DataFrame, expectations: Sequence[Mapping[str, Any]]
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """A frame with one column per check (its candidates' values, nulls elsewhere; the
    slice's index, so failing rows keep their positions) and the checks pointed at it.

    Every expectation must be `narrowable`.
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
    columns: dict[str, pd.Series] = {}
    narrowed: list[dict[str, Any]] = []
    for index, expectation in enumerate(expectations):
        column, regex = expectation["kwargs"]["column"], expectation["kwargs"]["regex"]
        name = f"{_COLUMN_PREFIX}{index}"
        columns[name] = frame[column].where(marks[column][_CANDIDATES[regex]], None)
        narrowed.append({**expectation, "kwargs": {**expectation["kwargs"], "column": name}})
    return pd.DataFrame(columns, index=frame.index), narrowed


def _candidate_rows(values: pd.Series, candidates: list[str]) -> dict[str, np.ndarray]:
    """For each candidate pattern, the rows of `values` that hold it.

    One pass with all of them at once first (RE2 runs an alternation in one scan): most
    rows hold none, and each candidate alone then reads only the rows that hold some.
    """
    text = _as_text(values)
    if text is None:
        present = values.notna().to_numpy()
        return dict.fromkeys(candidates, present)
    either = "|".join(f"(?:{candidate})" for candidate in dict.fromkeys(candidates))
    rows = np.flatnonzero(_found(text, either))
    some = text.take(pa.array(rows, type=pa.int64()))
    marks = {}
    for candidate in dict.fromkeys(candidates):
        mark = np.zeros(len(values), dtype=bool)
        mark[rows] = _found(some, candidate)
        marks[candidate] = mark
    return marks


def _found(text: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(
        zero_copy_only=False
    )
