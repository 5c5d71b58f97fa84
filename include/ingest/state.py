"""What the ingest keeps in PostgreSQL (schema `pipeline`, DDL in include/sql/ingest.sql).

WHY: "not yet processed" must survive restarts and must not depend on a clock, and
"already ingested" must span runs, so both live in the warehouse:
- `claim_objects` lists the raw zone and takes, for a new run, every object version
  no run has taken yet; for a run that already claimed, it returns the same versions
  again (a rerun reads exactly what the first attempt read, never newer objects).
- An object is done only once its run has loaded (`include.warehouse.load` marks the run loaded
  in the load transaction). A new run first takes over every object of the source's
  runs that never loaded (killed, failed at the gate, dry runs, crashed loads): they
  become its own claims, read again, and the old run is marked `superseded`, its ids
  and quarantine counts dropped, so its rows are neither lost nor taken for
  duplicates. The load fences the other way: a superseded run can no longer load.
- the ingest itself runs in one transaction holding a per-source advisory lock:
  two runs of one source queue, the duplicate check is race-free, and a failed
  attempt leaves no ids, counts or statuses behind.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg

from include.core.zones import partition_date
from include.ingest.dedup import FirstSeen
from include.ingest.errors import IngestError
from include.ingest.ingestor import ObjectOutcome
from include.ingest.result import IngestResult

log = logging.getLogger(__name__)
DDL_PATH = Path(__file__).resolve().parent.parent / "sql" / "ingest.sql"


def _lock_id(name: str) -> int:
    """A bigint for pg_advisory_xact_lock, stable across processes (unlike hash())."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


_DDL_LOCK = _lock_id("civic-ingest/v1/ddl")


def ensure_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the ingest tables if missing (idempotent, safe to run concurrently)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        conn.execute(DDL_PATH.read_text(encoding="utf-8"))


