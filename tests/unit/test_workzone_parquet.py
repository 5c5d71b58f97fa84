"""Rows written as a stream of frames read back as the whole frame written at once."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.ingest import parquet_bytes
from include.pipeline.workzone import frames_parquet


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": [f"r{seed}-{i}" for i in range(rows)],
            "age": rng.integers(15, 99, rows),
            "at": pd.Timestamp("2026-03-26", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 9e5, rows), "s"),
            "commune": pd.Series(["Saint-Étienne", None, "L'Haÿ-les-Roses"] * rows, dtype=object)[
                :rows
            ],
        }
    )
    frame["description"] = [None if i % 7 == 0 else f"texte {i} é’ « »" for i in range(rows)]
    return frame


def _read(body: bytes) -> tuple[pd.DataFrame, list[int]]:
    file = pq.ParquetFile(io.BytesIO(body))
    sizes = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
    return file.read().to_pandas(), sizes


def _schema(frame: pd.DataFrame) -> pa.Schema:
    """As the anonymize stage builds it: the published columns, then the free text."""
    schema = pa.Schema.from_pandas(frame.drop(columns="description"), preserve_index=False)
    return schema.append(pa.field("description", pa.string()))


@pytest.mark.parametrize("pieces", [[250], [0, 10, 90, 0, 150], [100, 100, 50], [33] * 7 + [19]])
def test_a_stream_of_frames_reads_back_as_the_whole(pieces: list[int]) -> None:
    parts = [_frame(rows, seed) for seed, rows in enumerate(pieces)]
    whole = pd.concat(parts, ignore_index=True)
    streamed, sizes = _read(frames_parquet(iter(parts), _schema(whole), row_group_rows=100))
    at_once, expected_sizes = _read(
        parquet_bytes(pa.Table.from_pandas(whole, preserve_index=False), 100)
    )
    pd.testing.assert_frame_equal(streamed, at_once)
    assert streamed["id"].tolist() == whole["id"].tolist()
    assert sizes == expected_sizes == [100, 100, 50]


def test_no_rows_give_a_readable_file_with_every_column() -> None:
    schema = _schema(_frame(3, 0))
    for frames in ([], [_frame(0, 1)]):
        read, _ = _read(frames_parquet(iter(frames), schema, row_group_rows=100))
        assert read.empty
        assert list(read.columns) == schema.names


def test_a_frame_of_another_shape_is_refused() -> None:
    schema = _schema(_frame(3, 0))
    with pytest.raises((KeyError, pa.ArrowInvalid, pa.ArrowTypeError)):
        frames_parquet(iter([_frame(3, 0).drop(columns="age")]), schema, row_group_rows=100)
