"""The Scrubber's API: pass-through values, languages, settings; one result whatever the path."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator

import psutil
import pytest
import spacy
from spacy.tokens import Doc

from include.anonymization.pii import (
    ModelNotInstalledError,
    Scrubber,
    ScrubSettings,
    ScrubWorkerLostError,
)
from include.anonymization.pii.blas import use_single_threaded_openblas
from include.anonymization.pii.language import detect_language
from include.anonymization.pii.nlp import DEFAULT_MODEL, components_for_ner, load_ner_pipeline
from include.sample.texts import labelled_corpus

CORPUS_SEED = 4242


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    # More than 2 processes x 128 texts, so that the parallel path really forks.
    return [sample.text for sample in labelled_corpus(300, CORPUS_SEED)]


def test_none_empty_and_blank_texts_pass_through(scrubber: Scrubber) -> None:
    results = scrubber.scrub_texts([None, "", "  \n", "Tél : 06 12 34 56 78"])
    assert [r.text for r in results] == [None, "", "  \n", "Tél : <PHONE_NUMBER>"]
    assert [len(r.entities) for r in results] == [0, 0, 0, 1]


def test_batched_path_equals_the_unbatched_path(
    scrubber: Scrubber, corpus_texts: list[str]
) -> None:
    batched = scrubber.scrub_texts(corpus_texts)
    assert batched == [scrubber.scrub_text(text) for text in corpus_texts]
    assert sum(len(r.entities) for r in batched) > 200  # the corpus really carries PII


@pytest.mark.slow
def test_worker_processes_give_the_same_results(
    scrubber: Scrubber, corpus_texts: list[str]
) -> None:
    with Scrubber(processes=2, batch_size=32) as parallel:
        assert parallel.scrub_texts(corpus_texts) == scrubber.scrub_texts(corpus_texts)
        assert parallel.pool_started  # the batch was large enough: the workers did scrub it


def test_a_small_batch_is_scrubbed_without_starting_worker_processes(
    scrubber: Scrubber, corpus_texts: list[str]
) -> None:
    few = corpus_texts[:20]
    with Scrubber(processes=2) as parallel:
        assert not parallel.pool_started  # entering the block forks nothing
        assert parallel.scrub_texts(few) == scrubber.scrub_texts(few)
        assert not parallel.pool_started


def test_workers_start_on_request_and_stop_with_the_block() -> None:
    single = Scrubber(processes=1)
    single.start_workers()
    assert not single.pool_started  # one process: nothing to start
    with Scrubber(processes=2) as parallel:
        built = parallel.startup_seconds
        parallel.start_workers()
        assert parallel.pool_started
        # Warm-up and fork are start-up, counted once: a second request starts nothing.
        assert parallel.startup_seconds > built >= 0
        ready = parallel.startup_seconds
        parallel.start_workers()
        assert parallel.startup_seconds == ready
        # A task that scrubs several chunks with one scrubber counts its start-up once.
        assert parallel.uncounted_startup_seconds() == ready
        assert parallel.uncounted_startup_seconds() == 0
    assert not parallel.pool_started


def test_workers_inherit_the_heap_hidden_from_their_garbage_collector() -> None:
    """A worker's collector never walks what it inherited (walking it copies the pages the
    fork shares); the parent's collector still sees its own objects afterwards."""
    assert gc.get_freeze_count() == 0
    with Scrubber(processes=2) as parallel:
        parallel.start_workers()
        assert parallel._pool is not None
        inherited = parallel._pool.submit(gc.get_freeze_count).result()
        assert inherited > 0.9 * len(gc.get_objects())
        assert gc.get_freeze_count() == 0


def _kill_a_worker_once_busy(worker: multiprocessing.Process) -> None:
    """SIGKILL the worker once it has spent 0.3 s of CPU more than now: it holds a chunk."""
    process = psutil.Process(worker.pid)

    def cpu_seconds() -> float:
        times = process.cpu_times()
        return times.user + times.system

    idle = cpu_seconds()
    while cpu_seconds() < idle + 0.3:
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)


@pytest.fixture
def sigterm_as_under_airflow() -> Iterator[None]:
    """SIGTERM handled as Airflow's task runner handles it: its handler acts in the task's
    own process only and returns in any other, so a forked child that inherits it ignores
    SIGTERM (nothing sends one to this process during the test)."""
    parent = os.getpid()

    def on_term(signum: int, frame: object) -> None:
        if os.getpid() != parent:
            return

    previous = signal.signal(signal.SIGTERM, on_term)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.slow
