"""The linear programmes of the suppression audit: one solved cold, or many on one system.

The audit bounds every hidden entry of a component twice (its minimum and its maximum)
over the same equations and bounds: only the objective changes, one unit vector after
another. Solving each from scratch (`linprog`) rebuilt the model and restarted the simplex
every time: about 20 ms a programme on the linked tables of a small city's second day of
reports (components of 3,300 equations and 5,800 hidden entries), some 3,000 programmes
per run, most of the run's time.

`BoundProgram` keeps the component's model in HiGHS and changes only the objective. The
previous optimum's basis stays primal feasible (the constraints did not change), so the
primal simplex goes on from it: tens of iterations instead of hundreds or thousands.
Measured on the 3,088 programmes of that run, replayed: 22.5 s as LPs against about 65 s
solved cold; with the whole-number optima the audit asks for (see `optimize`), 52.9 s
against 81 s. On a 40 x 30 table with 726 hidden cells: 6 iterations and 0.2 ms a bound,
against 255 iterations and 2.6 ms.

WHY SciPy's own HiGHS binding rather than the `highspy` package: it is the same solver,
already pinned with SciPy, and it is silent, whereas `highspy` prints its banner on
standard output when a model is created, which would corrupt the JSON that CLI commands
print. The binding is SciPy's private module (`scipy.optimize._highspy`), the one
`linprog` calls; `tests/unit/anonymization/test_linear_programs.py` checks every result
against `linprog`, so a SciPy upgrade that changes it fails there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.optimize._highspy import _core as highs

# linprog's status codes, which the callers read.
OPTIMAL, UNBOUNDED = 0, 3
# HiGHS's simplex_strategy option.
DUAL, PRIMAL = 1, 4


def solve_lp(
    objective: NDArray[np.float64],
    a_eq: sparse.csr_array,
    b_eq: NDArray[np.float64],
    bounds: NDArray[np.float64],
) -> Any:
    """`linprog` with HiGHS, robust to its numerical misdiagnoses.

    Without presolve first: on these network LPs it is the fastest (presolve made the audit
    40 % slower, the cover LPs 5x slower: 150 ms instead of 30 on a 300 x 36 table).
    But on large components with amounts of very different sizes (1 to 1e8) the dual simplex
    without presolve has called feasible systems infeasible (seen on INSEE's linked tables:
    1,048 hidden cells, the true table meeting every equation to 3e-8). Any answer other
    than optimal or unbounded is therefore asked again with presolve, then by interior point.
    """
    attempts = (("highs", {"presolve": False}), ("highs", {"presolve": True}), ("highs-ipm", {}))
    for method, options in attempts:
        result = linprog(
            objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method=method, options=options
        )
        if result.status in (OPTIMAL, UNBOUNDED):
            break
    return result


@dataclass(frozen=True)
class Optimum:
    """An answer in `linprog`'s terms: status, the optimal point and objective value."""

    status: int
    x: NDArray[np.float64]
    fun: float
    message: str


class BoundProgram:
    """min or max of one variable at a time over a fixed system `a_eq @ x == b_eq`,
    `lower <= x <= upper`, warm-started from the previous optimum (module docstring).

    Any answer other than optimal or unbounded is asked again of `solve_lp` from scratch,
    with its presolve and interior-point fallbacks: the warm start changes the speed, never
    what the audit concludes.
    """

    def __init__(
        self,
        a_eq: sparse.csr_array,
        b_eq: NDArray[np.float64],
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
    ) -> None:
        self._a_eq, self._b_eq = a_eq, b_eq
        self._bounds = np.column_stack([lower, upper])
        self._size = a_eq.shape[1]
        self._highs = highs._Highs()
        for option, value in (
            ("output_flag", False),
            ("presolve", "off"),  # a warm start needs the model as it is (see solve_lp)
        ):
            self._highs.setOptionValue(option, value)
        model = highs.HighsLp()
        model.num_col_, model.num_row_ = self._size, a_eq.shape[0]
        model.col_cost_ = np.zeros(self._size)
        model.col_lower_ = lower
        model.col_upper_ = np.where(np.isinf(upper), highs.kHighsInf, upper)
        model.row_lower_ = model.row_upper_ = b_eq
        columns = sparse.csc_array(a_eq)
        model.a_matrix_.format_ = highs.MatrixFormat.kColwise
        model.a_matrix_.start_ = columns.indptr
        model.a_matrix_.index_ = columns.indices
        model.a_matrix_.value_ = columns.data
        self._highs.passModel(model)
        self._costed: int | None = None
        self._warm = False

    def optimize(
        self, variable: int, sign: float, *, integral: bool = False, tolerance: float = 1e-6
    ) -> Optimum:
        """min (sign=+1) or min of minus (sign=-1) of `x[variable]`: `fun` is that minimum.

        With `integral`, the optimum is a point of whole numbers (integer programming where
        the LP vertex is fractional, see `suppression_audit`). The warm primal simplex ends on
        fractional vertices more often than a cold dual one (on the linked tables measured
        above: 1,421 of 3,088 optima against 185 of those re-solved cold), so a fractional
        warm optimum is first solved again cold, and only a fractional cold one as an integer
        programme (40 ms each there, against 20 for a cold LP and 8 for a warm one).
        """
        answer = self._warm_optimum(variable, sign)
        if not integral or answer.status != OPTIMAL or _whole(answer.x, tolerance):
            return answer
        self._highs.clearSolver()  # forget the basis: the next solve is a cold dual one
        self._warm = False
        cold = self._warm_optimum(variable, sign)
        if cold.status == OPTIMAL and _whole(cold.x, tolerance):
            return cold
        objective = np.zeros(self._size)
        objective[variable] = sign
        lower, upper = self._bounds.T
        exact = milp(
            objective,
            integrality=np.ones(self._size),
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(self._a_eq, self._b_eq, self._b_eq),
        )
        return Optimum(int(exact.status), exact.x, float(exact.fun or 0.0), str(exact.message))

    def _warm_optimum(self, variable: int, sign: float) -> Optimum:
        """The optimum from the previous basis (from none at first or after `clearSolver`)."""
        if self._costed is not None and self._costed != variable:
            self._highs.changeColCost(self._costed, 0.0)
        self._highs.changeColCost(variable, sign)
        self._costed = variable
        # From nothing, the dual simplex is the faster (measured on the linked tables of two
        # days of reports, 3,300 equations: 900 iterations against 4,600 for the primal).
        # From an optimum for another objective (a primal feasible basis) the primal simplex
        # needs tens of iterations.
        self._highs.setOptionValue("simplex_strategy", PRIMAL if self._warm else DUAL)
        self._highs.run()
        self._warm = True
        status = self._highs.getModelStatus()
        if status == highs.HighsModelStatus.kOptimal:
            x = np.asarray(self._highs.getSolution().col_value, dtype=np.float64)
            return Optimum(OPTIMAL, x, float(sign * x[variable]), "optimal")
        if status == highs.HighsModelStatus.kUnbounded:
            return Optimum(UNBOUNDED, np.full(self._size, np.nan), -np.inf, "unbounded")
        objective = np.zeros(self._size)
        objective[variable] = sign
        cold = solve_lp(objective, self._a_eq, self._b_eq, self._bounds)
        return Optimum(int(cold.status), cold.x, float(cold.fun), str(cold.message))


def _whole(x: NDArray[np.float64], tolerance: float) -> bool:
    return bool(np.all(np.abs(x - np.round(x)) <= tolerance))
