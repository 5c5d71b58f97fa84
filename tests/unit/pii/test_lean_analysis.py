"""The lean analysis gives Presidio's `AnalyzerEngine.analyze` results, score for score."""

from __future__ import annotations

import pytest
from presidio_analyzer import AnalyzerEngine, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from include.anonymization.pii import Scrubber
from include.anonymization.pii.language import detect_language
from include.anonymization.pii.lean_analysis import LeanAnalyzer
from include.sample.texts import labelled_corpus

# Context words before, inside, after and far from the values; English; line breaks.
EDGE_TEXTS = [
    "06 12 34 56 78",
    "06 12 34 56 78 c'est mon portable",
    "Mon portable, si besoin, le voici donc enfin : 06 12 34 56 78",
    "Mon numéro de téléphone personnel est le 06 12 34 56 78.",
    "Tél:06 12 34 56 78 ; RIB:FR76 3000 6000 0112 3456 7890 189",
    "Numéro de sécu 1 85 05 78 006 084 91 et société SIRET 732 829 320 00074.",
    "Please call my mobile on +44 20 7946 0958 or write to jane.doe@example.co.uk",
    "My bank account IBAN is FR76 3000 6000 0112 3456 7890 189, thanks",
    "La voiture immatriculée AB-123-CD est garée devant le 12 rue de la Paix.",
    "Écrivez à jean.dupont@exa\nmple.fr ou à paul.martin\n@orange.fr",
    "Ma carte bancaire 4970 1012 3456 7896 a été débitée. Mon adresse IP est 192.168.1.34.",
    "passeport 12AB34567, permis 12AB34567, allocataire 1234567, 1234567 habitants",
    "   Madame Inès Roux, née le 3 mars 1985   ",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [sample.text for sample in labelled_corpus(500, 11)] + EDGE_TEXTS


def _found(results: list[RecognizerResult]) -> list[tuple[str, int, int, float]]:
    return [(r.entity_type, r.start, r.end, r.score) for r in results]


def test_lean_results_are_presidios(scrubber: Scrubber, texts: list[str]) -> None:
    engine = scrubber._engine
    analyzer = scrubber._analyzer
    lean = LeanAnalyzer.for_engine(analyzer)
    assert lean is not None
    entities, threshold = scrubber.settings.entities, scrubber.settings.threshold
    languages = [detect_language(text) for text in texts]
    boosted = 0
    for text, language, doc in zip(texts, languages, engine.docs(texts), strict=True):
        presidio = analyzer.analyze(
            text,
            language,
            entities=list(entities),
            score_threshold=threshold,
            nlp_artifacts=engine.artifacts(doc, language),
        )
        mine = lean.analyze(text, language, entities, threshold, engine.artifacts(doc, language))
        assert _found(mine) == _found(presidio), text
        boosted += sum(r.score not in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 1.0) for r in mine)
    # Context words raised scores (to values no pattern gives alone), on both paths alike.
    assert boosted > 30, boosted
    assert "en" in languages


def test_the_lazy_keywords_are_presidios(scrubber: Scrubber) -> None:
    engine = scrubber._engine
    text = "Bonjour, mon numéro : 06 12 34 56 78 ; tél:portable. Le RIB est joint."
    artifacts = engine.artifacts(next(engine.docs([text])), "fr")
    assert artifacts.keywords == NlpArtifacts.set_keywords(engine, artifacts.lemmas, "fr")
    assert "tél" in artifacts.keywords
    assert "le" not in artifacts.keywords


def test_engines_it_cannot_reproduce_keep_presidios_analyze(scrubber: Scrubber) -> None:
    analyzer = scrubber._analyzer
    whole_words = AnalyzerEngine(
        registry=analyzer.registry,
        nlp_engine=analyzer.nlp_engine,
        supported_languages=list(analyzer.supported_languages),
        context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"),
    )
    assert LeanAnalyzer.for_engine(whole_words) is None
