"""The private record store: every scrubbed, pseudonymized record at full precision.

WHY in PostgreSQL and not in the work zone: the aggregates are statistics over every
submission to date, so what they are computed from must be as durable as the
published tables themselves. Records are written in the run's load transaction (with
`curated` and `aggregates`), so the store holds exactly the records of the loaded
runs; the work zone only holds a run's transient chunks, and losing it can slow a
rerun, never change a figure. The schema `private` is owned by the pipeline's role
and granted to nobody: analysts, Superset and the exports never read it.

The record id is the table's primary key: a record is stored (and so counted) once,
whatever a run or a rerun does. Free text is not kept here (no statistic counts it;
the scrubbed text lives in `curated` only): the store holds no more than it needs.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from include.aggregates import WEIGHT, group_fields
from include.anonymization.pseudonyms import pseudonym_column
from include.pg_tables import PG_TYPES, RUN_COLUMN, copy_frame, delete_run, ensure_table
from include.source_config import Aggregate, Role, SourceConfig

SCHEMA = "private"


class RecordStoreError(RuntimeError):
    """The record store refused a write, or does not hold what it should."""


def store_columns(config: SourceConfig) -> list[tuple[str, str]]:
    """(column, PostgreSQL type): every field but the direct identifiers and the free text,
    at full precision and in its own type, the keyed pseudonyms where configured, the run."""
    columns = []
    for spec in config.fields:
        if spec.role is Role.FREE_TEXT:
            continue
        if spec.role is Role.DIRECT_IDENTIFIER:
            if spec.pseudonymize:
                columns.append((pseudonym_column(spec.name), "text"))
            continue
        columns.append((spec.name, PG_TYPES[spec.type]))
    return [*columns, (RUN_COLUMN, "text")]


def ensure_store(conn: psycopg.Connection[Any], config: SourceConfig) -> None:
    ensure_table(conn, SCHEMA, config.name, store_columns(config), primary_key=config.id_field)


def write_run(
    conn: psycopg.Connection[Any], config: SourceConfig, run_id: str, records: pd.DataFrame
) -> int:
    """Replace the run's records with `records` (the run's scrubbed chunks), in the
    caller's transaction. A record id already stored by another run is refused."""
    names = [name for name, _ in store_columns(config)]
    leaked = sorted({spec.name for spec in config.direct_identifiers} & set(records.columns))
    missing = sorted(set(names) - {RUN_COLUMN} - set(records.columns))
    if leaked or missing:
        raise RecordStoreError(
            f"{config.name}: the run's records do not fit the record store: "
            f"direct identifiers {leaked}, missing columns {missing}"
        )
    delete_run(conn, SCHEMA, config.name, run_id)
    try:
        return copy_frame(conn, SCHEMA, config.name, records.assign(**{RUN_COLUMN: run_id}), names)
    except pg_errors.UniqueViolation as exc:
        detail = exc.diag.message_detail or str(exc)
        raise RecordStoreError(
            f"{config.name} run {run_id}: a record is already stored by another run "
            f"({detail}); a record is published once: refusing the load"
        ) from None


def _other_runs(exclude_run: str | None) -> tuple[sql.Composable, tuple[str, ...]]:
    """The WHERE clause (and its parameter) that leaves one run's records out, if any."""
    if exclude_run is None:
        return sql.SQL(""), ()
    return sql.SQL("WHERE {} <> %s").format(sql.Identifier(RUN_COLUMN)), (exclude_run,)


def record_count(
    conn: psycopg.Connection[Any], config: SourceConfig, exclude_run: str | None = None
) -> int:
    """Records stored, all of them or but one run's."""
    where, params = _other_runs(exclude_run)
    query = sql.SQL("SELECT count(*) FROM {} {}").format(sql.Identifier(SCHEMA, config.name), where)
    row = conn.execute(query, params).fetchone()
    return int(row[0]) if row else 0


def store_groups(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    aggregate: Aggregate,
    exclude_run: str | None = None,
) -> pd.DataFrame:
    """The stored records grouped as `include.aggregates.group_records` groups a frame:
    the aggregate's fields (timestamps by UTC day where a level coarsens them) and `n`.

    `exclude_run` leaves one run's records out (a run recomputing its own share)."""
    fields = group_fields(config, aggregate)
    keys = [
        sql.SQL("({} AT TIME ZONE 'UTC')::date").format(sql.Identifier(name))
        if by_day
        else sql.Identifier(name)
        for name, by_day in fields
    ]
    where, params = _other_runs(exclude_run)
    query = sql.SQL("SELECT {}, count(*) FROM {} {} GROUP BY {}").format(
        sql.SQL(", ").join(keys),
        sql.Identifier(SCHEMA, config.name),
        where,
        sql.SQL(", ").join(sql.Literal(position + 1) for position in range(len(keys))),
    )
    rows = conn.execute(query, params).fetchall()
    columns = [name for name, _ in fields]
    frame = pd.DataFrame(rows, columns=[*columns, WEIGHT], dtype=object)
    return frame.astype({WEIGHT: "int64"})


def stored_records(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    fields: list[str],
    exclude_run: str | None = None,
) -> pd.DataFrame:
    """The stored records' `fields` (and their id), all of them or but one run's: what the
    tables count, read to see what the record file tells of each cell."""
    columns = list(dict.fromkeys([config.id_field, *fields]))
    where, params = _other_runs(exclude_run)
    cursor = conn.execute(
        sql.SQL("SELECT {} FROM {} {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.Identifier(SCHEMA, config.name),
            where,
        ),
        params,
    )
    return pd.DataFrame(cursor.fetchall(), columns=columns, dtype=object)
