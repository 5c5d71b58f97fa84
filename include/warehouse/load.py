"""Load a run into PostgreSQL: the private record store, `curated` and `aggregates`.

One transaction per run: the run's records (private store) and record-level rows
(`curated`) replace that run's earlier rows (a rerun leaves no duplicates), each
aggregate table is replaced as a whole (an aggregate is a snapshot of all records to
date), the run's record-file facts replace its earlier ones (`include.warehouse.record_file_facts`),
and the run is marked loaded. Bulk COPY, never row-by-row INSERT. Table
definitions derive from the source configuration (`include.warehouse.pg_tables`); the schemas
themselves are in `include/sql/warehouse.sql`.

WHY the run is fenced here: a run that never loaded loses its raw objects to the next
run of the source (`include.ingest.state`). The load takes the source's lock and marks
the run loaded only if it still owns its objects, so a run taken over while it was
still going can never load the same submissions a second time. It also checks that
the store holds exactly the records the run's aggregates were computed over: if
another run loaded in between, those aggregates are stale and nothing is written.

Direct identifiers never reach this module: `curated_columns` has no place for
them, and `load_run` refuses a frame that still carries one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from include.core.source_config import SourceConfig
from include.ingest.state import ensure_schema, lock_source
from include.warehouse.aggregates import count_cells
from include.warehouse.pg_tables import (
    RUN_COLUMN,
    aggregate_columns,
    aggregate_table,
    copy_frame,
    curated_columns,
    delete_run,
    ensure_table,
)
from include.warehouse.record_file_bounds import RecordFileFacts
from include.warehouse.record_file_facts import write_run_facts
from include.warehouse.record_store import (
    RecordStoreError,
    ensure_store,
    record_count,
    store_groups,
    write_run,
)
from include.warehouse.release_history import record_release_cells

WAREHOUSE_SQL = Path(__file__).resolve().parents[1] / "sql" / "warehouse.sql"


class LoadError(RuntimeError):
    """A table does not fit the warehouse: refused before anything is written."""


@dataclass(frozen=True)
class LoadResult:
    run_id: str
    stored_records: int
    curated_rows: int
    aggregate_rows: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "stored_records": self.stored_records,
            "curated_rows": self.curated_rows,
            "aggregate_rows": self.aggregate_rows,
        }


def ensure_warehouse(conn: psycopg.Connection) -> None:
    """The warehouse's schemas and the pipeline's run tables (a run is marked loaded there)."""
    ensure_schema(conn)
    conn.execute(WAREHOUSE_SQL.read_text())


def _ensure_source_tables(conn: psycopg.Connection, config: SourceConfig) -> None:
    ensure_table(conn, "curated", config.name, curated_columns(config))
    ensure_store(conn, config)
    for aggregate in config.aggregates:
        table = aggregate_table(config, aggregate.name)
        ensure_table(conn, "aggregates", table, aggregate_columns(aggregate))


def ensure_tables(dsn: str, configs: Iterable[SourceConfig]) -> None:
    """Every source's tables, empty, before any run has loaded anything.

    Superset's datasets point at these tables and the analysts' read-only role is
    granted on them: both need them to exist from the first `services up`, not from
    the first release. Idempotent (a new field becomes a new column).
    """
    with psycopg.connect(dsn) as conn, conn.transaction():
        ensure_warehouse(conn)
        for config in configs:
            _ensure_source_tables(conn, config)


def _check_curated(config: SourceConfig, frame: pd.DataFrame, expected: Sequence[str]) -> None:
    leaked = sorted({f.name for f in config.direct_identifiers} & set(frame.columns))
    if leaked:
        raise LoadError(f"{config.name}: refusing to load direct identifier column(s) {leaked}")
    missing = sorted(set(expected) - set(frame.columns))
    extra = sorted(set(frame.columns) - set(expected))
    if missing or extra:
        raise LoadError(
            f"{config.name}: curated columns differ from the config: "
            f"missing {missing}, extra {extra}"
        )


def _fence(conn: psycopg.Connection[Any], config: SourceConfig, run_id: str) -> None:
    """Mark the run loaded if it still owns its raw objects; refuse otherwise."""
    lock_source(conn, config.name)
    row = conn.execute(
        "UPDATE pipeline.ingest_runs SET status = 'loaded', loaded_at = now() "
        "WHERE source = %s AND run_id = %s AND status IN ('ingested', 'loaded') RETURNING run_id",
        (config.name, run_id),
    ).fetchone()
    if row is not None:
        return
    found = conn.execute(
        "SELECT status, superseded_by FROM pipeline.ingest_runs WHERE source = %s AND run_id = %s",
        (config.name, run_id),
    ).fetchone()
    if found is None or found[0] == "claimed":
        raise LoadError(
            f"{config.name} run {run_id}: no completed ingest; the ingest task must succeed first"
        )
    raise LoadError(
        f"{config.name} run {run_id} was superseded by run {found[1]}, which took over its raw "
        "objects: nothing of this run is loaded (its submissions are that run's now)"
    )


def load_run(
    dsn: str,
    config: SourceConfig,
    run_id: str,
    curated: pd.DataFrame | Iterable[pd.DataFrame] | None,
    aggregates: Mapping[str, pd.DataFrame],
    *,
    records: pd.DataFrame | Iterable[pd.DataFrame],
    records_to_date: int,
    record_file_facts: RecordFileFacts | None = None,
) -> LoadResult:
    """Store the run's records, replace its record-level rows and every aggregate of the
    source, and mark the run loaded, atomically.

    `records` are the run's scrubbed records at full precision (for the private store) and
    `curated` its record-level rows, each a frame or frames (slices read one at a time: what
    a run's size makes grow is then never held whole); every frame is checked before it is
    copied, and a refusal rolls the whole transaction back.
    `records_to_date` is how many records the aggregates were computed over, which the
    store must hold once the run's records are in. `aggregates` maps each configured
    aggregate's name to its protected cells (`ProtectedAggregate.cells`); an aggregate the
    config does not declare is refused.

    `record_file_facts`: what the run's rows tell of the aggregate cells
    (`include.warehouse.record_file_bounds.count_record_file` over `records` and
    `curated`), stored in place of the run's earlier facts; without them the run's earlier
    facts are deleted and the next stage that needs them counts them from the store
    (`include.warehouse.record_file_facts`).
    """
    declared = {aggregate.name: aggregate for aggregate in config.aggregates}
    unknown = sorted(set(aggregates) - set(declared))
    if unknown:
        raise LoadError(f"{config.name}: aggregates {unknown} are not in the source config")
    names = [name for name, _ in curated_columns(config)]
    if isinstance(curated, pd.DataFrame):  # whole: refused before the transaction opens
        _check_curated(config, curated.assign(**{RUN_COLUMN: run_id}), names)
    with psycopg.connect(dsn) as conn, conn.transaction():
        ensure_warehouse(conn)
        _ensure_source_tables(conn, config)
        _fence(conn, config, run_id)
        try:
            stored = write_run(conn, config, run_id, records)
        except RecordStoreError as exc:
            raise LoadError(str(exc)) from None
        if record_file_facts is not None and record_file_facts.records != stored:
            raise LoadError(
                f"{config.name} run {run_id}: the record file facts count "
                f"{record_file_facts.records} records but the run has {stored}: nothing loaded; "
                "re-run the run from its anonymize task"
            )
        in_store = record_count(conn, config)
        if in_store != records_to_date:
            raise LoadError(
                f"{config.name} run {run_id}: the record store would hold {in_store} records but "
                f"this run's aggregates were computed over {records_to_date} (another run loaded "
                "in between?): nothing loaded; re-run this run from its anonymize task"
            )
        curated_rows = 0
        if curated is not None:
            delete_run(conn, "curated", config.name, run_id)
            for frame in [curated] if isinstance(curated, pd.DataFrame) else curated:
                published = frame.assign(**{RUN_COLUMN: run_id})
                _check_curated(config, published, names)
                curated_rows += copy_frame(conn, "curated", config.name, published, names)
        aggregate_rows = {}
        for name, cells in aggregates.items():
            table = aggregate_table(config, name)
            agg_columns = aggregate_columns(declared[name])
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("aggregates", table)))
            frame = cells.assign(**{RUN_COLUMN: run_id})
            for dim in declared[name].dimensions:
                # Text, as the table has it; a total's summed-over dimension stays NULL.
                frame[dim.column] = frame[dim.column].astype(object).map(str, na_action="ignore")
            agg_names = [n for n, _ in agg_columns]
            aggregate_rows[name] = copy_frame(conn, "aggregates", table, frame, agg_names)
        _record_release_cells(conn, config, run_id, aggregates)
        write_run_facts(conn, config, run_id, record_file_facts)
    return LoadResult(run_id, stored, curated_rows, aggregate_rows)


def _record_release_cells(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    run_id: str,
    aggregates: Mapping[str, pd.DataFrame],
) -> None:
    """What this release shows of each cell and its true count, from the store as it now
    stands (the run's records included): the next release is protected against this one."""
    declared = [a for a in config.aggregates if a.name in aggregates]
    truth = {a.name: count_cells(store_groups(conn, config, a), config, a) for a in declared}
    dimensions = {a.name: tuple(d.column for d in a.dimensions) for a in declared}
    record_release_cells(conn, config.name, run_id, truth, aggregates, dimensions)
