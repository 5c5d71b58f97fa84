"""The ingest stage against the test session's real PostgreSQL and S3 API server.

Every test writes its own sample (own seed, so own record ids) into a fresh raw
bucket and uses its own run ids, so tests neither see nor disturb each other's
objects, ids or counts.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import psycopg
import pyarrow.parquet as pq
import pytest

from include.core.connections import Connection
from include.core.connections import s3_client as make_s3_client
from include.core.settings import MIB, PROJECT_DIR, Settings
from include.core.source_config import SourceConfig, load_all_sources
from include.core.zones import ensure_buckets
from include.ingest import (
    AccountingError,
    DateRange,
    IngestError,
    IngestResult,
    check_accounting,
    ingest_run,
)
from include.ingest.chunks import arrow_schema
from include.ingest.keys import ingested_prefix, quarantine_prefix
from include.ingest.readers import EXCERPT_BYTES
from include.ingest.state import claim_objects, ensure_schema
from include.sample import malformed
from include.sample.writer import write_sample
from include.services.processes import free_port, port_accepts, read_pid
from include.services.s3server import S3Server
from include.services.sealed_file import generate_key

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 26)
CONFIG: SourceConfig = load_all_sources()["consultation"]


def _run_id() -> str:
    """Shaped like an Airflow run id (':' and '+' included), unique per test."""
    return f"manual__2026-03-26T08:00:00+00:00_{uuid.uuid4().hex[:8]}"


def _raw_settings(settings: Settings, raw_bucket: str, chunk_rows: int | None = None) -> Settings:
    """The session's settings on this test's raw bucket (and chunk size, if given)."""
    changes = {"raw_bucket": raw_bucket, "chunk_rows": chunk_rows or settings.chunk_rows}
    return settings.model_copy(update=changes)


def _mark_loaded(dsn: str, run_id: str) -> None:
    """What the load transaction does once the run's rows are stored: its objects are done."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE pipeline.ingest_runs SET status = 'loaded' WHERE source = %s AND run_id = %s",
            (CONFIG.name, run_id),
        )


