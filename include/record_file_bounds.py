"""What a release's record-level file tells a reader about each cell of its aggregates.

A source that publishes its records and tables of counts over the same records gives a
reader two views of one population. Cell suppression that ignores the record file hides
what the file lets anyone count. `record_file_bounds` computes, for every cell of every
aggregate (margins and grand total included), the interval a reader gets from the file
alone; `include.aggregates.protect_source` hands those intervals to the linked-table
engine as known cells, so a suppression pattern passes only if no hidden cell is narrowed
below its protection by the tables and the file together.

How a reader reads a row, for one dimension (a field at an aggregate level):
- its published value is at the aggregate's level or finer (the exact value, or a label at
  a finer level of the same hierarchy): the row certainly counts in one cell;
- its value is coarser (a label at a coarser level, or "*"): the row may count in any cell
  whose values share that label.
Records the file leaves out (k-anonymity suppressed them) may count anywhere. So a cell's
lower bound is the rows certainly in it, its upper bound adds the rows possibly in it and
the records left out. A row's level is the finest level whose label equals the published
value, which is how a reader knowing the hierarchy would read it; the labels are computed
from the true values of the rows (the private record store), the same values the tables
count, so bounds and counts cannot disagree.

The intervals are a relaxation of what the file says (a reader could also use that the
rows of one coarse label sum to a known number): they never claim more knowledge than the
file gives. The joint facts are strongest where they matter most: when the file shows
every dimension at the tables' levels and nothing was suppressed, every cell is exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from include.aggregates import dimension_values
from include.anonymization.cell_system import KnownCell
from include.anonymization.hierarchies import build_generalizer
from include.source_config import (
    Aggregate,
    Dimension,
    FieldType,
    Role,
    SourceConfig,
    hierarchy_level,
)

RECORD_FILE = "record-level file"


@dataclass(frozen=True)
class _DimensionReading:
    """How the file's rows read on one dimension: each row points at one option, the cells
    it may count in (one code if the row is certain, several if its value is coarser)."""

    column: str
    rows: np.ndarray  # per file row: the index of its option
    options: tuple[tuple[Hashable, ...], ...]


def _published_level(labels: list[np.ndarray], published: np.ndarray) -> np.ndarray:
    """Per row, the finest level >= 1 whose label is the published value; 0 if none is
    (the file shows the value as collected)."""
    level = np.zeros(len(published), dtype=np.int64)
    unresolved = np.ones(len(published), dtype=bool)
    for index, level_labels in enumerate(labels, start=1):
        match = unresolved & (level_labels.astype(str) == published)
        level[match] = index
        unresolved &= ~match
    return level


def _read_dimension(
    config: SourceConfig, dim: Dimension, truth: pd.DataFrame, shown: pd.Series
) -> _DimensionReading:
    """`truth`: the file's rows at full precision (store values); `shown`: what the file
    publishes for the dimension's field, row for row."""
    codes = dimension_values(truth, config, dim).to_numpy(dtype=object)
    coarse = np.zeros(len(truth), dtype=bool)
    groups = np.zeros(len(truth), dtype=np.int64)
    sets: list[tuple[Hashable, ...]] = []
    spec = config.field(dim.field)
    if spec.role is Role.QUASI_IDENTIFIER and spec.hierarchy is not None:
        # A value missing in the store stays certain: the file shows it as missing.
        present = np.flatnonzero(truth[dim.field].notna().to_numpy())
        target = 0 if dim.level is None else hierarchy_level(spec, dim.level)
        encoded = build_generalizer(spec).encode_records(truth.iloc[present])
        labels = [encoded.generalized(level) for level in range(1, encoded.top + 1)]
        published = shown.iloc[present].astype(str).to_numpy()
        level = _published_level(labels, published)
        wide = level > target
        ids, distinct = pd.factorize(
            pd.MultiIndex.from_arrays([level[wide], published[wide]]), sort=False
        )
        coarse[present[wide]] = True
        groups[present[wide]] = ids
        present_codes = codes[present]
        for lvl, label in distinct:
            # every cell of a true value carrying that label at that level
            sets.append(tuple(pd.unique(present_codes[labels[lvl - 1] == label])))
    certain_ids, certain_codes = pd.factorize(pd.Series(codes[~coarse], dtype=object))
    rows = np.empty(len(truth), dtype=np.int64)
    rows[~coarse] = certain_ids
    rows[coarse] = len(certain_codes) + groups[coarse]
    options = tuple((code,) for code in certain_codes) + tuple(sets)
    return _DimensionReading(dim.column, rows, options)


