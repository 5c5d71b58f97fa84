"""Retention logic against the session's real S3 server and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from include.core.settings import Settings
from include.core.source_config import load_all_sources
from include.core.zones import list_objects, partition_date
from include.ingest import ingest_run
from include.retention.raw_zone import enforce_retention
from include.retention.work_zone import enforce_work_zone_retention
from include.sample.writer import write_sample

SOURCES = load_all_sources()
AS_OF = date(2026, 11, 25)  # signalements keeps 90 days: the cutoff is 2026-08-27


def test_partition_date() -> None:
    assert partition_date("signalements/2026-03-01/part-1.csv", "signalements") == date(2026, 3, 1)
    assert partition_date("signalements/2026-13-01/part-1.csv", "signalements") is None
    assert partition_date("signalements/part-1.csv", "signalements") is None
    assert partition_date("consultation/2026-03-01/x", "signalements") is None


def test_expired_objects_deleted_unencrypted_reported(s3_client: Any, raw_bucket: str) -> None:
    source = SOURCES["signalements"]  # 90 days
    # More than one DeleteObjects batch (1,000 keys) of expired objects.
    expired = [
        f"signalements/2026-01-{day:02d}/part-{i:05d}.csv" for day in (1, 2) for i in range(600)
    ]
    for key in expired:
        s3_client.put_object(
            Bucket=raw_bucket, Key=key, Body=b"a,b\n", ServerSideEncryption="AES256"
        )
    fresh = "signalements/2026-11-20/part-00000.csv"
    s3_client.put_object(Bucket=raw_bucket, Key=fresh, Body=b"a,b\n", ServerSideEncryption="AES256")
    # The bucket encrypts by default; remove that to store one object in clear.
    s3_client.delete_bucket_encryption(Bucket=raw_bucket)
    clear = "signalements/2026-11-21/part-00000.csv"
    s3_client.put_object(Bucket=raw_bucket, Key=clear, Body=b"a,b\n")

    report = enforce_retention(s3_client, raw_bucket, source, AS_OF)

    assert report.cutoff == "2026-08-27"
    assert report.deleted == 1200
    assert report.bytes_deleted == 1200 * 4
    assert report.kept == 2
    assert report.unencrypted == [clear]
    assert {obj.key for obj in list_objects(s3_client, raw_bucket)} == {fresh, clear}
    again = enforce_retention(s3_client, raw_bucket, source, AS_OF)
    assert again.deleted == 0, "a rerun with the same reference date deletes nothing more"


# -- work zone: quarantined lines and pre-scrub chunks ----------------------------------------


@dataclass(frozen=True)
class WorkRun:
    """One real ingest run in the test's bucket, dated as if it had been claimed on `claimed`."""

    run_id: str
    quarantine: frozenset[str]  # rejected rows and duplicates, as received
    ingested: frozenset[str]  # validated chunks before scrubbing
    scrubbed: frozenset[str]  # what the scrub stage would have written next to them


def _ingested_run(
    client: Any, dsn: str, settings: Settings, source: str, seed: int, claimed: date
) -> WorkRun:
    config = SOURCES[source]
    # Seeds of their own (71_xxx): a seed another test ingested gives the same submission
    # ids, which the session's shared warehouse then drops as duplicates.
    write_sample(client, settings.raw_bucket, config, rows=200, seed=seed, day=claimed)
    run_id = f"manual__{claimed.isoformat()}T06:00:00+00:00_{uuid.uuid4().hex[:8]}"
    result = ingest_run(client, dsn, settings, config, run_id)
    assert result.quarantine_keys, "the sample breaks one row in 100: some are quarantined"
    assert result.chunk_keys
    scrubbed = [key.replace("/ingested/", "/scrubbed/") for key in result.chunk_keys]
    for key in scrubbed:
        client.put_object(Bucket=settings.work_bucket, Key=key, Body=b"scrubbed")
    # The ingest dates its claim with the database's clock: move it to the day wanted. The
    # run is marked loaded, as its load would (else the next run would take it over).
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE pipeline.ingest_runs SET claimed_at = %s, status = 'loaded' "
            "WHERE source = %s AND run_id = %s",
            (datetime(claimed.year, claimed.month, claimed.day, 9, tzinfo=UTC), source, run_id),
        )
    return WorkRun(
        run_id, frozenset(result.quarantine_keys), frozenset(result.chunk_keys), frozenset(scrubbed)
    )


