"""Retention logic against the session's real S3 server."""

from __future__ import annotations

from datetime import date
from typing import Any

from include.retention import enforce_retention
from include.source_config import load_all_sources
from include.zones import list_objects, partition_date


def test_partition_date() -> None:
    assert partition_date("signalements/2026-03-01/part-1.csv", "signalements") == date(2026, 3, 1)
    assert partition_date("signalements/2026-13-01/part-1.csv", "signalements") is None
    assert partition_date("signalements/part-1.csv", "signalements") is None
    assert partition_date("consultation/2026-03-01/x", "signalements") is None


def test_expired_objects_deleted_unencrypted_reported(s3_client: Any, raw_bucket: str) -> None:
    source = load_all_sources()["signalements"]  # 90 days
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

    report = enforce_retention(s3_client, raw_bucket, source, date(2026, 11, 25))

    assert report.cutoff == "2026-08-27"
    assert report.deleted == 1200
    assert report.bytes_deleted == 1200 * 4
    assert report.kept == 2
    assert report.unencrypted == [clear]
    assert {obj.key for obj in list_objects(s3_client, raw_bucket)} == {fresh, clear}
    again = enforce_retention(s3_client, raw_bucket, source, date(2026, 11, 25))
    assert again.deleted == 0, "a rerun with the same reference date deletes nothing more"
