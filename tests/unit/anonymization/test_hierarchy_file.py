"""Value-mapping hierarchy files (ARX's format): read as a tree, or refused with the lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from include.anonymization.hierarchies import (
    HierarchyError,
    NumericBandsGeneralizer,
    ValueMappingGeneralizer,
    build_generalizer,
    hierarchy_from_csv,
)
from include.core.hierarchy_file import HierarchyFileError, value_key
from include.core.source_config import FieldSpec, FieldType, Role, hierarchy_level

AGES = "\n".join(
    [
        "21;20-24;20-29;*",
        "23;20-24;20-29;*",
        "27;25-29;20-29;*",
        "34;30-34;30-39;*",
        "38;35-39;30-39;*",
    ]
)


def write(tmp_path: Path, text: str, name: str = "h.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def levels_of(generalizer: ValueMappingGeneralizer, values: list[object]) -> list[list[object]]:
    column = generalizer.encode(values)
    return [list(column.generalized(level)) for level in range(column.top + 1)]


def test_a_valid_tree_generalizes_level_by_level(tmp_path: Path) -> None:
    generalizer = hierarchy_from_csv(write(tmp_path, AGES + "\n"), "age")
    assert generalizer.table.n_levels == 4
    assert generalizer.level_names == ("exact", "level 1", "level 2", "*")
    # numbers from the data match their decimal text; level 0 keeps the data's value
    assert levels_of(generalizer, [21, 27, 34, 21]) == [
        [21, 27, 34, 21],
        ["20-24", "25-29", "30-34", "20-24"],
        ["20-29", "20-29", "30-39", "20-29"],
        ["*", "*", "*", "*"],
    ]
    column = generalizer.encode(pd.Series([23.0, 38.0, 21.0]))
    assert list(column.generalized(2)) == ["20-29", "30-39", "20-29"]
    # each level is a coarsening of the one below (the engine relies on it)
    assert column.n_codes(1) == 2  # 20-24 (23 and 21), 35-39
    assert list(column.level_map(1, 2)) == [0, 1]


def test_a_file_gives_the_domain_each_label_covers(tmp_path: Path) -> None:
    # ARX's Loss measures a label's share of the file's values, not of those present.
    generalizer = hierarchy_from_csv(write(tmp_path, AGES + "\n"), "age")
    column = generalizer.encode([21, 34])
    assert column.domain_size == 5
    assert [column.domain_counts(level).tolist() for level in range(column.top + 1)] == [
        [1, 1],
        [2, 1],  # "20-24" covers 21 and 23, though only 21 is in the data
        [3, 2],
        [5],
    ]
    present_only = NumericBandsGeneralizer("age", [5]).encode([21, 23, 34])
    assert present_only.domain_size == 3
    assert present_only.domain_counts(1).tolist() == present_only.leaf_counts(1).tolist()


def test_value_key_matches_numbers_by_their_decimal_text() -> None:
    assert [value_key(v) for v in (39, np.int64(39), 39.0, np.float64(39.0), "39")] == ["39"] * 5
    assert value_key(2.5) == "2.5"
    assert value_key("039") == "039"
    assert value_key(True) == "True"


def test_repeated_rows_are_one_value_and_a_root_is_added_when_missing(tmp_path: Path) -> None:
    # ARX's sex and salary-class files list each row twice; this file has no root column
    text = "Male;M\nFemale;F\nMale;M\n\nFemale;F\n"
    generalizer = hierarchy_from_csv(write(tmp_path, text), "sex")
    assert generalizer.table.n_levels == 3
    assert levels_of(generalizer, ["Female", "Male"]) == [
        ["Female", "Male"],
        ["F", "M"],
        ["*", "*"],
    ]
    # a single-valued last column is the root, published as "*" whatever its name
    generalizer = hierarchy_from_csv(write(tmp_path, "a;g;Any\nb;g;Any\n"), "x")
    assert generalizer.table.n_levels == 3
    assert levels_of(generalizer, ["a", "b"])[-1] == ["*", "*"]


def test_quoted_cells_and_another_separator(tmp_path: Path) -> None:
    text = '"Paris, 1er",Paris,*\nLyon,"Lyon, Rhône",*\r\n'
    generalizer = hierarchy_from_csv(write(tmp_path, text), "city", separator=",")
    assert levels_of(generalizer, ["Lyon", "Paris, 1er"])[1] == ["Lyon, Rhône", "Paris"]


def test_a_value_with_two_parents_is_refused_naming_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, AGES + "\n22;20-24;15-24;*\n")
    with pytest.raises(HierarchyFileError) as info:
        hierarchy_from_csv(path, "age")
    message = str(info.value)
    assert str(path) in message
    assert "'20-24' (level 1) has two parents: '20-29' on line 1 and '15-24' on line 6" in message
    # a leaf listed twice with different groups, too
    with pytest.raises(
        HierarchyFileError, match=r"'a' \(level 0\) has two parents: 'g' on line 1 "
    ):
        hierarchy_from_csv(write(tmp_path, "a;g;*\nb;g;*\na;h;*\n"), "x")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (AGES + "\n39;35-39;*\n", r"line 6 has 3 columns, line 1 has 4"),
        ("a;g;*\nb;;*\n", r"line 2: column 2 is empty"),
        ("a\nb\n", r"line 1: a row needs the value and at least one coarser level"),
        ("\n\n", r"the hierarchy file has no rows"),
        ('a;"g;*\n', r"line \d+: unexpected end of data"),
    ],
)
def test_a_malformed_file_is_refused_with_its_line(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(HierarchyFileError, match=match):
        hierarchy_from_csv(write(tmp_path, text), "x")


def test_a_missing_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HierarchyFileError, match=r"absent.csv: cannot read the hierarchy file"):
        hierarchy_from_csv(tmp_path / "absent.csv", "x")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Rhône;*\n".encode("latin-1"))
    with pytest.raises(HierarchyFileError, match=r"latin.csv: the hierarchy file is not UTF-8"):
        hierarchy_from_csv(latin, "x")
    with pytest.raises(HierarchyFileError, match=r"separator must be one character"):
        hierarchy_from_csv(write(tmp_path, AGES), "x", separator=";;")


def test_an_uncovered_value_is_named(tmp_path: Path) -> None:
    generalizer = hierarchy_from_csv(write(tmp_path, AGES), "age")
    with pytest.raises(HierarchyError, match=r"field 'age': value 40 has no row in the hierarchy"):
        generalizer.encode([21, 40, 23])
    # text is matched exactly: no trimming, no leading zeros dropped
    with pytest.raises(HierarchyError, match=r"value '021' has no row"):
        generalizer.encode(["21", "021"])
    with pytest.raises(HierarchyError, match=r"1 record\(s\) have no value"):
        generalizer.encode(pd.Series([21.0, None]))


def test_build_generalizer_reads_a_file_hierarchy(tmp_path: Path) -> None:
    path = write(tmp_path, AGES)
    spec = FieldSpec(
        name="age",
        type=FieldType.INTEGER,
        role=Role.QUASI_IDENTIFIER,
        hierarchy={"kind": "file", "path": str(path)},
    )
    generalizer = build_generalizer(spec)
    assert isinstance(generalizer, ValueMappingGeneralizer)
    column = generalizer.encode_records(pd.DataFrame({"age": [38, 21]}))
    assert list(column.generalized(1)) == ["35-39", "20-24"]
    assert hierarchy_level(spec, "2") == 2
