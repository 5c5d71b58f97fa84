"""The platform's accounting against the real warehouse: the figures of every live run added
up, and checked against the rows actually stored; anything that does not match is named."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from include.anonymization.cell_key import draw_record_keys
from include.core.source_config import SourceConfig, load_all_sources
from include.sample.generator import iter_rows
from include.warehouse.load import ensure_tables
from include.warehouse.pg_tables import copy_frame, curated_columns
from include.warehouse.platform_accounting import InFlightObject, platform_accounting
from include.warehouse.record_store import write_run

pytestmark = pytest.mark.integration


@pytest.fixture
def config(warehouse_dsn: str) -> Iterator[SourceConfig]:
    """A source of its own (the consultation's fields), so that no other test's runs count."""
    real = load_all_sources()["consultation"]
    own = real.model_copy(update={"name": f"test_accounting_{uuid.uuid4().hex[:8]}"})
    ensure_tables(warehouse_dsn, [own])
    yield own
    with psycopg.connect(warehouse_dsn) as conn:
        for table in ("raw_objects", "run_accounting", "ingested_ids", "ingest_runs"):
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE source = %s").format(
                    sql.Identifier("pipeline", table)
                ),
                (own.name,),
            )
        for schema in ("private", "curated"):
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, own.name)))
        for aggregate in own.aggregates:
            conn.execute(
                sql.SQL("DROP TABLE {}").format(
                    sql.Identifier("aggregates", f"{own.name}__{aggregate.name}")
                )
            )


def _run(conn: psycopg.Connection, source: str, run_id: str, status: str, *counts: int) -> None:
    read, valid, quarantined, duplicate = counts or (None, None, None, None)
    conn.execute(
        "INSERT INTO pipeline.ingest_runs (source, run_id, bucket, status, rows_read, rows_valid, "
        "rows_quarantined, rows_duplicate) VALUES (%s, %s, 'raw', %s, %s, %s, %s, %s)",
        (source, run_id, status, read, valid, quarantined, duplicate),
    )


def _object(conn: psycopg.Connection, source: str, run_id: str, key: str, rows: int | None) -> None:
    conn.execute(
        "INSERT INTO pipeline.raw_objects (source, bucket, key, etag, last_modified, size, run_id, "
        "status, rows_read) VALUES (%s, 'raw', %s, 'e', now(), 1, %s, %s, %s)",
        (source, key, run_id, "claimed" if rows is None else "ingested", rows),
    )


def _a_loaded_run(conn: psycopg.Connection, config: SourceConfig) -> None:
    """Run A: 10 rows read, 1 quarantined, 1 duplicate, 8 stored, 6 published, 2 suppressed."""
    name = config.name
    _run(conn, name, "run-a", "loaded", 10, 8, 1, 1)
    _object(conn, name, "run-a", f"{name}/2026-05-01/a.jsonl", 10)
    conn.execute(
        "INSERT INTO pipeline.run_accounting (source, run_id, rows_read, rows_published, "
        "rows_suppressed, rows_quarantined, rows_duplicate, balanced) "
        "VALUES (%s, 'run-a', 10, 6, 2, 1, 1, true)",
        (name,),
    )
    real = load_all_sources()["consultation"]
    records = pd.DataFrame(iter_rows(real, 8, 77, date(2026, 5, 1)))
    records["respondent_email_pseudonym"] = None
    records["record_key"] = draw_record_keys(len(records))
    write_run(conn, config, "run-a", records.drop(columns=["respondent_email"]))
    ids = records[config.id_field].tolist()
    conn.execute(
        "INSERT INTO pipeline.ingested_ids (source, record_id, row_hash, run_id) "
        "SELECT %s, r, %s, 'run-a' FROM unnest(%s::text[]) AS r",
        (name, b"0" * 16, ids),
    )
    names = [column for column, _ in curated_columns(config)]
    curated = pd.DataFrame({column: [None] * 6 for column in names})
    curated[config.id_field] = ids[:6]
    curated["run_id"] = "run-a"
    copy_frame(conn, "curated", name, curated, names)


def test_every_row_received_is_published_suppressed_quarantined_duplicate_or_in_flight(
    warehouse_dsn: str, config: SourceConfig
) -> None:
    name = config.name
    with psycopg.connect(warehouse_dsn) as conn:
        _a_loaded_run(conn, config)
        # Run B ingested 5 rows from one object and has not read the other yet.
        _run(conn, name, "run-b", "ingested", 5, 5, 0, 0)
        _object(conn, name, "run-b", f"{name}/2026-05-02/b1.jsonl", 5)
        _object(conn, name, "run-b", f"{name}/2026-05-02/b2.jsonl", None)
        # Run C was superseded: its figures count nowhere.
        _run(conn, name, "run-c", "superseded", 99, 99, 0, 0)

    accounting = platform_accounting(warehouse_dsn, config)

    assert accounting.balanced, accounting.summary()
    assert (
        accounting.rows_received,
        accounting.rows_published,
        accounting.rows_suppressed,
        accounting.rows_quarantined,
        accounting.rows_duplicate,
        accounting.rows_in_flight,
    ) == (15, 6, 2, 1, 1, 5)
    assert accounting.in_flight == (
        InFlightObject("run-b", "ingested", "raw", f"{name}/2026-05-02/b1.jsonl", 5),
        InFlightObject("run-b", "ingested", "raw", f"{name}/2026-05-02/b2.jsonl", None),
    )
    assert accounting.summary().startswith(f"{name}: 15 rows received = 6 published + 2 supp")


def test_rows_missing_from_the_warehouse_or_left_by_a_dead_run_are_named(
    warehouse_dsn: str, config: SourceConfig
) -> None:
    name = config.name
    with psycopg.connect(warehouse_dsn) as conn:
        _a_loaded_run(conn, config)
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE ctid IN (SELECT ctid FROM {} LIMIT 1)").format(
                sql.Identifier("curated", name), sql.Identifier("curated", name)
            )
        )
        # Ids kept by a run the warehouse has no record of (what the issue saw: 36,732 ids
        # for 28,771 rows): they would make resubmissions look like duplicates.
        conn.execute(
            "INSERT INTO pipeline.ingested_ids (source, record_id, row_hash, run_id) "
            "VALUES (%s, 'ghost-1', %s, 'run-gone')",
            (name, b"0" * 16),
        )

    accounting = platform_accounting(warehouse_dsn, config)

    assert not accounting.balanced
    assert accounting.problems == (
        "run run-a: curated holds 5 rows, its accounting says 6",
        f"the duplicate check's ids: 1 rows belong to run run-gone, which is not a live run "
        f"of {name}",
    )
    assert "NOT BALANCED: run run-a: curated holds 5 rows" in accounting.summary()
