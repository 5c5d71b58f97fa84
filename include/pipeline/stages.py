"""The pipeline's stages for one source and one run, each a rerunnable step.

Every stage reads its inputs from the private work zone (keys handed over by the
previous stage), writes its outputs under the run's own prefix (so a rerun
overwrites exactly what it wrote before) and appends one entry to the audit
ledger. What a stage returns is small and JSON-serializable: keys, counts and
summaries, never rows; it is what Airflow carries in XCom.

Record-level data is anonymized per run (each run's new submissions form one
k-anonymous, l-diverse batch that is never republished under another
generalization); aggregates are recomputed from all scrubbed submissions to date
and protected by cell suppression.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from include.aggregates import protect_all
from include.anonymization.kanonymity import InfeasibleGeneralizationError, anonymize
from include.anonymization.pseudonyms import pseudonym_column
from include.audit import append, verify
from include.indicators import TextCounts, record_run_indicators
from include.ingest import AccountingError, DateRange, check_accounting, ingest_run
from include.ingest.chunks import parquet_bytes
from include.ingest.store import S3Sink
from include.load import RUN_COLUMN, curated_columns, ensure_warehouse, load_run
from include.pipeline.context import PipelineContext, pipeline_version
from include.publish import (
    AggregateInput,
    CheckResult,
    RunInfo,
    build_release,
    mirror_release,
    publish_release,
    summarize_anonymization,
)
from include.validation import require_valid, validate_release
from include.zones import list_objects, sse_arguments

if TYPE_CHECKING:  # the scrubber loads spaCy and Presidio: only the scrub task pays for it
    from include.anonymization.pii import Scrubber

log = logging.getLogger(__name__)
PARQUET = "application/vnd.apache.parquet"


class StageRefusedError(RuntimeError):
    """A stage refused to go on (fail closed); the reason is also in the audit ledger."""


# -- work zone ------------------------------------------------------------------------------


def read_frame(ctx: PipelineContext, key: str) -> pd.DataFrame:
    body = ctx.s3.get_object(Bucket=ctx.settings.work_bucket, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body)).to_pandas()


def write_frame(ctx: PipelineContext, key: str, frame: pd.DataFrame) -> str:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    S3Sink(ctx.s3, ctx.settings).put(key, parquet_bytes(table), PARQUET)
    return key


def read_frames(ctx: PipelineContext, keys: Sequence[str]) -> pd.DataFrame:
    """The chunks as one frame; no chunk gives an empty frame with the scrubbed columns."""
    frames = [read_frame(ctx, key) for key in keys]
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame({name: [] for name, _ in curated_columns(ctx.config)[:-1]})


def _values(column: pd.Series) -> list[Any]:
    """A column as Python values with None for missing (pandas gives NaN for absent text)."""
    return column.astype(object).where(column.notna(), None).tolist()


def record(ctx: PipelineContext, step: str, payload: Mapping[str, Any]) -> None:
    append(ctx.dsn, ctx.run_id, step, payload, ctx.audit_key, dag_id=ctx.dag_id)


# -- 1. ingest ------------------------------------------------------------------------------


def ingest(ctx: PipelineContext, date_range: DateRange | None = None) -> dict[str, Any]:
    """New raw objects (within `date_range`'s delivery partitions, if given) → work zone."""
    result = ingest_run(
        ctx.s3, ctx.dsn, ctx.settings, ctx.config, ctx.run_id, date_range=date_range
    )
    payload = result.to_xcom()
    if date_range is not None:
        payload["date_range"] = [str(date_range.first), str(date_range.last)]
    record(ctx, "ingest", payload)
    return payload


# -- 2. scrub (one chunk; fanned out by the DAG) ---------------------------------------------


def scrub_chunk(ctx: PipelineContext, chunk_key: str, scrubber: Scrubber) -> dict[str, Any]:
    """Redact free text, drop direct identifiers (pseudonyms where configured)."""
    frame = read_frame(ctx, chunk_key)
    entities: dict[str, int] = {}
    texts = redacted = 0
    for spec in ctx.config.free_text_fields:
        results = scrubber.scrub_texts(_values(frame[spec.name]))
        frame[spec.name] = [result.text for result in results]
        for result in results:
            if result.text:
                texts += 1
                redacted += bool(result.entities)
            for entity in result.entities:
                entities[entity.type] = entities.get(entity.type, 0) + 1
    for spec in ctx.config.direct_identifiers:
        if spec.pseudonymize:
            frame[pseudonym_column(spec.name)] = [
                ctx.pseudonymizer.pseudonym(value, ctx.config.name, spec.normalize)
                for value in _values(frame[spec.name])
            ]
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
    }
    record(ctx, "scrub", summary)
    return summary


