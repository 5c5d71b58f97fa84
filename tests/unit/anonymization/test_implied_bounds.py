"""Bounds implied by single lines: sound against exact programmes, and they spare LPs."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from include.anonymization import linear_programs, suppression_audit
from include.anonymization.implied_bounds import implied_bounds
from include.anonymization.suppression_audit import (
    FeasibleSet,
    KnownBounds,
    TableLayout,
    audit_layout,
)


def exact_bounds(
    layout: TableLayout,
    values: np.ndarray,
    hidden: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    integral: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Each hidden entry's min and max over every line, by one programme per bound (the
    grand total published: every entry bounded)."""
    equations = layout.equations.toarray()
    a, rhs = equations[:, hidden], -(equations[:, ~hidden] @ values[~hidden])
    constraint = LinearConstraint(a, rhs, rhs)
    box = Bounds(lower[hidden], upper[hidden])
    integrality = np.ones(hidden.sum()) if integral else np.zeros(hidden.sum())
    lows, highs = values.copy(), values.copy()
    for k, flat in enumerate(np.flatnonzero(hidden)):
        objective = np.zeros(hidden.sum())
        objective[k] = 1.0
        low = milp(objective, constraints=constraint, bounds=box, integrality=integrality)
        high = milp(-objective, constraints=constraint, bounds=box, integrality=integrality)
        assert low.status == high.status == 0
        lows[flat], highs[flat] = low.fun, -high.fun
    return lows, highs


def nonnegative_bounds(
    layout: TableLayout, values: np.ndarray, hidden: np.ndarray, *, integral: bool
) -> tuple[np.ndarray, np.ndarray]:
    """What single lines imply when a reader knows only that entries are >= 0."""
    return implied_bounds(
        layout.equations,
        values,
        hidden,
        np.zeros(layout.size),
        np.full(layout.size, np.inf),
        integral=integral,
        tolerance=1e-6,
    )


def test_a_hidden_cell_gets_its_row_total_minus_the_published_cells() -> None:
    layout = TableLayout((3,))
    values = np.array([3.0, 5.0, 40.0, 48.0])
    hidden = np.array([True, True, False, False])
    lo, hi = nonnegative_bounds(layout, values, hidden, integral=True)
    assert lo.tolist() == [0, 0, 40, 48]
    assert hi.tolist() == [8, 8, 40, 48]


def test_bounds_travel_through_a_hidden_total() -> None:
    """Row 0's cells and total are hidden; its total is capped by its column of totals."""
    layout = TableLayout((2, 2))
    values = layout.extend(np.array([[1.0, 2.0], [4.0, 8.0]]))  # [1 2 3; 4 8 12; 5 10 15]
    hidden = np.zeros(9, dtype=bool)
    hidden[[0, 1, 2]] = True
    lo, hi = nonnegative_bounds(layout, values, hidden, integral=False)
    # cell (0, 0) is column 0's total minus cell (1, 0): exactly 1; likewise cell (0, 1).
    assert (lo[[0, 1, 2]], hi[[0, 1, 2]]) == (pytest.approx([1, 2, 3]), pytest.approx([1, 2, 3]))


@pytest.mark.parametrize("integral", [False, True])
def test_implied_bounds_contain_the_exact_bounds_on_random_tables(integral: bool) -> None:
    rng = np.random.default_rng(20261205)
    for _ in range(30):
        shape = tuple(int(n) for n in rng.integers(2, 5, size=2))
        layout = TableLayout(shape)
        values = layout.extend(rng.choice([0, 1, 2, 3, 5, 9, 14, 30], size=shape).astype(float))
        hidden = rng.random(layout.size) < 0.5
        hidden[-1] = False  # a published grand total bounds every entry
        upper = np.where(rng.random(layout.size) < 0.2, values + rng.integers(0, 4), np.inf)
        lower = np.where(rng.random(layout.size) < 0.2, np.maximum(values - 2, 0), 0.0)
        lo, hi = implied_bounds(
            layout.equations, values, hidden, lower, upper, integral=integral, tolerance=1e-6
        )
        exact_lo, exact_hi = exact_bounds(layout, values, hidden, lower, upper, integral=integral)
        assert np.all(lo <= exact_lo + 1e-6), (values.tolist(), hidden.tolist())
        assert np.all(hi >= exact_hi - 1e-6), (values.tolist(), hidden.tolist())
        assert np.all(lo[~hidden] == values[~hidden])
        assert np.all(hi[~hidden] == values[~hidden])


