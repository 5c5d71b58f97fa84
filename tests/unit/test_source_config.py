"""The source configuration model: the shipped files are valid, bad files say what is wrong."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.core.metric_spec import MetricSpec
from include.core.source_config import (
    CellKeyDisclosure,
    ConfigError,
    Dimension,
    Grouping,
    HierarchyFile,
    NumericBands,
    Role,
    SuppressionDisclosure,
    hierarchy_level,
    load_all_sources,
    load_source_config,
    parse_source_config,
)
from include.publish.wording import dimension_description
from include.validation.labels import quasi_identifier_regex
from include.validation.suites import aggregate_suite, config_fingerprint, curated_suite


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


def test_labels_name_only_allowed_values(consultation: dict[str, Any]) -> None:
    consultation["fields"][3]["labels"] = {"F": "Femme", "Z": "Zèbre"}
    assert (
        "fields[3] (gender): labels name ['Z'], which are not allowed values ['F', 'M', 'X']"
        in _error(consultation)
    )


def test_labels_only_apply_to_category_fields(consultation: dict[str, Any]) -> None:
    consultation["fields"][2]["labels"] = {"15": "quinze ans"}
    assert "fields[2] (age): 'labels' only applies to category fields" in _error(consultation)


@pytest.mark.parametrize(
    ("labels", "clash"),
    [
        ({"F": "Femme", "M": "Femme"}, "'F' and 'M' would both read 'Femme'"),
        # A label may not read like another, unlabelled code either.
        ({"F": "M"}, "'F' and 'M' would both read 'M'"),
    ],
)
def test_two_values_cannot_read_the_same(
    consultation: dict[str, Any], labels: dict[str, str], clash: str
) -> None:
    consultation["fields"][3]["labels"] = labels
    assert f"fields[3] (gender): {clash}: give them distinct labels" in _error(consultation)


@pytest.mark.parametrize("label", ["", " Femme", "Femme\nou autre"])
def test_a_label_is_one_trimmed_line(consultation: dict[str, Any], label: str) -> None:
    consultation["fields"][3]["labels"] = {"F": label}
    assert "fields[3] (gender).labels.F" in _error(consultation)


def test_labels_are_optional_and_a_code_without_one_reads_as_itself(
    consultation: dict[str, Any],
) -> None:
    consultation["fields"][3]["labels"] = {"X": "Autre / non précisé"}
    gender = parse_source_config(consultation, "test").field("gender")
    assert gender.labels_at(0) == {"X": "Autre / non précisé"}
    del consultation["fields"][3]["labels"]
    assert parse_source_config(consultation, "test").field("gender").labels_at(0) == {}


def test_group_labels_name_groups_of_their_level(consultation: dict[str, Any]) -> None:
    hierarchy = consultation["fields"][5]["hierarchy"]
    hierarchy["labels"] = [{"salaries": "Salariés", "cadres": "Cadres"}]
    assert (
        "fields[5] (occupation).hierarchy.grouping: labels name ['cadres'], which are not groups"
        " of level 1 ['independants', 'salaries', 'inactifs']" in _error(consultation)
    )
    hierarchy["labels"] = [{}, {"salaries": "Salariés"}]
    assert "labels are given for 2 levels, the grouping has 1" in _error(consultation)


def test_labels_per_level_and_per_aggregate_dimension(sources_dir: Path) -> None:
    consultation = load_all_sources(sources_dir)["consultation"]
    occupation = consultation.field("occupation")
    assert occupation.labels_at(0)["employe"] == "Employés"
    assert occupation.labels_at(1) == {
        "independants": "Indépendants",
        "salaries": "Salariés",
        "inactifs": "Retraités ou sans emploi",
    }
    assert occupation.labels_at(2) == {}  # the top level, '*', has no labels
    assert consultation.field("age").labels_at(0) == {}
    dimensions = {d.column: d for a in consultation.aggregates for d in a.dimensions}
    assert consultation.dimension_labels(dimensions["gender"]) == {
        "F": "Femme",
        "M": "Homme",
        "X": "Autre / non précisé",
    }
    assert consultation.dimension_labels(dimensions["age_20"]) == {}
    grouped = Dimension(field="occupation", level="1")
    assert consultation.dimension_labels(grouped) == occupation.labels_at(1)


def test_a_published_free_form_string_is_refused(consultation: dict[str, Any]) -> None:
    """A string published as typed can carry a name or an e-mail: it must be scrubbed free
    text, a category, or restricted to a vocabulary or a pattern."""
    consultation["fields"].append(
        {"name": "quartier", "type": "string", "role": "other", "required": False}
    )
    message = _error(consultation)
    assert "string fields ['quartier'] would be published as typed" in message
    consultation["fields"][-1].update(
        vocabulary="communes_fr",
        role="quasi_identifier",
        hierarchy={"kind": "commune_fr", "postcode_field": "postcode"},
    )
    parse_source_config(consultation, "sources/consultation.yaml")
    consultation["fields"][-1] = {
        "name": "quartier", "type": "string", "role": "other", "pattern": "[A-Z]{2}[0-9]{2}",
    }  # fmt: skip
    parse_source_config(consultation, "sources/consultation.yaml")


def test_vocabulary_and_pattern_apply_to_strings_only(consultation: dict[str, Any]) -> None:
    consultation["fields"][2]["pattern"] = "[0-9]+"  # age, an integer
    assert "only apply to string fields" in _error(consultation)
    del consultation["fields"][2]["pattern"]
    consultation["fields"][0]["pattern"] = "[unclosed"
    assert "'pattern' is not a regular expression" in _error(consultation)


@pytest.mark.parametrize(
    ("field", "what"),
    [
        ({"name": "commune", "type": "string", "vocabulary": "communes_fr"}, "a geography"),
        ({"name": "answered_on", "type": "date"}, "a time"),
        ({"name": "answered_at", "type": "datetime"}, "a time"),
    ],
)
def test_a_published_place_or_time_must_be_a_quasi_identifier(
    consultation: dict[str, Any], field: dict[str, Any], what: str
) -> None:
    """Issue #12: a commune published beside a postcode generalized to its département
    gave k=1 while the manifest said k=5. Places and times are quasi-identifiers."""
    for role in ("other", "sensitive"):
        consultation["fields"].append({**field, "role": role, "required": False})
        message = _error(consultation)
        assert f"field '{field['name']}' is {what}" in message
        assert "quasi-identifiers ['submitted_at', 'age', 'gender', 'postcode'" in message
        consultation["fields"].pop()


def test_a_commune_hierarchy_needs_a_postcode_field(consultation: dict[str, Any]) -> None:
    commune = {
        "name": "commune", "type": "string", "role": "quasi_identifier", "required": False,
        "vocabulary": "communes_fr", "hierarchy": {"kind": "commune_fr", "postcode_field": "age"},
    }  # fmt: skip
    consultation["fields"].append(commune)
    assert "must name a field with a postcode_fr hierarchy" in _error(consultation)
    del commune["vocabulary"]
    assert "a commune_fr hierarchy needs 'vocabulary: communes_fr'" in _error(consultation)


def test_aggregates_are_suppressed_unless_the_source_asks_for_the_cell_key_method(
    consultation: dict[str, Any], sources_dir: Path
) -> None:
    assert {cfg.disclosure.method for cfg in load_all_sources(sources_dir).values()} == {
        "suppression"
    }
    consultation["disclosure"] = {"method": "cell_key", "max_noise": 2, "variance": 1}
    config = parse_source_config(consultation, "sources/consultation.yaml")
    assert config.disclosure == CellKeyDisclosure(
        method="cell_key", max_noise=2, variance=1.0, js=0
    )
    assert config.model_dump()["disclosure"]["method"] == "cell_key"
    consultation["disclosure"] = {"method": "suppression"}
    config = parse_source_config(consultation, "sources/consultation.yaml")
    assert isinstance(config.disclosure, SuppressionDisclosure)
    # The default stays out of dumps: the config fingerprints of the committed expectation
    # suites do not change for a source that keeps suppression.
    assert "disclosure" not in config.model_dump()


@pytest.mark.parametrize(
    ("disclosure", "message"),
    [
        ({"method": "noise"}, "disclosure: Input tag 'noise' found using 'method' does not match"),
        ({"method": "cell_key", "variance": 1}, "disclosure.cell_key.max_noise: Field required"),
        ({"method": "suppression", "max_noise": 2}, "disclosure.suppression.max_noise: Extra"),
        (
            {"method": "cell_key", "max_noise": 2, "variance": 1, "js": 2},
            "disclosure.cell_key: js (2) must be below max_noise (2)",
        ),
        (
            {"method": "cell_key", "max_noise": 3, "variance": 2, "js": 2},
            "disclosure.cell_key: variance must be above 2 with js = 2",
        ),
        (
            {"method": "cell_key", "max_noise": 2, "variance": 3},
            "variance 3.0 is never reached with max_noise 2: the widest noise (uniform on "
            "-2..2) has variance 2",
        ),
        ({"method": "cell_key", "max_noise": 21, "variance": 1}, "less than or equal to 20"),
        ({"method": "cell_key", "max_noise": 2, "variance": 0}, "greater than 0"),
    ],
)
def test_a_cell_key_setting_without_a_possible_ptable_is_refused(
    consultation: dict[str, Any], disclosure: dict[str, Any], message: str
) -> None:
    consultation["disclosure"] = disclosure
    error = _error(consultation)
    assert error.startswith("sources/consultation.yaml: disclosure")
    assert message in error


OCCUPATION_FILE = "\n".join(
    [
        "agriculteur;independants;*",
        "artisan_commercant;independants;*",
        "cadre;salaries;*",
        "profession_intermediaire;salaries;*",
        "employe;salaries;*",
        "ouvrier;salaries;*",
        "retraite;inactifs;*",
        "sans_emploi;inactifs;*",
    ]
)


def _with_file_hierarchy(
    consultation: dict[str, Any], directory: Path, hierarchy: dict[str, Any], csv_text: str
) -> Path:
    """The consultation source in `directory`, its occupation generalized by a file."""
    (directory / "hierarchies").mkdir(exist_ok=True)
    (directory / "hierarchies" / "occupation.csv").write_text(csv_text, encoding="utf-8")
    occupation = consultation["fields"][5]
    assert occupation["name"] == "occupation"
    occupation["hierarchy"] = hierarchy
    path = directory / "consultation.yaml"
    path.write_text(yaml.safe_dump(consultation, allow_unicode=True), encoding="utf-8")
    return path


def test_a_file_hierarchy_is_read_relative_to_the_sources_folder(
    consultation: dict[str, Any], tmp_path: Path
) -> None:
    consultation["aggregates"][0]["dimensions"] = ["occupation:1", "q_transports"]
    path = _with_file_hierarchy(
        consultation,
        tmp_path,
        {"kind": "file", "path": "hierarchies/occupation.csv"},
        OCCUPATION_FILE,
    )
    config = load_source_config(path)
    hierarchy = config.field("occupation").hierarchy
    assert isinstance(hierarchy, HierarchyFile)
    assert hierarchy.table.n_levels == 3
    assert hierarchy.table.paths["cadre"] == ("salaries",)
    assert config.aggregates[0].dimensions[0].column == "occupation_1"
    assert hierarchy_level(config.field("occupation"), "1") == 1
    with pytest.raises(ValueError, match=r"has no level '2' \(levels: \['1'\]\)"):
        hierarchy_level(config.field("occupation"), "2")
    # an absolute path is read as it is, wherever the config comes from
    consultation["fields"][5]["hierarchy"] = {
        "kind": "file",
        "path": str(tmp_path / "hierarchies" / "occupation.csv"),
    }
    absolute = parse_source_config(consultation, "consultation.yaml").field("occupation")
    assert isinstance(absolute.hierarchy, HierarchyFile)
    assert absolute.hierarchy.table.paths == hierarchy.table.paths


@pytest.mark.parametrize(
    ("hierarchy", "csv_text", "match"),
    [
        (
            {"kind": "file", "path": "hierarchies/absent.csv"},
            OCCUPATION_FILE,
            r"consultation.yaml: fields\[5\] \(occupation\)\.hierarchy\.file: \S+"
            r"hierarchies/absent.csv: cannot read the hierarchy file: No such file",
        ),
        (
            {"kind": "file", "path": "hierarchies/occupation.csv"},
            OCCUPATION_FILE + "\ncadre;independants;*\n",
            r"\.hierarchy\.file: \S+hierarchies/occupation.csv: 'cadre' \(level 0\) has two "
            r"parents: 'salaries' on line 3 and 'independants' on line 9",
        ),
        (
            {"kind": "file", "path": "hierarchies/occupation.csv"},
            OCCUPATION_FILE + "\nchomeur;inactifs\n",
            r"occupation.csv: line 9 has 2 columns, line 1 has 3",
        ),
        (
            {"kind": "file", "path": "hierarchies/occupation.csv"},
            OCCUPATION_FILE.replace(";", ","),
            r"occupation.csv: line 1: a row needs the value and at least one coarser level",
        ),
        (
            {"kind": "file", "path": "hierarchies/occupation.csv"},
            OCCUPATION_FILE.rsplit("\n", 1)[0],
            r"fields\[5\] \(occupation\): hierarchy file \S+occupation.csv has no row for the "
            r"allowed values \['sans_emploi'\]",
        ),
        (
            {"kind": "file", "path": "hierarchies/occupation.csv", "sep": ","},
            OCCUPATION_FILE,
            r"hierarchy\.file\.sep: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_hierarchy_file_stops_the_load_naming_the_file_and_line(
    consultation: dict[str, Any],
    tmp_path: Path,
    hierarchy: dict[str, Any],
    csv_text: str,
    match: str,
) -> None:
    path = _with_file_hierarchy(consultation, tmp_path, hierarchy, csv_text)
    with pytest.raises(ConfigError, match=match):
        load_source_config(path)


def test_a_file_hierarchy_may_use_another_separator(
    consultation: dict[str, Any], tmp_path: Path
) -> None:
    path = _with_file_hierarchy(
        consultation,
        tmp_path,
        {"kind": "file", "path": "hierarchies/occupation.csv", "separator": ","},
        OCCUPATION_FILE.replace(";", ","),
    )
    hierarchy = load_source_config(path).field("occupation").hierarchy
    assert isinstance(hierarchy, HierarchyFile)
    assert hierarchy.table.paths["retraite"] == ("inactifs",)


def test_a_file_hierarchy_feeds_the_suites_and_their_fingerprint(
    consultation: dict[str, Any], tmp_path: Path
) -> None:
    """A source using a file gets its expectation suites (labels of every level) and
    dimension wording like a grouping's, and editing the file alone changes the config's
    fingerprint, so the committed suites are seen stale."""
    consultation["aggregates"][0]["dimensions"] = ["occupation:1", "q_transports"]
    hierarchy = {"kind": "file", "path": "hierarchies/occupation.csv"}
    path = _with_file_hierarchy(consultation, tmp_path, hierarchy, OCCUPATION_FILE)
    config = load_source_config(path)
    regex = quasi_identifier_regex(config.field("occupation"), 1)
    assert re.fullmatch(regex, "salaries")
    assert not re.fullmatch(regex, "cadre")
    assert curated_suite(config)["expectations"]
    assert aggregate_suite(config, config.aggregates[0])["expectations"]
    assert "regroupement de niveau 1" in dimension_description(config.field("occupation"), "1")
    before = config_fingerprint(config)
    edited = OCCUPATION_FILE.replace("cadre;salaries", "cadre;independants")
    _with_file_hierarchy(consultation, tmp_path, hierarchy, edited)
    assert config_fingerprint(load_source_config(path)) != before


def test_the_information_loss_measure_is_chosen_per_source(consultation: dict[str, Any]) -> None:
    default = parse_source_config(copy.deepcopy(consultation), "sources/consultation.yaml")
    assert default.information_loss.spec == MetricSpec()
    consultation["information_loss"] = {"name": "arx_loss", "gs_factor": 0.2}
    chosen = parse_source_config(copy.deepcopy(consultation), "sources/consultation.yaml")
    assert chosen.information_loss.spec == MetricSpec("arx_loss", gs_factor=0.2)
    # the default is left out of the fingerprint, so committed suites stay current
    assert config_fingerprint(default) != config_fingerprint(chosen)
    assert "information_loss" not in default.model_dump(by_alias=True)
    consultation["information_loss"] = {"name": "arx_loss", "monotonic": True}
    assert "information_loss: ARX's Loss has no monotonic variant" in _error(consultation)
    consultation["information_loss"] = {"name": "discernibility"}
    assert "information_loss.name" in _error(consultation)
