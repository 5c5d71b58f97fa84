"""Tell French from English by their commonest words.

Submissions are French or English; telling those two apart needs no model: a
couple of sentences always contain several of each language's function words.
The language only chooses the context words Presidio matches, the patterns and
the NER being the same for both, so a wrong guess on a two-word text costs
nothing. Ties (and texts with neither) are French, the platform's language.
"""

from __future__ import annotations

import re

FRENCH = "fr"
ENGLISH = "en"

_FRENCH = (
    "le", "la", "les", "de", "des", "du", "un", "une", "et", "est", "sont", "je", "j", "il",
    "elle", "nous", "vous", "ils", "on", "que", "qui", "ne", "pas", "dans", "pour", "sur", "au",
    "aux", "avec", "ce", "cette", "ces", "mon", "ma", "mes", "notre", "nos", "votre", "vos",
    "leur", "depuis", "merci", "bonjour", "très", "plus", "mais", "ou", "où", "été", "fait",
    "être", "avoir", "a", "à", "chez", "sans", "rue",
)  # fmt: skip
_FRENCH_WORDS = frozenset(_FRENCH)
_ENGLISH = (
    "the", "and", "is", "are", "was", "were", "be", "been", "i", "you", "he", "she", "we",
    "they", "it", "its", "my", "our", "your", "their", "this", "that", "these", "those", "of",
    "to", "in", "on", "at", "for", "with", "from", "by", "not", "no", "please", "thank",
    "thanks", "hello", "have", "has", "had", "there", "here", "would", "could", "since",
    "street",
)  # fmt: skip
_ENGLISH_WORDS = frozenset(_ENGLISH)
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str:
    """'fr' or 'en', whichever language's function words are more frequent in `text`."""
    french = english = 0
    for word in _WORD.findall(text.lower()):
        french += word in _FRENCH_WORDS
        english += word in _ENGLISH_WORDS
    return ENGLISH if english > french else FRENCH
