"""GPS coordinates: "48.8566, 2.3522", "48,85661 ; 2,35222", "48°51'24\"N 2°21'03\"E".

A pair of coordinates precise to a few metres locates a home as surely as its
address. Four decimals (about 10 m) on both numbers, or degrees-minutes with
their hemisphere letters, is what makes a pair of numbers a position and not,
say, two prices.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import GPS_COORDINATES
from include.anonymization.pii.recognizers.gates import gated, matches

_LAT = r"-?(?:[1-8]?\d|90)"
_LON = r"-?(?:1[0-7]\d|\d{1,2}|180)"
DECIMAL_REGEX = (
    rf"(?<![\w.,\-])(?:{_LAT}\.\d{{4,8}}\s*[,;/]?\s*{_LON}\.\d{{4,8}}"
    rf"|{_LAT},\d{{4,8}}\s*[;/]?\s*{_LON},\d{{4,8}})(?![\w.,]?\d)"
)
_DMS = r"\d{1,3}\s?°\s?\d{1,2}\s?['′’]\s?(?:\d{1,2}(?:[.,]\d+)?\s?(?:\"|″|''|’’)\s?)?"
DMS_REGEX = rf"(?<!\w){_DMS}(?-i:[NS])[\s,;]*{_DMS}(?-i:[EWO])(?!\w)"

CONTEXT: dict[str, list[str]] = {
    "fr": ["gps", "coordonnées", "position", "latitude", "longitude"],
    "en": ["gps", "coordinates", "position", "latitude", "longitude"],
}


# A decimal latitude ends with a digit and four decimals; degrees have their sign.
_GATE = matches(r"\d[.,]\d{4}|°")


def gps_recognizer(language: str) -> PatternRecognizer:
    recognizer = PatternRecognizer(
        supported_entity=GPS_COORDINATES,
        name=f"{GPS_COORDINATES}_{language}",
        supported_language=language,
        patterns=[
            Pattern(name="decimal_degrees", regex=DECIMAL_REGEX, score=0.8),
            Pattern(name="degrees_minutes", regex=DMS_REGEX, score=0.85),
        ],
        context=CONTEXT[language],
    )
    return gated(recognizer, _GATE)
