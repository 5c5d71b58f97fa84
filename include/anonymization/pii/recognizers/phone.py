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


# An extension after a number ("x0135", "ext. 12", "poste 21"): not the number's, so
# phonenumbers judges the number without it.
_EXTENSION_AFTER = r"(?:[ ]?(?:x|ext\.?|poste)[ ]?\d{1,5})"
_EXTENSION = re.compile(rf"{_EXTENSION_AFTER}$", re.IGNORECASE)

# Any other country: "+44 20 7946 0958", "0049 30 1234567", "+1 (212) 555-0187",
# "+1-604-696-5272x565". The shape is loose, so phonenumbers' metadata decides (a valid
# number for its country).
INTERNATIONAL_PHONE_REGEX = (
    # Country code, not France's; after "00" it must stand apart ("0049 30...") or any
    # long reference number starting with 00 would be a phone.
    r"(?<![\w+])(?:\+[ ]?(?!33)[1-9]\d{0,2}|00[ ]?(?!33)[1-9]\d{0,2}(?=[ .\-(]))"
    r"(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,5})){2,6}"  # groups of digits, area code maybe in ()
    rf"{_EXTENSION_AFTER}?(?!\w)(?![ .\-]\d)"
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
        digits = _digits(pattern_text)
        if pattern_text.lstrip().startswith("00"):
            digits = digits[2:]
        return _valid_or_dropped("+" + digits)


def _digits(pattern_text: str) -> str:
    """The number's digits, its extension left out."""
    return "".join(c for c in _EXTENSION.sub("", pattern_text) if c.isdigit())


def _valid_or_dropped(number: str, region: str | None = None) -> bool | None:
    """A phone recognizer's `validate_result`: None (the pattern's score kept) when
    phonenumbers takes `number` for a valid one (of `region`, if it has no country code),
    False (dropped) otherwise."""
    return None if _is_valid(number, region) else False


def _is_valid(number: str, region: str | None) -> bool:
    return _valid_number(number, region) is not None


def _valid_number(number: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """`number` parsed (as a number of `region` if it has no country code), if valid."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


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
    rf"{_EXTENSION_AFTER}?(?!\w)(?![ .\-]\d)"  # "345-899-3560x4587"
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
# Germany's, Austria's, Switzerland's and Italy's, as their people write them: a trunk 0
# (Italy's stays in the number), an area code or a mobile prefix, then groups after a
# space, a slash or a dash ("06321 45 76 37", "0660 475 13 89", "030/1234567", "030
# 123456", "02 1234 5678"), nine to thirteen digits. Strasbourg's, Mulhouse's and Nice's
# neighbours write to their cities; without a cue before them, FakeNameGenerator's
# numbers of Germany, Austria and Italy were published 58 of 82, 103 of 103 and 55 of 84
# times. One separator at least: an unbroken run of digits is as often a reference.
# Valid in one of those countries' plans, and written as at home: the first group is the
# trunk 0 and the area code or mobile prefix ("06321", "0660"); not "0612 345 6789", a
# French mobile's shape with a digit too many that Germany's plan reads as 06123 (a
# French number is already the French pattern's).
NEIGHBOUR_NATIONAL_REGEX = (
    r"(?<![\w+\-/.])(?<!\d[ .\-])0\d{1,4}(?:[ \-]|/[ ]?)\d{2,10}(?:[ .\-]\d{2,4}){0,3}"
    r"(?!\w)(?![ .\-/]\d)"
)
_TRUNK_ZERO_REGIONS = ("DE", "AT", "CH", "IT")
_TRUNK_ZERO_DIGITS = range(9, 14)
_FIRST_GROUP = re.compile(r"\(?(\d+)")
_UK_DIGITS, _NANP_DIGITS = 11, 10
_BELGIAN = re.compile(BE_NATIONAL_REGEX)


class NationalFormatPhoneRecognizer(PatternRecognizer):
    """UK, North American, Belgian, German, Austrian, Swiss and Italian numbers written
    without their country code (see above)."""

    def __init__(self, language: str, context: list[str]) -> None:
        super().__init__(
            supported_entity=PHONE_NUMBER,
            name=f"{PHONE_NUMBER}_national_{language}",
            supported_language=language,
            patterns=[
                Pattern(name="uk_national", regex=UK_NATIONAL_REGEX, score=0.6),
                Pattern(name="nanp_national", regex=NANP_NATIONAL_REGEX, score=0.6),
                Pattern(name="be_national", regex=BE_NATIONAL_REGEX, score=0.6),
                Pattern(name="neighbour_national", regex=NEIGHBOUR_NATIONAL_REGEX, score=0.6),
            ],
            context=context,
        )
        gated(self, HAS_DIGIT)

    def validate_result(self, pattern_text: str) -> bool | None:
        """None keeps the pattern's score for a valid number; False drops any other."""
        digits = _digits(pattern_text)
        if len(digits) == _UK_DIGITS and digits.startswith("0") and _is_valid(digits, "GB"):
            return None
        if _BELGIAN.fullmatch(pattern_text) and _is_valid(digits, "BE"):
            return None  # else maybe a neighbour's, grouped alike ("030 123456", Berlin)
        if digits.startswith("0") and len(digits) in _TRUNK_ZERO_DIGITS:
            at_home = any(_written_at_home(pattern_text, digits, r) for r in _TRUNK_ZERO_REGIONS)
            return None if at_home else False
        if len(digits) == _NANP_DIGITS:
            return _valid_or_dropped(digits, "US")  # any NANP country: phonenumbers checks
        return False


def _written_at_home(text: str, digits: str, region: str) -> bool:
    """Whether `digits` is a valid number of `region` whose first group, as `text` writes
    it, is the trunk 0 (Italy's stays in the number) and the area code or mobile prefix."""
    parsed = _valid_number(digits, region)
    if parsed is None:
        return False
    national = phonenumbers.national_significant_number(parsed)
    code_length = phonenumbers.length_of_national_destination_code(parsed)
    first_group = _FIRST_GROUP.match(text)
    expected = digits[: len(digits) - len(national)] + national[:code_length]
    return bool(code_length and first_group and first_group.group(1) == expected)


# A number announced as a phone's, whatever its country and its grouping: "Phone:⏎467
# 3395", "Mobile: 723 813 266", "call me on 450 0840", "appelez-moi au 0699 868 88 55",
# "Tél. (37) 788-063", "345-899-3560x4587 fax". The patterns above read only numbers whose
# shape alone says "phone" (France's, or a foreign one with its country code or in a
# national format phonenumbers validates); on Presidio's own evaluation set
# (presidio-evaluator's synth_dataset_v2, 92 phones of many countries, nearly all after
# such a cue) they missed 57. Presidio's phone recognizer counts a number only with a
# context word nearby too (0.4 alone, under the threshold), and then only one valid in
# its regions. Here the cue is the evidence, so any phone's shape after it is one: a
# country code maybe, the trunk 0 or an area code in brackets maybe, then groups of
# digits parted by single separators (a slash may take a space), an extension maybe
# ("x0135", "ext. 12", "poste 21"); 6 to 15 digits (E.164's most) before the extension,
# and no amount (a currency after it), count ("Mobile : 125 000 utilisateurs": thousands
# before a word, under nine digits) nor date.
_PHONE_WORD = (
    r"(?:t[ée]l[ée]phone|telephone|t[ée]l[ée]copie|t[ée]l|phone|mobile|portable"
    r"|cell(?:ulaire|phone)?|gsm|fax|fixe|desk|whats[ ]?app)"
)
_LABEL_CUE = (
    # A label, and what parts it from its value: "Tél. :", "Phone:⏎", "Mobile –", or a
    # space ("tél 06…", "fax 02…"); "n°", "perso" and the like may come between.
    rf"(?:\b{_PHONE_WORD}\.?(?:[^\S\n]+(?:n°|no\.?|number|num[ée]ro|perso|pro|direct))?"
    r"(?:[^\S\n]*[:\-–]\s*|[^\S\n]+)"
    # "my number is", "my Israeli number is", "mon numéro : ", "votre numéro de portable
    # est le", "mon nouveau numéro est le".
    r"|\b(?:my|your|our|mon|ton|son|notre|votre)[^\S\n]+(?:[^\W\d_]+[^\S\n]+)?"
    rf"(?:number|num[ée]ro)(?:[^\S\n]+(?:de[^\S\n]+)?{_PHONE_WORD})?"
    r"(?:[^\S\n]+(?:is|est)(?:[^\S\n]+le)?[^\S\n]+|[^\S\n]*:\s*))"
)
# The numbers people say they are reached on. After these no count can follow ("au"
# before a count in thousands is no French), so a number grouped as one is a phone's all
# the same: Tunisia's eight digits, "me joindre au 78 427 062 en soirée".
_CALL_CUE = (
    r"(?:\b(?:call|ring|text|phone|reach|contact|sms|message|answer(?:ing)?)"
    r"(?:[^\S\n]+(?:me|us|him|her|them))?[^\S\n]+(?:on|at)[^\S\n]+"
    r"|\bmessages?[^\S\n]+to[^\S\n]+"
    r"|\b(?:appel\w*|t[ée]l[ée]phon\w*|joind\w*|joignable|rappel\w*|contact\w*|sms|textos?)"
    r"(?:-(?:moi|nous|la|le|les|lui))?[^\S\n]+(?:au|sur[^\S\n]+le)[^\S\n]+)"
)
_CUED_DIGITS = (
    r"(?:(?:\+|00)[ ]?\d{1,3}[ .\-]?)?"  # a country code
    r"(?:\(0\)[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?"  # the trunk 0 or an area code, in brackets
    r"\d+(?:(?:[ .\-]|/[ ]?)\d+){0,7}"  # the groups ("05/ 945 26 69", as Belgians write)
    rf"{_EXTENSION_AFTER}?"  # an extension
    r"(?!\w)(?![ .\-/]\d)(?![^\S\n]*(?:€|\$|£|%|eur(?:os?)?\b|chf\b|usd\b))"
)
# Or the label after it, ending its line, as a signature block lists numbers: "416 60 039
# office", "+1-984-182-0190 mobile", "21 253 109 8211-Office", "079 123 45 67 (portable)".
_LABEL_AFTER = (
    r"(?=[^\S\n]?[\-(]?[^\S\n]?(?:office|fax|mobile|cell|home|work|bureau|domicile|portable"
    r"|fixe|perso|pro)\)?[^\S\n]*(?:$|[\n,;]))"
)
# A count is in thousands before a word; one of nine digits or more, as rare in prose, is
# left to the publication gate's rule for any such number.
_NO_COUNT = r"(?!(?:\d{1,3}|\d{1,2}[ .\u00a0\u202f]\d{3})[ .\u00a0\u202f]\d{3}[^\S\n]+(?-i:\p{Ll}))"
CUED_PHONE_REGEX = rf"(?=[+(\d])(?:(?<={_CALL_CUE})|(?<={_LABEL_CUE}){_NO_COUNT}){_CUED_DIGITS}"
LABELLED_AFTER_PHONE_REGEX = rf"(?<![\w+(])(?<!\d[ .\-/]){_CUED_DIGITS}{_LABEL_AFTER}"
_MIN_DIGITS, _MAX_DIGITS = 6, 15
_DATE = re.compile(r"\d{1,2}([/.\-])\d{1,2}\1(?:\d{4}|\d{2})|\d{1,2} \d{1,2} \d{4}")


class CuedPhoneRecognizer(PatternRecognizer):
    """Any phone number after (or before) the words that announce one (see above)."""

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entity=PHONE_NUMBER,
            name=f"{PHONE_NUMBER}_cued_{language}",
            supported_language=language,
            patterns=[
                Pattern(name="phone_after_its_cue", regex=CUED_PHONE_REGEX, score=0.8),
                Pattern(name="phone_before_its_label", regex=LABELLED_AFTER_PHONE_REGEX, score=0.8),
            ],
        )
        gated(self, HAS_DIGIT)

    def validate_result(self, pattern_text: str) -> bool | None:
        """None keeps a number of 6 to 15 digits (its extension aside); False drops a
        shorter or longer one, or a date."""
        if _DATE.fullmatch(_EXTENSION.sub("", pattern_text)):
            return False
        return None if _MIN_DIGITS <= len(_digits(pattern_text)) <= _MAX_DIGITS else False
