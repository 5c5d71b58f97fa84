"""What one ingest run returns: keys and counts only, small enough for an XCom.

WHY: XCom lives in Airflow's metadata database, readable by every operator, so it
must never carry data: only the work-zone keys the next tasks read, and the
counts the accounting check and the audit ledger record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class IngestResult:
    """Outcome of `ingest_run` for one source and run.

    Identity, checked before the result is returned and again by PostgreSQL when it
    is recorded: rows_read = rows_valid + rows_quarantined + rows_duplicate.
    Quarantined objects are counted as objects, by reason. Those refused unread
    (unencrypted, unsupported, changed) add no rows: theirs are unknown. Those read
    and then found unusable as a whole (too large, damaged gzip) add the rows read
    up to the failure to rows_read and to `quarantined` under
    `row_of_quarantined_object`, none to rows_valid.
    """

    source: str
    run_id: str
    chunk_keys: tuple[str, ...]  # work bucket: validated, deduplicated Parquet chunks
    quarantine_keys: tuple[str, ...]  # work bucket: rejected rows and duplicates (JSON Lines)
    objects_claimed: int
    objects_read: int
    objects_quarantined: dict[str, int]  # object-level reason → objects
    quarantined_objects: tuple[tuple[str, str], ...]  # (raw key, reason), for the audit
    rows_read: int
    rows_valid: int  # rows written to the chunks
    quarantined: dict[str, int]  # row-level reason → rows
    duplicates: dict[str, int]  # duplicate_row / duplicate_id → rows

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined.values())

    @property
    def rows_duplicate(self) -> int:
        return sum(self.duplicates.values())

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_valid + self.rows_quarantined + self.rows_duplicate

    def to_xcom(self) -> dict[str, Any]:
        """Plain JSON types (lists, dicts, ints, strings)."""
        data = asdict(self)
        data["chunk_keys"] = list(self.chunk_keys)
        data["quarantine_keys"] = list(self.quarantine_keys)
        data["quarantined_objects"] = [list(pair) for pair in self.quarantined_objects]
        return data

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> IngestResult:
        return cls(
            **{
                **data,
                "chunk_keys": tuple(data["chunk_keys"]),
                "quarantine_keys": tuple(data["quarantine_keys"]),
                "quarantined_objects": tuple(
                    (key, reason) for key, reason in data["quarantined_objects"]
                ),
            }
        )
