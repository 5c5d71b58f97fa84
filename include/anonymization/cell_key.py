"""Aggregate disclosure control by the cell key method: consistent noise instead of suppression.

Cell suppression protects one table at one date. Two successive releases of a cumulative
table can be subtracted (the difference of a cell is the records added in between, often
one or two people), and two tables sharing a margin narrow each other's hidden cells. The
cell key method (Fraser & Wooton 2006; Thompson, Broadfoot & Elazar for ABS
TableBuilder; used by Destatis for the 2022 census; implemented by sdcTools' `ptable` and
`cellKey` R packages, whose definitions this module follows) answers both by adding noise
that is a function of *which records* are in a cell:

1. Record key. Every record gets a random key once, uniform in [0, 1), kept with the record.
2. Cell key. A cell's key is the fractional part of the sum of its records' keys. The same
   set of records always gives the same cell key, whatever table, margin or release the
   cell appears in; a different set gives an unrelated one (a sum of independent uniform
   keys modulo 1 is uniform).
3. Perturbation table (ptable). For each original count i, transition probabilities
   p(i → i + v) over noises |v| <= D, found as sdcTools' `ptable::create_cnt_ptable` does
   (maximum entropy, Giessing 2016): probabilities sum to 1; the expected noise is 0 (no
   bias, whatever the distribution of counts); the noise variance is at most V (equal to V
   for counts large enough to allow it, smaller for counts near 0, as ptable reports);
   targets are >= 0; a zero cell stays zero (a zero describes nobody, and a false positive
   would bias every total); targets 1..js are never produced (with `js`, a published count
   is never a very small one); probabilities grow from the most negative noise up to noise 0
   (ptable's monotony condition). Counts >= the symmetry count (D, or D + js + 1 with js)
   share one symmetric distribution. Each row's probabilities become intervals of [0, 1),
   rounded to 8 decimals as ptable does, in increasing order of target.
4. Lookup. A cell of count i and cell key k gets the noise of the interval of row min(i,
   symmetry) that k falls in (`cellKey`'s lookup: the first interval whose upper bound is
   above k). The published count is i + noise; nothing is hidden.

Margins are cells of their own (their records, their key, their noise), so a table is not
additive: a published total generally differs from the sum of its published cells by a few
units. That is the method, not a defect: restoring additivity would move cells by more
than their own records' noise, and a cell would no longer read the same in every table.
Every cell, margin or not, stays within +-D of the truth.

What stays consistent, and what does not: a cell whose records are unchanged between two
releases is published with the same value, so a reader who subtracts two releases gets the
true difference only where nothing changed (and learns nothing: zero). A cell that gained
records has a new, independent noise, so its difference is the true difference plus the
difference of two noises, never exactly the new records. Asking again is no help: the same
records always return the same noise. What the method accepts is that a total and the sum
of its published cells are two noisy readings of one number.

Record keys (why a stored random column, not a keyed hash of the record id): record ids
are published in the record-level files, so keys derived as HMAC(secret, id) would let
whoever learns that one secret recompute every key, then every cell's noise, and remove it
from every table ever released; rotating the secret would also redraw every key and break
consistency at the rotation. A key drawn from the operating system's CSPRNG
(`draw_record_keys`) and stored in the private record store beside the record is only
known to whoever can already read the exact records, survives secret rotation, and stays
with the record for good. Its column: `private.<source>.record_key bigint NOT NULL`
(see `include.warehouse.record_store`), written when a record is first stored; a rerun of a run
must carry over the keys of records already stored, never draw them again.

Keys are 32-bit integers k (the record key is k / 2**32), so a cell key is the exact
integer sum modulo 2**32 divided by 2**32: the same in SQL (`sum(record_key) % 4294967296`), in
numpy, in any order of summation, where floating-point sums of fractions could differ in
their last bit between a cell and the same records seen as a margin. 2**32 positions
resolve every ptable interval (8 decimals) with room to spare.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

if TYPE_CHECKING:
    from include.core.source_config import CellKeyDisclosure

KEY_BITS = 32
KEY_MODULUS = 1 << KEY_BITS  # record keys are integers in [0, KEY_MODULUS)
_DECIMALS = 8  # ptable rounds its interval bounds to 8 decimals
_FLOOR = 10.0**-_DECIMALS  # ptable's lower bound on a probability (keeps the entropy defined)
_SOLVER_TOLERANCE = 1e-10  # SLSQP's ftol: converged on every setting tried (D <= 20, js < D)
_CONSTRAINT_SLACK = 1e-9  # how far a solved row may be off its constraints


class PerturbationError(ValueError):
    """No noise distribution meets the requested parameters for some count."""


def draw_record_keys(count: int) -> NDArray[np.int64]:
    """`count` record keys, uniform 32-bit integers from the OS's CSPRNG (`secrets`).

    Draw them once per record, when it is first stored, and keep them: see the module
    docstring for why they are stored rather than derived.
    """
    if count < 0:
        raise ValueError(f"cannot draw {count} record keys: give a number >= 0")
    raw = np.frombuffer(secrets.token_bytes(4 * count), dtype="<u4")
    return raw.astype(np.int64)


def cell_keys(key_sums: ArrayLike) -> NDArray[np.float64]:
    """Cell keys in [0, 1) from the integer sums (int64, >= 0) of their records' keys."""
    sums = np.asarray(key_sums, dtype=np.int64)
    return (sums % KEY_MODULUS).astype(np.float64) / KEY_MODULUS


