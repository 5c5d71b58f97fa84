"""A known first name standing alone in an English sentence: "Why is Douglas so impulsive?".

Only French spaCy models are pinned: the French model reads an English sentence as
one long MISC span or nothing, and the name patterns need a cue or two
capitalised words. Presidio's own evaluation templates, filled with British
names, showed the gap: "I would like to remove my kid Samantha from the will",
"Mark shouted at Lydia", "Gemma, can I please speak to your boss?" were left in
clear. In English, though, a capital inside a sentence marks a proper noun, and a
proper noun that is a known first name (`first_names`) is a person far more often
than anything else. Left out:
- a people or a faith ("I am Christian"): `words.PEOPLES_AND_FAITHS`;
- a first name beside another capitalised word ("Florence Nightingale", "Grace
  Street"): the two-word patterns and the name rules decide those;
- one after an article or a demonstrative ("the Grace period") or a preposition
  of place ("in Florence", "from Austin", "near Charlotte": a town);
- one right after an opening quote (a title), or after a street or public-place
  word ("rue Lucas", "cours Mary": `name_shape` rule 3).
At the start of a sentence every word has a capital, so a first name there is
taken only when a comma, a colon, a possessive or a verb of which it is the
subject follows ("Gemma, can I...", "Debra's address", "Clare is very reliable").
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from include.anonymization.pii.entities import PERSON
from include.anonymization.pii.recognizers.first_names import is_first_name
from include.anonymization.pii.recognizers.name_shape import names_a_place, word_before
from include.anonymization.pii.recognizers.person import person_result
from include.anonymization.pii.recognizers.words import (
    LOWER_LETTERS,
    PEOPLES_AND_FAITHS,
    UPPER_LETTERS,
    alternation,
)

# A word with one capital, not inside a link, an address, a handle or a longer token; a
# possessive may follow ("Debra's").
_TITLE_CASE_WORD = re.compile(
    rf"(?<![\w'’\-./@#])[{UPPER_LETTERS}][{LOWER_LETTERS}]+(?![\w\-@/]|\.\w)"
)
_NOT_BEFORE = frozenset(
    {"the", "a", "an", "this", "that", "these", "those", "every", "each", "any", "some", "no",
     "in", "into", "from", "near", "outside", "inside", "around", "across", "via", "toward",
     "towards", "through"}
)  # fmt: skip
_OPENING_QUOTE = re.compile(r"[\"«“‘'][ \t]?\Z")
_SENTENCE_START = re.compile(r"(?:\A|[.!?…][\"”’)]*[ \t]+|\n)[ \t]*\Z")
_CAPITALISED_NEXT = re.compile(rf"[ \t]+(?:Mc)?[{UPPER_LETTERS}]")
_SUBJECT_VERBS = frozenset(
    {"is", "was", "has", "had", "said", "says", "told", "asked", "called", "lives", "lived",
     "works", "worked", "wants", "wanted"}
)  # fmt: skip
_OPENING_NAME_FOLLOWER = re.compile(
    rf"(?:[ \t]*[,:]|['’]s\b|[ \t]+(?:{alternation(_SUBJECT_VERBS)})\b)"
)
_SCORE = 0.6
# A word this far back is in another sentence or irrelevant.
_LOOK_BEHIND = 40


def english_first_names(text: str) -> list[tuple[int, int]]:
    """Offsets of the known first names standing alone in `text` as a person (module doc)."""
    spans = []
    for match in _TITLE_CASE_WORD.finditer(text):
        word = match.group()
        if not is_first_name(word) or word.lower() in PEOPLES_AND_FAITHS:
            continue
        start, end = match.span()
        window = max(0, start - _LOOK_BEHIND)
        if _CAPITALISED_NEXT.match(text, end) or _OPENING_QUOTE.search(text, window, start):
            continue
        if names_a_place(text, start):
            continue  # "on rue Lucas", "cours Mary": `name_shape` rule 3
        if _SENTENCE_START.search(text, window, start):
            if _OPENING_NAME_FOLLOWER.match(text, end):
                spans.append((start, end))
            continue
        before = word_before(text, start) or ""
        if before in _NOT_BEFORE or before[:1].isupper():
            continue  # "the Grace period", "in Florence", "Lake Douglas"
        spans.append((start, end))
    return spans


class EnglishFirstNameRecognizer(LocalRecognizer):
    """Known first names alone inside English sentences (module doc); English texts only."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[PERSON], supported_language="en", name=f"{PERSON}_first_name_en"
        )

    def load(self) -> None:
        """Nothing to load: the first-name lexicon is a module constant."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            person_result(self, start, end, _SCORE, confident=False)
            for start, end in english_first_names(text)
        ]
