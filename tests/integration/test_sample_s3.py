"""The sample writer against the test session's real S3 API server (moto)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from include.core.source_config import load_all_sources
from include.sample.malformed import BROKEN_UTF8
from include.sample.writer import write_sample
from tests.unit.sample.readback import parse_object

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 15)


def _keys(client: Any, bucket: str) -> dict[str, str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix="consultation/2026-03-15/")
    return {item["Key"]: item["ETag"] for item in listing.get("Contents", [])}


def test_sample_lands_encrypted_and_parses_back(s3_client: Any, raw_bucket: str) -> None:
    config = load_all_sources()["consultation"]
    columns = [spec.name for spec in config.fields]
    report = write_sample(
        s3_client, raw_bucket, config, rows=3000, seed=4, day=DAY, rows_per_object=700
    )
    assert len(report.objects) == 5
    assert set(_keys(s3_client, raw_bucket)) == {obj.key for obj in report.objects}
    total, broken_total = 0, 0
    for obj in report.objects:
        head = s3_client.head_object(Bucket=raw_bucket, Key=obj.key)
        assert head["ServerSideEncryption"] == obj.sse == "aws:kms"
        assert head["ContentLength"] == obj.bytes
        assert head["Metadata"]["rows"] == str(obj.rows)
        assert head["Metadata"]["format"] == obj.format
        body = s3_client.get_object(Bucket=raw_bucket, Key=obj.key)["Body"].read()
        rows, broken = parse_object(obj.key, body, columns)
        assert len(rows) == obj.rows
        total += len(rows)
        broken_total += broken
    assert total == 3000
    assert broken_total == report.malformed[BROKEN_UTF8]
    assert report.malformed_rows == 30


def test_rerun_overwrites_the_same_keys_and_aes256_works(s3_client: Any, raw_bucket: str) -> None:
    config = load_all_sources()["consultation"]
    write_sample(s3_client, raw_bucket, config, rows=400, seed=8, day=DAY, rows_per_object=150)
    first = _keys(s3_client, raw_bucket)
    report = write_sample(
        s3_client, raw_bucket, config, rows=400, seed=8, day=DAY, rows_per_object=150, sse="AES256"
    )
    assert _keys(s3_client, raw_bucket) == first  # same keys, byte-identical bodies (ETags)
    for obj in report.objects:
        head = s3_client.head_object(Bucket=raw_bucket, Key=obj.key)
        assert head["ServerSideEncryption"] == obj.sse == "AES256"
