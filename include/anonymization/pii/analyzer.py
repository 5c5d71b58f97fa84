"""One Presidio analyzer per process: loading the model takes seconds, a text milliseconds.

The analyzer holds the trimmed French pipeline (see `nlp.py`) and only this
package's recognizers: Presidio's own predefined ones wherever they apply to French
and English civic text (`recognizers/presidio_defaults.py` names those left out, US
social security numbers and the like, each with its reason), the French ones, and
none of Presidio's slow phone recognizer.
"""

from __future__ import annotations

import functools
import logging

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

from include.anonymization.pii import pattern_cache
from include.anonymization.pii.nlp import DEFAULT_MODEL, InstalledSpacyNlpEngine, load_ner_pipeline
from include.anonymization.pii.recognizers import SUPPORTED_LANGUAGES, build_recognizers

logger = logging.getLogger(__name__)


@functools.cache
def build_analyzer(model: str = DEFAULT_MODEL) -> AnalyzerEngine:
    """The process-wide analyzer for `model` (built on first call, then reused)."""
    languages = list(SUPPORTED_LANGUAGES)
    engine = InstalledSpacyNlpEngine(load_ner_pipeline(model), languages)
    registry = RecognizerRegistry(supported_languages=languages)
    with pattern_cache.checks_deferred():  # precompile below compiles every pattern
        for language in languages:
            for recognizer in build_recognizers(language):
                registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=languages)
    # Presidio compiles each pattern on first use (0.26 s for all): from the cache instead.
    origin = pattern_cache.precompile(registry.recognizers, pattern_cache.default_cache_file())
    logger.debug("recognizer patterns: %s", origin)
    # What else is loaded on first use (the name rules' lexicon) is loaded now, so that
    # worker processes forked from this one inherit it.
    for language in languages:
        analyzer.analyze(WARM_UP_TEXT, language)
    return analyzer


# A name, an address and a date: it runs the slowest patterns and the name checks once.
WARM_UP_TEXT = "Madame Inès Roux, 12 rue de la Paix 75002 Paris, née le 3 mars 1985."
