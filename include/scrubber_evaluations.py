"""The PII scrubber's measured figures, kept in the warehouse for every release to state.

WHY in PostgreSQL (`pipeline.scrubber_evaluations`, DDL in
include/sql/scrubber_evaluations.sql) and not in a local file: `civic eval scrub` runs
wherever an operator runs it, the publish task on an Airflow worker of another host,
and the warehouse is what both reach. Every evaluation run is one row, never updated:
the table is also the history of how the figures moved with the scrubber's versions.

Two kinds of evaluation, each with its own corpus and figures:
- `generator`: the platform's labelled synthetic corpus (seed and size): recall per
  type, precision overall and of names, ordinary words kept;
- `reference_corpora`: public text written elsewhere: person-name recall on French
  NER sentences, over-redaction of real citizen texts.

Which evaluation a release states, per kind: the latest one made on the scrubber
version the release runs, else the latest one of any version (the release then says
that it measured another version). No text of any corpus is stored: counts and rates.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:  # the scoring modules load spaCy's French language: not at import
    from include.anonymization.pii.corpus_evaluation import NameRecall, OverRedaction
    from include.anonymization.pii.evaluation import TimedEvaluation
    from include.anonymization.pii.version import ScrubberVersion

log = logging.getLogger(__name__)

GENERATOR = "generator"
REFERENCE_CORPORA = "reference_corpora"
KINDS = (GENERATOR, REFERENCE_CORPORA)
TABLE = "pipeline.scrubber_evaluations"
DDL_PATH = Path(__file__).resolve().parent / "sql" / "scrubber_evaluations.sql"
# Where the labelled corpus comes from (`civic eval scrub` without --corpus).
GENERATOR_NAME = "include.sample.texts.labelled_corpus"
# A warehouse that does not answer is said within seconds, not after the OS's timeout.
CONNECT_TIMEOUT_SECONDS = 10

_INSERT = (
    "INSERT INTO pipeline.scrubber_evaluations (kind, scrubber_version, scrubber, corpus, figures) "
    "VALUES (%s, %s, %s, %s, %s) "
    "RETURNING id, kind, scrubber_version, scrubber, corpus, figures, evaluated_at"
)
# Per kind: the given version's evaluations first, then the newest.
_BY_PREFERENCE = (
    "SELECT id, kind, scrubber_version, scrubber, corpus, figures, evaluated_at "
    "FROM pipeline.scrubber_evaluations "
    "ORDER BY kind, scrubber_version = %s DESC, evaluated_at DESC, id DESC"
)


@dataclass(frozen=True)
class EvaluationRecord:
    """One evaluation run: what was measured (scrubber version), on what, with what result.

    `id` and `evaluated_at` are the warehouse's (None until recorded)."""

    kind: str
    scrubber_version: str
    corpus: Mapping[str, Any]
    figures: Mapping[str, Any]
    scrubber: Mapping[str, Any] = field(default_factory=dict)
    evaluated_at: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"evaluation kind {self.kind!r} is not one of {list(KINDS)}")
        if self.evaluated_at is not None and self.evaluated_at.utcoffset() is None:
            raise ValueError(f"evaluated_at {self.evaluated_at.isoformat()} has no time zone")


def generator_record(
    run: TimedEvaluation, version: ScrubberVersion, *, texts: int, seed: int
) -> EvaluationRecord:
    """The record of an evaluation on the labelled corpus of `texts` texts from `seed`."""
    return EvaluationRecord(
        kind=GENERATOR,
        scrubber_version=version.id,
        scrubber=version.components(),
        corpus={"generator": GENERATOR_NAME, "seed": seed, "texts": texts},
        figures=run.evaluation.key_figures(),
    )


def reference_corpora_record(
    names: NameRecall,
    over: OverRedaction,
    version: ScrubberVersion,
    *,
    names_corpus: str,
    texts_corpus: str,
) -> EvaluationRecord:
    """The record of an evaluation on the public corpora: `names_corpus` (NER sentences)
    and `texts_corpus` (citizen texts), named as their folders are."""
    name_figures, over_figures = names.as_dict(), over.as_dict()
    return EvaluationRecord(
        kind=REFERENCE_CORPORA,
        scrubber_version=version.id,
        scrubber=version.components(),
        corpus={
            "names": {
                "name": names_corpus,
                "sentences": name_figures["sentences"],
                "person_names": name_figures["person_names"],
            },
            "over_redaction": {"name": texts_corpus, "texts": over_figures["texts"]},
        },
        figures={
            "names_redacted": names.names_redacted,
            "name_recall": name_figures["recall"],
            "name_token_recall": name_figures["token_recall"],
            "person_precision": name_figures["precision"],
            "texts_redacted": over_figures["texts_redacted"],
            "redacted_share": over_figures["redacted_share"],
            "chars_share": over_figures["chars_share"],
            # The target holds on both corpora: no function word is ever redacted.
            "function_words_redacted": sum((over.function_words + names.function_words).values()),
        },
    )


def connect(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS)


def _create_table(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute(DDL_PATH.read_text(encoding="utf-8"))


def ensure_table(dsn: str) -> None:
    """Create the table if missing (idempotent, safe to run concurrently). Connecting here
    also proves the warehouse answers before an evaluation spends minutes."""
    with connect(dsn) as conn:
        _create_table(conn)


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def record_evaluation(dsn: str, record: EvaluationRecord) -> EvaluationRecord:
    """Store `record` (creating the table if needed); the stored row, with its id and date."""
    with connect(dsn) as conn:
        _create_table(conn)
        row = conn.execute(
            _INSERT,
            (
                record.kind,
                record.scrubber_version,
                _json(record.scrubber),
                _json(record.corpus),
                _json(record.figures),
            ),
        ).fetchone()
    assert row is not None
    return _record(row)


def _record(row: tuple[Any, ...]) -> EvaluationRecord:
    ident, kind, version, scrubber, corpus, figures, evaluated_at = row
    return EvaluationRecord(
        kind=kind,
        scrubber_version=version,
        corpus=corpus,
        figures=figures,
        scrubber=scrubber,
        evaluated_at=evaluated_at,
        id=ident,
    )


def _any(record: EvaluationRecord) -> bool:
    return True


def latest_evaluations(
    dsn: str, version: str, usable: Callable[[EvaluationRecord], bool] = _any
) -> dict[str, EvaluationRecord | None]:
    """Per kind, the latest evaluation of scrubber `version`, else the latest of any
    version, else None (none recorded, or the table not created yet). A row `usable`
    refuses (figures in the form of another version of `civic eval scrub`) is passed over
    with a warning: an old measurement must never stop a release."""
    latest: dict[str, EvaluationRecord | None] = dict.fromkeys(KINDS)
    with connect(dsn) as conn:
        if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone() == (None,):
            return latest
        for row in conn.execute(_BY_PREFERENCE, (version,)):
            record = _record(row)
            if latest[record.kind] is not None:
                continue
            if usable(record):
                latest[record.kind] = record
                if all(latest.values()):
                    break
            else:
                log.warning(
                    "scrubber evaluation #%s (%s, %s) lacks figures a release states: passed "
                    "over; run `civic eval scrub` again to record one in today's form",
                    record.id,
                    record.kind,
                    record.scrubber_version,
                )
    return latest