def _quarantine_counts(dsn: str, run_id: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT reason, rows, objects FROM pipeline.quarantine WHERE run_id = %s "
            "ORDER BY reason",
            (run_id,),
        ).fetchall()


@pytest.fixture
def work_settings(settings: Settings, raw_bucket: str) -> Settings:
    """Raw and work zones in the test's own fresh bucket: no other test's objects in sight."""
    return settings.model_copy(update={"raw_bucket": raw_bucket, "work_bucket": raw_bucket})


def test_work_zone_copies_of_expired_runs_are_deleted(
    s3_client: Any, warehouse_dsn: str, work_settings: Settings
) -> None:
    bucket, dsn = work_settings.work_bucket, warehouse_dsn
    old = _ingested_run(s3_client, dsn, work_settings, "signalements", 71_001, date(2026, 6, 1))
    # Claimed on the cutoff day itself: not older than the retention, kept (as raw objects).
    recent = _ingested_run(s3_client, dsn, work_settings, "signalements", 71_002, date(2026, 8, 27))
    # Another source, claimed long before its own cutoff too: this pass is not about it.
    other = _ingested_run(s3_client, dsn, work_settings, "consultation", 71_003, date(2026, 1, 5))
    # Quarantined lines of a run the warehouse has no record of: cannot be dated.
    unrecorded = "signalements/lost-run"
    s3_client.put_object(Bucket=bucket, Key=f"quarantine/{unrecorded}/rows-00000.jsonl", Body=b"{}")
    before = {obj.key: obj.size for obj in list_objects(s3_client, bucket)}
    counts_before = _quarantine_counts(dsn, old.run_id)

    report = enforce_work_zone_retention(s3_client, bucket, dsn, SOURCES["signalements"], AS_OF)

    gone = old.quarantine | old.ingested | old.scrubbed
    assert set(before) - {obj.key for obj in list_objects(s3_client, bucket)} == gone
    assert report.as_dict() == {
        "source": "signalements",
        "as_of": "2026-11-25",
        "cutoff": "2026-08-27",
        "runs_purged": [old.run_id],
        "deleted": {
            "quarantine": len(old.quarantine),
            "ingested": len(old.ingested),
            "scrubbed": len(old.scrubbed),
        },
        "bytes_deleted": sum(before[key] for key in gone),
        "kept": len(recent.quarantine | recent.ingested | recent.scrubbed),
        "unrecorded_runs": ["lost-run"],
    }
    assert other.quarantine | other.ingested <= set(before)
    assert _quarantine_counts(dsn, old.run_id) == counts_before != [], "the counts stay"
    raw = [key for key in before if key.startswith(("signalements/20", "consultation/20"))]
    assert raw
    assert set(raw) <= {obj.key for obj in list_objects(s3_client, bucket)}, "raw: not here"

    again = enforce_work_zone_retention(s3_client, bucket, dsn, SOURCES["signalements"], AS_OF)
    assert again.runs_purged == []
    assert again.bytes_deleted == 0
    assert again.deleted == {"quarantine": 0, "ingested": 0, "scrubbed": 0}, "nothing more"
    assert again.kept == report.kept


def test_the_reference_date_alone_moves_the_cutoff(
    s3_client: Any, warehouse_dsn: str, work_settings: Settings
) -> None:
    """The reference date alone moves the cutoff: the same runs expire a day later."""
    bucket, dsn = work_settings.work_bucket, warehouse_dsn
    run = _ingested_run(s3_client, dsn, work_settings, "consultation", 71_101, date(2026, 5, 29))
    config = SOURCES["consultation"]  # 180 days

    on_cutoff = enforce_work_zone_retention(s3_client, bucket, dsn, config, AS_OF)
    a_day_later = enforce_work_zone_retention(s3_client, bucket, dsn, config, date(2026, 11, 26))

    assert (on_cutoff.cutoff, on_cutoff.runs_purged) == ("2026-05-29", [])
    assert a_day_later.runs_purged == [run.run_id]
    left = {obj.key for obj in list_objects(s3_client, bucket, "quarantine/")}
    left |= {obj.key for obj in list_objects(s3_client, bucket, "runs/")}
    assert left == set(), "every copy of the expired run is gone"