@dataclass(frozen=True, eq=False)
class PerturbationRow:
    """The noise distribution of one original count (of every count >= it, for the last)."""

    count: int
    noise: NDArray[np.int64]  # noises in increasing order (targets count + noise)
    probabilities: NDArray[np.float64]  # differences of the rounded interval bounds
    upper: NDArray[np.float64]  # cumulative upper bounds of the intervals; the last is 1


def _row_noises(count: int, max_noise: int, js: int) -> NDArray[np.int64]:
    """Noises allowed for `count`: targets within +-D, >= 0, and not in 1..js."""
    targets = np.arange(max(count - max_noise, 0), count + max_noise + 1)
    targets = targets[(targets == 0) | (targets > js)]
    return (targets - count).astype(np.int64)


def _max_entropy(noise: NDArray[np.int64], variance: float) -> NDArray[np.float64]:
    """ptable's optimisation of one row: maximum entropy under its constraints (see module)."""
    v = noise.astype(np.float64)
    n = len(v)
    constraints: list[dict[str, Any]] = [
        {"type": "eq", "fun": lambda p: p.sum() - 1.0, "jac": lambda p: np.ones(n)},
        {"type": "eq", "fun": lambda p: v @ p, "jac": lambda p: v},
        {"type": "ineq", "fun": lambda p: variance - (v * v) @ p, "jac": lambda p: -(v * v)},
    ]
    stay = np.flatnonzero(v == 0)
    monotone = np.zeros((0, n))
    if stay.size and stay[0] > 0:  # p grows from the most negative noise up to noise 0
        z = int(stay[0])
        monotone = np.zeros((z, n))
        monotone[np.arange(z), np.arange(z)] = -1.0
        monotone[np.arange(z), np.arange(1, z + 1)] = 1.0
        constraints.append(
            {"type": "ineq", "fun": lambda p: monotone @ p, "jac": lambda p: monotone}
        )
    result = minimize(
        lambda p: float(p @ np.log(p)),
        np.full(n, 1.0 / n),
        jac=lambda p: np.log(p) + 1.0,
        bounds=[(_FLOOR, 1.0)] * n,
        constraints=constraints,
        method="SLSQP",
        options={"ftol": _SOLVER_TOLERANCE, "maxiter": 1000},
    )
    p = result.x
    feasible = (
        abs(p.sum() - 1.0) <= _CONSTRAINT_SLACK
        and abs(v @ p) <= _CONSTRAINT_SLACK
        and (v * v) @ p <= variance + _CONSTRAINT_SLACK
        and bool(np.all(monotone @ p >= -_CONSTRAINT_SLACK))
    )
    if not (result.success and feasible):
        raise PerturbationError(result.message)
    return p


