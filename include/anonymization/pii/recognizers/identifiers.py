"""Identifiers that carry a check digit: NIR, SIREN, SIRET (IBANs: grouped_identifiers.py).

A regular expression finds every string SHAPED like the identifier, however it
is spaced; python-stdnum then verifies the check digits, and a candidate that
fails is dropped. The checksum is what keeps a nine-digit amount or an order
number from being redacted as a company number.
"""

from __future__ import annotations

from collections.abc import Callable

from presidio_analyzer import Pattern, PatternRecognizer
from presidio_analyzer.predefined_recognizers import EmailRecognizer
from stdnum.fr import nir, siren, siret

from include.anonymization.pii.entities import (
    EMAIL_ADDRESS,
    FR_NIR,
    FR_SIREN,
    FR_SIRET,
)
from include.anonymization.pii.recognizers.gates import HAS_AT_SIGN, HAS_DIGIT, gated

_SEP = r"[ .\-]?"  # people group digits with spaces, dots or dashes, or not at all

# Sex (1/2, 3/4/7/8 for special registrations), year, month (20-42 and 50-99 exist
# for unknown months), département (2A/2B for Corsica) + commune, order number, key.
NIR_REGEX = (
    rf"(?<!\w)[1-478]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[AB]){_SEP}\d{{3}}"
    rf"{_SEP}\d{{3}}{_SEP}\d{{2}}(?!\w)"
)
# An amount is no company number, whatever its check digit: one in ten nine-digit amounts
# passes it ("le film a rapporté 223 664 608 $", "un budget de 450 000 000 euros").
_NOT_AN_AMOUNT = r"(?!\s?(?:[€$£]|(?:euros?|eur|dollars?|livres?)\b))"
# Nine digits in groups of three; not followed by more digits (that would be a SIRET).
SIREN_REGEX = rf"(?<![\w.])\d{{3}}[ .]?\d{{3}}[ .]?\d{{3}}(?![ .]?\d)(?!\w){_NOT_AN_AMOUNT}"
# SIREN + the five-digit establishment number (NIC), sometimes written 3 + 2.
SIRET_REGEX = (
    rf"(?<![\w.])\d{{3}}[ .]?\d{{3}}[ .]?\d{{3}}[ .]?(?:\d{{5}}|\d{{3}}[ .]\d{{2}})"
    rf"(?![ .]?\d)(?!\w){_NOT_AN_AMOUNT}"
)


class ChecksumRecognizer(PatternRecognizer):
    """A pattern recognizer that keeps a match only when its check digits verify."""

    def __init__(
        self,
        *,
        entity: str,
        language: str,
        regex: str,
        is_valid: Callable[[str], bool],
        context: list[str],
        name: str | None = None,
    ) -> None:
        super().__init__(
            supported_entity=entity,
            name=name or f"{entity}_{language}",
            supported_language=language,
            patterns=[Pattern(name=entity.lower(), regex=regex, score=0.5)],
            context=context,
        )
        self._is_valid = is_valid

    def validate_result(self, pattern_text: str) -> bool:
        """Presidio turns True into score 1.0 and False into a dropped match."""
        return self._is_valid(pattern_text.replace("-", "").replace(" ", "").replace(".", ""))


def nir_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    recognizer = ChecksumRecognizer(
        entity=FR_NIR,
        language=language,
        regex=NIR_REGEX,
        is_valid=lambda value: nir.is_valid(value.upper()),
        context=context,
    )
    return gated(recognizer, HAS_DIGIT)


def siren_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    recognizer = ChecksumRecognizer(
        entity=FR_SIREN,
        language=language,
        regex=SIREN_REGEX,
        is_valid=siren.is_valid,
        context=context,
    )
    return gated(recognizer, HAS_DIGIT)


def siret_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    recognizer = ChecksumRecognizer(
        entity=FR_SIRET,
        language=language,
        regex=SIRET_REGEX,
        is_valid=siret.is_valid,
        context=context,
    )
    return gated(recognizer, HAS_DIGIT)


def email_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    """Presidio's own e-mail recognizer (domain checked against the bundled suffix list)."""
    recognizer = EmailRecognizer(
        supported_language=language,
        supported_entity=EMAIL_ADDRESS,
        context=context,
        name=f"{EMAIL_ADDRESS}_{language}",
    )
    return gated(recognizer, HAS_AT_SIGN)
