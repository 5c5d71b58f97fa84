"""Names that stand alone or with a particle: a first name the model labelled MISC, the
name a greeting addresses, a surname with its particle, a full name in lower case.

Found by filling Presidio's own evaluation templates (presidio-evaluator) and French
sentences of the same shapes with Faker's fr_FR names: a lone "Manon", "Bonjour
Stéphanie," and "Lucas de la Lebreton" were published.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

Found = list[tuple[str, str]]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Manon a crié sur ma fille devant tout le monde.", "Manon"),
        ("Merci à Julie pour son accueil.", "Julie"),
        ("Pourquoi Stéphanie est-elle si impulsive ?", "Stéphanie"),
    ],
)
def test_a_lone_first_name_the_model_labelled_misc_is_a_name(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Les décorations de Noël sont allumées depuis fin novembre.",  # the holiday
        "Le train relie Metz à Nancy en deux heures.",  # labelled a place: a town
        "Il cite « Émile » dans sa lettre.",  # a work's title
        'Il cite "Émile" dans sa lettre.',
        "En Ruby, le code est plus court.",  # a language
        "Le projet MARIE est lancé.",  # an acronym
    ],
)
def test_a_lone_first_name_that_is_a_town_a_title_or_a_holiday_is_kept(
    found: Callable[[str], Found], text: str
) -> None:
    assert [value for kind, value in found(text) if kind == "PERSON"] == [], text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Bonjour Adrien, je vous écris au sujet du stationnement.", "Adrien"),
        ("Salut Laure, merci pour ton aide.", "Laure"),
        ("Bonjour Stéphanie Martin, suite à notre appel :", "Stéphanie Martin"),
        ("Hi Lucy, I am writing about the bins again.", "Lucy"),
        ("bonjour olivier, suite à notre échange je vous renvoie ma demande", "olivier"),
        ("BONJOUR Marie, le trottoir est encore bloqué.", "Marie"),
    ],
)
def test_the_name_a_greeting_addresses_is_a_name(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour Monsieur le Maire, je vous écris au sujet du stationnement.",
        "Bonjour Madame, Monsieur,",
        "bonjour madame, voici ma demande",
        "salut tout le monde, la fête est samedi",
    ],
)
def test_a_greeting_without_a_name_redacts_nothing(
    found: Callable[[str], Found], text: str
) -> None:
    assert found(text) == []


def test_a_greeting_in_capitals_is_no_surname(found: Callable[[str], Found]) -> None:
    assert found("MERCI Marie pour tout.") == [("PERSON", "Marie")]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Je m'appelle Lucas de la Lebreton.", "Lucas de la Lebreton"),
        ("My name is Caroline de la Brunel.", "Caroline de la Brunel"),
        ("Madame de La Roche est passée hier.", "de La Roche"),
        ("M. de Villiers ne répond pas aux courriers.", "de Villiers"),
        ("Mme d'Arcy habite ici.", "d'Arcy"),
        ("Le réseau est correct.\nLE GALL Nicolas", "LE GALL Nicolas"),
        ("Merci, Honoré DA SILVA", "Honoré DA SILVA"),
    ],
)
def test_a_surname_keeps_its_particles(found: Callable[[str], Found], text: str, name: str) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    "text", ["Je suis de Lyon.", "Monsieur de la mairie est passé.", "Je suis de La Rochelle."]
)
def test_a_place_after_de_is_no_surname(found: Callable[[str], Found], text: str) -> None:
    assert [value for kind, value in found(text) if kind == "PERSON"] == [], text


def test_a_full_name_inside_a_sentence_typed_in_lower_case_is_a_name(
    found: Callable[[str], Found],
) -> None:
    text = "the bar plays loud music. it comes from the flat of joel burton, at the corner."
    assert ("PERSON", "joel burton") in found(text)


def test_a_month_or_a_day_that_english_capitalises_keeps_a_text_in_lower_case(
    found: Callable[[str], Found],
) -> None:
    """A phone's keyboard capitalises them for whoever types the rest in lower case."""
    text = "my name is marilyn kirby and i was born on 5 March 2004. see you on Monday"
    assert ("PERSON", "marilyn kirby") in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "une rose trémière pousse sur le trottoir",  # after a determiner: a thing
        "la marine marchande recrute",
        "she planted a rose garden behind the school",
        "j'habite rue pierre brossolette depuis dix ans",  # a street
        "le collège jean moulin est fermé",  # a public place
        "le mur de pierre sèche est tombé",  # an ordinary word after the first name
    ],
)
def test_a_first_name_that_is_a_thing_or_names_a_place_is_kept_in_lower_case(
    found: Callable[[str], Found], text: str
) -> None:
    assert [value for kind, value in found(text) if kind == "PERSON"] == [], text
