"""Presidio's `AnalyzerEngine.analyze`, without the work the scrubber's batched path never uses.

With the NER already done (`nlp.pipe`), what was left of Presidio's analyze
around the recognizers cost about as much as the recognizers themselves
(measured: 0.32 of 0.99 ms per text), for things whose outcome is known in
advance or thrown away:
- the registry picked the recognizers anew for every text (a set built over all
  ~60 of them);
- the context enhancement deep-copied every result (for the explanation that
  `analyze` then drops), found the matched token by walking the spaCy `Doc`
  token by token, and checked every lemma of the text against the stop words,
  even in texts where no result has a recognizer with context words;
- each pattern of each recognizer read the clock twice and built a debug log
  record, for every text, and sorted its empty result for duplicates;
- every recognizer scanned every text, even those in which none of its patterns
  can match (no digit for an identifier number, no "@" for an e-mail): a
  recognizer may carry a gate that says so (`recognizers/gates.py`).

`LeanAnalyzer.analyze` returns the same results as
`AnalyzerEngine.analyze(text, language, entities, score_threshold=...,
nlp_artifacts=...)`: the same recognizers, the same context rule (the lemma of up
to `context_prefix_count` keywords before the match and `context_suffix_count`
after it; a recognizer's context word found inside one raises the score by the
same factor, with the same floor and ceiling), the same threshold and
duplicate removal, and the patterns matched as Presidio 2.2's `PatternRecognizer`
matches them. It serves only the engines it can reproduce (Presidio's
lemma enhancer in substring mode, no decision-process tracing):
`for_engine` returns None for any other, and the caller keeps Presidio's own
analyze. The scrubber's reference path (`scrub_text`) still runs Presidio's
analyze, and the tests hold both paths to identical results.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

# A recognizer may carry, under this attribute, a test that is true of every text in which
# any of its patterns can match (`recognizers/gates.py`): where it is false, the lean path
# skips the recognizer. Presidio's own analyze ignores it, so the reference path checks it.
GATE_ATTRIBUTE = "lean_gate"
Gate = Callable[[str], bool]

_ID = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
_NAME = RecognizerResult.RECOGNIZER_NAME_KEY
_BOOSTED = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
# Lemmas whose keyword status is remembered (a few MB at most).
_MAX_CACHED_LEMMAS = 200_000


class _ContextWords:
    """The lemmas of one text and which of them are keywords, worked out when first needed."""

    def __init__(self, artifacts: NlpArtifacts, keyword_pieces: dict[str, list[str]]) -> None:
        self._artifacts = artifacts
        self._pieces = keyword_pieces
        self._ends: list[int] | None = None
        self._keywords: frozenset[str] | None = None

    def token_at(self, start: int) -> int:
        """Presidio's `_find_index_of_match_token`: the first token that ends after `start`."""
        if self._ends is None:
            # `DocArtifacts` (nlp.py) carries the lengths; others are measured token by token.
            lengths = getattr(self._artifacts, "token_lengths", None)
            if lengths is None:
                lengths = [len(token) for token in self._artifacts.tokens]
            self._ends = [
                index + length
                for index, length in zip(self._artifacts.tokens_indices, lengths, strict=True)
            ]
        position = bisect.bisect_right(self._ends, start)
        if position == len(self._ends):
            raise ValueError(
                f"Did not find a token at offset {start} in the list of tokens although it "
                "is expected to be found"
            )
        return position

    @property
    def keywords(self) -> frozenset[str]:
        """`NlpArtifacts.keywords` as a set: lemmas that are neither stop words nor punctuation."""
        if self._keywords is None:
            self._keywords = frozenset(
                piece for lemma in self._artifacts.lemmas for piece in self._pieces[lemma]
            )
        return self._keywords


@dataclass(frozen=True)
class _Plan:
    """The recognizers for one language and entity list, and how each is run."""

    recognizers: list[EntityRecognizer]
    steps: list[tuple[EntityRecognizer, Gate | None, bool]]  # recognizer, gate, plain patterns
    by_id: dict[str, EntityRecognizer]
    # Whether a recognizer has its own context step (Presidio's default does nothing).
    own_context_step: bool

    @classmethod
    def of(cls, recognizers: list[EntityRecognizer]) -> _Plan:
        return cls(
            recognizers=recognizers,
            steps=[
                (r, getattr(r, GATE_ATTRIBUTE, None), _plain_pattern_recognizer(r))
                for r in recognizers
            ],
            by_id={r.id: r for r in recognizers},
            own_context_step=any(
                type(r).enhance_using_context is not EntityRecognizer.enhance_using_context
                for r in recognizers
            ),
        )


