"""The risk report states what the published files give an attacker, measured on those files."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
from pycanon import anonymity

from include.publish import ReleaseFiles
from include.publish.risk_report import build_risk_report, risk_readme_section
from tests.unit.publish.inputs import source

Build = Callable[..., ReleaseFiles]


def test_the_manifest_states_the_three_tests_with_figures_from_the_files(
    release_of_each_source: tuple,
) -> None:
    files, _, manifest = release_of_each_source
    report = manifest["risk_report"]
    config = source(files.source)
    records = pd.read_parquet(io.BytesIO(files.path(f"{files.source}.parquet").read_bytes()))
    qis = [spec.name for spec in config.quasi_identifiers]
    singling = report["singling_out"]
    assert singling["k_attacker"] == anonymity.k_anonymity(records, qis)  # pycanon, independent
    assert singling["k_attacker"] >= config.k
    assert singling["inferred_quasi_identifiers"] == []
    assert 0 <= singling["sample_unique_records"] <= len(records)
    assert singling["max_reidentification_risk"] <= 1 / config.k
    link = report["linkability"]
    assert link["direct_identifiers_withheld"] == [s.name for s in config.direct_identifiers]
    assert not link["pseudonyms_published"]
    assert link["linked_tables_protected_jointly"]
    assert link["record_file_counts_taken_into_account"]
    assert not link["previous_release_protected_against"]  # a first release
    assert link["aggregate_cells_recoverable"] == 0
    aggregates = [t for t in manifest["tables"] if t["kind"] == "aggregate"]
    loss = report["information_loss"]
    assert loss["aggregate_cells"] == sum(t["cells"] for t in aggregates)
    assert loss["aggregate_cells_hidden"] == sum(t["cells_suppressed"] for t in aggregates)
    inference = report["inference"]
    assert inference["sensitive_fields"] == [s.name for s in config.sensitive_fields]
    # the measure the generalization minimized, as the manifest's record table states it
    records_table = next(t for t in manifest["tables"] if t["kind"] == "records")
    assert loss["generalization_measure"] == {"name": "lm"}
    assert records_table["anonymization"]["metric"] == {"name": "lm"}


def test_the_readme_says_each_test_in_plain_french(release_of_each_source: tuple) -> None:
    _, readme, manifest = release_of_each_source
    report = manifest["risk_report"]
    assert "## Risques de ré-identification (les trois tests du G29)" in readme
    for test in ("**Individualisation**", "**Corrélation**", "**Inférence**"):
        assert test in readme
    assert f"k = {report['singling_out']['k_attacker']}" in readme
    assert "décidé en une fois pour tous les tableaux de la version" in readme
    assert "première version : aucune version précédente" in readme
    assert "en minimisant la part des valeurs confondues" in readme


def test_a_release_of_aggregates_only_has_nobody_to_single_out() -> None:
    report = build_risk_report([])
    assert report["singling_out"] is None
    assert report["inference"] is None
    lines = risk_readme_section(report)
    assert any("aucun enregistrement individuel n'est publié" in line for line in lines)
