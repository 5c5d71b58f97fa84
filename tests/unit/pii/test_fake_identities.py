"""FakeNameGenerator's identities (the raw data presidio-evaluator ships) in French sentences.

The identities were written neither by this project nor by Faker: names, street
addresses, postcodes and phones as France and its neighbours write them. Each value
is filled into what a citizen writes to a city and must come out redacted. The shares
are floors set under the measured ones (the closing notes of issue #11 give those).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from include.anonymization.pii import Scrubber
from include.anonymization.pii.presidio_reference_set import (
    IDENTITIES_PATH,
    PresidioSetMissingError,
    load_identities,
)


@pytest.fixture(scope="module")
def identities() -> list[dict[str, str]]:
    if not IDENTITIES_PATH.is_file():
        pytest.skip(f"{IDENTITIES_PATH} absent: run `make presidio-set`")
    return load_identities()


def _share(scrubber: Scrubber, texts: Sequence[str], values: Sequence[str]) -> float:
    """The share of `values` (one in each text) whose letters and digits are all redacted."""
    redacted = 0
    for text, value, result in zip(texts, values, scrubber.scrub_texts(list(texts)), strict=True):
        covered = set()
        for entity in result.entities:
            covered.update(range(entity.start, entity.end))
        start = text.index(value)
        redacted += all(start + i in covered for i, c in enumerate(value) if c.isalnum())
    return redacted / len(values)


def _of(identities: list[dict[str, str]], country: str) -> list[dict[str, str]]:
    rows = [row for row in identities if row["CountryFull"] == country]
    assert len(rows) > 50, f"FakeNameGenerator has {len(rows)} identities of {country}"
    return rows


# Measured when these floors were set: France 91 of 91; Belgium 89 of 97 (46 before
# Flemish streets were read); Germany 75 of 82; Italy 78 of 84; Portugal 84 of 89;
# Switzerland 82 of 102. Those left name no street type ("Westdorp 346", "Untere
# Aegerten 99").
@pytest.mark.parametrize(
    ("country", "floor"),
    [
        ("France", 1.0),
        ("Belgium", 0.9),
        ("Germany", 0.9),
        ("Italy", 0.9),
        ("Portugal", 0.9),
        ("Switzerland", 0.75),
    ],
)
def test_a_neighbours_street_address_is_redacted(
    scrubber: Scrubber, identities: list[dict[str, str]], country: str, floor: float
) -> None:
    rows = _of(identities, country)
    texts = [
        f"Le trou est devant mon domicile, {r['StreetAddress']}, {r['ZipCode']} {r['City']}, "
        "depuis mars."
        for r in rows
    ]
    assert _share(scrubber, texts, [r["StreetAddress"] for r in rows]) >= floor


@pytest.mark.parametrize(
    "country", ["France", "Belgium", "Switzerland", "Germany", "Italy", "Spain", "Tunisia"]
)
def test_a_phone_number_after_a_verb_of_reaching_is_redacted(
    scrubber: Scrubber, identities: list[dict[str, str]], country: str
) -> None:
    # Tunisia's "78 427 062" reads as a count in thousands: all 106 were published.
    rows = _of(identities, country)
    texts = [f"Vous pouvez me joindre au {r['TelephoneNumber']} en soirée." for r in rows]
    assert _share(scrubber, texts, [r["TelephoneNumber"] for r in rows]) == 1.0


def test_a_name_after_a_cue_is_redacted_whatever_its_origin(
    scrubber: Scrubber, identities: list[dict[str, str]]
) -> None:
    # 31 countries' names: 8 of 3,000 were missed when this floor was set.
    names = [f"{r['GivenName']} {r['Surname']}" for r in identities]
    texts = [f"Madame, Monsieur, je m'appelle {name} et je signale un trou." for name in names]
    assert _share(scrubber, texts, names) >= 0.99


def test_missing_identities_name_their_fix(tmp_path: Path) -> None:
    with pytest.raises(PresidioSetMissingError, match="run `make presidio-set`"):
        load_identities(tmp_path / "absent.csv")
