"""Whether a word is an ordinary English word, from Explosion's English word frequencies.

Only French spaCy models are pinned, so English submissions are read by the French
pipeline and their name words judged by the French lexicon (`french_lexicon`), which
knows no English. On Presidio's own labelled English set (`presidio_reference_set`)
147 of the scrubber's 1,671 detections fell on no labelled value, all of them PERSON:
"He just turned 69", "please block card ...", "Billing address", "Pedestrians must
enter ...", titles in capitals ("Labor Day", "Guilty Pleasures", "Civil Rights").

The English lexicon is the `en_lexeme_prob` table of the pinned `spacy-lookups-data`
package (Explosion, MIT): the log-probability of a million English word forms, case
kept, that spaCy's English models were built with. The rule is the French one: a
word is ordinary when its lower-case form is frequent and its capitalised form is
absent or `capital_rarity` times rarer. "turned" is 37 times more frequent than
"Turned", "Labor" 7 times rarer than "labor"; "Baker" is more frequent than "baker"
and "Brown" within a factor of 1.5 of "brown", so surnames that are also words stay
names. Frequent means a log-probability of at least -16, the 93,000 most frequent
forms: below it are mostly names and foreign words met a few times in lower case
("asya", "borna", "godina"), which would otherwise count as words with no capital.

The name rules ask it in English texts only (`is_ordinary_word`): applied to French
texts it cost five of WikiNEuRal's person names ("Sue Wicks", "Snowy White", "Pie
IX") and spared no citizen text a redaction.

Parsing the table takes 0.6 s, more than a scrub process may spend starting. What
the rule needs, the hash of each frequent lower-case form and how much more frequent
it is than its capitalised form, is kept as two arrays in the virtualenv's cache
(`owner_cache`) and read from there in milliseconds.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import marshal
import math
from pathlib import Path

import numpy as np
import srsly
from spacy.strings import get_string_id

from include.anonymization.pii.language import ENGLISH
from include.anonymization.pii.owner_cache import (
    UnusableCacheError,
    cache_dir,
    read_owned,
    write_owned,
)
from include.anonymization.pii.recognizers.first_names import is_first_name
from include.anonymization.pii.recognizers.french_lexicon import (
    CAPITAL_RARITY,
    hashed_lookup,
    is_common_word,
)

logger = logging.getLogger(__name__)

SOURCE_PACKAGE = "spacy-lookups-data"
SOURCE_TABLE = "en_lexeme_prob.json.gz"
# The least log-probability of a frequent form (module doc).
FREQUENT = -16.0
_FORMAT = 1


def build_table() -> tuple[np.ndarray, np.ndarray]:
    """(sorted hashes of the frequent lower-case forms, each one's log-lead over its
    capitalised form; +inf where that form is absent), from the package's table."""
    # Imported here: it lists its files on import (14 ms), needed only when the cache is not.
    import spacy_lookups_data

    probabilities: dict[str, float] = srsly.read_gzip_json(
        spacy_lookups_data.get_file(SOURCE_TABLE)
    )
    keys, leads = [], []
    for form, log_probability in probabilities.items():
        if log_probability < FREQUENT or not form.islower():
            continue
        capitalised = probabilities.get(form.capitalize())
        keys.append(get_string_id(form))
        leads.append(math.inf if capitalised is None else log_probability - capitalised)
    hashes = np.array(keys, dtype=np.uint64)
    order = np.argsort(hashes)
    return hashes[order], np.array(leads, dtype=np.float32)[order]


def _cache_key() -> tuple[object, ...]:
    return (_FORMAT, importlib.metadata.version(SOURCE_PACKAGE), SOURCE_TABLE, FREQUENT)


def default_cache_file() -> Path | None:
    """`<venv>/var/cache/civic/english-lexicon.bin`, or None outside a virtualenv."""
    directory = cache_dir()
    return None if directory is None else directory / "english-lexicon.bin"


def write_cache(path: Path, keys: np.ndarray, leads: np.ndarray) -> None:
    """Store the table at `path` (see `owner_cache`)."""
    write_owned(path, marshal.dumps((_cache_key(), keys.tobytes(), leads.tobytes())))


def read_cache(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The table stored at `path` for this package version, or UnusableCacheError."""
    payload = read_owned(path)
    try:
        # Written by this user and intact (read_owned). marshal is only unsafe on foreign data.
        key, keys, leads = marshal.loads(payload)  # noqa: S302
    except (ValueError, EOFError, TypeError) as exc:
        raise UnusableCacheError(f"{path} has an unknown layout ({exc})") from None
    if key != _cache_key() or len(keys) != 2 * len(leads):
        raise UnusableCacheError(f"{path} was made from another table or layout")
    return np.frombuffer(keys, dtype=np.uint64), np.frombuffer(leads, dtype=np.float32)


@functools.cache
def _table() -> tuple[np.ndarray, np.ndarray]:
    path = default_cache_file()
    if path is not None:
        try:
            return read_cache(path)
        except UnusableCacheError as exc:
            logger.debug("English lexicon rebuilt: %s", exc)
    keys, leads = build_table()
    if path is not None:
        try:
            write_cache(path, keys, leads)
        except OSError as exc:  # a read-only virtualenv: rebuilt in every process instead
            logger.info("the English lexicon is not cached in %s: %s", path, exc)
    return keys, leads


def is_common_english_word(word: str, capital_rarity: float = CAPITAL_RARITY) -> bool:
    """Whether `word` (any case) is an ordinary English word rather than a name (module doc).

    "turned", "Billing", "Labor" → True; "Baker", "Brown", "Asya", "Grace" (a known first
    name) → False.
    """
    lower = word.lower().strip(".'’-")
    if not lower or is_first_name(lower):
        return False
    lead = hashed_lookup(*_table(), lower)
    return lead is not None and float(lead) > math.log(capital_rarity)


def is_ordinary_word(word: str, language: str, capital_rarity: float = CAPITAL_RARITY) -> bool:
    """Whether `word` is an ordinary word of a text in `language`: of the French lexicon,
    or in an English text of the English one too (module doc)."""
    return is_common_word(word, capital_rarity) or (
        language == ENGLISH and is_common_english_word(word, capital_rarity)
    )
