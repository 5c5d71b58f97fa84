"""The audit's programmes: warm-started bounds equal cold `linprog` ones, and faults fall back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from include.anonymization import linear_programs
from include.anonymization.linear_programs import (
    OPTIMAL,
    UNBOUNDED,
    BoundProgram,
    solve_lp,
)
from include.anonymization.suppression_audit import KnownBounds, TableLayout, audit_layout


def _hidden_system(
    rng: np.random.Generator, shape: tuple[int, int], share: float
) -> tuple[sparse.csr_array, np.ndarray, np.ndarray]:
    """A random count table with `share` of its entries hidden: the equations on the hidden
    entries, their right-hand sides, and the hidden entries' true values."""
    layout = TableLayout(shape)
    values = layout.extend(rng.poisson(4, size=shape).astype(float))
    hidden = rng.random(layout.size) < share
    equations = layout.equations
    a_eq = equations[:, hidden].tocsr()
    b_eq = -(equations[:, ~hidden] @ values[~hidden])
    used = np.diff(a_eq.indptr) > 0
    return a_eq[used], b_eq[used], values[hidden]


@pytest.mark.parametrize("seed", range(6))
def test_every_bound_equals_a_cold_linprog(seed: int) -> None:
    """Minima and maxima in a random order (each warm start from another optimum), with
    some entries capped as a reader's knowledge caps them, equal `linprog`'s from scratch."""
    rng = np.random.default_rng(seed)
    a_eq, b_eq, truth = _hidden_system(
        rng, (int(rng.integers(3, 25)), int(rng.integers(2, 12))), 0.5
    )
    n = a_eq.shape[1]
    lower = np.zeros(n)
    upper = np.where(rng.random(n) < 0.2, truth + rng.integers(0, 3, n), np.inf)
    program = BoundProgram(a_eq, b_eq, lower, upper)
    bounds = np.column_stack([lower, upper])
    asked = [(int(k), float(sign)) for k in rng.permutation(n) for sign in (1.0, -1.0)]
    rng.shuffle(asked)
    for variable, sign in asked:
        objective = np.zeros(n)
        objective[variable] = sign
        cold = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        warm = program.optimize(variable, sign)
        assert warm.status == cold.status, (variable, sign)
        if cold.status == OPTIMAL:
            assert warm.fun == pytest.approx(cold.fun, abs=1e-7)
            assert np.allclose(a_eq @ warm.x, b_eq, atol=1e-7)
            assert np.all(warm.x >= lower - 1e-9)
            assert np.all(warm.x <= upper + 1e-9)
        else:
            assert cold.status == UNBOUNDED
            assert warm.fun == -np.inf


class _MisdiagnosingOnce:
    """The solver, except that its first answer is "infeasible" (a misdiagnosis seen on
    large components with amounts of very different sizes, see `solve_lp`)."""

    def __init__(self, real: object) -> None:
        self._real = real
        self._answered = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def getModelStatus(self) -> object:  # noqa: N802 (HiGHS's name)
        if self._answered:
            return self._real.getModelStatus()
        self._answered = True
        return linear_programs.highs.HighsModelStatus.kInfeasible


def test_a_warm_misdiagnosis_is_asked_again_from_scratch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm solve that ends anything but optimal or unbounded (fault injected) is solved
    again by `solve_lp`, and the bound is the right one."""
    a_eq = sparse.csr_array(np.array([[1.0, 1.0]]))  # x0 + x1 == 18, both >= 0
    program = BoundProgram(a_eq, np.array([18.0]), np.zeros(2), np.full(2, np.inf))
    program._highs = _MisdiagnosingOnce(program._highs)
    cold_calls: list[object] = []
    real_solve = linear_programs.solve_lp
    monkeypatch.setattr(
        linear_programs, "solve_lp", lambda *a: cold_calls.append(a) or real_solve(*a)
    )
    answer = program.optimize(0, -1.0)
    assert (answer.status, answer.fun) == (OPTIMAL, -18.0)
    assert len(cold_calls) == 1


def test_a_solver_misdiagnosis_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS without presolve has called feasible systems infeasible (fault injected here):
    `solve_lp` asks again with presolve."""
    real = linear_programs.linprog
    calls: list[dict] = []

    def first_call_fails(*args, **kwargs):
        calls.append(kwargs["options"])
        result = real(*args, **kwargs)
        if len(calls) == 1:
            result.status = 2
        return result

    monkeypatch.setattr(linear_programs, "linprog", first_call_fails)
    a_eq = sparse.csr_array(np.array([[1.0, 1.0]]))
    result = solve_lp(np.array([-1.0, 0.0]), a_eq, np.array([18.0]), np.array([[0, np.inf]] * 2))
    assert (result.status, result.fun) == (OPTIMAL, -18.0)
    assert calls[:2] == [{"presolve": False}, {"presolve": True}]


def test_the_audit_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """CLI commands print JSON on standard output: the solver must not write a word there."""
    layout = TableLayout((3, 3))
    values = layout.extend(np.array([[3.0, 20, 40], [30, 25, 18], [7, 9, 11]]))
    hidden = np.zeros(layout.size, dtype=bool)
    hidden[[0, 1, 4, 5]] = True
    intervals = audit_layout(
        layout, values, hidden, np.zeros(layout.size), bounds=KnownBounds.nonnegative(layout.size)
    )
    assert [(iv.lower, iv.upper) for iv in intervals] == [(0, 23), (0, 23), (10, 33), (22, 45)]
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_integral_bounds_where_every_lp_optimum_is_fractional() -> None:
    """An odd cycle (x0 + x1, x1 + x2, x0 + x2 each at most 1, with slacks): the sum y of the
    three can reach 1.5 over the reals but only 1 in whole numbers."""
    a_eq = sparse.csr_array(
        np.array(
            [  # x0 x1 x2 s0 s1 s2 y
                [1, 1, 0, 1, 0, 0, 0],
                [0, 1, 1, 0, 1, 0, 0],
                [1, 0, 1, 0, 0, 1, 0],
                [1, 1, 1, 0, 0, 0, -1],
            ],
            dtype=float,
        )
    )
    b_eq = np.array([1.0, 1.0, 1.0, 0.0])
    program = BoundProgram(a_eq, b_eq, np.zeros(7), np.full(7, np.inf))
    assert program.optimize(6, -1.0).fun == pytest.approx(-1.5)
    whole = program.optimize(6, -1.0, integral=True)
    assert whole.status == OPTIMAL
    assert whole.fun == pytest.approx(-1.0)
    assert np.allclose(whole.x, np.round(whole.x))
    assert np.allclose(a_eq @ whole.x, b_eq)
    assert program.optimize(6, 1.0, integral=True).fun == pytest.approx(0.0)
