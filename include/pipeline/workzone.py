"""The run's private work zone, as the stages hand data over: Parquet frames by key.

Every stage reads its inputs from the work zone (keys handed over by the previous
stage) and writes its outputs under the run's own prefix, so a rerun overwrites
exactly what it wrote before. Objects are written as the ingest writes its chunks
(`include.ingest`: one Parquet file, encrypted with the platform's SSE arguments).

WHY the work zone is never trusted for history: it holds a run's transient chunks
only. A chunk that is missing stops the stage with its key named (rerun the run: its
raw objects are read again); the published figures come from PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from include.ingest import S3Sink, parquet_bytes
from include.pipeline.context import PipelineContext
from include.pipeline.outcome import refuse
from include.warehouse.pg_tables import curated_columns

PARQUET = "application/vnd.apache.parquet"
# The curated table is written in row groups of this many rows: the validation gate reads
# it a row group at a time (`include.validation.frames.ParquetSource`).
CURATED_ROW_GROUP_ROWS = 100_000


def read_frame(
    ctx: PipelineContext,
    key: str,
    *,
    only: Sequence[str] | None = None,
    without: Sequence[str] = (),
) -> pd.DataFrame:
    """A chunk of the run's work zone, all its columns, `only` those or all but `without`
    (Parquet reads no other column: a stage that needs no free text does not hold it); a
    missing chunk stops the stage, named."""
    file = pq.ParquetFile(io.BytesIO(object_body(ctx, key)))
    names = file.schema_arrow.names if only is None else list(only)
    return file.read(columns=[name for name in names if name not in without]).to_pandas()


def object_body(ctx: PipelineContext, key: str) -> bytes:
    """An object of the run's work zone, as stored; a missing one stops the stage, named."""
    try:
        body: bytes = ctx.s3.get_object(Bucket=ctx.settings.work_bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) not in ("NoSuchKey", "404"):
            raise
        reason = (
            f"work-zone object s3://{ctx.settings.work_bucket}/{key} is missing (the S3 server "
            "lost it, or retention deleted it): nothing of this run is loaded or published; "
            "clear the whole run to read its raw objects again, or trigger a new run"
        )
        raise refuse(ctx, "work_zone", reason) from None
    return body


def write_frame(
    ctx: PipelineContext, key: str, frame: pd.DataFrame, row_group_rows: int | None = None
) -> str:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    S3Sink(ctx.s3, ctx.settings).put(key, parquet_bytes(table, row_group_rows), PARQUET)
    return key


def write_frames(
    ctx: PipelineContext,
    key: str,
    frames: Iterable[pd.DataFrame],
    schema: pa.Schema,
    row_group_rows: int,
) -> str:
    """`write_frame` for rows that come as a stream of frames (see `frames_parquet`)."""
    body = frames_parquet(frames, schema, row_group_rows)
    S3Sink(ctx.s3, ctx.settings).put(key, body, PARQUET)
    return key


def frames_parquet(frames: Iterable[pd.DataFrame], schema: pa.Schema, row_group_rows: int) -> bytes:
    """One Parquet file of `schema` from frames converted as they come, in row groups of
    `row_group_rows` rows (as `parquet_bytes` cuts them), so that the rows are never held
    whole, neither as Python objects nor as one Arrow table."""
    sink = io.BytesIO()
    pending: list[pa.Table] = []
    rows, written = 0, False
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for frame in frames:
            pending.append(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            rows += len(frame)
            while rows >= row_group_rows:
                table = pa.concat_tables(pending)
                writer.write_table(table.slice(0, row_group_rows), row_group_size=row_group_rows)
                pending, rows = [table.slice(row_group_rows)], rows - row_group_rows
                written = True
        if rows or not written:
            writer.write_table(pa.concat_tables(pending) if pending else schema.empty_table())
    return sink.getvalue()


def read_frames(
    ctx: PipelineContext, keys: Sequence[str], *, without: Sequence[str] = ()
) -> pd.DataFrame:
    """The chunks as one frame (all but the `without` columns); no chunk gives an empty
    frame with the scrubbed columns."""
    frames = [read_frame(ctx, key, without=without) for key in keys]
    if frames:
        return pd.concat(frames, ignore_index=True)
    names = [name for name, _ in curated_columns(ctx.config)[:-1] if name not in without]
    return pd.DataFrame({name: [] for name in names})


def aggregate_frames(
    ctx: PipelineContext, anonymized: Mapping[str, Any]
) -> dict[str, pd.DataFrame]:
    """The tables the anonymize stage protected and wrote, by aggregate name (what the
    validate stage checks and the load stores)."""
    return {name: read_frame(ctx, item["key"]) for name, item in anonymized["aggregates"].items()}
