"""Identifiers cut in two by a line break: "jean.dupont@exa⏎mple.fr", "FR76 3000 4000⏎3200 ...".

Text wrapped by a mail client or pasted from a form breaks lines anywhere, also
inside an e-mail address or an IBAN, and then no pattern sees the whole value.
This recognizer joins the lines (a break between two characters of a token
disappears for e-mails, becomes a space for numbers), runs Presidio's own
recognizers on the joined text and maps what they find back onto the original
characters, so that the redaction covers both halves and the break between them.
A value the same recognizer already finds without joining is left to it when
what stands before the break is a word of its own, capitalised or common but
no determiner ("Merci⏎jean@exemple.fr", "Jean Dupont⏎jean@exemple.fr"): the join
only glued it onto the value. Anything else ("jean.du⏎pont@exemple.fr", "n.leje⏎une@...")
is the head of the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, EmailRecognizer

from include.anonymization.pii.entities import CREDIT_CARD, EMAIL_ADDRESS, IBAN_CODE
from include.anonymization.pii.lean_analysis import Gate
from include.anonymization.pii.recognizers.gates import HAS_AT_SIGN, HAS_DIGIT
from include.anonymization.pii.recognizers.identifiers import RegistryIbanRecognizer
from include.anonymization.pii.recognizers.words import COMMON_WORDS

# Words that announce a noun, so never stand right before an e-mail address.
_DETERMINERS = frozenset(
    {"le", "la", "les", "un", "une", "des", "du", "ce", "cet", "cette", "ces", "mon", "ma",
     "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "nos", "votre", "vos", "leur",
     "leurs", "the", "an", "my", "his", "her", "your", "our", "their"}
)  # fmt: skip
# A line break, with the spaces around it, between two characters that can continue a
# token: e-mail characters for e-mails, letters and digits for grouped numbers.
_EMAIL_BREAK = re.compile(r"(?<=[\w.@+\-])[ \t]*\r?\n[ \t]*(?=[\w.@\-])")
_NUMBER_BREAK = re.compile(r"(?<=[A-Za-z0-9])[ \t]*\r?\n[ \t]*(?=[A-Za-z0-9])")


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
        "ma⏎rgaux.moreno@..." is the head of the value."""
        before = self.original[: self.start].rsplit(None, 1)
        token = before[-1] if before else ""
        return (
            token.isalpha()
            and token.casefold() not in _DETERMINERS
            and (token[0].isupper() or token.casefold() in COMMON_WORDS)
        )

    def crosses(self, start: int, end: int) -> bool:
        return start < self.start + len(self.glue) and self.start < end

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that joined text[start:end] came from."""
        shift = self.end - self.start - len(self.glue)
        return (
            start if start <= self.start else start + shift,
            end if end <= self.start else end + shift,
        )


def single_joins(text: str, breaks: re.Pattern[str], glue: str) -> list[JoinedText]:
    """`text` with each match of `breaks` replaced by `glue`, one match at a time."""
    return [JoinedText(text, m.start(), m.end(), glue) for m in breaks.finditer(text)]


class SplitIdentifierRecognizer(EntityRecognizer):
    """Runs the e-mail, IBAN and card recognizers across line breaks (Presidio's, and its
    IBAN one widened to every country: see `identifiers.RegistryIbanRecognizer`)."""

    def __init__(self, language: str) -> None:
        # Joining lines only removes white space: a text without the inner recognizer's
        # gate (see gates.py) has no joined version with a match either.
        self._inner: tuple[tuple[PatternRecognizer, re.Pattern[str], str, Gate], ...] = (
            (EmailRecognizer(supported_language=language), _EMAIL_BREAK, "", HAS_AT_SIGN),
            (RegistryIbanRecognizer(supported_language=language), _NUMBER_BREAK, " ", HAS_DIGIT),
            (CreditCardRecognizer(supported_language=language), _NUMBER_BREAK, " ", HAS_DIGIT),
        )
        super().__init__(
            supported_entities=[EMAIL_ADDRESS, IBAN_CODE, CREDIT_CARD],
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
        for recognizer, breaks, glue, gate in self._inner:
            entity = recognizer.supported_entities[0]
            joins = single_joins(text, breaks, glue) if entity in entities and gate(text) else []
            if not joins:
                continue
            unjoined = recognizer.analyze(text, [entity])
            for joined in joins:
                for found in recognizer.analyze(joined.text, [entity]):
                    if not joined.crosses(found.start, found.end):
                        continue
                    start, end = joined.original_span(found.start, found.end)
                    glued = joined.after_word and any(
                        start <= r.start and r.end <= end for r in unjoined
                    )
                    if not glued:
                        results.append(RecognizerResult(entity, start, end, found.score))
        return results
