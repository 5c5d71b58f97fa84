"""RunIngestor: objects in order, rows accounted for, outputs small and deterministic."""

from __future__ import annotations

import gzip
import io
import json
import threading
import zlib

import pyarrow.parquet as pq
import pytest

from include.core.source_config import SourceConfig, load_all_sources
from include.ingest.errors import IngestError
from include.ingest.ingestor import INGESTED, QUARANTINED, RunIngestor
from include.ingest.readers import EXCERPT_BYTES, ReadLimits
from include.ingest.result import IngestResult
from tests.unit.ingest.memory import MemorySeenIds, MemorySink, ingest_objects, records

CONFIG: SourceConfig = load_all_sources()["signalements"]
HEADER = "submission_id,submitted_at,category,description,commune,postcode,channel,"
HEADER += "reporter_name,reporter_email,reporter_phone\r\n"


def _jsonl(*ids: str, description: str = "Nid-de-poule rue des Lilas") -> bytes:
    rows = [
        {
            "submission_id": record_id,
            "submitted_at": "2026-03-20T18:05:00+01:00",
            "category": "voirie",
            "description": description,
            "postcode": "69003",
            "channel": "web",
        }
        for record_id in ids
    ]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _ingestor(sink: MemorySink, chunk_rows: int = 50_000) -> RunIngestor:
    return RunIngestor(CONFIG, "run-7", sink, MemorySeenIds("run-7"), chunk_rows)


def test_ids_repeated_across_objects_are_duplicates_and_no_chunk_is_empty() -> None:
    sink = MemorySink()
    objects = {
        "signalements/2026-03-21/a.jsonl": _jsonl("id-1", "id-2"),
        "signalements/2026-03-22/b.jsonl": _jsonl("id-2", description="Autre texte"),
        "signalements/2026-03-22/c.jsonl": _jsonl("id-1"),
    }
    result = ingest_objects(_ingestor(sink, chunk_rows=2), objects)
    assert (result.rows_read, result.rows_valid) == (4, 2)
    assert result.duplicates == {"duplicate_id": 1, "duplicate_row": 1}
    assert result.chunk_keys == ("runs/signalements/run-7/ingested/part-00001.parquet",)
    log = [json.loads(line) for line in sink[result.quarantine_keys[0]].splitlines()]
    assert [(e["object"], e["line"], e["reason"], e["id"]) for e in log] == [
        ("signalements/2026-03-22/b.jsonl", 1, "duplicate_id", "id-2"),
        ("signalements/2026-03-22/c.jsonl", 1, "duplicate_row", "id-1"),
    ]
    table = pq.read_table(io.BytesIO(sink[result.chunk_keys[0]]))
    assert table.column("submission_id").to_pylist() == ["id-1", "id-2"]
    assert table.column("commune").null_count == 2


