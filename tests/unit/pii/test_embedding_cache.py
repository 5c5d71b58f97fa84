"""The NER's embedding cache gives the vectors and the entities the model gives without it."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Model

from include.anonymization.pii.embedding_cache import EmbeddingCache, cache_ner_embeddings
from include.anonymization.pii.nlp import load_ner_pipeline
from include.anonymization.pii.reference_corpora import (
    CITIZEN_TEXTS_FILE,
    REFERENCE_DIR,
    WIKINEURAL_FILE,
    read_citizen_texts,
    read_conll_sentences,
)
from include.sample.texts import labelled_corpus
from tests.unit.pii.reference_marks import needs_reference_corpora

# Texts whose tokens share an ORTH but not a NORM ("Mme"/"mme"), repeat within and across
# batches, are empty, blank, one character, or far outside the vectors' vocabulary.
ODD_TEXTS = [
    "",
    " \n ",
    "é",
    "Mme Dupont et mme dupont, MME DUPONT : Madame Dupont.",
    "Jean-Pierre Lefèvre-Martin 🙂 a écrit à jp.lefevre@exemple.fr depuis l'IP 10.0.0.1",
    "zzqxqj wwvvkk Xæøå ÐÞß 北京市 ‮reversed‬ " + "a" * 300,
    "Contact: John O'Neill, 221B Baker Street, London — call +44 20 7946 0958.",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    generated = [sample.text for sample in labelled_corpus(400, 31_337)]
    return ODD_TEXTS + generated + ODD_TEXTS


@pytest.fixture(scope="module")
def reference_nlp() -> Language:
    """The pipeline without the cache: the model's own embedding layer."""
    nlp = load_ner_pipeline()
    tok2vec = _tok2vec(nlp)
    tok2vec.layers[0] = tok2vec.layers[0].layers[0]
    return nlp


def _tok2vec(nlp: Language) -> Model:
    return nlp.get_pipe("ner").model.layers[0].layers[0]


def _entities(doc: Doc) -> list[tuple[int, int, str]]:
    return [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]


def _batches(nlp: Language, texts: list[str], size: int) -> list[list[Doc]]:
    return [[nlp.make_doc(t) for t in texts[i : i + size]] for i in range(0, len(texts), size)]


def test_the_scrubbers_pipeline_has_the_cache() -> None:
    assert _tok2vec(load_ner_pipeline()).layers[0].name == "cached_embed"


@pytest.mark.parametrize("capacity", [65_536, 300, 1])
def test_vectors_equal_the_models_own(
    reference_nlp: Language, texts: list[str], capacity: int
) -> None:
    """Full, filling up, and full from the first batch: the same vectors every time."""
    embed = _tok2vec(reference_nlp).layers[0]
    cache = EmbeddingCache(embed, capacity)
    distinct = set()
    for batch in _batches(reference_nlp, texts, 37):
        for doc in batch:
            distinct.update(map(tuple, doc.to_array(["NORM", "PREFIX", "SUFFIX", "SHAPE", "ORTH"])))
        expected = embed.predict(batch)
        got = cache.vectors(batch)
        assert [v.shape for v in got] == [v.shape for v in expected]
        for mine, theirs in zip(got, expected, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-5)
        assert len(cache) <= capacity
    assert len(cache) == min(capacity, len(distinct))


def test_a_repeated_word_is_computed_once(reference_nlp: Language) -> None:
    embed = _tok2vec(reference_nlp).layers[0]
    cache = EmbeddingCache(embed)
    cache.vectors(_batches(reference_nlp, ["la rue, la rue, la rue"], 1)[0])
    assert len(cache) == 3  # "la", "rue", ","


def test_the_same_entities_as_without_the_cache(reference_nlp: Language, texts: list[str]) -> None:
    cached = load_ner_pipeline()
    expected = [_entities(doc) for doc in reference_nlp.pipe(texts, batch_size=64)]
    assert [_entities(doc) for doc in cached.pipe(texts, batch_size=64)] == expected
    assert sum(map(len, expected)) > len(texts)  # the comparison has names to compare


@pytest.mark.slow
@needs_reference_corpora
def test_the_same_entities_on_public_text(reference_nlp: Language) -> None:
    """Sentences and citizen proposals written elsewhere, not by the project's generator."""
    texts = [s.text for s in read_conll_sentences(REFERENCE_DIR / WIKINEURAL_FILE, limit=1500)]
    texts += [t.text for t in read_citizen_texts(REFERENCE_DIR / CITIZEN_TEXTS_FILE)]
    cached = load_ner_pipeline()
    expected = [_entities(doc) for doc in reference_nlp.pipe(texts, batch_size=64)]
    assert [_entities(doc) for doc in cached.pipe(texts, batch_size=64)] == expected


def test_training_is_refused() -> None:
    nlp = load_ner_pipeline()
    with pytest.raises(RuntimeError, match="inference only"):
        _tok2vec(nlp).layers[0].begin_update([nlp.make_doc("Jean Dupont")])


def test_a_model_without_static_vectors_is_left_alone() -> None:
    nlp = spacy.blank("fr")
    nlp.add_pipe("ner").add_label("PER")
    nlp.initialize()
    before = _tok2vec(nlp).layers[0] if len(_tok2vec(nlp).layers) else None
    assert cache_ner_embeddings(nlp) is None
    assert (_tok2vec(nlp).layers[0] if before is not None else None) is before
