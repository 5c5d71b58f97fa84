"""E-mail addresses written so that robots miss them: "prenom point nom arobase orange point fr".

People spell out "@" and "." to dodge spam harvesters ("jean.dupont (at)
example.fr", "jean [at] example [dot] fr", "paul arobase gmail point com"); a
reader (and a harvester) still reads the address. The address must end with a
known top-level domain, so "au point mort" stays prose.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import EMAIL_ADDRESS
from include.anonymization.pii.recognizers.gates import gated, matches

_AT = (
    r"(?:\s*[(\[{]\s*(?:at|arobase|arrobase|@)\s*[)\]}]\s*"  # (at) [at] {at} (@)
    r"|\s+(?:arobase|arrobase|at)\s+"  # " arobase ", " at "
    r"|\s*@\s*)"  # "@" with spaces or a line break around it
)
_DOT = r"(?:\s*[(\[{]\s*(?:dot|point)\s*[)\]}]\s*|\s+(?:point|dot)\s+|\.)"
_TLDS = r"(?:fr|com|net|org|eu|be|ch|lu|ca|de|uk|es|it|io|info|biz|me|re|gp|mq|nc|pf|yt|gf|pm)"
_LABEL = r"[a-z0-9_](?:[a-z0-9_\-]{0,62})"
OBFUSCATED_EMAIL_REGEX = (
    rf"(?<![\w.\-]){_LABEL}(?:{_DOT}{_LABEL}){{0,3}}{_AT}{_LABEL}(?:{_DOT}{_LABEL}){{0,3}}"
    rf"{_DOT}{_TLDS}(?![\w\-])(?!\.\w)"
)


# What each spelling of `_AT` has at its core: "@", or "at" / "arobase" / "arrobase" between
# brackets (spaces allowed inside) or between spaces.
_GATE = matches(r"@|[(\[{]\s*(?:at|arr?obase)\s*[)\]}]|\s(?:arr?obase|at)\s")


def obfuscated_email_recognizer(language: str, context: list[str]) -> PatternRecognizer:
    recognizer = PatternRecognizer(
        supported_entity=EMAIL_ADDRESS,
        name=f"{EMAIL_ADDRESS}_obfuscated_{language}",
        supported_language=language,
        patterns=[Pattern(name="obfuscated_email", regex=OBFUSCATED_EMAIL_REGEX, score=0.8)],
        context=context,
    )
    return gated(recognizer, _GATE)
