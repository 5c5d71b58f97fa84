"""The heart of the ingest: records in, Parquet chunks + quarantine + counts out.

WHY a class free of S3 and PostgreSQL: the rules (one reason per bad row, first
occurrence wins, every row accounted for) are tested on in-memory objects, and the
same code runs against the real services through `ObjectSink` and `SeenIds`.

Each record read ends in exactly one place: a chunk (valid, first occurrence), the
quarantine log (with its reason and raw text) or the duplicates log. `finish()`
checks that rows read = valid + quarantined + duplicates before returning.

A full chunk is written by one background thread while the next rows are read: its
duplicate check waits on PostgreSQL and its upload on S3, both without the GIL, and
they took a third of the ingest's time when the reading waited for them. One chunk at
a time, in order, so the chunks, their keys and the logs are the same as if written
inline; whoever uses the ingestor must `close()` it (or `finish()` it) before its
connection is used or closed, since the writer uses that connection.

An object found unusable as a whole (`check_object`: too large, not a whole gzip
stream) is quarantined as a whole: its records are still read, up to where it
fails, only to be counted, every one as `row_of_quarantined_object`, none kept and
none logged one by one. WHY: a half-read file must never publish half its rows,
yet its rows must show in the accounting (rows read = valid + quarantined +
duplicates holds for it too, and pipeline.raw_objects.rows_read says how many it
had up to the failure); copying them into the work zone would only duplicate the
raw object, which stays in the raw zone as their record, and would let a file of
tiny lines multiply into a much larger quarantine.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from include.core.source_config import SourceConfig
from include.ingest import reasons
from include.ingest.chunks import CONTENT_TYPE, ChunkBuffer, arrow_schema, parquet_bytes
from include.ingest.dedup import SeenIds, find_duplicates, fingerprint
from include.ingest.errors import (
    AccountingError,
    IngestError,
    ObjectRejectedError,
    RowRejectedError,
)
from include.ingest.keys import ingested_prefix, part_key, quarantine_prefix
from include.ingest.parts import JsonLinesParts
from include.ingest.readers import RawRecord
from include.ingest.result import IngestResult
from include.ingest.store import ObjectSink
from include.ingest.validation import RowValidator

INGESTED = "ingested"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class ObjectOutcome:
    """What became of one raw object; `rows_read` is None when it was not read at all.

    A quarantined object that was read has its `rows_read` counted as quarantined.
    """

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


def _record_fields(record: RawRecord) -> dict[str, Any]:
    """What the quarantine keeps of a record: its raw text, or the first bytes of a record
    over the line limit with its whole size (`record_bytes`)."""
    fields: dict[str, Any] = _raw_fields(record.raw)
    if record.size is not None:
        fields["record_bytes"] = record.size
    return fields


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
        chunk_rows: int,
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
        self.buffer = self._new_buffer()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-chunks")
        self._writing: Future[None] | None = None
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

    def ingest_object(
        self,
        key: str,
        records: Iterable[RawRecord],
        rejected: ObjectRejectedError | None = None,
    ) -> ObjectOutcome:
        """Take every record of one object that `check_object` found usable, or, when
        it `rejected` the object, count its records as quarantined with the object.

        An object whose header turns out unusable (bad CSV header) is quarantined before
        any row is taken. One found unusable after rows were taken was not checked, or
        changed while it was read: the run stops (IngestError), since rows already in
        chunks cannot be withdrawn and a rerun reads it afresh.
        """
        if rejected is not None:
            return self._quarantine_object(key, records, rejected)
        before = self.rows_read
        try:
            for record in records:
                self._take(key, record)
        except ObjectRejectedError as exc:
            if self.rows_read > before:
                raise IngestError(
                    f"{key} turned out unusable after {self.rows_read - before} of its rows "
                    f"were taken ({exc}), although it passed its check: it changed while it "
                    "was read, or this is a bug in include/ingest. Nothing of this run is "
                    "recorded; rerun the ingest."
                ) from exc
            self.quarantined_objects.append((key, exc.reason))
            return ObjectOutcome(QUARANTINED, 0, exc.reason, exc.detail)
        self.objects_read += 1
        return ObjectOutcome(INGESTED, self.rows_read - before)

    def _quarantine_object(
        self, key: str, records: Iterable[RawRecord], rejected: ObjectRejectedError
    ) -> ObjectOutcome:
        """Count the records of a rejected object, up to where it fails, keeping none."""
        before = self.rows_read
        try:
            for _ in records:
                self.rows_read += 1
        except ObjectRejectedError:
            pass  # where the check found it unusable: the detail is the check's
        rows = self.rows_read - before
        if rows:
            self.quarantined[reasons.ROW_OF_QUARANTINED_OBJECT] += rows
        self.quarantined_objects.append((key, rejected.reason))
        return ObjectOutcome(QUARANTINED, rows, rejected.reason, rejected.detail)

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
            self._hand_over()

    def _reject(self, key: str, record: RawRecord, reason: str) -> None:
        self.quarantined[reason] += 1
        entry: dict[str, Any] = {"object": key, "line": record.line, "reason": reason}
        self.rejected.add(entry | _record_fields(record))

    def _new_buffer(self) -> ChunkBuffer:
        """An empty buffer with one column per validated field."""
        return ChunkBuffer(len(self.validator.columns))

    def _hand_over(self) -> None:
        """Give the full buffer to the writer (once the chunk before it is written) and
        start a new one."""
        self._wait_for_writer()
        buffer, self.buffer = self.buffer, self._new_buffer()
        self._writing = self._writer.submit(self._write_chunk, buffer)

    def _wait_for_writer(self) -> None:
        """Until the chunk being written is written; raises what its writing raised."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def close(self) -> None:
        """Wait for the chunk being written and stop the writer: it uses the caller's
        connection, which must not be used or closed before (also on an error path)."""
        try:
            self._wait_for_writer()
        finally:
            self._writer.shutdown(wait=True)

    def _write_chunk(self, buffer: ChunkBuffer) -> None:
        """Check the buffered rows for duplicates, write the rest as one chunk."""
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

    def finish(self) -> IngestResult:
        """Write what is buffered, close the logs, check the identity, sum up."""
        self.close()
        self._write_chunk(self.buffer)
        self.buffer = self._new_buffer()
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
