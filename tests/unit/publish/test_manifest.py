"""The manifest tells the truth about the files next to it, and a folder is checked against it."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq
import pytest

from include.publish import ReleaseFiles, ReleaseVerificationError, load_release
from tests.unit.publish.inputs import RUN_A, source

Build = Callable[..., ReleaseFiles]


@pytest.fixture
def release(build: Build, consultation_inputs: dict) -> tuple[ReleaseFiles, dict[str, Any]]:
    files = build(consultation_inputs)
    return files, json.loads(files.path("manifest.json").read_text("utf-8"))


def _csv_rows(files: ReleaseFiles, name: str) -> list[dict[str, str]]:
    with files.path(name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_every_file_is_listed_with_its_true_size_and_sha256(release: tuple) -> None:
    files, manifest = release
    listed = {item["path"]: item for item in manifest["files"]}
    on_disk = {path.name for path in files.directory.iterdir()} - {"manifest.json"}
    assert set(listed) == on_disk
    for name, item in listed.items():
        data = files.path(name).read_bytes()
        assert item["bytes"] == len(data)
        assert item["sha256"] == hashlib.sha256(data).hexdigest()


def test_data_files_give_rows_and_schema(release: tuple) -> None:
    files, manifest = release
    for item in manifest["files"]:
        if item["path"].endswith(".csv"):
            rows = _csv_rows(files, item["path"])
            assert item["rows"] == len(rows)
            assert list(item["schema"]) == list(rows[0])
        elif item["path"].endswith(".parquet"):
            stored = pq.read_table(files.path(item["path"]))
            assert item["rows"] == stored.num_rows
            assert list(item["schema"]) == stored.schema.names
    records = next(i for i in manifest["files"] if i["path"] == "consultation.csv")
    assert records["schema"]["q_transports"] == "integer"
    assert records["schema"]["age"] == "string"  # generalized: a label such as "20-39" or "*"


def test_record_level_privacy_facts_are_measured_on_the_published_rows(release: tuple) -> None:
    files, manifest = release
    config = source("consultation")
    table = next(t for t in manifest["tables"] if t["kind"] == "records")
    qis = [spec.name for spec in config.quasi_identifiers]
    assert table["quasi_identifiers"] == qis
    assert table["sensitive_fields"] == ["q_transports"]
    assert table["withheld_fields"] == ["respondent_email"]
    rows = _csv_rows(files, "consultation.csv")
    classes = Counter(tuple(row[name] for name in qis) for row in rows)
    assert table["k_achieved"] == min(classes.values()) >= config.k
    values: dict[tuple, set] = {}
    for row in rows:
        values.setdefault(tuple(row[name] for name in qis), set()).add(row["q_transports"])
    assert table["l_achieved"] == min(map(len, values.values())) >= config.l_diversity
    assert table["suppressed_records"] == table["anonymization"]["suppressed_records"]
    assert table["suppressed_records"] + len(rows) == table["anonymization"]["records"]


def test_aggregate_suppression_counts_match_the_published_cells(release: tuple) -> None:
    files, manifest = release
    for table in (t for t in manifest["tables"] if t["kind"] == "aggregate"):
        rows = _csv_rows(files, f"{table['name']}.csv")
        hidden = Counter(row["suppression_reason"] for row in rows if row["suppressed"] == "true")
        assert table["suppressed_by_reason"] == dict(hidden)
        assert table["cells_suppressed"] == sum(hidden.values()) > 0
        assert all(row["count"] == "" for row in rows if row["suppressed"] == "true")
        assert table["suppression"]["audit_passed"] is True


def test_run_and_pipeline_are_named(release: tuple) -> None:
    _, manifest = release
    assert manifest["release_id"] == RUN_A.release_id
    assert manifest["run"] == {
        "run_id": RUN_A.run_id,
        "pipeline_version": RUN_A.pipeline_version,
        "run_date": "2026-11-24T03:00:00Z",
    }
    assert manifest["licence"] == "etalab-2.0"


def test_load_release_accepts_an_intact_folder(release: tuple) -> None:
    files, _ = release
    loaded = load_release(files.directory)
    assert loaded == files


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (
            lambda d: d.joinpath("consultation.csv").write_bytes(b"x"),
            "consultation.csv has 1 bytes",
        ),
        (lambda d: d.joinpath("README.md").unlink(), "README.md is missing"),
        (lambda d: d.joinpath("notes.txt").write_text("?"), "notes.txt is not in the manifest"),
        (lambda d: d.joinpath("manifest.json").write_text("{"), "not a JSON manifest"),
    ],
)
def test_load_release_refuses_a_damaged_folder(
    release: tuple, damage: Callable[[Any], object], problem: str
) -> None:
    files, _ = release
    damage(files.directory)
    with pytest.raises(ReleaseVerificationError, match=problem):
        load_release(files.directory)
