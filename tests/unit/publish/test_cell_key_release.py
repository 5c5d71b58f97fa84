"""A release of a source whose aggregates use the cell key method: every count published,
perturbed within ±D, the method stated; the gates block what the method never produces."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from include.anonymization.cell_key import draw_record_keys
from include.core.source_config import SourceConfig
from include.publish import AggregateInput, PublicationBlockedError, build_release
from include.publish.tables import aggregate_table
from include.warehouse.aggregates import protect_all
from include.warehouse.cell_key_aggregates import perturbation_table
from tests.cell_key_sources import cell_key_variant
from tests.unit.publish.inputs import RUN_A, raw_consultation, source

MAX_NOISE = 3


def _aggregates(config: SourceConfig, n: int = 600, seed: int = 3) -> list[AggregateInput]:
    raw = raw_consultation(n, seed).assign(record_key=draw_record_keys(n))
    return [AggregateInput(a.name, a.cells, a.summary) for a in protect_all(raw, config)]


@pytest.fixture(scope="module")
def config() -> SourceConfig:
    return cell_key_variant(source("consultation"), max_noise=MAX_NOISE, variance=2.0)


@pytest.fixture
def release(
    tmp_path: Path, config: SourceConfig, inputs_of: Callable[[str], dict[str, Any]]
) -> dict[str, Any]:
    """The built release's manifest, data package, README and aggregate tables."""
    inputs = {**inputs_of("consultation"), "aggregates": _aggregates(config)}
    files = build_release(config, RUN_A, tmp_path, **inputs)
    tables = {
        a.name: pd.read_parquet(io.BytesIO(files.path(f"{a.name}.parquet").read_bytes()))
        for a in config.aggregates
    }
    return {
        "manifest": json.loads(files.path("manifest.json").read_text("utf-8")),
        "datapackage": json.loads(files.path("datapackage.json").read_text("utf-8")),
        "readme": files.path("README.md").read_text("utf-8"),
        "tables": tables,
    }


def test_every_count_and_total_is_published(release: dict[str, Any], config: SourceConfig) -> None:
    for aggregate in config.aggregates:
        table = release["tables"][aggregate.name]
        dims = [d.column for d in aggregate.dimensions]
        assert table["count"].notna().all()
        assert not table["suppressed"].any()
        assert table[dims].isna().all(axis=1).sum() == 1  # the grand total
        assert table[dims].isna().any(axis=1).sum() > 1  # and the totals by one dimension


def test_the_manifest_states_the_method_its_parameters_and_its_ptable(
    release: dict[str, Any], config: SourceConfig
) -> None:
    fingerprint = perturbation_table(config.disclosure).fingerprint
    aggregates = [t for t in release["manifest"]["tables"] if t["kind"] == "aggregate"]
    assert len(aggregates) == len(config.aggregates)
    for table in aggregates:
        assert table["disclosure"] == "cell_key"
        assert table["cell_key"] == {
            "method": "cell_key",
            "max_noise": MAX_NOISE,
            "variance": 2.0,
            "js": 0,
            "ptable": fingerprint,
        }
        assert table["cells_suppressed"] == 0
        assert table["cells"] + table["totals"] == table["rows"]
    text = json.dumps(release["manifest"])
    assert "mean_abs_deviation" not in text  # the deviations stay in the audit ledger
    link = release["manifest"]["risk_report"]["linkability"]
    assert link["previous_release_protected_against"] is True
    assert link["aggregates_perturbed_consistently"] is True
    assert link["record_file_counts_taken_into_account"] is False  # nothing hidden to count


def test_the_count_column_says_it_is_perturbed(release: dict[str, Any]) -> None:
    for resource in release["datapackage"]["resources"]:
        fields = {f["name"]: f["description"] for f in resource["schema"]["fields"]}
        if "suppressed" not in fields:
            continue
        assert f"perturbé d'au plus {MAX_NOISE} en plus ou en moins" in fields["count"]
        assert "jamais masqué" in fields["count"]
        assert "Toujours faux" in fields["suppressed"]


def test_the_readme_says_what_the_method_guarantees(release: dict[str, Any]) -> None:
    readme = release["readme"]
    assert "**Effectifs perturbés (méthode de la clé de cellule)**" in readme
    assert f"d'au plus {MAX_NOISE} en plus ou en moins" in readme
    assert "la même valeur dans tous les tableaux et dans toutes les versions" in readme
    assert "ils ne sont pas la somme des effectifs publiés" in readme
    assert "secret statistique" not in readme.lower()
    assert "Le secret statistique est décidé" not in readme
    assert f"perturbed by at most ±{MAX_NOISE}" in readme


# -- the gates -------------------------------------------------------------------------------


def _hide_one(frame: pd.DataFrame) -> None:
    frame.loc[0, ["count", "suppressed", "suppression_reason"]] = [pd.NA, True, "primary"]


def _missing_count(frame: pd.DataFrame) -> None:
    frame.loc[0, "count"] = pd.NA


def _negative_count(frame: pd.DataFrame) -> None:
    frame.loc[0, "count"] = -1


CORRUPTIONS = [
    (_hide_one, "cells flagged suppressed"),
    (_missing_count, "without a count"),
    (_negative_count, "negative count"),
]


@pytest.mark.parametrize(
    ("corrupt", "reason"), CORRUPTIONS, ids=[c.__name__ for c, _ in CORRUPTIONS]
)
def test_a_table_the_method_never_produces_blocks(
    config: SourceConfig, corrupt: Callable[[pd.DataFrame], None], reason: str
) -> None:
    aggregate = _aggregates(config, 200)[0]
    aggregate_table(config, aggregate)  # as produced: publishable
    frame = aggregate.data.copy()
    corrupt(frame)
    with pytest.raises(PublicationBlockedError, match=reason):
        aggregate_table(config, AggregateInput(aggregate.name, frame, aggregate.summary))


def test_a_count_between_1_and_js_blocks(config: SourceConfig) -> None:
    with_js = cell_key_variant(source("consultation"), max_noise=2, variance=1.5, js=1)
    aggregate = _aggregates(with_js, 200)[0]
    aggregate_table(with_js, aggregate)
    frame = aggregate.data.copy()
    frame.loc[0, "count"] = 1
    with pytest.raises(PublicationBlockedError, match="between 1 and js=1"):
        aggregate_table(with_js, AggregateInput(aggregate.name, frame, aggregate.summary))


def test_another_ptable_blocks(config: SourceConfig) -> None:
    """Perturbed with other parameters than the config's: the same cell would not read the
    same as in the other releases."""
    other = cell_key_variant(source("consultation"), max_noise=MAX_NOISE, variance=1.0)
    aggregate = _aggregates(other, 200)[0]
    with pytest.raises(PublicationBlockedError, match="another ptable"):
        aggregate_table(config, aggregate)


def test_a_suppressed_table_is_not_taken_for_a_perturbed_one(config: SourceConfig) -> None:
    committed = source("consultation")
    raw = raw_consultation(200, 4)
    suppressed = protect_all(raw, committed)[0]
    given = AggregateInput(suppressed.name, suppressed.cells, suppressed.summary)
    with pytest.raises(ValueError, match="not a cell key summary"):
        aggregate_table(config, given)
