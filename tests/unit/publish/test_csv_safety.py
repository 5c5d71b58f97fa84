"""Formula neutralisation: every text cell a spreadsheet would evaluate gets an apostrophe."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from include.publish.columns import Column, to_arrow
from include.publish.csv_safety import CONTROL_STARTS, FORMULA_SIGNS, neutralise_formulas
from include.publish.tabular_files import write_csv, write_parquet


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\t", "'\t"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        (" =1+1", "' =1+1"),
        ("\n=1+1", "'\n=1+1"),
        (" \r\n @SUM(A1:A9)", "' \r\n @SUM(A1:A9)"),
        ("\u00a0-2+3", "'\u00a0-2+3"),  # no-break space
        ("\u3000+1", "'\u3000+1"),  # ideographic space
        ("＝1+1", "'＝1+1"),
        ("＋33 6 12 34 56 78", "'＋33 6 12 34 56 78"),
        ("－2+3", "'－2+3"),
        ("＠SUM(A1:A9)", "'＠SUM(A1:A9)"),
        ("  ＝1+1", "'  ＝1+1"),
        ("a = b + c", "a = b + c"),
        ("Plus de bus le soir.", "Plus de bus le soir."),
        ("  Plus de bus = moins de voitures", "  Plus de bus = moins de voitures"),
        ("\n", "\n"),
        (" ", " "),
        ("", ""),
    ],
)
def test_trigger_characters_are_prefixed_and_others_left_alone(cell: str, expected: str) -> None:
    result, count = neutralise_formulas(pa.array([cell]))
    assert result.to_pylist() == [expected]
    assert count == (expected != cell)


def _evaluated(cell: str) -> bool:
    """What a spreadsheet (or a trimming import) may run as a formula: the reference."""
    stripped = cell.lstrip()  # str.isspace's whitespace, Unicode spaces included
    return cell.startswith(tuple(CONTROL_STARTS)) or stripped[:1] in tuple(FORMULA_SIGNS)


def test_every_kind_of_whitespace_before_a_sign_is_caught() -> None:
    """All of Unicode before `=1`: prefixed exactly when it is whitespace or a sign."""
    starts = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    cells = [start + "=1" for start in starts]
    result, count = neutralise_formulas(pa.array(cells, type=pa.string()))
    changed = [after != before for before, after in zip(cells, result.to_pylist(), strict=True)]
    expected = [start.isspace() or start in FORMULA_SIGNS for start in starts]
    assert changed == expected
    assert count == sum(expected) > 25


def test_missing_cells_stay_missing() -> None:
    result, count = neutralise_formulas(pa.array(["=1", None], type=pa.string()))
    assert result.to_pylist() == ["'=1", None]
    assert count == 1


def test_only_text_columns_are_accepted() -> None:
    with pytest.raises(TypeError, match="text columns"):
        neutralise_formulas(pa.array([-1, 2]))


_TRICKY = st.sampled_from(list(" \t\r\n\u00a0\u2028\u3000=+-@＝＋－＠'a"))


@hypothesis_settings(derandomize=True, deadline=None, max_examples=300)
@given(st.lists(st.text(_TRICKY | st.characters(exclude_categories=("Cs",)), max_size=12),
                min_size=1, max_size=20))  # fmt: skip
def test_no_neutralised_cell_starts_with_a_trigger(cells: list[str]) -> None:
    result, count = neutralise_formulas(pa.array(cells, type=pa.string()))
    changed = 0
    for before, after in zip(cells, result.to_pylist(), strict=True):
        assert not _evaluated(after)
        if _evaluated(before):
            assert after == "'" + before
            changed += 1
        else:
            assert after == before
    assert count == changed


def _write(tmp_path: Path) -> tuple[list[list[str]], pa.Table, int]:
    frame = pd.DataFrame(
        {
            "answer": ["-3", "=1+1", "ok", "@user"],
            "score": [-3, 1, -12, 0],
            "ratio": [-0.5, 1.25, -2.0, 0.0],
        }
    )
    columns = (
        Column("answer", "string", "Réponse libre"),
        Column("score", "integer", "Note"),
        Column("ratio", "number", "Rapport"),
    )
    table = to_arrow(frame, columns, "t")
    stats = write_csv(table, tmp_path / "t.csv")
    write_parquet(table, tmp_path / "t.parquet")
    with (tmp_path / "t.csv").open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream)), table, stats.neutralised_cells


def test_negative_numbers_in_numeric_columns_are_left_alone(tmp_path: Path) -> None:
    rows, _, neutralised = _write(tmp_path)
    assert rows[0] == ["answer", "score", "ratio"]
    assert [row[1] for row in rows[1:]] == ["-3", "1", "-12", "0"]
    assert [row[2] for row in rows[1:]] == ["-0.5", "1.25", "-2", "0"]
    assert [row[0] for row in rows[1:]] == ["'-3", "'=1+1", "ok", "'@user"]
    assert neutralised == 3


def test_parquet_keeps_the_exact_text(tmp_path: Path) -> None:
    _, table, _ = _write(tmp_path)
    stored = pq.read_table(tmp_path / "t.parquet")
    assert stored.column("answer").to_pylist() == ["-3", "=1+1", "ok", "@user"]
    assert stored.equals(table)
