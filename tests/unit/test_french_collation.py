"""French alphabetical order: accented capitals, ligatures and case, as a dictionary sorts."""

from __future__ import annotations

from include.core.french_collation import french_key, french_sorted
from include.publish.wording import with_labels


def test_accented_capitals_sort_with_their_letter_not_after_z() -> None:
    labels = ["Voirie", "Éclairage public", "Espaces verts", "Zone", "Œuvres", "Oeuf", "Bruit"]
    assert sorted(labels) == [  # code points: É and Œ after Z
        "Bruit", "Espaces verts", "Oeuf", "Voirie", "Zone", "Éclairage public", "Œuvres",
    ]  # fmt: skip
    assert sorted(labels, key=french_key) == [
        "Bruit", "Éclairage public", "Espaces verts", "Oeuf", "Œuvres", "Voirie", "Zone",
    ]  # fmt: skip


def test_case_and_accents_only_break_ties() -> None:
    assert sorted(["élève", "Eleve", "eleve", "élevé", "Élève"], key=french_key) == [
        "eleve", "Eleve", "élevé", "élève", "Élève",
    ]  # fmt: skip
    assert french_key("cote") < french_key("côte") < french_key("coter")


def test_french_sorted_keeps_the_order_of_equal_labels() -> None:
    pairs = [("b", "Même"), ("a", "Ancien"), ("c", "Même")]
    assert french_sorted(pairs, lambda pair: pair[1]) == [pairs[1], pairs[0], pairs[2]]


def test_a_columns_codes_are_documented_in_the_french_order_of_their_labels() -> None:
    described = with_labels("Catégorie", {"voirie": "Voirie", "eclairage": "Éclairage public"})
    assert described == "Catégorie. Codes : « eclairage » : Éclairage public ; « voirie » : Voirie."
