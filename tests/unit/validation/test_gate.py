"""The gate on real producers' tables: valid ones pass, every kind of violation fails clearly."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pytest

from include.audit.canonical import canonical_json
from include.core.source_config import SourceConfig
from include.ingest import parquet_bytes
from include.validation import (
    SuiteFileError,
    ValidationFailed,
    ValidationReport,
    require_valid,
    validate_aggregate,
    validate_curated,
    validate_release,
)
from include.validation.frames import ParquetSource
from include.validation.gx_runner import run_suite
from include.validation.suite_files import load_suite
from include.validation.suites import CURATED
from include.warehouse.aggregates import MISSING_LABEL

LEAKED_EMAIL = "jeanne.martin@exemple-mail.fr"
AGGREGATE = "transports_par_age"  # dimensions age:20 (a banded level) and q_transports


def failed_checks(report: ValidationReport) -> set[str]:
    return {result.check for result in report.failures}


def failure_message(report: ValidationReport) -> str:
    with pytest.raises(ValidationFailed) as caught:
        require_valid(report)
    assert caught.value.reports == (report,)
    return str(caught.value)


def test_valid_curated_table_passes(curated: pd.DataFrame, consultation: SourceConfig) -> None:
    report = validate_curated(curated, consultation)
    assert report.success, [failure.describe() for failure in report.failures]
    require_valid(report)
    assert report.row_count == len(curated)
    assert len(report.results) > 40


def test_valid_aggregates_pass(
    aggregates: dict[str, pd.DataFrame], consultation: SourceConfig
) -> None:
    for name, table in aggregates.items():
        assert table["suppressed"].any(), "the fixture should exercise suppression"
        assert table["count"].isna().any()
        report = validate_aggregate(table, consultation, name)
        assert report.success, [failure.describe() for failure in report.failures]


def test_not_answered_label_is_a_valid_dimension_value(
    aggregates: dict[str, pd.DataFrame], consultation: SourceConfig
) -> None:
    table = aggregates[AGGREGATE]
    table["q_transports"] = table["q_transports"].astype(object)
    cell = table.index[table["age_20"].notna()][0]
    table.loc[cell, "q_transports"] = MISSING_LABEL
    table.loc[cell + 1, "age_20"] = MISSING_LABEL
    assert validate_aggregate(table, consultation, AGGREGATE).success


def test_valid_signalements_release_passes(
    reports: tuple[pd.DataFrame, dict[str, pd.DataFrame]], signalements: SourceConfig
) -> None:
    curated, tables = reports
    assert (tables["par_commune"]["commune"] == MISSING_LABEL).any()
    report = validate_release(signalements, curated, tables)
    assert report.success, [f.describe() for r in report.reports for f in r.failures]


def test_category_outside_the_allowed_set_fails(
    reports: tuple[pd.DataFrame, dict[str, pd.DataFrame]], signalements: SourceConfig
) -> None:
    curated, _ = reports
    curated.loc[5, "channel"] = "fax"
    report = validate_curated(curated, signalements)
    assert failed_checks(report) == {"channel.allowed"}
    message = failure_message(report)
    assert "'channel' takes only its allowed values" in message
    assert "(rows 5); e.g. fax" in message


def test_validation_writes_nothing_to_stderr(
    curated: pd.DataFrame, consultation: SourceConfig, capfd: pytest.CaptureFixture[str]
) -> None:
    validate_curated(curated, consultation)
    assert capfd.readouterr().err == ""


def _direct_identifier(table: pd.DataFrame) -> None:
    table["respondent_email"] = LEAKED_EMAIL


def _email_in_free_text(table: pd.DataFrame) -> None:
    table.loc[7, "opinion"] = f"Merci de me répondre à {LEAKED_EMAIL} avant vendredi."


def _email_instead_of_pseudonym(table: pd.DataFrame) -> None:
    table.loc[3, "respondent_email_pseudonym"] = LEAKED_EMAIL


def _email_in_a_category(table: pd.DataFrame) -> None:
    table.loc[2, "gender"] = LEAKED_EMAIL


def _missing_required_value(table: pd.DataFrame) -> None:
    table["q_velo"] = table["q_velo"].astype("Int64")
    table.loc[4, "q_velo"] = pd.NA


def _out_of_range(table: pd.DataFrame) -> None:
    table.loc[5, "q_pietons"] = 9


def _wrong_type(table: pd.DataFrame) -> None:
    table["q_transports"] = table["q_transports"].astype(str)


def _duplicate_id(table: pd.DataFrame) -> None:
    table.loc[1, "response_id"] = table.loc[0, "response_id"]


def _class_smaller_than_k(table: pd.DataFrame) -> None:
    # Two rows of one class moved into a combination of their own, with two distinct
    # sensitive values (so that only k fails, not l).
    qis = ["submitted_at", "age", "gender", "postcode", "occupation"]
    first = table.index[0]
    same_class = (table[qis] == table.loc[first, qis]).all(axis=1)
    other = table.index[same_class & (table["q_transports"] != table.loc[first, "q_transports"])][0]
    table.loc[[first, other], "postcode"] = "2A"


def _class_without_diversity(table: pd.DataFrame) -> None:
    qis = ["submitted_at", "age", "gender", "postcode", "occupation"]
    sizes = table.groupby(qis)["q_transports"].transform("size")
    smallest = table.loc[sizes == sizes.min(), qis].iloc[0]
    members = (table[qis] == smallest).all(axis=1)
    table.loc[members, "q_transports"] = 3


CURATED_VIOLATIONS: list[tuple[Callable[[pd.DataFrame], None], set[str]]] = [
    (_direct_identifier, {"table.no_direct_identifier", "table.columns"}),
    (_email_in_free_text, {"opinion.no_pii.email"}),
    (_email_instead_of_pseudonym, {"respondent_email_pseudonym.format"}),
    # A row alone in its class also fails k and l.
    (
        _email_in_a_category,
        {"gender.generalization_label", "privacy.k_anonymity", "privacy.l_diversity.q_transports"},
    ),
    (_missing_required_value, {"q_velo.required"}),
    (_out_of_range, {"q_pietons.range"}),
    (_wrong_type, {"q_transports.type", "q_transports.range"}),
    (_duplicate_id, {"response_id.unique"}),
    (_class_smaller_than_k, {"privacy.k_anonymity"}),
    (_class_without_diversity, {"privacy.l_diversity.q_transports"}),
]


@pytest.mark.parametrize(
    ("corrupt", "expected"), CURATED_VIOLATIONS, ids=[c.__name__ for c, _ in CURATED_VIOLATIONS]
)
def test_each_curated_violation_fails_exactly_its_checks(
    curated: pd.DataFrame,
    consultation: SourceConfig,
    corrupt: Callable[[pd.DataFrame], None],
    expected: set[str],
) -> None:
    corrupt(curated)
    report = validate_curated(curated, consultation)
    assert failed_checks(report) == expected
    message = failure_message(report)
    for check in expected:
        assert check in message
    assert "loading and publication are blocked" in message
    assert LEAKED_EMAIL not in message
    assert "jeanne.martin" not in canonical_json(report.as_dict())


# One violation per kind of check: withheld values, shown values, types, the column set,
# uniqueness (whole-table), a derived statistic.
SLICED_VIOLATIONS = [
    (corrupt, expected)
    for corrupt, expected in CURATED_VIOLATIONS
    if corrupt
    in (
        _email_in_free_text,
        _out_of_range,
        _wrong_type,
        _direct_identifier,
        _duplicate_id,
        _class_smaller_than_k,
    )
]


@pytest.mark.parametrize(
    ("corrupt", "expected"), SLICED_VIOLATIONS, ids=[c.__name__ for c, _ in SLICED_VIOLATIONS]
)
def test_a_table_validated_in_slices_reads_as_one_validated_whole(
    curated: pd.DataFrame,
    consultation: SourceConfig,
    corrupt: Callable[[pd.DataFrame], None],
    expected: set[str],
) -> None:
    """Slicing bounds memory and changes nothing else: every check's result (success,
    counts, rows, shown values, errors) is the one the whole table gives; and so does the
    work zone's file read a row group at a time (groups of 300 rows, pieces of 400)."""
    corrupt(curated)
    suite = load_suite(consultation, CURATED)
    whole = run_suite(suite, curated, slice_rows=len(curated))
    sliced = run_suite(suite, curated, slice_rows=400)
    assert {result.check for result in whole if not result.success} == expected - {
        "table.no_direct_identifier"  # the gate's own check, not the suite's
    }
    assert sliced == whole
    table = pa.Table.from_pandas(curated, preserve_index=False)
    source = ParquetSource(parquet_bytes(table, row_group_rows=300))
    assert (len(source), source.columns) == (len(curated), list(curated.columns))
    assert run_suite(suite, source, slice_rows=400) == run_suite(
        suite, table.to_pandas(), slice_rows=400
    )
    from_file = validate_curated(source, consultation)
    assert from_file == validate_curated(table.to_pandas(), consultation)


