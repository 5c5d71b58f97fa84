"""Phone numbers: French ones in every notation people actually type, and foreign ones.

Presidio's phone recognizer (phonenumbers) scores 0.4, misses numbers the library
considers unassigned, and is slow. A French number has a rigid shape: a trunk
prefix (0, +33, 0033, "+33 (0)") then nine digits, the first non-zero. Most
people group them in pairs, by spaces, dots or dashes or not at all; a number
copied from a phone or typed in a form comes grouped otherwise ("+33 612 345 678",
"0612 345 678", "06 123 456 78"), and those were left in clear. The count of
digits after the prefix, whatever the grouping, is specific enough.
"""

from __future__ import annotations

import phonenumbers
import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import PHONE_NUMBER
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated, matches

PHONE_REGEX = (
    r"(?<![\w+])(?<!\d[ .\-/])"  # not the tail of a longer number
    r"(?:(?:(?:\+|00)[ ]?33[ .\-]?(?:\(0\)[ .\-]?)?|\(0\)[ ]?|0)"  # +33 / 0033 / +33 (0) / (0) / 0
    r"[1-9](?:(?:[ .\-]?\d){8}"  # 6 12 34 56 78, 6.12.34.56.78, 612345678, 612 345 678
    r"|(?:/\d\d){4})"  # 6/12/34/56/78: in pairs only (not a date, "06/12/2019")
    # 0 6 1 2 3 4 5 6 7 8: digit by digit, as a number is typed to get past a filter; one
    # separator throughout, so "0.612345678" stays a decimal
    r"|0(?: [1-9](?: \d){8}|\.[1-9](?:\.\d){8}|-[1-9](?:-\d){8}))"
    r"(?!\w)(?![ .\-/]\d)"
)


def phone_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    recognizer = PatternRecognizer(
        supported_entity=PHONE_NUMBER,
        name=f"{PHONE_NUMBER}_{language}",
        supported_language=language,
        patterns=[Pattern(name="fr_phone", regex=PHONE_REGEX, score=0.7)],
        context=context,
    )
    return gated(recognizer, HAS_DIGIT)


# Any other country: "+44 20 7946 0958", "0049 30 1234567", "+1 (212) 555-0187". The
# shape is loose, so phonenumbers' metadata decides (a valid number for its country).
INTERNATIONAL_PHONE_REGEX = (
    # Country code, not France's; after "00" it must stand apart ("0049 30...") or any
    # long reference number starting with 00 would be a phone.
    r"(?<![\w+])(?:\+[ ]?(?!33)[1-9]\d{0,2}|00[ ]?(?!33)[1-9]\d{0,2}(?=[ .\-(]))"
    r"(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,5})){2,6}"  # groups of digits, area code maybe in ()
    r"(?!\w)(?![ .\-]\d)"
)


# The pattern's country code follows a "+", or a "00" that starts a token (its look-behind).
_INTERNATIONAL_GATE = matches(r"\+|(?<![\w+])00")


class InternationalPhoneRecognizer(PatternRecognizer):
    """Foreign numbers with their country code, kept when phonenumbers says they are valid."""

    def __init__(self, language: str, context: list[str]) -> None:
        super().__init__(
            supported_entity=PHONE_NUMBER,
            name=f"{PHONE_NUMBER}_international_{language}",
            supported_language=language,
            patterns=[Pattern(name="intl_phone", regex=INTERNATIONAL_PHONE_REGEX, score=0.7)],
            context=context,
        )
        gated(self, _INTERNATIONAL_GATE)

    def validate_result(self, pattern_text: str) -> bool | None:
        """None keeps the pattern's score for a valid number; False drops any other."""
        digits = "".join(c for c in pattern_text if c.isdigit())
        if pattern_text.lstrip().startswith("00"):
            digits = digits[2:]
        return _valid_or_dropped("+" + digits)


def _valid_or_dropped(number: str, region: str | None = None) -> bool | None:
    """A phone recognizer's `validate_result`: None (the pattern's score kept) when
    phonenumbers takes `number` for a valid one (of `region`, if it has no country code),
    False (dropped) otherwise."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return None if phonenumbers.is_valid_number(parsed) else False


# The numbers of the English-speaking countries whose people write to a French city
# most, in their national format, without a country code: the UK's (a trunk 0 and ten
# digits: "07911 123456", "020 7946 0958", "(020) 7946 0958") and North America's
# ("(415) 555-0132", "415-555-0132", "415.555.0132"; spaces only after the area code in
# brackets, or amounts would be candidates). Presidio's phone recognizer, whose default
# regions include both, found them; the French pattern cannot (eleven digits, or ten
# without a trunk 0), and neither can the international one (no country code). Each
# match must be a valid number of its country in phonenumbers' metadata.
UK_NATIONAL_REGEX = (
    r"(?<![\w+\-])(?<!\d[ .\-])(?:\(0\d{2,4}\)[ ]?|0\d{2,4}[ \-]?)\d{3,4}[ \-]?\d{3,4}"
    r"(?!\w)(?![ .\-]\d)"
)
NANP_NATIONAL_REGEX = (
    r"(?<![\w+\-])(?<!\d[ .\-])(?:\(\d{3}\)[ ]?\d{3}[ .\-]|\d{3}([.\-])\d{3}\1)\d{4}"
    r"(?!\w)(?![ .\-]\d)"
)
# Belgium's, as its people write them: a trunk 0, the zone, then a slash, a dot or a
# space ("02/123.45.67", "010 12 34 56", "0471/12.34.56"): nine digits for a fixed line,
# ten for a mobile. Lille's neighbours write to its cities; French numbers have ten
# digits and their own grouping, so neither the French pattern nor the UK one reads
# these. The separator after the zone is required: bare nine digits are as often a
# SIREN.
BE_NATIONAL_REGEX = (
    r"(?<![\w+\-/.])(?<!\d[ .\-])(?:0[2349][ /.]\d{3}|0[1-9]\d[ /.]\d{2}|04[5-9]\d[ /.]\d{2})"
    r"[ .]?\d{2}[ .]?\d{2}(?!\w)(?![ .\-/]\d)"
)
_UK_DIGITS, _NANP_DIGITS = 11, 10
_BELGIAN = re.compile(BE_NATIONAL_REGEX)


class NationalFormatPhoneRecognizer(PatternRecognizer):
    """UK, North American and Belgian numbers written without their country code (see
    above)."""

    def __init__(self, language: str, context: list[str]) -> None:
        super().__init__(
            supported_entity=PHONE_NUMBER,
            name=f"{PHONE_NUMBER}_national_{language}",
            supported_language=language,
            patterns=[
                Pattern(name="uk_national", regex=UK_NATIONAL_REGEX, score=0.6),
                Pattern(name="nanp_national", regex=NANP_NATIONAL_REGEX, score=0.6),
                Pattern(name="be_national", regex=BE_NATIONAL_REGEX, score=0.6),
            ],
            context=context,
        )
        gated(self, HAS_DIGIT)

    def validate_result(self, pattern_text: str) -> bool | None:
        """None keeps the pattern's score for a valid number; False drops any other."""
        digits = "".join(c for c in pattern_text if c.isdigit())
        if len(digits) == _UK_DIGITS and digits.startswith("0"):
            region = "GB"
        elif _BELGIAN.fullmatch(pattern_text):
            region = "BE"
        elif len(digits) == _NANP_DIGITS:
            region = "US"  # any NANP country: phonenumbers checks the number's own region
        else:
            return False
        return _valid_or_dropped(digits, region)