def _fetch(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def _work_objects(client: Any, settings: Settings, run_id: str) -> dict[str, str]:
    """Key → ETag (an MD5 of the bytes) of everything a run wrote to the work bucket."""
    found = {}
    for prefix in (ingested_prefix(CONFIG.name, run_id), quarantine_prefix(CONFIG.name, run_id)):
        listing = client.list_objects_v2(Bucket=settings.work_bucket, Prefix=prefix)
        found |= {item["Key"]: item["ETag"] for item in listing.get("Contents", [])}
    return found


def _db_state(dsn: str, run_id: str) -> dict[str, list[tuple[Any, ...]]]:
    source = CONFIG.name
    return {
        "run": _fetch(
            dsn,
            "SELECT status, claimed_at, objects_claimed, objects_read, objects_quarantined, "
            "rows_read, rows_valid, rows_quarantined, rows_duplicate, chunk_keys "
            "FROM pipeline.ingest_runs WHERE source = %s AND run_id = %s",
            source, run_id,
        ),
        "objects": _fetch(
            dsn,
            "SELECT bucket, key, etag, last_modified, size, status, reason, sse, rows_read "
            "FROM pipeline.raw_objects WHERE source = %s AND run_id = %s ORDER BY key",
            source, run_id,
        ),
        "ids": _fetch(
            dsn,
            "SELECT record_id, row_hash FROM pipeline.ingested_ids "
            "WHERE source = %s AND run_id = %s ORDER BY record_id",
            source, run_id,
        ),
        "quarantine": _fetch(
            dsn,
            "SELECT reason, rows, objects FROM pipeline.quarantine "
            "WHERE source = %s AND run_id = %s ORDER BY reason",
            source, run_id,
        ),
    }  # fmt: skip


def _log_entries(client: Any, bucket: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    entries = []
    for key in keys:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        entries += [json.loads(line) for line in body.splitlines()]
    return entries


def test_a_sample_lands_as_encrypted_typed_chunks_with_every_row_accounted_for(
    s3_client: Any, raw_bucket: str, settings: Settings, warehouse_dsn: str
) -> None:
    report = write_sample(
        s3_client, raw_bucket, CONFIG, rows=3000, seed=41_001, day=DAY, rows_per_object=700
    )
    run_id = _run_id()
    work = settings.work_bucket

    result = ingest_run(
        s3_client, warehouse_dsn, _raw_settings(settings, raw_bucket, 1000), CONFIG, run_id
    )

    assert (result.objects_claimed, result.objects_read, result.rows_read) == (5, 5, 3000)
    assert result.balanced
    assert result.duplicates == {
        "duplicate_id": report.malformed[malformed.DUPLICATE_ID],
        "duplicate_row": report.malformed[malformed.DUPLICATE_ROW],
    }
    # Every other malformed row is quarantined, except CSV postcodes that were numbers and
    # kept their five digits (valid as text; see the unit tests for the row-by-row check).
    missed = report.malformed_rows - result.rows_duplicate - result.rows_quarantined
    assert 0 <= missed <= report.malformed[malformed.WRONG_TYPE]

    rows = 0
    for key in result.chunk_keys:
        response = s3_client.get_object(Bucket=work, Key=key)
        assert response["ServerSideEncryption"] == settings.sse
        table = pq.read_table(io.BytesIO(response["Body"].read()))
        assert table.schema.equals(arrow_schema(CONFIG), check_metadata=True)
        rows += table.num_rows
    assert rows == result.rows_valid
    for key in result.quarantine_keys:
        assert s3_client.head_object(Bucket=work, Key=key)["ServerSideEncryption"] == settings.sse
    logged = _log_entries(s3_client, work, result.quarantine_keys)
    assert len(logged) == result.rows_quarantined + result.rows_duplicate

    state = _db_state(warehouse_dsn, run_id)
    assert [row[:1] + row[2:] for row in state["run"]] == [
        ("ingested", 5, 5, 0, 3000, result.rows_valid, result.rows_quarantined,
         result.rows_duplicate, list(result.chunk_keys)),
    ]  # fmt: skip
    assert [(o[1], o[5], o[7], o[8]) for o in state["objects"]] == [
        (o.key, "ingested", "aws:kms", o.rows) for o in report.objects
    ]
    assert len(state["ids"]) == result.rows_valid
    assert state["quarantine"] == [(reason, n, 0) for reason, n in result.quarantined.items()]


def test_an_unencrypted_object_is_quarantined_unread_until_it_is_encrypted(
    s3_client: Any, raw_bucket: str, settings: Settings, warehouse_dsn: str
) -> None:
    report = write_sample(
        s3_client, raw_bucket, CONFIG, rows=200, seed=41_002, day=DAY, rows_per_object=100
    )
    clear_key = f"{CONFIG.name}/{DAY}/depot-manuel.jsonl"
    row = _consultation_row()
    s3_client.delete_bucket_encryption(Bucket=raw_bucket)
    s3_client.put_object(Bucket=raw_bucket, Key=clear_key, Body=json.dumps(row).encode())
    assert "ServerSideEncryption" not in s3_client.head_object(Bucket=raw_bucket, Key=clear_key)
    notes_key = f"{CONFIG.name}/{DAY}/notes.txt"
    s3_client.put_object(Bucket=raw_bucket, Key=notes_key, Body=b"x", ServerSideEncryption="AES256")
    run_settings = _raw_settings(settings, raw_bucket)

    first = _run_id()
    result = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, first)
    _mark_loaded(warehouse_dsn, first)

    assert result.rows_read == 200  # the clear object's row was never read
    assert result.quarantined_objects == (
        (clear_key, "unencrypted_object"),
        (notes_key, "unsupported_format"),
    )
    assert result.objects_quarantined == {"unencrypted_object": 1, "unsupported_format": 1}
    assert (result.objects_claimed, result.objects_read) == (len(report.objects) + 2, 2)
    state = _db_state(warehouse_dsn, first)
    assert ("unencrypted_object", 0, 1) in state["quarantine"]
    assert ("unsupported_format", 0, 1) in state["quarantine"]
    refused = [o for o in state["objects"] if o[1] == clear_key]
    assert [(o[5], o[6], o[7], o[8]) for o in refused] == [
        ("quarantined", "unencrypted_object", None, None)
    ]

    # Not retried while it stays as it is...
    unchanged = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, _run_id())
    assert unchanged.objects_claimed == 0
    _mark_loaded(warehouse_dsn, unchanged.run_id)
    # ...and taken by the next run once an operator has re-encrypted it in place. S3 keeps
    # LastModified to the second (and the ETag of an AES256/moto copy is the same MD5):
    # in real life a DAG run separates the upload from the fix; here, one second does.
    time.sleep(1.05)
    s3_client.copy_object(
        Bucket=raw_bucket, Key=clear_key, CopySource={"Bucket": raw_bucket, "Key": clear_key},
        ServerSideEncryption="aws:kms",
    )  # fmt: skip
    again = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, _run_id())
    assert (again.objects_claimed, again.objects_read, again.rows_valid) == (1, 1, 1)


