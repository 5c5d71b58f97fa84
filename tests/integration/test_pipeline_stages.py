"""Pipeline stages called directly, against the session's PostgreSQL and S3 server."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pandas as pd
import psycopg
from psycopg import sql

from include.aggregates import add_groups, group_records, protect_all, protect_source
from include.anonymization.cell_key import draw_record_keys
from include.audit import AUDIT_KEY_CONN_ID
from include.connections import (
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    get_connection,
)
from include.pipeline import stages
from include.pipeline.context import PipelineContext, safe_run_id
from include.record_store import ensure_store, store_groups, write_run
from include.sample.generator import iter_rows
from include.services.stack import LocalPlatform
from include.source_config import load_all_sources
from tests.cell_key_sources import cell_key_variant
from tests.warehouse_runs import made_up_runs


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
    """Regression: an empty batch added to earlier runs' records turned integers into floats,
    and the validation gate (rightly) refused the aggregates."""
    earlier = _context(platform, "stages-test-earlier")
    rows = pd.DataFrame(iter_rows(earlier.config, 400, 5, date(2026, 11, 25)))
    rows["submitted_at"] = pd.to_datetime(rows["submitted_at"], utc=True)
    rows["respondent_email_pseudonym"] = None
    rows["record_key"] = draw_record_keys(len(rows))
    with made_up_runs(earlier.dsn, earlier.config, earlier.run_id):
        with psycopg.connect(earlier.dsn) as conn, conn.transaction():
            ensure_store(conn, earlier.config)
            write_run(conn, earlier.config, earlier.run_id, rows.drop(columns=["respondent_email"]))

        later = _context(platform, "stages-test-later")
        summary = stages.anonymize_run(later, [])

    assert summary["records_in"] == 0
    assert summary["records_to_date"] >= 400
    cells = stages.read_frame(later, summary["aggregates"]["transports_par_age"]["key"])
    assert pd.api.types.is_integer_dtype(cells["q_transports"])


def test_aggregates_of_history_plus_batch_equal_one_computation(platform: LocalPlatform) -> None:
    """The store's SQL groups (earlier runs) plus the run's own batch give exactly the
    aggregates of all those records computed at once, cell for cell: suppressed, and
    perturbed by the cell key method (the store's key sums are the batch's)."""
    earlier = _context(platform, "stages-test-history")
    # A source of its own, so that the store's table holds nothing but this test's records.
    config = earlier.config.model_copy(update={"name": f"test_store_{uuid.uuid4().hex[:8]}"})
    old = pd.DataFrame(iter_rows(earlier.config, 700, 11, date(2026, 4, 30)))
    new = pd.DataFrame(iter_rows(earlier.config, 500, 12, date(2026, 5, 1)))
    for frame in (old, new):
        frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
        frame["respondent_email_pseudonym"] = None
        frame["record_key"] = draw_record_keys(len(frame))
    table = sql.Identifier("private", config.name)
    try:
        with psycopg.connect(earlier.dsn) as conn:
            ensure_store(conn, config)
            write_run(conn, config, earlier.run_id, old.drop(columns=["respondent_email"]))
            history = {a.name: store_groups(conn, config, a) for a in config.aggregates}
            assert all(int(h["n"].sum()) == len(old) for h in history.values())
            empty = store_groups(conn, config, config.aggregates[0], exclude_run=earlier.run_id)
            assert empty.empty
    finally:
        with psycopg.connect(earlier.dsn) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    combined_groups = {
        a.name: add_groups(history[a.name], group_records(new, config, a))
        for a in config.aggregates
    }
    perturbed = cell_key_variant(config)
    by_parts = protect_source(combined_groups, perturbed)
    for part, whole in zip(by_parts, protect_all(pd.concat([old, new]), perturbed), strict=True):
        pd.testing.assert_frame_equal(part.cells, whole.cells)
    combined = protect_source(combined_groups, config)
    at_once = protect_all(pd.concat([old, new]), config)
    for by_groups, by_records in zip(combined, at_once, strict=True):
        pd.testing.assert_frame_equal(
            by_groups.cells.reset_index(drop=True), by_records.cells.reset_index(drop=True)
        )
