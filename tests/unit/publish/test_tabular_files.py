"""CSV and Parquet files of one table: encoding, quoting, types, missing values."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from include.publish import tabular_files
from include.publish.columns import Column, to_arrow
from include.publish.tabular_files import CSV_DIALECT, _as_text, write_csv, write_parquet

COLUMNS = (
    Column("texte", "string", "Texte libre"),
    Column("nombre", "integer", "Nombre entier"),
    Column("mesure", "number", "Mesure"),
    Column("actif", "boolean", "Actif ou non"),
    Column("jour", "date", "Jour"),
    Column("instant", "datetime", "Horodatage"),
    Column("canal", "string", "Canal", enum=("web", "guichet")),
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "texte": ["Île-de-France, nord", 'il a dit "non"', "deux\nlignes", "", None],
            "nombre": [1.0, None, -4.0, 0.0, 12.0],
            "mesure": [0.1, 2.5, None, -1e-7, 3.0],
            "actif": [True, False, None, True, False],
            "jour": ["2026-03-01", None, "2026-03-03", "2026-12-31", "2026-01-01"],
            "instant": pd.to_datetime(
                [
                    "2026-03-01T10:00:00.750+01:00",
                    None,
                    "2026-03-03T23:30:00Z",
                    "2026-12-31T23:59:59Z",
                    "2026-01-01T00:00:00Z",
                ],
                format="ISO8601",
                utc=True,
            ),
            "canal": ["web", "guichet", None, "web", "web"],
        }
    )


def _written(tmp_path: Path) -> tuple[bytes, pa.Table]:
    table = to_arrow(_frame(), COLUMNS, "exemple")
    stats = write_csv(table, tmp_path / "exemple.csv")
    assert stats.rows == 5
    write_parquet(table, tmp_path / "exemple.parquet")
    return (tmp_path / "exemple.csv").read_bytes(), table


def test_csv_is_utf8_without_bom_with_crlf_and_rfc4180_quoting(tmp_path: Path) -> None:
    raw, _ = _written(tmp_path)
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    assert text.startswith("texte,nombre,mesure,actif,jour,instant,canal\r\n")
    assert '"Île-de-France, nord"' in text
    assert '"il a dit ""non"""' in text
    assert '"deux\nlignes"' in text  # a line break inside a quoted cell is data
    assert text.count("\r\n") == 6  # header + 5 rows
    for placeholder in ("NaN", "None", "<NA>", "nan"):
        assert placeholder not in text


def test_csv_cells_read_back_with_missing_values_empty(tmp_path: Path) -> None:
    raw, _ = _written(tmp_path)
    rows = list(csv.reader(raw.decode("utf-8").splitlines(keepends=True)))
    assert rows[1] == [
        "Île-de-France, nord", "1", "0.1", "true", "2026-03-01", "2026-03-01T09:00:00Z", "web",
    ]  # fmt: skip
    assert rows[2] == ['il a dit "non"', "", "2.5", "false", "", "", "guichet"]
    assert rows[3] == ["deux\nlignes", "-4", "", "", "2026-03-03", "2026-03-03T23:30:00Z", ""]
    assert rows[4][0] == ""  # empty text is published as missing
    assert rows[4][2] == "-1e-7"
    assert rows[5][0] == ""


def test_parquet_has_the_same_columns_types_and_descriptions(tmp_path: Path) -> None:
    _, table = _written(tmp_path)
    stored = pq.read_table(tmp_path / "exemple.parquet")
    assert stored.schema.names == [c.name for c in COLUMNS]
    assert [str(f.type) for f in stored.schema] == [
        "string", "int64", "double", "bool", "date32[day]", "timestamp[ms, tz=UTC]", "string",
    ]  # fmt: skip
    assert stored.schema.field("texte").metadata == {b"description": b"Texte libre"}
    assert stored.column("jour").to_pylist()[0] == date(2026, 3, 1)
    assert stored.column("texte").to_pylist()[3] is None
    assert stored.equals(table)


