"""The heart of the ingest: records in, Parquet chunks + quarantine + counts out.

WHY a class free of S3 and PostgreSQL: the rules (one reason per bad row, first
occurrence wins, every row accounted for) are tested on in-memory objects, and the
same code runs against the real services through `ObjectSink` and `SeenIds`.

Each record read ends in exactly one place: a chunk (valid, first occurrence), the
quarantine log (with its reason and raw text) or the duplicates log. `finish()`
checks that rows read = valid + quarantined + duplicates before returning.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from include.ingest.chunks import CHUNK_ROWS, CONTENT_TYPE, ChunkBuffer, arrow_schema, parquet_bytes
from include.ingest.dedup import SeenIds, find_duplicates, fingerprint
from include.ingest.errors import AccountingError, ObjectRejectedError, RowRejectedError
from include.ingest.keys import ingested_prefix, part_key, quarantine_prefix
from include.ingest.parts import JsonLinesParts
from include.ingest.readers import RawRecord
from include.ingest.result import IngestResult
from include.ingest.store import ObjectSink
from include.ingest.validation import RowValidator
from include.source_config import SourceConfig

INGESTED = "ingested"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class ObjectOutcome:
    """What became of one raw object; `rows_read` is None when it was not read at all."""

    status: str  # INGESTED or QUARANTINED
    rows_read: int | None
    reason: str | None = None
    detail: str | None = None
    sse: str | None = None  # the object's server-side encryption, once checked


def _raw_fields(raw: str | bytes) -> dict[str, str]:
    """The original text, or base64 of bytes that are not UTF-8 (never a guessed decoding)."""
    if isinstance(raw, bytes):
        return {"raw_base64": base64.b64encode(raw).decode("ascii")}
    return {"raw": raw}


def _sorted_counts(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items()))


class RunIngestor:
    """Ingests the objects of one run, in the order they are given (sorted by key)."""

    def __init__(
        self,
        config: SourceConfig,
        run_id: str,
        sink: ObjectSink,
        seen: SeenIds,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self.config = config
        self.run_id = run_id
        self.sink = sink
        self.seen = seen
        self.chunk_rows = chunk_rows
        self.validator = RowValidator(config)
        self.schema = arrow_schema(config)
        self.buffer = ChunkBuffer(len(self.validator.columns))
        self.chunk_prefix = ingested_prefix(config.name, run_id)
        quarantine = quarantine_prefix(config.name, run_id)
        self.rejected = JsonLinesParts(sink, quarantine, "rows")
        self.duplicate_log = JsonLinesParts(sink, quarantine, "duplicates")
        self.chunk_keys: list[str] = []
        self.objects_read = 0
        self.quarantined_objects: list[tuple[str, str]] = []
        self.rows_read = 0
        self.rows_valid = 0
        self.quarantined: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()

    def ingest_object(self, key: str, records: Iterable[RawRecord]) -> ObjectOutcome:
        """Take every record of one object. If the object turns out unusable (bad CSV
        header, corrupt gzip), the rows read before stay, and the object is quarantined."""
        before = self.rows_read
        try:
            for record in records:
                self._take(key, record)
        except ObjectRejectedError as exc:
            self.quarantined_objects.append((key, exc.reason))
            return ObjectOutcome(QUARANTINED, self.rows_read - before, exc.reason, exc.detail)
        self.objects_read += 1
        return ObjectOutcome(INGESTED, self.rows_read - before)

    def refuse_object(
        self, key: str, reason: str, detail: str, sse: str | None = None
    ) -> ObjectOutcome:
        """Quarantine an object without reading it (unencrypted, unsupported, gone)."""
        self.quarantined_objects.append((key, reason))
        return ObjectOutcome(QUARANTINED, None, reason, detail, sse)

    def _take(self, key: str, record: RawRecord) -> None:
        self.rows_read += 1
        if record.reason is not None:
            self._reject(key, record, record.reason)
            return
        try:
            values = self.validator.validate(record.fields)
        except RowRejectedError as exc:
            self._reject(key, record, exc.reason)
            return
        record_id = str(values[self.validator.id_index])
        self.buffer.append(values, record_id, fingerprint(values), (key, record.line), record.raw)
        if len(self.buffer) >= self.chunk_rows:
            self._flush()

    def _reject(self, key: str, record: RawRecord, reason: str) -> None:
        self.quarantined[reason] += 1
        entry: dict[str, Any] = {"object": key, "line": record.line, "reason": reason}
        self.rejected.add(entry | _raw_fields(record.raw))

    def _flush(self) -> None:
        buffer = self.buffer
        if not len(buffer):
            return
        duplicates = find_duplicates(buffer.ids, buffer.fingerprints, self.run_id, self.seen)
        for position, duplicate in duplicates.items():
            self.duplicates[duplicate.kind] += 1
            key, line = buffer.origins[position]
            entry: dict[str, Any] = {
                "object": key,
                "line": line,
                "reason": duplicate.kind,
                "id": buffer.ids[position],
                "first_run": duplicate.first_run,
            }
            self.duplicate_log.add(entry | _raw_fields(buffer.raws[position]))
        kept = len(buffer) - len(duplicates)
        if kept:
            table = buffer.table(self.schema, set(duplicates))
            chunk_key = part_key(self.chunk_prefix, "part", len(self.chunk_keys) + 1, "parquet")
            self.sink.put(chunk_key, parquet_bytes(table), CONTENT_TYPE)
            self.chunk_keys.append(chunk_key)
            self.rows_valid += kept
        buffer.clear()

    def finish(self) -> IngestResult:
        """Write what is buffered, close the logs, check the identity, sum up."""
        self._flush()
        self.rejected.flush()
        self.duplicate_log.flush()
        result = IngestResult(
            source=self.config.name,
            run_id=self.run_id,
            chunk_keys=tuple(self.chunk_keys),
            quarantine_keys=tuple(self.rejected.keys + self.duplicate_log.keys),
            objects_claimed=self.objects_read + len(self.quarantined_objects),
            objects_read=self.objects_read,
            objects_quarantined=_sorted_counts(Counter(r for _, r in self.quarantined_objects)),
            quarantined_objects=tuple(self.quarantined_objects),
            rows_read=self.rows_read,
            rows_valid=self.rows_valid,
            quarantined=_sorted_counts(self.quarantined),
            duplicates=_sorted_counts(self.duplicates),
        )
        if not result.balanced:
            raise AccountingError(
                f"ingest of {self.config.name} run {self.run_id}: {result.rows_read} rows read "
                f"but {result.rows_valid} valid + {result.rows_quarantined} quarantined + "
                f"{result.rows_duplicate} duplicates; this is a bug in include/ingest, "
                "do not publish this run"
            )
        return result