@dataclass(frozen=True, eq=False)
class PerturbationTable:
    """A count ptable for maximum noise D, variance V and small-count threshold js."""

    max_noise: int
    variance: float
    js: int
    rows: tuple[PerturbationRow, ...]  # counts 0, 1, ..., symmetry

    @classmethod
    def build(cls, max_noise: int, variance: float, js: int = 0) -> PerturbationTable:
        """Solve every row as `ptable::create_cnt_ptable(D, V, js)` (default pstay, mono)."""
        if max_noise < 1 or js < 0 or not math.isfinite(variance) or variance <= 0:
            raise PerturbationError(
                f"a ptable needs max_noise >= 1, variance > 0 and js >= 0; got D={max_noise}, "
                f"V={variance}, js={js}"
            )
        symmetry = max_noise if js == 0 else max_noise + js + 1
        rows = [PerturbationRow(0, np.zeros(1, np.int64), np.ones(1), np.ones(1))]
        for count in range(1, symmetry + 1):
            noise = _row_noises(count, max_noise, js)
            try:
                solved = _max_entropy(noise, variance)
            except PerturbationError as exc:
                raise PerturbationError(
                    f"no noise distribution for a count of {count} with |noise| <= {max_noise}, "
                    f"mean 0, variance <= {variance}, avoiding 1..{js} (solver: {exc}); raise "
                    "the variance or max_noise, or lower js"
                ) from None
            upper = np.round(np.cumsum(solved), _DECIMALS)
            upper[-1] = 1.0
            probabilities = np.diff(upper, prepend=0.0)
            rows.append(PerturbationRow(count, noise, probabilities, upper))
        return cls(max_noise, float(variance), js, tuple(rows))

    @classmethod
    def from_config(cls, disclosure: CellKeyDisclosure) -> PerturbationTable:
        """The ptable a source's `disclosure: {method: cell_key, ...}` asks for."""
        return cls.build(disclosure.max_noise, disclosure.variance, disclosure.js)

    @property
    def symmetry(self) -> int:
        """The count from which every count shares the last (symmetric) row."""
        return self.rows[-1].count

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the parameters and interval bounds. Consistency across releases needs
        the very same table: a release records this, and a changed value (another solver
        version moving a bound) shows that cells near a bound may have moved."""
        text = ";".join(
            f"{row.count}:"
            + ",".join(f"{v}@{u:.{_DECIMALS}f}" for v, u in zip(row.noise, row.upper, strict=True))
            for row in self.rows
        )
        parameters = f"D={self.max_noise};V={self.variance!r};js={self.js};"
        return hashlib.sha256((parameters + text).encode()).hexdigest()

    def noise(self, counts: ArrayLike, keys: ArrayLike) -> NDArray[np.int64]:
        """The noise of each cell from its original count and its cell key in [0, 1)."""
        count = np.asarray(counts, dtype=np.int64)
        key = np.asarray(keys, dtype=np.float64)
        if count.shape != key.shape:
            raise ValueError(f"{count.size} counts but {key.size} cell keys: give one key per cell")
        if np.any(count < 0) or np.any((key < 0) | (key >= 1)):
            raise ValueError("counts must be >= 0 and cell keys in [0, 1)")
        row_of = np.minimum(count, self.symmetry)
        noise = np.zeros(count.shape, dtype=np.int64)
        for row in self.rows[1:]:
            cells = row_of == row.count
            noise[cells] = row.noise[np.searchsorted(row.upper, key[cells], side="right")]
        return noise


@dataclass(frozen=True)
class CellKeySummary:
    """What the audit ledger and the release manifest record about one perturbed table.

    Deviations are |published - original| (d1 of sdcTools' `ck_cnt_measures`); means are
    over cells with records: a zero cell is never perturbed, counting it would only dilute.
    """

    max_noise: int
    variance: float
    js: int
    ptable: str  # PerturbationTable.fingerprint
    cells: int
    records: int
    cells_changed: int
    cells_to_zero: int  # cells with records published as 0
    mean_abs_deviation: float | None  # None: no cell with records
    max_abs_deviation: int
    margins: int
    margins_changed: int
    margins_mean_abs_deviation: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"method": "cell_key", **self.__dict__}


def _mean_abs(deviation: NDArray[np.int64], original: NDArray[np.int64]) -> float | None:
    occupied = original > 0
    return float(np.abs(deviation[occupied]).mean()) if occupied.any() else None


@dataclass(frozen=True, eq=False)
class PerturbedFrame:
    """Published cells and margins (counts never missing), with what they were (private)."""

    cells: pd.DataFrame  # one row per combination of the dimensions; `count` published
    margins: pd.DataFrame  # one row per total; the summed-over dimension is missing
    original_cells: NDArray[np.int64]  # private: the true counts, in the rows' order
    original_margins: NDArray[np.int64]  # private
    table: PerturbationTable

    def summary(self) -> CellKeySummary:
        cells = self.cells["count"].to_numpy(np.int64) - self.original_cells
        margins = self.margins["count"].to_numpy(np.int64) - self.original_margins
        return CellKeySummary(
            max_noise=self.table.max_noise,
            variance=self.table.variance,
            js=self.table.js,
            ptable=self.table.fingerprint,
            cells=len(cells),
            records=int(self.original_cells.sum()),
            cells_changed=int(np.count_nonzero(cells)),
            cells_to_zero=int(((self.original_cells > 0) & (cells == -self.original_cells)).sum()),
            mean_abs_deviation=_mean_abs(cells, self.original_cells),
            max_abs_deviation=int(np.abs(np.r_[cells, margins]).max(initial=0)),
            margins=len(margins),
            margins_changed=int(np.count_nonzero(margins)),
            margins_mean_abs_deviation=_mean_abs(margins, self.original_margins),
        )


def _check_groups(groups: pd.DataFrame, dims: list[str], count: str, key_sum: str) -> None:
    missing = [c for c in [*dims, count, key_sum] if c not in groups.columns]
    if missing or len(dims) not in (1, 2):
        raise ValueError(
            f"need 1 or 2 dimension columns, a count and a key sum column in the groups; got "
            f"dimensions {dims}, count '{count}', key sum '{key_sum}', missing {missing}"
        )
    if groups[dims].isna().any().any():
        raise ValueError(f"dimension columns {dims} contain missing values; label them first")
    for column in (count, key_sum):
        if groups[column].isna().any():
            raise ValueError(f"column '{column}' has missing values; a group of no record is 0")
        if not pd.api.types.is_integer_dtype(groups[column]):
            raise ValueError(
                f"column '{column}' must hold integers (got {groups[column].dtype}): counts of "
                f"records and sums of their integer keys, reduced modulo {KEY_MODULUS} if large"
            )
        if (groups[column] < 0).any():
            first = groups.loc[groups[column] < 0, [*dims, column]].iloc[0].tolist()
            raise ValueError(f"column '{column}' has a negative value in group {first}")
    orphan = (groups[count] == 0) & (groups[key_sum] % KEY_MODULUS != 0)
    if orphan.any():
        first = groups.loc[orphan, dims].iloc[0].tolist()
        raise ValueError(
            f"group {first} counts no record but has a key sum: the keys and counts disagree"
        )


def _published(
    frame: pd.DataFrame, count: str, key_sum: str, table: PerturbationTable
) -> tuple[pd.Series, NDArray[np.int64]]:
    """The published counts of cells already summed, and their true counts."""
    original = frame[count].to_numpy(np.int64)
    noise = table.noise(original, cell_keys(frame[key_sum].to_numpy(np.int64)))
    return pd.Series(original + noise, index=frame.index, dtype=np.int64), original


def perturb_counts(
    groups: pd.DataFrame,
    dimensions: Sequence[str],
    table: PerturbationTable,
    *,
    count: str = "count",
    key_sum: str = "key_sum",
) -> PerturbedFrame:
    """Publish the counts of a 1-D or 2-D table, and its margins, by the cell key method.

    `groups` holds records grouped at the table's dimensions or finer (several rows of one
    combination add up): the dimension columns, the number of records `count` and the
    integer sum of their record keys `key_sum`. Returns one row per combination with its
    published `count`, and the margins (row totals, column totals, grand total, each
    perturbed as a cell of its own, see module doc) in the same format, the summed-over
    dimension missing. Combinations without a row are zeros, published as 0.
    """
    dims = list(dimensions)
    _check_groups(groups, dims, count, key_sum)
    frame = groups[[*dims, count]].assign(**{key_sum: groups[key_sum] % KEY_MODULUS})
    summed = frame.groupby(dims, sort=True, dropna=False)[[count, key_sum]].sum().reset_index()
    summed[key_sum] %= KEY_MODULUS
    published, original = _published(summed, count, key_sum, table)
    cells = summed[dims].assign(**{count: published})

    # One frame per kind of total, every dimension as objects (the summed-over one None), so
    # that concatenating them never turns an integer category into a float.
    totals = []
    for kept in [[dims[0]], [dims[1]]] if len(dims) == 2 else []:
        part = summed.groupby(kept, sort=True)[[count, key_sum]].sum().reset_index()
        totals.append(part.astype(dict.fromkeys(kept, object)))
    totals.append(summed[[count, key_sum]].sum().to_frame().T.astype(np.int64))
    for part in totals:
        for dim in [d for d in dims if d not in part.columns]:
            part[dim] = None
    margins = pd.concat([part[[*dims, count, key_sum]] for part in totals], ignore_index=True)
    margins[dims] = margins[dims].where(margins[dims].notna(), None)
    margins[key_sum] %= KEY_MODULUS
    margin_counts, margin_original = _published(margins, count, key_sum, table)
    margins = margins[dims].assign(**{count: margin_counts})
    return PerturbedFrame(cells, margins, original, margin_original, table)
