"""Valid rows, buffered by column, written as typed Parquet chunks of the work zone.

WHY: downstream stages (PII scrub, k-anonymity) fan out over chunks, so a chunk is
the unit of work: `CIVIC_CHUNK_ROWS` rows (50,000 by default), typed columns exactly
as the source configuration declares them (and nothing else: undeclared fields never
leave the raw zone), timestamps in UTC. Writing is deterministic (same rows, same bytes), so a
rerun rewrites identical objects.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from include.core.source_config import FieldType, SourceConfig

CONTENT_TYPE = "application/vnd.apache.parquet"

_ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.CATEGORY: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.NUMBER: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.DATETIME: pa.timestamp("us", tz="UTC"),
}


def arrow_schema(config: SourceConfig) -> pa.Schema:
    """The chunk schema: one column per configured field, in order; required = not null."""
    return pa.schema(
        [
            pa.field(
                spec.name,
                _ARROW_TYPES[spec.type],
                nullable=not (spec.required or spec.name == config.id_field),
            )
            for spec in config.fields
        ],
        metadata={"civic.source": config.name},
    )


class ChunkBuffer:
    """Rows waiting for the duplicate check, by column, with where each came from.

    The raw text rides along only until the chunk is written, for the duplicates log.
    """

    def __init__(self, width: int) -> None:
        self.columns: list[list[Any]] = [[] for _ in range(width)]
        self.ids: list[str] = []
        self.fingerprints: list[bytes] = []
        self.origins: list[tuple[str, int]] = []
        self.raws: list[str | bytes] = []

    def __len__(self) -> int:
        return len(self.ids)

    def append(
        self,
        values: list[Any],
        record_id: str,
        fingerprint: bytes,
        origin: tuple[str, int],
        raw: str | bytes,
    ) -> None:
        for column, value in zip(self.columns, values, strict=True):
            column.append(value)
        self.ids.append(record_id)
        self.fingerprints.append(fingerprint)
        self.origins.append(origin)
        self.raws.append(raw)

    def table(self, schema: pa.Schema, drop: set[int]) -> pa.Table:
        """The buffered rows as an Arrow table, without the positions in `drop`."""
        table = pa.Table.from_arrays(
            [
                pa.array(column, type=field.type)
                for column, field in zip(self.columns, schema, strict=True)
            ],
            schema=schema,
        )
        if drop:
            table = table.filter(pa.array([row not in drop for row in range(len(self))]))
        return table


def parquet_bytes(table: pa.Table, row_group_rows: int | None = None) -> bytes:
    """One Parquet file, zstd, byte-stable: one row group, or row groups of
    `row_group_rows` rows for a reader that takes it a row group at a time."""
    sink = io.BytesIO()
    rows = row_group_rows or max(len(table), 1)
    pq.write_table(table, sink, compression="zstd", row_group_size=rows)
    return sink.getvalue()
