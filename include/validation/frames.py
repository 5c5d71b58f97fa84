"""The frames GX validates: the caller's table as plain Python values, plus derived columns,
in slices of a bounded number of rows.

Four preparations, each for a reason:

- the table is cut into slices of at most `rows` rows: cast to Python objects, a table
  takes several times its pandas size, and GX builds further whole-column series per
  check; a million-row run validated whole held 4 GB. Slicing bounds that by the slice
  size. Only the casting and GX's checks are sliced: the derived statistics below are
  computed over the whole table first, so a class spanning two slices is counted once;
- the index is reset before slicing, so the row numbers GX reports are positions in the
  caller's frame (whatever its index was; a slice keeps its rows' positions as labels)
  and never carry an index value;
- every column is cast to ``object``: types are then checked value by value (see
  `suites`), and row conditions and regexes see Python values whatever the pandas
  dtypes (pandas 3 `str`, nullable `Int64`, `boolean`, arrow strings);
- the statistics a suite's `meta.derived_columns` asks for are added as columns: for
  each row, the size of its equivalence class over the quasi-identifiers, and for
  l-diversity the number of distinct values of a sensitive field in the class
  (``distinct``) or e^H, the entropy-effective number of values (``entropy``). That
  turns "every class has ≥ k records" into a plain column check that points at rows.

Missing values are values of their own, as in the anonymization step: a row whose
quasi-identifier is missing is in a class like any other, and "no answer" to a sensitive
question is one more distinct value.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from include.validation.suites import DERIVED_PREFIX


def _class_codes(frame: pd.DataFrame, over: list[str]) -> np.ndarray:
    """An equivalence-class number per row (all rows share one class when `over` is empty).

    Quasi-identifiers missing from the frame are left out (the column-set check reports
    them); grouping by fewer columns only makes classes larger, never hides a failure of
    that check.
    """
    present = [column for column in over if column in frame.columns]
    if not present:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(present, dropna=False, sort=False).ngroup().to_numpy()


def _class_statistic(frame: pd.DataFrame, spec: Mapping[str, Any]) -> np.ndarray:
    codes = _class_codes(frame, list(spec["over"]))
    sizes = np.bincount(codes)
    if spec["statistic"] == "class_size":
        return sizes[codes]
    column = spec["of"]
    if column not in frame.columns:  # reported by the column-set check; fails l here too
        return np.zeros(len(frame), dtype=np.int64)
    # "No answer" is one more value, as the anonymization step counts it (encode_sensitive).
    values, _ = pd.factorize(frame[column], use_na_sentinel=False)
    per_value = pd.DataFrame({"class": codes, "value": values}).groupby(["class", "value"]).size()
    classes = per_value.index.get_level_values("class").to_numpy()
    if spec["statistic"] == "distinct":
        distinct = np.bincount(classes, minlength=len(sizes))
        return distinct[codes]
    # Entropy of the class's values: H = -Σ p ln p, reported as e^H.
    totals = np.bincount(classes, weights=per_value.to_numpy(), minlength=len(sizes))
    shares = per_value.to_numpy() / totals[classes]
    entropy = np.bincount(classes, weights=-shares * np.log(shares), minlength=len(sizes))
    return np.exp(entropy)[codes]


class TableSource(Protocol):
    """A table as the gate reads it: some columns whole (statistics, whole-table checks),
    or every column a piece at a time (the sliced checks)."""

    @property
    def columns(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def read(self, columns: Sequence[str]) -> pd.DataFrame:
        """Those columns, every row, indexed by position."""
        ...

    def pieces(self, rows: int) -> Iterator[pd.DataFrame]:
        """Every column, at most `rows` rows at a time, in order, indexed by position; an
        empty table gives one empty piece."""
        ...


class FrameSource:
    """A frame the caller holds (its index is replaced by positions)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame.reset_index(drop=True)

    @property
    def columns(self) -> list[str]:
        return list(self._frame.columns)

    def __len__(self) -> int:
        return len(self._frame)

    def read(self, columns: Sequence[str]) -> pd.DataFrame:
        return self._frame[list(columns)]

    def pieces(self, rows: int) -> Iterator[pd.DataFrame]:
        for start in range(0, max(len(self._frame), 1), rows):
            yield self._frame.iloc[start : start + rows]


class ParquetSource:
    """A Parquet file's bytes (the work zone's curated table), never converted whole.

    WHY: a million-row table read into pandas at once held ~1 GB before a check ran; read
    a row group at a time (the anonymize stage writes the curated table in row groups of
    `include.pipeline.workzone.CURATED_ROW_GROUP_ROWS`) the gate holds one piece, plus the
    few columns its statistics and whole-table checks name."""

    def __init__(self, body: bytes) -> None:
        self._file = pq.ParquetFile(io.BytesIO(body))

    @property
    def columns(self) -> list[str]:
        return list(self._file.schema_arrow.names)

    def __len__(self) -> int:
        return int(self._file.metadata.num_rows)

    def read(self, columns: Sequence[str]) -> pd.DataFrame:
        return self._file.read(columns=list(columns)).to_pandas()

    def pieces(self, rows: int) -> Iterator[pd.DataFrame]:
        start = 0
        for batch in self._file.iter_batches(batch_size=rows):
            frame = pa.Table.from_batches([batch], schema=self._file.schema_arrow).to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
        if start == 0:
            yield self._file.schema_arrow.empty_table().to_pandas()


def as_source(table: pd.DataFrame | TableSource) -> TableSource:
    return FrameSource(table) if isinstance(table, pd.DataFrame) else table


def _statistics_columns(derived: Mapping[str, Mapping[str, Any]]) -> list[str]:
    named = [column for spec in derived.values() for column in (*spec["over"], spec.get("of"))]
    return list(dict.fromkeys(str(column) for column in named if column is not None))


def validation_slices(
    table: pd.DataFrame | TableSource, derived: Mapping[str, Mapping[str, Any]], rows: int
) -> Iterator[pd.DataFrame]:
    """The caller's table in slices of at most `rows` rows cast to objects, indexed by
    position, each with its rows' derived statistics (computed over the whole table, from
    the columns they name only). An empty table gives one empty slice, so its column-level
    checks still run."""
    if rows < 1:
        raise ValueError(f"a validation slice needs at least one row, not {rows}")
    source = as_source(table)
    reserved = [column for column in source.columns if str(column).startswith(DERIVED_PREFIX)]
    if reserved:
        raise ValueError(
            f"columns {reserved} use the prefix '{DERIVED_PREFIX}', which the validation gate "
            "reserves for the statistics it computes; rename them"
        )
    statistics: dict[str, np.ndarray] = {}
    if derived:
        named = [column for column in _statistics_columns(derived) if column in source.columns]
        columns = source.read(named) if named else pd.DataFrame(index=range(len(source)))
        statistics = {name: _class_statistic(columns, spec) for name, spec in derived.items()}
        del columns
    for piece in source.pieces(rows):
        frame = piece.astype(object)
        start = int(piece.index[0]) if len(piece) else 0
        for name, values in statistics.items():
            frame[name] = values[start : start + len(piece)]
        yield frame
