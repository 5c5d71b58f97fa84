"""Generalization labels and pseudonyms: what the producers emit is accepted, nothing else."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from include.anonymization.hierarchies import build_generalizer
from include.anonymization.pseudonyms import Pseudonymizer
from include.core.source_config import CommuneFr, FieldSpec, SourceConfig, load_all_sources
from include.validation.labels import PSEUDONYM_REGEX, quasi_identifier_regex

SOURCES = load_all_sources()
POSTCODES = ["75011", "13008", "20000", "20200", "97100", "97400", "97600", "01000", "59800"]


def sample_records(spec: FieldSpec) -> pd.DataFrame:
    """Records holding the field's values as collected (and the postcodes a commune needs)."""
    if isinstance(spec.hierarchy, CommuneFr):
        communes = ["Paris", "Marseille", "Ajaccio", "Bastia", "Saint-Denis", "Mamoudzou", None]
        return pd.DataFrame(
            {
                spec.name: communes * 2,
                spec.hierarchy.postcode_field: [*POSTCODES[:7], *POSTCODES[:7]],
            }
        )
    return pd.DataFrame({spec.name: sample_values(spec)})


def sample_values(spec: FieldSpec) -> pd.Series:
    """Values as collected, covering the field's whole domain."""
    if spec.allowed:
        return pd.Series(spec.allowed)
    if spec.name == "age":
        return pd.Series(range(int(spec.minimum or 0), int(spec.maximum or 0) + 1))
    if spec.name == "postcode":
        return pd.Series(POSTCODES)
    start = pd.Timestamp("2025-11-30 23:59:59.5", tz="UTC")
    return pd.Series(start + pd.to_timedelta(np.arange(0, 500 * 86400, 86400 * 7), unit="s"))


QUASI_IDENTIFIERS = [
    pytest.param(config, spec, id=f"{config.name}.{spec.name}")
    for config in SOURCES.values()
    for spec in config.quasi_identifiers
]


@pytest.mark.parametrize(("config", "spec"), QUASI_IDENTIFIERS)
def test_every_label_of_every_level_is_accepted(config: SourceConfig, spec: FieldSpec) -> None:
    encoded = build_generalizer(spec).encode_records(sample_records(spec))
    anywhere = re.compile(quasi_identifier_regex(spec))
    for level, labels in enumerate(encoded.labels):
        named_level = 0 < level < encoded.top  # the levels an aggregate dimension can name
        at_level = re.compile(quasi_identifier_regex(spec, level)) if named_level else anywhere
        for label in labels.dropna():  # an absent commune is published empty
            assert anywhere.match(str(label)), (level, label)
            assert at_level.match(str(label)), (level, label)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age", "14"),  # below the field's minimum
        ("age", "20-30"),  # not a band of any configured width
        ("age", "22-26"),  # a width-5 band, misaligned
        ("age", "34 ans"),
        ("postcode", "7501"),
        ("postcode", "Paris 11e"),
        ("postcode", "98"),  # Monaco is no département
        ("submitted_at", "2026-13"),
        ("submitted_at", "2026-T5"),
        ("submitted_at", "14/03/2026"),
        ("gender", "Femme"),
        ("occupation", "pilote"),
        ("occupation", "jeanne.martin@exemple.fr"),
    ],
)
def test_values_no_level_can_produce_are_refused(field: str, value: str) -> None:
    spec = SOURCES["consultation"].field(field)
    assert re.match(quasi_identifier_regex(spec), value) is None


def test_a_fixed_level_refuses_the_other_levels() -> None:
    age = SOURCES["consultation"].field("age")
    bands_of_20 = re.compile(quasi_identifier_regex(age, 3))
    assert bands_of_20.match("20-39")
    for other in ["34", "20-24", "20-29", "*"]:
        assert bands_of_20.match(other) is None, other
    with pytest.raises(ValueError, match="no generalization level 4"):
        quasi_identifier_regex(age, 4)


def test_pseudonyms_match_and_identifiers_do_not() -> None:
    pseudonymizer = Pseudonymizer.from_secret("k" * 40, key_id="k2")
    pseudonym = pseudonymizer.pseudonym("Jeanne.Martin@exemple.fr", "consultation", "email")
    assert pseudonym is not None
    assert re.match(PSEUDONYM_REGEX, pseudonym)
    for value in ["jeanne.martin@exemple.fr", pseudonym[:-1], pseudonym.lower(), "k1." + "A" * 27]:
        assert re.match(PSEUDONYM_REGEX, value) is None, value
