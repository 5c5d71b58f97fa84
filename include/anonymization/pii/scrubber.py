"""Scrub free text: detect personal data, merge overlapping detections, put placeholders.

Two paths give the same result, text for text:
- `scrub_text` (the reference): Presidio's `AnalyzerEngine.analyze` runs the
  trimmed spaCy pipeline on one text, then every recognizer.
- `scrub_texts` (the fast one): spaCy's `nlp.pipe` tokenizes and tags a whole
  batch at once, then the same recognizers run once per text on the
  precomputed `NlpArtifacts`, through `lean_analysis` (Presidio's analyze
  without the work whose outcome is known in advance). With `processes > 1`
  and enough texts, chunks of the batch are spread over worker processes
  (forked from this one, so they share the already-loaded model), each running
  that same batched path.

The workers start with the first batch that is large enough to use them, not
before: a scrub task or `civic scrub` run on a few texts never forks at all
(forking costs little here, but each worker then copies the pages it touches
of a ~300 MB process, and the machine has two cores for everyone).

A worker that dies mid-batch (the kernel's OOM killer, a stray `kill -9`) fails
the batch at once with `ScrubWorkerLostError`, rather than leaving it waiting
forever for a chunk nobody will return: the workers are a `ProcessPoolExecutor`,
which notices a dead worker, not a `multiprocessing.Pool`, which replaces it and
loses its chunk. Nothing of the batch is kept, so the task fails and its retry
scrubs it again.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from presidio_analyzer import AnalyzerEngine, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from include.anonymization.pii.analyzer import WARM_UP_TEXT, build_analyzer
from include.anonymization.pii.entities import (
    DEFAULT_THRESHOLD,
    ENTITY_TYPES,
    SUPPORTED_LANGUAGES,
    Entity,
)
from include.anonymization.pii.errors import ScrubWorkerLostError
from include.anonymization.pii.language import detect_language
from include.anonymization.pii.lean_analysis import LeanAnalyzer
from include.anonymization.pii.nlp import DEFAULT_MODEL, InstalledSpacyNlpEngine
from include.anonymization.pii.redaction import propagate_names, redact, resolve_overlaps

# Below this score a detection is dropped. Every recognizer here scores 0.5 or more
# on its own (checksum-verified identifiers 1.0); context words add 0.35.
DEFAULT_BATCH_SIZE = 64
# Under this many texts per worker, starting to use the pool costs more than it saves.
MIN_TEXTS_PER_PROCESS = 2 * DEFAULT_BATCH_SIZE


@dataclass(frozen=True)
class ScrubResult:
    """A scrubbed text (None stays None) and what was found in the ORIGINAL text."""

    text: str | None
    entities: tuple[Entity, ...]
    language: str | None = None


@dataclass(frozen=True)
class ScrubSettings:
    """What decides a scrubber's output: equal settings, equal results."""

    threshold: float = DEFAULT_THRESHOLD
    entities: tuple[str, ...] = ENTITY_TYPES
    model: str = DEFAULT_MODEL


def _needs_scrubbing(text: str | None) -> bool:
    return bool(text and not text.isspace())


def _checked_language(language: str | None) -> str | None:
    """`language` if the scrubber supports it, None if it is to be detected."""
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"unsupported language {language!r}; use one of {list(SUPPORTED_LANGUAGES)} "
            "or leave it out to detect it"
        )
    return language


