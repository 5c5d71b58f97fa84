"""Pipeline stages called directly, against the session's PostgreSQL and S3 server."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import psycopg

from include.audit import AUDIT_KEY_CONN_ID
from include.connections import (
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    get_connection,
)
from include.load import ensure_warehouse
from include.pipeline import stages
from include.pipeline.context import PipelineContext, safe_run_id
from include.sample.generator import iter_rows
from include.services.stack import LocalPlatform
from include.source_config import load_all_sources


def _context(platform: LocalPlatform, run_id: str) -> PipelineContext:
    env = platform.process_env()
    return PipelineContext.from_connections(
        settings=platform.settings,
        config=load_all_sources()["consultation"],
        run_id=run_id,
        run_date=datetime(2026, 11, 25, tzinfo=UTC),
        warehouse=get_connection(WAREHOUSE_CONN_ID, env),
        s3=get_connection(S3_CONN_ID, env),
        audit_key=get_connection(AUDIT_KEY_CONN_ID, env),
        pseudonym_key=get_connection(PSEUDONYM_KEY_CONN_ID, env),
    )


def test_safe_run_id() -> None:
    assert (
        safe_run_id("scheduled__2026-11-25T00:00:00+00:00")
        == "scheduled__2026-11-25T00_00_00_00_00"
    )


def test_run_without_new_records_keeps_aggregate_types(platform: LocalPlatform) -> None:
    """Regression: an empty batch concatenated with earlier runs turned integers into floats,
    and the validation gate (rightly) refused the aggregates."""
    earlier = _context(platform, "stages-test-earlier")
    rows = pd.DataFrame(iter_rows(earlier.config, 400, 5, date(2026, 11, 25)))
    rows["submitted_at"] = pd.to_datetime(rows["submitted_at"], utc=True)
    rows["respondent_email_pseudonym"] = None
    stages.write_frame(
        earlier,
        f"{earlier.run_prefix}scrubbed/part-00000.parquet",
        rows.drop(columns=["respondent_email"]),
    )
    with psycopg.connect(earlier.dsn) as conn:
        ensure_warehouse(conn)
        conn.execute(
            "INSERT INTO pipeline.loaded_runs (source, run_id) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            ("consultation", earlier.run_id),
        )

    later = _context(platform, "stages-test-later")
    summary = stages.anonymize_run(later, [])

    assert summary["records_in"] == 0
    assert summary["records_to_date"] >= 400
    cells = stages.read_frame(later, summary["aggregates"]["transports_par_age"]["key"])
    assert pd.api.types.is_integer_dtype(cells["q_transports"])