def test_failures_in_several_slices_are_counted_and_located_in_order(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    last = curated.index[-1]
    curated.loc[[5, 450, 1200], "q_pietons"] = 9
    curated.loc[last, "response_id"] = curated.loc[0, "response_id"]  # a copy 3 slices away
    results = {
        result.check: result
        for result in run_suite(load_suite(consultation, CURATED), curated, slice_rows=400)
    }
    assert results["q_pietons.range"].unexpected_count == 3
    assert results["q_pietons.range"].element_count == len(curated)
    assert results["q_pietons.range"].rows == (5, 450, 1200)
    assert results["response_id.unique"].rows == (0, last)
    assert {check for check, result in results.items() if not result.success} == {
        "q_pietons.range",
        "response_id.unique",
    }


def test_the_failure_survives_pickling(curated: pd.DataFrame, consultation: SourceConfig) -> None:
    _class_smaller_than_k(curated)
    report = validate_curated(curated, consultation)
    with pytest.raises(ValidationFailed) as caught:
        require_valid(report)
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 (our own bytes)
    assert (str(copy), copy.reports) == (str(caught.value), caught.value.reports)


def test_identifier_column_is_recognised_under_another_spelling(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    curated["Respondent-Email (brut)"] = "<withheld>"
    report = validate_curated(curated, consultation)
    failures = {failure.check: failure for failure in report.failures}
    assert set(failures) == {"table.no_direct_identifier", "table.columns"}
    assert failures["table.no_direct_identifier"].observed == {
        "direct identifier columns": ["Respondent-Email (brut)"]
    }


def test_leaked_email_is_located_but_never_shown(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    _email_in_free_text(curated)
    report = validate_curated(curated, consultation)
    (failure,) = report.failures
    assert (failure.unexpected_count, failure.rows, failure.sample) == (1, (7,), ())
    assert failure.values_withheld
    message = failure_message(report)
    assert "opinion" in message
    assert "an e-mail address" in message
    assert "(rows 7)" in message
    assert "values withheld" in message
    assert "jeanne" not in message


def test_shown_values_are_masked_and_explain_the_failure(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    _email_in_a_category(curated)
    curated.loc[9, "occupation"] = "pilote"
    report = validate_curated(curated, consultation)
    failures = {failure.check: failure for failure in report.failures}
    assert failures["gender.generalization_label"].sample == ("<withheld>",)
    assert failures["occupation.generalization_label"].sample == ("pilote",)
    assert "e.g. pilote" in failure_message(report)


def test_wrong_type_names_the_types_found(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    _wrong_type(curated)
    report = validate_curated(curated, consultation)
    failure = next(f for f in report.failures if f.check == "q_transports.type")
    assert failure.sample == ("str",)
    assert failure.unexpected_count == len(curated)


def test_class_smaller_than_k_points_at_its_rows(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    _class_smaller_than_k(curated)
    (failure,) = validate_curated(curated, consultation).failures
    assert failure.unexpected_count == 2
    assert failure.sample == ("2", "2")
    assert f"k={consultation.k}" in failure.description


def _first(table: pd.DataFrame, suppressed: bool) -> int:
    return int(table.index[(table["suppressed"] == suppressed) & table["age_20"].notna()][0])


def _published_below_minimum(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=False), "count"] = 4


def _suppressed_shown_as_zero(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=True), "count"] = 0


def _suppressed_shows_its_value(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=True), "count"] = 14


def _published_without_count(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=False), "count"] = pd.NA


def _suppressed_without_reason(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=True), "suppression_reason"] = pd.NA


def _unknown_reason(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=True), "suppression_reason"] = "trop_petit"


