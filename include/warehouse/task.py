"""The load stage's task: the run's records, rows and tables into PostgreSQL.

Reads the run's scrubbed records, each with the key its aggregates were computed with,
and what the anonymize stage wrote to the work zone, and loads them in one transaction
(`include.warehouse.load`); a refusal of the load is recorded in the audit ledger. The
records and the curated rows are read and copied a slice at a time, inside that
transaction, so the load's memory does not grow with the run's size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from include.pipeline.context import PipelineContext
from include.pipeline.outcome import StageRefusedError, record, refuse
from include.pipeline.workzone import aggregate_frames, object_body, read_frame, read_frames
from include.warehouse.aggregates import RECORD_KEY
from include.warehouse.load import LoadError, load_run
from include.warehouse.record_file_bounds import RecordFileFacts

# Rows per frame handed to the load: each is made Python values to be copied, and a small
# slice of them keeps the process's heap small (freed objects seldom give memory back).
SLICE_ROWS = 10_000


def _keyed_records(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> Iterator[pd.DataFrame]:
    """The run's scrubbed records, a chunk at a time, each with the key its aggregates were
    computed with (refused at once if the anonymize result names no keys).

    WHY a chunk at a time and without the free text: the store keeps no free text, and the
    run's records held whole beside its curated rows made the load's memory grow with the
    run's size."""
    written = anonymized.get("record_keys")
    if written is None:
        raise refuse(
            ctx,
            "load",
            f"{ctx.config.name}: the anonymize result names no record keys (it predates them): "
            "nothing loaded; re-run the run from its anonymize task",
        )
    return _keyed_chunks(ctx, anonymized["scrubbed_keys"], read_frame(ctx, written["key"]))


def _keyed_chunks(
    ctx: PipelineContext, chunks: Sequence[str], keys: pd.DataFrame
) -> Iterator[pd.DataFrame]:
    """Each chunk with its records' keys; refuses (which rolls the load back: the chunks are
    read inside its transaction) unless the records and the keys match id for id. No chunk:
    one empty frame, whose columns the store still checks."""
    id_field = ctx.config.id_field
    ids = pd.Index(keys[id_field])
    drawn = keys[RECORD_KEY].to_numpy(dtype="int64")
    free_text = [spec.name for spec in ctx.config.free_text_fields]
    records = 0
    for chunk in chunks or [None]:
        frame = (
            read_frames(ctx, [], without=free_text)
            if chunk is None
            else read_frame(ctx, chunk, without=free_text)
        )
        records += len(frame)
        at = ids.get_indexer(frame[id_field]) if ids.is_unique else None
        if at is None or (at < 0).any():
            raise _unmatched(ctx, "records", len(keys))
        keyed = frame.assign(**{RECORD_KEY: drawn[at]})
        for start in range(0, max(len(keyed), 1), SLICE_ROWS):
            yield keyed.iloc[start : start + SLICE_ROWS]
    if records != len(keys):
        raise _unmatched(ctx, f"{records} records", len(keys))


def _unmatched(ctx: PipelineContext, records: str, keys: int) -> StageRefusedError:
    return refuse(
        ctx,
        "load",
        f"{ctx.config.name}: the run's {records} and its {keys} record keys do not match id "
        "for id: nothing loaded; re-run the run from its anonymize task",
    )


def _curated_batches(ctx: PipelineContext, key: str) -> Iterator[pd.DataFrame]:
    """The run's curated rows, `SLICE_ROWS` at a time (a file without rows: one empty frame,
    so that its columns are still checked)."""
    file = pq.ParquetFile(io.BytesIO(object_body(ctx, key)))
    if not file.metadata.num_rows:
        yield file.schema_arrow.empty_table().to_pandas()
    for batch in file.iter_batches(batch_size=SLICE_ROWS):
        yield batch.to_pandas()


def load(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    """Load the run: its records and curated rows streamed into one transaction, a slice
    at a time (neither is ever held whole), and its aggregates."""
    curated = _curated_batches(ctx, anonymized["curated_key"])
    records = _keyed_records(ctx, anonymized)
    written = anonymized.get("record_file_facts")  # absent: an anonymize result before them
    facts = None
    if written is not None:
        facts = RecordFileFacts.from_frame(read_frame(ctx, written["key"]))
    try:
        result = load_run(
            ctx.dsn,
            ctx.config,
            ctx.run_id,
            curated,
            aggregate_frames(ctx, anonymized),
            records=records,
            records_to_date=int(anonymized["records_to_date"]),
            record_file_facts=facts,
        )
    except LoadError as exc:
        raise refuse(ctx, "load", str(exc)) from None
    record(ctx, "load", result.as_dict())
    return result.as_dict()
