"""French phone numbers in every notation people actually type.

Presidio's phone recognizer (phonenumbers) scores 0.4, misses numbers the library
considers unassigned, and is slow. A French number has a rigid shape: a trunk
prefix (0, +33, 0033, "+33 (0)") then a non-zero digit and four pairs, grouped
by spaces, dots or dashes or not at all. That shape alone is specific enough.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import PHONE_NUMBER

PHONE_REGEX = (
    r"(?<![\w+])(?<!\d[ .\-])"  # not the tail of a longer number
    r"(?:(?:\+|00)[ ]?33[ .\-]?(?:\(0\)[ .\-]?)?|0)"  # +33 / 0033 / +33 (0) / 0
    r"[1-9](?:[ .\-]?\d{2}){4}"  # 6 12 34 56 78, 6.12.34.56.78, 612345678
    r"(?!\w)(?![ .\-]\d)"
)


def phone_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity=PHONE_NUMBER,
        name=f"{PHONE_NUMBER}_{language}",
        supported_language=language,
        patterns=[Pattern(name="fr_phone", regex=PHONE_REGEX, score=0.7)],
        context=context,
    )
