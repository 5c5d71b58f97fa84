"""The English lexicon the name rules read in English texts (`english_lexicon`).

The English sentences are the shapes of Presidio's own labelled set
(presidio-evaluator) that the scrubber redacted as names while it judged English
words with the French lexicon alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from include.anonymization.pii import Scrubber
from include.anonymization.pii.entities import PERSON
from include.anonymization.pii.language import ENGLISH, FRENCH
from include.anonymization.pii.owner_cache import UnusableCacheError
from include.anonymization.pii.recognizers import english_lexicon
from include.anonymization.pii.recognizers.english_lexicon import (
    build_table,
    is_common_english_word,
    is_ordinary_word,
    read_cache,
    write_cache,
)


@pytest.mark.parametrize("word", ["turned", "Billing", "Labor", "Pedestrians", "request"])
def test_an_ordinary_english_word_is_common(word: str) -> None:
    assert is_common_english_word(word)


@pytest.mark.parametrize(
    "word",
    [
        "Baker",  # written with a capital more often than "baker"
        "Brown",  # within a factor of three of "brown"
        "Asya",  # met a few times in lower case: not a frequent form
        "Grace",  # a known first name
        "Jerković",  # not in the table
    ],
)
def test_a_name_is_not(word: str) -> None:
    assert not is_common_english_word(word)


def test_a_capital_that_says_nothing_takes_any_word_more_often_in_lower_case() -> None:
    # A line's first word, a heading in capitals: "brown" is only 1.4 times as frequent.
    assert not is_common_english_word("Brown")
    assert is_common_english_word("Brown", capital_rarity=1.0)


def test_only_english_texts_ask_the_english_lexicon() -> None:
    assert is_ordinary_word("turned", ENGLISH)
    assert not is_ordinary_word("turned", FRENCH)
    assert is_ordinary_word("carbone", FRENCH)  # the French lexicon still answers for both
    assert is_ordinary_word("carbone", ENGLISH)


def test_the_cache_holds_the_table_built_from_the_package(tmp_path: Path) -> None:
    keys, leads = build_table()
    assert 40_000 < len(keys) < 80_000
    assert np.all(keys[:-1] < keys[1:])  # sorted, for the binary search
    path = tmp_path / "english-lexicon.bin"
    write_cache(path, keys, leads)
    cached_keys, cached_leads = read_cache(path)
    assert np.array_equal(cached_keys, keys)
    assert np.array_equal(cached_leads, leads)


def test_a_cache_made_with_another_threshold_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "english-lexicon.bin"
    write_cache(path, np.array([1, 2], dtype=np.uint64), np.array([0.5, 2.0], dtype=np.float32))
    monkeypatch.setattr(english_lexicon, "FREQUENT", english_lexicon.FREQUENT + 1)
    with pytest.raises(UnusableCacheError, match="another table"):
        read_cache(path)


def _names(scrubber: Scrubber, text: str) -> list[str]:
    return [text[e.start : e.end] for e in scrubber.scrub_text(text).entities if e.type == PERSON]


@pytest.mark.parametrize(
    "text",
    [
        "He just turned 69 years old.",
        "please block card no 372331363254623",
        "Pedestrians must enter on the side of the building.",
        "The Labor Day parade was cancelled again this year.",
        "could i change the payment due date of my credit card?",
    ],
)
def test_english_words_are_no_names_in_an_english_text(scrubber: Scrubber, text: str) -> None:
    assert _names(scrubber, text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Mr White called about the bins.", "White"),
        ("My neighbour John Young parks on the pavement.", "John Young"),
        ("Please call Sarah Brown back.", "Sarah Brown"),
        ("Bill Turner lives at number 12.", "Bill Turner"),
    ],
)
def test_surnames_that_are_english_words_stay_names(
    scrubber: Scrubber, text: str, name: str
) -> None:
    assert _names(scrubber, text) == [name]


def test_a_french_text_is_judged_by_the_french_lexicon_only(scrubber: Scrubber) -> None:
    # WikiNEuRal: read with the English lexicon, "White" is an ordinary word and the
    # name is cut short.
    text = "Sur la version en cartouche, le guitariste Snowy White joue avec le groupe."
    assert _names(scrubber, text) == ["Snowy White"]


def test_a_name_spreads_onto_no_ordinary_english_word(scrubber: Scrubber) -> None:
    # "John Young" is confident, so its words are redacted wherever they recur; but not a
    # sentence's "Young people". A surname that is no ordinary word still spreads.
    text = "My neighbour John Young parks there. Young people gather there too."
    assert _names(scrubber, text) == ["John Young"]
    text = "Mr Bill Turner called again. Turner is a noisy neighbour."
    assert _names(scrubber, text) == ["Bill Turner", "Turner"]


def test_a_cache_that_cannot_be_written_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(path: Path, payload: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(english_lexicon, "default_cache_file", lambda: tmp_path / "lexicon.bin")
    monkeypatch.setattr(english_lexicon, "write_owned", read_only)
    english_lexicon._table.cache_clear()
    try:
        assert is_common_english_word("turned")  # built from the package, not cached
        assert not (tmp_path / "lexicon.bin").exists()
    finally:
        english_lexicon._table.cache_clear()
