"""Seeded inputs for release tests, made the way the pipeline makes them.

Records go through the real anonymization (`anonymize`) and aggregates through
the real joint cell suppression (`protect_all`, with what the record file tells), so the
tests exercise the
frames and summaries the pipeline will actually hand to the publisher. Free
text carries formula-looking answers on purpose.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from include.anonymization.kanonymity import anonymize
from include.anonymization.pii.corpus_evaluation import NameRecall, OverRedaction
from include.anonymization.pii.evaluation import Detection, TimedEvaluation, evaluate
from include.anonymization.pii.version import scrubber_version
from include.core.source_config import SourceConfig, load_all_sources
from include.publish import AggregateInput, RunInfo, summarize_anonymization
from include.publish.scrubber_statement import ScrubberStatement
from include.scrubber_evaluations import (
    EvaluationRecord,
    generator_record,
    reference_corpora_record,
)
from include.warehouse.aggregates import protect_all
from include.warehouse.record_file_bounds import record_file_bounds

RUN_A = RunInfo(
    "scheduled__2026-11-24T03:00:00+00:00", "0.1.0", datetime(2026, 11, 24, 3, tzinfo=UTC)
)
RUN_B = RunInfo(
    "scheduled__2026-11-25T03:00:00+00:00", "0.1.0", datetime(2026, 11, 25, 3, tzinfo=UTC)
)

HOSTILE_TEXTS = [
    "=cmd|' /C calc'!A0",
    "+33 6 12 34 56 78 (numéro retiré)",
    "@SUM(A1:A9)",
    "-2 bus par heure, c'est trop peu",
    "\tindentation",
    "Plus de bus le soir, et des pistes cyclables « sécurisées ».",
    'Le "tram" est trop cher\nvraiment',
    "",
    None,
]
POSTCODES = ["75011", "75015", "69003", "69007", "13001", "33000", "59000", "92100"]


def source(name: str) -> SourceConfig:
    return load_all_sources()[name]


def _moments(rng: np.random.Generator, n: int) -> pd.Series:
    hours = pd.to_timedelta(rng.integers(0, 180 * 24, n), unit="h")
    return pd.Series(pd.Timestamp("2026-01-05", tz="UTC") + hours)


def raw_consultation(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "response_id": [f"R{seed:02d}{i:05d}" for i in range(n)],
            "submitted_at": _moments(rng, n),
            "age": rng.integers(18, 90, n),
            "gender": rng.choice(["F", "M", "X"], n, p=[0.48, 0.48, 0.04]),
            "postcode": rng.choice(POSTCODES, n),
            "occupation": rng.choice(
                ["cadre", "employe", "ouvrier", "retraite", "sans_emploi", "artisan_commercant"],
                n,
            ),
            "q_transports": rng.integers(1, 6, n),
            "q_velo": rng.integers(1, 6, n),
            "q_pietons": rng.integers(1, 6, n),
            "opinion": rng.choice(np.array(HOSTILE_TEXTS, dtype=object), n),
            "respondent_email": [f"k1:{i:08x}" for i in rng.integers(0, 2**31, n)],
        }
    )


def raw_signalements(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    config = source("signalements")
    return pd.DataFrame(
        {
            "submission_id": [f"S{seed:02d}{i:05d}" for i in range(n)],
            "submitted_at": _moments(rng, n),
            "category": rng.choice(config.field("category").allowed or [], n),
            "description": rng.choice(np.array(HOSTILE_TEXTS, dtype=object), n),
            "commune": rng.choice(["Paris", "Lyon", "Marseille", None], n),
            "postcode": rng.choice(POSTCODES, n),
            "channel": rng.choice(config.field("channel").allowed or [], n),
            "reporter_name": "[NOM]",
            "reporter_email": "k1:0000",
            "reporter_phone": None,
        }
    )


def protected_aggregates(
    config: SourceConfig, raw: pd.DataFrame, records: pd.DataFrame | None = None
) -> list[AggregateInput]:
    """Every aggregate, protected jointly, with what `records` (the record file) tells."""
    known = [] if records is None else record_file_bounds(config, raw, records)
    return [
        AggregateInput(table.name, table.cells, table.summary)
        for table in protect_all(raw, config, known)
    ]


# The scrubber's version as computed here, once: what the publish task states.
SCRUBBER = scrubber_version()
OTHER_VERSION = "pii-000000000000"
EVALUATED_AT = datetime(2026, 11, 23, 18, 5, 9, tzinfo=UTC)


def generator_evaluation() -> EvaluationRecord:
    """A generator evaluation of this scrubber as `civic eval scrub` makes it, scored by the
    real scoring code on a small labelled corpus: 40 texts, one name missed, one word
    wrongly taken (not recorded yet: no id, no date)."""
    text = "Écrivez à Inès Roux, ines.roux@exemple.fr, au 06 12 34 56 78 svp."
    labels = [Detection(10, 19, "PERSON"), Detection(21, 41, "EMAIL_ADDRESS"),
              Detection(46, 60, "PHONE_NUMBER")]  # fmt: skip
    found = [*([labels] * 38), [*labels, Detection(61, 64, "PERSON")], labels[1:]]
    evaluation = evaluate([text] * 40, [labels] * 40, found)
    run = TimedEvaluation(evaluation, 40, 40 * len(text), 0.5)
    return generator_record(run, SCRUBBER, texts=40, seed=20261125)


def reference_evaluation() -> EvaluationRecord:
    """A corpus evaluation of this scrubber as `civic eval scrub --corpus` makes it, from
    the scoring code's own result objects (counts of the size the real corpora give)."""
    names = NameRecall(
        sentences=3000,
        names=3412,
        names_redacted=3318,
        name_tokens=6020,
        name_tokens_redacted=5911,
        person_detections=3500,
        person_on_names=3390,
    )
    over = OverRedaction(texts=635, texts_redacted=26, chars=412_000, chars_redacted=1_310)
    over.function_words["des"] = 2
    return reference_corpora_record(
        names, over, SCRUBBER, names_corpus="wikineural-fr-val", texts_corpus="citizen-texts"
    )


def scrubber_statement(generator: str = "current", reference: str = "current") -> ScrubberStatement:
    """What the publish stage states, each kind evaluated on this scrubber version
    ("current"), on another ("other_version") or not at all ("none")."""
    made = {"generator": generator_evaluation, "reference_corpora": reference_evaluation}
    versions = {"current": SCRUBBER.id, "other_version": OTHER_VERSION}
    evaluations = {
        # As the warehouse gives it back: with an id and the date it was recorded.
        kind: None
        if state == "none"
        else replace(
            made[kind](), scrubber_version=versions[state], evaluated_at=EVALUATED_AT, id=1
        )
        for kind, state in (("generator", generator), ("reference_corpora", reference))
    }
    return ScrubberStatement(SCRUBBER.id, SCRUBBER.components(), evaluations)


def release_inputs(name: str = "consultation", n: int = 600, seed: int = 3) -> dict[str, Any]:
    """Keyword arguments of `build_release` for one source, as the pipeline would pass them."""
    config = source(name)
    raw = (raw_consultation if name == "consultation" else raw_signalements)(n, seed)
    records, result = anonymize(config, raw)
    return {
        "records": records,
        "anonymization": summarize_anonymization(result),
        "aggregates": protected_aggregates(config, raw, records),
        "scrubber": scrubber_statement(),
    }
