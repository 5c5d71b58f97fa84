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

Rows are written by Arrow too, byte for byte as Python's `csv` module writes them
with the dialect above (QUOTE_MINIMAL): a cell is quoted, its quotes doubled, when
it holds the delimiter, the quote character, `\\r` or `\\n`, and the one empty cell
of a one-column row is written `""`, as CPython's `Modules/_csv.c` does. Arrow
computes each batch's cells and joins them into rows, and the batch's UTF-8 bytes
go to the file as they lie in Arrow's buffer. Why not `csv.writer`: it needs one
Python string per cell and per row. At a million published rows (the curated
table's 8 text columns, 352 MB of CSV) it took 7.0-7.2 s, the Arrow path 0.9-1.3 s
for the same bytes; with quotes, line breaks and formulas in most cells, 3.5 s
against 1.8-2.2 s. Tests hold the two byte-identical (`csv.writer` is the oracle).

Parquet: the same columns and types (`columns.ARROW_TYPES`), zstd-compressed,
with each column's French description as field metadata. Output is
byte-identical for identical input with the pinned pyarrow version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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

# What csv.writer's QUOTE_MINIMAL quotes a cell for (CPython's Modules/_csv.c): the
# delimiter, the quote character or a character of the line terminator. RE2 syntax.
_SPECIAL_CHARACTERS = (",", '"', r"\r", r"\n")
_NEEDS_QUOTES = "[" + "".join(_SPECIAL_CHARACTERS) + "]"
_QUOTE_PATTERN = '"'
# Cells are built as large strings (see `_rows`); the pieces joined to them must match.
_TEXT = pa.large_string()
_QUOTE = pa.scalar(CSV_DIALECT["quoteChar"], _TEXT)
_DELIMITER = pa.scalar(CSV_DIALECT["delimiter"], _TEXT)
_TERMINATOR = pa.scalar(CSV_DIALECT["lineTerminator"], _TEXT)
_NOTHING = pa.scalar("", _TEXT)


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
    with path.open("wb") as stream:
        if not table.num_columns:
            # What csv.writer writes for no columns: an empty header line and no rows.
            stream.write(_TERMINATOR.as_py().encode("utf-8"))
            return CsvStats(rows=table.num_rows, neutralised_cells=0)
        _write_rows(stream, [pa.array([name], _TEXT) for name in table.column_names])
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            texts = []
            for column in batch.columns:
                text, count = _as_text(pa.chunked_array([column]))
                texts.append(_one_array(pc.fill_null(text, "")).cast(_TEXT))
                neutralised += count
            _write_rows(stream, texts)
    return CsvStats(rows=table.num_rows, neutralised_cells=neutralised)


def _one_array(text: pa.ChunkedArray) -> pa.Array:
    """The column as one array, without the copy `combine_chunks` makes of a lone chunk."""
    return text.chunk(0) if text.num_chunks == 1 else text.combine_chunks()


def _write_rows(stream: BinaryIO, texts: list[pa.Array]) -> None:
    """Write one CSV row per position of `texts` (one text array per column, no nulls)."""
    rows = _rows(texts)
    if not len(rows):
        return
    # An Arrow string can hold bytes that are not UTF-8, and the file promises UTF-8: a
    # batch holding such bytes is refused (as csv.writer refused it) before it is written.
    rows.validate(full=True)
    data, start, end = _span(rows)
    stream.write(memoryview(data)[start:end])


def _rows(texts: list[pa.Array]) -> pa.Array:
    """Each row's CSV line, terminator included: the cells joined by the delimiter.

    Large strings (64-bit offsets), so that no batch of rows, however long its free
    text, overflows an array."""
    pieces: list[pa.Array | pa.Scalar] = []
    for index, text in enumerate(texts):
        if index:
            pieces.append(_DELIMITER)
        pieces += _cells(text, alone=len(texts) == 1)
    pieces.append(_TERMINATOR)
    return pc.binary_join_element_wise(*pieces, _NOTHING)


def _cells(text: pa.Array, *, alone: bool) -> list[pa.Array | pa.Scalar]:
    """One column's cells as pieces to join: the text, or an opening mark, the text with
    its quotes doubled and a closing mark, the marks being `"` where a cell is quoted.

    `alone`: the column is the row's only one, whose empty cell csv.writer quotes (an
    empty line would read as no row at all)."""
    if not alone and not _holds_any(text, _SPECIAL_CHARACTERS):
        return [text]
    quoted = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if alone:
        quoted = pc.or_(quoted, pc.equal(pc.binary_length(text), 0))
    if not pc.any(quoted).as_py():
        return [text]
    if _holds_any(text, (_QUOTE_PATTERN,)):
        text = pc.replace_substring(text, _QUOTE.as_py(), _QUOTE.as_py() * 2)
    mark = pc.if_else(quoted, _QUOTE, _NOTHING)
    return [mark, text, mark]


def _holds_any(text: pa.Array, patterns: tuple[str, ...]) -> bool:
    """Whether any value of `text` holds a match of one of the one-character `patterns`.

    One scan of the array's bytes, seen (without a copy) as a single binary value: RE2
    finds a lone literal with memchr, 8 ms over 256 MB of free text where Arrow's
    per-value `match_substring` took 420 ms. The patterns are ASCII, and an ASCII byte
    never occurs inside a multi-byte UTF-8 character, so bytes answer for characters."""
    data, start, end = _span(text)
    if start == end:
        return False
    offsets = pa.array([start, end], pa.int64()).buffers()[1]
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, data])
    return any(pc.match_substring_regex(whole, pattern)[0].as_py() for pattern in patterns)


def _span(text: pa.Array) -> tuple[pa.Buffer, int, int]:
    """A string array's data buffer and where its values lie in it (first to last offset)."""
    _, offsets, data = text.buffers()
    width = "q" if pa.types.is_large_string(text.type) else "i"
    positions = memoryview(offsets).cast(width)
    return data, positions[text.offset], positions[text.offset + len(text)]


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` as Parquet with the same columns and types as the CSV."""
    pq.write_table(table, path, compression="zstd", write_statistics=True)
