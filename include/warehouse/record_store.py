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

Every record also has its `record_key` (`bigint NOT NULL`, in [0, 2**32)): the random key
of the cell key method (`include.anonymization.cell_key`, whose docstring says why it is a
stored random draw and not a hash of the id). It is drawn once, by the run that first
anonymizes the record (`keys_for_records`, which carries over the key of an id already
stored), and never again: `write_run` refuses to replace a stored record's key with
another. Every source has the column, whatever its disclosure method, so that a source
can switch to the cell key method without a backfill; a store created before the column
existed gets it, with freshly drawn keys for the records it holds (`ensure_store`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from include.anonymization.cell_key import KEY_MODULUS, draw_record_keys
from include.anonymization.pseudonyms import pseudonym_column
from include.core.source_config import Aggregate, Role, SourceConfig
from include.warehouse.aggregates import KEY_SUM, RECORD_KEY, WEIGHT, group_fields
from include.warehouse.pg_tables import PG_TYPES, RUN_COLUMN, copy_frame, delete_run, ensure_table

SCHEMA = "private"
_KEY_RANGE = f"CHECK ({RECORD_KEY} >= 0 AND {RECORD_KEY} < {KEY_MODULUS})"
RECORD_KEY_TYPE = f"bigint NOT NULL {_KEY_RANGE}"
_DRAWN_KEYS = "_drawn_record_keys"  # temporary table of a store's first keys

log = logging.getLogger(__name__)


class RecordStoreError(RuntimeError):
    """The record store refused a write, or does not hold what it should."""


def store_columns(config: SourceConfig) -> list[tuple[str, str]]:
    """(column, PostgreSQL type): every field but the direct identifiers and the free text,
    at full precision and in its own type, the keyed pseudonyms where configured, the
    record key, the run."""
    if any(spec.name in (RECORD_KEY, RUN_COLUMN) for spec in config.fields):
        raise RecordStoreError(
            f"{config.name}: a field may not be named '{RECORD_KEY}' or '{RUN_COLUMN}' (the "
            "record store keeps its own columns of those names); rename the field"
        )
    columns = []
    for spec in config.fields:
        if spec.role is Role.FREE_TEXT:
            continue
        if spec.role is Role.DIRECT_IDENTIFIER:
            if spec.pseudonymize:
                columns.append((pseudonym_column(spec.name), "text"))
            continue
        columns.append((spec.name, PG_TYPES[spec.type]))
    return [*columns, (RECORD_KEY, RECORD_KEY_TYPE), (RUN_COLUMN, "text")]


def _lacks_record_keys(conn: psycopg.Connection[Any], table: sql.Identifier) -> bool:
    """Whether the store table exists without its record key column (made before it)."""
    row = conn.execute(
        "SELECT to_regclass(%(t)s) IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute "
        "WHERE attrelid = to_regclass(%(t)s) AND attname = %(c)s AND NOT attisdropped)",
        {"t": table.as_string(conn), "c": RECORD_KEY},
    ).fetchone()
    return bool(row and row[0])


def _add_record_keys(conn: psycopg.Connection[Any], config: SourceConfig) -> None:
    """A store made before record keys existed: add the column and draw a key for every
    record it holds, in one transaction (the column is NOT NULL once it commits). The keys
    go in by COPY into a temporary table and one UPDATE, not row by row."""
    table = sql.Identifier(SCHEMA, config.name)
    if not _lacks_record_keys(conn, table):
        return
    column, record_id = sql.Identifier(RECORD_KEY), sql.Identifier(config.id_field)
    drawn = sql.Identifier("pg_temp", _DRAWN_KEYS)
    with conn.transaction():
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} bigint {}").format(
                table, column, sql.SQL(_KEY_RANGE)
            )
        )
        # Same column types as the store's, empty: the drawn keys are copied into it.
        conn.execute(
            sql.SQL(
                "CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {}, {} FROM {} WITH NO DATA"
            ).format(sql.Identifier(_DRAWN_KEYS), record_id, column, table)
        )
        ids = [
            row[0] for row in conn.execute(sql.SQL("SELECT {} FROM {}").format(record_id, table))
        ]
        keyed = pd.DataFrame({config.id_field: ids, RECORD_KEY: draw_record_keys(len(ids))})
        copy_frame(conn, "pg_temp", _DRAWN_KEYS, keyed, [config.id_field, RECORD_KEY])
        conn.execute(
            sql.SQL("UPDATE {} s SET {c} = d.{c} FROM {} d WHERE s.{i} = d.{i}").format(
                table, drawn, c=column, i=record_id
            )
        )
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL").format(table, column))
    log.warning(
        "%s: the record store had no %s column (it predates the cell key method): added, with "
        "a key drawn for each of the %d records it holds; these keys are kept from now on",
        config.name,
        RECORD_KEY,
        len(ids),
    )