def aggregate_bounds(
    config: SourceConfig,
    aggregate: Aggregate,
    truth: pd.DataFrame,
    published: pd.DataFrame,
    left_out: int,
    counted: set[tuple[Hashable, ...]],
) -> list[KnownCell]:
    """The known cells of one aggregate from the record file: every cell of the table,
    its margins and its grand total, each as an interval.

    `truth` and `published` hold the file's rows in the same order (full precision, then as
    published); `left_out` is the number of records the tables count but the file omits;
    `counted`: every cell (margins included, `...` for a dimension at its total) the
    table has, so that a cell no row of the file can be in is known to hold at most the
    records left out.
    """
    readings = [
        _read_dimension(config, dim, truth, published[dim.field]) for dim in aggregate.dimensions
    ]
    dims = len(readings)
    lower: dict[tuple[Hashable, ...], int] = {}
    possible: dict[tuple[Hashable, ...], int] = {}
    combos = pd.DataFrame({r.column: r.rows for r in readings}).value_counts(sort=False)
    for combo, rows in combos.items():
        chosen = combo if isinstance(combo, tuple) else (combo,)
        per_dim = [r.options[i] for r, i in zip(readings, chosen, strict=True)]
        for kept in _kept_dimensions(dims):
            options = [per_dim[d] if keep else (...,) for d, keep in enumerate(kept)]
            sure = all(len(per_dim[d]) == 1 for d, keep in enumerate(kept) if keep)
            bucket = lower if sure else possible
            for cell in itertools.product(*options):
                bucket[cell] = bucket.get(cell, 0) + int(rows)
    facts = []
    columns = [reading.column for reading in readings]
    for cell in sorted(set(lower) | set(possible) | set(counted), key=str):
        low = lower.get(cell, 0)
        high = low + possible.get(cell, 0) + left_out
        codes = {col: code for col, code in zip(columns, cell, strict=True) if code is not ...}
        facts.append(KnownCell(codes, float(low), float(high), RECORD_FILE))
    return facts


def _table_cells(
    config: SourceConfig, aggregate: Aggregate, store: pd.DataFrame
) -> set[tuple[Hashable, ...]]:
    """Every cell the aggregate counts over `store`, with its margins and total."""
    codes = pd.DataFrame(
        {dim.column: dimension_values(store, config, dim) for dim in aggregate.dimensions}
    ).drop_duplicates()
    masks = list(_kept_dimensions(len(aggregate.dimensions)))
    return {
        tuple(code if keep else ... for code, keep in zip(row, kept, strict=True))
        for row in codes.itertuples(index=False, name=None)
        for kept in masks
    }


def _kept_dimensions(dims: int) -> Iterator[tuple[bool, ...]]:
    """Which dimensions a partial cell keeps: every subset, so a cell comes with its margins
    and the grand total (a dimension summed over is written `...`)."""
    return itertools.product((False, True), repeat=dims)


def record_file_bounds(
    config: SourceConfig, store: pd.DataFrame, published: pd.DataFrame
) -> list[KnownCell]:
    """Known cells of every aggregate of the source, from the record file about to be
    published. `store`: every record the tables count, at full precision, with the id
    field; `published`: the record file's rows (labels), with the id field.

    One fact per cell: where two aggregates share a cell (a margin over a shared
    dimension), both give the same interval.
    """
    ids = config.id_field
    unknown = ~published[ids].isin(store[ids])
    if unknown.any():
        raise ValueError(
            f"{config.name}: {int(unknown.sum())} row(s) of the record file have no record in "
            f"the store (first id {published.loc[unknown, ids].iloc[0]!r}); the file and the "
            "tables must describe the same records"
        )
    store = store.copy()
    for spec in config.fields:  # records from SQL and from a batch may carry other offsets
        if spec.type is FieldType.DATETIME and spec.name in store.columns:
            store[spec.name] = pd.to_datetime(store[spec.name], utc=True)
    truth = published[[ids]].merge(store, on=ids, how="left", validate="one_to_one")
    left_out = len(store) - len(published)
    seen: dict[tuple[tuple[str, Hashable], ...], KnownCell] = {}
    for aggregate in config.aggregates:
        counted = _table_cells(config, aggregate, store)
        for fact in aggregate_bounds(config, aggregate, truth, published, left_out, counted):
            seen.setdefault(tuple(sorted(fact.cell.items(), key=str)), fact)
    return list(seen.values())


__all__ = ["RECORD_FILE", "aggregate_bounds", "record_file_bounds"]
