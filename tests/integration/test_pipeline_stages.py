"""Pipeline stages called directly, against the session's PostgreSQL and S3 server."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from include.anonymization import task as anonymize_stage
from include.anonymization.cell_key import draw_record_keys
from include.anonymization.kanonymity import anonymize
from include.audit import AUDIT_KEY_CONN_ID
from include.core.connections import (
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    get_connection,
)
from include.core.source_config import SourceConfig, load_all_sources
from include.pipeline.context import PipelineContext, safe_run_id
from include.pipeline.workzone import read_frame
from include.publish import task as publish_stage
from include.sample.generator import iter_rows
from include.services.stack import LocalPlatform
from include.warehouse.aggregates import add_groups, group_records, protect_all, protect_source
from include.warehouse.joint_protection import backfill_record_file_facts
from include.warehouse.load import load_run
from include.warehouse.pg_tables import aggregate_table
from include.warehouse.record_file_bounds import count_record_file, record_file_bounds
from include.warehouse.record_file_facts import FACTS_TABLE, backfill, stale_runs, stored_facts
from include.warehouse.record_store import ensure_store, store_groups, write_run
from tests.cell_key_sources import cell_key_variant
from tests.warehouse_runs import made_up_runs


def _context(
    platform: LocalPlatform, run_id: str, config: SourceConfig | None = None
) -> PipelineContext:
    env = platform.process_env()
    return PipelineContext.from_connections(
        settings=platform.settings,
        config=config or load_all_sources()["consultation"],
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
        summary = anonymize_stage.anonymize_run(later, [])

    assert summary["records_in"] == 0
    assert summary["records_to_date"] >= 400
    cells = read_frame(later, summary["aggregates"]["transports_par_age"]["key"])
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


def _scrubbed_batch(
    config: SourceConfig, run_id: str, rows: int, seed: int, day: date
) -> pd.DataFrame:
    """A run's records as the anonymize stage gets them (direct identifier dropped, its
    pseudonym column present), ids of the run's own."""
    frame = pd.DataFrame(iter_rows(config, rows, seed, day))
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["response_id"] = f"{run_id}-" + frame["response_id"].astype(str)
    frame["respondent_email_pseudonym"] = None
    return frame.drop(columns=["respondent_email"])


def _forget_source(dsn: str, config: SourceConfig) -> None:
    with psycopg.connect(dsn) as conn:
        for table in ("private.released_cells", FACTS_TABLE.as_string(conn)):
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE source = %s").format(sql.SQL(table)), (config.name,)
            )
        tables = [("curated", config.name), ("private", config.name)]
        tables += [("aggregates", aggregate_table(config, a.name)) for a in config.aggregates]
        for schema, table in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, table)))


def _same_cells(got: list, expected: list) -> None:
    assert [a.name for a in got] == [a.name for a in expected]
    for by_facts, at_once in zip(got, expected, strict=True):
        pd.testing.assert_frame_equal(
            by_facts.cells.reset_index(drop=True), at_once.cells.reset_index(drop=True)
        )


