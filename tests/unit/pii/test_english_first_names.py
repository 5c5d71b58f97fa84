"""A known first name alone in an English sentence is a person; a town, a title or a thing is not.

The sentences take the shapes of Presidio's own evaluation templates
(presidio-evaluator), where British first names were left in clear, and the
places and things the rule must leave alone.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from include.anonymization.pii.recognizers.english_first_names import english_first_names

Found = list[tuple[str, str]]


def _names(text: str) -> list[str]:
    return [text[start:end] for start, end in english_first_names(text)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Why is Douglas so impulsive?", ["Douglas"]),
        ("I would like to remove my kid Samantha from the will.", ["Samantha"]),
        ("Gemma, can I please speak to your boss?", ["Gemma"]),
        ("Clare is very reliable. You can always depend on her.", ["Clare"]),
        ("As promised, here's Debra's address.", ["Debra"]),
        ("I'm so jealous! said Fiona to Charlotte", ["Fiona", "Charlotte"]),
        ("The bin was not collected, Lucy says it smells.", ["Lucy"]),
    ],
)
def test_a_lone_first_name_inside_an_english_sentence_is_a_person(
    text: str, names: list[str]
) -> None:
    assert _names(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "We moved from Austin to Lyon last year.",  # a town after a preposition of place
        "I live in Nancy and I love it.",
        "The Grace period ends next week.",  # a thing after an article
        "There is a pothole on rue Lucas and cours Mary.",  # streets (name_shape rule 3)
        'We watched "Shaun of the Dead" last night.',  # a title
        "Grace Street is flooded again.",  # two capitalised words: the name rules decide
        "I am Christian and I go to church on Sundays.",  # a faith
        "Mark the date in your diary.",  # a sentence's first word, no name after it
        "Please email lucy.smith@example.org today.",
    ],
)
def test_towns_things_streets_titles_and_openings_are_left(text: str) -> None:
    assert _names(text) == []


def test_only_english_texts_are_read_this_way(found: Callable[[str], Found]) -> None:
    english = "The lift is broken again and Lydia cannot climb the stairs."
    assert ("PERSON", "Lydia") in found(english)
    # In French texts the model and the French rules decide: a lone « Rose » stays a flower.
    assert found("Le massif devant la mairie est plein de Rose et de lavande.") == []


@pytest.mark.parametrize(
    "text",
    [
        "I went to the British Museum with my class.",
        "The Victoria Station exit near the school is closed.",
        "We spent a week in Beverly Hills last summer.",
    ],
)
def test_english_places_after_a_first_name_are_no_person(
    found: Callable[[str], Found], text: str
) -> None:
    assert found(text) == []


@pytest.mark.parametrize("name", ["Emma Lane", "Harry Hill", "Sarah Hall", "Joe Park"])
def test_surnames_that_are_also_place_words_stay_names(
    found: Callable[[str], Found], name: str
) -> None:
    assert ("PERSON", name) in found(f"The lift is broken and {name} cannot climb the stairs.")
