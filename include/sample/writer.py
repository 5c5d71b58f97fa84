"""Write a synthetic sample of a source into the raw zone, as a mix of files.

WHY: ingestion must cope with what really lands in a raw bucket: JSON Lines and CSV,
some gzipped, several objects per day, about 1% malformed rows, every object
encrypted at rest. Rows stream into one temporary file per object, which is
uploaded and dropped before the next, so memory stays flat up to millions of rows.
The same arguments always give byte-identical objects under the same keys
(`<source>/<YYYY-MM-DD>/sample-<seed>-part-NNNNN.<ext>`), so a re-run overwrites
instead of adding.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from include.core.source_config import SourceConfig
from include.sample.generator import iter_rows
from include.sample.malformed import MalformedInjector, Record, encode_line

SSE_MODES = ("aws:kms", "AES256")
FORMATS = ("jsonl", "csv")
PROGRESS_EVERY = 1_000
_CONTENT_TYPES = {
    ("jsonl", False): "application/x-ndjson; charset=utf-8",
    ("csv", False): "text/csv; charset=utf-8",
    ("jsonl", True): "application/gzip",
    ("csv", True): "application/gzip",
}


class SampleWriteError(RuntimeError):
    """An object of the sample could not be written to the raw bucket."""


@dataclass(frozen=True)
class SampleObject:
    key: str
    format: str  # "jsonl" or "csv"
    compressed: bool  # gzip
    rows: int
    bytes: int
    sse: str  # as reported by S3 for the upload


@dataclass(frozen=True)
class SampleReport:
    bucket: str
    source: str
    seed: int
    day: date
    rows: int
    objects: tuple[SampleObject, ...]
    malformed: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(obj.bytes for obj in self.objects)

    @property
    def malformed_rows(self) -> int:
        return sum(self.malformed.values())


@dataclass(frozen=True)
class _Plan:
    key: str
    format: str
    compressed: bool
    rows: int


def _plan(config: SourceConfig, rows: int, seed: int, day: date, per_object: int) -> list[_Plan]:
    """Object layout: near-equal sizes; formats and gzip dealt so that the first two
    objects are one JSONL and one CSV, and any four consecutive ones cover all four kinds."""
    count = max(math.ceil(rows / per_object), 2 if rows >= 2 else 1)
    rng = random.Random(f"layout:{config.name}:{seed}")
    jsonl_gz, csv_gz = rng.random() < 0.5, rng.random() < 0.5
    cycle = [("jsonl", jsonl_gz), ("csv", csv_gz), ("jsonl", not jsonl_gz), ("csv", not csv_gz)]
    if rng.random() < 0.5:
        cycle = [cycle[1], cycle[0], cycle[3], cycle[2]]
    prefix = f"{config.name}/{day:%Y-%m-%d}/sample-{seed}-part"
    plans = []
    for index in range(count):
        fmt, compressed = cycle[index % 4]
        extension = fmt + (".gz" if compressed else "")
        size = rows // count + (1 if index < rows % count else 0)
        plans.append(_Plan(f"{prefix}-{index + 1:05d}.{extension}", fmt, compressed, size))
    return plans


class _CsvLines:
    """Serializes rows as CSV lines (RFC 4180 quoting, CRLF) in the config's column order."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def line(self, values: list[Any]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(values)
        return self._buffer.getvalue()

    def header(self) -> str:
        return self.line(list(self.columns))

    def row(self, row: dict[str, Any]) -> str:
        return self.line(["" if row.get(name) is None else row[name] for name in self.columns])


def _jsonl_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _fill(
    sink: IO[bytes],
    plan: _Plan,
    records: Iterator[Record],
    csv_lines: _CsvLines,
    tick: Callable[[], None],
) -> None:
    if plan.format == "csv":
        sink.write(csv_lines.header().encode("utf-8"))
    for record in islice(records, plan.rows):
        line = csv_lines.row(record.row) if plan.format == "csv" else _jsonl_line(record.row)
        sink.write(encode_line(line, record.malformed))
        tick()


def _upload(
    client: Any,
    bucket: str,
    plan: _Plan,
    body: IO[bytes],
    size: int,
    extra: dict[str, Any],
    position: str,
) -> str:
    try:
        response = client.put_object(
            Bucket=bucket,
            Key=plan.key,
            Body=body,
            ContentLength=size,
            ContentType=_CONTENT_TYPES[plan.format, plan.compressed],
            **extra,
        )
    except (ClientError, BotoCoreError) as exc:
        raise SampleWriteError(
            f"could not write s3://{bucket}/{plan.key} (object {position}): {exc}. "
            "Check that the bucket exists, that the credentials may write to it and, for "
            "aws:kms, that the KMS key exists."
        ) from exc
    return str(response.get("ServerSideEncryption") or extra["ServerSideEncryption"])


def write_sample(
    client: Any,
    bucket: str,
    config: SourceConfig,
    rows: int,
    seed: int,
    day: date,
    sse: str = "aws:kms",
    kms_key_id: str | None = None,
    rows_per_object: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> SampleReport:
    """Generate `rows` rows of `config`'s source and write them to `bucket` (raw zone).

    `client` is a boto3 S3 client. Every object is written with server-side
    encryption `sse` ("aws:kms", with `kms_key_id` if given, or "AES256") and
    metadata source/seed/rows/format. `progress(n)` receives the rows written so far.
    """
    if sse not in SSE_MODES:
        raise ValueError(f"sse must be one of {SSE_MODES} (the raw zone is encrypted), got {sse!r}")
    if kms_key_id and sse != "aws:kms":
        raise ValueError(f"kms_key_id only applies with sse='aws:kms', got sse={sse!r}")
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    if rows_per_object < 1:
        raise ValueError(f"rows_per_object must be >= 1, got {rows_per_object}")

    plans = _plan(config, rows, seed, day, rows_per_object)
    injector = MalformedInjector(config, seed)
    records = injector.apply(iter_rows(config, rows, seed, day))
    csv_lines = _CsvLines([spec.name for spec in config.fields])
    written = 0

    def tick() -> None:
        nonlocal written
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written)

    encryption: dict[str, Any] = {"ServerSideEncryption": sse}
    if kms_key_id:
        encryption["SSEKMSKeyId"] = kms_key_id
    objects = []
    for index, plan in enumerate(plans):
        with tempfile.TemporaryFile() as tmp:
            if plan.compressed:
                # filename="" and mtime=0: the gzip header must not vary between runs.
                with gzip.GzipFile("", "wb", compresslevel=6, fileobj=tmp, mtime=0) as gz:
                    _fill(gz, plan, records, csv_lines, tick)
            else:
                _fill(tmp, plan, records, csv_lines, tick)
            size = tmp.tell()
            tmp.seek(0)
            metadata = {
                "source": config.name,
                "seed": str(seed),
                "rows": str(plan.rows),
                "format": plan.format,
                "compression": "gzip" if plan.compressed else "none",
            }
            extra = {**encryption, "Metadata": metadata}
            applied = _upload(
                client, bucket, plan, tmp, size, extra, f"{index + 1} of {len(plans)}"
            )
        objects.append(
            SampleObject(plan.key, plan.format, plan.compressed, plan.rows, size, applied)
        )
        if progress is not None and written % PROGRESS_EVERY:
            progress(written)
    return SampleReport(
        bucket=bucket,
        source=config.name,
        seed=seed,
        day=day,
        rows=rows,
        objects=tuple(objects),
        malformed=dict(injector.counts),
    )