# -- 3. anonymize ---------------------------------------------------------------------------


def _earlier_scrubbed_keys(ctx: PipelineContext) -> list[str]:
    """The scrubbed chunks of every other run already in the warehouse (one listing)."""
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        rows = conn.execute(
            "SELECT run_id FROM pipeline.loaded_runs WHERE source = %s AND run_id <> %s",
            (ctx.config.name, ctx.run_id),
        ).fetchall()
    loaded = {row[0] for row in rows}
    prefix = f"runs/{ctx.config.name}/"
    keys = []
    for obj in list_objects(ctx.s3, ctx.settings.work_bucket, prefix):
        run_id, _, rest = obj.key.removeprefix(prefix).partition("/")
        if run_id in loaded and rest.startswith("scrubbed/"):
            keys.append(obj.key)
    return sorted(keys)


def anonymize_run(ctx: PipelineContext, scrubbed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """k-anonymize this run's records; protect every aggregate over all records to date.

    `scrubbed` is what the scrub tasks returned (one summary per chunk); their text
    counts travel on to the accounting stage, which publishes them as indicators.
    """
    batch = read_frames(ctx, sorted(item["output"] for item in scrubbed))
    summary: dict[str, Any] = {
        "records_in": len(batch),
        "texts": sum(int(item["texts"]) for item in scrubbed),
        "texts_redacted": sum(int(item["texts_redacted"]) for item in scrubbed),
    }
    if len(batch):
        try:
            curated, result = anonymize(ctx.config, batch)
        except InfeasibleGeneralizationError as exc:
            record(ctx, "anonymize", {"failed": str(exc), "records_in": len(batch)})
            raise StageRefusedError(f"{ctx.config.name}: no release this run: {exc}") from exc
        summary["curated_key"] = write_frame(
            ctx, f"{ctx.run_prefix}curated/part-00000.parquet", curated
        )
        summary["anonymization"] = summarize_anonymization(result)
        summary["records_published"] = len(curated)
        summary["records_suppressed"] = int(result.n_suppressed)
    else:
        # Nothing new: an empty batch still goes through validation and load (no rows),
        # and publication is skipped, so `latest` stays on the last real release.
        summary["curated_key"] = write_frame(
            ctx, f"{ctx.run_prefix}curated/part-00000.parquet", batch
        )
        summary.update(records_published=0, records_suppressed=0, anonymization=None)
    history = _earlier_scrubbed_keys(ctx)
    # Only non-empty frames are concatenated: an empty batch has no dtypes to offer, and
    # pandas would turn the earlier runs' integer columns into floats.
    parts = [frame for frame in (read_frames(ctx, history), batch) if len(frame)]
    everything = pd.concat(parts, ignore_index=True) if parts else batch
    aggregates = {}
    for protected in protect_all(everything, ctx.config):
        key = write_frame(
            ctx, f"{ctx.run_prefix}aggregates/{protected.name}.parquet", protected.cells
        )
        aggregates[protected.name] = {"key": key, "summary": protected.summary}
    summary["aggregates"] = aggregates
    summary["records_to_date"] = len(everything)
    record(ctx, "anonymize", summary)
    return summary


# -- 4. validate (fail closed) ----------------------------------------------------------------


def _aggregates(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    return {name: read_frame(ctx, item["key"]) for name, item in anonymized["aggregates"].items()}


def validate(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    curated = read_frame(ctx, anonymized["curated_key"])
    report = validate_release(ctx.config, curated, _aggregates(ctx, anonymized))
    record(ctx, "validate", report.as_dict())
    require_valid(report)
    return {"success": True, "checks": len(report.reports)}


# -- 5. load --------------------------------------------------------------------------------


def load(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    curated = read_frame(ctx, anonymized["curated_key"])
    result = load_run(ctx.dsn, ctx.config, ctx.run_id, curated, _aggregates(ctx, anonymized))
    record(ctx, "load", result.as_dict())
    return result.as_dict()


# -- 6. publish -----------------------------------------------------------------------------


def _published_records(ctx: PipelineContext) -> pd.DataFrame:
    """Every curated row to date, without the columns a release never carries."""
    withheld = {pseudonym_column(spec.name) for spec in ctx.config.direct_identifiers}
    with psycopg.connect(ctx.dsn) as conn:
        cursor = conn.execute(
            sql.SQL("SELECT * FROM {}").format(sql.Identifier("curated", ctx.config.name))
        )
        columns = [column.name for column in cursor.description or ()]
        frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    return frame.drop(columns=[c for c in columns if c in withheld or c == RUN_COLUMN])


def publish(
    ctx: PipelineContext, anonymized: Mapping[str, Any], validated: Mapping[str, Any]
) -> dict[str, Any]:
    """A new release of everything to date; skipped when the run brought no new records."""
    if not anonymized["records_in"]:
        summary = {"skipped": "no new submissions in this run; latest release unchanged"}
        record(ctx, "publish", summary)
        return summary
    aggregates = _aggregates(ctx, anonymized)
    config = ctx.config
    records = _published_records(ctx) if config.publish_record_level else None
    run = RunInfo(ctx.run_id, pipeline_version(), ctx.run_date)
    with tempfile.TemporaryDirectory(prefix="civic-release-") as staging:
        files = build_release(
            config,
            run,
            Path(staging),
            records=records,
            anonymization=anonymized.get("anonymization") if records is not None else None,
            aggregates=[
                AggregateInput(name, aggregates[name], anonymized["aggregates"][name]["summary"])
                for name in aggregates
            ],
            checks=[CheckResult("great_expectations", bool(validated.get("success")))],
        )
        published = publish_release(
            ctx.s3, ctx.settings.public_bucket, files, sse_arguments(ctx.settings)
        )
        mirrored = mirror_release(files, ctx.settings.exports_dir)
    summary = {
        "release_id": files.release_id,
        "manifest_sha256": files.manifest_sha256,
        "bucket": published.bucket,
        "prefix": published.prefix,
        "uploaded": len(published.uploaded),
        "previous_latest": published.previous_latest,
        "mirror": str(mirrored.directory),
        "records": 0 if records is None else len(records),
    }
    record(ctx, "publish", summary)
    return summary


# -- 7. ledger and accounting -----------------------------------------------------------------


def verify_ledger(ctx: PipelineContext) -> dict[str, Any]:
    result = verify(ctx.dsn, ctx.audit_key)
    result.raise_if_broken()
    return {"entries": result.count, "head": str(result.head)}


def account(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    """rows ingested = published + suppressed + quarantined + duplicates, or the run fails.

    A balanced run's figures then go to the analysts' indicator tables.
    """
    published, suppressed = (
        int(anonymized["records_published"]),
        int(anonymized["records_suppressed"]),
    )
    try:
        accounting = check_accounting(ctx.dsn, ctx.config.name, ctx.run_id, published, suppressed)
    except AccountingError as exc:
        record(ctx, "accounting", {"balanced": False, "error": str(exc)})
        raise
    payload = {**asdict(accounting), "balanced": accounting.balanced}
    record(ctx, "accounting", payload)
    record_run_indicators(
        ctx.dsn,
        accounting,
        ctx.run_date.date(),
        TextCounts(int(anonymized["texts"]), int(anonymized["texts_redacted"])),
    )
    return payload
