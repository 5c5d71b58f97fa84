"""Pipeline runs as the audit ledger tells them, and the figures the exporter derives.

Every stage of a source's pipeline appends one entry to the ledger when it ends
(`include.pipeline.outcome.record`), so the ledger is the one place where every
run's figures are recorded, signed, and cannot be rewritten unseen. The payloads
read here are exactly those the stages write:

- ingest: source, rows_read, quarantined {reason: rows}, duplicates {kind: rows}
  (`IngestResult.to_xcom()`, include/ingest/result.py);
- scrub, one entry per chunk: input, texts, texts_redacted (`scrub_chunk`,
  include/anonymization/task.py);
- anonymize: texts, texts_redacted (the chunks' totals), records_published,
  records_suppressed (`anonymize_run`);
- validate: source, success, tables [{failed [{check, expectation}]}]
  (`CheckpointReport.as_dict()`, include/validation/report.py);
- accounting: source, rows_read, rows_published, rows_suppressed, rows_quarantined,
  rows_duplicate, balanced (`account`, include/ingest/task.py);
- publish: release_id and prefix `<source>/releases/<id>/`, or `skipped`
  (include/publish/task.py);
- any step that stopped on purpose: refused, the reason (`refuse`).

A run is (source, run id): two sources' DAGs may share a run id
(`scheduled__2026-11-25T00_00_00_00_00`). An entry's source is its DAG's
(`civic_pipeline_<source>`), else the one its payload names, else the one the
run's earlier entries had; entries of no configured source are ignored. A run
counts once it has an ingest entry. The *last* run of a source is the one with
the newest entry (a rerun of an old run becomes the last run: what it does now
is what an operator must see). Where a step was recorded more than once (a
retried task), its newest entry wins; scrub entries are kept per chunk.

The ledger is append-only, so `LedgerRuns` folds entries in as they arrive and
never reads an entry twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from include.monitoring.baselines import RunPoint

DAG_PREFIX = "civic_pipeline_"
STAGES = (
    "ingest",
    "scrub",
    "anonymize",
    "validate",
    "load",
    "accounting",
    "verify_ledger",
    "publish",
)
ROW_KINDS = ("read", "quarantined", "duplicates", "suppressed", "published")
# Validation checks that fail when personal data is still in a table: the suites'
# residual-PII patterns (`<column>.no_pii.<pattern>`, include/validation/suites.py) and the
# gate's own direct-identifier column check (include/validation/gate.py).
_RESIDUAL_PII_CHECK = re.compile(r"(^|\.)no_pii\.")
_DIRECT_IDENTIFIER_CHECK = "table.no_direct_identifier"
# Airflow run ids carry the date they are for: scheduled__<logical date>, manual__<run
# after>, backfill__<logical date>; the stages write them with ':' and '+' as '_'.
_RUN_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})T")


@dataclass(frozen=True)
class LedgerRow:
    """One ledger entry as the exporter reads it (verification is a separate matter)."""

    seq: int
    recorded_at: datetime
    run_id: str
    dag_id: str | None
    step: str
    payload: Mapping[str, Any]


@dataclass
class RunFacts:
    """Everything the ledger says about one run of one source, newest entry per step."""

    source: str
    run_id: str
    first_seq: int
    last_seq: int
    started_at: datetime
    ended_at: datetime
    dag_id: str | None = None
    steps: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    step_times: dict[str, datetime] = field(default_factory=dict)  # newest entry's time
    scrubbed: dict[str, tuple[int, int]] = field(default_factory=dict)  # chunk → texts
    # The newest release the run published, and when: kept even if a later attempt of the
    # publish step refused (the release it made is public all the same).
    release: tuple[str, datetime] | None = None
    # (seq, step, recorded_at) of every entry, for durations measured on the ledger alone.
    events: list[tuple[int, str, datetime]] = field(default_factory=list)

    def add(self, row: LedgerRow) -> None:
        self.last_seq = max(self.last_seq, row.seq)
        self.ended_at = max(self.ended_at, row.recorded_at)
        if row.dag_id:
            self.dag_id = row.dag_id
        self.steps[row.step] = row.payload
        self.step_times[row.step] = row.recorded_at
        self.events.append((row.seq, row.step, row.recorded_at))
        if row.step == "publish" and row.payload.get("release_id"):
            self.release = (str(row.payload["release_id"]), row.recorded_at)
        if row.step == "scrub" and "texts" in row.payload:
            chunk = str(row.payload.get("input", row.seq))
            self.scrubbed[chunk] = (
                int(row.payload.get("texts", 0)),
                int(row.payload.get("texts_redacted", 0)),
            )

    # -- what the run says ----------------------------------------------------------------

    @property
    def ingested(self) -> bool:
        payload = self.steps.get("ingest")
        return payload is not None and "rows_read" in payload

    @property
    def logical_date(self) -> date:
        """The date the run is for, from its Airflow run id; else the day it started (UTC)."""
        match = _RUN_DATE.search(self.run_id)
        if match:
            try:
                return date.fromisoformat(match.group(1))
            except ValueError:
                pass
        return self.started_at.astimezone(UTC).date()

    def rows(self) -> dict[str, int]:
        """Rows by kind, as far as the run got: read, quarantined and duplicates once it
        ingested; suppressed and published once its books balanced (the accounting step)."""
        out: dict[str, int] = {}
        ingest = self.steps.get("ingest", {})
        if "rows_read" in ingest:
            out["read"] = int(ingest["rows_read"])
            out["quarantined"] = sum(int(n) for n in dict(ingest.get("quarantined", {})).values())
            out["duplicates"] = sum(int(n) for n in dict(ingest.get("duplicates", {})).values())
        books = self.steps.get("accounting", {})
        if "rows_published" in books and "rows_suppressed" in books:
            out["published"] = int(books["rows_published"])
            out["suppressed"] = int(books["rows_suppressed"])
        return out

    def quarantine_ratio(self) -> float | None:
        rows = self.rows()
        if "read" not in rows:
            return None
        return rows["quarantined"] / rows["read"] if rows["read"] else 0.0

    def redaction_ratio(self) -> float | None:
        """Texts with at least one redaction / texts scrubbed: the anonymize step's totals
        (over the chunks it took), else the scrub entries so far; 0 without texts."""
        anonymize = self.steps.get("anonymize", {})
        if "texts" in anonymize:
            texts, redacted = int(anonymize["texts"]), int(anonymize.get("texts_redacted", 0))
        elif self.scrubbed:
            texts = sum(t for t, _ in self.scrubbed.values())
            redacted = sum(r for _, r in self.scrubbed.values())
        else:
            return None
        return redacted / texts if texts else 0.0

    def residual_pii_blocked(self) -> bool:
        """Whether the run's (newest) validation failed a residual personal-data check."""
        return residual_pii_failures(self.steps.get("validate", {})) > 0

    @property
    def released_at(self) -> datetime | None:
        return self.release[1] if self.release else None

    def point(self) -> RunPoint | None:
        rows = self.rows()
        if "read" not in rows:
            return None
        return RunPoint(self.last_seq, self.logical_date, rows["read"], rows["quarantined"])