def test_a_rerun_changes_nothing_and_the_next_run_takes_only_new_objects(
    s3_client: Any, raw_bucket: str, settings: Settings, warehouse_dsn: str
) -> None:
    run_settings = _raw_settings(settings, raw_bucket, 600)
    first_sample = write_sample(
        s3_client, raw_bucket, CONFIG, rows=1500, seed=41_003, day=DAY, rows_per_object=500
    )
    run_a = _run_id()
    result_a = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, run_a)
    outputs_a = _work_objects(s3_client, settings, run_a)
    state_a = _db_state(warehouse_dsn, run_a)
    assert set(outputs_a) == set(result_a.chunk_keys) | set(result_a.quarantine_keys)

    # New objects arrive: a resubmission of one of A's objects and a fresh sample.
    next_day = DAY + timedelta(days=1)
    original = first_sample.objects[1]
    resubmitted = f"{CONFIG.name}/{next_day}/renvoi-{original.key.rsplit('-', 1)[-1]}"
    s3_client.copy_object(
        Bucket=raw_bucket, Key=resubmitted, CopySource={"Bucket": raw_bucket, "Key": original.key},
        ServerSideEncryption="aws:kms",
    )  # fmt: skip
    second_sample = write_sample(
        s3_client, raw_bucket, CONFIG, rows=600, seed=41_004, day=next_day, rows_per_object=300
    )
    # A leftover of some longer earlier attempt of run A.
    stale = f"{ingested_prefix(CONFIG.name, run_a)}part-00099.parquet"
    s3_client.put_object(Bucket=settings.work_bucket, Key=stale, Body=b"stale")

    rerun = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, run_a)
    assert rerun == result_a
    assert _work_objects(s3_client, settings, run_a) == outputs_a  # same keys, same bytes
    assert _db_state(warehouse_dsn, run_a) == state_a
    _mark_loaded(warehouse_dsn, run_a)

    run_b = _run_id()
    result_b = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, run_b)
    assert result_b.objects_claimed == 1 + len(second_sample.objects)
    assert result_b.rows_read == original.rows + second_sample.rows
    entries = _log_entries(s3_client, settings.work_bucket, result_b.quarantine_keys)
    from_copy = [e for e in entries if e["object"] == resubmitted]
    # Every row of the resubmitted object is quarantined again or a duplicate of run A.
    assert len(from_copy) == original.rows
    assert {e["first_run"] for e in from_copy if "first_run" in e} == {run_a}
    ids_a = {row[0] for row in state_a["ids"]}
    ids_b = {row[0] for row in _db_state(warehouse_dsn, run_b)["ids"]}
    assert len(ids_b) == result_b.rows_valid > 0
    assert not ids_a & ids_b
    assert IngestResult.from_xcom(json.loads(json.dumps(result_b.to_xcom()))) == result_b


