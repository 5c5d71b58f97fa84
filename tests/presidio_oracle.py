"""Presidio's own recognizers as an outside oracle: what they find in a text is an identifier.

WHY a test helper and not part of the scrubber: the scrubber replaced Presidio's default
recognizers (see analyzer.py); these tests use the originals, untouched, as the attacker's
tool would be, to check the scrubber's output (tests/unit/pii) and the published files
(tests/dags) from outside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from include.anonymization.pii import Scrubber
from include.anonymization.pii.entities import IP_ADDRESS, PHONE_NUMBER
from include.anonymization.pii.evaluation import (
    Detection,
    coverage,
    is_covered,
    scrubber_detector,
)

# Presidio's phone recognizer (Google's libphonenumber) looks only where it is told: France, its
# neighbours and the countries French civic text most often writes numbers from.
PHONE_REGIONS = ("FR", "BE", "CH", "LU", "MC", "GB", "US", "DE", "ES", "IT", "PT", "MA", "DZ",
                 "TN", "SN", "CI")  # fmt: skip
# Presidio's recognizers whose findings are identifiers; the others are in NOT_USED or are the
# URL recognizer (a URL alone is kept on purpose: presidio_defaults.py).
ORACLES = ("CreditCardRecognizer", "CryptoRecognizer", "EmailRecognizer", "IbanRecognizer",
           "IpRecognizer", "MacAddressRecognizer")  # fmt: skip
# Punctuation around a value that Presidio takes in and the scrubber leaves ("(06 12 ...)").
_AROUND = ".,;:!?()[]'\"«»"
# libphonenumber's lenient matching also takes years and law numbers ("2012 - 2013",
# "n° 2017-1836") for numbers: a telephone number has at least nine digits.
_MIN_PHONE_DIGITS = 9
# A link: a run of non-blank characters with a slash or a dot and a top-level domain in it.
_LINK_MARK = re.compile(r"/|\.[a-z]{2,4}\b")
_BLANK = re.compile(r"\s")
_RUN_AFTER = re.compile(r"\S*")
_RUN_BEFORE = re.compile(r"(?r)\S*")  # matched backwards from its end
# A random identifier of the release (a record's UUID, a SHA-256 digest): its digits are no
# telephone or card number ("8dea503b-3634-4609-8927-dc4053b011fd" holds "3634-4609-8927").
# It has a letter: a run of 32 digits or more is digits, whatever else it may be.
_HEX_AFTER = re.compile(r"[0-9A-Fa-f-]*")
_HEX_BEFORE = re.compile(r"(?r)[0-9A-Fa-f-]*")
_DIGEST = re.compile(
    r"(?=[\d-]*[a-fA-F])(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32,})"
)
# A dotted section number of a cited standard (« RFC 9162, § 2.1.4.2 ») is no IP address.
_SECTION_SIGN = re.compile(r"§\s*\Z")
# The decimals of a number ("information_loss": 0.1146390671013009 in a manifest): sixteen
# of them pass Luhn one time in ten, and Presidio's card pattern starts after any "\b".
_DECIMAL_POINT = re.compile(r"\d\.\Z")
# A number with one decimal point and its decimals ("0.11490352366631883", a metric in a
# manifest): no telephone is written so.
_DECIMAL_NUMBER = re.compile(r"\d+\.\d+")


@dataclass(frozen=True)
class Finding:
    """An identifier Presidio found: its type and where it stands, punctuation trimmed."""

    entity_type: str
    start: int
    end: int
    value: str


@cache
def presidio_oracles() -> tuple[EntityRecognizer, ...]:
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    chosen = [r for r in registry.recognizers if type(r).__name__ in ORACLES]
    assert sorted({type(r).__name__ for r in chosen}) == sorted(ORACLES), "Presidio changed"
    return (*chosen, PhoneRecognizer(supported_regions=PHONE_REGIONS))


def _a_value(text: str, result: RecognizerResult) -> bool:
    """Whether Presidio's finding is an identifier: not digits inside a UUID or a digest, nor
    the decimals of a number (a card number passes Luhn there by chance), not a section
    number read as an IP address, nor libphonenumber reading a year range, a decimal
    number or the digits of a link as a telephone number."""
    if _in_a_digest(text, result) or _DECIMAL_POINT.search(text, 0, result.start):
        return False
    if result.entity_type == IP_ADDRESS:
        return not _SECTION_SIGN.search(text[max(0, result.start - 3) : result.start])
    if result.entity_type != PHONE_NUMBER:
        return True
    value = text[result.start : result.end]
    if _DECIMAL_NUMBER.fullmatch(value):
        return False
    return sum(c.isdigit() for c in value) >= _MIN_PHONE_DIGITS and not _in_a_link(text, result)


def _in_a_digest(text: str, result: RecognizerResult) -> bool:
    """Whether the finding lies inside a UUID or a hex digest (widened to its hex run)."""
    start, end = _widened(text, result, _HEX_BEFORE, _HEX_AFTER)
    return bool(_DIGEST.fullmatch(text[start:end].strip("-")))


def _in_a_link(text: str, result: RecognizerResult) -> bool:
    """Whether the finding lies inside one run of non-blank characters that is a link. Only
    that run is searched: a public file is large, and it has many such findings."""
    if _BLANK.search(text, result.start, result.end):
        return False
    start, end = _widened(text, result, _RUN_BEFORE, _RUN_AFTER)
    return bool(_LINK_MARK.search(text[start:end]))


def _widened(
    text: str, result: RecognizerResult, before: re.Pattern[str], after: re.Pattern[str]
) -> tuple[int, int]:
    """The finding's span widened by what `before` matches backwards up to its start and
    `after` matches from its end."""
    return before.match(text, 0, result.start).start(), after.match(text, result.end).end()


def presidio_findings(text: str) -> list[Finding]:
    """Every card, crypto wallet, e-mail, IBAN, IP or MAC address Presidio's recognizers find
    in `text`, and every telephone number libphonenumber finds."""
    findings = []
    for oracle in presidio_oracles():
        for result in oracle.analyze(text, oracle.supported_entities, None):
            if not _a_value(text, result):
                continue
            value = text[result.start : result.end]
            start = result.start + len(value) - len(value.lstrip(_AROUND))
            end = result.start + len(value.rstrip(_AROUND))
            findings.append(Finding(result.entity_type, start, end, text[start:end]))
    return findings


def kept_in_clear(
    scrubber: Scrubber, cases: Sequence[tuple[str, Sequence[Detection]]]
) -> list[tuple[str, str]]:
    """(type, value) of each value expected in each text that the scrubber leaves, even in
    part, in clear."""
    found = scrubber_detector(scrubber)([text for text, _ in cases])
    kept = []
    for (text, expected), detections in zip(cases, found, strict=True):
        covered = coverage(len(text), detections)
        kept += [
            (value.entity_type, text[value.start : value.end])
            for value in expected
            if not is_covered(text, value, covered)
        ]
    return kept
