"""Every recognizer the scrubber runs, per language, as plain Presidio recognizers.

Presidio's own predefined recognizers that apply to French and English text are
among them (`presidio_defaults.py`), beside the French identifiers Presidio lacks.
They are ordinary `EntityRecognizer`s, so they also work inside any Presidio
`AnalyzerEngine` (the benchmark and the tests use that). Only the context words
differ between languages: the patterns accept both languages' cues.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

# Before the name rules import spaCy's French stop words: its token regex from the cache.
from include.anonymization.pii import spacy_french  # noqa: F401
from include.anonymization.pii.entities import (
    CREDIT_CARD,
    EMAIL_ADDRESS,
    FR_LICENSE_PLATE,
    FR_NIR,
    FR_SIREN,
    FR_SIRET,
    IBAN_CODE,
    PHONE_NUMBER,
)
from include.anonymization.pii.recognizers.address import address_recognizer
from include.anonymization.pii.recognizers.birthdate import birthdate_recognizer
from include.anonymization.pii.recognizers.context_words import (
    CONTEXT_WORDS,
    SUPPORTED_LANGUAGES,
)
from include.anonymization.pii.recognizers.english_first_names import EnglishFirstNameRecognizer
from include.anonymization.pii.recognizers.french_ids import french_id_recognizers
from include.anonymization.pii.recognizers.gps import gps_recognizer
from include.anonymization.pii.recognizers.grouped_identifiers import (
    company_number_recognizers,
    iban_recognizer,
)
from include.anonymization.pii.recognizers.identifiers import (
    email_recognizer,
    nir_recognizer,
    siren_recognizer,
    siret_recognizer,
)
from include.anonymization.pii.recognizers.neighbour_ids import neighbour_id_recognizers
from include.anonymization.pii.recognizers.obfuscated_email import obfuscated_email_recognizer
from include.anonymization.pii.recognizers.person import (
    lowercase_name_recognizer,
    middle_initial_recognizer,
    person_cue_recognizer,
    person_ner_recognizer,
)
from include.anonymization.pii.recognizers.phone import (
    CuedPhoneRecognizer,
    InternationalPhoneRecognizer,
    NationalFormatPhoneRecognizer,
    phone_recognizer,
)
from include.anonymization.pii.recognizers.plate import plate_recognizer
from include.anonymization.pii.recognizers.presidio_defaults import presidio_default_recognizers
from include.anonymization.pii.recognizers.signature import trailing_signature_recognizer
from include.anonymization.pii.recognizers.social import social_recognizer
from include.anonymization.pii.recognizers.split_identifiers import SplitIdentifierRecognizer

__all__ = ["SUPPORTED_LANGUAGES", "build_recognizers"]


def build_recognizers(language: str) -> list[EntityRecognizer]:
    """The recognizers for one language, context words in that language."""
    if language not in CONTEXT_WORDS:
        raise ValueError(
            f"no recognizers for language {language!r}; supported: {list(SUPPORTED_LANGUAGES)}"
        )
    words = CONTEXT_WORDS[language]
    recognizers = [
        nir_recognizer(language, words[FR_NIR]),
        siret_recognizer(language, words[FR_SIRET]),
        siren_recognizer(language, words[FR_SIREN]),
        iban_recognizer(language),
        email_recognizer(language, words[EMAIL_ADDRESS]),
        obfuscated_email_recognizer(language, words[EMAIL_ADDRESS]),
        *presidio_default_recognizers(language),
        *company_number_recognizers(language),
        *french_id_recognizers(language),
        *neighbour_id_recognizers(language),
        social_recognizer(language),
        gps_recognizer(language),
        phone_recognizer(language, words[PHONE_NUMBER]),
        InternationalPhoneRecognizer(language, words[PHONE_NUMBER]),
        NationalFormatPhoneRecognizer(language, words[PHONE_NUMBER]),
        CuedPhoneRecognizer(language),
        plate_recognizer(language, words[FR_LICENSE_PLATE]),
        address_recognizer(language),
        birthdate_recognizer(language),
        person_cue_recognizer(language),
        middle_initial_recognizer(language),
        lowercase_name_recognizer(language),
        trailing_signature_recognizer(language),
        person_ner_recognizer(language),
        *([EnglishFirstNameRecognizer()] if language == "en" else []),
    ]

    def cut(entities: frozenset[str]) -> list[EntityRecognizer]:
        return [r for r in recognizers if set(r.supported_entities) & entities]

    split = SplitIdentifierRecognizer(language, cut(_CUT_BETWEEN_DIGITS), cut(_CUT_BETWEEN_WORDS))
    recognizers.insert(6, split)
    return recognizers


# Identifiers strict enough in shape (or checksum) to be looked for across a line break
# (see `split_identifiers`): numbers, between two of their digits; IBANs and plates,
# between two of their letters or digits.
_CUT_BETWEEN_DIGITS = frozenset({FR_NIR, FR_SIREN, FR_SIRET, CREDIT_CARD, PHONE_NUMBER})
_CUT_BETWEEN_WORDS = frozenset({IBAN_CODE, FR_LICENSE_PLATE})