def test_a_run_that_never_loaded_gives_its_objects_to_the_next_run(
    s3_client: Any, raw_bucket: str, settings: Settings, warehouse_dsn: str
) -> None:
    """Killed, blocked by the gate, a crashed load: the next run reads the same rows again,
    none of them taken for a duplicate of the run that never loaded."""
    run_settings = _raw_settings(settings, raw_bucket)
    write_sample(s3_client, raw_bucket, CONFIG, rows=300, seed=41_007, day=DAY, rows_per_object=100)
    dead = _run_id()
    first = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, dead)
    assert first.rows_valid > 0

    later = _run_id()
    taken = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, later)

    assert taken.objects_claimed == first.objects_claimed
    same = ("rows_read", "rows_valid", "rows_quarantined", "rows_duplicate", "quarantined")
    assert [getattr(taken, name) for name in same] == [getattr(first, name) for name in same]
    assert _fetch(
        warehouse_dsn,
        "SELECT status, superseded_by FROM pipeline.ingest_runs WHERE source = %s AND run_id = %s",
        CONFIG.name, dead,
    ) == [("superseded", later)]  # fmt: skip
    assert _db_state(warehouse_dsn, dead)["ids"] == []
    assert _db_state(warehouse_dsn, dead)["quarantine"] == []
    assert len(_db_state(warehouse_dsn, later)["ids"]) == first.rows_valid
    with pytest.raises(IngestError, match=f"superseded by run {re.escape(later)}"):
        ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, dead)

    # Once its run has loaded, an object is done: the next run has nothing to take.
    _mark_loaded(warehouse_dsn, later)
    after = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, _run_id())
    assert (after.objects_claimed, after.rows_read) == (0, 0)
    again = ingest_run(s3_client, warehouse_dsn, run_settings, CONFIG, later)
    assert again == taken, "a rerun of a loaded run reads its own objects again"
    assert _fetch(
        warehouse_dsn,
        "SELECT status FROM pipeline.ingest_runs WHERE source = %s AND run_id = %s",
        CONFIG.name, later,
    ) == [("loaded",)], "and stays loaded until its own load replaces its rows"  # fmt: skip


def test_an_object_rewritten_after_its_claim_is_not_read(
    s3_client: Any, raw_bucket: str, settings: Settings, warehouse_dsn: str
) -> None:
    report = write_sample(
        s3_client, raw_bucket, CONFIG, rows=200, seed=41_005, day=DAY, rows_per_object=100
    )
    run_id = _run_id()
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        ensure_schema(conn)
        claimed = claim_objects(conn, s3_client, raw_bucket, CONFIG.name, run_id)
    assert [c.key for c in claimed] == [o.key for o in report.objects]
    rewritten = report.objects[0].key
    s3_client.put_object(
        Bucket=raw_bucket, Key=rewritten, Body=b"{}\n", ServerSideEncryption="AES256"
    )

    result = ingest_run(
        s3_client, warehouse_dsn, _raw_settings(settings, raw_bucket), CONFIG, run_id
    )
    assert result.quarantined_objects == ((rewritten, "object_changed"),)
    assert result.rows_read == report.objects[1].rows


def test_the_accounting_is_recorded_and_fails_when_rows_go_missing(
    s3_client: Any, raw_bucket: str, settings: Settings, warehouse_dsn: str
) -> None:
    write_sample(s3_client, raw_bucket, CONFIG, rows=300, seed=41_006, day=DAY)
    run_id = _run_id()
    result = ingest_run(
        s3_client, warehouse_dsn, _raw_settings(settings, raw_bucket), CONFIG, run_id
    )
    query = (
        "SELECT rows_read, rows_published, rows_suppressed, rows_quarantined, rows_duplicate, "
        "balanced FROM pipeline.run_accounting WHERE source = %s AND run_id = %s"
    )

    accounting = check_accounting(warehouse_dsn, CONFIG.name, run_id, result.rows_valid - 4, 4)
    assert accounting.balanced
    assert _fetch(warehouse_dsn, query, CONFIG.name, run_id) == [
        (300, result.rows_valid - 4, 4, result.rows_quarantined, result.rows_duplicate, True)
    ]

    with pytest.raises(AccountingError, match="does not balance"):
        check_accounting(warehouse_dsn, CONFIG.name, run_id, result.rows_valid - 5, 4)
    assert _fetch(warehouse_dsn, query, CONFIG.name, run_id)[0][-1] is False
    with pytest.raises(IngestError, match="no completed ingest"):
        check_accounting(warehouse_dsn, CONFIG.name, _run_id(), 0, 0)


def test_the_schema_check_does_not_wait_for_another_sources_ingest(warehouse_dsn: str) -> None:
    """Parallel ingests of two sources must not queue behind each other's transaction."""
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        ensure_schema(conn)
    with psycopg.connect(warehouse_dsn) as busy, psycopg.connect(warehouse_dsn) as other:
        busy.execute(
            "INSERT INTO pipeline.ingest_runs (source, run_id, bucket) VALUES (%s, %s, 'b')",
            (f"other_{uuid.uuid4().hex[:8]}", _run_id()),
        )
        busy.execute("UPDATE pipeline.raw_objects SET rows_read = rows_read WHERE false")
        busy.execute("INSERT INTO pipeline.ingested_ids SELECT 'x', 'y', %s, 'z' WHERE false",
                     (b"0" * 16,))  # fmt: skip
        other.autocommit = True
        other.execute("SET lock_timeout = '2s'")
        ensure_schema(other)  # raises LockNotAvailable if it needed a table lock
        busy.rollback()


