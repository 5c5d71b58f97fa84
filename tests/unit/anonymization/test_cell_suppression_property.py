"""Property: after primary + complementary suppression, the LP audit finds nothing to recover.

Random 1-D and 2-D tables, up to 8 x 8, drawn so that most cells are zeros or small counts
(the hard case: few large cells to hide behind, margins themselves under the threshold).
The audit is rerun here from the published pattern alone, not taken from the result.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from include.anonymization.cell_suppression import (
    DisclosureRule,
    Reason,
    audit_suppression,
    protect_counts,
)

# zeros, small counts and publishable counts, drawn about equally often
CELL = st.one_of(st.integers(0, 3), st.integers(1, 10), st.integers(11, 80))


@st.composite
def count_tables(draw: st.DrawFn, dimensions: int) -> np.ndarray:
    shape = tuple(draw(st.integers(1, 8)) for _ in range(dimensions))
    values = draw(st.lists(CELL, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(values).reshape(shape)


def with_margins(table: np.ndarray) -> np.ndarray:
    if table.ndim == 1:
        return np.r_[table, table.sum()]
    return np.block(
        [[table, table.sum(1, keepdims=True)], [table.sum(0, keepdims=True), table.sum()]]
    )


def check_protected(table: np.ndarray, min_count: int) -> None:
    protected = protect_counts(table, DisclosureRule(min_count=min_count))
    extended = with_margins(table)
    hidden = protected.suppressed
    small = (extended > 0) & (extended < min_count)

    assert hidden[small].all(), "a cell under the threshold is published"
    assert (protected.reasons[small] == Reason.PRIMARY).all()
    assert not hidden[extended == 0].any(), "a zero was hidden"
    np.testing.assert_array_equal(protected.published[~hidden], extended[~hidden])

    required = np.where(small, min_count, 0)
    intervals = audit_suppression(table, hidden, required=required)
    assert len(intervals) == hidden.sum()
    recoverable = [iv.label for iv in intervals if iv.recoverable]
    assert recoverable == [], f"exactly recoverable: {recoverable} in {table.tolist()}"
    short = [iv.label for iv in intervals if not iv.protected]
    assert short == [], f"protected by less than {min_count}: {short} in {table.tolist()}"


@settings(derandomize=True, deadline=None, max_examples=60)
@given(table=count_tables(2), min_count=st.sampled_from([5, 11]))
def test_2d_tables_with_margins_have_no_recoverable_cell(table: np.ndarray, min_count: int) -> None:
    check_protected(table, min_count)


@settings(derandomize=True, deadline=None, max_examples=30)
@given(table=count_tables(1), min_count=st.sampled_from([5, 11]))
def test_1d_tables_with_a_total_have_no_recoverable_cell(table: np.ndarray, min_count: int) -> None:
    check_protected(table, min_count)


@settings(derandomize=True, deadline=None, max_examples=30)
@given(table=count_tables(2), data=st.data())
def test_a_lone_hidden_cell_is_always_found_recoverable(
    table: np.ndarray, data: st.DataObject
) -> None:
    """The audit can fail: one hidden cell with every margin published is always derived."""
    position = tuple(data.draw(st.integers(0, n - 1)) for n in table.shape)
    mask = np.zeros(table.shape, dtype=bool)
    mask[position] = True
    [interval] = audit_suppression(table, mask)
    assert interval.recoverable
    assert interval.lower == interval.upper == table[position]
