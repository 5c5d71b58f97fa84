"""In-memory stand-ins for S3 and PostgreSQL, so the ingest rules run without services."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from datetime import date
from typing import IO, Any

from include.core.settings import Settings
from include.core.source_config import SourceConfig
from include.ingest.dedup import FirstSeen
from include.ingest.ingestor import RunIngestor
from include.ingest.readers import (
    RawRecord,
    ReadLimits,
    check_object,
    detect_format,
    iter_records,
    open_stream,
)
from include.ingest.result import IngestResult
from include.sample.writer import write_sample

DAY = date(2026, 3, 26)
LIMITS = ReadLimits.from_settings(Settings())  # the defaults


class MemorySink(dict[str, bytes]):
    """An ObjectSink keeping every put."""

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self[key] = body


class MemorySeenIds:
    """A SeenIds over a dict, like pipeline.ingested_ids."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.first: dict[str, FirstSeen] = {}

    def register(self, ids: Sequence[str], fingerprints: Sequence[bytes]) -> dict[str, FirstSeen]:
        assert len(set(ids)) == len(ids), "find_duplicates must pass distinct ids"
        earlier = {i: self.first[i] for i in ids if i in self.first}
        for record_id, digest in zip(ids, fingerprints, strict=True):
            self.first.setdefault(record_id, FirstSeen(digest, self.run_id))
        return earlier


class CapturingS3:
    """Just enough of a boto3 client for `write_sample`: keeps the bodies it is given."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: IO[bytes], **extra: Any) -> dict[str, Any]:  # noqa: N803
        self.objects[Key] = Body.read()
        return {"ServerSideEncryption": extra["ServerSideEncryption"]}


def sample_objects(
    config: SourceConfig, rows: int, seed: int, rows_per_object: int
) -> dict[str, bytes]:
    """What `civic sample` writes to the raw zone, by key."""
    client = CapturingS3()
    write_sample(
        client, "raw", config, rows=rows, seed=seed, day=DAY, rows_per_object=rows_per_object
    )
    return client.objects


def stream(key: str, body: bytes, limits: ReadLimits = LIMITS) -> IO[bytes]:
    found = detect_format(key)
    assert found is not None, key
    return open_stream(io.BytesIO(body), found.gzip, limits)


def records(key: str, body: bytes, limits: ReadLimits = LIMITS) -> Iterator[RawRecord]:
    found = detect_format(key)
    assert found is not None, key
    return iter_records(stream(key, body, limits), found.format, limits.line_bytes)


def ingest_objects(
    ingestor: RunIngestor, objects: dict[str, bytes], limits: ReadLimits = LIMITS
) -> IngestResult:
    """Objects in key order through one ingestor, as `ingest_run` does after the S3 checks."""
    for key in sorted(objects):
        found = detect_format(key)
        assert found is not None, key
        body = objects[key]
        rejected = check_object(found, len(body), limits, lambda b=body: nullcontext(io.BytesIO(b)))
        ingestor.ingest_object(key, records(key, body, limits), rejected)
    return ingestor.finish()
