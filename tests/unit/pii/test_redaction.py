"""Overlapping detections merge deterministically; redaction replaces spans and nothing else."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import RecognizerResult

from include.anonymization.pii import Entity, Scrubber, placeholder
from include.anonymization.pii.redaction import redact, resolve_overlaps


def _result(kind: str, start: int, end: int, score: float = 0.8) -> RecognizerResult:
    return RecognizerResult(kind, start, end, score)


def test_a_name_inside_an_address_becomes_one_address_span() -> None:
    merged = resolve_overlaps([_result("PERSON", 8, 19, 0.85), _result("FR_ADDRESS", 0, 19, 0.7)])
    assert merged == [Entity(0, 19, "FR_ADDRESS", 0.7)]


def test_partial_overlap_covers_the_union_with_the_longest_type() -> None:
    merged = resolve_overlaps([_result("PERSON", 0, 5), _result("PHONE_NUMBER", 3, 17)])
    assert merged == [Entity(0, 17, "PHONE_NUMBER", 0.8)]


def test_equal_length_overlap_goes_to_the_higher_score_then_the_more_specific_type() -> None:
    assert (
        resolve_overlaps([_result("PERSON", 0, 9, 0.6), _result("FR_SIREN", 0, 9, 0.9)])[0].type
        == "FR_SIREN"
    )
    assert (
        resolve_overlaps([_result("PERSON", 0, 9, 1.0), _result("FR_SIREN", 0, 9, 1.0)])[0].type
        == "FR_SIREN"
    )


def test_touching_spans_stay_apart() -> None:
    merged = resolve_overlaps([_result("PERSON", 0, 5), _result("PERSON", 5, 9)])
    assert [(e.start, e.end) for e in merged] == [(0, 5), (5, 9)]


_spans = st.lists(
    st.tuples(
        st.sampled_from(["PERSON", "FR_ADDRESS", "PHONE_NUMBER", "FR_NIR"]),
        st.integers(0, 60),
        st.integers(1, 15),
        st.sampled_from([0.5, 0.7, 0.85, 1.0]),
    ),
    max_size=8,
)


@settings(derandomize=True, deadline=None, max_examples=200)
@given(spans=_spans, seed=st.integers(0, 1000))
def test_merging_ignores_input_order_and_leaves_no_overlap(spans: list, seed: int) -> None:
    results = [_result(kind, start, start + length, score) for kind, start, length, score in spans]
    shuffled = results[:]
    random.Random(seed).shuffle(shuffled)
    merged = resolve_overlaps(results)
    assert merged == resolve_overlaps(shuffled)
    assert all(a.end <= b.start for a, b in itertools.pairwise(merged))
    covered = {i for r in results for i in range(r.start, r.end)}
    assert covered == {i for e in merged for i in range(e.start, e.end)}


@settings(derandomize=True, deadline=None, max_examples=200)
@given(text=st.text(alphabet="abc é\n.", min_size=0, max_size=80), spans=_spans)
def test_redaction_keeps_every_character_outside_the_spans(text: str, spans: list) -> None:
    results = [
        _result(kind, min(start, len(text)), min(start + length, len(text)), score)
        for kind, start, length, score in spans
        if start < len(text)
    ]
    entities = resolve_overlaps(results)
    redacted = redact(text, entities)
    rebuilt, cursor = [], 0
    for entity in entities:
        rebuilt += [text[cursor : entity.start], placeholder(entity.type)]
        cursor = entity.end
    rebuilt.append(text[cursor:])
    assert redacted == "".join(rebuilt)


def test_scrubbed_text_keeps_the_rest_of_the_text_intact(scrubber: Scrubber) -> None:
    text = (
        "Bonjour,\nje m'appelle Inès Roux et j'habite au 12 rue de la République, 69002 Lyon. "
        "Le lampadaire est cassé ; tél. 06 12 34 56 78 ou ines.roux@orange.fr.\nMerci !"
    )
    result = scrubber.scrub_text(text)
    assert result.text == (
        "Bonjour,\nje m'appelle <PERSON> et j'habite au <FR_ADDRESS>. "
        "Le lampadaire est cassé ; tél. <PHONE_NUMBER> ou <EMAIL_ADDRESS>.\nMerci !"
    )
    assert [text[e.start : e.end] for e in result.entities] == [
        "Inès Roux",
        "12 rue de la République, 69002 Lyon",
        "06 12 34 56 78",
        "ines.roux@orange.fr",
    ]


def test_a_detected_name_is_redacted_wherever_it_recurs() -> None:
    from presidio_analyzer import RecognizerResult

    from include.anonymization.pii.recognizers.name_shape import CONFIDENT_NAME_KEY
    from include.anonymization.pii.redaction import propagate_names

    text = "Marcelle Camus, 67 rue X. Madame Camus a vu le trou. Signé : Marcelle Camus"
    confident = {CONFIDENT_NAME_KEY: True}
    found = [
        RecognizerResult(
            "PERSON", text.rindex("Marcelle"), len(text), 0.85, recognition_metadata=confident
        )
    ]
    spans = {(r.start, r.end) for r in propagate_names(text, found, "fr")}
    assert (0, 8) in spans  # first "Marcelle"
    assert (9, 14) in spans  # first "Camus"
    assert (text.index("Camus a vu"), text.index("Camus a vu") + 5) in spans
    assert all(text[start:end] not in ("Madame", "le", "rue") for start, end in spans)
    civility = RecognizerResult("PERSON", 8, 17, 0.9, recognition_metadata=confident)
    assert propagate_names("Bonjour Madame Le", [civility], "fr") == []
