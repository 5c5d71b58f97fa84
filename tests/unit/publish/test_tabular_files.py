"""CSV and Parquet files of one table: encoding, quoting, types, missing values."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.publish.columns import Column, to_arrow
from include.publish.tabular_files import write_csv, write_parquet

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
