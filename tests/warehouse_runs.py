"""Runs a test makes up in the session's shared warehouse, and their removal.

WHY: the warehouse is shared by the whole session, and the platform's accounting
checks every run of a source before anything is published (`include.warehouse.platform_accounting`):
a test that loads rows under a made-up run id must leave no trace of that run, or the
pipeline runs of later tests would rightly refuse to publish.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from include.core.source_config import SourceConfig
from include.warehouse.load import ensure_warehouse
from include.warehouse.pg_tables import RUN_COLUMN

_RUN_TABLES = ("pipeline.run_accounting", "pipeline.quarantine", "pipeline.ingested_ids")


@contextmanager
def made_up_runs(dsn: str, config: SourceConfig, *run_ids: str) -> Iterator[None]:
    """Runs of `config`'s source with a completed (empty) ingest, as the load expects them;
    every row they leave anywhere in the warehouse is deleted afterwards."""
    with psycopg.connect(dsn) as conn:
        ensure_warehouse(conn)
        for run_id in run_ids:
            conn.execute(
                "INSERT INTO pipeline.ingest_runs (source, run_id, bucket, status, rows_read, "
                "rows_valid, rows_quarantined, rows_duplicate) "
                "VALUES (%s, %s, 'test', 'ingested', 0, 0, 0, 0)",
                (config.name, run_id),
            )
    try:
        yield
    finally:
        with psycopg.connect(dsn) as conn:
            for schema in ("curated", "private"):
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                        sql.Identifier(schema, config.name), sql.Identifier(RUN_COLUMN)
                    ),
                    (list(run_ids),),
                )
            for table in (*_RUN_TABLES, "pipeline.ingest_runs", "private.record_file_facts"):
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE source = %s AND run_id = ANY(%s)").format(
                        sql.SQL(table)
                    ),
                    (config.name, list(run_ids)),
                )