def ensure_store(conn: psycopg.Connection[Any], config: SourceConfig) -> None:
    """The source's store table, with its record keys (added to an older store first)."""
    _add_record_keys(conn, config)
    ensure_table(conn, SCHEMA, config.name, store_columns(config), primary_key=config.id_field)


def keys_for_records(
    conn: psycopg.Connection[Any], config: SourceConfig, run_id: str, ids: pd.Series
) -> tuple[pd.Series, int]:
    """The record key of each id of run `run_id` (in `ids`' order), and how many were
    carried over.

    An id the run already stored keeps its stored key (a rerun of a run, whose records
    its first attempt stored); any other gets a fresh key from the CSPRNG. The caller
    must then store exactly these keys with the records (`write_run` checks it, and
    refuses an id another run stored: ingest lets an id into one run only).
    WHY the run's stored records and not a lookup of `ids`: a first attempt, the usual
    case, then reads nothing, where a million ids sent as an array took 3 s.
    """
    values = ids.tolist()
    if len(set(values)) != len(values) or ids.isna().any():
        raise RecordStoreError(
            f"{config.name}: record ids must be present and unique to be given keys"
        )
    stored = _run_keys(conn, config, run_id)
    carried = pd.Series([stored.get(value) for value in values], index=ids.index, dtype="Int64")
    fresh = carried.isna().to_numpy()
    keys = carried.to_numpy(dtype=np.int64, na_value=0)
    keys[fresh] = draw_record_keys(int(fresh.sum()))
    return (
        pd.Series(keys, index=ids.index, name=RECORD_KEY, dtype=np.int64),
        len(values) - int(fresh.sum()),
    )


def _check_keys(
    config: SourceConfig, run_id: str, records: pd.DataFrame, before: Mapping[Any, int]
) -> None:
    """Every record has a key in range, and a record the run stored before (`before`: id →
    key of the run's records as the store held them) keeps its key."""
    if RECORD_KEY not in records.columns:
        raise RecordStoreError(
            f"{config.name} run {run_id}: the records carry no '{RECORD_KEY}' column; give "
            "each its key (keys_for_records) when the run is anonymized, before it is stored"
        )
    keys = pd.to_numeric(records[RECORD_KEY], errors="coerce")
    bad = keys.isna() | (keys < 0) | (keys >= KEY_MODULUS) | (keys != keys.round())
    if bad.any():
        raise RecordStoreError(
            f"{config.name} run {run_id}: {int(bad.sum())} record(s) without a valid key "
            f"(an integer in [0, {KEY_MODULUS}))"
        )
    if not before:
        return
    previous = records[config.id_field].map(before)
    changed = previous.notna() & (previous != keys)
    if changed.any():
        raise RecordStoreError(
            f"{config.name} run {run_id}: {int(changed.sum())} record(s) already stored would "
            "get another key than the one they have (a key is drawn once and kept, or the "
            "same cell would read differently from one release to the next): refusing the "
            "load; re-run the run from its anonymize task, which carries the stored keys over"
        )


