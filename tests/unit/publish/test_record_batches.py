"""A release's record file as a batch: what it lists of earlier batches, and lost batches."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from include.publish import ReleaseFiles, build_release
from include.publish.manifest import MANIFEST_NAME, ManifestEntry
from include.publish.readme import README_NAME
from include.publish.record_batches import RecordBatch, lost_batches, written_batch
from tests.unit.publish.inputs import RUN_A, RUN_B, release_inputs, source

Build = Callable[..., ReleaseFiles]
FIRST = RecordBatch(
    RUN_A.release_id,
    1_200,
    (
        ManifestEntry("consultation.csv", 10_000, "a" * 64),
        ManifestEntry("consultation.parquet", 4_000, "b" * 64),
    ),
)


def _records_entry(files: ReleaseFiles) -> dict:
    manifest = json.loads(files.path(MANIFEST_NAME).read_text())
    (table,) = [t for t in manifest["tables"] if t["kind"] == "records"]
    return table


def test_a_first_release_lists_no_earlier_batch(build: Build, consultation_inputs: dict) -> None:
    files = build(consultation_inputs)
    table = _records_entry(files)
    assert table["earlier_batches"] == []
    assert table["rows_to_date"] == table["rows"] == len(consultation_inputs["records"])
    batch = written_batch(files, "consultation", table["rows"])
    assert [f.path for f in batch.files] == ["consultation.csv", "consultation.parquet"]
    assert batch.files == tuple(f for f in files.files if f.path in table["files"])


def test_a_later_release_lists_the_earlier_files_beside_it(
    build: Build, consultation_inputs: dict
) -> None:
    files = build(consultation_inputs, run=RUN_B, earlier_batches=[FIRST])
    table = _records_entry(files)
    rows = len(consultation_inputs["records"])
    assert table["rows"] == rows
    assert table["rows_to_date"] == rows + 1_200
    assert table["earlier_batches"] == [
        {
            "release_id": RUN_A.release_id,
            "rows": 1_200,
            "files": [
                {"path": f"../{RUN_A.release_id}/consultation.csv", "bytes": 10_000,
                 "sha256": "a" * 64},
                {"path": f"../{RUN_A.release_id}/consultation.parquet", "bytes": 4_000,
                 "sha256": "b" * 64},
            ],
        }
    ]  # fmt: skip
    readme = files.path(README_NAME).read_text()
    assert "1 fichier(s) des versions précédentes" in readme
    datapackage = json.loads(files.path("datapackage.json").read_text())
    (resource,) = [r for r in datapackage["resources"] if r["name"] == "consultation"]
    assert "1 200 précédents" in resource["description"].replace("\u202f", " ")


def test_earlier_batches_without_a_record_file_are_refused(tmp_path) -> None:
    inputs = release_inputs("consultation")
    with pytest.raises(ValueError, match="pass only its aggregates"):
        build_release(
            source("consultation").model_copy(update={"publish_record_level": False}),
            RUN_B,
            tmp_path,
            **{**inputs, "records": None, "anonymization": None},
            earlier_batches=[FIRST],
        )


def test_a_batch_the_bucket_lost_or_holds_at_another_size_is_lost() -> None:
    second = RecordBatch(RUN_B.release_id, 5, (ManifestEntry("consultation.csv", 7, "c" * 64),))
    sizes = {
        f"../{RUN_A.release_id}/consultation.csv": 10_000,
        f"../{RUN_A.release_id}/consultation.parquet": 4_000,
        f"../{RUN_B.release_id}/consultation.csv": 7,
    }
    assert lost_batches([FIRST, second], sizes) == []
    assert lost_batches(
        [FIRST, second], {**sizes, f"../{RUN_B.release_id}/consultation.csv": 8}
    ) == [second]
    del sizes[f"../{RUN_A.release_id}/consultation.parquet"]
    assert lost_batches([FIRST, second], sizes) == [FIRST]
    assert lost_batches([FIRST, second], {}) == [FIRST, second]
