"""The scrub and anonymize stages' tasks, for one source and one run.

`scrub_chunk` (each ingested chunk, in the mapped scrub tasks) redacts free text and drops
direct identifiers (pseudonyms where configured). `anonymize_run` k-anonymizes the run's
scrubbed records as one batch that is never republished under another generalization,
and protects every aggregate over all scrubbed submissions to date (the private record
store in PostgreSQL, grouped in SQL, plus the run's own batch) by cell suppression, or
the cell key method where the source's config says so. Each record's key is drawn once,
when the run is first anonymized, and kept in the work zone until the load stores it
with the record; the run's record-file facts are counted here and stored by its load
(`include.warehouse.record_file_facts`), so no stage re-reads the history's records and
rows to protect the tables.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa

from include.anonymization.kanonymity import (
    InfeasibleGeneralizationError,
    anonymize,
    kept_rows_by_part,
)
from include.anonymization.pseudonyms import pseudonym_column
from include.core.source_config import SourceConfig
from include.pipeline.context import PipelineContext
from include.pipeline.outcome import StageRefusedError, record, refuse
from include.pipeline.workzone import (
    CURATED_ROW_GROUP_ROWS,
    read_frame,
    read_frames,
    write_frame,
    write_frames,
)
from include.publish import summarize_anonymization
from include.warehouse.aggregates import (
    RECORD_KEY,
    ProtectedAggregate,
    add_groups,
    group_records,
    protect_source,
)
from include.warehouse.joint_protection import (
    backfill_record_file_facts,
    previous_release_cells,
    record_file_knowledge,
)
from include.warehouse.load import ensure_warehouse
from include.warehouse.record_file_bounds import (
    RecordFileFacts,
    RecordFileFactsError,
    count_record_file,
)
from include.warehouse.record_file_facts import needs_facts
from include.warehouse.record_store import (
    ensure_store,
    keys_for_records,
    record_count,
    store_groups,
)

if TYPE_CHECKING:  # the scrubber loads spaCy and Presidio: only the scrub task pays for it
    from include.anonymization.pii import Scrubber


def _values(column: pd.Series) -> list[Any]:
    """A column as Python values with None for missing (pandas gives NaN for absent text)."""
    return column.astype(object).where(column.notna(), None).tolist()


def scrub_chunk(ctx: PipelineContext, chunk_key: str, scrubber: Scrubber) -> dict[str, Any]:
    """Redact free text, drop direct identifiers (pseudonyms where configured)."""
    frame = read_frame(ctx, chunk_key)
    entities: dict[str, int] = {}
    texts = redacted = 0
    ready_before, started = scrubber.startup_seconds, time.perf_counter()
    for spec in ctx.config.free_text_fields:
        results = scrubber.scrub_texts(_values(frame[spec.name]))
        frame[spec.name] = [result.text for result in results]
        for result in results:
            if result.text:
                texts += 1
                redacted += bool(result.entities)
            for entity in result.entities:
                entities[entity.type] = entities.get(entity.type, 0) + 1
    # The workers start with the first batch: their start-up is not scrubbing time.
    scrubbing = time.perf_counter() - started - (scrubber.startup_seconds - ready_before)
    for spec in ctx.config.direct_identifiers:
        if spec.pseudonymize:
            frame[pseudonym_column(spec.name)] = ctx.pseudonymizer.pseudonyms(
                _values(frame[spec.name]), ctx.config.name, spec.normalize
            )
        frame = frame.drop(columns=spec.name)
    key = chunk_key.replace("/ingested/", "/scrubbed/")
    write_frame(ctx, key, frame)
    summary = {
        "input": chunk_key,
        "output": key,
        "rows": len(frame),
        "texts": texts,
        "texts_redacted": redacted,
        "entities": dict(sorted(entities.items())),
        "pseudonym_key_id": ctx.pseudonymizer.key_id,
        "seconds": {
            "scrubber_startup": round(scrubber.uncounted_startup_seconds(), 3),
            "scrubbing": round(scrubbing, 3),
        },
    }
    record(ctx, "scrub", summary)
    return summary


def _batch_facts(
    config: SourceConfig, batch: pd.DataFrame, curated: pd.DataFrame, kept: np.ndarray
) -> RecordFileFacts | None:
    """The run's own record-file facts: its records and its record-level rows, which are
    the `kept` rows of the batch in order (None when the source needs none)."""
    if not needs_facts(config):
        return None
    return count_record_file(config, batch, curated, published_rows=np.flatnonzero(kept))


def _protect_to_date(
    ctx: PipelineContext, batch: pd.DataFrame, facts: RecordFileFacts | None
) -> tuple[list[ProtectedAggregate], int]:
    """Every aggregate over the stored records of the other runs plus `batch` (the run's
    own records, which its load will store), protected jointly with what the record file
    will tell (the other runs' stored facts plus the run's own `facts`), and how many
    records that is."""
    config = ctx.config
    backfill_record_file_facts(ctx.dsn, config, exclude_run=ctx.run_id)
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        ensure_store(conn, config)
        groups = {
            aggregate.name: add_groups(
                store_groups(conn, config, aggregate, exclude_run=ctx.run_id),
                group_records(batch, config, aggregate),
            )
            for aggregate in config.aggregates
        }
        stored = record_count(conn, config, exclude_run=ctx.run_id)
        try:
            known = record_file_knowledge(conn, config, groups, ctx.run_id, facts)
        except RecordFileFactsError as exc:
            raise refuse(ctx, "anonymize", f"{exc}: nothing of this run is written") from None
        previous = previous_release_cells(conn, config, ctx.run_id)
    return protect_source(groups, config, known, previous), stored + len(batch)


def _record_keys(ctx: PipelineContext, batch: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The batch's record keys (id + key, in the batch's order), written to the run's work
    zone for the load, and what the ledger says of them.

    A record the store already holds keeps its key (a rerun of a run its first attempt
    loaded); the others get one from the CSPRNG, here and only here."""
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        ensure_store(conn, ctx.config)
        keys, carried = keys_for_records(conn, ctx.config, ctx.run_id, batch[ctx.config.id_field])
    frame = pd.DataFrame({ctx.config.id_field: batch[ctx.config.id_field], RECORD_KEY: keys})
    key = write_frame(ctx, f"{ctx.run_prefix}record_keys.parquet", frame.reset_index(drop=True))
    return frame, {"key": key, "carried_over": carried, "drawn": len(frame) - carried}


