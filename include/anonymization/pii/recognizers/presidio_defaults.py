"""Presidio's own predefined recognizers, for every type they cover that French civic text has.

The analyzer is built from this package's recognizers only (Presidio's defaults
bring US identifiers and a slow phone recognizer), so each default recognizer
that applies to French or English text is added back here, as Presidio's class,
with context words in the text's language. `NOT_USED` says, for every other
predefined recognizer, why it is left out; tests/unit/pii/test_presidio_coverage.py
fails when a default recognizer's type is neither covered nor listed there.
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    UrlRecognizer,
)
from stdnum import luhn

from include.anonymization.pii.entities import (
    CREDIT_CARD,
    CRYPTO,
    IP_ADDRESS,
    MAC_ADDRESS,
    URL,
)
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated, matches
from include.anonymization.pii.recognizers.identifiers import ChecksumRecognizer
from include.anonymization.pii.recognizers.words import alternation

# Predefined recognizer class name -> why the analyzer does not run it.
NOT_USED: dict[str, str] = {
    "UsBankRecognizer": "US bank account numbers: 8-17 bare digits, US-only, floods amounts",
    "UsLicenseRecognizer": "US driver's licences; French ones: FR_DRIVING_LICENCE",
    "UsItinRecognizer": "US taxpayer numbers; the French one: FR_TAX_ID",
    "UsPassportRecognizer": "US passports; French ones: FR_PASSPORT",
    "UsSsnRecognizer": "US social security numbers; the French one: FR_NIR",
    "NhsRecognizer": "UK NHS numbers: 10 bare digits, not in French civic text",
    "MedicalLicenseRecognizer": "US DEA registration numbers",
    "DateRecognizer": "every date in prose ('le 3 mars, la rue...') is not personal; "
    "dates of birth are DATE_OF_BIRTH, detected by their cue",
    "UuidRecognizer": "UUIDs are record keys (the platform's own pseudonyms), not a person",
    "PhoneRecognizer": "slow and scores 0.4; phone.py detects French and international numbers",
    "SpacyRecognizer": "its PERSON is person.py's NER recognizer; LOCATION, ORGANIZATION and "
    "NRP (places, bodies, nationalities) are not personal data on their own",
}

# Presidio's URL patterns, those without a scheme made to require "www.": as they are,
# they take every "mairie.fr" and "Fin.et" of prose for a URL. And a URL alone is kept:
# citizens cite news articles, petitions and videos (50 links in 635 real proposals, none
# personal); a personal page is announced ("mon blog", "mes photos", "ma page perso")
# and its cue word lifts it over the threshold. Profiles on social networks are
# SOCIAL_HANDLE (social.py), found without a cue.
_OPTIONAL_WWW = r"(www\d{0,3}[.])?"
_UNCUED_URL_SCORE = 0.3
# The cue is a whole word at most `_URL_CUE_WINDOW` characters before the URL (its line
# or the one before), not a context word of Presidio's, which is matched inside any
# nearby word: "perso" is inside "personnes", and a real proposal's petition ("Plusieurs
# milliers de personnes ont déjà signé la pétition : https://www.change.org/p/...") was
# redacted; "photo" is inside "photovoltaïque", "personal" inside "personally". Not
# "vidéo": a real proposal's "Vidéo de présentation : https://www.youtube.com/..." is
# an initiative's (the old cue "vidéos" never matched: the lemma is "vidéo").
URL_CUES: dict[str, tuple[str, ...]] = {
    "fr": ("blog", "perso", "photo", "photos", "portfolio", "cv", "boutique", "chaîne"),
    "en": ("blog", "personal", "photo", "photos", "portfolio", "cv", "homepage"),
}  # fmt: skip
_URL_CUE_WINDOW = 60
_CUED_URL_SCORE = 0.65  # what Presidio's context step gave a cued URL (0.3 + 0.35)
# Presidio's path takes the full stop or comma that follows an unquoted URL ("my blog
# https://www.forster.fr/contact."): the sentence lost its stop, and a profile URL
# before one was typed URL, its match being a character longer than SOCIAL_HANDLE's.
_NO_TRAILING_PUNCTUATION = r"(?<![.,;:!?])"


def _url_patterns() -> list[Pattern]:
    patterns = []
    for pattern in UrlRecognizer.PATTERNS:
        expression = pattern.regex
        if "Non schema" in pattern.name:
            if _OPTIONAL_WWW not in expression:
                raise ImportError(f"Presidio's URL pattern {pattern.name!r} changed: review it")
            expression = expression.replace(_OPTIONAL_WWW, r"(?<![\w.\-/@])(www\d{0,3}[.])", 1)
        if "Quoted" not in pattern.name:  # a quoted URL ends at its closing quote
            expression += _NO_TRAILING_PUNCTUATION
        patterns.append(Pattern(name=pattern.name, regex=expression, score=_UNCUED_URL_SCORE))
    return patterns


class CuedUrlRecognizer(UrlRecognizer):
    """Presidio's URLs (see `_url_patterns`), over the threshold only after a cue word."""

    def __init__(self, language: str) -> None:
        super().__init__(
            patterns=_url_patterns(),
            supported_language=language,
            context=[],  # the cue is looked for here, as a whole word (see URL_CUES)
            name=f"{URL}_{language}",
        )
        self._cue = regex.compile(
            rf"\b(?:{alternation(frozenset(URL_CUES[language]))})\b", regex.IGNORECASE
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            if self._cue.search(text, max(0, result.start - _URL_CUE_WINDOW), result.start):
                result.score = max(result.score, _CUED_URL_SCORE)
        return results


CONTEXT: dict[str, dict[str, list[str]]] = {
    "fr": {
        CREDIT_CARD: ["carte", "bancaire", "cb", "visa", "mastercard", "amex", "débit", "paiement"],
        IP_ADDRESS: ["ip", "ipv4", "ipv6", "adresse", "serveur", "box", "routeur"],
        MAC_ADDRESS: ["mac", "adresse", "wifi", "box"],
        CRYPTO: ["bitcoin", "btc", "portefeuille", "wallet", "crypto"],
    },
    "en": {
        CREDIT_CARD: list(CreditCardRecognizer.CONTEXT),
        IP_ADDRESS: list(IpRecognizer.CONTEXT),
        MAC_ADDRESS: list(MacAddressRecognizer.CONTEXT),
        CRYPTO: list(CryptoRecognizer.CONTEXT),
    },
}

# A 16-digit card number written after a card cue is a card number even when its Luhn
# key is wrong (a typo, or a number copied badly): "Ma carte bancaire 4970 1012 ...".
_CARD_CUE = r"(?:carte|cb|visa|mastercard|amex|card)"
CUED_CARD_REGEX = (
    rf"(?<=\b{_CARD_CUE}\b[^\d\n]{{0,30}})(?<![\d.])\d{{4}}([ \-]?)\d{{4}}\1\d{{4}}\1\d{{4}}"
    r"(?![\d.,]?\d)"
)

# Card numbers Presidio's pattern misses (Luhn-checked like its own): Mastercard's
# 2-series (2221-2720, issued since 2017: without a card cue "2223 0031 2200 3222" was
# left whole), and numbers of 18 or 19 digits (ISO/IEC 7812: Maestro, UnionPay, some
# Visa cards; Presidio's pattern stops at 17, so of "4111 1111 1111 1111 003" it took 16
# digits and left 3, and the same number without spaces it left whole), and JCB's
# 15-digit cards of IIN 2131 (Faker draws them; Presidio's pattern starts no card with 2).
OTHER_CARD_REGEX = (
    r"(?<![\d.])(?:2[2-7]\d{2}([ \-]?)\d{4}\1\d{4}\1\d{4}"
    r"|[2-6]\d{3}([ \-]?)\d{4}\2\d{4}\2\d{4}\2\d{2,3}"
    r"|2131([ \-]?)\d{6}\3\d{5})(?![\d.,]?\d)"
)


# An IPv6 address, written in full, has two hex groups each ended by a colon; shortened,
# it has "::". An IPv4 one has four groups of digits joined by dots.
_IP_GATE = matches(r"::|[0-9a-f]:[0-9a-f]{1,4}:|[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]")
# Hex pairs joined by ":" or "-", or Cisco's hex quadruples joined by dots.
_MAC_GATE = matches(r"[0-9a-f]{2}[:\-][0-9a-f]{2}|[0-9a-f]{4}\.[0-9a-f]{4}")
# A scheme ("://", the quoted one too), the "www" `_url_patterns` demands of a bare
# address, or the quoted bare address Presidio keeps: a quote, address characters, a dot.
_URL_GATE = matches(r"://|www|[\"'][a-z0-9.\-]+\.")


def presidio_default_recognizers(language: str) -> list[EntityRecognizer]:
    """Presidio's predefined recognizers that apply, configured for `language`.

    Gated (see `gates.py`): cards and crypto wallets by their digits ("bc1" or a
    leading 1 or 3 for the wallets), IP and MAC addresses and URLs by their gates above.
    """
    words = CONTEXT[language]
    return [
        gated(
            CreditCardRecognizer(
                supported_language=language,
                context=words[CREDIT_CARD],
                name=f"{CREDIT_CARD}_{language}",
            ),
            HAS_DIGIT,
        ),
        gated(
            PatternRecognizer(
                supported_entity=CREDIT_CARD,
                name=f"{CREDIT_CARD}_cued_{language}",
                supported_language=language,
                patterns=[Pattern(name="cued_card", regex=CUED_CARD_REGEX, score=0.8)],
            ),
            HAS_DIGIT,
        ),
        gated(
            ChecksumRecognizer(
                entity=CREDIT_CARD,
                language=language,
                regex=OTHER_CARD_REGEX,
                is_valid=luhn.is_valid,
                context=words[CREDIT_CARD],
                name=f"{CREDIT_CARD}_beyond_presidio_{language}",
            ),
            HAS_DIGIT,
        ),
        gated(
            IpRecognizer(
                supported_language=language,
                context=words[IP_ADDRESS],
                name=f"{IP_ADDRESS}_{language}",
            ),
            _IP_GATE,
        ),
        gated(CuedUrlRecognizer(language), _URL_GATE),
        gated(
            MacAddressRecognizer(
                supported_language=language,
                context=words[MAC_ADDRESS],
                name=f"{MAC_ADDRESS}_{language}",
            ),
            _MAC_GATE,
        ),
        gated(
            CryptoRecognizer(
                supported_language=language, context=words[CRYPTO], name=f"{CRYPTO}_{language}"
            ),
            HAS_DIGIT,
        ),
    ]
