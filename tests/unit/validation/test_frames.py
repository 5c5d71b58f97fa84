"""The frames GX validates: per-row class statistics equal a brute-force count over the whole
table, whatever the slice size."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.validation.frames import validation_slices

QIS = ["a", "b"]
DERIVED = {
    "_gate_size": {"statistic": "class_size", "over": QIS},
    "_gate_distinct": {"statistic": "distinct", "of": "s", "over": QIS},
    "_gate_entropy": {"statistic": "entropy", "of": "s", "over": QIS},
}


def key(value: Any) -> Any:
    """Missing values form one class (and count as one sensitive value) of their own."""
    return "<missing>" if pd.isna(value) else value


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(min_value=1, max_value=40))
    column = st.lists(st.sampled_from(["x", "y", None]), min_size=rows, max_size=rows)
    sensitive = st.lists(st.sampled_from([1, 2, 3, None]), min_size=rows, max_size=rows)
    frame = pd.DataFrame({"a": draw(column), "b": draw(column), "s": draw(sensitive)})
    frame.index = pd.Index(draw(st.permutations(range(100, 100 + rows))))
    return frame


@settings(derandomize=True, deadline=None, max_examples=80)
@given(tables(), st.integers(min_value=1, max_value=50))
def test_class_statistics_equal_a_brute_force_count(table: pd.DataFrame, rows: int) -> None:
    slices = list(validation_slices(table, DERIVED, rows))
    assert all(0 < len(part) <= rows for part in slices)
    assert len(slices) == -(-len(table) // rows)
    frame = pd.concat(slices)
    assert list(frame.index) == list(range(len(table)))
    classes = [tuple(key(row[q]) for q in QIS) for _, row in table.iterrows()]
    members: dict[tuple[Any, ...], list[Any]] = {}
    for cls, value in zip(classes, table["s"], strict=True):
        members.setdefault(cls, []).append(key(value))
    for position, cls in enumerate(classes):
        values = members[cls]
        counts = Counter(values).values()
        entropy = -sum(c / len(values) * math.log(c / len(values)) for c in counts)
        assert frame.loc[position, "_gate_size"] == len(values)
        assert frame.loc[position, "_gate_distinct"] == len(set(values))
        assert frame.loc[position, "_gate_entropy"] == pytest.approx(math.exp(entropy))


def test_values_become_python_objects_and_the_caller_frame_is_untouched() -> None:
    table = pd.DataFrame(
        {"a": pd.array([1, None], dtype="Int64"), "b": pd.Series(["x", None], dtype="str")}
    )
    (frame,) = validation_slices(table, {}, 10)
    assert all(dtype == np.dtype(object) for dtype in frame.dtypes)
    assert type(frame.loc[0, "a"]) is int
    assert str(table["a"].dtype) == "Int64"


def test_the_gate_prefix_is_reserved() -> None:
    with pytest.raises(ValueError, match=r"_gate_class_size.*reserves"):
        next(validation_slices(pd.DataFrame({"_gate_class_size": [1]}), {}, 10))


def test_an_empty_table_is_one_empty_slice_with_its_columns() -> None:
    (frame,) = validation_slices(pd.DataFrame({"a": [], "b": []}), DERIVED, 10)
    assert len(frame) == 0
    assert list(frame.columns) == ["a", "b", *DERIVED]


def test_a_slice_needs_a_row() -> None:
    with pytest.raises(ValueError, match="at least one row"):
        next(validation_slices(pd.DataFrame({"a": [1]}), {}, 0))
