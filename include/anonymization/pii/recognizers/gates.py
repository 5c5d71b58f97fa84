"""Cheap tests that rule a recognizer out before its patterns scan a text.

Most texts hold no e-mail, no IP address, no number at all; yet every
recognizer's regular expressions scanned every text, some of them trying a
look-behind at each character. A gate is a test that is TRUE OF EVERY TEXT in
which one of the recognizer's patterns can match: a character or a short
pattern that each of its matches must contain ("@" for an e-mail, a digit for
an identifier number). Where the gate is false, the recognizer would find
nothing, and the scrubber's batched path (`lean_analysis`) skips it.

A gate is only sound if it follows from the patterns, so each one says which
part of which pattern it follows from, and it is checked twice: Presidio's own
analyze ignores gates, so the reference path (`Scrubber.scrub_text`) is the
ungated result the batched path is tested against, and
tests/unit/pii/test_gates.py runs every gated recognizer on texts its gate
rejects and expects nothing.
"""

from __future__ import annotations

from typing import TypeVar

import regex
from presidio_analyzer import EntityRecognizer

from include.anonymization.pii.lean_analysis import GATE_ATTRIBUTE, Gate
from include.anonymization.pii.recognizers.last_text import LastTextMemo

Recognizer = TypeVar("Recognizer", bound=EntityRecognizer)

# Presidio matches with these flags (PatternRecognizer's default): gates use the same, so
# that "\d" or a letter means here what it means in the patterns.
_PRESIDIO_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE


def gated(recognizer: Recognizer, gate: Gate) -> Recognizer:
    """`recognizer`, carrying `gate` for the lean path (see the module doc)."""
    setattr(recognizer, GATE_ATTRIBUTE, gate)
    return recognizer


def matches(pattern: str) -> Gate:
    """A gate true where `pattern` (compiled with Presidio's flags) occurs in the text."""
    compiled = regex.compile(pattern, _PRESIDIO_FLAGS)
    return lambda text: compiled.search(text) is not None


def contains(*characters: str) -> Gate:
    """A gate true where one of `characters` occurs (characters with no other case only)."""
    if any(char.lower() != char.upper() for char in characters):
        raise ValueError(f"{characters!r}: letters have other cases, use `matches`")
    if len(characters) == 1:
        (character,) = characters
        return lambda text: character in text
    return lambda text: any(char in text for char in characters)


# Every identifier number, date, address number and phone has at least one `\d` or
# `[0-9]` (a subset of `\d`) that no alternative of its pattern can do without.
HAS_DIGIT: Gate = LastTextMemo(matches(r"\d"))
# E-mail addresses: Presidio's pattern has a literal `[@]`.
HAS_AT_SIGN = contains("@")