def residual_pii_failures(validate_payload: Mapping[str, Any]) -> int:
    """Failed checks of a validate payload that found personal data left in a table."""
    count = 0
    for table in validate_payload.get("tables", []) or []:
        for failed in table.get("failed", []) or []:
            check = str(failed.get("check", ""))
            if _RESIDUAL_PII_CHECK.search(check) or check == _DIRECT_IDENTIFIER_CHECK:
                count += 1
    return count


def ledger_stage_durations(events: Iterable[tuple[int, str, datetime]]) -> dict[str, float]:
    """Seconds per stage measured on the ledger alone: from the entry before a stage's
    entries to its last one (consecutive entries of one step, such as scrub's chunks, form
    one block; a step recorded again later, a retry, is measured at its newest block).
    The first block has no entry before it, so it gets no duration."""
    durations: dict[str, float] = {}
    previous_end: datetime | None = None
    block_step: str | None = None
    block_start: datetime | None = None
    for _, step, at in sorted(events, key=lambda event: event[0]):
        if step != block_step:
            block_step, block_start = step, previous_end
        if block_start is not None:
            durations[step] = max(0.0, (at - block_start).total_seconds())
        previous_end = at
    return durations


def entry_source(row: LedgerRow, sources: frozenset[str]) -> str | None:
    """The configured source an entry belongs to, if it says so itself."""
    if row.dag_id and row.dag_id.startswith(DAG_PREFIX):
        name = row.dag_id.removeprefix(DAG_PREFIX)
        return name if name in sources else None
    payload = row.payload
    named = payload.get("source")
    if isinstance(named, str) and named in sources:
        return named
    for key in ("input", "output", "curated_key"):  # work-zone keys: runs/<source>/<run>/...
        value = payload.get(key)
        if isinstance(value, str) and value.startswith("runs/"):
            name = value.split("/")[1]
            if name in sources:
                return name
    prefix = payload.get("prefix")  # a release: <source>/releases/<id>/
    if isinstance(prefix, str) and "/releases/" in prefix:
        name = prefix.split("/", 1)[0]
        if name in sources:
            return name
    return None


@dataclass(frozen=True)
class SourceView:
    """A source's last run and the runs before it, as the exporter reports them."""

    last: RunFacts
    points: tuple[RunPoint, ...]  # every ingested run of the source, the last one included
    last_success: RunFacts | None  # the newest run that published a release


def _release_time(run: RunFacts) -> datetime:
    return run.release[1] if run.release else datetime.min.replace(tzinfo=UTC)


class LedgerRuns:
    """The ledger's pipeline runs, folded in entry by entry (append-only, read once)."""

    def __init__(self, sources: Iterable[str]) -> None:
        self.sources = frozenset(sources)
        self.runs: dict[tuple[str, str], RunFacts] = {}
        self._run_sources: dict[str, set[str]] = {}
        self.last_seq = 0

    def add(self, rows: Iterable[LedgerRow]) -> None:
        for row in rows:
            self.last_seq = max(self.last_seq, row.seq)
            source = entry_source(row, self.sources)
            if source is None:
                known = self._run_sources.get(row.run_id, set())
                if len(known) != 1:
                    continue
                (source,) = known
            self._run_sources.setdefault(row.run_id, set()).add(source)
            key = (source, row.run_id)
            run = self.runs.get(key)
            if run is None:
                run = self.runs[key] = RunFacts(
                    source, row.run_id, row.seq, row.seq, row.recorded_at, row.recorded_at
                )
            run.add(row)

    def view(self, source: str) -> SourceView | None:
        """The source's last run and its history; None before its first ingest."""
        runs = [run for (name, _), run in self.runs.items() if name == source and run.ingested]
        if not runs:
            return None
        runs.sort(key=lambda run: run.last_seq)
        released = [run for run in runs if run.release is not None]
        points = tuple(point for run in runs if (point := run.point()) is not None)
        return SourceView(
            last=runs[-1],
            points=points,
            last_success=max(released, key=_release_time) if released else None,
        )
