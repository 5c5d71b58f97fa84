"""The LP audit of suppression patterns: it must catch bad patterns, not only bless good ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from include.anonymization.suppression_audit import (
    AdditiveLayout,
    CellInterval,
    KnownBounds,
    TableLayout,
    audit_layout,
    audit_suppression,
)


def by_label(intervals: list[CellInterval]) -> dict[str, tuple[float, float]]:
    return {iv.label: (iv.lower, iv.upper) for iv in intervals}


# --- patterns that leak ------------------------------------------------------------------


def test_one_hidden_cell_in_a_line_with_a_published_total_is_recoverable() -> None:
    [interval] = audit_suppression([3, 20, 40], [True, False, False])
    assert interval.label == "cell 0"
    assert interval.lower == interval.upper == 3
    assert interval.recoverable
    assert not interval.protected


def test_one_hidden_cell_in_a_row_of_a_2d_table_is_recoverable() -> None:
    table = np.array([[3, 20, 40], [30, 25, 18]])
    mask = np.zeros_like(table, dtype=bool)
    mask[0, 0] = True
    [interval] = audit_suppression(table, mask)
    assert (interval.position, interval.lower, interval.upper) == ((0, 0), 3, 3)
    assert interval.recoverable


def test_two_hidden_cells_in_a_row_leak_through_their_columns() -> None:
    table = np.array([[3, 20, 40], [30, 25, 18]])
    mask = np.zeros_like(table, dtype=bool)
    mask[0, :2] = True  # row 0 is covered, but columns 0 and 1 have one hidden cell each
    intervals = audit_suppression(table, mask)
    assert [iv.recoverable for iv in intervals] == [True, True]


def test_a_bridge_between_two_rectangles_is_recoverable() -> None:
    """Every row and column has two hidden cells, yet the cell joining the rectangles leaks:
    the 'at least two per line' heuristic alone is not a proof."""
    table = np.full((4, 4), 30)
    mask = np.zeros((4, 4), dtype=bool)
    mask[np.ix_([0, 1], [0, 1])] = True
    mask[np.ix_([2, 3], [2, 3])] = True
    mask[0, 2] = True
    intervals = {iv.position: iv for iv in audit_suppression(table, mask)}
    assert intervals[(0, 2)].recoverable
    assert not intervals[(0, 0)].recoverable


def test_a_rectangle_through_zeros_is_recoverable_because_counts_are_nonnegative() -> None:
    """Without x >= 0 the rectangle would hide 3; with it, 3 can neither go up (its row
    partner is 0) nor down (the opposite corner is 0)."""
    table = np.array([[3, 0, 30], [5, 0, 40]])
    mask = np.zeros_like(table, dtype=bool)
    mask[:, :2] = True
    intervals = {iv.position: iv for iv in audit_suppression(table, mask)}
    assert (intervals[(0, 0)].lower, intervals[(0, 0)].upper) == (3, 3)
    assert all(iv.recoverable for iv in intervals.values())


def test_a_zero_partner_hides_a_small_cell_only_downwards() -> None:
    intervals = audit_suppression([4, 0, 30], [True, True, False], required=[11, 0, 0])
    assert by_label(intervals) == {"cell 0": (0, 4), "cell 1": (0, 4)}
    small = intervals[0]
    assert not small.recoverable
    assert not small.protected  # a reader still knows it is at most 4


# --- patterns that hold ------------------------------------------------------------------


def test_a_rectangle_of_nonzero_cells_gives_the_hand_computed_intervals() -> None:
    # Moving t around the rectangle: 3 + t needs 20 - t and 15 - t >= 0, 3 - t needs 3 - t >= 0
    # (the opposite corner 40 moves with it, the other two against it).
    table = np.array([[3, 20, 7], [15, 40, 9]])
    mask = np.zeros_like(table, dtype=bool)
    mask[:, :2] = True
    required = np.zeros_like(table)
    required[0, 0] = 11  # the small cell must be able to look publishable (>= 3 + 11)
    intervals = audit_suppression(table, mask, required=required)
    assert by_label(intervals) == {
        "cell (0, 0)": (0, 18),
        "cell (0, 1)": (5, 23),
        "cell (1, 0)": (0, 18),
        "cell (1, 1)": (37, 55),
    }
    assert all(iv.protected for iv in intervals)
    assert intervals[0].width == 18
    required[0, 0] = 16  # 3 + 16 = 19 is beyond what the rectangle can absorb
    assert not audit_suppression(table, mask, required=required)[0].protected


def test_hidden_margins_are_variables_of_the_audit() -> None:
    """1-D table with its total hidden: the hidden cell is unbounded above."""
    intervals = audit_suppression([4, 5, 30], [True, False, False, True])
    assert by_label(intervals) == {"cell 0": (0, math.inf), "total": (35, math.inf)}
    assert intervals[1].margin
    assert not intervals[0].margin


def test_a_hidden_row_total_leaks_through_the_column_of_totals() -> None:
    table = np.array([[2, 3], [30, 40]])
    mask = np.zeros((3, 3), dtype=bool)
    mask[:2, :] = True  # all cells and row totals hidden
    mask[1, 2] = False  # ... but row total 1 published: row total 0 = 75 - 70
    mask[2, :2] = True  # column totals hidden, grand total published
    intervals = {iv.label: iv for iv in audit_suppression(table, mask)}
    assert (intervals["row total 0"].lower, intervals["row total 0"].upper) == (5, 5)
    assert intervals["row total 0"].margin

    mask[1, 2] = True  # hide row total 1 too: only the grand total bounds row total 0
    intervals = {iv.label: iv for iv in audit_suppression(table, mask)}
    assert (intervals["row total 0"].lower, intervals["row total 0"].upper) == (0, 75)
    assert not any(iv.recoverable for iv in intervals.values())


def test_audit_rejects_bad_input_with_a_useful_message() -> None:
    with pytest.raises(ValueError, match=r"expected \(3,\) .* or \(4,\)"):
        audit_suppression([1, 2, 3], [True, False])
    with pytest.raises(ValueError, match="finite and >= 0"):
        audit_suppression([1, -2, 3], [True, True, False])
    with pytest.raises(ValueError, match="1-D or 2-D"):
        audit_suppression(np.ones((2, 2, 2)), np.ones((2, 2, 2), dtype=bool))


# --- integrality: the LP relaxation loses nothing on 1-D / 2-D tables -----------------------


def integer_bounds(extended: np.ndarray, hidden: np.ndarray, flat: int) -> tuple[float, float]:
    """Min and max of one hidden entry over integer tables, built independently of the module:
    every row and column of the extended table adds up to its last entry."""
    rows, cols = extended.shape
    index = -np.ones(extended.size, dtype=int)
    index[np.flatnonzero(hidden)] = np.arange(hidden.sum())
    lines = [[(i, j) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(cols)]
    matrix, rhs = [], []
    for line in lines:
        coef = np.zeros(hidden.sum())
        constant = 0.0
        for position, (i, j) in enumerate(line):
            sign = -1.0 if position == len(line) - 1 else 1.0
            k = index[i * cols + j]
            if k >= 0:
                coef[k] += sign
            else:
                constant += sign * extended[i, j]
        matrix.append(coef)
        rhs.append(-constant)
    constraint = LinearConstraint(np.array(matrix), rhs, rhs)
    bounds = Bounds(0, extended[-1, -1])  # the grand total stays published below
    integral = np.ones(hidden.sum())
    objective = np.zeros(hidden.sum())
    objective[index[flat]] = 1.0
    low = milp(objective, constraints=constraint, bounds=bounds, integrality=integral)
    high = milp(-objective, constraints=constraint, bounds=bounds, integrality=integral)
    assert low.status == high.status == 0
    return low.fun, -high.fun


def test_lp_bounds_equal_integer_bounds_on_random_small_tables() -> None:
    rng = np.random.default_rng(20261125)
    for _ in range(25):
        shape = tuple(rng.integers(2, 5, size=2))
        table = rng.choice([0, 1, 2, 4, 7, 12, 25, 40], size=shape)
        extended = np.block(
            [[table, table.sum(1, keepdims=True)], [table.sum(0, keepdims=True), table.sum()]]
        )
        hidden = rng.random(extended.shape) < 0.45
        hidden[-1, -1] = False
        if not hidden.any():
            continue
        for interval in audit_suppression(table, hidden):
            flat = np.ravel_multi_index(interval.position, extended.shape)
            assert (interval.lower, interval.upper) == pytest.approx(
                integer_bounds(extended, hidden.ravel(), flat)
            ), (table.tolist(), hidden.tolist(), interval.label)


# --- beyond 2-D: integer bounds, known values, solver hiccups ------------------------------


class ParityLines(AdditiveLayout):
    """x1 + x2 = A, x2 + x3 = B, x1 + x3 = X4, X4 + x5 = C: X4 = A + B - 2 x2 moves in
    steps of 2, which the LP relaxation does not know (not a 2-D table: no unimodularity)."""

    names = ("x1", "x2", "x3", "X4", "x5", "A", "B", "C")

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def lines(self) -> tuple[np.ndarray, ...]:
        return tuple(np.array(line) for line in ([0, 1, 5], [1, 2, 6], [0, 2, 3], [3, 4, 7]))

    def position(self, flat: int) -> tuple[int, ...]:
        return (flat,)

    def describe(self, flat: int) -> str:
        return self.names[flat]


def test_counts_get_integer_bounds_where_the_lp_vertex_is_fractional() -> None:
    layout = ParityLines()
    values = np.array([1, 1, 1, 2, 1, 2, 2, 3], dtype=float)
    hidden = np.array([True] * 5 + [False] * 3)
    required = np.zeros(layout.size)
    relaxed = {
        iv.label: (iv.lower, iv.upper) for iv in audit_layout(layout, values, hidden, required)
    }
    assert relaxed["X4"] == pytest.approx((0, 3))  # at x2 = 0.5
    assert relaxed["x5"] == pytest.approx((0, 3))
    counted = {
        iv.label: (iv.lower, iv.upper)
        for iv in audit_layout(layout, values, hidden, required, integral=True)
    }
    assert counted["X4"] == pytest.approx((0, 2))  # x2 is 1 or 2
    assert counted["x5"] == pytest.approx((1, 3))
    assert counted["x2"] == pytest.approx((1, 2))


def test_what_a_reader_knows_narrows_the_intervals() -> None:
    values = np.array([3, 20, 40, 15, 78], dtype=float)
    hidden = np.array([True, False, False, True, False])
    layout = TableLayout((4,))
    upper = np.full(5, np.inf)
    upper[3] = 16  # an earlier release said "at most 16" of cell 3
    bounds = KnownBounds(np.zeros(5), upper)
    intervals = audit_layout(layout, values, hidden, np.zeros(5), bounds=bounds)
    assert by_label(intervals) == {"cell 0": (2, 18), "cell 3": (0, 16)}
    with pytest.raises(ValueError, match=r"cell 3 is 15, outside what a reader is said to know"):
        audit_layout(
            layout, values, hidden, np.zeros(5), bounds=KnownBounds(np.zeros(5), upper - 2)
        )
    with pytest.raises(ValueError, match="0 <= lower <= upper"):
        KnownBounds(np.ones(5), np.zeros(5))
