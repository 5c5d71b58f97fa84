"""The committed suite files: equal to what the generator makes, loadable by GX, never stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.core.source_config import SourceConfig, load_all_sources
from include.validation.__main__ import GENERATOR
from include.validation.suite_files import (
    EXPECTATIONS_DIR,
    SuiteFileError,
    load_checkpoint,
    load_suite,
    render_all,
    stale_files,
    write_files,
)
from include.validation.suites import GENERATED_BY, config_fingerprint, curated_columns
from include.warehouse import pg_tables


def test_committed_files_equal_what_the_generator_produces(
    sources: dict[str, SourceConfig],
) -> None:
    stale = stale_files(sources.values())
    assert stale == [], f"stale files under expectations/: {stale}; run `{GENERATED_BY}`"


def test_every_committed_suite_is_a_valid_gx_suite() -> None:
    import great_expectations as gx

    paths = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    suites = [json.loads(p.read_text()) for p in paths if p.name != "checkpoint.json"]
    assert len(suites) == 2 + sum(len(c.aggregates) for c in load_all_sources().values())
    for suite in suites:
        built = gx.ExpectationSuite(name=suite["name"], expectations=suite["expectations"])
        assert [e.expectation_type for e in built.expectations] == [
            e["type"] for e in suite["expectations"]
        ]
        checks = [e["meta"]["check"] for e in suite["expectations"]]
        assert len(set(checks)) == len(checks), suite["name"]


def test_personal_data_is_withheld_where_it_may_appear(sources: dict[str, SourceConfig]) -> None:
    suite = load_suite(sources["consultation"], "curated")
    for expectation in suite["expectations"]:
        check, withheld = expectation["meta"]["check"], expectation["meta"]["withhold_values"]
        sensitive = (
            ".no_pii." in check
            or check.startswith("opinion.")
            or check.startswith("respondent_email_pseudonym.")
        )
        assert withheld == sensitive, check


def test_suites_state_the_config_rules(sources: dict[str, SourceConfig]) -> None:
    config = sources["consultation"]
    suite = {e["meta"]["check"]: e["kwargs"] for e in load_suite(config, "curated")["expectations"]}
    assert suite["privacy.k_anonymity"]["min_value"] == config.k
    assert suite["privacy.l_diversity.q_transports"]["min_value"] == config.l_diversity
    assert "respondent_email" not in suite["table.columns"]["column_set"]
    assert "respondent_email_pseudonym" in suite["table.columns"]["column_set"]
    aggregate = load_suite(config, "aggregate:transports_par_age")["expectations"]
    cells = {e["meta"]["check"]: e["kwargs"] for e in aggregate}
    assert cells["count.min_cell_count"]["value_set"] == list(range(1, config.min_cell_count))


def test_write_then_check_round_trip(tmp_path: Path, sources: dict[str, SourceConfig]) -> None:
    written = write_files(sources.values(), tmp_path)
    assert set(written) == set(render_all(sources.values()))
    assert set(written.values()) == {"written"}
    assert write_files(sources.values(), tmp_path) == {}
    assert GENERATOR.main(["check", "--out", str(tmp_path)]) == 0

    leftover = tmp_path / "consultation" / "aggregate.retired.json"
    leftover.write_text("{}")
    edited = tmp_path / "signalements" / "curated.json"
    edited.write_text(edited.read_text().replace('"min_value": 5', '"min_value": 2'))
    assert stale_files(sources.values(), tmp_path) == [
        "consultation/aggregate.retired.json",
        "signalements/curated.json",
    ]
    assert GENERATOR.main(["check", "--out", str(tmp_path)]) == 1
    assert GENERATOR.main(["write", "--out", str(tmp_path)]) == 0
    assert not leftover.exists()
    assert stale_files(sources.values(), tmp_path) == []


def test_a_suite_from_another_config_version_is_refused(
    consultation: SourceConfig,
) -> None:
    stricter = consultation.model_copy(update={"k": consultation.k + 1})
    assert config_fingerprint(stricter) != config_fingerprint(consultation)
    with pytest.raises(SuiteFileError, match=r"another version.*python -m include\.validation"):
        load_suite(stricter, "curated")
    with pytest.raises(SuiteFileError, match="another version"):
        load_checkpoint(stricter)


def test_a_missing_suite_says_how_to_make_it(tmp_path: Path, consultation: SourceConfig) -> None:
    with pytest.raises(SuiteFileError, match=r"does not exist; run `python -m include\.valid"):
        load_suite(consultation, "curated", tmp_path)


def test_the_fingerprint_ignores_yaml_layout(sources: dict[str, SourceConfig]) -> None:
    config = sources["signalements"]
    rebuilt = SourceConfig.model_validate(config.model_dump(by_alias=True))
    assert config_fingerprint(rebuilt) == config_fingerprint(config)


def test_the_gate_expects_the_columns_the_loader_writes(sources: dict[str, SourceConfig]) -> None:
    for config in sources.values():
        loaded = [
            name for name, _ in pg_tables.curated_columns(config) if name != pg_tables.RUN_COLUMN
        ]
        assert curated_columns(config) == loaded
