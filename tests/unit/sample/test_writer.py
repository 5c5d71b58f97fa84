"""The sample writer, against an in-memory stand-in for the S3 client."""

from __future__ import annotations

import tracemalloc
from datetime import date
from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.core.source_config import SourceConfig, load_all_sources
from include.sample.generator import iter_rows
from include.sample.malformed import BROKEN_UTF8, MalformedInjector
from include.sample.writer import SampleReport, SampleWriteError, write_sample
from tests.unit.sample.readback import as_csv_values, parse_object

DAY = date(2026, 3, 15)


class RecordingClient:
    """Keeps what put_object received; answers like S3 does."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.calls: dict[str, dict[str, Any]] = {}

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        body = kwargs.pop("Body").read()
        self.objects[kwargs["Key"]] = body
        self.calls[kwargs["Key"]] = kwargs
        return {"ETag": '"x"', "ServerSideEncryption": kwargs["ServerSideEncryption"]}


class FailingClient:
    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        error = {"Error": {"Code": "NoSuchBucket", "Message": "The bucket does not exist"}}
        raise ClientError(error, "PutObject")


@pytest.fixture(scope="module")
def config() -> SourceConfig:
    return load_all_sources()["signalements"]


@pytest.fixture(scope="module")
def written(config: SourceConfig) -> tuple[RecordingClient, SampleReport]:
    client = RecordingClient()
    report = write_sample(client, "raw", config, rows=5000, seed=9, day=DAY, rows_per_object=1000)
    return client, report


def test_objects_are_laid_out_encrypted_and_described(
    config: SourceConfig, written: tuple[RecordingClient, SampleReport]
) -> None:
    client, report = written
    assert len(report.objects) == 5
    assert sum(obj.rows for obj in report.objects) == report.rows == 5000
    assert {obj.key.split(".", 1)[1] for obj in report.objects} == {
        "jsonl",
        "jsonl.gz",
        "csv",
        "csv.gz",
    }
    for obj in report.objects:
        call = client.calls[obj.key]
        assert obj.key.startswith("signalements/2026-03-15/sample-9-part-")
        assert call["Bucket"] == "raw"
        assert call["ServerSideEncryption"] == obj.sse == "aws:kms"
        assert "SSEKMSKeyId" not in call
        assert call["ContentLength"] == obj.bytes == len(client.objects[obj.key])
        assert call["Metadata"] == {
            "source": "signalements",
            "seed": "9",
            "rows": str(obj.rows),
            "format": obj.format,
            "compression": "gzip" if obj.compressed else "none",
        }
        assert client.objects[obj.key].startswith(b"\x1f\x8b") == obj.compressed
    assert report.malformed_rows == 50
    assert report.total_bytes == sum(len(body) for body in client.objects.values())


def test_rows_parse_back_exactly(
    config: SourceConfig, written: tuple[RecordingClient, SampleReport]
) -> None:
    client, report = written
    columns = [spec.name for spec in config.fields]
    expected = list(MalformedInjector(config, seed=9).apply(iter_rows(config, 5000, 9, DAY)))
    position, broken_total = 0, 0
    for obj in report.objects:
        rows, broken = parse_object(obj.key, client.objects[obj.key], columns)
        assert len(rows) == obj.rows
        broken_total += broken
        for row, record in zip(rows, expected[position : position + obj.rows], strict=True):
            if record.malformed == BROKEN_UTF8:
                continue
            if obj.format == "jsonl":
                assert row == record.row
            else:
                assert row == as_csv_values(record.row, columns)
        position += obj.rows
    assert broken_total == report.malformed[BROKEN_UTF8] > 0
    assert any("\n" in r.row["description"] for r in expected), "multi-line texts were tested"


def test_same_seed_same_bytes_other_seed_other_bytes(config: SourceConfig) -> None:
    def run(seed: int) -> dict[str, bytes]:
        client = RecordingClient()
        write_sample(client, "raw", config, rows=700, seed=seed, day=DAY, rows_per_object=200)
        return client.objects

    first = run(1)
    assert first == run(1)
    other = run(2)
    assert set(first) != set(other)
    assert set(first.values()).isdisjoint(other.values())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rows", [1, 2, 3])
def test_small_samples_still_mix_formats(config: SourceConfig, rows: int, seed: int) -> None:
    report = write_sample(RecordingClient(), "raw", config, rows=rows, seed=seed, day=DAY)
    assert sum(obj.rows for obj in report.objects) == rows
    if rows == 1:
        assert len(report.objects) == 1
    else:
        assert sorted(obj.format for obj in report.objects) == ["csv", "jsonl"]


def test_kms_key_and_aes256_are_passed_through(config: SourceConfig) -> None:
    client = RecordingClient()
    write_sample(client, "raw", config, rows=10, seed=1, day=DAY, kms_key_id="alias/civic-raw")
    assert {c["SSEKMSKeyId"] for c in client.calls.values()} == {"alias/civic-raw"}
    client = RecordingClient()
    report = write_sample(client, "raw", config, rows=10, seed=1, day=DAY, sse="AES256")
    assert {obj.sse for obj in report.objects} == {"AES256"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sse": "none"}, "sse must be one of"),
        ({"sse": "AES256", "kms_key_id": "k"}, "kms_key_id only applies"),
        ({"rows": 0}, "rows must be >= 1"),
        ({"rows_per_object": 0}, "rows_per_object must be >= 1"),
    ],
)
def test_bad_arguments_are_refused(
    config: SourceConfig, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"rows": 10, "seed": 1, "day": DAY, **kwargs}
    with pytest.raises(ValueError, match=message):
        write_sample(RecordingClient(), "raw", config, **arguments)


def test_progress_counts_rows_written(config: SourceConfig) -> None:
    seen: list[int] = []
    write_sample(
        RecordingClient(),
        "raw",
        config,
        rows=2500,
        seed=1,
        day=DAY,
        rows_per_object=900,
        progress=seen.append,
    )
    assert seen == sorted(seen)
    assert seen[-1] == 2500
    assert 1000 in seen
    assert 2000 in seen


def test_upload_failure_names_the_object(config: SourceConfig) -> None:
    with pytest.raises(
        SampleWriteError, match=r"s3://missing/signalements/2026-03-15/.*NoSuchBucket"
    ):
        write_sample(FailingClient(), "missing", config, rows=10, seed=1, day=DAY)


def test_memory_does_not_grow_with_rows(config: SourceConfig) -> None:
    def peak(rows: int) -> int:
        tracemalloc.start()
        write_sample(
            RecordingClientWithoutBodies(),
            "raw",
            config,
            rows=rows,
            seed=3,
            day=DAY,
            rows_per_object=500,
        )
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(300)  # warm caches (pools, parsed templates)
    small, large = peak(1000), peak(5000)
    # Keeping the 4,000 extra rows would cost ~5 MB; one 200 kB malformed text being
    # serialized costs up to ~2.5 MB at a time, whatever the number of rows, and ~3.2 MB
    # when the pasted text holds a character beyond Latin-1 (a curly apostrophe makes
    # every str copy of it two bytes per character).
    assert large - small < 4_000_000, (small, large)


class RecordingClientWithoutBodies(RecordingClient):
    """Reads and drops bodies, so that only the writer's own memory is measured."""

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        while kwargs["Body"].read(1 << 16):
            pass
        return {"ServerSideEncryption": kwargs["ServerSideEncryption"]}