class LeanAnalyzer:
    """Runs an `AnalyzerEngine`'s recognizers and context rule on precomputed NLP artifacts."""

    def __init__(self, engine: AnalyzerEngine, enhancer: LemmaContextAwareEnhancer) -> None:
        self._engine = engine
        self._factor = enhancer.context_similarity_factor
        self._floor = enhancer.min_score_with_context_similarity
        self._before = enhancer.context_prefix_count
        self._after = enhancer.context_suffix_count
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}
        self._keyword_pieces: dict[str, dict[str, list[str]]] = {}

    @classmethod
    def for_engine(cls, engine: AnalyzerEngine) -> LeanAnalyzer | None:
        """A lean analyzer for `engine`, or None where it could not give Presidio's results."""
        enhancer = engine.context_aware_enhancer
        if (
            type(enhancer) is not LemmaContextAwareEnhancer
            or enhancer.context_matching_mode != "substring"
            or engine.log_decision_process
        ):
            return None
        return cls(engine, enhancer)

    def _plan_for(self, language: str, entities: Sequence[str]) -> _Plan:
        """The registry's choice, made once per language and entity list.

        The scrubber's registry is complete once the analyzer is built and never changes.
        """
        key = (language, tuple(entities))
        if key not in self._plans:
            self._plans[key] = _Plan.of(
                self._engine.registry.get_recognizers(language=language, entities=list(entities))
            )
        return self._plans[key]

    def _pieces_of(self, language: str, artifacts: NlpArtifacts) -> dict[str, list[str]]:
        """Lemma -> its keyword pieces (none for stop words, punctuation), as NlpArtifacts does."""
        pieces = self._keyword_pieces.setdefault(language, {})
        if len(pieces) > _MAX_CACHED_LEMMAS:
            pieces.clear()  # a long run meets ever new words (numbers, names): bound the memory
        nlp_engine = self._engine.nlp_engine
        for lemma in artifacts.lemmas:
            if lemma not in pieces:
                pieces[lemma] = NlpArtifacts.set_keywords(nlp_engine, [lemma], language)
        return pieces

    def analyze(
        self,
        text: str,
        language: str,
        entities: Sequence[str],
        score_threshold: float,
        nlp_artifacts: NlpArtifacts,
    ) -> list[RecognizerResult]:
        """What `AnalyzerEngine.analyze` returns for these arguments (see the module doc)."""
        plan = self._plan_for(language, entities)
        entity_list = list(entities)
        results: list[RecognizerResult] = []
        # Presidio regroups the results by recognizer before the context step; they already
        # are, unless a recognizer labels its results with another one's identifier.
        regroup = plan.own_context_step
        for recognizer, gate, plain in plan.steps:
            if not recognizer.is_loaded:
                recognizer.load()
                recognizer.is_loaded = True
            if gate is not None and not gate(text):
                continue  # none of its patterns can match this text
            if plain:
                found = run_patterns(recognizer, text)  # type: ignore[arg-type]
            else:
                found = recognizer.analyze(
                    text=text, entities=entity_list, nlp_artifacts=nlp_artifacts
                )
            for result in found or ():
                if not result.recognition_metadata:
                    result.recognition_metadata = {}
                result.recognition_metadata.setdefault(_NAME, recognizer.name)
                regroup |= result.recognition_metadata.setdefault(_ID, recognizer.id) != (
                    recognizer.id
                )
            results.extend(found or ())
        if regroup:
            results = self._by_recognizer(text, results, plan, nlp_artifacts)
        results = self._enhance_using_context(results, plan, nlp_artifacts, language)
        kept = [result for result in results if result.score >= score_threshold]
        kept = EntityRecognizer.remove_duplicates(kept)
        for result in kept:
            result.analysis_explanation = None
        return kept

    @staticmethod
    def _by_recognizer(
        text: str, results: list[RecognizerResult], plan: _Plan, artifacts: NlpArtifacts
    ) -> list[RecognizerResult]:
        """Presidio's recognizer-level context step: results grouped by recognizer, each's own."""
        ordered: list[RecognizerResult] = []
        for recognizer in plan.recognizers:
            own = [r for r in results if r.recognition_metadata[_ID] == recognizer.id]
            if type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context:
                others = [r for r in results if r.recognition_metadata[_ID] != recognizer.id]
                own = recognizer.enhance_using_context(
                    text=text,
                    raw_recognizer_results=own,
                    other_raw_recognizer_results=others,
                    nlp_artifacts=artifacts,
                    context=None,
                )
            ordered.extend(own)
        return ordered

    def _enhance_using_context(
        self,
        results: list[RecognizerResult],
        plan: _Plan,
        artifacts: NlpArtifacts,
        language: str,
    ) -> list[RecognizerResult]:
        """Presidio's lemma-based context enhancement, on these results."""
        by_id = plan.by_id
        words: _ContextWords | None = None
        for result in results:
            recognizer = by_id.get((result.recognition_metadata or {}).get(_ID))
            if recognizer is None or not recognizer.context:
                continue
            if result.recognition_metadata.get(_BOOSTED):
                continue
            if words is None:
                words = _ContextWords(artifacts, self._pieces_of(language, artifacts))
            if self._has_context_word(words, artifacts, result.start, recognizer.context):
                result.score += self._factor
                result.score = max(result.score, self._floor)
                result.score = min(result.score, 1.0)
        return results

    def _has_context_word(
        self, words: _ContextWords, artifacts: NlpArtifacts, start: int, context: list[str]
    ) -> bool:
        """Whether one of `context` is inside a keyword near the token at `start`."""
        if not artifacts.tokens:
            surrounding = [""]
        else:
            index = words.token_at(start)
            lemmas, keywords = artifacts.lemmas, words.keywords
            surrounding = _collect(lemmas, keywords, index, self._before, -1)
            surrounding += _collect(lemmas, keywords, index, self._after, 1)
        # Presidio takes the first context word found in a keyword, and boosts if it is not "".
        nearby = [keyword.lower() for keyword in set(surrounding)]
        for word in context:
            if any(word.lower() in keyword for keyword in nearby):
                return word != ""
        return False