class Scrubber:
    """Detects and redacts personal data in French (and English) free text.

    Build one per process and reuse it: the analyzer behind it is cached, the
    worker pool lives from the first batch that needs it until `close()` or the
    end of a `with` block. Workers are forked: do not hold a lock in a thread of
    your own while calling `scrub_texts`.
    """

    def __init__(
        self,
        settings: ScrubSettings | None = None,
        *,
        processes: int = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if processes < 1 or batch_size < 1:
            raise ValueError(
                f"processes and batch_size must be at least 1, got {processes} and {batch_size}"
            )
        self.settings = settings or ScrubSettings()
        unknown = sorted(set(self.settings.entities) - set(ENTITY_TYPES))
        if unknown:
            raise ValueError(f"unknown entity types {unknown}; known: {list(ENTITY_TYPES)}")
        self.processes = processes
        self.batch_size = batch_size
        started = time.perf_counter()
        self._analyzer: AnalyzerEngine = build_analyzer(self.settings.model)
        self._lean = LeanAnalyzer.for_engine(self._analyzer)
        self._pool: ProcessPoolExecutor | None = None
        # Seconds spent getting ready (analyzer, warm-up, workers' fork) rather than
        # scrubbing: what a short task pays before its first text (the scale benchmark's
        # start-up share).
        self.startup_seconds = time.perf_counter() - started
        self._startup_counted = 0.0

    def uncounted_startup_seconds(self) -> float:
        """The start-up seconds not yet counted by a caller, which are then counted: a task
        that scrubs several chunks with one scrubber reports its start-up once."""
        uncounted = self.startup_seconds - self._startup_counted
        self._startup_counted = self.startup_seconds
        return uncounted

    @property
    def pool_started(self) -> bool:
        """Whether worker processes are running (only once a batch was large enough)."""
        return self._pool is not None

    def _uses_pool(self, texts: int) -> bool:
        """Below `MIN_TEXTS_PER_PROCESS` texts per worker, this process alone is faster."""
        return self.processes > 1 and texts >= self.processes * MIN_TEXTS_PER_PROCESS

    @property
    def _engine(self) -> InstalledSpacyNlpEngine:
        return self._analyzer.nlp_engine  # type: ignore[return-value]

    # -- one text: the reference path -------------------------------------------------------

    def scrub_text(self, text: str | None, language: str | None = None) -> ScrubResult:
        """Scrub one text, running spaCy on it alone (the unbatched reference path)."""
        if not _needs_scrubbing(text):
            return ScrubResult(text, ())
        assert text is not None
        language = self._language(text, language)
        results = self._analyzer.analyze(
            text,
            language,
            entities=list(self.settings.entities),
            score_threshold=self.settings.threshold,
        )
        return self._result(text, language, results)

    # -- many texts: the fast path ----------------------------------------------------------

    def scrub_texts(
        self, texts: Sequence[str | None], langs: Sequence[str | None] | None = None
    ) -> list[ScrubResult]:
        """Scrub a batch; result i belongs to texts[i]. None and blank texts pass through.

        `langs[i]` ('fr' or 'en') skips language detection for text i; None detects it.
        """
        if langs is not None and len(langs) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(langs)} languages")
        # Given languages are checked here; the others are detected where the text is scrubbed
        # (in the workers, side by side, rather than here before they start).
        languages = [
            _checked_language(langs[i]) if langs and _needs_scrubbing(text) else None
            for i, text in enumerate(texts)
        ]
        if self._uses_pool(len(texts)):
            chunks = [
                (texts[start:end], languages[start:end])
                for start, end in self._chunk_bounds(len(texts))
            ]
            pool = self._worker_pool()
            try:
                return [
                    result for chunk in pool.map(_scrub_chunk_in_worker, chunks) for result in chunk
                ]
            except BrokenProcessPool as exc:
                self.close()  # a broken pool takes no more work: the next batch starts anew
                raise ScrubWorkerLostError(
                    f"a scrub worker process died in a batch of {len(texts):,} texts (killed "
                    "by a signal, or by the kernel when memory ran out: see `dmesg`); none of "
                    "the batch was kept, so a rerun is safe (runbook: "
                    "docs/runbooks/dag-run-failed.md)"
                ) from exc
        return self._scrub_batch(texts, languages)

    def _chunk_bounds(self, count: int) -> list[tuple[int, int]]:
        """Chunks of at most `batch_size` texts, as many as a multiple of the workers, even.

        The run ends when the last worker's last chunk does: with equal chunks the
        workers end together (a last chunk of 40 texts beside chunks of 64 left one
        core idle for a twentieth of a 1,000-text run).
        """
        chunks = -(-count // self.batch_size)
        chunks += -chunks % self.processes
        size, larger = divmod(count, chunks)
        bounds, start = [], 0
        for index in range(chunks):
            end = start + size + (index < larger)
            bounds.append((start, end))
            start = end
        return bounds

    def _scrub_batch(
        self, texts: Sequence[str | None], languages: Sequence[str | None]
    ) -> list[ScrubResult]:
        """Batched path in this process: one nlp.pipe over the texts that need it.

        `languages[i]` is a checked language, or None to detect it.
        """
        todo = [i for i, text in enumerate(texts) if _needs_scrubbing(text)]
        results = [ScrubResult(text, ()) for text in texts]
        docs = self._engine.docs((texts[i] for i in todo), batch_size=self.batch_size)
        for i, doc in zip(todo, docs, strict=True):
            text = texts[i]
            assert text is not None
            language = languages[i] or detect_language(text)
            found = self._analyze_tagged(text, language, self._engine.artifacts(doc, language))
            results[i] = self._result(text, language, found)
        return results

    def _analyze_tagged(
        self, text: str, language: str, artifacts: NlpArtifacts
    ) -> list[RecognizerResult]:
        """Presidio's analyze on an already tagged text, through the lean path where it can."""
        if self._lean is None:
            return self._analyzer.analyze(
                text,
                language,
                entities=list(self.settings.entities),
                score_threshold=self.settings.threshold,
                nlp_artifacts=artifacts,
            )
        return self._lean.analyze(
            text, language, self.settings.entities, self.settings.threshold, artifacts
        )

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _language(text: str | None, language: str | None) -> str:
        return _checked_language(language) or detect_language(text or "")

    @staticmethod
    def _result(text: str, language: str, found: list[RecognizerResult]) -> ScrubResult:
        entities = resolve_overlaps([*found, *propagate_names(text, found, language)])
        return ScrubResult(redact(text, entities), tuple(entities), language)

    def start_workers(self) -> None:
        """Start the worker processes now rather than with the first large batch.

        For a caller that knows a large input is coming and wants the fork to happen
        at a moment of its choosing (before it starts threads of its own, or outside
        a timed section); with `processes=1` there is nothing to start.
        """
        if self.processes > 1:
            self._worker_pool()

    def _worker_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            started = time.perf_counter()
            # Whatever the scrub path loads on first use (the French lexicon behind the name
            # checks: 0.2 s and ~90 MB) is loaded once here, then shared by every worker.
            self._scrub_batch([WARM_UP_TEXT], [detect_language(WARM_UP_TEXT)])
            # Forked workers inherit the loaded model (seconds saved per worker); where fork
            # does not exist, each worker builds its own scrubber in the initializer.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.settings, self.batch_size),
            )
            with _frozen_heap():
                # Forked workers all start with the first call (the pool forks them before
                # its own thread starts): now, so start-up holds the fork and the initializer.
                self._pool.submit(os.getpid).result()
            self.startup_seconds += time.perf_counter() - started
        return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> Scrubber:
        """Nothing starts here: the workers start with the first batch that needs them."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Hide every object this process holds from the cyclic garbage collector of the
    workers forked meanwhile; the parent's collector sees them again afterwards.

    A forked worker's first full collection would otherwise walk every object it
    inherited (132,000 once the model is loaded; 584,000 beside Airflow or a second
    model) and write to each one's header, so copying most of the parent's heap
    pages: 67 MB of private memory per worker instead of 34 MB, and up to 0.4 s of a
    1,000-text batch (`make bench`). Python's documented remedy (`gc.freeze`), as
    Airflow's own LocalExecutor forks its workers. Objects a caller froze before stay
    frozen.
    """
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()


_worker_scrubber: Scrubber | None = None


def _start_worker(settings: ScrubSettings, batch_size: int) -> None:
    global _worker_scrubber
    # A forked worker inherits its parent's SIGTERM handler (Airflow's task runner sets
    # one), which may not stop it; then the pool cannot stop a worker stuck writing a
    # result nobody reads any more once another worker died, and waits for it forever.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _worker_scrubber = Scrubber(settings, processes=1, batch_size=batch_size)


def _scrub_chunk_in_worker(
    chunk: tuple[Sequence[str | None], Sequence[str | None]],
) -> list[ScrubResult]:
    assert _worker_scrubber is not None, "worker used before its initializer ran"
    texts, languages = chunk
    return _worker_scrubber._scrub_batch(texts, languages)