def test_an_entry_a_table_shows_at_its_implied_bound_needs_no_programme() -> None:
    """The row [x, y | 10] with both cells hidden: x <= 10 from the row alone. Once a table
    with x = 10 is met, x's maximum is known without solving anything."""
    layout = TableLayout((2,))
    values = np.array([4.0, 6.0, 10.0])
    hidden = np.array([True, True, False])
    feasible = FeasibleSet(layout, values, hidden, integral=True)
    feasible.record(np.array([10.0, 0.0, 10.0]))
    with mock.patch.object(
        linear_programs.BoundProgram, "optimize", side_effect=AssertionError("an LP was solved")
    ):
        assert feasible.upper(0) == 10
        assert feasible.lower(1) == 0


def _audit_counting_programmes(
    layout: TableLayout, values: np.ndarray, hidden: np.ndarray
) -> tuple[list[Any], int]:
    solved: list[Any] = []
    real = linear_programs.BoundProgram.optimize

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        solved.append(args)
        return real(self, *args, **kwargs)

    with mock.patch.object(linear_programs.BoundProgram, "optimize", counted):
        intervals = audit_layout(layout, values, hidden, np.zeros(layout.size), integral=True)
    return intervals, len(solved)


def test_the_audit_gives_the_same_intervals_with_fewer_programmes() -> None:
    """On a 6 x 6 table with most cells hidden, every interval equals the exact integer
    bounds, with fewer programmes than when only what the reader knows (>= 0) is used."""
    rng = np.random.default_rng(7)
    layout = TableLayout((6, 6))
    values = layout.extend(rng.choice([0, 1, 2, 3, 8, 20], size=(6, 6)).astype(float))
    hidden = rng.random(layout.size) < 0.6
    hidden[-1] = False  # the grand total is published
    intervals, programmes = _audit_counting_programmes(layout, values, hidden)
    with mock.patch.object(
        suppression_audit,
        "implied_bounds",
        lambda _eq, _values, _hidden, lower, upper, **_: (lower, upper),
    ):
        unaided, unaided_programmes = _audit_counting_programmes(layout, values, hidden)
    exact_lo, exact_hi = exact_bounds(
        layout, values, hidden, np.zeros(layout.size), np.full(layout.size, np.inf), integral=True
    )
    for interval in intervals:
        assert (interval.lower, interval.upper) == pytest.approx(
            (exact_lo[interval.index], exact_hi[interval.index])
        ), interval.label
    assert unaided == intervals
    assert programmes < unaided_programmes, (programmes, unaided_programmes)


def test_known_bounds_enter_the_propagation() -> None:
    """An earlier release said cell 0 is at least 3 and cell 1 at most 2: the row of total
    6 then leaves cell 2 at most 3, and cell 0 at most 6."""
    layout = TableLayout((3,))
    values = np.array([3.0, 1.0, 2.0, 6.0])
    hidden = np.array([True, True, True, False])
    known = KnownBounds(np.array([3.0, 0, 0, 0]), np.array([np.inf, 2, np.inf, np.inf]))
    lo, hi = implied_bounds(
        layout.equations,
        values,
        hidden,
        known.lower,
        known.upper,
        integral=True,
        tolerance=1e-6,
    )
    assert (lo[2], hi[2]) == (0, 3)
    assert (lo[0], hi[0]) == (3, 6)
