"""Every Presidio default recognizer that applies to French or English text has a replacement,
and what Presidio's own recognizers find in generated and real texts, the scrubber redacts.

The analyzer does not load Presidio's defaults (see analyzer.py); this test is what
keeps a type they detect from silently disappearing: each predefined recognizer is
either deliberately left out (with its reason, in `NOT_USED`) or its entity types are
all detected by the scrubber's analyzer in both languages.
"""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerRegistry
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IpRecognizer,
    UrlRecognizer,
)

from include.anonymization.pii import Scrubber
from include.anonymization.pii.analyzer import build_analyzer
from include.anonymization.pii.entities import ENTITY_TYPES, SUPPORTED_LANGUAGES
from include.anonymization.pii.evaluation import Detection
from include.anonymization.pii.recognizers.presidio_defaults import NOT_USED
from include.anonymization.pii.reference_corpora import (
    CITIZEN_TEXTS_FILE,
    REFERENCE_DIR,
    read_citizen_texts,
)
from include.sample.texts import labelled_corpus
from tests.presidio_oracle import kept_in_clear, presidio_findings
from tests.unit.pii.reference_marks import needs_reference_corpora


@pytest.fixture(scope="module")
def presidio_defaults() -> dict[str, set[str]]:
    """Presidio's predefined recognizers (class name -> entity types), from its own registry."""
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    found: dict[str, set[str]] = {}
    for recognizer in registry.recognizers:
        found.setdefault(type(recognizer).__name__, set()).update(recognizer.supported_entities)
    return found


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_applicable_default_type_is_detected(
    presidio_defaults: dict[str, set[str]], language: str
) -> None:
    analyzer = build_analyzer()
    ours = set(analyzer.get_supported_entities(language))
    missing = {
        name: sorted(types - ours)
        for name, types in presidio_defaults.items()
        if name not in NOT_USED and types - ours
    }
    assert missing == {}, (
        f"Presidio's default recognizers {sorted(missing)} detect types the analyzer lacks "
        f"for {language!r}: add a recognizer, or list them in NOT_USED with the reason"
    )


def test_every_detected_default_type_is_scrubbed(presidio_defaults: dict[str, set[str]]) -> None:
    """A type the analyzer detects but the scrubber does not ask for is never redacted."""
    used = set().union(*(t for n, t in presidio_defaults.items() if n not in NOT_USED))
    assert used - set(ENTITY_TYPES) == set()


def test_every_left_out_recognizer_exists_and_has_a_reason(
    presidio_defaults: dict[str, set[str]],
) -> None:
    assert set(NOT_USED) <= set(presidio_defaults), "NOT_USED names a recognizer Presidio lacks"
    assert all(len(reason) > 20 for reason in NOT_USED.values())


def test_presidio_classes_run_in_both_languages() -> None:
    """Presidio's own code runs for these types. Not for IBANs: grouped_identifiers reads
    every IBAN Presidio's pattern finds (groups of four) and those grouped otherwise, and
    the tests below check its findings against Presidio's."""
    analyzer = build_analyzer()
    for language in SUPPORTED_LANGUAGES:
        ours = analyzer.registry.get_recognizers(language, all_fields=True)
        for presidio_class in (CreditCardRecognizer, IpRecognizer, UrlRecognizer):
            assert any(isinstance(r, presidio_class) for r in ours), presidio_class.__name__


# -- Presidio as an outside oracle: what its own recognizers find, the scrubber redacts -----------


def _presidio_finds_what_the_scrubber_keeps(
    scrubber: Scrubber, texts: list[str]
) -> list[tuple[str, str]]:
    cases = [
        (text, [Detection(f.start, f.end, f.entity_type) for f in presidio_findings(text)])
        for text in texts
    ]
    return kept_in_clear(scrubber, cases)


def test_what_presidio_finds_in_generated_texts_is_redacted(scrubber: Scrubber) -> None:
    """Coverage at least Presidio's, measured by Presidio itself: every card, crypto wallet,
    e-mail, IBAN, IP or MAC address its own recognizers find, and every telephone number
    libphonenumber finds, in 2,000 generated texts of every notation, is redacted."""
    texts = [labelled.text for labelled in labelled_corpus(2000, seed=20261125)]
    assert _presidio_finds_what_the_scrubber_keeps(scrubber, texts) == []


@needs_reference_corpora
def test_what_presidio_finds_in_real_citizen_texts_is_redacted(scrubber: Scrubber) -> None:
    """The same on 635 real citizen proposals, written by people, not by the generator."""
    texts = [t.text for t in read_citizen_texts(REFERENCE_DIR / CITIZEN_TEXTS_FILE)]
    assert _presidio_finds_what_the_scrubber_keeps(scrubber, texts) == []
