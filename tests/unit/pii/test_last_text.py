"""The one-text memo the recognizers share: an answer never outlives its text."""

from __future__ import annotations

from include.anonymization.pii.recognizers.last_text import LastTextMemo
from include.anonymization.pii.recognizers.words import typed_in_lower_case


def test_the_question_is_asked_once_per_text_and_again_for_the_next() -> None:
    asked: list[str] = []

    def question(text: str) -> int:
        asked.append(text)
        return len(text)

    memo = LastTextMemo(question)
    first, second = "une rue", "Une autre rue"
    assert [memo(first), memo(first), memo(second), memo(first)] == [7, 7, 13, 7]
    assert asked == [first, second, first]


def test_an_equal_text_that_is_another_string_is_asked_again() -> None:
    asked: list[str] = []
    memo = LastTextMemo(lambda text: asked.append(text) or text.upper())
    text = "bonjour"
    copy = "".join(["bon", "jour"])  # equal, not the same object
    assert memo(text) == memo(copy) == "BONJOUR"
    assert len(asked) == 2


def test_lower_case_answers_follow_the_text_asked_about() -> None:
    lower, capitals = "je suis marie dupont, merci", "Je suis Marie Dupont, merci"
    assert [typed_in_lower_case(t) for t in (lower, capitals, lower, capitals)] == [
        True,
        False,
        True,
        False,
    ]
    # Identifiers in capitals do not count; a text with no plain word is not lower case.
    assert typed_in_lower_case("mon iban fr7630006000011234567890189 svp merci")
    assert not typed_in_lower_case("12 34 56")
    # Words in capitals say nothing: an acronym, the letter groups of a split IBAN.
    assert typed_in_lower_case("la SNCF ne passe plus, rib :\nIT73 W738\n2096 161U 9HM5 YDAZ")
    assert not typed_in_lower_case("BONJOUR LE TROU EST TOUJOURS LA")
