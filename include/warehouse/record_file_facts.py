"""Each loaded run's record-file facts, kept so that a release never re-reads the history.

What a release's record file tells a reader of each aggregate cell
(`include.warehouse.record_file_bounds`) is computed from counts that add up over runs. Each run's
counts (`RecordFileFacts`) are computed once, when the run is anonymized, from its own
records and record-level rows; its load stores them (`write_run_facts`, in the load's
transaction, replacing the run's earlier facts); a stage that needs the knowledge sums the
stored runs' facts in SQL (`stored_facts`) and adds its own batch's. Reading every record
and every loaded row of every run instead cost tens of seconds per stage at a million
records, for a daily run of ten thousand.

`private.record_file_facts` (`include/sql/warehouse.sql`) holds, per source and run, rows
(kind, name, key, count): `records` (key: the basis, below), `left_out`, `reading`
(name: the aggregate) and `option` (name: the dimension column), as
`RecordFileFacts.rows` gives them. Private schema: the counts describe records at full
precision, and no analyst reads them.

WHY facts are checked against the store before they are used: a run's facts are only
right for the records the store holds for it and for the hierarchies and aggregates they
were counted with. A run is `stale` when it has records in the store but no facts, facts
of another record count, or facts of another basis (`facts_basis`: a digest of the
aggregates' dimensions and their fields' types, roles and hierarchies; a hierarchy file's
rows are not in it, only its path: a file changed in place calls for a new path). Runs
loaded before facts were kept are stale once; `backfill` counts them from their stored
records and loaded rows, one run at a time, and says how many it did. A stage backfills
before it reads; if stale runs remain when it reads (a run reloaded meanwhile), it refuses
to go on rather than protect with wrong facts. Facts of runs no longer in the store are
ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from include.core.source_config import SourceConfig
from include.warehouse.pg_tables import RUN_COLUMN, copy_frame
from include.warehouse.record_file_bounds import (
    FACT_COLUMNS,
    RecordFileFacts,
    RecordFileFactsError,
    count_record_file,
)

log = logging.getLogger(__name__)

FACTS_SCHEMA, FACTS_NAME = "private", "record_file_facts"
FACTS_TABLE = sql.Identifier(FACTS_SCHEMA, FACTS_NAME)
COUNTING_VERSION = 1  # of `count_record_file`: a change to what facts mean bumps it
_LOCK = "civic-record-file-facts/v1/"


def needs_facts(config: SourceConfig) -> bool:
    """Whether the source's tables are protected with its record file's bounds: only a
    source that publishes a record file, has aggregates and hides cells (the cell key
    method hides nothing, so there is nothing to narrow)."""
    return (
        config.publish_record_level
        and bool(config.aggregates)
        and config.disclosure.method != "cell_key"
    )


def facts_basis(config: SourceConfig) -> str:
    """What a run's facts depend on besides its rows, as a digest: the counting's version,
    the id field, every aggregate's dimensions and the type, role and hierarchy of the
    fields they read (a new description or label does not make every run stale)."""
    fields = sorted({dim.field for a in config.aggregates for dim in a.dimensions})
    basis = {
        "version": COUNTING_VERSION,
        "id": config.id_field,
        "aggregates": [
            [a.name, [[d.field, d.level] for d in a.dimensions]] for a in config.aggregates
        ],
        "fields": {
            name: config.field(name).model_dump(mode="json", include={"type", "role", "hierarchy"})
            for name in fields
        },
    }
    text = json.dumps(basis, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _lock(conn: psycopg.Connection[Any], config: SourceConfig) -> None:
    """Serialize the writers of a source's facts (a load, a backfill) until commit."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_LOCK + config.name,))


def write_run_facts(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    run_id: str,
    facts: RecordFileFacts | None,
) -> int:
    """Replace the run's facts with `facts`, in the caller's transaction (the load's). None
    (or a source that needs none) only deletes them: a stage backfills them if needed."""
    _lock(conn, config)
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE source = %s AND run_id = %s").format(FACTS_TABLE),
        (config.name, run_id),
    )
    if facts is None or not needs_facts(config):
        return 0
    frame = facts.to_frame()
    frame.loc[frame["kind"] == "records", "key"] = facts_basis(config)
    frame = frame.assign(source=config.name, run_id=run_id)
    names = ["source", "run_id", *FACT_COLUMNS]
    return copy_frame(conn, FACTS_SCHEMA, FACTS_NAME, frame, names)


