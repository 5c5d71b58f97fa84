"""French licence plates: the SIV format (AB-123-CD, since 2009) and the old FNI one (123 ABC 75).

Plates identify a vehicle's keeper, so a report that names one ("la voiture
immatriculée AB-123-CD est garée...") is personal data. Letters are matched
case-sensitively: an upper-case block is what makes "1234 AB 75" a plate and
"12 km 75" not one.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import FR_LICENSE_PLATE
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated

_SIV_LETTER = "[A-HJ-NP-TV-Z]"  # I, O and U are never issued
SIV_REGEX = rf"(?<!\w)(?-i:{_SIV_LETTER}{{2}}[\- ]?(?!000)\d{{3}}[\- ]?{_SIV_LETTER}{{2}})(?!\w)"
# With both its dashes, the shape alone is a plate, whatever its letters: a witness who
# misreads a D for an O ("AB-123-CO") still names the car, one letter from the real one.
SIV_MISREAD_REGEX = r"(?<![\w\-])(?-i:[A-Z]{2}-(?!000)\d{3}-[A-Z]{2})(?![\w\-])"
# The lower-case spelling is only trusted with its dashes ("ab-123-cd").
SIV_DASHED_REGEX = r"(?<!\w)[a-hj-np-tv-z]{2}-(?!000)\d{3}-[a-hj-np-tv-z]{2}(?!\w)"
# 1-4 digits, 1-3 letters, then the département: 01-95, 2A/2B or an overseas 971-976.
# "10 H 30" is a time of day, not a plate; "26 H 16" is no time, so a plate. Written
# without any separator, a plate has at least three digits and two letters ("1234AB75"):
# "3M02" or "1B31" is a product code, or a group of an IBAN with a wrong key (Presidio's
# own test cases).
FNI_REGEX = (
    r"(?<!\w)(?!(?:[01]?\d|2[0-3])[\- ]?H[\- ]?[0-5]\d(?!\w))(?-i:(?:\d{1,4}[\- ][A-Z]{1,3}[\- ]?"
    r"|\d{1,4}[A-Z]{1,3}[\- ]|\d{3,4}[A-Z]{2,3})(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6]))(?!\w)"
)


def plate_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    recognizer = PatternRecognizer(
        supported_entity=FR_LICENSE_PLATE,
        name=f"{FR_LICENSE_PLATE}_{language}",
        supported_language=language,
        patterns=[
            Pattern(name="siv", regex=SIV_REGEX, score=0.7),
            Pattern(name="siv_dashed", regex=SIV_DASHED_REGEX, score=0.6),
            Pattern(name="siv_misread", regex=SIV_MISREAD_REGEX, score=0.6),
            Pattern(name="fni", regex=FNI_REGEX, score=0.5),
        ],
        context=context,
    )
    return gated(recognizer, HAS_DIGIT)  # every format has a block of digits