def test_an_object_broken_part_way_is_quarantined_whole_with_every_row_read_counted() -> None:
    """None of its rows is kept (a half-read file never publishes half its rows), each one
    read is counted, and the objects around it are untouched, in the same chunk."""
    sink = MemorySink()
    ingestor = _ingestor(sink, chunk_rows=3)
    body = gzip.compress(_jsonl(*(f"id-{i}" for i in range(5_000))), mtime=0)
    damaged = body[: len(body) // 2]
    readable = zlib.decompressobj(wbits=31).decompress(damaged).count(b"\n")
    assert 0 < readable < 5_000
    objects = {
        "signalements/2026-03-21/a.jsonl": _jsonl("a-1", "a-2"),
        "signalements/2026-03-21/damaged.jsonl.gz": damaged,
        "signalements/2026-03-21/z.jsonl": _jsonl("z-1"),
    }
    result = ingest_objects(ingestor, objects)
    assert result.objects_quarantined == {"unreadable_object": 1}
    assert result.quarantined_objects == (("signalements/2026-03-21/damaged.jsonl.gz",
                                           "unreadable_object"),)  # fmt: skip
    assert result.quarantined == {"row_of_quarantined_object": readable}
    assert (result.rows_read, result.rows_valid, result.objects_read) == (3 + readable, 3, 2)
    assert result.balanced
    assert result.quarantine_keys == ()  # the raw object is their record: no copy
    table = pq.read_table(io.BytesIO(sink[result.chunk_keys[0]]))
    assert table.column("submission_id").to_pylist() == ["a-1", "a-2", "z-1"]


def test_an_object_too_large_counts_the_rows_within_the_limit() -> None:
    line = _jsonl("id-0")
    limits = ReadLimits(object_bytes=10 * len(line) + 5, line_bytes=1024)
    objects = {"signalements/2026-03-21/big.jsonl": line * 25}
    ingestor = _ingestor(MemorySink())
    result = ingest_objects(ingestor, objects, limits)
    assert result.objects_quarantined == {"object_too_large": 1}
    assert result.quarantined == {"row_of_quarantined_object": 10}  # the 11th is cut
    assert (result.rows_read, result.rows_valid) == (10, 0)


def test_an_object_found_unusable_after_rows_were_taken_stops_the_run() -> None:
    """Without its check, a damaged gzip shows only after rows went to the chunk buffer:
    those cannot be withdrawn, so the run fails rather than publish them."""
    body = gzip.compress(_jsonl(*(f"id-{i}" for i in range(5_000))), mtime=0)
    key = "signalements/2026-03-21/damaged.jsonl.gz"
    ingestor = _ingestor(MemorySink())
    with pytest.raises(IngestError, match=f"{key} turned out unusable after .* rerun the ingest"):
        ingestor.ingest_object(key, records(key, body[: len(body) // 2]))


def test_a_line_over_the_limit_is_quarantined_with_an_excerpt_and_its_size() -> None:
    sink = MemorySink()
    long_text = "Nid-de-poule " * 200_000  # 2.6 MB: over the default 1 MiB per line
    objects = {
        "signalements/2026-03-21/a.jsonl": _jsonl("id-1") + _jsonl("id-2", description=long_text)
        + _jsonl("id-3"),
    }  # fmt: skip
    result = ingest_objects(_ingestor(sink), objects)
    assert (result.rows_read, result.rows_valid) == (3, 2)
    assert result.quarantined == {"line_too_long": 1}
    [entry] = [json.loads(line) for line in sink[result.quarantine_keys[0]].splitlines()]
    assert entry["line"] == 2
    assert entry["record_bytes"] == len(_jsonl("id-2", description=long_text))
    assert entry["raw"] == _jsonl("id-2", description=long_text)[:EXCERPT_BYTES].decode()


def test_refused_objects_are_counted_as_objects_never_as_rows() -> None:
    sink = MemorySink()
    ingestor = _ingestor(sink)
    refused = ingestor.refuse_object("signalements/x.jsonl", "unencrypted_object", "clear")
    taken = ingestor.ingest_object("signalements/y.csv", iter([]))
    result = ingestor.finish()
    assert (refused.status, refused.rows_read, taken.status, taken.rows_read) == (
        QUARANTINED, None, INGESTED, 0,
    )  # fmt: skip
    assert (result.objects_claimed, result.objects_read, result.rows_read) == (2, 1, 0)
    assert result.objects_quarantined == {"unencrypted_object": 1}
    assert (result.chunk_keys, result.quarantine_keys, dict(sink)) == ((), (), {})


def test_csv_and_json_copies_of_one_row_are_the_same_row() -> None:
    sink = MemorySink()
    csv_row = "id-1,2026-03-20T18:05:00+01:00,voirie,Nid-de-poule rue des Lilas,,69003,web,,,\r\n"
    objects = {
        "signalements/2026-03-21/a.jsonl": _jsonl("id-1"),
        "signalements/2026-03-21/b.csv": (HEADER + csv_row).encode(),
    }
    result = ingest_objects(_ingestor(sink), objects)
    assert result.duplicates == {"duplicate_row": 1}


def test_the_result_travels_as_plain_json_and_comes_back_equal() -> None:
    sink = MemorySink()
    objects = {
        "signalements/2026-03-21/a.jsonl": _jsonl("id-1", "id-1") + b"oops\n",
    }
    ingestor = _ingestor(sink)
    ingestor.refuse_object("signalements/2026-03-21/b.csv", "unencrypted_object", "clear")
    result = ingest_objects(ingestor, objects)
    text = json.dumps(result.to_xcom())
    assert IngestResult.from_xcom(json.loads(text)) == result
    assert result.quarantined == {"invalid_json": 1}
    assert "Nid-de-poule" not in text  # keys and counts, never data


class _FailingSink(MemorySink):
    """A sink whose chunk uploads fail from the `fail_from`-th chunk on (a fault injected
    into the background chunk writer), and that records the threads it is written from."""

    def __init__(self, fail_from: int) -> None:
        super().__init__()
        self.fail_from = fail_from
        self.chunks = 0
        self.threads: set[str] = set()

    def put(self, key: str, body: bytes, content_type: str) -> None:
        if key.endswith(".parquet"):
            self.chunks += 1
            self.threads.add(threading.current_thread().name)
            if self.chunks >= self.fail_from:
                raise OSError(f"S3 refused {key}")
        super().put(key, body, content_type)


def test_a_chunk_the_background_writer_fails_to_write_fails_the_ingest() -> None:
    sink = _FailingSink(fail_from=2)
    ingestor = _ingestor(sink, chunk_rows=2)
    ids = [f"id-{n}" for n in range(9)]
    # Raised when the third chunk is handed over, which waits for the second to be written.
    with pytest.raises(OSError, match="part-00002"):
        ingestor.ingest_object("signalements/2026-03-21/a.jsonl", records("a.jsonl", _jsonl(*ids)))
    ingestor.close()  # the failed writer is stopped; closing neither hangs nor raises again
    assert sink.chunks == 2
    assert sorted(key for key in sink if key.endswith(".parquet")) == [
        "runs/signalements/run-7/ingested/part-00001.parquet"
    ]


def test_full_chunks_are_written_by_the_background_writer_in_order() -> None:
    sink = _FailingSink(fail_from=10**6)
    ingestor = _ingestor(sink, chunk_rows=2)
    ids = [f"id-{n}" for n in range(7)]
    ingestor.ingest_object("signalements/2026-03-21/a.jsonl", records("a.jsonl", _jsonl(*ids)))
    result = ingestor.finish()
    assert any(name.startswith("ingest-chunks") for name in sink.threads)
    written = [
        pq.read_table(io.BytesIO(sink[key])).column("submission_id").to_pylist()
        for key in result.chunk_keys
    ]
    assert written == [["id-0", "id-1"], ["id-2", "id-3"], ["id-4", "id-5"], ["id-6"]]
