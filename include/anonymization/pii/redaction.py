"""From Presidio's raw, possibly overlapping results to non-overlapping spans, and to redacted text.

Recognizers overlap: a name inside an address ("12 rue Jean Jaurès"), the same
name from spaCy and from a "Madame" cue, a SIREN inside a SIRET. Dropping the
loser of an overlap could leave part of a value in clear text, so overlapping
detections are MERGED into one span covering all of them; the span takes the
type and score of the best member (longest, then highest score, then the most
specific type). The outcome depends only on the set of detections, never on
the order recognizers ran in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from presidio_analyzer import RecognizerResult

from include.anonymization.pii.entities import ENTITY_TYPES, PERSON, Entity, placeholder
from include.anonymization.pii.recognizers.english_lexicon import is_ordinary_word
from include.anonymization.pii.recognizers.name_shape import CONFIDENT_NAME_KEY, names_a_place
from include.anonymization.pii.recognizers.words import COMMON_WORDS, typed_in_lower_case

_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_MIN_NAME_WORD = 3

_PRIORITY = {entity_type: rank for rank, entity_type in enumerate(ENTITY_TYPES)}


def _rank(result: RecognizerResult) -> tuple[int, float, int, int]:
    return (
        -(result.end - result.start),
        -result.score,
        _PRIORITY.get(result.entity_type, len(_PRIORITY)),
        result.start,
    )


def propagate_names(
    text: str, found: Sequence[RecognizerResult], language: str
) -> list[RecognizerResult]:
    """Every other occurrence, in the same text (in `language`), of a word of a CONFIDENT name.

    Why: the NER finds a name in one context and misses it in another ("Marcelle
    Camus, 67 boulevard…" missed, "Signé : Marcelle Camus" found, or "COSTA
    Danielle" after "Danielle Costa"); redacting one occurrence and publishing the
    other protects nobody. But a word wrongly taken for a name would then be
    removed wherever it occurs (real prose lost every "les" it had), so only the
    names `name_shape` calls confident spread (a first name with a surname, a name
    a cue announced), never an ordinary word of the French lexicon (nor, in an English
    text, of the English one: "Young people" after "John Young"), never onto a
    street or a public place ("rue Pierre Brossolette"), and, in a text typed with
    capitals, never onto a word written in lower case ("les roux").
    """
    people = [
        r
        for r in found
        if r.entity_type == PERSON and (r.recognition_metadata or {}).get(CONFIDENT_NAME_KEY)
    ]
    words = {
        word.casefold()
        for r in people
        for word in _WORD.findall(text[r.start : r.end])
        if len(word) >= _MIN_NAME_WORD
        and word.casefold() not in COMMON_WORDS
        and not is_ordinary_word(word, language)
    }
    if not words:
        return []
    lower_case_text = typed_in_lower_case(text)
    score = max(r.score for r in people)
    return [
        RecognizerResult(PERSON, match.start(), match.end(), score)
        for match in _WORD.finditer(text)
        if match.group().casefold() in words
        and (lower_case_text or not match.group().islower())
        and not names_a_place(text, match.start())
    ]


def resolve_overlaps(results: Iterable[RecognizerResult]) -> list[Entity]:
    """Merge overlapping detections; return non-overlapping entities sorted by start."""
    ordered = sorted(results, key=lambda r: (r.start, r.end))
    merged: list[Entity] = []
    cluster: list[RecognizerResult] = []
    cluster_end = -1
    for result in [*ordered, None]:
        if result is not None and result.start < cluster_end:
            cluster.append(result)
            cluster_end = max(cluster_end, result.end)
            continue
        if cluster:
            best = min(cluster, key=_rank)
            merged.append(
                Entity(
                    start=cluster[0].start,
                    end=cluster_end,
                    type=best.entity_type,
                    score=round(float(best.score), 4),
                )
            )
        if result is not None:
            cluster, cluster_end = [result], result.end
    return merged


def redact(text: str, entities: Sequence[Entity]) -> str:
    """Replace each (non-overlapping) entity by its placeholder; every other character is kept.

    Replacing from the right keeps the offsets of the entities not yet replaced valid.
    """
    redacted = text
    for entity in sorted(entities, key=lambda e: e.start, reverse=True):
        redacted = redacted[: entity.start] + placeholder(entity.type) + redacted[entity.end :]
    return redacted
