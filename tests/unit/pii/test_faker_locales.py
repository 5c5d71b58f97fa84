"""Addresses and names of France's neighbours, as Faker's locales write them (data this
project did not write: its generator draws from fr_FR and en_GB only).

Each locale's values are filled into French sentences and must come out redacted. The
shares are floors, not exact figures: Faker's lists change between versions.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from faker import Faker

from include.anonymization.pii import Scrubber

SAMPLES = 100


def _covered(scrubber: Scrubber, text: str, value: str, language: str = "fr") -> bool:
    """Whether every letter and digit of `value` (in `text`) is redacted."""
    start = text.index(value)
    covered = set()
    for entity in scrubber.scrub_text(text, language).entities:
        covered.update(range(entity.start, entity.end))
    return all(start + i in covered for i, char in enumerate(value) if char.isalnum())


def _share(
    locale: str, draw: Callable[[Faker, int], tuple[str, str, str]], scrubber: Scrubber
) -> float:
    fake = Faker(locale)
    fake.seed_instance(7)
    hits = sum(_covered(scrubber, *draw(fake, i)) for i in range(SAMPLES))
    return hits / SAMPLES


_ADDRESS_SHAPES = (
    "J'habite {}, depuis 2019.",
    "Mon adresse : {}",
    "Je réside {} et je travaille à Strasbourg.",
    "Adresse postale :\n{}\nMerci.",
)


def _address(fake: Faker, i: int) -> tuple[str, str, str]:
    """A sentence, its street line (the street and number), the language."""
    address = fake.address()
    laid_out = address.replace("\n", ", ") if i % 2 else address
    return _ADDRESS_SHAPES[i % len(_ADDRESS_SHAPES)].format(laid_out), address.split("\n")[0], "fr"


@pytest.mark.parametrize("locale", ["de_DE", "de_AT", "de_CH", "it_IT", "es_ES", "pt_PT"])
def test_the_neighbours_addresses_are_redacted(scrubber: Scrubber, locale: str) -> None:
    # All were published before the neighbours' layouts were read (0 of 200 each).
    assert _share(locale, _address, scrubber) >= 0.97


_RELATION_SHAPES = (
    ("L'ami {} est venu hier.", "fr"),
    ("Ma collègue {} se gare sur le trottoir.", "fr"),
    ("Ma femme {} a appelé la mairie.", "fr"),
    ("Mon copain {} a vu la scène.", "fr"),
    ("La locataire {} fait du bruit.", "fr"),
    ("My friend {} saw it.", "en"),
)


def _related(fake: Faker, i: int) -> tuple[str, str, str]:
    name = f"{fake.first_name()} {fake.last_name()}"
    shape, language = _RELATION_SHAPES[i % len(_RELATION_SHAPES)]
    return shape.format(name), name, language


@pytest.mark.parametrize("locale", ["fr_FR", "it_IT", "de_DE", "pl_PL"])
def test_a_person_named_after_a_relation_is_redacted(scrubber: Scrubber, locale: str) -> None:
    # The model alone missed up to 3 in 100 of Faker's German and Polish names there.
    assert _share(locale, _related, scrubber) >= 0.99


_FAMILY_SHAPES = (
    ("Mon enfant {} est malade.", "fr"),
    ("Ma nounou {} ne répond plus.", "fr"),
    ("Mon beau-frère {} a vu la scène.", "fr"),
    ("My aunt {} lives here.", "en"),
    ("My grandson {} broke the window.", "en"),
    ("My stepson {} called the council.", "en"),
)


def _first_name_in_the_family(fake: Faker, i: int) -> tuple[str, str, str]:
    name = fake.first_name()
    shape, language = _FAMILY_SHAPES[i % len(_FAMILY_SHAPES)]
    return shape.format(name), name, language


@pytest.mark.parametrize("locale", ["fr_FR", "de_DE", "pl_PL"])
def test_a_first_name_after_a_family_word_is_redacted(scrubber: Scrubber, locale: str) -> None:
    # A first name alone says less than a full name: before these words were cues, the
    # model missed two thirds of Faker's German and Polish first names after them.
    assert _share(locale, _first_name_in_the_family, scrubber) >= 0.95
