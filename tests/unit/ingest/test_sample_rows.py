"""Every kind of malformed row `civic sample` produces is caught, with the right reason.

The sample is regenerated row by row next to the objects `write_sample` wrote (same
seed, same order), so each record read back is checked against what was done to it:
valid rows must come out with their original values, broken ones with the reason
their breakage calls for, duplicates as duplicates and nothing else.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq
import pytest

from include.core.source_config import FieldType, PostcodeFr, SourceConfig, load_all_sources
from include.ingest.chunks import arrow_schema
from include.ingest.errors import RowRejectedError
from include.ingest.ingestor import RunIngestor
from include.ingest.readers import Format, detect_format
from include.ingest.validation import RowValidator
from include.sample import malformed
from include.sample.generator import iter_rows
from include.sample.malformed import MalformedInjector, Record
from tests.unit.ingest.memory import (
    DAY,
    MemorySeenIds,
    MemorySink,
    ingest_objects,
    records,
    sample_objects,
)

ROWS = 5_000  # one full deck of malformed kinds
SEED = 20_260_326


@dataclass(frozen=True)
class Sample:
    config: SourceConfig
    objects: dict[str, bytes]
    originals: list[dict[str, Any]]
    records: list[Record]
    formats: list[Format]  # of each record's object


@pytest.fixture(scope="module", params=["consultation", "signalements"])
def sample(request: pytest.FixtureRequest) -> Sample:
    config = load_all_sources()[request.param]
    # 4 objects: JSON Lines and CSV, each plain and gzipped.
    objects = sample_objects(config, ROWS, SEED, rows_per_object=ROWS // 4)
    found = [detect_format(key) for key in sorted(objects)]
    assert len(set(found)) == 4
    formats = [f.format for f in found if f is not None for _ in range(ROWS // 4)]
    originals = list(iter_rows(config, ROWS, SEED, DAY))
    records = list(MalformedInjector(config, SEED).apply(originals))
    return Sample(config, objects, originals, records, formats)


def _expected_reason(
    config: SourceConfig, record: Record, original: dict[str, Any], kind: Format
) -> str | None:
    """The reason the validator must give, from what the injector did to the row."""
    if record.malformed in (None, malformed.DUPLICATE_ROW, malformed.DUPLICATE_ID):
        return None
    if record.malformed == malformed.BROKEN_UTF8:
        return "invalid_utf8"
    changed = [s for s in config.fields if record.row.get(s.name) != original.get(s.name)]
    spec = changed[0]
    value = record.row.get(spec.name)
    if record.malformed == malformed.MISSING_REQUIRED or value == "":
        return f"missing_required:{spec.name}"
    if record.malformed == malformed.HUGE_TEXT:
        return f"too_long:{spec.name}"
    if record.malformed == malformed.BAD_DATE:
        return f"bad_date:{spec.name}"
    assert record.malformed == malformed.WRONG_TYPE
    if spec.type is FieldType.CATEGORY:
        return f"not_allowed:{spec.name}"
    if isinstance(spec.hierarchy, PostcodeFr):
        if isinstance(value, int) and kind is Format.JSONL:
            return f"wrong_type:{spec.name}"
        # In CSV a postcode turned number is text again: fine if it kept five digits.
        return None if str(value).isdigit() and len(str(value)) == 5 else f"bad_format:{spec.name}"
    return f"wrong_type:{spec.name}"


def _typed(spec_type: FieldType, value: Any) -> Any:
    if value is None:
        return None
    if spec_type is FieldType.DATETIME:
        return datetime.fromisoformat(value).astimezone(UTC)
    if spec_type is FieldType.STRING:
        return str(value)  # the CSV postcode that was a number and kept its five digits
    return value


def _outcomes(sample: Sample) -> list[str | list[Any]]:
    validator = RowValidator(sample.config)
    outcomes: list[str | list[Any]] = []
    for key in sorted(sample.objects):
        for record in records(key, sample.objects[key]):
            if record.reason is not None:
                outcomes.append(record.reason)
                continue
            try:
                outcomes.append(validator.validate(record.fields))
            except RowRejectedError as exc:
                outcomes.append(exc.reason)
    return outcomes


def _expected_reasons(sample: Sample) -> list[str | None]:
    return [
        _expected_reason(sample.config, record, original, kind)
        for record, original, kind in zip(
            sample.records, sample.originals, sample.formats, strict=True
        )
    ]


def test_each_row_gets_the_reason_its_breakage_calls_for(sample: Sample) -> None:
    outcomes = _outcomes(sample)
    assert len(outcomes) == ROWS
    kinds_seen = set()
    for index, (outcome, expected, record) in enumerate(
        zip(outcomes, _expected_reasons(sample), sample.records, strict=True)
    ):
        if expected is not None:
            assert outcome == expected, (index, record.malformed, record.row)
            kinds_seen.add(record.malformed)
            continue
        assert isinstance(outcome, list), (index, record.malformed, outcome)
        want = [_typed(s.type, record.row.get(s.name)) for s in sample.config.fields]
        assert outcome == want, index
    assert kinds_seen == set(malformed.KINDS) - {malformed.DUPLICATE_ROW, malformed.DUPLICATE_ID}


def _quarantine_records(sink: MemorySink, stem: str) -> list[dict[str, Any]]:
    keys = sorted(key for key in sink if key.rsplit("/", 1)[-1].startswith(stem))
    return [json.loads(line) for key in keys for line in sink[key].splitlines()]


@pytest.mark.parametrize("chunk_rows", [700, 50_000])
def test_the_whole_sample_is_accounted_for(sample: Sample, chunk_rows: int) -> None:
    sink = MemorySink()
    ingestor = RunIngestor(sample.config, "run-1", sink, MemorySeenIds("run-1"), chunk_rows)
    result = ingest_objects(ingestor, sample.objects)

    expected = Counter(r for r in _expected_reasons(sample) if r is not None)
    counts = Counter(record.malformed for record in sample.records)
    assert result.rows_read == ROWS
    assert result.quarantined == dict(sorted(expected.items()))
    assert result.duplicates == {
        "duplicate_id": counts[malformed.DUPLICATE_ID],
        "duplicate_row": counts[malformed.DUPLICATE_ROW],
    }
    assert result.rows_valid == ROWS - result.rows_quarantined - result.rows_duplicate
    assert result.balanced
    assert (result.objects_read, result.objects_claimed) == (4, 4)

    tables = [pq.read_table(io.BytesIO(sink[key])) for key in result.chunk_keys]
    assert all(t.schema.equals(arrow_schema(sample.config), check_metadata=True) for t in tables)
    # A chunk is cut every `chunk_rows` valid rows, then its duplicates are dropped.
    assert len(tables) == math.ceil((result.rows_valid + result.rows_duplicate) / chunk_rows)
    assert all(0 < t.num_rows <= chunk_rows for t in tables)
    assert sum(t.num_rows for t in tables) == result.rows_valid
    ids = [i for t in tables for i in t.column(sample.config.id_field).to_pylist()]
    assert len(set(ids)) == len(ids)


def test_quarantined_rows_keep_their_exact_raw_bytes(sample: Sample) -> None:
    sink = MemorySink()
    ingestor = RunIngestor(sample.config, "run-1", sink, MemorySeenIds("run-1"), 50_000)
    result = ingest_objects(ingestor, sample.objects)
    rejected = _quarantine_records(sink, "rows-")
    duplicates = _quarantine_records(sink, "duplicates-")
    assert len(rejected) == result.rows_quarantined
    assert Counter(r["reason"] for r in duplicates) == Counter(result.duplicates)
    assert {r["first_run"] for r in duplicates} == {"run-1"}
    for entry in rejected + duplicates:
        body = sample.objects[entry["object"]]
        data = gzip.decompress(body) if entry["object"].endswith(".gz") else body
        tail = b"\n".join(data.split(b"\n")[entry["line"] - 1 :])
        raw = (
            base64.b64decode(entry["raw_base64"])
            if "raw_base64" in entry
            else entry["raw"].encode("utf-8")
        )
        assert tail.startswith(raw), entry
        assert ("raw_base64" in entry) == (entry["reason"] == "invalid_utf8")


def test_ingesting_the_same_objects_again_writes_the_same_bytes(sample: Sample) -> None:
    sinks = []
    for _ in range(2):
        sink = MemorySink()
        ingest_objects(RunIngestor(sample.config, "run-1", sink, MemorySeenIds("run-1"), 50_000),
                       sample.objects)  # fmt: skip
        sinks.append(sink)
    assert sinks[0] == sinks[1]
    assert len(sinks[0]) == 3  # one chunk, one part of rejected rows, one of duplicates
