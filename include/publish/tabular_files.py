"""Write one published table as CSV and as Parquet, deterministically.

CSV: UTF-8 *without* a byte-order mark, comma, header row, RFC 4180 quoting
(only cells holding a comma, a quote or a line break are quoted, quotes are
doubled), CRLF line ends as RFC 4180 and the Frictionless default dialect say,
missing values as empty cells, text cells neutralised against formula injection
(`csv_safety`). Why no BOM: data.gouv.fr and the Frictionless/RFC 4180 tools
expect plain UTF-8, and a BOM corrupts the first column name for many
programmatic readers (`\\ufeffresponse_id`); a BOM would not make a double-click
in a French Excel work anyway, since French Excel expects `;` and would still put
every row in one column. The README explains the import path for Excel
(Données > À partir d'un fichier texte/CSV, UTF-8, virgule), and the Parquet file
serves tools that want types.

Values are formatted by Arrow (integers as digits, numbers in shortest
round-trip form, booleans as true/false, dates as YYYY-MM-DD, timestamps as
YYYY-MM-DDThh:mm:ssZ) and written in batches, so memory stays bounded by one
batch of text whatever the table size.

Parquet: the same columns and types (`columns.ARROW_TYPES`), zstd-compressed,
with each column's French description as field metadata. Output is
byte-identical for identical input with the pinned pyarrow version.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from include.publish.csv_safety import neutralise_formulas

CSV_DIALECT = {
    "delimiter": ",",
    "lineTerminator": "\r\n",
    "quoteChar": '"',
    "doubleQuote": True,
    "header": True,
}
BATCH_ROWS = 65_536
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class CsvStats:
    rows: int
    neutralised_cells: int


def _as_text(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, int]:
    """The CSV text of one column (nulls stay null) and how many cells were neutralised."""
    kind = column.type
    if pa.types.is_string(kind):
        return neutralise_formulas(column)
    if pa.types.is_timestamp(kind):
        # Whole seconds (see columns.py): the cast to seconds is exact, and %S then prints no
        # fraction.
        seconds = column.cast(pa.timestamp("s", tz="UTC"))
        return pc.strftime(seconds, format=TIMESTAMP_FORMAT), 0
    return pc.cast(column, pa.string()), 0


def write_csv(table: pa.Table, path: Path) -> CsvStats:
    """Write `table` as the platform's CSV; return its row count and neutralised cells.

    A batch of rows at a time, from its values to its text: the table's text is never
    held whole beside the table (it is as large, and a record table grows with the run)."""
    neutralised = 0
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(
            stream,
            delimiter=CSV_DIALECT["delimiter"],
            quotechar=CSV_DIALECT["quoteChar"],
            doublequote=True,
            lineterminator=CSV_DIALECT["lineTerminator"],
            quoting=csv.QUOTE_MINIMAL,
        )
        writer.writerow(table.column_names)
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            texts = []
            for column in batch.columns:
                text, count = _as_text(pa.chunked_array([column]))
                texts.append(pc.fill_null(text, "").to_pylist())
                neutralised += count
            writer.writerows(zip(*texts, strict=True))
    return CsvStats(rows=table.num_rows, neutralised_cells=neutralised)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` as Parquet with the same columns and types as the CSV."""
    pq.write_table(table, path, compression="zstd", write_statistics=True)
