"""Names spelt with letters French never writes, in sentences that announce no one.

Found by filling French sentences with Faker's pl_PL, cs_CZ, es_ES, tr_TR and pt_PT names:
the model labels many of them LOC or misses them, and the first-name list holds few.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

Found = list[tuple[str, str]]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("J'ai vu Pavlína Valenta jeter des ordures dans le parc.", "Pavlína Valenta"),
        ("Le chien de Arıel Çorlu aboie toute la nuit.", "Arıel Çorlu"),
        ("Nous avons écrit avec Ivona Kovář au service voirie.", "Ivona Kovář"),
        # The model labels these LOC.
        ("Elżbieta Szczerek gare sa voiture sur le trottoir.", "Elżbieta Szczerek"),
        ("Concepción Mendez gare sa voiture sur le trottoir.", "Concepción Mendez"),
        ("Mon voisin Ömer Fadıl Usta répare sa voiture la nuit.", "Ömer Fadıl Usta"),
        ("My neighbour Michał Górny parks on the pavement.", "Michał Górny"),
    ],
)
def test_a_name_with_a_letter_french_never_writes_is_found(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    assert found(text) == [("PERSON", name)]


@pytest.mark.parametrize(
    "text",
    [
        # A party the model labels ORG; a French word opening the sentence.
        "Le parti Fianna Fáil a gagné les élections.",
        "De Gdańsk à Varsovie, le train est lent.",
        # One word alone, or a foreign word in lower case.
        "Le jumelage avec Kraków avance.",
        "Le marché propose des jalapeños et du café.",
    ],
)
def test_no_person_without_two_capitalised_words_or_where_the_model_sees_a_body(
    found: Callable[[str], Found], text: str
) -> None:
    assert found(text) == []
