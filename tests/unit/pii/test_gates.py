"""Gates only rule out texts in which their recognizer would find nothing."""

from __future__ import annotations

import pytest
from presidio_analyzer import EntityRecognizer

from include.anonymization.pii.entities import ENTITY_TYPES, SUPPORTED_LANGUAGES
from include.anonymization.pii.lean_analysis import GATE_ATTRIBUTE
from include.anonymization.pii.recognizers import build_recognizers
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, contains
from include.sample.texts import labelled_corpus

# Every spelling each gate was derived from, one per text (a gate reads the whole text),
# so that each gate meets each thing it must let pass on its own.
SAMPLES = [
    "Écrivez-moi : jean (at) exemple (dot) fr",
    "Écrivez-moi : jean [AT] exemple [DOT] fr",
    "paul arobase gmail point com",
    "marie arrobase orange point fr",
    "a {at} b.fr",
    "mon mail jean.dupont@exemple.fr",
    "mon mail jean . dupont @ exemple . fr",
    "IP 10.0.0.1",
    "IP fe80::1ff:fe23:4567:890a",
    "IP 2001:db8::1",
    "IP ::ffff:192.0.2.128",
    "IP ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
    "IP abcd::ef",
    "MAC AA-BB-CC-DD-EE-FF",
    "MAC aa:bb:cc:dd:ee:ff",
    "MAC aabb.ccdd.eeff",
    "voir http://exemple.fr/page",
    "voir www.exemple.fr",
    "voir 'exemple.com'",
    'voir "https://exemple.org"',
    "GPS 48°51'24\"N 2°21'03\"E",
    "GPS 48.8566, 2.3522",
    "GPS 48,85661 ; 2,35222",
    "Appelez le +44 20 7946 0958",
    "Appelez le 0049 30 1234567",
    "Appelez le +1 (212) 555-0187",
    "tél. 06 12 34 56 78",
    "tél. +33 (0)1 23 45 67 89",
    "Carte 4970 1012 3456 7896",
    "CB 4111111111111111",
    "Payé avec 2223 0031 2200 3222",
    "UnionPay 6205500000000000004",
    "bitcoin 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    "insta @julie_m",
    "facebook.com/jean.dupont",
    "NIR 1 85 05 78 006 084 91",
    "SIRET 732 829 320 00074",
    "SIREN 732 829 320",
    "SIRET 7 328 29 320 000 74",
    "N° TVA FR44732829320",
    "IBAN FR76 3000 6000 0112 3456 7890 189",
    "RIB 30006 00001 12345678901 89",
    "numéro fiscal 30 23 217 600 053",
    "allocataire CAF 1234567",
    "NISS 85.07.30-033.28",
    "AVS 756.1234.5678.97",
    "né le 3 mars 1985",
    "born on March 3rd, 1985",
    "DOB: 1985-03-03",
    "12 rue de la Paix 75002 Paris",
    "plaque AB-123-CD",
    "plaque 1234 AB 75",
    "passeport 12AB34567",
    "my mobile 07400 123456",
    "call (201) 555-0123",
    "Phone: 452 8831",
    "le dossier de Paul M. Durand",
]


def _gated(language: str) -> list[EntityRecognizer]:
    return [r for r in build_recognizers(language) if getattr(r, GATE_ATTRIBUTE, None)]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [sample.text for sample in labelled_corpus(600, 7)] + SAMPLES


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_a_gate_lets_through_every_text_its_recognizer_finds_something_in(
    language: str, texts: list[str]
) -> None:
    found_by_gated = 0
    for recognizer in _gated(language):
        gate = getattr(recognizer, GATE_ATTRIBUTE)
        for text in texts:
            found = recognizer.analyze(text, list(ENTITY_TYPES), None)  # Presidio's, ungated
            if found:
                found_by_gated += 1
                assert gate(text), f"{recognizer.name}'s gate rejects {text!r}"
    assert found_by_gated > 500  # the texts do hold what the gated recognizers look for


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_gated_recognizer_meets_a_sample_it_finds(language: str) -> None:
    """So that the test above saw each gate at work, not only texts without its values."""
    unmet = [
        recognizer.name
        for recognizer in _gated(language)
        if not any(recognizer.analyze(text, list(ENTITY_TYPES), None) for text in SAMPLES)
    ]
    assert unmet == []


def test_the_digit_gate_answers_for_each_text() -> None:
    assert [HAS_DIGIT(text) for text in ["rue 12", "rue douze", "rue 12", "٣ rue"]] == [
        True,
        False,
        True,
        True,  # an Arabic-Indic digit is a `\d` too, as in the patterns
    ]


def test_a_letter_cannot_be_a_case_blind_gate() -> None:
    with pytest.raises(ValueError, match="other cases"):
        contains("@", "w")
