"""Tables whose columns derive from a source configuration: create, widen, bulk-copy.

WHY a module of its own: the record-level tables (`curated`), the aggregates and the
private record store are all defined from `sources/<source>.yaml`, so a new field
becomes a new column (`ADD COLUMN IF NOT EXISTS`) without a hand-written migration,
and all of them are written with COPY, never row by row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from include.anonymization.pseudonyms import pseudonym_column
from include.core.source_config import Aggregate, FieldType, Role, SourceConfig

PG_TYPES = {
    FieldType.STRING: "text",
    FieldType.CATEGORY: "text",
    FieldType.INTEGER: "bigint",
    FieldType.NUMBER: "double precision",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "date",
    FieldType.DATETIME: "timestamptz",
}
RUN_COLUMN = "run_id"


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
        pg_type = "text" if spec.role is Role.QUASI_IDENTIFIER else PG_TYPES[spec.type]
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


def ensure_table(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    columns: Sequence[tuple[str, str]],
    primary_key: str | None = None,
) -> None:
    """The table with at least `columns`, and an index on the run column.

    Runs before every load: where the table, its columns and its index already exist
    it takes no lock beyond reading the catalog (an ALTER TABLE or CREATE INDEX would
    wait for every analyst's query on the table, and block the next ones meanwhile).
    """
    ident = sql.Identifier(schema, table)
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type)) for name, pg_type in columns
    )
    if primary_key is not None:
        definition = sql.SQL("{}, PRIMARY KEY ({})").format(definition, sql.Identifier(primary_key))
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(ident, definition))
    present = {
        row[0]
        for row in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped",
            (ident.as_string(conn),),
        ).fetchall()
    }
    for name, pg_type in columns:
        if name not in present:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    ident, sql.Identifier(name), sql.SQL(pg_type)
                )
            )
    index = f"{table}_run_idx"
    qualified = sql.Identifier(schema, index).as_string(conn)
    if conn.execute("SELECT to_regclass(%s)", (qualified,)).fetchone() == (None,):
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(index), ident, sql.Identifier(RUN_COLUMN)
            )
        )


COPY_SLICE_ROWS = 50_000
# PostgreSQL's CSV format as Arrow writes it: every text value quoted (so an empty string
# stays one) and a missing value as an empty unquoted cell, which COPY reads as NULL.
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def _csv_slices(frame: pd.DataFrame, names: Sequence[str]) -> Iterator[pa.Buffer]:
    """The rows as CSV for COPY, with pandas' missing markers (NaN, NaT, NA) as NULL.

    WHY Arrow's CSV writer: psycopg formatted a row at a time from Python values, 11 s of
    the 20 s a million-row load took (py-spy); Arrow formats in C++.
    WHY in slices: the text of a slice at a time, never the whole table's.
    """
    columns = frame[list(names)]
    for start in range(0, len(columns), COPY_SLICE_ROWS):
        part = pa.Table.from_pandas(
            columns.iloc[start : start + COPY_SLICE_ROWS], preserve_index=False
        )
        sink = pa.BufferOutputStream()
        pacsv.write_csv(part, sink, _CSV_OPTIONS)
        yield sink.getvalue()


def copy_frame(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    frame: pd.DataFrame,
    names: Sequence[str],
) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with conn.cursor().copy(statement) as copy:
        for text in _csv_slices(frame, names):
            copy.write(memoryview(text))
    return len(frame)


def delete_run(conn: psycopg.Connection[Any], schema: str, table: str, run_id: str) -> None:
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE {} = %s").format(
            sql.Identifier(schema, table), sql.Identifier(RUN_COLUMN)
        ),
        (run_id,),
    )