def test_a_date_range_takes_only_its_delivery_partitions(
    s3_client: Any, raw_bucket: str, settings: Settings, warehouse_dsn: str
) -> None:
    settings = _raw_settings(settings, raw_bucket)
    for offset, day in enumerate((date(2026, 3, 24), DAY, date(2026, 3, 28))):
        write_sample(s3_client, raw_bucket, CONFIG, rows=40, seed=41_100 + offset, day=day)
    backfill = ingest_run(
        s3_client, warehouse_dsn, settings, CONFIG, _run_id(),
        date_range=DateRange(date(2026, 3, 25), date(2026, 3, 27)),
    )  # fmt: skip
    claimed = _fetch(
        warehouse_dsn,
        "SELECT key FROM pipeline.raw_objects WHERE source = %s AND run_id = %s",
        CONFIG.name, backfill.run_id,
    )  # fmt: skip
    assert claimed
    assert {key.split("/")[1] for (key,) in claimed} == {DAY.isoformat()}
    _mark_loaded(warehouse_dsn, backfill.run_id)
    rest = ingest_run(s3_client, warehouse_dsn, settings, CONFIG, _run_id())
    assert rest.objects_claimed == 2 * backfill.objects_claimed, "the other days stay for later"


def test_date_range_bounds() -> None:
    window = DateRange(date(2026, 3, 25), None)
    assert window.admits("consultation/2026-03-25/a.csv", "consultation")
    assert not window.admits("consultation/2026-03-24/a.csv", "consultation")
    assert not window.admits("consultation/export.csv", "consultation")
    assert DateRange().admits("consultation/export.csv", "consultation")
    with pytest.raises(IngestError, match="is empty"):
        DateRange(date(2026, 3, 2), date(2026, 3, 1))


# -- Bounded input: a decompression bomb, a huge line, broken gzips --------------------------

# The ingest of one run, in a process of its own so that its peak memory can be measured:
# argv = settings (JSON), source, run id, file for the result and the process's VmHWM
# (the high-water mark of its resident memory since it started this program; the rusage
# of a child is no measure: Linux carries the forking parent's peak into it).
_INGEST_PROCESS = """
import json, re, sys
from pathlib import Path
from include.core.connections import S3_CONN_ID, WAREHOUSE_CONN_ID, get_connection, s3_client
from include.ingest import ingest_run
from include.core.settings import Settings
from include.core.source_config import load_all_sources

settings = Settings.model_validate_json(sys.argv[1])
client = s3_client(get_connection(S3_CONN_ID))
dsn = get_connection(WAREHOUSE_CONN_ID).postgres_dsn()
result = ingest_run(client, dsn, settings, load_all_sources()[sys.argv[2]], sys.argv[3])
status = Path("/proc/self/status").read_text()
peak = int(re.search(r"^VmHWM:\\s+(\\d+) kB$", status, re.MULTILINE)[1]) * 1024
Path(sys.argv[4]).write_text(json.dumps({"result": result.to_xcom(), "peak": peak}))
"""
GB = 1_000_000_000


def _ingest_in_a_process(
    settings: Settings, run_id: str, workdir: Path
) -> tuple[IngestResult, int]:
    """The ingest's result and the peak resident memory (bytes) of the process that ran it."""
    out = workdir / "result.json"
    argv = [sys.executable, "-c", _INGEST_PROCESS, settings.model_dump_json(), CONFIG.name,
            run_id, str(out)]  # fmt: skip
    done = subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    reported = json.loads(out.read_text())
    return IngestResult.from_xcom(reported["result"]), reported["peak"]


def _peak_of_process_serving(endpoint_url: str) -> int:
    """High-water mark of resident memory (bytes) of the process listening on the S3 port."""
    port = urlsplit(endpoint_url).port
    [pid] = {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid
    }
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)[1]) * 1024


def _consultation_row() -> dict[str, Any]:
    """A valid submission of the consultation source, with an id of its own."""
    return {
        "response_id": str(uuid.uuid4()),
        "submitted_at": "2026-03-25T10:00:00+01:00",
        "age": 40, "gender": "X", "postcode": "33000", "occupation": "cadre",
        "q_transports": 2, "q_velo": 4, "q_pietons": 3,
    }  # fmt: skip


