"""The first-name lexicon and the signature it reveals at the end of a text (no model needed)."""

from __future__ import annotations

import pytest

from include.anonymization.pii.recognizers.first_names import FIRST_NAMES, fold, is_first_name
from include.anonymization.pii.recognizers.signature import trailing_signature
from include.anonymization.pii.recognizers.words import COMMON_WORDS


@pytest.mark.parametrize(
    "name", ["Enzo", "enzo", "Inès", "ines", "CHLOÉ", "Jean-Pierre", "marie-claire"]
)
def test_first_names_match_whatever_the_case_and_accents(name: str) -> None:
    assert is_first_name(name)


@pytest.mark.parametrize("word", ["saint-pierre", "bonjour", "rue", "svp", "trottoir"])
def test_other_words_are_not_first_names(word: str) -> None:
    assert not is_first_name(word)


def test_the_lexicon_holds_no_common_word() -> None:
    assert FIRST_NAMES.isdisjoint(fold(word) for word in COMMON_WORDS)


@pytest.mark.parametrize(
    ("text", "signature"),
    [
        # An initial: whatever precedes it.
        ("mon numméro : 0033 7 51 60 50 59 enzo l.", "enzo l."),
        ("merci de faire vite enzo l", "enzo l"),
        ("Le trou est toujours là, merci Marie-Claire D.", "Marie-Claire D."),
        # A surname, with its particles, or the first name alone: after contact details,
        # punctuation or at the start of a line.
        ("tél 06 12 34 56 78 enzo da silva", "enzo da silva"),
        ("rappelez-moi au 06 12 34 56 78.\nyanis de la fontaine", "yanis de la fontaine"),
        ("Ça dure depuis des mois ! Yann le Goff", "Yann le Goff"),
        ("N° de sécurité sociale: 1 26 03 65 050 428 85 Victoire", "Victoire"),
        ("Tél 06 12 34 56 78 Marine Le Pen\n", "Marine Le Pen"),
    ],
)
def test_a_known_first_name_ends_the_text(text: str, signature: str) -> None:
    span = trailing_signature(text)
    assert span is not None, text
    assert text[span[0] : span[1]] == signature


@pytest.mark.parametrize(
    "text",
    [
        "j'ai mangé une madeleine",  # a common noun after a word
        "il y a une grosse pierre tombale",
        "le bruit dans mon voisinage est insupportable",
        "rendez-vous le 12 juin",  # not a first name
        "tél 06 12 34 56 78 enzo pour",  # "pour" is no surname
        "Le parking du stade. Enzo et Marie",  # "et" is no surname
        "",
    ],
)
def test_no_signature_without_a_first_name_in_its_place(text: str) -> None:
    assert trailing_signature(text) is None
