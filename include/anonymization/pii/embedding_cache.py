"""The NER's word embeddings, computed once per distinct word instead of once per occurrence.

The first layer of fr_core_news_md's NER (`MultiHashEmbed`) turns each token into a
96-float vector from that token alone: four hashed tables (NORM, PREFIX, SUFFIX,
SHAPE), the static word vector of its ORTH, then a maxout and a layer norm over
the five. No neighbour and no sentence enters it (the context comes after, in
the window encoder), so a word always gets the same vector. Citizen texts reuse
a small vocabulary: about 30 % of a batch's tokens are distinct, and far fewer
across batches. Yet the layer recomputed the whole product for every
occurrence: about a tenth of the scrubber's time per text (measured: 0.26 of
2.65 ms).

`EmbeddingCache` keeps the vector of each distinct token (the five attributes
above, as one key) the first time it is seen and serves every later occurrence
from memory. It computes a batch's new words with the model's own layers and
weights (the hashed tables, the static vectors' projection, the maxout and its
layer norm), so a word's vector is the one spaCy computes, up to the rounding
of a matrix product over fewer rows (the tests hold it to 1e-5 and the entities
to identity). The cache is bounded (`capacity` words, about 400 bytes each):
once full, new words are computed every time, as before.

It serves inference only: training would need the gradients of every
occurrence, so the layer refuses `is_train`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vectors import Mode, Vectors
from thinc.api import Model
from thinc.types import Floats2d

# Distinct tokens kept (96 float32 each, plus the key): about 27 MB per process when full.
DEFAULT_CAPACITY = 65_536
_NAME = "cached_embed"


class EmbeddingCache:
    """The vectors of the distinct tokens seen so far, and how to compute a new one."""

    def __init__(self, embed: Model, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.embed = embed
        self.capacity = capacity
        features, static, mixer = _parts(embed)
        self.columns: list[int] = list(features.layers[0].attrs["columns"])
        self._hashed = features.layers[2].layers[0]  # concatenate(hashembed ×4) on Ints2d
        self._static = static
        self._mixer = mixer  # maxout >> layernorm >> dropout, on Floats2d
        self.width = embed.get_dim("nO")
        # Allocated once; pages are only touched as rows are written.
        self._rows = np.empty((capacity, self.width), dtype="float32")
        self._index: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._index)

    def vectors(self, docs: list[Doc]) -> list[Floats2d]:
        """Each doc's token vectors, as the embedding layer would return them."""
        lengths = [len(doc) for doc in docs]
        if not sum(lengths):
            return self.embed.predict(docs)
        vocab = docs[0].vocab
        key_attr = getattr(vocab.vectors, "attr", ORTH)  # as StaticVectors reads it
        features = np.concatenate([doc.to_array([*self.columns, key_attr]) for doc in docs])
        features = np.ascontiguousarray(features, dtype="uint64")
        keys = features.view(np.dtype((np.void, 8 * features.shape[1]))).ravel().tolist()
        index = self._index
        slots = np.fromiter((index.get(key, -1) for key in keys), dtype="int64", count=len(keys))
        missing = np.flatnonzero(slots < 0)
        if not len(missing):
            gathered = self._rows[slots]
        else:
            gathered = self._with_new(features, keys, slots, missing, vocab)
        return list(np.split(gathered, np.cumsum(lengths)[:-1]))

    def _with_new(
        self,
        features: np.ndarray,
        keys: list[bytes],
        slots: np.ndarray,
        missing: np.ndarray,
        vocab: Any,
    ) -> np.ndarray:
        """The batch's vectors, its new tokens computed once each and kept while there is room."""
        first: dict[bytes, int] = {}  # new key -> its rank among the batch's new keys
        ranks = np.fromiter(
            (first.setdefault(keys[position], len(first)) for position in missing),
            dtype="int64",
            count=len(missing),
        )
        positions = missing[np.unique(ranks, return_index=True)[1]]
        fresh = self._compute(features[positions], vocab)
        used = len(self._index)
        kept = min(self.capacity - used, len(fresh))
        if kept > 0:
            self._rows[used : used + kept] = fresh[:kept]
            self._index.update((key, used + rank) for key, rank in first.items() if rank < kept)
        gathered = self._rows[np.where(slots < 0, 0, slots)]
        gathered[missing] = fresh[ranks]
        return gathered

    def _compute(self, features: np.ndarray, vocab: Any) -> np.ndarray:
        """The embedding layer's output for distinct tokens given by their feature rows."""
        hashed = self._hashed.predict(self._hashed.ops.asarray2i(features[:, :-1], dtype="uint64"))
        mixed_input = np.concatenate([hashed, self._static_vectors(features[:, -1], vocab)], axis=1)
        return np.asarray(self._mixer.predict(mixed_input), dtype="float32")

    def _static_vectors(self, keys: np.ndarray, vocab: Any) -> np.ndarray:
        """spaCy's `StaticVectors` forward (default mode) on a flat array of keys."""
        ops = self._static.ops
        weights = cast(Floats2d, ops.as_contig(self._static.get_param("W")))
        found = vocab.vectors.find(keys=keys)
        table = ops.as_contig(ops.asarray(vocab.vectors.data)[found])
        projected = ops.gemm(table, weights, trans2=True)
        projected[found < 0] = 0
        return projected


def _parts(embed: Model) -> tuple[Model, Model, Model]:
    """The hashed-features chain, the static vectors and the mixer of a `MultiHashEmbed`
    built with static vectors; ValueError for any other shape."""
    try:
        combined, with_mixer, _ = embed.layers
        features, static = combined.layers
        mixer = with_mixer.layers[0]
        extractor = features.layers[0]
    except ValueError as exc:
        raise ValueError(f"not a MultiHashEmbed with static vectors: {embed.name}") from exc
    if static.name != "static_vectors" or "columns" not in extractor.attrs:
        raise ValueError(f"not a MultiHashEmbed with static vectors: {embed.name}")
    return features, static, mixer


def _forward(model: Model, docs: list[Doc], is_train: bool) -> tuple[list[Floats2d], Callable]:
    if is_train:
        raise RuntimeError("the cached embedding layer serves inference only")
    cache: EmbeddingCache = model.attrs["cache"]
    return cache.vectors(docs), _no_backprop


def _no_backprop(d_vectors: list[Floats2d]) -> list[Doc]:
    raise RuntimeError("the cached embedding layer serves inference only")


def cache_ner_embeddings(nlp: Language, capacity: int = DEFAULT_CAPACITY) -> EmbeddingCache | None:
    """Put an `EmbeddingCache` in front of the NER's embedding layer; None, changing nothing,
    when the model's NER is not built the way the cache reproduces (own tok2vec,
    `MultiHashEmbed` with static vectors, vectors in default mode)."""
    vectors = nlp.vocab.vectors
    if not isinstance(vectors, Vectors) or vectors.mode != Mode.default or not vectors.size:
        return None
    tok2vec = nlp.get_pipe("ner").model.layers[0].layers[0]
    if len(tok2vec.layers) != 2:
        return None
    try:
        cache = EmbeddingCache(tok2vec.layers[0], capacity)
    except ValueError:
        return None
    tok2vec.layers[0] = Model(
        _NAME,
        _forward,
        layers=[cache.embed],
        attrs={"cache": cache},
        dims={"nO": cache.width},
    )
    return cache