def _known_on_a_suppressed_cell(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=True), "suppression_reason"] = "known"


def _hiding_reason_on_a_published_cell(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=False), "suppression_reason"] = "primary"


def _exact_age_in_banded_dimension(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=False), "age_20"] = "34"


def _duplicated_cell(table: pd.DataFrame) -> None:
    table.loc[len(table)] = table.loc[_first(table, suppressed=False)]


def _negative_count(table: pd.DataFrame) -> None:
    table.loc[_first(table, suppressed=False), "count"] = -12


AGGREGATE_VIOLATIONS: list[tuple[Callable[[pd.DataFrame], None], set[str]]] = [
    (_published_below_minimum, {"count.min_cell_count"}),
    (_suppressed_shown_as_zero, {"count.suppressed_is_missing"}),
    (_suppressed_shows_its_value, {"count.suppressed_is_missing"}),
    (_published_without_count, {"count.published"}),
    (_suppressed_without_reason, {"suppression_reason.when_suppressed"}),
    (_unknown_reason, {"suppression_reason.allowed", "suppression_reason.why_hidden"}),
    (_known_on_a_suppressed_cell, {"suppression_reason.why_hidden"}),
    (_hiding_reason_on_a_published_cell, {"suppression_reason.when_published"}),
    (_exact_age_in_banded_dimension, {"age_20.generalization_label"}),
    (_duplicated_cell, {"cells.unique"}),
    (_negative_count, {"count.non_negative"}),
    (_direct_identifier, {"table.no_direct_identifier", "table.columns"}),
]


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    AGGREGATE_VIOLATIONS,
    ids=[c.__name__ for c, _ in AGGREGATE_VIOLATIONS],
)
def test_each_aggregate_violation_fails_exactly_its_checks(
    aggregates: dict[str, pd.DataFrame],
    consultation: SourceConfig,
    corrupt: Callable[[pd.DataFrame], None],
    expected: set[str],
) -> None:
    table = aggregates[AGGREGATE]
    corrupt(table)
    report = validate_aggregate(table, consultation, AGGREGATE)
    assert failed_checks(report) == expected
    message = failure_message(report)
    assert all(check in message for check in expected)


