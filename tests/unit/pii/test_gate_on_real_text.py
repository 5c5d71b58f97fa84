"""Real texts, once scrubbed, pass the validation gate: no leak, and no false alarm.

WHY across the two layers: the gate fails closed, and a source it blocks stays blocked
until the scrubber changes (docs/runbooks/residual-personal-data.md). A gate pattern that
flags harmless prose would stop every release of the source; a scrubber that leaves what
the gate blocks would too. The public reference corpora (../shared/reference, read there,
never copied) are prose the project did not write: 635 real citizen proposals, with their
cited URLs and figures, and French Wikipedia sentences, with their amounts and dates.
Before the gate's long-number pattern spared URLs and amounts in dollars, a Google link's
timestamp ("&ust=1548939062976988") blocked the proposals and "223 664 608 $" the sentences.
"""

from __future__ import annotations

import re

import pytest

from include.anonymization.pii import Scrubber
from include.anonymization.pii.reference_corpora import (
    CITIZEN_TEXTS_FILE,
    REFERENCE_DIR,
    WIKINEURAL_FILE,
    read_citizen_texts,
    read_conll_sentences,
)
from include.validation.pii_patterns import PII_PATTERNS
from tests.unit.pii.reference_marks import needs_reference_corpora

GATE = {pattern.name: re.compile(pattern.regex) for pattern in PII_PATTERNS}


def _real_texts(corpus: str) -> list[str]:
    if corpus == "citizen proposals":
        return [text.text for text in read_citizen_texts(REFERENCE_DIR / CITIZEN_TEXTS_FILE)]
    return [sentence.text for sentence in read_conll_sentences(REFERENCE_DIR / WIKINEURAL_FILE)]


@needs_reference_corpora
@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["citizen proposals", "WikiNEuRal sentences"])
def test_scrubbed_real_texts_pass_the_gate(scrubber: Scrubber, corpus: str) -> None:
    texts = _real_texts(corpus)
    flagged = {
        (name, match.group())
        for result in scrubber.scrub_texts(texts)
        for name, pattern in GATE.items()
        for match in pattern.finditer(result.text)
    }
    assert flagged == set()
    assert len(texts) > 600
