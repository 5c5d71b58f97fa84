"""Warehouse tables before any run, and the run-level indicators analysts see in Superset."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from include.core.source_config import load_all_sources
from include.ingest.accounting import Accounting
from include.ingest.state import ensure_schema
from include.warehouse.indicators import TextCounts, record_run_indicators
from include.warehouse.load import ensure_tables
from include.warehouse.pg_tables import aggregate_columns, aggregate_table, curated_columns


def _columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return [row[0] for row in rows]


def test_ensure_tables_creates_every_source_table_with_its_config_columns(
    warehouse_dsn: str,
) -> None:
    configs = load_all_sources()
    ensure_tables(warehouse_dsn, configs.values())
    ensure_tables(warehouse_dsn, configs.values())  # idempotent
    with psycopg.connect(warehouse_dsn) as conn:
        for config in configs.values():
            expected = [name for name, _ in curated_columns(config)]
            assert _columns(conn, "curated", config.name) == expected
            for aggregate in config.aggregates:
                table = aggregate_table(config, aggregate.name)
                assert _columns(conn, "aggregates", table) == [
                    name for name, _ in aggregate_columns(aggregate)
                ]


def _quarantine(conn: psycopg.Connection, run_id: str, counts: dict[str, int]) -> None:
    ensure_schema(conn)
    conn.execute("DELETE FROM pipeline.quarantine WHERE run_id = %s", (run_id,))
    for reason, rows in counts.items():
        conn.execute(
            "INSERT INTO pipeline.quarantine (run_id, source, reason, rows, objects) "
            "VALUES (%s, 'signalements', %s, %s, 0)",
            (run_id, reason, rows),
        )


def test_run_indicators_are_replaced_on_rerun(warehouse_dsn: str) -> None:
    run_id = "indicators-run"
    accounting = Accounting("signalements", run_id, 100, 80, 5, 10, 5)
    with psycopg.connect(warehouse_dsn) as conn:
        _quarantine(conn, run_id, {"invalid_value": 7, "missing_required": 3})
    record_run_indicators(warehouse_dsn, accounting, date(2026, 11, 1), TextCounts(90, 40))
    with psycopg.connect(warehouse_dsn) as conn:
        _quarantine(conn, run_id, {"invalid_value": 10})
    record_run_indicators(warehouse_dsn, accounting, date(2026, 11, 2), TextCounts(90, 41))
    with psycopg.connect(warehouse_dsn) as conn:
        row = conn.execute(
            "SELECT run_date, rows_read, rows_quarantined, rows_published, texts, texts_redacted "
            "FROM aggregates.indicateurs_execution WHERE run_id = %s",
            (run_id,),
        ).fetchall()
        reasons = conn.execute(
            "SELECT reason, rows, run_date FROM aggregates.quarantaine_par_motif WHERE run_id = %s",
            (run_id,),
        ).fetchall()
    assert row == [(date(2026, 11, 2), 100, 10, 80, 90, 41)]
    assert reasons == [("invalid_value", 10, date(2026, 11, 2))]


@pytest.mark.parametrize(("texts", "redacted"), [(3, 4), (3, -1)])
def test_text_counts_refuse_impossible_figures(texts: int, redacted: int) -> None:
    with pytest.raises(ValueError, match="texts redacted"):
        TextCounts(texts, redacted)
