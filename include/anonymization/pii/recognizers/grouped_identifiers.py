"""Bank accounts and company numbers written in groups of any size.

A bank prints an IBAN in fours, but people copy theirs from wherever they read it:
the national layout of a statement ("ES93 6607 1695 50 0019988010": bank, branch, key,
account; "NO 54 9261 54 31646"), a web form's dots ("FR76.3000.6000.0112..."), lower
case ("fr76 3000 6000 ..."), or a French RIB without its IBAN prefix, in its four boxes
("30006 00001 12345678901 89"). python-stdnum's test suite keeps such notations "found
online"; Presidio's pattern, groups of four after a space or dash, left 204 of 776 texts
built on its IBANs in clear, and none of the RIBs. Its SIRETs are spaced as anyhow
("5 601 52 274 000 26", "5 6 0 1 5 2 2 7 4 0 0 0 2 6").

The grouping says nothing, so it is not read: from where the identifier starts, exactly
its length in letters and digits is read across single separators (`read_grouped`), and
must end where a group ends; then its check digits decide. For an IBAN the start is a
country code and its two check digits, and the length the country's (schwifty's
registry, SWIFT's and the countries issuing IBANs outside it); the ISO 7064 check and
the country's BBAN format must hold. A RIB starts with its bank and branch codes, five
digits each, and its key must verify. A SIRET or SIREN grouped otherwise than 3-3-3(-5)
(the shapes `identifiers.py` finds anywhere) is only read after its name ("SIRET :"):
fourteen digits in arbitrary groups pass a Luhn check one time in ten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import regex
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from schwifty import IBAN, registry
from schwifty.exceptions import SchwiftyException
from stdnum.fr import siren, siret, tva

from include.anonymization.pii.entities import FR_SIREN, FR_SIRET, IBAN_CODE
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated, matches

# What people put between groups: a space (French typography's non-breaking ones too), a
# dot or a dash; one at a time.
_SEPARATOR_CHARACTERS = " .-\u00a0\u202f"
_SEPARATORS = frozenset(_SEPARATOR_CHARACTERS)
_SEPARATOR = f"[{regex.escape(_SEPARATOR_CHARACTERS)}]"
# Where a recognizer's identifiers are in a text: (start, end) spans.
SpanFinder = Callable[[str], Iterator[tuple[int, int]]]
# A match found with its check digits verified: Presidio's score for a validated pattern.
_VERIFIED_SCORE = 1.0


def _is_group_character(char: str) -> bool:
    return char.isascii() and char.isalnum()


def read_grouped(text: str, start: int, length: int) -> int | None:
    """Where `length` ASCII letters and digits read from `start` end, a single separator
    after each group skipped (the one before the first too, if a group precedes `start`);
    None when they run out first or end inside a group."""
    position, read = start, 0
    while read < length:
        if position < len(text) and _is_group_character(text[position]):
            read += 1
            position += 1
        elif (
            _is_group_character(text[position - 1 : position] or " ")
            and text[position : position + 1] in _SEPARATORS
            and _is_group_character(text[position + 1 : position + 2] or " ")
        ):
            position += 1
        else:
            return None
    if position < len(text) and _is_group_character(text[position]):
        return None
    return position


def _group_characters(text: str) -> str:
    return "".join(char for char in text if _is_group_character(char)).upper()


# Not inside a word, a number, a dotted or dashed name ("k1.RN35...", a pseudonym; a UUID).
_NOT_INSIDE = r"(?<![\p{L}\p{N}])(?<![\p{L}\p{N}][.\-])"
# A country code and the two check digits, maybe apart ("ES 58 0049...", "NO 0571...").
_IBAN_START = regex.compile(
    rf"{_NOT_INSIDE}(?P<country>[A-Za-z]{{2}}){_SEPARATOR}?(?P<check>\d{{2}})"
)
# A French RIB's bank and branch codes, five digits each; then account (11) and key (2).
_RIB_START = regex.compile(rf"{_NOT_INSIDE}\d{{5}}{_SEPARATOR}?\d{{5}}(?!\d)")
_RIB_REST = 13


def _bban_length(country_code: str) -> int | None:
    try:
        return registry.get_iban_spec(country_code.upper()).bban_length
    except SchwiftyException:
        return None


def _is_iban(value: str) -> bool:
    try:
        IBAN(value)
    except SchwiftyException:
        return False
    return True


def _is_rib(bban: str) -> bool:
    try:
        IBAN.from_bban("FR", bban, validate_bban=True)
    except SchwiftyException:
        return False
    return True


def grouped_ibans(text: str) -> Iterator[tuple[int, int]]:
    """The spans of IBANs (any grouping or case) and French RIBs in `text`."""
    for start in _IBAN_START.finditer(text):
        length = _bban_length(start["country"])
        end = None if length is None else read_grouped(text, start.end(), length)
        if end is not None and _is_iban(
            start["country"].upper() + start["check"] + _group_characters(text[start.end() : end])
        ):
            yield start.start(), end
    for start in _RIB_START.finditer(text):
        end = read_grouped(text, start.end(), _RIB_REST)
        if end is not None and _is_rib(_group_characters(text[start.start() : end])):
            yield start.start(), end


class _SpanRecognizer(LocalRecognizer):
    """One entity, its spans from `find` (check digits verified there), score 1.0."""

    def __init__(self, entity: str, name: str, language: str, find: SpanFinder) -> None:
        super().__init__(supported_entities=[entity], supported_language=language, name=name)
        self._find = find

    def load(self) -> None:
        """Nothing to load: the registries are the libraries' own."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        [entity] = self.supported_entities
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return [
            RecognizerResult(entity, start, end, _VERIFIED_SCORE, recognition_metadata=metadata)
            for start, end in self._find(text)
        ]


