"""The source configuration model: the shipped files are valid, bad files say what is wrong."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.source_config import (
    ConfigError,
    Grouping,
    NumericBands,
    Role,
    load_all_sources,
    load_source_config,
    parse_source_config,
)


@pytest.fixture
def consultation(sources_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((sources_dir / "consultation.yaml").read_text())


def test_shipped_sources_are_valid(sources_dir: Path) -> None:
    sources = load_all_sources(sources_dir)
    assert set(sources) == {"signalements", "consultation"}
    consultation = sources["consultation"]
    assert [f.name for f in consultation.quasi_identifiers] == [
        "submitted_at",
        "age",
        "gender",
        "postcode",
        "occupation",
    ]
    assert [f.name for f in consultation.sensitive_fields] == ["q_transports"]
    assert consultation.l_diversity == 2
    assert isinstance(consultation.field("age").hierarchy, NumericBands)
    assert all(f.role is Role.DIRECT_IDENTIFIER for f in sources["signalements"].direct_identifiers)
    assert {f.name for f in sources["signalements"].direct_identifiers} == {
        "reporter_name",
        "reporter_email",
        "reporter_phone",
    }


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_source_config(data, "sources/consultation.yaml")
    return str(info.value)


def test_unknown_hierarchy_kind_names_file_field_and_reason(consultation: dict[str, Any]) -> None:
    consultation["fields"][2]["hierarchy"] = {"kind": "bands"}
    message = _error(consultation)
    assert message.startswith("sources/consultation.yaml: fields[2] (age).hierarchy")
    assert "bands" in message


def test_quasi_identifier_without_hierarchy(consultation: dict[str, Any]) -> None:
    del consultation["fields"][4]["hierarchy"]
    assert "fields[4] (postcode): a quasi-identifier needs a generalization 'hierarchy'" in _error(
        consultation
    )


def test_bands_must_nest(consultation: dict[str, Any]) -> None:
    consultation["fields"][2]["hierarchy"]["widths"] = [5, 7]
    assert "each must divide the next" in _error(consultation)


def test_grouping_must_map_every_allowed_value(consultation: dict[str, Any]) -> None:
    del consultation["fields"][5]["hierarchy"]["levels"][0]["ouvrier"]
    assert "grouping does not map the allowed values ['ouvrier']" in _error(consultation)


def test_unknown_key_is_rejected(consultation: dict[str, Any]) -> None:
    consultation["kk"] = 5
    assert "kk: Extra inputs are not permitted" in _error(consultation)


def test_l_needs_a_sensitive_field(consultation: dict[str, Any]) -> None:
    data = copy.deepcopy(consultation)
    data["fields"][6]["role"] = "other"
    assert "l > 1 needs at least one field with role 'sensitive'" in _error(data)


def test_aggregate_on_unknown_field(consultation: dict[str, Any]) -> None:
    consultation["aggregates"][0]["dimensions"] = ["age:20", "salaire"]
    assert "uses unknown fields ['salaire']" in _error(consultation)


def test_k_below_two_is_rejected(consultation: dict[str, Any]) -> None:
    consultation["k"] = 1
    assert "k: Input should be greater than or equal to 2" in _error(consultation)


def test_pseudonymize_only_direct_identifiers(consultation: dict[str, Any]) -> None:
    consultation["fields"][3]["pseudonymize"] = True
    assert "only direct identifiers are pseudonymized" in _error(consultation)


def test_file_errors(tmp_path: Path, sources_dir: Path) -> None:
    bad_yaml = tmp_path / "broken.yaml"
    bad_yaml.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: not valid YAML"):
        load_source_config(bad_yaml)
    renamed = tmp_path / "autre.yaml"
    renamed.write_text((sources_dir / "consultation.yaml").read_text())
    with pytest.raises(ConfigError, match=r"name: 'consultation' must match the file name 'autre'"):
        load_source_config(renamed)
    with pytest.raises(ConfigError, match=r"no source configuration"):
        load_all_sources(tmp_path / "empty")


def test_grouping_levels_must_nest() -> None:
    with pytest.raises(ValueError, match=r"does not map the groups \['b'\]"):
        Grouping(kind="grouping", levels=[{"x": "a", "y": "b"}, {"a": "top"}])


def test_aggregate_dimension_levels(consultation: dict[str, Any], sources_dir: Path) -> None:
    sources = load_all_sources(sources_dir)
    dims = sources["signalements"].aggregates[1].dimensions
    assert [(d.field, d.level, d.column) for d in dims] == [
        ("category", None, "category"),
        ("postcode", "departement", "postcode_departement"),
    ]
    consultation["aggregates"][0]["dimensions"] = ["age:15", "q_transports"]
    assert "field 'age' has no level '15' (levels: ['5', '10', '20'])" in _error(consultation)
    consultation["aggregates"][0]["dimensions"] = ["opinion"]
    assert "cannot count by free_text 'opinion'" in _error(consultation)
