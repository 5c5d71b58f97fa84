"""A release built from its records in slices (as the publish task reads them from the
warehouse) is the release built from the same records whole, byte for byte, and its CSV
written a batch of rows at a time is the CSV written at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from include.publish import ReleaseFiles, tabular_files
from include.publish.tables import _sorted, records_table
from tests.unit.publish.inputs import source

Build = Callable[..., ReleaseFiles]


def _file_bytes(files: ReleaseFiles) -> dict[str, bytes]:
    return {entry.path: files.path(entry.path).read_bytes() for entry in files.upload_order}


def _slices(records: pd.DataFrame, name: str) -> Iterator[pd.DataFrame]:
    """The records in slices of uneven sizes, the first holding only rows whose some column
    is missing throughout (converted alone, such a slice has no value to type it by)."""
    column = "description" if name == "signalements" else "opinion"
    missing = records[column].isna()
    assert missing.any(), "the inputs hold rows missing the column"
    assert (~missing).any(), "and rows that have it"
    rest = records[~missing]
    yield records[missing]
    yield rest.iloc[:7]
    yield rest.iloc[7:8]
    yield rest.iloc[8:150]
    yield rest.iloc[150:]


@pytest.mark.parametrize("name", ["consultation", "signalements"])
def test_a_release_from_slices_is_the_release_from_the_whole_frame(
    name: str,
    build: Build,
    inputs_of: Callable[[str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inputs = inputs_of(name)
    whole = _file_bytes(build(inputs, name=name))
    monkeypatch.setattr(tabular_files, "BATCH_ROWS", 5)  # the CSV in many batches of rows
    sliced = build({**inputs, "records": _slices(inputs["records"], name)}, name=name)
    assert _file_bytes(sliced) == whole
    csv = sliced.path(f"{name}.csv").read_bytes()
    assert csv.count(b"\r\n") == len(inputs["records"]) + 1  # a header, then every row once


def test_a_column_no_config_declares_is_refused_in_any_slice(
    inputs_of: Callable[[str], dict[str, Any]],
) -> None:
    inputs = inputs_of("signalements")
    records = inputs["records"]
    later = records.iloc[10:].assign(remarque="?")
    with pytest.raises(ValueError, match=r"columns \['remarque'\] that the source config"):
        records_table(
            source("signalements"), iter([records.iloc[:10], later]), inputs["anonymization"]
        )
    with pytest.raises(ValueError, match="lack the columns"):
        records_table(
            source("signalements"),
            iter([records.iloc[:10], records.iloc[10:].drop(columns="channel")]),
            inputs["anonymization"],
        )


def test_the_csv_in_batches_of_rows_is_the_csv_at_once(
    inputs_of: Callable[[str], dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = inputs_of("consultation")
    table = records_table(source("consultation"), inputs["records"], inputs["anonymization"])
    at_once = tabular_files.write_csv(table.data, tmp_path / "at_once.csv")
    monkeypatch.setattr(tabular_files, "BATCH_ROWS", 3)
    batched = tabular_files.write_csv(table.data, tmp_path / "batched.csv")
    assert (tmp_path / "batched.csv").read_bytes() == (tmp_path / "at_once.csv").read_bytes()
    assert batched == at_once
    assert at_once.neutralised_cells > 0, "the inputs hold formula-looking answers"


def test_rows_are_sorted_as_sort_by_sorts_them_missing_values_last() -> None:
    """`_sorted` takes the table apart column by column (to hold it once): the order is
    still `Table.sort_by`'s on every column, left to right, missing values last."""
    rows = 3_000
    table = pa.table(
        {
            "theme": pa.array([("voirie", None, "propreté")[i % 3] for i in range(rows)]),
            "count": pa.array([(i * 7) % 5 for i in range(rows)], pa.int64()),
            "text": pa.array([None if i % 11 == 0 else f"t{(i * 13) % 97}" for i in range(rows)]),
        }
    )
    expected = table.sort_by([(name, "ascending", "at_end") for name in table.column_names])
    assert _sorted(table).equals(expected)
    assert not table.equals(expected), "the input was not already in order"