def test_published_cell_below_minimum_says_so(
    aggregates: dict[str, pd.DataFrame], consultation: SourceConfig
) -> None:
    table = aggregates[AGGREGATE]
    row = _first(table, suppressed=False)
    _published_below_minimum(table)
    message = failure_message(validate_aggregate(table, consultation, AGGREGATE))
    assert f"no published count lies between 1 and {consultation.min_cell_count - 1}" in message
    assert f"(rows {row}); e.g. 4" in message


def test_release_passes_with_every_table(
    curated: pd.DataFrame, aggregates: dict[str, pd.DataFrame], consultation: SourceConfig
) -> None:
    report = validate_release(consultation, curated, aggregates)
    assert report.success
    require_valid(report)
    assert [r.table for r in report.reports] == [
        "curated",
        *(f"aggregate:{aggregate.name}" for aggregate in consultation.aggregates),
    ]
    canonical_json(report.as_dict())  # the audit ledger can record it as is


def test_release_fails_on_a_missing_or_unknown_table(
    curated: pd.DataFrame, aggregates: dict[str, pd.DataFrame], consultation: SourceConfig
) -> None:
    aggregates["non_declare"] = aggregates.pop("velo_par_age")
    report = validate_release(consultation, curated, aggregates)
    failed = {r.table: r.failures[0].description for r in report.reports if not r.success}
    assert failed == {
        "aggregate:velo_par_age": "the release lacks table 'aggregate:velo_par_age'",
        "aggregate:non_declare": "table 'aggregate:non_declare' has no suite in "
        "consultation.release",
    }
    with pytest.raises(ValidationFailed, match="lacks table 'aggregate:velo_par_age'"):
        require_valid(report)


def test_failed_release_lists_every_failing_table(
    curated: pd.DataFrame, aggregates: dict[str, pd.DataFrame], consultation: SourceConfig
) -> None:
    _email_in_free_text(curated)
    _suppressed_shown_as_zero(aggregates[AGGREGATE])
    report = validate_release(consultation, curated, aggregates)
    with pytest.raises(ValidationFailed) as caught:
        require_valid(report)
    message = str(caught.value)
    assert "[consultation / curated]" in message
    assert f"[consultation / aggregate:{AGGREGATE}]" in message
    assert LEAKED_EMAIL not in message
    ledger = report.as_dict()
    assert ledger["success"] is False
    assert [t["success"] for t in ledger["tables"]].count(False) == 2
    assert LEAKED_EMAIL not in canonical_json(ledger)


def test_stale_suite_blocks_instead_of_validating(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    looser = consultation.model_copy(update={"k": 2})
    with pytest.raises(SuiteFileError, match="another version of the 'consultation'"):
        validate_curated(curated, looser)


def test_unknown_aggregate_is_refused(curated: pd.DataFrame, consultation: SourceConfig) -> None:
    with pytest.raises(KeyError, match="declares no aggregate 'inconnu'"):
        validate_aggregate(curated, consultation, "inconnu")


def test_missing_column_fails_its_checks_with_a_reason(
    curated: pd.DataFrame, consultation: SourceConfig
) -> None:
    report = validate_curated(curated.drop(columns=["q_velo"]), consultation)
    failures = {failure.check: failure for failure in report.failures}
    assert failures["table.columns"].observed == {"missing columns": ["q_velo"]}
    assert "q_velo" in (failures["q_velo.required"].error or "")
    assert "the check could not run" in failure_message(report)


def test_a_small_count_the_record_file_gives_may_be_published(
    aggregates: dict[str, pd.DataFrame], consultation: SourceConfig
) -> None:
    """Shown below the threshold with the reason `known`: the record-level file of the same
    release gives it exactly, so hiding it would protect nothing."""
    table = aggregates[AGGREGATE]
    row = _first(table, suppressed=False)
    table.loc[row, ["count", "suppression_reason"]] = [4, "known"]
    assert failed_checks(validate_aggregate(table, consultation, AGGREGATE)) == set()
