"""Expectation suites of a source using the cell key method: counts shown and perturbed,
never a hidden small count demanded; what the method never produces fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from include.anonymization.cell_key import draw_record_keys
from include.core.source_config import SourceConfig
from include.validation import validate_aggregate, validate_release
from include.validation.suite_files import write_files
from include.validation.suites import aggregate_suite
from include.warehouse.aggregates import protect_all
from tests.cell_key_sources import cell_key_variant

AGGREGATE = "transports_par_age"


@pytest.fixture(scope="module")
def perturbed(consultation: SourceConfig) -> SourceConfig:
    return cell_key_variant(consultation, max_noise=2, variance=1.5, js=1)


@pytest.fixture(scope="module")
def suites(tmp_path_factory: pytest.TempPathFactory, perturbed: SourceConfig) -> Path:
    root = tmp_path_factory.mktemp("expectations")
    write_files([perturbed], root)
    return root


@pytest.fixture
def tables(_records: pd.DataFrame, perturbed: SourceConfig) -> dict[str, pd.DataFrame]:
    """The aggregates as the pipeline makes them for this source: cells and totals."""
    batch = _records.head(200).assign(record_key=draw_record_keys(200))
    return {item.name: item.cells.copy() for item in protect_all(batch, perturbed)}


def _checks(config: SourceConfig) -> set[str]:
    aggregate = next(a for a in config.aggregates if a.name == AGGREGATE)
    return {e["meta"]["check"] for e in aggregate_suite(config, aggregate)["expectations"]}


def test_the_suite_demands_no_hidden_small_count(
    consultation: SourceConfig, perturbed: SourceConfig
) -> None:
    suppression, cell_key = _checks(consultation), _checks(perturbed)
    assert {"count.min_cell_count", "count.suppressed_is_missing"} <= suppression - cell_key
    assert {"count.js", "suppressed.never", "suppression_reason.never"} <= cell_key
    assert {"count.non_negative", "count.published", "cells.unique"} <= cell_key


def test_the_pipeline_s_tables_pass(
    curated: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    perturbed: SourceConfig,
    suites: Path,
) -> None:
    small = pd.concat(tables.values())["count"]
    assert ((small > 1) & (small < perturbed.min_cell_count)).any(), "no small count to pass"
    report = validate_release(perturbed, curated, tables, root=suites)
    assert report.success, [f.describe() for r in report.reports for f in r.failures]


def test_a_hidden_cell_fails(
    tables: dict[str, pd.DataFrame], perturbed: SourceConfig, suites: Path
) -> None:
    table = tables[AGGREGATE]
    table.loc[0, ["count", "suppressed", "suppression_reason"]] = [pd.NA, True, "primary"]
    report = validate_aggregate(table, perturbed, AGGREGATE, root=suites)
    failed = {result.check for result in report.failures}
    assert failed == {"count.published", "suppressed.never", "suppression_reason.never"}


def test_a_count_between_1_and_js_fails(
    tables: dict[str, pd.DataFrame], perturbed: SourceConfig, suites: Path
) -> None:
    table = tables[AGGREGATE]
    table.loc[0, "count"] = 1
    report = validate_aggregate(table, perturbed, AGGREGATE, root=suites)
    assert {result.check for result in report.failures} == {"count.js"}