def test_runs_protected_with_stored_facts_publish_what_the_whole_file_gives(
    platform: LocalPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """Three runs through anonymize (`_protect_to_date`) and load, then the publish stage's
    from-scratch check: protected with the stored runs' record-file facts plus the run's
    own, the tables are cell for cell those of one computation over every record and every
    row of the file to date (how they were protected before the facts were kept), and the
    publish stage's recomputation agrees with what was loaded. The first run is loaded
    without facts, as a run loaded before they existed: the next stage backfills it, once."""
    base = load_all_sources()["consultation"]
    config = base.model_copy(update={"name": f"test_facts_{uuid.uuid4().hex[:8]}"})
    runs = ["facts-run-1", "facts-run-2", "facts-run-3"]
    contexts = [_context(platform, run, config) for run in runs]
    dsn = contexts[0].dsn
    stored, rows = [], []
    try:
        with made_up_runs(dsn, config, *runs):
            for index, ctx in enumerate(contexts):
                batch = _scrubbed_batch(base, ctx.run_id, 400, 21 + index, date(2026, 5, 1 + index))
                curated, result = anonymize(config, batch)
                records = batch.assign(record_key=draw_record_keys(len(batch)))
                facts = anonymize_stage._batch_facts(config, batch, curated, ~result.suppressed)
                assert facts is not None
                assert facts.left_out == len(batch) - len(curated)
                with caplog.at_level(logging.INFO, logger="include.warehouse.record_file_facts"):
                    caplog.clear()
                    protected, to_date = anonymize_stage._protect_to_date(ctx, records, facts)
                backfilled = [r.message for r in caplog.records if "backfilled" in r.message]
                assert len(backfilled) == (index == 1), backfilled  # the first run, once
                stored.append(records)
                rows.append(curated)
                everything, file = pd.concat(stored), pd.concat(rows)
                known = record_file_bounds(config, everything, file)
                _same_cells(protected, protect_all(everything, config, known))
                load_run(
                    dsn,
                    config,
                    ctx.run_id,
                    curated,
                    {item.name: item.cells for item in protected},
                    records=records,
                    records_to_date=to_date,
                    record_file_facts=facts if index else None,  # the first: no facts
                )
            hidden = sum(int(item.cells["suppressed"].sum()) for item in protected)
            assert hidden > 0, "nothing hidden: the record file's bounds would not matter"
            # refuses on a difference
            recomputed = publish_stage._aggregates_from_scratch(contexts[-1])
            _same_cells(recomputed, protected)
            with psycopg.connect(dsn) as conn:
                assert stale_runs(conn, config) == ({run: 400 for run in runs}, [])
                assert backfill(conn, config) == 0
                assert stored_facts(conn, config) == count_record_file(config, everything, file)
                assert stored_facts(conn, config, runs[-1]) == count_record_file(
                    config, pd.concat(stored[:-1]), pd.concat(rows[:-1])
                )
    finally:
        _forget_source(dsn, config)


def test_a_run_loaded_before_facts_is_backfilled_from_its_records_and_rows(
    platform: LocalPlatform,
) -> None:
    """A store whose run has records and rows but no facts (loaded before they were kept):
    a stage finds it stale, counts it from the store once (idempotent), and a run reloaded
    without facts loses its old ones, so stale facts are never summed."""
    base = load_all_sources()["consultation"]
    config = base.model_copy(update={"name": f"test_backfill_{uuid.uuid4().hex[:8]}"})
    ctx = _context(platform, "backfill-run", config)
    batch = _scrubbed_batch(base, ctx.run_id, 300, 31, date(2026, 6, 2))
    curated, result = anonymize(config, batch)
    records = batch.assign(record_key=draw_record_keys(len(batch)))
    try:
        with made_up_runs(ctx.dsn, config, ctx.run_id):
            protected, to_date = anonymize_stage._protect_to_date(
                ctx,
                records,
                anonymize_stage._batch_facts(config, batch, curated, ~result.suppressed),
            )
            aggregates = {item.name: item.cells for item in protected}

            def load_without_facts() -> None:
                load_run(
                    ctx.dsn,
                    config,
                    ctx.run_id,
                    curated,
                    aggregates,
                    records=records,
                    records_to_date=to_date,
                )

            load_without_facts()
            with psycopg.connect(ctx.dsn) as conn:
                assert stale_runs(conn, config)[1] == [ctx.run_id]
                with pytest.raises(ValueError, match="no record file facts"):
                    stored_facts(conn, config)
            backfill_record_file_facts(ctx.dsn, config)
            with psycopg.connect(ctx.dsn) as conn:
                assert stale_runs(conn, config)[1] == []
                assert backfill(conn, config) == 0
                assert stored_facts(conn, config) == count_record_file(config, batch, curated)
                stored_rows = conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE source = %s").format(FACTS_TABLE),
                    (config.name,),
                ).fetchone()
            assert stored_rows == (len(count_record_file(config, batch, curated).rows()),)
            _same_cells(publish_stage._aggregates_from_scratch(ctx), protected)
            load_without_facts()  # a rerun without facts: its facts go, it is stale again
            with psycopg.connect(ctx.dsn) as conn:
                assert stale_runs(conn, config)[1] == [ctx.run_id]
    finally:
        _forget_source(ctx.dsn, config)