def _run_keys(conn: psycopg.Connection[Any], config: SourceConfig, run_id: str) -> dict[Any, int]:
    """id → record key of the records the run stored before (a rerun's first attempt)."""
    query = sql.SQL("SELECT {}, {} FROM {} WHERE {} = %s").format(
        sql.Identifier(config.id_field),
        sql.Identifier(RECORD_KEY),
        sql.Identifier(SCHEMA, config.name),
        sql.Identifier(RUN_COLUMN),
    )
    return dict(conn.execute(query, (run_id,)).fetchall())


def _write_frame(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    run_id: str,
    frame: pd.DataFrame,
    names: Sequence[str],
    before: Mapping[Any, int],
) -> int:
    """Check one frame of the run's records, then copy it into the store."""
    leaked = sorted({spec.name for spec in config.direct_identifiers} & set(frame.columns))
    missing = sorted(set(names) - {RUN_COLUMN, RECORD_KEY} - set(frame.columns))
    if leaked or missing:
        raise RecordStoreError(
            f"{config.name}: the run's records do not fit the record store: "
            f"direct identifiers {leaked}, missing columns {missing}"
        )
    _check_keys(config, run_id, frame, before)
    try:
        return copy_frame(conn, SCHEMA, config.name, frame.assign(**{RUN_COLUMN: run_id}), names)
    except pg_errors.UniqueViolation as exc:
        detail = exc.diag.message_detail or str(exc)
        raise RecordStoreError(
            f"{config.name} run {run_id}: a record is already stored by another run "
            f"({detail}); a record is published once: refusing the load"
        ) from None


def write_run(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    run_id: str,
    records: pd.DataFrame | Iterable[pd.DataFrame],
) -> int:
    """Replace the run's records with `records` (the run's scrubbed chunks, each with its
    `record_key`: one frame, or frames read one at a time), in the caller's transaction,
    and return how many were stored. A record id already stored by another run is refused,
    and so is a key other than the one a record of the run already has: every frame is
    checked before it is copied, and a refusal leaves the store as it was."""
    names = [name for name, _ in store_columns(config)]
    before = _run_keys(conn, config, run_id)
    stored = 0
    # A savepoint: a frame refused midway leaves the store as it was, earlier frames too.
    with conn.transaction():
        delete_run(conn, SCHEMA, config.name, run_id)
        for frame in [records] if isinstance(records, pd.DataFrame) else records:
            stored += _write_frame(conn, config, run_id, frame, names, before)
    return stored


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
    """The stored records grouped as `include.warehouse.aggregates.group_records` groups a frame:
    the aggregate's fields (timestamps by UTC day where a level coarsens them), `n` and
    `key_sum` (the sum of the group's record keys modulo 2**32, exact: integer arithmetic).

    `exclude_run` leaves one run's records out (a run recomputing its own share)."""
    fields = group_fields(config, aggregate)
    keys = [
        sql.SQL("({} AT TIME ZONE 'UTC')::date").format(sql.Identifier(name))
        if by_day
        else sql.Identifier(name)
        for name, by_day in fields
    ]
    where, params = _other_runs(exclude_run)
    query = sql.SQL("SELECT {}, count(*), (sum({}) %% {})::bigint FROM {} {} GROUP BY {}").format(
        sql.SQL(", ").join(keys),
        sql.Identifier(RECORD_KEY),
        sql.Literal(KEY_MODULUS),
        sql.Identifier(SCHEMA, config.name),
        where,
        sql.SQL(", ").join(sql.Literal(position + 1) for position in range(len(keys))),
    )
    rows = conn.execute(query, params).fetchall()
    columns = [name for name, _ in fields]
    frame = pd.DataFrame(rows, columns=[*columns, WEIGHT, KEY_SUM], dtype=object)
    return frame.astype({WEIGHT: "int64", KEY_SUM: "int64"})
