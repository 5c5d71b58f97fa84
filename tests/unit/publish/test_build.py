"""Building a release: deterministic output, and every gate that blocks publication."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from include.publish import (
    AggregateInput,
    CheckResult,
    PublicationBlockedError,
    ReleaseFiles,
    RunInfo,
    build_release,
)
from tests.unit.publish.inputs import RUN_A, RUN_B, release_inputs, source

Build = Callable[..., ReleaseFiles]


def _file_bytes(files: ReleaseFiles) -> dict[str, bytes]:
    return {entry.path: files.path(entry.path).read_bytes() for entry in files.upload_order}


def _replace_aggregate(inputs: dict[str, Any], name: str, data: pd.DataFrame, **summary: Any):
    aggregates = []
    for aggregate in inputs["aggregates"]:
        if aggregate.name == name:
            aggregate = AggregateInput(name, data, {**aggregate.summary, **summary})
        aggregates.append(aggregate)
    return {**inputs, "aggregates": aggregates}


def test_same_inputs_give_byte_identical_files(build: Build, consultation_inputs: dict) -> None:
    first = build(consultation_inputs)
    second = build(release_inputs("consultation"))
    assert first.directory != second.directory
    assert _file_bytes(first) == _file_bytes(second)
    assert first.manifest_sha256 == second.manifest_sha256


def test_row_order_of_the_inputs_does_not_change_the_files(
    build: Build, consultation_inputs: dict
) -> None:
    shuffled = {
        **consultation_inputs,
        "records": consultation_inputs["records"].sample(frac=1.0, random_state=7),
        "aggregates": [
            AggregateInput(a.name, a.data.iloc[::-1], a.summary)
            for a in reversed(consultation_inputs["aggregates"])
        ],
    }
    assert _file_bytes(build(shuffled)) == _file_bytes(build(consultation_inputs))


def test_release_id_comes_from_the_run_not_the_clock() -> None:
    assert RunInfo(RUN_A.run_id, "0.2.0", RUN_A.run_date).release_id == RUN_A.release_id
    assert RUN_A.release_id.startswith("2026-11-24T0300Z-")
    assert RUN_A.release_id < RUN_B.release_id
    paris = RunInfo(
        RUN_A.run_id, "9.9", datetime(2026, 11, 24, 4, tzinfo=timezone(timedelta(hours=1)))
    )
    assert paris.release_id == RUN_A.release_id  # same instant, same run → same id
    other = RunInfo("manual__2026-11-24", "0.1.0", RUN_A.run_date)
    assert other.release_id[:16] == RUN_A.release_id[:16]
    assert other.release_id != RUN_A.release_id
    with pytest.raises(ValueError, match="no time zone"):
        RunInfo("r", "0.1.0", datetime(2026, 11, 24, 3))


def test_a_different_run_gives_a_different_release(build: Build, consultation_inputs: dict) -> None:
    a = build(consultation_inputs, run=RUN_A)
    b = build(consultation_inputs, run=RUN_B)
    assert (a.release_id, b.release_id) == (RUN_A.release_id, RUN_B.release_id)
    assert a.path("consultation.csv").read_bytes() == b.path("consultation.csv").read_bytes()
    assert a.manifest_sha256 != b.manifest_sha256


def test_failing_expectation_blocks_before_anything_is_written(
    tmp_path: Path, consultation_inputs: dict
) -> None:
    checks = [
        CheckResult("curated_suite", True),
        CheckResult("aggregates_suite", False, "expect_column_values_to_not_be_null: count"),
    ]
    with pytest.raises(PublicationBlockedError, match="aggregates_suite: expect_column_values"):
        build_release(source("consultation"), RUN_A, tmp_path, **consultation_inputs, checks=checks)
    assert list(tmp_path.iterdir()) == []


def test_passed_checks_are_recorded(build: Build, consultation_inputs: dict) -> None:
    files = build(consultation_inputs, checks=[CheckResult("curated_suite", True, "12/12")])
    assert '"name": "curated_suite"' in files.path("manifest.json").read_text()


def test_a_class_smaller_than_k_blocks(build: Build, consultation_inputs: dict) -> None:
    records = consultation_inputs["records"]
    qis = [spec.name for spec in source("consultation").quasi_identifiers]
    sizes = records.groupby(qis).size()
    smallest = sizes.idxmin()
    in_class = (records[qis] == pd.Series(smallest, index=qis)).all(axis=1)
    keep = records.index[in_class][: source("consultation").k - 1]
    shrunk = pd.concat([records[~in_class], records.loc[keep]])
    with pytest.raises(PublicationBlockedError, match=r"k=4, below the required k=5"):
        build({**consultation_inputs, "records": shrunk})


def test_a_class_without_l_distinct_sensitive_values_blocks(
    build: Build, consultation_inputs: dict
) -> None:
    records = consultation_inputs["records"].copy()
    qis = [spec.name for spec in source("consultation").quasi_identifiers]
    first_class = (records[qis] == records[qis].iloc[0]).all(axis=1)
    records.loc[first_class, "q_transports"] = 3
    with pytest.raises(PublicationBlockedError, match="distinct l=1, below the required l=2"):
        build({**consultation_inputs, "records": records})


def test_a_visible_small_count_blocks(build: Build, consultation_inputs: dict) -> None:
    table = consultation_inputs["aggregates"][0]
    data = table.data.copy()
    hidden = data.index[data["suppressed"]][0]
    data.loc[hidden, ["count", "suppressed", "suppression_reason"]] = [3, False, None]
    with pytest.raises(
        PublicationBlockedError, match=re.escape("1 published count(s) between 1 and 10")
    ):
        build(_replace_aggregate(consultation_inputs, table.name, data))


def test_a_suppressed_cell_that_still_shows_its_count_blocks(
    build: Build, consultation_inputs: dict
) -> None:
    table = consultation_inputs["aggregates"][0]
    data = table.data.copy()
    data.loc[data.index[data["suppressed"]][0], "count"] = 0
    with pytest.raises(
        PublicationBlockedError, match=re.escape("suppressed cell(s) still show a count")
    ):
        build(_replace_aggregate(consultation_inputs, table.name, data))


def test_a_failed_suppression_audit_blocks(build: Build, consultation_inputs: dict) -> None:
    table = consultation_inputs["aggregates"][1]
    inputs = _replace_aggregate(consultation_inputs, table.name, table.data, audit_passed=False)
    with pytest.raises(PublicationBlockedError, match="audit did not pass"):
        build(inputs)


def test_direct_identifiers_are_withheld_even_pseudonymized(
    build: Build, consultation_inputs: dict
) -> None:
    assert "respondent_email" in consultation_inputs["records"].columns
    files = build(consultation_inputs)
    header = next(csv.reader(io.StringIO(files.path("consultation.csv").read_text("utf-8"))))
    assert "respondent_email" not in header
    assert "respondent_email" not in pq.read_schema(files.path("consultation.parquet")).names
    assert "k1:" not in files.path("consultation.csv").read_text("utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda i: {**i, "records": i["records"].assign(ip="10.0.0.1")}, r"columns \['ip'\]"),
        (lambda i: {**i, "records": i["records"].drop(columns="q_velo")}, r"lack .*q_velo"),
        (lambda i: {**i, "aggregates": i["aggregates"][:1]}, "configures the aggregates"),
        (lambda i: {**i, "anonymization": {"levels": {}}}, "lacks .'suppressed_records'"),
        (lambda i: {**i, "records": None}, "pass the records"),
        (
            lambda i: {
                **i,
                "anonymization": {**i["anonymization"], "metric": {"name": "arx_loss"}},
            },
            "generalized minimizing .*'arx_loss'.* asks for .*'lm'",
        ),
        (
            lambda i: {
                **i,
                "aggregates": [
                    AggregateInput(a.name, a.data.assign(extra=1), a.summary)
                    for a in i["aggregates"]
                ],
            },
            "must have exactly the columns",
        ),
    ],
)
def test_inputs_that_do_not_match_the_config_are_refused(
    build: Build, consultation_inputs: dict, change: Callable[[dict], dict], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build(change(consultation_inputs))


def test_records_of_a_source_that_publishes_only_aggregates_are_refused(
    tmp_path: Path, consultation_inputs: dict
) -> None:
    aggregates_only = source("consultation").model_copy(update={"publish_record_level": False})
    with pytest.raises(ValueError, match="does not publish record-level data"):
        build_release(aggregates_only, RUN_A, tmp_path, **consultation_inputs)
    files = build_release(
        aggregates_only,
        RUN_A,
        tmp_path,
        aggregates=consultation_inputs["aggregates"],
        scrubber=consultation_inputs["scrubber"],
    )
    assert [entry.path for entry in files.files] == [
        *(f"{a.name}.{ext}" for a in aggregates_only.aggregates for ext in ("csv", "parquet")),
        "datapackage.json",
        "README.md",
        "index.html",
    ]


def test_rebuilding_replaces_a_staging_leftover(tmp_path: Path, consultation_inputs: dict) -> None:
    leftover = tmp_path / "consultation" / RUN_A.release_id / "half-written.csv"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("x")
    files = build_release(source("consultation"), RUN_A, tmp_path, **consultation_inputs)
    assert not leftover.exists()
    assert files.directory == leftover.parent


def test_too_many_sample_uniques_block_with_the_worst_columns(
    tmp_path: Path, consultation_inputs: dict
) -> None:
    """Issue #12: sample uniques over up to 3 published columns, threshold in the source
    config, measured on the very rows to publish."""
    config = source("consultation")
    assert config.max_sample_unique_share is None  # measured and stated, never blocking
    files = build_release(config, RUN_A, tmp_path / "ok", **consultation_inputs)
    manifest = json.loads(files.path("manifest.json").read_text())
    (records,) = [t for t in manifest["tables"] if t["kind"] == "records"]
    share = records["attacker_view"]["sample_unique_share"]
    assert records["max_sample_unique_share"] is None
    assert share > 0
    accepting = config.model_copy(update={"max_sample_unique_share": share + 1e-6})  # rounded
    build_release(accepting, RUN_A, tmp_path / "at", **consultation_inputs)
    strict = config.model_copy(update={"max_sample_unique_share": share / 2})
    with pytest.raises(PublicationBlockedError, match=r"alone on some combination of up to 3"):
        build_release(strict, RUN_A, tmp_path / "strict", **consultation_inputs)
    assert not (tmp_path / "strict").exists() or not any((tmp_path / "strict").iterdir())