def test_files_are_byte_identical_when_written_twice(tmp_path: Path) -> None:
    written = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        csv_bytes, _ = _written(tmp_path / name)
        written.append((csv_bytes, (tmp_path / name / "exemple.parquet").read_bytes()))
    assert written[0] == written[1]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (Column("n", "integer", "d"), [1.0, 2.5], "column 'n': cannot publish as integer"),
        (Column("x", "number", "d"), [1.0, float("inf")], "infinite"),
        (Column("c", "string", "d", enum=("web",)), ["web", "fax"], r"\['fax'\]"),
        (
            Column("t", "datetime", "d"),
            pd.to_datetime(["2026-01-01T10:00"]).tolist(),
            "no time zone",
        ),
        (Column("j", "date", "d"), ["2026-02-30"], "column 'j': cannot publish as date"),
    ],
)
def test_values_that_do_not_fit_their_type_are_refused(
    column: Column, values: list[object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        to_arrow(pd.DataFrame({column.name: values}), (column,), "exemple")


def _csv_module_bytes(table: pa.Table) -> bytes:
    """The oracle: what Python's csv module writes from the same cell texts (`_as_text`)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        delimiter=CSV_DIALECT["delimiter"],
        quotechar=CSV_DIALECT["quoteChar"],
        doublequote=True,
        lineterminator=CSV_DIALECT["lineTerminator"],
        quoting=csv.QUOTE_MINIMAL,
    )
    writer.writerow(table.column_names)
    texts = [pc.fill_null(_as_text(column)[0], "").to_pylist() for column in table.columns]
    writer.writerows(zip(*texts, strict=True))
    return buffer.getvalue().encode("utf-8")


def _neutralised_cells(table: pa.Table) -> int:
    return sum(_as_text(column)[1] for column in table.columns)


# Text a CSV writer must get right: any Unicode (no lone surrogates, which UTF-8 cannot
# hold), the delimiter, quotes and line breaks anywhere, and starts a spreadsheet would
# evaluate (neutralised by csv_safety before quoting).
_SPECIALS = (",", '"', "\r", "\n", "\r\n", '""', " ", "\t", "=", "-", "+", "@", "'", "＝")
_TEXT = st.lists(
    st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(_SPECIALS)),
    max_size=12,
).map("".join)
_CELL_TEXT = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(_SPECIALS),
    st.tuples(st.sampled_from(("", "=", "-", " ", "  =", "\n-", "\t", "\r", "@")), _TEXT).map(
        "".join
    ),
)
_INSTANTS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
).map(lambda instant: instant.replace(microsecond=0))
_KINDS: dict[str, tuple[pa.DataType, st.SearchStrategy[object]]] = {
    "text": (pa.string(), _CELL_TEXT),
    "integer": (pa.int64(), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
    "number": (
        pa.float64(),
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    ),
    "boolean": (pa.bool_(), st.one_of(st.none(), st.booleans())),
    "date": (pa.date32(), st.one_of(st.none(), st.dates())),
    "instant": (pa.timestamp("ms", tz="UTC"), st.one_of(st.none(), _INSTANTS)),
}


@st.composite
def _tables(draw: st.DrawFn) -> pa.Table:
    """A table of 1 to 6 columns of the published types, nulls included, in 1 or 2 chunks."""
    kinds = draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=6))
    names = draw(
        st.lists(_CELL_TEXT.map(lambda name: name or ""), min_size=len(kinds), max_size=len(kinds))
    )
    rows = draw(st.integers(0, 30))
    columns = []
    for kind in kinds:
        arrow_type, values = _KINDS[kind]
        columns.append(pa.array(draw(st.lists(values, min_size=rows, max_size=rows)), arrow_type))
    table = pa.Table.from_arrays(columns, names=names)
    split = draw(st.integers(0, rows))
    return pa.concat_tables([table.slice(0, split), table.slice(split)])


@hypothesis_settings(max_examples=300, deadline=None)
@given(table=_tables(), batch_rows=st.integers(1, 8))
def test_csv_bytes_are_what_the_csv_module_writes(
    table: pa.Table, batch_rows: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tabular_files, "BATCH_ROWS", batch_rows)  # rows in many batches
        stats = write_csv(table, path)
    assert path.read_bytes() == _csv_module_bytes(table)
    assert stats == tabular_files.CsvStats(table.num_rows, _neutralised_cells(table))


@pytest.mark.parametrize("name", ["texte", "", "a,b"])
def test_one_column_table_quotes_its_empty_cells_as_the_csv_module_does(
    name: str, tmp_path: Path
) -> None:
    # csv.writer writes the one empty cell of a row as `""`: an empty line is no row.
    table = pa.table({name: pa.array(["", None, "a", "", '"', "=1"], pa.string())})
    stats = write_csv(table, tmp_path / "t.csv")
    written = (tmp_path / "t.csv").read_bytes()
    assert written == _csv_module_bytes(table)
    header = {"texte": b"texte", "": b'""', "a,b": b'"a,b"'}[name]
    assert written == header + b'\r\n""\r\n""\r\na\r\n""\r\n""""\r\n\'=1\r\n'
    assert stats == tabular_files.CsvStats(rows=6, neutralised_cells=1)


def test_one_column_table_of_numbers_with_missing_values(tmp_path: Path) -> None:
    table = pa.table({"n": pa.array([None, 3, None], pa.int64())})
    write_csv(table, tmp_path / "t.csv")
    assert (
        (tmp_path / "t.csv").read_bytes() == _csv_module_bytes(table) == b'n\r\n""\r\n3\r\n""\r\n'
    )


def test_table_without_columns_is_an_empty_header_line_as_the_csv_module_writes(
    tmp_path: Path,
) -> None:
    table = pa.table({})
    assert write_csv(table, tmp_path / "t.csv") == tabular_files.CsvStats(0, 0)
    assert (tmp_path / "t.csv").read_bytes() == _csv_module_bytes(table) == b"\r\n"


def test_text_that_is_not_utf8_is_refused_not_published(tmp_path: Path) -> None:
    # Arrow does not check a string array's bytes when it is built from buffers.
    broken = pa.Array.from_buffers(
        pa.string(), 1, [None, pa.array([0, 2], pa.int32()).buffers()[1], pa.py_buffer(b"\xff,")]
    )
    table = pa.table({"texte": broken, "n": pa.array([1], pa.int64())})
    with pytest.raises(pa.ArrowInvalid, match="UTF8"):
        write_csv(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == b"texte,n\r\n"  # the header only
