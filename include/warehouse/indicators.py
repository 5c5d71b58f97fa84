"""Run-level quality figures for analysts: quarantine rate, redaction rate, what was published.

Superset's quality charts read `aggregates.indicateurs_execution` and
`aggregates.quarantaine_par_motif` (DDL in include/sql/warehouse.sql) with the
read-only analyst role, which cannot see the private `pipeline` schema these
figures come from. They are counts per run and per technical reason, never
about a person, so they need no cell suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from include.ingest.accounting import Accounting
from include.warehouse.load import ensure_warehouse


@dataclass(frozen=True)
class TextCounts:
    """Free texts seen by the scrub stage, and how many of them had something redacted."""

    texts: int
    redacted: int

    def __post_init__(self) -> None:
        if not 0 <= self.redacted <= self.texts:
            raise ValueError(f"texts redacted ({self.redacted}) must be within 0..{self.texts}")


def record_run_indicators(
    dsn: str, accounting: Accounting, run_date: date, text_counts: TextCounts
) -> None:
    """Replace the run's row of indicators and its quarantine counts, in one transaction."""
    key = (accounting.source, accounting.run_id)
    with psycopg.connect(dsn) as conn, conn.transaction():
        ensure_warehouse(conn)
        conn.execute(
            "INSERT INTO aggregates.indicateurs_execution (source, run_id, run_date, rows_read, "
            "rows_quarantined, rows_duplicate, rows_published, rows_suppressed, texts, "
            "texts_redacted) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (source, run_id) DO UPDATE SET run_date = EXCLUDED.run_date, "
            "rows_read = EXCLUDED.rows_read, rows_quarantined = EXCLUDED.rows_quarantined, "
            "rows_duplicate = EXCLUDED.rows_duplicate, rows_published = EXCLUDED.rows_published, "
            "rows_suppressed = EXCLUDED.rows_suppressed, texts = EXCLUDED.texts, "
            "texts_redacted = EXCLUDED.texts_redacted",
            (*key, run_date, accounting.rows_read, accounting.rows_quarantined,
             accounting.rows_duplicate, accounting.rows_published, accounting.rows_suppressed,
             text_counts.texts, text_counts.redacted),
        )  # fmt: skip
        conn.execute(
            "DELETE FROM aggregates.quarantaine_par_motif WHERE source = %s AND run_id = %s", key
        )
        conn.execute(
            "INSERT INTO aggregates.quarantaine_par_motif "
            "(source, run_id, run_date, reason, rows, objects) "
            "SELECT source, run_id, %s, reason, rows, objects FROM pipeline.quarantine "
            "WHERE source = %s AND run_id = %s",
            (run_date, *key),
        )


def record_release(
    conn: psycopg.Connection, source: str, run_id: str, release_id: str, run_date: date
) -> None:
    """Note a release the run just made public, for the analysts' time view; a rerun that
    publishes the same release again keeps the first publication's time."""
    conn.execute(
        "INSERT INTO aggregates.versions_publiees (source, release_id, run_id, run_date, "
        "published_at) VALUES (%s, %s, %s, %s, now()) ON CONFLICT (source, release_id) DO NOTHING",
        (source, release_id, run_id, run_date),
    )
