"""Re-identification risk measured from a published record file alone, as an attacker sees it.

Every check upstream trusts the source config's word for which columns identify
a person. An attacker does not read the config: they group the published file
on whatever columns it holds. So this module measures, from the file's rows:
- **inferred quasi-identifiers**: a published column that is not declared one
  but (a) holds dates or times, or (b) determines a declared quasi-identifier's
  published value while being finer than it (a commune determines its
  département: the postcode's generalization protects nothing while the commune
  is published beside it). Such a column must be declared, with a hierarchy;
- **k over declared + inferred quasi-identifiers**: the smallest class an
  attacker can form with them;
- **sample uniques, SUDA-style** (the idea of sdcMicro's `suda2`, Elliot et al.
  2002): the records that are alone in the file on some combination of up to
  three published columns. A record unique on a small combination is the
  easiest to single out; `suda2` scores records by their minimal sample-unique
  combinations, this counts the records that have one, per combination size,
  and names the combinations that single out the most records.
A column whose every value is distinct (a random release id) is left out: it is
unique by construction and tells nothing about the person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

# Combinations of at most this many columns are tried (the issue's and suda2's usual bound).
MAX_COMBINATION = 3
TOP_COMBINATIONS = 5


@dataclass(frozen=True)
class InferredQuasiIdentifier:
    column: str
    reason: str


@dataclass(frozen=True)
class SampleUniques:
    """Records alone in the file on some combination of up to `max_size` columns."""

    records: int
    unique_records: int
    by_size: dict[int, int]
    worst: tuple[tuple[tuple[str, ...], int], ...]  # combinations singling out the most records

    @property
    def share(self) -> float:
        return self.unique_records / self.records if self.records else 0.0


@dataclass(frozen=True)
class AttackerView:
    declared: tuple[str, ...]
    inferred: tuple[InferredQuasiIdentifier, ...]
    k_declared: int | None
    k_with_inferred: int | None
    classes_below: dict[int, int]  # k -> classes below k over declared + inferred
    sample_uniques: SampleUniques
    columns: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "declared_quasi_identifiers": list(self.declared),
            "inferred_quasi_identifiers": [
                {"column": q.column, "reason": q.reason} for q in self.inferred
            ],
            "k_declared": self.k_declared,
            "k_with_inferred": self.k_with_inferred,
            "classes_below_k": {str(k): n for k, n in self.classes_below.items()},
            "sample_unique_records": self.sample_uniques.unique_records,
            "sample_unique_share": round(self.sample_uniques.share, 6),
            "sample_uniques_by_combination_size": {
                str(size): n for size, n in self.sample_uniques.by_size.items()
            },
            "worst_combinations": [
                {"columns": list(columns), "unique_records": n}
                for columns, n in self.sample_uniques.worst
            ],
        }


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column, missing values as a value of their own (-1)."""
    return pd.factorize(values, use_na_sentinel=True)[0]


def refines(records: pd.DataFrame, finer: str, coarser: str) -> bool:
    """Whether every value of `finer` goes with one value of `coarser`, and `finer` has more.

    A `coarser` column with a single value (a quasi-identifier generalized to "*") is
    determined by anything and refined by nothing: it is left out.
    """
    pairs = records[[finer, coarser]].dropna()
    if pairs[coarser].nunique() < 2:
        return False
    per_value = pairs.groupby(finer, sort=False)[coarser].nunique()
    return bool(per_value.max() == 1) and pairs[finer].nunique() > pairs[coarser].nunique()


