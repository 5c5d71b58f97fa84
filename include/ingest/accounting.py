"""The end-to-end accounting of a run: every row read is published, suppressed,
quarantined or a duplicate, and nothing else.

WHY: a row that silently disappears between the raw zone and the open data is
either lost input or a bug; either way the release must not go out. The later
stages know how many rows they published and suppressed; the ingest recorded
how many it read, quarantined and dropped as duplicates. The task that calls
`check_accounting` records the comparison (balanced or not) and then fails
if it does not balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from include.ingest.errors import AccountingError, IngestError


@dataclass(frozen=True)
class Accounting:
    source: str
    run_id: str
    rows_read: int
    rows_published: int
    rows_suppressed: int
    rows_quarantined: int
    rows_duplicate: int

    @property
    def rows_accounted(self) -> int:
        return (
            self.rows_published + self.rows_suppressed + self.rows_quarantined + self.rows_duplicate
        )

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_accounted


def check_accounting(
    dsn: str, source: str, run_id: str, rows_published: int, rows_suppressed: int
) -> Accounting:
    """Record the run's accounting in pipeline.run_accounting; raise if it does not balance."""
    if rows_published < 0 or rows_suppressed < 0:
        raise ValueError(
            f"published ({rows_published}) and suppressed ({rows_suppressed}) must be >= 0"
        )
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        row = conn.execute(
            "SELECT rows_read, rows_quarantined, rows_duplicate FROM pipeline.ingest_runs "
            "WHERE source = %s AND run_id = %s AND status IN ('ingested', 'loaded')",
            (source, run_id),
        ).fetchone()
        if row is None:
            raise IngestError(
                f"no completed ingest for source {source} run {run_id}: "
                "the ingest task must succeed before the accounting is checked"
            )
        accounting = Accounting(source, run_id, row[0], rows_published, rows_suppressed, *row[1:])
        conn.execute(
            "INSERT INTO pipeline.run_accounting (source, run_id, rows_read, rows_published, "
            "rows_suppressed, rows_quarantined, rows_duplicate, balanced) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (source, run_id) DO UPDATE SET "
            "rows_read = EXCLUDED.rows_read, rows_published = EXCLUDED.rows_published, "
            "rows_suppressed = EXCLUDED.rows_suppressed, "
            "rows_quarantined = EXCLUDED.rows_quarantined, "
            "rows_duplicate = EXCLUDED.rows_duplicate, balanced = EXCLUDED.balanced, "
            "checked_at = now()",
            (source, run_id, accounting.rows_read, rows_published, rows_suppressed,
             accounting.rows_quarantined, accounting.rows_duplicate, accounting.balanced),
        )  # fmt: skip
    if not accounting.balanced:
        raise AccountingError(
            f"run {run_id} of {source} does not balance: {accounting.rows_read} rows read, but "
            f"{rows_published} published + {rows_suppressed} suppressed + "
            f"{accounting.rows_quarantined} quarantined + {accounting.rows_duplicate} duplicates"
            f" = {accounting.rows_accounted}; rows were lost or counted twice between the "
            "stages: do not publish this run"
        )
    return accounting
