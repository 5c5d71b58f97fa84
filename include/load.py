"""Load a run's protected tables into PostgreSQL: `curated` and `aggregates` schemas.

One transaction per run: the run's record-level rows replace that run's earlier
rows (a rerun leaves no duplicates), and each aggregate table is replaced as a
whole (an aggregate is a snapshot of all records to date). Bulk COPY, never
row-by-row INSERT. Table definitions derive from the source configuration, so
a new field becomes a new column (`ADD COLUMN IF NOT EXISTS`) without a
hand-written migration; the schemas themselves are in `include/sql/warehouse.sql`.

Direct identifiers never reach this module: `curated_columns` has no place for
them, and `load_run` refuses a frame that still carries one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from include.anonymization.pseudonyms import pseudonym_column
from include.source_config import Aggregate, FieldType, Role, SourceConfig

WAREHOUSE_SQL = Path(__file__).resolve().parent / "sql" / "warehouse.sql"
_PG_TYPES = {
    FieldType.STRING: "text",
    FieldType.CATEGORY: "text",
    FieldType.INTEGER: "bigint",
    FieldType.NUMBER: "double precision",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "date",
    FieldType.DATETIME: "timestamptz",
}
RUN_COLUMN = "run_id"


class LoadError(RuntimeError):
    """A table does not fit the warehouse: refused before anything is written."""


def curated_columns(config: SourceConfig) -> list[tuple[str, str]]:
    """(column, PostgreSQL type) of the record-level table, in a fixed order.

    Quasi-identifiers are generalization labels ("20-29", "Île-de-France"), hence text.
    """
    columns = []
    for spec in config.fields:
        if spec.role is Role.DIRECT_IDENTIFIER:
            if spec.pseudonymize:
                columns.append((pseudonym_column(spec.name), "text"))
            continue
        pg_type = "text" if spec.role is Role.QUASI_IDENTIFIER else _PG_TYPES[spec.type]
        columns.append((spec.name, pg_type))
    return [*columns, (RUN_COLUMN, "text")]


def aggregate_table(config: SourceConfig, aggregate_name: str) -> str:
    return f"{config.name}__{aggregate_name}"


def aggregate_columns(aggregate: Aggregate) -> list[tuple[str, str]]:
    dims = [(dim.column, "text") for dim in aggregate.dimensions]
    return [
        *dims,
        ("count", "bigint"),
        ("suppressed", "boolean"),
        ("suppression_reason", "text"),
        (RUN_COLUMN, "text"),
    ]


@dataclass(frozen=True)
class LoadResult:
    run_id: str
    curated_rows: int
    aggregate_rows: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "curated_rows": self.curated_rows,
            "aggregate_rows": self.aggregate_rows,
        }


def ensure_warehouse(conn: psycopg.Connection) -> None:
    conn.execute(WAREHOUSE_SQL.read_text())


def _ensure_table(
    conn: psycopg.Connection, schema: str, table: str, columns: Sequence[tuple[str, str]]
) -> None:
    ident = sql.Identifier(schema, table)
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type)) for name, pg_type in columns
    )
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(ident, definition))
    for name, pg_type in columns:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                ident, sql.Identifier(name), sql.SQL(pg_type)
            )
        )
    conn.execute(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
            sql.Identifier(f"{table}_run_idx"), ident, sql.Identifier(RUN_COLUMN)
        )
    )


def _ensure_source_tables(conn: psycopg.Connection, config: SourceConfig) -> None:
    _ensure_table(conn, "curated", config.name, curated_columns(config))
    for aggregate in config.aggregates:
        table = aggregate_table(config, aggregate.name)
        _ensure_table(conn, "aggregates", table, aggregate_columns(aggregate))


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


def _rows(frame: pd.DataFrame, names: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Rows as Python values, with pandas' missing markers (NaN, NaT, NA) as None."""
    clean = frame[list(names)].astype(object).where(frame[list(names)].notna(), None)
    yield from clean.itertuples(index=False, name=None)


def _copy(
    conn: psycopg.Connection, schema: str, table: str, frame: pd.DataFrame, names: Sequence[str]
) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with conn.cursor().copy(statement) as copy:
        for row in _rows(frame, names):
            copy.write_row(row)
    return len(frame)


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


def load_run(
    dsn: str,
    config: SourceConfig,
    run_id: str,
    curated: pd.DataFrame | None,
    aggregates: Mapping[str, pd.DataFrame],
) -> LoadResult:
    """Replace this run's record-level rows and every aggregate of the source, atomically.

    `aggregates` maps each configured aggregate's name to its protected cells
    (`ProtectedAggregate.cells`); an aggregate the config does not declare is refused.
    """
    declared = {aggregate.name: aggregate for aggregate in config.aggregates}
    unknown = sorted(set(aggregates) - set(declared))
    if unknown:
        raise LoadError(f"{config.name}: aggregates {unknown} are not in the source config")
    columns = curated_columns(config)
    names = [name for name, _ in columns]
    records = None if curated is None else curated.assign(**{RUN_COLUMN: run_id})
    if records is not None:
        _check_curated(config, records, names)
    with psycopg.connect(dsn) as conn, conn.transaction():
        ensure_warehouse(conn)
        _ensure_source_tables(conn, config)
        curated_rows = 0
        if records is not None:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE {} = %s").format(
                    sql.Identifier("curated", config.name), sql.Identifier(RUN_COLUMN)
                ),
                (run_id,),
            )
            curated_rows = _copy(conn, "curated", config.name, records, names)
        aggregate_rows = {}
        for name, cells in aggregates.items():
            table = aggregate_table(config, name)
            agg_columns = aggregate_columns(declared[name])
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("aggregates", table)))
            frame = cells.assign(**{RUN_COLUMN: run_id})
            for dim in declared[name].dimensions:
                frame[dim.column] = frame[dim.column].astype(str)
            agg_names = [n for n, _ in agg_columns]
            aggregate_rows[name] = _copy(conn, "aggregates", table, frame, agg_names)
        # In the same transaction: later runs count this run's submissions in their
        # aggregates exactly when its tables are in the warehouse.
        conn.execute(
            "INSERT INTO pipeline.loaded_runs (source, run_id) VALUES (%s, %s) "
            "ON CONFLICT (source, run_id) DO UPDATE SET loaded_at = now()",
            (config.name, run_id),
        )
    return LoadResult(run_id, curated_rows, aggregate_rows)
