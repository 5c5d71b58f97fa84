"""Drop duplicate submissions: the first occurrence of an id wins, within and across runs.

WHY: a form submitted twice, or an id reused by a buggy export, would count one
person twice in every statistic. Rows are compared by the source's id field; the
first occurrence in a deterministic order (runs in order, objects sorted by key,
rows in file order) is kept and every later one is a duplicate, either
`duplicate_row` (same content) or `duplicate_id` (same id, different content, the
one an operator may want to look at).

Ids seen so far live in PostgreSQL (`pipeline.ingested_ids`), not in memory: a
run checks them one chunk at a time, so memory stays flat however many rows a
source accumulates. Content is compared by a 16-byte BLAKE2b fingerprint of the
validated values, so the same row in JSON and in CSV is the same row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from include.ingest import reasons


def fingerprint(values: Sequence[Any]) -> bytes:
    """Content fingerprint of validated values (str, int, float, bool, date, datetime, None).

    `repr` of those types is stable across processes, and validated text is valid UTF-8.
    """
    return hashlib.blake2b(repr(tuple(values)).encode("utf-8"), digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class FirstSeen:
    """Where an id was first ingested: its content fingerprint and the run that kept it."""

    fingerprint: bytes
    run_id: str


class SeenIds(Protocol):
    """The registry of ids already ingested for one source."""

    def register(self, ids: Sequence[str], fingerprints: Sequence[bytes]) -> dict[str, FirstSeen]:
        """Record the (distinct) ids not seen before; return the earlier sighting of the others."""
        ...


@dataclass(frozen=True, slots=True)
class Duplicate:
    kind: str  # reasons.DUPLICATE_ROW or reasons.DUPLICATE_ID
    first_run: str


def find_duplicates(
    ids: Sequence[str], fingerprints: Sequence[bytes], run_id: str, seen: SeenIds
) -> dict[int, Duplicate]:
    """Positions of the duplicates in a chunk of valid rows (in order); registers the rest."""
    first: dict[str, int] = {}
    for position, record_id in enumerate(ids):
        first.setdefault(record_id, position)
    earlier = seen.register(list(first), [fingerprints[position] for position in first.values()])
    duplicates: dict[int, Duplicate] = {}
    for position, record_id in enumerate(ids):
        prior = earlier.get(record_id)
        if prior is not None:
            reference, first_run = prior.fingerprint, prior.run_id
        elif first[record_id] != position:
            reference, first_run = fingerprints[first[record_id]], run_id
        else:
            continue
        same = fingerprints[position] == reference
        duplicates[position] = Duplicate(
            reasons.DUPLICATE_ROW if same else reasons.DUPLICATE_ID, first_run
        )
    return duplicates