def anonymize_run(ctx: PipelineContext, scrubbed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """k-anonymize this run's records; protect every aggregate over all records to date.

    `scrubbed` is what the scrub tasks returned (one summary per chunk); their text
    counts travel on to the accounting stage, which publishes them as indicators.
    """
    scrubbed_keys = sorted(item["output"] for item in scrubbed)
    # The free text is no quasi-identifier and no aggregate's dimension: it is read back
    # a chunk at a time when the published rows are written, never held whole.
    free_text = [spec.name for spec in ctx.config.free_text_fields]
    batch = read_frames(ctx, scrubbed_keys, without=free_text)
    summary: dict[str, Any] = {
        "records_in": len(batch),
        "scrubbed_keys": scrubbed_keys,
        "texts": sum(int(item["texts"]) for item in scrubbed),
        "texts_redacted": sum(int(item["texts_redacted"]) for item in scrubbed),
    }
    curated_key = f"{ctx.run_prefix}curated/part-00000.parquet"
    if len(batch):
        try:
            curated, result = anonymize(ctx.config, batch)  # the published rows, without text
        except InfeasibleGeneralizationError as exc:
            record(ctx, "anonymize", {"failed": str(exc), "records_in": len(batch)})
            raise StageRefusedError(f"{ctx.config.name}: no release this run: {exc}") from exc
        texts = (read_frame(ctx, key, only=free_text) for key in scrubbed_keys)
        schema = pa.Schema.from_pandas(curated, preserve_index=False)
        for name in free_text:
            schema = schema.append(pa.field(name, pa.string()))
        rows = kept_rows_by_part(curated, texts, result.suppressed)
        summary["curated_key"] = write_frames(
            ctx, curated_key, rows, schema, CURATED_ROW_GROUP_ROWS
        )
        kept = ~result.suppressed
        outcome = {
            "anonymization": summarize_anonymization(result),
            "records_published": len(curated),
            "records_suppressed": int(result.n_suppressed),
        }
    else:
        # Nothing new: an empty batch still goes through validation and load (no rows),
        # and publication is skipped, so `latest` stays on the last real release.
        curated = read_frames(ctx, scrubbed_keys)  # no rows: every column, free text too
        summary["curated_key"] = write_frame(ctx, curated_key, curated, CURATED_ROW_GROUP_ROWS)
        kept = np.ones(0, dtype=bool)
        outcome = {"records_published": 0, "records_suppressed": 0, "anonymization": None}
    summary.update(outcome)
    keys, summary["record_keys"] = _record_keys(ctx, batch)
    facts = _batch_facts(ctx.config, batch, curated, kept)
    summary["record_file_facts"] = None
    if facts is not None:
        key = write_frame(ctx, f"{ctx.run_prefix}record_file_facts.parquet", facts.to_frame())
        summary["record_file_facts"] = {
            "key": key,
            "records": facts.records,
            "left_out": facts.left_out,
        }
    protected, to_date = _protect_to_date(
        ctx, batch.assign(**{RECORD_KEY: keys[RECORD_KEY]}), facts
    )
    aggregates = {}
    for item in protected:
        key = write_frame(ctx, f"{ctx.run_prefix}aggregates/{item.name}.parquet", item.cells)
        aggregates[item.name] = {"key": key, "summary": item.summary}
    summary["aggregates"] = aggregates
    summary["records_to_date"] = to_date
    record(ctx, "anonymize", summary)
    return summary
