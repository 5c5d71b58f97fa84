"""spaCy's French language, imported with its token regex from the cache (`french_token_match`).

Import this module before anything else imports `spacy.lang.fr` (directly or
through `spacy.lang.fr.stop_words`): `nlp.py` and the recognizers' package do, so
that the scrubber's process never compiles that regex itself (1.8 s).
"""

from __future__ import annotations

import logging

from include.anonymization.pii.french_token_match import default_cache_file, import_spacy_french

# Where this process's regex came from: the cache file, or a compile and why.
TOKEN_MATCH_ORIGIN = import_spacy_french(default_cache_file())
logging.getLogger(__name__).debug("spaCy's French token regex: %s", TOKEN_MATCH_ORIGIN)
