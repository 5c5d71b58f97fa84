"""One ingest run of one source: claim raw objects, read them safely, record everything.

WHY this order, per object (sorted by key):
1. `require_encrypted` (a HEAD) before any byte is read: an object stored in clear
   is quarantined as `unencrypted_object` and never opened;
2. the format from the name (`.jsonl`/`.ndjson`/`.csv`, optionally `.gz`), else
   `unsupported_format`, also unread;
3. GET with If-Match on the claimed ETag, so the run reads the very version it
   claimed (a rewritten or deleted object is `object_changed`), and the GET's own
   SSE header is checked again before the body is read;
4. `check_object`: an uncompressed object over the size limit, or a gzip that does
   not decompress whole within it (read through once, keeping nothing), is
   quarantined as a whole (`object_too_large`, `unreadable_object`), its rows up to
   the failure counted, none kept;
5. the body is streamed through the reader, the validator and the chunk writer.

Rerunning a run id gives the same result: the same objects (its claims), the same
chunk and quarantine keys with the same bytes (leftovers of a longer earlier
attempt are deleted), the same rows in PostgreSQL (its ids, statuses and counts are
replaced in one transaction).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import psycopg
from botocore.exceptions import ClientError

from include.core.settings import Settings
from include.core.source_config import SourceConfig
from include.core.zones import UnencryptedObjectError, require_encrypted
from include.ingest import reasons
from include.ingest.ingestor import ObjectOutcome, RunIngestor
from include.ingest.keys import check_run_id, ingested_prefix, quarantine_prefix
from include.ingest.readers import (
    Readable,
    ReadLimits,
    check_object,
    detect_format,
    iter_records,
    open_stream,
)
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

log = logging.getLogger(__name__)

_GONE = frozenset({"404", "NoSuchKey", "NotFound", "412", "PreconditionFailed"})


def _gone(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _GONE


class _Refused(Exception):  # noqa: N818 (an outcome, not an error)
    """The claimed version cannot be read: gone, rewritten, or stored in clear."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@contextmanager
def _claimed_body(client: Any, bucket: str, claimed: ClaimedObject) -> Iterator[Readable]:
    """The body of exactly the claimed version, encrypted at rest, closed on exit."""
    try:
        response = client.get_object(Bucket=bucket, Key=claimed.key, IfMatch=claimed.etag)
    except ClientError as exc:
        if not _gone(exc):
            raise
        detail = f"rewritten or deleted since it was claimed (ETag {claimed.etag})"
        raise _Refused(reasons.OBJECT_CHANGED, detail) from None
    body = response["Body"]
    try:
        if not response.get("ServerSideEncryption"):  # replaced between HEAD and GET
            detail = f"s3://{bucket}/{claimed.key} is stored without server-side encryption"
            raise _Refused(reasons.UNENCRYPTED_OBJECT, detail)
        yield body
    finally:
        body.close()


def _ingest_object(
    client: Any, bucket: str, claimed: ClaimedObject, ingestor: RunIngestor, limits: ReadLimits
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
        rejected = check_object(
            found, claimed.size, limits, lambda: _claimed_body(client, bucket, claimed)
        )
        with (
            _claimed_body(client, bucket, claimed) as body,
            open_stream(body, found.gzip, limits) as stream,
        ):
            records = iter_records(stream, found.format, limits.line_bytes)
            outcome = ingestor.ingest_object(key, records, rejected)
    except _Refused as refused:
        sse_seen = None if refused.reason == reasons.UNENCRYPTED_OBJECT else sse
        return ingestor.refuse_object(key, refused.reason, refused.detail, sse_seen)
    if outcome.reason is not None:
        log.warning("s3://%s/%s (%s bytes stored) quarantined after %s rows: %s", bucket, key,
                    f"{claimed.size:,}", outcome.rows_read, outcome.detail)  # fmt: skip
    return dataclasses.replace(outcome, sse=sse)


def ingest_run(
    client: Any,
    dsn: str,
    settings: Settings,
    config: SourceConfig,
    run_id: str,
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
    limits = ReadLimits.from_settings(settings)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_schema(conn)
        claimed = claim_objects(conn, client, bucket, source, run_id, date_range)
        with conn.transaction():
            lock_source(conn, source)
            seen = PostgresSeenIds(conn, source, run_id)
            seen.forget_run()
            with closing(RunIngestor(config, run_id, sink, seen, settings.chunk_rows)) as ingestor:
                outcomes = [
                    (obj, _ingest_object(client, bucket, obj, ingestor, limits)) for obj in claimed
                ]
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
