"""The personal-data types the scrubber detects, and the shape of one detection.

The names are Presidio's where Presidio has one (PERSON, EMAIL_ADDRESS, ...) and
`FR_*` for the French identifiers Presidio lacks, so that the labelled sample
corpus, the redaction placeholders and the evaluation all speak the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

PERSON = "PERSON"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
IBAN_CODE = "IBAN_CODE"
FR_NIR = "FR_NIR"
FR_SIREN = "FR_SIREN"
FR_SIRET = "FR_SIRET"
FR_LICENSE_PLATE = "FR_LICENSE_PLATE"
FR_ADDRESS = "FR_ADDRESS"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
# Presidio's own types, found by Presidio's own recognizers (recognizers/presidio_defaults.py).
CREDIT_CARD = "CREDIT_CARD"
IP_ADDRESS = "IP_ADDRESS"
URL = "URL"
MAC_ADDRESS = "MAC_ADDRESS"
CRYPTO = "CRYPTO"
# What France (and the social web) needs and Presidio has no recognizer for.
FR_ID_CARD = "FR_ID_CARD"
FR_PASSPORT = "FR_PASSPORT"
FR_TAX_ID = "FR_TAX_ID"
FR_CAF_NUMBER = "FR_CAF_NUMBER"
FR_DRIVING_LICENCE = "FR_DRIVING_LICENCE"
SOCIAL_HANDLE = "SOCIAL_HANDLE"
GPS_COORDINATES = "GPS_COORDINATES"
# The national numbers of France's French-speaking neighbours (recognizers/neighbour_ids.py).
BE_NATIONAL_NUMBER = "BE_NATIONAL_NUMBER"
CH_AVS_NUMBER = "CH_AVS_NUMBER"

# Order matters only to break ties between overlapping detections of equal length
# and score: the more specific, checksum-bearing identifiers come first (a 14-digit SIRET
# is Luhn-valid, so it is also a card number to Presidio: the SIRET wins).
ENTITY_TYPES: tuple[str, ...] = (
    FR_NIR,
    IBAN_CODE,
    FR_SIRET,
    FR_TAX_ID,
    BE_NATIONAL_NUMBER,
    CH_AVS_NUMBER,
    FR_SIREN,
    CREDIT_CARD,
    FR_ID_CARD,
    FR_PASSPORT,
    FR_DRIVING_LICENCE,
    FR_CAF_NUMBER,
    EMAIL_ADDRESS,
    SOCIAL_HANDLE,
    URL,
    IP_ADDRESS,
    MAC_ADDRESS,
    CRYPTO,
    PHONE_NUMBER,
    GPS_COORDINATES,
    FR_LICENSE_PLATE,
    DATE_OF_BIRTH,
    FR_ADDRESS,
    PERSON,
)

# Identifiers whose value carries a check digit: a detection is only kept when it verifies.
CHECKSUM_TYPES: frozenset[str] = frozenset(
    {
        FR_NIR,
        IBAN_CODE,
        FR_SIREN,
        FR_SIRET,
        FR_TAX_ID,
        BE_NATIONAL_NUMBER,
        CH_AVS_NUMBER,
        CREDIT_CARD,
        CRYPTO,
    }
)


def placeholder(entity_type: str) -> str:
    """The text that replaces a redacted value: its type between angle brackets."""
    return f"<{entity_type}>"


@dataclass(frozen=True, order=True)
class Entity:
    """One detected value: character offsets into the ORIGINAL text, end exclusive."""

    start: int
    end: int
    type: str
    score: float

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "start": self.start, "end": self.end, "score": self.score}


# Languages the scrubber has recognizers and cue words for.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("fr", "en")

# Minimum detection score kept by default (Presidio's phone recognizer scores 0.4 on its
# own and is raised by context words, so this is a deliberate, tested choice).
DEFAULT_THRESHOLD = 0.5
