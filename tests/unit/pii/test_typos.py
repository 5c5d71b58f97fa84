"""One slip of the fingers: the pattern and the check agree, and stop at one slip."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from include.anonymization.pii.recognizers.typos import (
    MIN_TOLERANT_LENGTH,
    is_typo_of_any,
    one_typo_apart,
    one_typo_pattern,
)

CUE_WORDS = ("madame", "monsieur", "mademoiselle", "docteur", "voisin", "voisine", "appelle")
LETTERS = "abcdefghijklmnopqrstuvwxyzéèàç"


def _slip(word: str, kind: int, position: int, letter: str) -> str:
    """`word` with one slip of the given kind (dropped, wrong, added or swapped letters)."""
    i = position % len(word)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + letter + word[i + 1 :]
    if kind == 2:
        return word[:i] + letter + word[i:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


@pytest.mark.parametrize(
    ("typed", "word", "expected"),
    [
        ("maadame", "madame", True),  # doubled
        ("madme", "madame", True),  # dropped
        ("madane", "madame", True),  # wrong
        ("mdaame", "madame", True),  # swapped
        ("voisiin", "voisin", True),
        ("madame", "madame", False),  # no slip, no typo
        ("mdaamee", "madame", False),  # two slips
        ("voisinage", "voisin", False),
        ("madeleine", "madame", False),
        ("amdmae", "madame", False),
    ],
)
def test_one_typo_apart(typed: str, word: str, expected: bool) -> None:
    assert one_typo_apart(typed, word) is expected
    assert one_typo_apart(word, typed) is expected  # symmetric


@settings(derandomize=True, deadline=None, max_examples=200)
@given(
    word=st.sampled_from(CUE_WORDS),
    kind=st.integers(0, 3),
    position=st.integers(0, 20),
    letter=st.sampled_from(LETTERS),
)
def test_every_one_slip_variant_matches_the_pattern(
    word: str, kind: int, position: int, letter: str
) -> None:
    typed = _slip(word, kind, position, letter)
    pattern = regex.compile(one_typo_pattern(word), regex.IGNORECASE)
    assert pattern.fullmatch(typed), typed
    assert pattern.fullmatch(typed.upper()), typed.upper()
    assert typed == word or one_typo_apart(typed, word)


@settings(derandomize=True, deadline=None, max_examples=200)
@given(word=st.sampled_from(CUE_WORDS), typed=st.text(alphabet=LETTERS, min_size=3, max_size=14))
def test_pattern_and_check_agree_on_any_word(word: str, typed: str) -> None:
    pattern = regex.compile(one_typo_pattern(word))
    assert bool(pattern.fullmatch(typed)) == (typed == word or one_typo_apart(typed, word))


@pytest.mark.parametrize("typed", ["Monsieur,", "Monsieur1", "Mon-sieur", "Monsieur "])
def test_the_slip_must_be_a_letter(typed: str) -> None:
    assert not regex.fullmatch(one_typo_pattern("monsieur"), typed, regex.IGNORECASE)


def test_longer_words_are_tried_first() -> None:
    match = regex.match(one_typo_pattern("voisin", "voisine"), "voisine")
    assert match is not None
    assert match.group() == "voisine"


def test_short_words_are_refused() -> None:
    with pytest.raises(ValueError, match="'mme' is too short"):
        one_typo_pattern("madame", "mme")
    assert len("madame") >= MIN_TOLERANT_LENGTH


def test_typo_of_any_ignores_case_and_short_words() -> None:
    assert is_typo_of_any("Boonjour", ["bonjour", "merci"])
    assert not is_typo_of_any("Mercci", ["bonjour", "merci"])  # "merci" is too short
    assert not is_typo_of_any("Bonjour", ["bonjour"])  # the word itself is not a typo of it
