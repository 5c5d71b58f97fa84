"""Real texts wrapped as a mail client wraps them are scrubbed as they were unwrapped.

WHY: citizens write to the city by e-mail, and a mail client cuts every line longer
than about 72 columns, at a space. The 635 real citizen proposals
(../shared/reference, read there, never copied) hold almost no personal data, so any
redaction that wrapping adds is a false one. Wrapped hard at 72 columns they once got
three: the model read a line break inside a sentence as a token and took "Youtube"
and "Théodule" for persons, and the signature rule took the last word of a text, fallen
alone on its line after "comme en", for one.
"""

from __future__ import annotations

import textwrap

from include.anonymization.pii import Scrubber
from include.anonymization.pii.nlp import as_the_model_reads_it
from include.anonymization.pii.reference_corpora import (
    CITIZEN_TEXTS_FILE,
    REFERENCE_DIR,
    read_citizen_texts,
)
from tests.unit.pii.reference_marks import needs_reference_corpora

WIDTH = 72


def wrapped(text: str) -> str:
    """`text` as a mail client sends it: each paragraph cut at spaces into lines of 72."""
    return "\n".join(
        "\n".join(textwrap.wrap(paragraph, WIDTH, break_long_words=False, break_on_hyphens=False))
        for paragraph in text.split("\n")
    )


@needs_reference_corpora
def test_real_proposals_wrapped_at_72_columns_get_no_redaction_they_had_not(
    scrubber: Scrubber,
) -> None:
    """The over-redaction measure of #11 (texts with any redaction) holds for wrapped text:
    a proposal that keeps all its words unwrapped keeps them wrapped. (Inside a text that
    names people, the model may find one more or one fewer of them: "Fillon" in a list of
    politicians, "Balkany" after a line break before a capital.)"""
    texts = [text.text for text in read_citizen_texts(REFERENCE_DIR / CITIZEN_TEXTS_FILE)]
    cut = [wrapped(text) for text in texts]
    assert sum(a != b for a, b in zip(texts, cut, strict=True)) > 300  # most were wrapped
    untouched = [i for i, result in enumerate(scrubber.scrub_texts(texts)) if not result.entities]
    redacted_once_wrapped = {
        cut[i][e.start : e.end]
        for i, result in zip(
            untouched, scrubber.scrub_texts([cut[i] for i in untouched]), strict=True
        )
        for e in result.entities
    }
    assert redacted_once_wrapped == set()


def test_the_model_reads_a_wrapped_line_as_one_and_offsets_hold() -> None:
    text = "pour ne pas voir la\nvidéo, Youtube ne le permet pas.\nCordialement,\nJean"
    read = as_the_model_reads_it(text)
    assert read == "pour ne pas voir la vidéo, Youtube ne le permet pas.\nCordialement,\nJean"
    assert len(read) == len(text)
    assert as_the_model_reads_it("les \r\nvoisins") == "les   voisins"


def test_a_person_wrapped_into_a_sentence_is_no_person(scrubber: Scrubber) -> None:
    text = (
        "Les malvoyants ne peuvent pas écouter une conférence s'ils éteignent l'écran pour "
        "ne pas voir la\nvidéo, Youtube ne le permet pas."
    )
    assert scrubber.scrub_text(text).entities == ()