def _store_runs(
    conn: psycopg.Connection[Any], config: SourceConfig, exclude_run: str | None
) -> dict[str, int]:
    """run → records the store holds for it (runs with records only)."""
    where, params = sql.SQL(""), ()
    if exclude_run is not None:
        where, params = sql.SQL("WHERE {} <> %s").format(sql.Identifier(RUN_COLUMN)), (exclude_run,)
    query = sql.SQL("SELECT {r}, count(*) FROM {} {} GROUP BY {r}").format(
        sql.Identifier("private", config.name), where, r=sql.Identifier(RUN_COLUMN)
    )
    return {str(run): int(n) for run, n in conn.execute(query, params).fetchall()}


def stale_runs(
    conn: psycopg.Connection[Any], config: SourceConfig, exclude_run: str | None = None
) -> tuple[dict[str, int], list[str]]:
    """The store's runs (but `exclude_run`) with their record counts, and those of them
    whose facts are missing, of another record count or of another basis."""
    runs = _store_runs(conn, config, exclude_run)
    kept = dict(
        conn.execute(
            sql.SQL(
                "SELECT run_id, count FROM {} WHERE source = %s AND kind = 'records' AND key = %s"
            ).format(FACTS_TABLE),
            (config.name, facts_basis(config)),
        ).fetchall()
    )
    return runs, sorted(run for run, n in runs.items() if kept.get(run) != n)


def _run_rows(
    conn: psycopg.Connection[Any], config: SourceConfig, schema: str, columns: list[str], run: str
) -> pd.DataFrame:
    cursor = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE {} = %s").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)) if columns else sql.SQL("*"),
            sql.Identifier(schema, config.name),
            sql.Identifier(RUN_COLUMN),
        ),
        (run,),
    )
    names = [column.name for column in cursor.description or ()]
    return pd.DataFrame(cursor.fetchall(), columns=names, dtype=object)


def count_stored_run(
    conn: psycopg.Connection[Any], config: SourceConfig, run: str
) -> RecordFileFacts:
    """A loaded run's facts, counted from its stored records and its loaded rows."""
    fields = list(
        dict.fromkeys(
            [config.id_field, *(d.field for a in config.aggregates for d in a.dimensions)]
        )
    )
    store = _run_rows(conn, config, "private", fields, run)
    published = _run_rows(conn, config, "curated", [], run)
    return count_record_file(config, store, published)


def backfill(
    conn: psycopg.Connection[Any], config: SourceConfig, exclude_run: str | None = None
) -> int:
    """Count and store the facts of every stale run but `exclude_run`; how many runs that
    was. Idempotent; in a transaction of its own (it commits what `conn` had open), under the
    lock the loads take, so that a run is never counted twice at once."""
    if not needs_facts(config):
        return 0
    _, stale = stale_runs(conn, config, exclude_run)
    if not stale:
        return 0
    conn.commit()  # the check above read in an implicit transaction: the lock needs its own
    with conn.transaction():
        _lock(conn, config)
        _, stale = stale_runs(conn, config, exclude_run)  # another stage may have done them
        for run in stale:
            write_run_facts(conn, config, run, count_stored_run(conn, config, run))
    if stale:
        log.info(
            "%s: record file facts backfilled for %d loaded run(s) that had none (or stale "
            "ones): %s",
            config.name,
            len(stale),
            ", ".join(stale[:5]) + (", ..." if len(stale) > 5 else ""),
        )
    return len(stale)


def stored_facts(
    conn: psycopg.Connection[Any], config: SourceConfig, exclude_run: str | None = None
) -> RecordFileFacts:
    """The facts of every run the store holds but `exclude_run`, summed in SQL. Refuses
    (fail closed) if a run's facts are missing or stale: `backfill` first."""
    runs, stale = stale_runs(conn, config, exclude_run)
    if stale:
        raise RecordFileFactsError(
            f"{config.name}: {len(stale)} loaded run(s) have no record file facts for the "
            f"records the store holds (first {stale[0]}): the tables cannot be protected "
            "against the record file; rerun the stage (it backfills them)"
        )
    rows = conn.execute(
        sql.SQL(
            "SELECT kind, name, key, sum(count) FROM {} WHERE source = %s AND run_id = ANY(%s) "
            "GROUP BY kind, name, key"
        ).format(FACTS_TABLE),
        (config.name, list(runs)),
    ).fetchall()
    return RecordFileFacts.from_rows(rows)


__all__ = [
    "RecordFileFactsError",
    "backfill",
    "count_stored_run",
    "facts_basis",
    "needs_facts",
    "stale_runs",
    "stored_facts",
    "write_run_facts",
]
