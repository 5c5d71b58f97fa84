"""The attacker's view of a record file: inferred quasi-identifiers, k over them, sample uniques.

The first case is the one issue #12 found in the demo release: k=5 over month ×
département, while the same file publishes the commune, a finer copy of the
département that the config called "other".
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from include.anonymization.attacker_view import (
    _alone,
    attacker_view,
    infer_quasi_identifiers,
    informative_columns,
    refines,
    sample_uniques,
)
from include.cli.audit import audit_app


def _releases_like_the_demo(rows: int = 400, seed: int = 7) -> pd.DataFrame:
    """Month × département classes of at least 5, and a commune column inside each département."""
    rng = np.random.default_rng(seed)
    communes = {"75": ["Paris"], "69": ["Lyon", "Villeurbanne", "Bron"], "13": ["Marseille", "Aix"]}
    departement = rng.choice(list(communes), size=rows)
    return pd.DataFrame(
        {
            "submission_id": [f"id-{i}" for i in range(rows)],
            "submitted_at": rng.choice(["2026-01", "2026-02"], size=rows),
            "postcode": departement,
            "commune": [rng.choice(communes[d]) for d in departement],
            "category": rng.choice(["voirie", "bruit", "proprete"], size=rows),
            "description": [f"texte {i}" for i in range(rows)],
        }
    )


def test_a_commune_beside_its_departement_is_an_inferred_quasi_identifier() -> None:
    records = _releases_like_the_demo()
    records.loc[0, "commune"] = "Bron"  # a rare commune in one month: a small class
    records.loc[0, ["postcode", "submitted_at"]] = ["69", "2026-01"]
    records = pd.concat(
        [records, records.iloc[[0]].assign(commune="Vénissieux", submission_id="id-x")]
    )
    view = attacker_view(
        records.reset_index(drop=True), ["submitted_at", "postcode"], excluded=["description"]
    )
    assert [q.column for q in view.inferred] == ["commune"]
    assert "determines postcode" in view.inferred[0].reason
    assert view.k_declared >= 5
    assert view.k_with_inferred == 1  # "Vénissieux" once: what the declared k hid
    assert view.classes_below[5] >= 1


def test_refinement_needs_a_function_and_more_values() -> None:
    frame = pd.DataFrame({"fine": ["a", "b", "c", "c"], "coarse": ["x", "x", "y", "y"]})
    assert refines(frame, "fine", "coarse")
    assert not refines(frame, "coarse", "fine")  # fewer values
    frame.loc[3, "coarse"] = "x"
    assert not refines(frame, "fine", "coarse")  # "c" goes with two values
    frame["coarse"] = "*"  # generalized to nothing: determined by anything, refined by nothing
    assert not refines(frame, "fine", "coarse")


def test_a_time_column_is_inferred_and_a_row_key_is_left_out() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "when": ["2026-01-02", "2026-01-03", "2026-01-02", "2026-01-03"],
            "kind": ["x", "y", "x", "y"],
        }
    )
    assert informative_columns(frame) == ["when", "kind"]
    inferred = infer_quasi_identifiers(frame, [], ["when", "kind"])
    assert [(q.column, q.reason) for q in inferred] == [("when", "a date or time column")]


def _unique_records_brute_force(frame: pd.DataFrame, columns: list[str], max_size: int) -> int:
    unique = set()
    for size in range(1, max_size + 1):
        for combo in itertools.combinations(columns, size):
            keys = [tuple(row) for row in frame[list(combo)].astype(str).to_numpy()]
            counts = pd.Series(keys).value_counts()
            unique |= {i for i, key in enumerate(keys) if counts[key] == 1}
    return len(unique)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sample_uniques_equal_a_brute_force_count(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            name: rng.integers(0, size, 300).astype(str)
            for name, size in zip("abcd", (3, 5, 9, 4), strict=True)
        }
    )
    frame.loc[rng.integers(0, 300, 10), "b"] = None  # a missing value is a value of its own
    result = sample_uniques(frame, list("abcd"))
    assert result.unique_records == _unique_records_brute_force(frame, list("abcd"), 3)
    assert sum(result.by_size.values()) == result.unique_records
    assert result.worst[0][1] == max(n for _, n in result.worst)


@pytest.mark.parametrize("largest", [1000, 10**12], ids=["counted", "sorted"])
def test_keys_alone_are_found_whether_counted_or_sorted(largest: int) -> None:
    keys = np.random.default_rng(largest).integers(0, largest, 400)
    keys[:3] = keys[3]  # a key four times over, whatever the draw
    seen = Counter(keys.tolist())
    assert _alone(keys).tolist() == [seen[k] == 1 for k in keys.tolist()]


def test_civic_audit_risk_reads_a_release_folder_and_fails_below_k(tmp_path: Path) -> None:
    records = _releases_like_the_demo()
    records = pd.concat(
        [
            records,
            records.iloc[[0]].assign(commune="Vénissieux", postcode="69", submission_id="id-x"),
        ]
    ).reset_index(drop=True)
    records.to_parquet(tmp_path / "signalements.parquet")
    manifest = {
        "tables": [
            {
                "name": "signalements",
                "kind": "records",
                "files": ["signalements.csv", "signalements.parquet"],
                "quasi_identifiers": ["submitted_at", "postcode"],
                "scrubbed_free_text_fields": ["description"],
                "k_required": 5,
            }
        ]
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(audit_app, ["risk", str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output
    figures = json.loads(result.stdout)["signalements"]
    assert figures["k_with_inferred"] == 1
    assert figures["inferred_quasi_identifiers"][0]["column"] == "commune"


def test_civic_audit_risk_on_a_folder_without_manifest(tmp_path: Path) -> None:
    result = CliRunner().invoke(audit_app, ["risk", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a release folder" in result.output


def test_civic_audit_risk_on_aggregates_only_and_on_a_missing_file(tmp_path: Path) -> None:
    manifest = {"tables": [{"name": "par_mois", "kind": "aggregate", "files": ["par_mois.csv"]}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(audit_app, ["risk", str(tmp_path)])
    assert result.exit_code == 0
    assert "only aggregates" in result.output
    manifest["tables"].append({"name": "s", "kind": "records", "files": ["s.parquet"]})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(audit_app, ["risk", str(tmp_path)])
    assert result.exit_code == 2
    assert "cannot read s.parquet" in result.output


def test_civic_audit_risk_reads_the_earlier_batches_beside_the_release(tmp_path: Path) -> None:
    """Every record to date, as an attacker holding every release reads them: the release's
    own batch and each earlier batch its manifest lists, checked against its SHA-256."""
    rows = pd.DataFrame({"age": ["20-29"] * 4 + ["30-39"] * 4, "theme": ["a", "b"] * 4})
    earlier, release = tmp_path / "2026-01-01-r1", tmp_path / "2026-01-02-r2"
    earlier.mkdir()
    release.mkdir()
    rows.iloc[:4].to_parquet(release / "s.parquet")
    old = earlier / "s.parquet"
    rows.iloc[4:].to_parquet(old)
    listed = {"path": "../2026-01-01-r1/s.parquet", "bytes": old.stat().st_size, "sha256": "0" * 64}
    table = {
        "name": "s", "kind": "records", "files": ["s.parquet"], "k_required": 2,
        "quasi_identifiers": ["age"],
        "earlier_batches": [{"release_id": "2026-01-01-r1", "rows": 4, "files": [listed]}],
    }  # fmt: skip
    manifest = release / "manifest.json"
    manifest.write_text(json.dumps({"tables": [table]}), encoding="utf-8")
    result = CliRunner().invoke(audit_app, ["risk", str(release), "--json"])
    assert result.exit_code == 2
    assert "fetch release 2026-01-01-r1 beside it" in result.output
    listed["sha256"] = hashlib.sha256(old.read_bytes()).hexdigest()
    manifest.write_text(json.dumps({"tables": [table]}), encoding="utf-8")
    result = CliRunner().invoke(audit_app, ["risk", str(release), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["s"]["records"] == 8
    old.unlink()
    result = CliRunner().invoke(audit_app, ["risk", str(release)])
    assert result.exit_code == 2
    assert "is missing" in result.output
