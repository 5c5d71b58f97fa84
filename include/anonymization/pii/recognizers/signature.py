"""The signature that ends a message, told by its first name: "... 06 12 34 56 78 enzo l."

The other name recognizers find a signature by its capitals, by the closing
formula before it, or by its standing alone on its line. A writer who types in
lower case and puts their name right after their phone number defeats all three.
So at the very end of a text, a known first name (see `first_names`) is taken
with what follows it as a signature:
- followed by an initial ("enzo l.", "Enzo L."), whatever precedes it: a first
  name and a lone letter are not how a French or English sentence ends;
- followed by a surname ("enzo da silva") or alone ("... 85 Victoire"), only where
  no ordinary word precedes it (after contact details or a punctuation mark, or on
  a line of its own): "une madeleine" and "la pierre tombale" end sentences too;
  and never after a street word ("... bd. Jean Jaurès": `name_shape` rule 3).
A surname is up to two words that are not common ones, particles allowed ("da
silva", "de la fontaine", "le goff").
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from include.anonymization.pii.entities import PERSON
from include.anonymization.pii.recognizers.first_names import is_first_name
from include.anonymization.pii.recognizers.name_shape import names_a_place
from include.anonymization.pii.recognizers.words import (
    COMMON_WORDS,
    CONTACT_DETAILS,
    NAME_PARTICLES,
    alternation,
)

_LETTER = r"[^\W\d_]"
_WORD = rf"{_LETTER}+(?:[\-'’]{_LETTER}+)*"
_PARTICLE = rf"(?:{alternation(NAME_PARTICLES)})"
_SURNAME = rf"(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD}(?:[ \t\-]{_WORD})?"
# Not inside a link's path or query ("https://www.lemonde.fr/julien-martin" ending a text
# is an article cited, kept in clear as every URL is, not a signature).
_WORD_AT_START = re.compile(rf"(?<![\w'’\-/=?&#@]){_WORD}")
_TRAILING_NAME = re.compile(
    rf"(?P<first>{_WORD})"
    rf"(?:[ \t]+(?:(?P<initial>{_LETTER}\.?)|(?P<surname>{_SURNAME})))?"
    rf"[ \t]*[.!]?\s*\Z",
    re.IGNORECASE,
)
_SURNAME_WORD = re.compile(_WORD)
# Contact details end in letters too ("...@laposte.net Anastasie"): they are not a word.
_CONTACT = re.compile(CONTACT_DETAILS)
# Where the signature can start: a first name, two particles and two surname words fit.
_TAIL_CHARS = 80
SIGNATURE_SCORE = 0.6


def trailing_signature(text: str) -> tuple[int, int] | None:
    """The offsets of the signature that ends `text`, or None (see the module doc)."""
    # The first name is looked up before the whole pattern is tried: most texts have
    # no first name among their last words, and a set lookup is cheaper than a match.
    for word in _WORD_AT_START.finditer(text, max(0, len(text) - _TAIL_CHARS)):
        if is_first_name(word.group()):
            match = _TRAILING_NAME.match(text, word.start())
            if match is not None:
                return _signature_span(text, match)
    return None


def _signature_span(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    if match.group("initial"):
        return match.start(), match.end("initial")
    surname = match.group("surname")
    if surname:
        words = [w.lower() for w in _SURNAME_WORD.findall(surname)]
        if any(w in COMMON_WORDS for w in words if w not in NAME_PARTICLES):
            return None
    before = text[: match.start()].rstrip(" \t")
    if before and before[-1].isalpha() and not _CONTACT.fullmatch(before.rsplit(None, 1)[-1]):
        return None  # "... une madeleine": a word before the first name makes it a noun
    if names_a_place(text, match.start()):
        return None  # "... bd. Jean Jaurès": a street, not a signature
    return match.start(), match.end("surname" if surname else "first")


class TrailingSignatureRecognizer(LocalRecognizer):
    """A known first name, with an initial or a surname, ending the text (any case)."""

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entities=[PERSON],
            supported_language=language,
            name=f"{PERSON}_trailing_signature_{language}",
        )

    def load(self) -> None:
        """Nothing to load: the first-name lexicon is a module constant."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        span = trailing_signature(text)
        if span is None:
            return []
        return [
            RecognizerResult(
                PERSON,
                *span,
                SIGNATURE_SCORE,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
        ]


def trailing_signature_recognizer(language: str) -> LocalRecognizer:
    return TrailingSignatureRecognizer(language)
