"""First occurrence wins, within a chunk and against earlier chunks and runs."""

from __future__ import annotations

from datetime import UTC, datetime

from include.ingest.dedup import Duplicate, FirstSeen, find_duplicates, fingerprint
from tests.unit.ingest.memory import MemorySeenIds

A, B = fingerprint(["a"]), fingerprint(["b"])


def test_fingerprints_are_stable_and_type_sensitive() -> None:
    moment = datetime(2026, 3, 26, 7, 20, 34, tzinfo=UTC)
    assert fingerprint(["x", 1, moment, None]) == fingerprint(("x", 1, moment, None))
    assert len(fingerprint(["x"])) == 16
    assert fingerprint(["1"]) != fingerprint([1])
    assert fingerprint([1]) != fingerprint([1.0])
    assert fingerprint([None, "a"]) != fingerprint(["a", None])


def test_within_a_chunk_later_copies_are_duplicates_by_kind() -> None:
    seen = MemorySeenIds("run-1")
    duplicates = find_duplicates(["x", "y", "x", "x", "z"], [A, A, A, B, B], "run-1", seen)
    assert duplicates == {
        2: Duplicate("duplicate_row", "run-1"),
        3: Duplicate("duplicate_id", "run-1"),
    }
    assert set(seen.first) == {"x", "y", "z"}


def test_ids_of_earlier_chunks_and_runs_are_duplicates_of_the_first_one() -> None:
    seen = MemorySeenIds("run-1")
    seen.first["old"] = FirstSeen(A, "run-0")
    duplicates = find_duplicates(["old", "new", "old"], [A, B, B], "run-1", seen)
    assert duplicates == {
        0: Duplicate("duplicate_row", "run-0"),
        2: Duplicate("duplicate_id", "run-0"),  # compared with run-0's row, not with row 0
    }
    # A later chunk of the same run: "new" was registered by the chunk above.
    later = find_duplicates(["new"], [A], "run-1", seen)
    assert later == {0: Duplicate("duplicate_id", "run-1")}