def _is_time(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    sample = values.dropna().astype(str).head(50)
    if sample.empty or not sample.str.match(r"^\d{4}-\d{2}(-\d{2})?([T ]\d{2}:\d{2})?").all():
        return False
    return bool(pd.to_datetime(sample, errors="coerce", utc=True).notna().all())


def informative_columns(records: pd.DataFrame, excluded: Sequence[str] = ()) -> list[str]:
    """The columns an attacker can group on: all but `excluded` and row keys (all distinct)."""
    rows = len(records)
    return [
        str(name)
        for name in records.columns
        if name not in excluded and not (rows > 1 and records[name].nunique(dropna=False) == rows)
    ]


def infer_quasi_identifiers(
    records: pd.DataFrame, declared: Sequence[str], candidates: Sequence[str]
) -> list[InferredQuasiIdentifier]:
    """Published columns that identify like a declared quasi-identifier (module doc)."""
    inferred = []
    for column in candidates:
        if column in declared:
            continue
        if _is_time(records[column]):
            inferred.append(InferredQuasiIdentifier(column, "a date or time column"))
            continue
        finer_than = [qi for qi in declared if refines(records, column, qi)]
        if finer_than:
            inferred.append(
                InferredQuasiIdentifier(
                    column,
                    f"determines {', '.join(finer_than)} at a finer grain "
                    f"({records[column].nunique()} values)",
                )
            )
    return inferred


def smallest_class(records: pd.DataFrame, columns: Sequence[str]) -> int | None:
    if records.empty or not columns:
        return None
    return int(records.groupby(list(columns), dropna=False, sort=False).size().min())


def _alone(key: np.ndarray) -> np.ndarray:
    """Whether each key (non-negative) occurs once in `key`.

    Counted in one pass (`bincount`) where the keys are small beside their number, by
    sorting otherwise: at a million records sorting took 1.5 s of the release's checks.
    """
    if len(key) and int(key.max()) < 4 * len(key):
        return np.bincount(key)[key] == 1
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse] == 1


def sample_uniques(
    records: pd.DataFrame, columns: Sequence[str], max_size: int = MAX_COMBINATION
) -> SampleUniques:
    """Records alone on some combination of up to `max_size` of `columns` (module doc)."""
    codes = {name: _codes(records[name]).astype(np.int64) for name in columns}
    cardinality = {name: int(c.max()) + 2 for name, c in codes.items()}  # -1 (missing) → 0
    unique_any = np.zeros(len(records), dtype=bool)
    by_size: dict[int, int] = {}
    per_combination: list[tuple[tuple[str, ...], int]] = []
    for size in range(1, min(max_size, len(columns)) + 1):
        newly = np.zeros(len(records), dtype=bool)
        for combo in combinations(columns, size):
            key = np.zeros(len(records), dtype=np.int64)
            for name in combo:  # mixed radix: one integer per combination of values
                key = key * cardinality[name] + codes[name] + 1
            alone = _alone(key)
            if alone.any():
                per_combination.append((combo, int(alone.sum())))
            newly |= alone & ~unique_any
        by_size[size] = int(newly.sum())
        unique_any |= newly
    worst = tuple(sorted(per_combination, key=lambda item: (-item[1], item[0]))[:TOP_COMBINATIONS])
    return SampleUniques(len(records), int(unique_any.sum()), by_size, worst)


def attacker_view(
    records: pd.DataFrame,
    declared: Sequence[str],
    excluded: Sequence[str] = (),
    k_thresholds: Sequence[int] = (5,),
) -> AttackerView:
    """The risk figures of a published record file (module doc).

    `excluded`: columns no attacker can group on usefully (scrubbed free text).
    """
    candidates = informative_columns(records, excluded)
    inferred = infer_quasi_identifiers(records, declared, candidates)
    keys = [*declared, *(q.column for q in inferred)]
    classes = (
        records.groupby(keys, dropna=False, sort=False).size()
        if keys and not records.empty
        else pd.Series(dtype=int)
    )
    return AttackerView(
        declared=tuple(declared),
        inferred=tuple(inferred),
        k_declared=smallest_class(records, declared),
        k_with_inferred=int(classes.min()) if len(classes) else None,
        classes_below={k: int((classes < k).sum()) for k in k_thresholds},
        sample_uniques=sample_uniques(records, candidates),
        columns=tuple(candidates),
    )