@pytest.mark.timeout(120, method="thread")  # a pool that waits forever hangs at exit too
@pytest.mark.usefixtures("sigterm_as_under_airflow")
def test_a_worker_killed_mid_batch_fails_the_batch_at_once_and_the_next_batch_runs(
    scrubber: Scrubber, corpus_texts: list[str]
) -> None:
    """The OOM killer's case: a worker dies holding a chunk. A pool that waits for that
    chunk waits forever (and a scrub task with it); the batch must fail instead.

    The surviving worker inherits a SIGTERM handler that does nothing, as under Airflow:
    the pool must still stop it (it may be stuck writing a result nobody reads)."""
    many = corpus_texts * 10  # ~4 s of scrubbing on two workers: killed long before the end
    # Chunks of 256 texts: a chunk's results outgrow a pipe's buffer, as a chunk's do in a
    # scrub task, so the survivor blocks writing them once the pool stopped reading.
    with Scrubber(processes=2, batch_size=256) as parallel:
        parallel.start_workers()
        before = multiprocessing.active_children()
        assert len(before) == 2
        outcome: list[BaseException | int] = []

        def scrub() -> None:
            try:
                outcome.append(len(parallel.scrub_texts(many)))
            except BaseException as exc:  # handed to the test's thread
                outcome.append(exc)

        worker = threading.Thread(target=scrub, daemon=True)
        worker.start()
        _kill_a_worker_once_busy(before[0])
        worker.join(timeout=60)
        assert not worker.is_alive(), "the batch still waits for the killed worker's chunk"
        [lost] = outcome
        assert isinstance(lost, ScrubWorkerLostError), lost
        assert not parallel.pool_started  # the broken workers are gone
        # The next batch starts workers anew and is scrubbed whole.
        assert parallel.scrub_texts(corpus_texts) == scrubber.scrub_texts(corpus_texts)
        assert parallel.pool_started
    assert not set(before) & set(multiprocessing.active_children())


def test_offsets_point_into_the_original_text(scrubber: Scrubber) -> None:
    text = "Né le 3 janvier 1985, M. Diallo (SIREN 732 829 320) a garé AB-123-CD."
    result = scrubber.scrub_text(text)
    assert {(e.type, text[e.start : e.end]) for e in result.entities} >= {
        ("DATE_OF_BIRTH", "3 janvier 1985"),
        ("FR_SIREN", "732 829 320"),
        ("FR_LICENSE_PLATE", "AB-123-CD"),
    }


def test_languages_are_detected_or_taken_from_the_caller(scrubber: Scrubber) -> None:
    texts = ["Hello, please call me back on 06 12 34 56 78.", "Rappelez-moi au 06 12 34 56 78."]
    assert [r.language for r in scrubber.scrub_texts(texts)] == ["en", "fr"]
    assert [r.language for r in scrubber.scrub_texts(texts, ["fr", None])] == ["fr", "fr"]
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        scrubber.scrub_texts(texts, ["de", None])
    with pytest.raises(ValueError, match="2 texts but 1 languages"):
        scrubber.scrub_texts(texts, ["fr"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le lampadaire de la rue est cassé depuis une semaine, merci.", "fr"),
        ("The streetlight has been off for a week, thank you.", "en"),
        ("AB-123-CD", "fr"),  # nothing to go by: the platform's language
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_the_threshold_drops_weak_detections() -> None:
    text = "La 1234 AB 75 est là."  # an old-format plate, no context word: score 0.5
    assert [e.type for e in Scrubber().scrub_text(text).entities] == ["FR_LICENSE_PLATE"]
    assert Scrubber(ScrubSettings(threshold=0.6)).scrub_text(text).entities == ()


def test_only_the_requested_entity_types_are_redacted() -> None:
    only_emails = Scrubber(ScrubSettings(entities=("EMAIL_ADDRESS",)))
    result = only_emails.scrub_text("Inès Roux, ines.roux@orange.fr, 06 12 34 56 78")
    assert result.text == "Inès Roux, <EMAIL_ADDRESS>, 06 12 34 56 78"


def test_unknown_entity_types_and_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown entity types \\['PASSPORT'\\]"):
        Scrubber(ScrubSettings(entities=("PASSPORT",)))
    with pytest.raises(ValueError, match="at least 1"):
        Scrubber(processes=0)


def test_a_missing_model_fails_with_what_to_do() -> None:
    with pytest.raises(ModelNotInstalledError, match=r"not installed.*never downloads"):
        load_ner_pipeline("fr_core_news_sm")  # not pinned, not installed


def test_only_the_components_ner_needs_are_loaded() -> None:
    nlp = load_ner_pipeline()
    assert nlp.pipe_names == ["ner"]  # fr_core_news_md's ner has its own tok2vec
    assert len(nlp.vocab.strings) < 10_000  # not the model's 700,000-string table
    listening = {
        "components": {
            "tok2vec": {"factory": "tok2vec"},
            "parser": {"factory": "parser"},
            "ner": {"model": {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1"}}},
        }
    }
    assert components_for_ner(listening) == ["ner", "tok2vec"]


@pytest.mark.slow
def test_the_string_table_changes_no_entity(corpus_texts: list[str]) -> None:
    """The string table only turns hashes back into text: NER must not depend on it."""
    trimmed = load_ner_pipeline()
    with_strings = spacy.load(DEFAULT_MODEL)
    with_strings.select_pipes(enable=trimmed.pipe_names)
    use_single_threaded_openblas(with_strings)  # the same matrix products on both sides
    assert len(with_strings.vocab.strings) > 100_000
    assert [_entities(doc) for doc in trimmed.pipe(corpus_texts)] == [
        _entities(doc) for doc in with_strings.pipe(corpus_texts)
    ]


def _entities(doc: Doc) -> list[tuple[int, int, str]]:
    return [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
