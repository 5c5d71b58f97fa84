"""Names in a list of names: "A, B, C et D" where the model found some of the people.

The model often misses one item of a list of people it otherwise tags ("le père
de Daniel, Nicolas et Jean", "aux côtés de Cassie et Paula Patton", a mononym
among actors), and a list is a strong cue: its items are of one kind. So an item
of such a list is a name too, when:
- the list is items of one to four capitalised words (a leading "DJ" or "The",
  hyphens and particles allowed) joined by commas, "et", "ou" or "and" on one
  line;
- in a pair joined by a conjunction ("X et Y"; "Toutefois, Nicolas Todt" is
  no pair), the other item is a detected person; in a longer list,
  at least two items are, or one is and the item is itself a known first name
  ("Daniel, Nicolas et Jean"); and at least one detected item is an ANCHOR: a
  confident name, a known first name, or two capitalised words or more. A word
  the model itself tagged as a person (and the name rules refused as an
  ordinary word: "Racine") needs no anchor among two detected people or more;
- the item is not tagged LOC or ORG by the model (a list of towns or bodies with
  a person in it stays as it is), unless it is the list's only item not
  detected as a person, two detected items are anchors, and it has the shape
  of a full name: two or three capitalised words, each a known first name or
  a STRONG word (the model tags "Queen Latifah" ORG among actors, "Anderl
  Heckmair" LOC among climbers; "Paris, Lyon et Marseille" stay towns);
- the item holds no acronym, stop, civility, title,
  institution or public-place word, does not follow a street word, and, if it
  is a single word, is a known first name, a word the model tagged as a person,
  or a STRONG word (`name_shape` rule 2: not an ordinary French word, a capital
  opening the sentence saying nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex as re

from include.anonymization.pii.recognizers.first_names import is_first_name
from include.anonymization.pii.recognizers.french_lexicon import is_bare_acronym
from include.anonymization.pii.recognizers.name_shape import (
    INSTITUTION_WORDS,
    NAMED_PLACE_WORDS,
    SAINT_WORDS,
    is_confident_name,
    is_strong_name_word,
    name_word_is_stop,
    names_a_place,
)
from include.anonymization.pii.recognizers.words import NAME_PARTICLES, UPPER_LETTERS

Span = tuple[int, int]

_CAPITALISED = rf"[{UPPER_LETTERS}][^\W\d_]*(?:[\-'’][^\W\d_]+)*"
_PARTICLE = r"(?:de|du|des|van|von|der|den|da|di|del|dos|y)"
_ITEM = (
    rf"(?:(?:DJ|The)[ \t]+)?{_CAPITALISED}"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_CAPITALISED}){{0,3}}(?![\w'’\-])"
)
_SEPARATOR = r"[ \t]*,[ \t]*(?:(?:et|ou|and)[ \t]+)?|[ \t]+(?:et|ou(?:[ \t]+encore)?|and)[ \t]+"
_LIST = re.compile(rf"(?<![\w'’\-]){_ITEM}(?:(?:{_SEPARATOR}){_ITEM})+")
_ITEMS = re.compile(rf"(?P<separator>{_SEPARATOR})|(?P<item>{_ITEM})")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*")
_CONJUNCTION = re.compile(r"\b(?:et|ou|and)\b")
_CAPITALISED_WORDS = re.compile(rf"(?<![\w'’\-]){_CAPITALISED}")
_LEADS = frozenset({"DJ", "The"})
_MIN_PEOPLE_IN_A_LONG_LIST = 2
# A person's full name in a list of people where the model saw a place or a body.
_MIN_FULL_NAME_WORDS, _MAX_FULL_NAME_WORDS = 2, 3


def enumerated_names(
    text: str,
    people: Sequence[Span],
    others: Iterable[Span],
    tagged_people: Iterable[Span] = (),
    *,
    language: str,
) -> list[Span]:
    """The items of lists of names (module doc) that are not among `people` yet.

    `people` are the names found so far, `others` the model's LOC and ORG spans,
    `tagged_people` the model's PER spans (before any cleaning); the text is in `language`.
    """
    others, tagged = list(others), set(tagged_people)
    found: list[Span] = []
    for listing in _LIST.finditer(text):
        parts = list(_ITEMS.finditer(text, *listing.span()))
        items = [m.span("item") for m in parts if m["item"]]
        if len(items) == 2 and not _CONJUNCTION.search(parts[1]["separator"]):
            continue  # "Toutefois, Nicolas Todt": an adverb and a name, not a pair
        detected = [item for item in items if _overlaps_any(item, people)]
        anchored = any(_anchors(text, item, people) for item in detected)
        enough = len(items) == 2 or len(detected) >= _MIN_PEOPLE_IN_A_LONG_LIST
        for item in items:
            if item in detected:
                continue
            if _overlaps_any(item, others) and not _mislabelled_person(
                text, item, len(items), detected, people, language
            ):
                continue  # a place or a body
            tagged_person = item in tagged
            listed = anchored and (enough or is_first_name(text[item[0] : item[1]]))
            confirmed = tagged_person and len(detected) >= _MIN_PEOPLE_IN_A_LONG_LIST
            if (listed or confirmed) and _may_be_a_name(text, item, tagged_person, language):
                found.append(item)
    return found


def _overlaps_any(span: Span, spans: Iterable[Span]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in spans)


def _anchors(text: str, item: Span, people: Sequence[Span]) -> bool:
    """Whether a detected person in the item is an anchor (module doc)."""
    return any(
        is_confident_name(value)
        or is_first_name(value)
        or len(_CAPITALISED_WORDS.findall(value)) > 1
        for value in (text[start:end] for start, end in people if start < item[1] and item[0] < end)
    )


def _mislabelled_person(
    text: str,
    item: Span,
    items: int,
    detected: Sequence[Span],
    people: Sequence[Span],
    language: str,
) -> bool:
    """Whether an item the model tagged LOC or ORG is a person all the same (module doc): the
    one item of the list not detected as a person, two detected items anchors, a full name's
    shape. A list with two towns or bodies in it stays as it is, whoever else it names."""
    return (
        len(detected) == items - 1
        and sum(_anchors(text, other, people) for other in detected) >= _MIN_PEOPLE_IN_A_LONG_LIST
        and _has_a_full_name_s_shape(text, item, language)
    )


def _has_a_full_name_s_shape(text: str, item: Span, language: str) -> bool:
    """Two or three capitalised words, each a known first name or a STRONG word (not an
    ordinary French word, stop word or acronym): "Queen Latifah", not "Le Havre" or
    "Grande Bretagne". `_may_be_a_name` then refuses institution and place words."""
    words = [m for m in _WORD.finditer(text, *item) if m.group() not in _LEADS]
    name_words = [m for m in words if m.group() not in NAME_PARTICLES]
    if not _MIN_FULL_NAME_WORDS <= len(name_words) <= _MAX_FULL_NAME_WORDS:
        return False
    return all(
        is_first_name(m.group()) or is_strong_name_word(text, *m.span(), language)
        for m in name_words
    )


def _may_be_a_name(text: str, item: Span, tagged_person: bool, language: str) -> bool:
    words = [w for w in _WORD.findall(text, *item) if w not in _LEADS]
    name_words = [w for w in words if w not in NAME_PARTICLES]
    if not name_words or names_a_place(text, item[0]):
        return False
    for word in name_words:
        lower = word.lower()
        if name_word_is_stop(word) or is_bare_acronym(word):
            return False
        if lower in INSTITUTION_WORDS or lower in NAMED_PLACE_WORDS or lower in SAINT_WORDS:
            return False
    if len(name_words) > 1:
        return True
    word = name_words[0]
    start = text.index(word, item[0])
    return (
        tagged_person
        or is_first_name(word)
        or is_strong_name_word(text, start, start + len(word), language)
    )