def _collect(
    lemmas: Sequence[str], keywords: frozenset[str], index: int, count: int, step: int
) -> list[str]:
    """Presidio's `_add_n_words`: from `index` on, up to count + 1 lower-cased keywords."""
    collected: list[str] = []
    remaining = count + 1
    i = index
    while 0 <= i < len(lemmas) and remaining > 0:
        lemma = lemmas[i].lower()
        if lemma in keywords:
            collected.append(lemma)
            remaining -= 1
        i += step
    return collected


def _plain_pattern_recognizer(recognizer: EntityRecognizer) -> bool:
    """A PatternRecognizer whose matching is Presidio's own (only its validation may differ)."""
    kind = type(recognizer)
    return (
        isinstance(recognizer, PatternRecognizer)
        and kind.analyze is PatternRecognizer.analyze
        and getattr(kind, "_PatternRecognizer__analyze_patterns", None)
        is getattr(PatternRecognizer, "_PatternRecognizer__analyze_patterns", None)
    )


def run_patterns(recognizer: PatternRecognizer, text: str) -> list[RecognizerResult]:
    """`PatternRecognizer.analyze(text, ...)` without its per-pattern clock and debug log.

    Step for step Presidio's `__analyze_patterns` (2.2): the recognizer's global flags,
    empty matches skipped, `validate_result` turning the score to 1 or 0,
    `invalidate_result` to 0, zero scores dropped, then `remove_duplicates`.
    """
    flags = recognizer.global_regex_flags
    entity = recognizer.supported_entities[0]
    results: list[RecognizerResult] = []
    for pattern in recognizer.patterns:
        if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
            pattern.compiled_with_flags = flags
            pattern.compiled_regex = regex.compile(pattern.regex, flags=flags)
        try:
            for match in pattern.compiled_regex.finditer(text, timeout=REGEX_TIMEOUT_SECONDS):
                start, end = match.span()
                value = text[start:end]
                if value == "":
                    continue
                validation = recognizer.validate_result(value)
                explanation = recognizer.build_regex_explanation(
                    recognizer.name, pattern.name, pattern.regex, pattern.score, validation, flags
                )
                result = RecognizerResult(
                    entity_type=entity,
                    start=start,
                    end=end,
                    score=pattern.score,
                    analysis_explanation=explanation,
                    recognition_metadata={_NAME: recognizer.name, _ID: recognizer.id},
                )
                if validation is not None:
                    result.score = (
                        EntityRecognizer.MAX_SCORE if validation else EntityRecognizer.MIN_SCORE
                    )
                if recognizer.invalidate_result(value):
                    result.score = EntityRecognizer.MIN_SCORE
                if result.score > EntityRecognizer.MIN_SCORE:
                    results.append(result)
                explanation.score = result.score
        except TimeoutError:
            logger.warning(
                "Regex pattern %r of %s timed out after %s seconds, skipped.",
                pattern.name,
                recognizer.name,
                REGEX_TIMEOUT_SECONDS,
            )
    # Presidio's duplicate removal keeps a lone result (its score is above 0) as it is.
    return EntityRecognizer.remove_duplicates(results) if len(results) > 1 else results