def iban_recognizer(language: str) -> LocalRecognizer:
    """IBANs of every country and French RIBs, however grouped (see the module doc)."""
    recognizer = _SpanRecognizer(IBAN_CODE, f"{IBAN_CODE}_{language}", language, grouped_ibans)
    return gated(recognizer, HAS_DIGIT)  # the check digits, the bank code


# The number's name, then at most a few words or signs before its first digit, on its line:
# "SIRET : ", "n° SIREN ", "SIRET de l'entreprise : ", "siret number ".
_COMPANY_NUMBER_CUE = r"(?i)\b{name}\b[^\d\n]{{0,30}}?(?<![\p{{L}}\p{{N}}])(?=\d)"


def _after_cue(name: str, length: int, is_valid: Callable[[str], bool]) -> SpanFinder:
    cue = regex.compile(_COMPANY_NUMBER_CUE.format(name=name))

    def find(text: str) -> Iterator[tuple[int, int]]:
        for found in cue.finditer(text):
            end = read_grouped(text, found.end(), length)
            digits = "" if end is None else _group_characters(text[found.end() : end])
            if digits.isdigit() and is_valid(digits):
                yield found.end(), end

    return find


# A French VAT number: FR, a two-character key, the company's SIREN ("FR 44 732 829 320").
_VAT_START = regex.compile(rf"{_NOT_INSIDE}FR", regex.IGNORECASE)
_VAT_REST = 11


def french_vat_numbers(text: str) -> Iterator[tuple[int, int]]:
    """The spans of French VAT numbers, however grouped, their key verified."""
    for start in _VAT_START.finditer(text):
        end = read_grouped(text, start.end(), _VAT_REST)
        if end is not None and tva.is_valid(_group_characters(text[start.start() : end])):
            yield start.start(), end


def company_number_recognizers(language: str) -> list[LocalRecognizer]:
    """A SIRET or SIREN in any grouping right after its name, and French VAT numbers
    (typed FR_SIREN: the company number is in them); see the module doc. Each gate is
    what its finder starts from: the name, or the VAT number's "FR"."""
    finders = (
        (FR_SIRET, "after_its_name", _after_cue("siret", 14, siret.is_valid), "siret"),
        (FR_SIREN, "after_its_name", _after_cue("siren", 9, siren.is_valid), "siren"),
        (FR_SIREN, "in_a_vat_number", french_vat_numbers, "fr"),
    )
    return [
        gated(_SpanRecognizer(entity, f"{entity}_{kind}_{language}", language, find), matches(at))
        for entity, kind, find, at in finders
    ]