def _consultation_rows(count: int) -> bytes:
    return b"".join(json.dumps(_consultation_row()).encode() + b"\n" for _ in range(count))


def test_a_gzip_bomb_a_huge_line_and_broken_gzips_are_quarantined_in_bounded_memory(
    s3_client: Any,
    raw_bucket: str,
    settings: Settings,
    warehouse_dsn: str,
    tmp_path: Path,
) -> None:
    """The issue's bomb (a 1 MB gzip expanding to 1 GiB without a line break) and a gzip
    holding a 100 MiB line: the ingest process and the S3 server stay under 1 GB, the
    bomb is stopped at the object limit, the line is one quarantined row of which only an
    excerpt is written; empty and truncated gzips are quarantined with their rows counted."""
    prefix = f"{CONFIG.name}/{DAY}"
    # One gzip member per MiB (valid gzip, read as one stream): built in milliseconds,
    # where deflating 1 GiB in one member takes seconds.
    a_mib_of_a = gzip.compress(b"a" * MIB, compresslevel=9, mtime=0)
    bomb = gzip.compress(b'{"response_id": "', mtime=0) + a_mib_of_a * 1024
    good = _consultation_rows(50)
    huge_line = gzip.compress(b'{"opinion": "' + b"a" * (100 * MIB) + b'"}\n' + good, mtime=0)
    body = gzip.compress(_consultation_rows(500), mtime=0)
    truncated = body[: len(body) // 2]
    readable = zlib.decompressobj(wbits=31).decompress(truncated).count(b"\n")
    objects = {
        f"{prefix}/bomb.jsonl.gz": bomb,
        f"{prefix}/empty.jsonl.gz": b"",
        f"{prefix}/huge-line.jsonl.gz": huge_line,
        f"{prefix}/truncated.jsonl.gz": truncated,
    }
    for key, data in objects.items():
        s3_client.put_object(Bucket=raw_bucket, Key=key, Body=data, ServerSideEncryption="AES256")
    assert len(bomb) < 1.1 * MIB
    run_id = _run_id()

    result, peak = _ingest_in_a_process(_raw_settings(settings, raw_bucket), run_id, tmp_path)

    s3_peak = _peak_of_process_serving(s3_client.meta.endpoint_url)
    assert peak < GB, f"the ingest process peaked at {peak:,} bytes"
    assert s3_peak < GB, f"the S3 server peaked at {s3_peak:,} bytes"
    assert result.quarantined_objects == (
        (f"{prefix}/bomb.jsonl.gz", "object_too_large"),
        (f"{prefix}/empty.jsonl.gz", "unreadable_object"),
        (f"{prefix}/truncated.jsonl.gz", "unreadable_object"),
    )
    assert result.quarantined == {"line_too_long": 1, "row_of_quarantined_object": readable}
    assert (result.objects_read, result.rows_read, result.rows_valid) == (1, 51 + readable, 50)
    assert result.balanced

    state = _db_state(warehouse_dsn, run_id)
    assert state["quarantine"] == [
        ("line_too_long", 1, 0),
        ("object_too_large", 0, 1),
        ("row_of_quarantined_object", readable, 0),
        ("unreadable_object", 0, 2),
    ]
    assert [(o[1], o[4], o[5], o[6], o[8]) for o in state["objects"]] == [
        (f"{prefix}/bomb.jsonl.gz", len(bomb), "quarantined", "object_too_large", 0),
        (f"{prefix}/empty.jsonl.gz", 0, "quarantined", "unreadable_object", 0),
        (f"{prefix}/huge-line.jsonl.gz", len(huge_line), "ingested", None, 51),
        (f"{prefix}/truncated.jsonl.gz", len(truncated), "quarantined", "unreadable_object",
         readable),
    ]  # fmt: skip
    details = dict(
        _fetch(
            warehouse_dsn,
            "SELECT key, detail FROM pipeline.raw_objects WHERE source = %s AND run_id = %s",
            CONFIG.name, run_id,
        )
    )  # fmt: skip
    assert details[f"{prefix}/bomb.jsonl.gz"].startswith(
        f"a gzip of {len(bomb):,} bytes: more than 536,870,912 bytes once decompressed"
    )
    assert "the object is empty" in details[f"{prefix}/empty.jsonl.gz"]
    assert "end-of-stream marker" in details[f"{prefix}/truncated.jsonl.gz"]
    assert len(state["ids"]) == 50
    assert state["run"][0][5:9] == (51 + readable, 50, 1 + readable, 0)

    # What the work zone holds of all this: the one excerpt of the huge line.
    work = settings.work_bucket
    sizes = {
        key: s3_client.head_object(Bucket=work, Key=key)["ContentLength"]
        for key in result.quarantine_keys
    }
    assert sum(sizes.values()) < 2 * EXCERPT_BYTES
    [entry] = _log_entries(s3_client, work, result.quarantine_keys)
    assert (entry["object"], entry["line"], entry["reason"], entry["record_bytes"]) == (
        f"{prefix}/huge-line.jsonl.gz", 1, "line_too_long", 100 * MIB + 16,
    )  # fmt: skip
    assert entry["raw"] == '{"opinion": "' + "a" * (EXCERPT_BYTES - 13)


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[S3Server]:
    """An S3 server of this test's own, which it may kill without touching the session's."""
    server = S3Server(
        port=free_port(),
        run_dir=tmp_path / "run",
        data_dir=tmp_path / "s3",
        snapshot_key=generate_key(),
    )
    server.start()
    yield server
    server.stop()


def _kill_server_at(server: S3Server, key_suffix: str) -> Callable[..., None]:
    """A boto3 hook that SIGKILLs the S3 server just before the upload of the key ending in
    `key_suffix` is sent: the server dies while the ingest's chunk writer is busy with it."""

    def hook(request: Any, **_: Any) -> None:
        # boto3 retries the upload: only its first attempt finds the server alive.
        pid = read_pid(server.pid_file)
        if pid and request.method == "PUT" and urlsplit(request.url).path.endswith(key_suffix):
            os.killpg(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while port_accepts(server.port) and time.monotonic() < deadline:
                time.sleep(0.05)

    return hook


def test_an_s3_server_killed_mid_ingest_fails_the_run_closed_and_the_rerun_is_right(
    own_s3: S3Server, settings: Settings, warehouse_dsn: str
) -> None:
    endpoint = {"endpoint_url": own_s3.endpoint_url}
    client = make_s3_client(Connection("aws", login="test", password="test", extra=endpoint))
    ensure_buckets(client, settings)
    sample = write_sample(
        client, settings.raw_bucket, CONFIG, rows=2400, seed=41_020, day=DAY, rows_per_object=600
    )
    own_s3.stop()  # the raw zone is saved whole before anything is killed
    own_s3.start()
    settings = settings.model_copy(update={"chunk_rows": 500})
    run_id = _run_id()
    hook = _kill_server_at(own_s3, "/part-00002.parquet")
    client.meta.events.register("before-send.s3.PutObject", hook)

    with pytest.raises(IngestError, match=r"could not write s3://.*/part-00002\.parquet"):
        ingest_run(client, warehouse_dsn, settings, CONFIG, run_id)

    # Nothing of the run is recorded: its objects stay claimed, no id, no quarantine row.
    state = _db_state(warehouse_dsn, run_id)
    assert [(row[0], row[5]) for row in state["run"]] == [("claimed", None)]
    assert (state["ids"], state["quarantine"]) == ([], [])
    assert {o[5] for o in state["objects"]} == {"claimed"}

    client.meta.events.unregister("before-send.s3.PutObject", hook)
    assert own_s3.start().outcome == "restored"
    result = ingest_run(client, warehouse_dsn, settings, CONFIG, run_id)
    assert (result.objects_read, result.rows_read) == (len(sample.objects), sample.rows)
    assert result.balanced
    assert len(result.chunk_keys) > 2
    outputs, state = _work_objects(client, settings, run_id), _db_state(warehouse_dsn, run_id)
    assert set(outputs) == set(result.chunk_keys) | set(result.quarantine_keys)
    assert state["run"][0][0] == "ingested"
    assert len(state["ids"]) == result.rows_valid

    # And the run after that changes nothing: same result, keys, bytes and database rows.
    assert ingest_run(client, warehouse_dsn, settings, CONFIG, run_id) == result
    assert _work_objects(client, settings, run_id) == outputs
    assert _db_state(warehouse_dsn, run_id) == state
