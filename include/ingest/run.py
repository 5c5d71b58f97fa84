"""One ingest run of one source: claim raw objects, read them safely, record everything.

WHY this order, per object (sorted by key):
1. `require_encrypted` (a HEAD) before any byte is read: an object stored in clear
   is quarantined as `unencrypted_object` and never opened;
2. the format from the name (`.jsonl`/`.ndjson`/`.csv`, optionally `.gz`), else
   `unsupported_format`, also unread;
3. GET with If-Match on the claimed ETag, so the run reads the very version it
   claimed (a rewritten or deleted object is `object_changed`), and the GET's own
   SSE header is checked again before the body is read;
4. the body is streamed through the reader, the validator and the chunk writer.

Rerunning a run id gives the same result: the same objects (its claims), the same
chunk and quarantine keys with the same bytes (leftovers of a longer earlier
attempt are deleted), the same rows in PostgreSQL (its ids, statuses and counts are
replaced in one transaction).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import psycopg
from botocore.exceptions import ClientError

from include.ingest import reasons
from include.ingest.chunks import CHUNK_ROWS
from include.ingest.ingestor import ObjectOutcome, RunIngestor
from include.ingest.keys import check_run_id, ingested_prefix, quarantine_prefix
from include.ingest.readers import detect_format, iter_records, open_stream
from include.ingest.result import IngestResult
from include.ingest.state import (
    ClaimedObject,
    DateRange,
    PostgresSeenIds,
    claim_objects,
    ensure_schema,
    lock_source,
    record_ingest,
)
from include.ingest.store import S3Sink
from include.settings import Settings
from include.source_config import SourceConfig
from include.zones import UnencryptedObjectError, require_encrypted

log = logging.getLogger(__name__)

_GONE = frozenset({"404", "NoSuchKey", "NotFound", "412", "PreconditionFailed"})


def _gone(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _GONE


def _ingest_object(
    client: Any, bucket: str, claimed: ClaimedObject, ingestor: RunIngestor
) -> ObjectOutcome:
    key = claimed.key
    try:
        sse = require_encrypted(client, bucket, key)
    except UnencryptedObjectError as exc:
        log.warning("%s", exc)
        return ingestor.refuse_object(key, reasons.UNENCRYPTED_OBJECT, str(exc))
    except ClientError as exc:
        if not _gone(exc):
            raise
        return ingestor.refuse_object(key, reasons.OBJECT_CHANGED, "deleted since it was claimed")
    found = detect_format(key)
    if found is None:
        detail = "the name does not end in .jsonl, .ndjson or .csv (optionally .gz)"
        return ingestor.refuse_object(key, reasons.UNSUPPORTED_FORMAT, detail, sse)
    try:
        response = client.get_object(Bucket=bucket, Key=key, IfMatch=claimed.etag)
    except ClientError as exc:
        if not _gone(exc):
            raise
        detail = f"rewritten or deleted since it was claimed (ETag {claimed.etag})"
        return ingestor.refuse_object(key, reasons.OBJECT_CHANGED, detail, sse)
    body = response["Body"]
    try:
        if not response.get("ServerSideEncryption"):  # replaced between HEAD and GET
            detail = f"s3://{bucket}/{key} is stored without server-side encryption"
            return ingestor.refuse_object(key, reasons.UNENCRYPTED_OBJECT, detail)
        with open_stream(body, found.gzip) as stream:
            outcome = ingestor.ingest_object(key, iter_records(stream, found.format))
    finally:
        body.close()
    if outcome.reason is not None:
        log.warning("s3://%s/%s quarantined after %s rows: %s", bucket, key, outcome.rows_read,
                    outcome.detail)  # fmt: skip
    return dataclasses.replace(outcome, sse=sse)


def ingest_run(
    client: Any,
    dsn: str,
    settings: Settings,
    config: SourceConfig,
    run_id: str,
    chunk_rows: int = CHUNK_ROWS,
    date_range: DateRange | None = None,
) -> IngestResult:
    """Ingest the raw objects of `config`'s source not taken by any run yet (or, for a
    rerun, exactly those `run_id` took) from `settings.raw_bucket` into the work bucket.

    `client` is a boto3 S3 client, `dsn` the warehouse's libpq connection string.
    Returns keys and counts only (see `IngestResult`).
    """
    check_run_id(run_id)
    source, bucket = config.name, settings.raw_bucket
    sink = S3Sink(client, settings)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_schema(conn)
        claimed = claim_objects(conn, client, bucket, source, run_id, date_range)
        with conn.transaction():
            lock_source(conn, source)
            seen = PostgresSeenIds(conn, source, run_id)
            seen.forget_run()
            ingestor = RunIngestor(config, run_id, sink, seen, chunk_rows)
            outcomes = [(obj, _ingest_object(client, bucket, obj, ingestor)) for obj in claimed]
            result = ingestor.finish()
            record_ingest(conn, bucket, result, outcomes)
    stale = sink.delete_others(
        (ingested_prefix(source, run_id), quarantine_prefix(source, run_id)),
        keep=set(result.chunk_keys) | set(result.quarantine_keys),
    )
    log.info(
        "ingest %s run %s: %d objects (%d quarantined), %d rows read, %d valid, %d quarantined, "
        "%d duplicates, %d chunks%s",
        source, run_id, result.objects_claimed, len(result.quarantined_objects), result.rows_read,
        result.rows_valid, result.rows_quarantined, result.rows_duplicate, len(result.chunk_keys),
        f", {len(stale)} stale objects of an earlier attempt deleted" if stale else "",
    )  # fmt: skip
    return result
