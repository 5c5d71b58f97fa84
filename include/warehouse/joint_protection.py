"""What every aggregate to date is protected jointly with, as the warehouse holds it.

The anonymize stage protects the tables over the stored records plus its run's batch,
and the publish stage recomputes them from scratch over the store before anything is
published. Both protect them jointly with the same two things, read here: what the
release's record file tells a reader of each cell (the stored runs' record-file facts,
summed in SQL: `include.warehouse.record_file_facts`) and the cells of the previous
release (`include.warehouse.release_history`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
import psycopg

from include.anonymization.linked_suppression import KnownCell
from include.core.source_config import SourceConfig
from include.warehouse.load import ensure_warehouse
from include.warehouse.pg_tables import curated_columns, ensure_table
from include.warehouse.record_file_bounds import RecordFileFacts, assemble_bounds, table_cells
from include.warehouse.record_file_facts import backfill, needs_facts, stored_facts
from include.warehouse.record_store import ensure_store
from include.warehouse.release_history import previous_release

log = logging.getLogger(__name__)


def backfill_record_file_facts(
    dsn: str, config: SourceConfig, exclude_run: str | None = None
) -> None:
    """Facts for the loaded runs that have none (loaded before facts were kept), counted
    once from their stored records and rows: on a connection of its own, committed before
    the stage reads (the stage's connection holds what `ensure_*` locked)."""
    if not needs_facts(config):
        return
    with psycopg.connect(dsn) as conn:
        ensure_warehouse(conn)
        ensure_store(conn, config)
        ensure_table(conn, "curated", config.name, curated_columns(config))
        conn.commit()
        backfill(conn, config, exclude_run)


def record_file_knowledge(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    groups: Mapping[str, pd.DataFrame],
    exclude_run: str | None = None,
    batch: RecordFileFacts | None = None,
) -> list[KnownCell]:
    """What the release's record file tells a reader of each aggregate cell: the stored
    runs' facts (but `exclude_run`'s), summed in SQL, plus the run's own `batch` facts when
    it is not loaded yet; `groups` are the groups the tables are counted from (their cells
    are the cells the knowledge is about). Nothing when the source publishes no record
    file. No record or row of the history is read here (`include.warehouse.record_file_facts`)."""
    if not needs_facts(config):
        return []
    facts = stored_facts(conn, config, exclude_run)
    if batch is not None:
        facts = facts + batch
    counted = {a.name: table_cells(config, a, groups[a.name]) for a in config.aggregates}
    return assemble_bounds(config, facts, counted)


def previous_release_cells(
    conn: psycopg.Connection[Any], config: SourceConfig, run_id: str
) -> dict[str, pd.DataFrame]:
    """The cells of the last release before this run's, to protect against jointly (none
    for the cell key method: the same records read the same in every release)."""
    if config.disclosure.method == "cell_key":
        return {}
    dimensions = {a.name: tuple(d.column for d in a.dimensions) for a in config.aggregates}
    run, cells = previous_release(conn, config.name, dimensions, exclude_run=run_id)
    if run is not None:
        log.info("%s: tables protected jointly with the release of run %s", config.name, run)
    return cells