def lock_source(conn: psycopg.Connection[Any], source: str) -> None:
    """Serialize the runs of one source until the current transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(f"civic-ingest/v1/{source}"),))


@dataclass(frozen=True)
class ClaimedObject:
    """One version of a raw object, as listed when a run claimed it."""

    key: str
    etag: str
    last_modified: datetime
    size: int


def _list_raw(client: Any, bucket: str, prefix: str) -> Iterator[ClaimedObject]:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            if not item["Key"].endswith("/"):  # "folder" markers hold no data
                yield ClaimedObject(item["Key"], item["ETag"], item["LastModified"], item["Size"])


_SELECT_CLAIMED = (
    "SELECT key, etag, last_modified, size FROM pipeline.raw_objects "
    "WHERE source = %s AND run_id = %s ORDER BY key, last_modified"
)


@dataclass(frozen=True)
class DateRange:
    """Delivery partitions (`<source>/<YYYY-MM-DD>/`) a run may take, bounds included.

    An operator's backfill of a period; a bound left as None is open. With a range,
    objects outside any date partition are left for an unrestricted run.
    """

    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise IngestError(f"date range {self.first} .. {self.last} is empty: swap the bounds")

    def admits(self, key: str, source: str) -> bool:
        day = partition_date(key, source)
        if day is None:
            return self.first is None and self.last is None
        return (self.first is None or day >= self.first) and (self.last is None or day <= self.last)


def claim_objects(
    conn: psycopg.Connection[Any],
    client: Any,
    bucket: str,
    source: str,
    run_id: str,
    date_range: DateRange | None = None,
) -> list[ClaimedObject]:
    """The object versions of `run_id` under `<source>/` in `bucket`, sorted by key.

    A new run claims every version no run took yet (within `date_range` if given); a
    rerun gets exactly what it claimed the first time, whatever the range says now.
    """
    with conn.transaction():
        lock_source(conn, source)
        row = conn.execute(
            "SELECT bucket, status, superseded_by FROM pipeline.ingest_runs "
            "WHERE source = %s AND run_id = %s",
            (source, run_id),
        ).fetchone()
        if row is not None:
            if row[1] == "superseded":
                raise IngestError(
                    f"run {run_id} of {source} was superseded by run {row[2]}, which took over "
                    "its raw objects: there is nothing left to rerun; trigger a new run instead"
                )
            if row[0] != bucket:
                raise IngestError(
                    f"run {run_id} of {source} claimed its objects in bucket {row[0]}, "
                    f"not {bucket}: rerun it with the raw bucket it was first run with"
                )
        else:
            conn.execute(
                "INSERT INTO pipeline.ingest_runs (source, run_id, bucket) VALUES (%s, %s, %s)",
                (source, run_id, bucket),
            )
            take_over_unloaded(conn, source, run_id, bucket)
            listed = [
                obj
                for obj in _list_raw(client, bucket, f"{source}/")
                if date_range is None or date_range.admits(obj.key, source)
            ]
            conn.execute(
                "INSERT INTO pipeline.raw_objects "
                "(source, bucket, key, etag, last_modified, size, run_id) "
                "SELECT %s, %s, k, e, m, s, %s "
                "FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::bigint[]) "
                "AS t(k, e, m, s) ON CONFLICT DO NOTHING",
                (
                    source,
                    bucket,
                    run_id,
                    [o.key for o in listed],
                    [o.etag for o in listed],
                    [o.last_modified for o in listed],
                    [o.size for o in listed],
                ),
            )
        rows = conn.execute(_SELECT_CLAIMED, (source, run_id)).fetchall()
    return [ClaimedObject(*row) for row in rows]


def take_over_unloaded(
    conn: psycopg.Connection[Any], source: str, run_id: str, bucket: str
) -> list[str]:
    """Make `run_id` (new, in the caller's transaction, under the source's lock) the owner of
    every object claimed in `bucket` by a run of `source` that never loaded; return those runs.

    All of a superseded run's objects move, whatever the new run's date range: they were
    claimed before, and no later run would list them again. An object that has since
    disappeared from the raw zone is then quarantined by the new run's ingest
    (`object_changed`), never silently forgotten. Runs that claimed in another raw bucket
    (the platform was pointed elsewhere since) are left as they are: their objects stay
    in flight, named by the platform's accounting, until a run reads that bucket again.
    """
    stale = [
        row[0]
        for row in conn.execute(
            "SELECT run_id FROM pipeline.ingest_runs WHERE source = %s AND run_id <> %s "
            "AND bucket = %s AND status IN ('claimed', 'ingested') ORDER BY claimed_at, run_id",
            (source, run_id, bucket),
        ).fetchall()
    ]
    if not stale:
        return []
    conn.execute(
        "UPDATE pipeline.raw_objects SET run_id = %s, status = 'claimed', reason = NULL, "
        "detail = NULL, sse = NULL, rows_read = NULL WHERE source = %s AND run_id = ANY(%s)",
        (run_id, source, stale),
    )
    for table in ("pipeline.ingested_ids", "pipeline.quarantine"):
        conn.execute(
            f"DELETE FROM {table} WHERE source = %s AND run_id = ANY(%s)",  # noqa: S608
            (source, stale),
        )
    conn.execute(
        "UPDATE pipeline.ingest_runs SET status = 'superseded', superseded_by = %s "
        "WHERE source = %s AND run_id = ANY(%s)",
        (run_id, source, stale),
    )
    log.warning(
        "run %s of %s takes over the raw objects of runs that never loaded: %s",
        run_id, source, ", ".join(stale),
    )  # fmt: skip
    return stale


class PostgresSeenIds:
    """`SeenIds` over pipeline.ingested_ids, inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection[Any], source: str, run_id: str) -> None:
        self.conn = conn
        self.source = source
        self.run_id = run_id

    def forget_run(self) -> None:
        """Drop the ids this run kept in an earlier attempt, so a rerun starts clean."""
        self.conn.execute(
            "DELETE FROM pipeline.ingested_ids WHERE source = %s AND run_id = %s",
            (self.source, self.run_id),
        )

    def register(self, ids: Sequence[str], fingerprints: Sequence[bytes]) -> dict[str, FirstSeen]:
        """Which of `ids` (distinct) were seen before, by which run and with which row; the
        others are recorded as this run's.

        WHY through COPY: as array parameters, psycopg wrote each id and fingerprint of a
        chunk in Python in the chunk writer's thread, and that thread's Python time is
        taken from the ingest's reading (one interpreter lock): 5 s of a million rows.
        COPY's binary rows are written by psycopg's C code.
        """
        with self.conn.cursor() as cur:
            cur.execute(_CHUNK_IDS_TABLE)
            cur.execute("TRUNCATE pg_temp.chunk_ids")
            with cur.copy(
                "COPY pg_temp.chunk_ids (record_id, row_hash) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "bytea"])
                for row in zip(ids, fingerprints, strict=True):
                    copy.write_row(row)
            cur.execute("ANALYZE pg_temp.chunk_ids")  # a join planned on its real size
            rows = cur.execute(
                "SELECT i.record_id, i.row_hash, i.run_id FROM pg_temp.chunk_ids c "
                "JOIN pipeline.ingested_ids i ON i.source = %s AND i.record_id = c.record_id",
                (self.source,),
            ).fetchall()
            # The ids that conflict are exactly those just read (the source is locked).
            cur.execute(
                "INSERT INTO pipeline.ingested_ids (source, record_id, row_hash, run_id) "
                "SELECT %s, record_id, row_hash, %s FROM pg_temp.chunk_ids "
                "ON CONFLICT (source, record_id) DO NOTHING",
                (self.source, self.run_id),
            )
        return {record_id: FirstSeen(bytes(digest), run) for record_id, digest, run in rows}


# A chunk's ids and fingerprints on their way to pipeline.ingested_ids (`register`): the
# session's own table, emptied for each chunk.
_CHUNK_IDS_TABLE = "CREATE TEMP TABLE IF NOT EXISTS chunk_ids (record_id text, row_hash bytea)"


def record_ingest(
    conn: psycopg.Connection[Any],
    bucket: str,
    result: IngestResult,
    outcomes: Sequence[tuple[ClaimedObject, ObjectOutcome]],
) -> None:
    """Statuses of the objects, quarantine counts and run totals, in the open transaction."""
    source, run_id = result.source, result.run_id
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE pipeline.raw_objects "
            "SET status = %s, reason = %s, detail = %s, sse = %s, rows_read = %s "
            "WHERE source = %s AND bucket = %s AND key = %s AND etag = %s AND last_modified = %s",
            [
                (o.status, o.reason, o.detail, o.sse, o.rows_read, source, bucket, c.key,
                 c.etag, c.last_modified)
                for c, o in outcomes
            ],
        )  # fmt: skip
        cur.execute(
            "DELETE FROM pipeline.quarantine WHERE run_id = %s AND source = %s", (run_id, source)
        )
        cur.executemany(
            "INSERT INTO pipeline.quarantine (run_id, source, reason, rows, objects) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(run_id, source, reason, rows, 0) for reason, rows in result.quarantined.items()]
            + [
                (run_id, source, reason, 0, objects)
                for reason, objects in result.objects_quarantined.items()
            ],
        )
        cur.execute(
            # A rerun of a loaded run stays loaded: its records are in the warehouse until its
            # own load replaces them, so its objects must not be taken over meanwhile.
            "UPDATE pipeline.ingest_runs SET ingested_at = now(), "
            "status = CASE status WHEN 'loaded' THEN 'loaded' ELSE 'ingested' END, "
            "objects_claimed = %s, objects_read = %s, objects_quarantined = %s, rows_read = %s, "
            "rows_valid = %s, rows_quarantined = %s, rows_duplicate = %s, chunk_keys = %s "
            "WHERE source = %s AND run_id = %s",
            (
                result.objects_claimed,
                result.objects_read,
                len(result.quarantined_objects),
                result.rows_read,
                result.rows_valid,
                result.rows_quarantined,
                result.rows_duplicate,
                list(result.chunk_keys),
                source,
                run_id,
            ),
        )
