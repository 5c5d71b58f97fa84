"""Identifiers cut in two by a line break: "jean.dupont@exa⏎mple.fr", "06 12 34 ⏎56 78".

Text wrapped by a mail client or pasted from a form breaks lines anywhere, also
inside an e-mail address, an IBAN, a plate or a phone number, and then no pattern
sees the whole value. A mail client that wraps "format=flowed" (RFC 3676) keeps the
space it breaks at before the line break ("06 12 34 ⏎56 78"). This recognizer joins
the lines (a break between two characters of a token disappears for e-mails, becomes
a space for IBANs and plates, and between two digits becomes the dot or dash written
beside it, else a space), runs the recognizers of those identifiers on the joined
text and maps what they find back onto the original characters, so that the
redaction covers both halves and the break between them.
A value the same recognizer already finds without joining is left to it when
what stands before the break is a word of its own, capitalised or common but
no determiner ("Merci⏎jean@exemple.fr", "Jean Dupont⏎jean@exemple.fr"): the join
only glued it onto the value. Anything else ("jean.du⏎pont@exemple.fr", "n.leje⏎une@...")
is the head of the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from include.anonymization.pii.lean_analysis import Gate
from include.anonymization.pii.recognizers.gates import HAS_AT_SIGN, HAS_DIGIT
from include.anonymization.pii.recognizers.words import COMMON_WORDS

# Words that announce a noun, so never stand right before an e-mail address.
_DETERMINERS = frozenset(
    {"le", "la", "les", "un", "une", "des", "du", "ce", "cet", "cette", "ces", "mon", "ma",
     "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "nos", "votre", "vos", "leur",
     "leurs", "the", "an", "my", "his", "her", "your", "our", "their"}
)  # fmt: skip
# The short words that may stand right before an e-mail address: what introduces it, or
# joins it to another. Any other word of three letters or less is more likely the head of
# the address ("per⏎rot.martin@...", "be⏎njamin.martins@...").
_BEFORE_AN_ADDRESS = frozenset(
    {"à", "a", "at", "to", "on", "par", "sur", "via", "et", "ou", "and", "or"}
)
# A line break, with the spaces around it, between two characters that can continue a
# token: e-mail characters for e-mails, letters and digits for IBANs and plates.
_EMAIL_BREAK = re.compile(r"(?<=[\w.@+\-])[ \t]*\r?\n[ \t]*(?=[\w.@\-])")
_ALPHANUMERIC_BREAK = re.compile(r"(?<=[A-Za-z0-9])[ \t]*\r?\n[ \t]*(?=[A-Za-z0-9])")
# Between two digits, by the dot, dash or slash that separates two groups maybe
# ("06.12.⏎34", "01⏎/99/46/59/34"): that separator is the glue, else a space. Or before
# the "(0)" of "+33 (0)6...".
_DIGIT_BREAK = re.compile(
    r"(?<=\d)[ \t]*(?:([./\-])[ \t]*)?\r?\n[ \t]*(?:([./\-])[ \t]*)?(?=\d|\(0\))"
)


@dataclass(frozen=True)
class JoinedText:
    """A text with ONE line break, text[start:end] of the original, replaced by `glue`.

    One break at a time: joining every break of a text at once would also glue the
    next line onto the value ("jean@exemple.fr⏎Merci" -> "...frMerci", no e-mail).
    """

    original: str
    start: int
    end: int
    glue: str

    @property
    def text(self) -> str:
        return self.original[: self.start] + self.glue + self.original[self.end :]

    @property
    def after_word(self) -> bool:
        """Is what precedes the break a word of its own (see the module's doc)? Not a
        determiner: "ma", "ce", "sa", "the" need a noun after them, never an e-mail, so
        "ma⏎rgaux.moreno@..." is the head of the value; nor a short lower-case word that
        does not introduce an address (`_BEFORE_AN_ADDRESS`)."""
        before = self.original[: self.start].rsplit(None, 1)
        token = before[-1] if before else ""
        word = token.casefold()
        if not token.isalpha() or word in _DETERMINERS:
            return False
        if token[0].isupper():
            return True
        return word in COMMON_WORDS and (len(word) > 3 or word in _BEFORE_AN_ADDRESS)

    def crosses(self, start: int, end: int) -> bool:
        return start < self.start + len(self.glue) and self.start < end

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that joined text[start:end] came from."""
        shift = self.end - self.start - len(self.glue)
        return (
            start if start <= self.start else start + shift,
            end if end <= self.start else end + shift,
        )


Joins = Callable[[str], list[JoinedText]]


def _joins(breaks: re.Pattern[str], glue: str) -> Joins:
    """`text` with each match of `breaks` replaced, one match at a time, by the separator
    the match captured (the dot of "06.12.⏎34"), else by `glue`."""
    return lambda text: [
        JoinedText(text, m.start(), m.end(), next(filter(None, m.groups()), glue))
        for m in breaks.finditer(text)
    ]


class SplitIdentifierRecognizer(EntityRecognizer):
    """Runs Presidio's e-mail recognizer and the given recognizers across line breaks:
    `across_digits` (phones, cards, NIR...) where a break stands between two digits,
    `across_words` (IBANs, plates: letters and digits) between any two of theirs."""

    def __init__(
        self,
        language: str,
        across_digits: Sequence[EntityRecognizer],
        across_words: Sequence[EntityRecognizer],
    ) -> None:
        # Joining lines only removes white space: a text without the inner recognizer's
        # gate (see gates.py) has no joined version with a match either. Every identifier
        # number's gate asks for a digit, which a break between two digits implies.
        word_joins, digit_joins = _joins(_ALPHANUMERIC_BREAK, " "), _joins(_DIGIT_BREAK, " ")
        self._inner: tuple[tuple[EntityRecognizer, Joins, Gate], ...] = (
            (EmailRecognizer(supported_language=language), _joins(_EMAIL_BREAK, ""), HAS_AT_SIGN),
            *((recognizer, word_joins, HAS_DIGIT) for recognizer in across_words),
            *((recognizer, digit_joins, HAS_DIGIT) for recognizer in across_digits),
        )
        super().__init__(
            supported_entities=sorted(
                {entity for inner, _, _ in self._inner for entity in inner.supported_entities}
            ),
            name=f"split_identifiers_{language}",
            supported_language=language,
        )

    def load(self) -> None:
        """Nothing to load: the inner recognizers are built in __init__."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "\n" not in text:
            return []
        results = []
        joins_of: dict[Joins, list[JoinedText]] = {}
        for recognizer, joins, gate in self._inner:
            [entity] = recognizer.supported_entities
            if entity not in entities or not gate(text):
                continue
            if joins not in joins_of:
                joins_of[joins] = joins(text)
            unjoined: list[RecognizerResult] | None = None
            for joined in joins_of[joins]:
                for found in recognizer.analyze(joined.text, [entity]):
                    if not joined.crosses(found.start, found.end):
                        continue
                    start, end = joined.original_span(found.start, found.end)
                    if joined.after_word:
                        if unjoined is None:
                            unjoined = recognizer.analyze(text, [entity])
                        if any(start <= r.start and r.end <= end for r in unjoined):
                            continue  # glued: see the module's doc
                    results.append(RecognizerResult(entity, start, end, found.score))
        return results
