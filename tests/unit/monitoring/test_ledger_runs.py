"""From ledger entries to a run's figures: payloads as the stages write them.

The payloads are made by the platform's own producers wherever one exists outside a
running stage: `IngestResult.to_xcom()`, the accounting's `Accounting` (as `account`
records it), `CheckpointReport.as_dict()` with check names read from the committed
suites. The scrub, anonymize and publish payloads are the literal dicts of their
stages (include/anonymization/task.py, include/publish/task.py), keys copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from include.core.source_config import load_all_sources
from include.ingest.accounting import Accounting
from include.ingest.result import IngestResult
from include.monitoring.ledger_runs import (
    LedgerRow,
    LedgerRuns,
    entry_source,
    ledger_stage_durations,
    residual_pii_failures,
)
from include.validation.report import CheckpointReport, CheckResult, ValidationReport
from include.validation.suite_files import load_suite

SOURCES = ("signalements", "consultation")
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
RUN = "scheduled__2026-11-30T00_00_00_00_00"


def ingest_payload(source: str, run_id: str, read: int, quarantined: int, dup: int) -> dict:
    valid = read - quarantined - dup
    result = IngestResult(
        source=source,
        run_id=run_id,
        chunk_keys=(f"runs/{source}/{run_id}/ingested/part-00000.parquet",),
        quarantine_keys=(f"runs/{source}/{run_id}/quarantine/part-00000.jsonl",),
        objects_claimed=2,
        objects_read=2,
        objects_quarantined={},
        quarantined_objects=(),
        rows_read=read,
        rows_valid=valid,
        quarantined={"invalid_value": quarantined - 1, "missing_field": 1} if quarantined else {},
        duplicates={"duplicate_id": dup} if dup else {},
    )
    assert result.balanced
    return result.to_xcom()


def scrub_payload(source: str, run_id: str, part: int, texts: int, redacted: int) -> dict:
    chunk = f"runs/{source}/{run_id}/ingested/part-{part:05d}.parquet"
    return {  # scrub_chunk's summary
        "input": chunk,
        "output": chunk.replace("/ingested/", "/scrubbed/"),
        "rows": texts,
        "texts": texts,
        "texts_redacted": redacted,
        "entities": {"EMAIL_ADDRESS": redacted},
        "pseudonym_key_id": "k1",
        "seconds": {"scrubber_startup": 3.2, "scrubbing": 1.1},
    }


def anonymize_payload(texts: int, redacted: int, published: int, suppressed: int) -> dict:
    return {  # anonymize_run's summary, the keys the exporter may read
        "records_in": published + suppressed,
        "scrubbed_keys": [],
        "texts": texts,
        "texts_redacted": redacted,
        "anonymization": None,
        "records_published": published,
        "records_suppressed": suppressed,
        "records_to_date": published + suppressed,
    }


def accounting_payload(
    source: str, run_id: str, read: int, published: int, suppressed: int, q: int, d: int
) -> dict:
    accounting = Accounting(source, run_id, read, published, suppressed, q, d)
    return {**asdict(accounting), "balanced": accounting.balanced}  # as `account` records it


def suite_check(source: str, table: str, suffix: str) -> str:
    """A check name as the committed suite of `table` has it."""
    suite = load_suite(load_all_sources()[source], table)
    names = [
        e["meta"]["check"] for e in suite["expectations"] if e["meta"]["check"].endswith(suffix)
    ]
    assert names, f"no check ending in {suffix!r} in {source}'s {table} suite"
    return str(names[0])


def validate_payload(source: str, failed: list[CheckResult]) -> dict:
    passed = CheckResult("table.columns", "expect_table_columns_to_match_set", "", True)
    report = ValidationReport(
        source, "curated", f"{source}.curated", "0" * 64, 10, (passed, *failed)
    )
    return CheckpointReport(f"{source}.release", source, (report,)).as_dict()


def publish_payload(source: str, release_id: str) -> dict:
    return {
        "release_id": release_id,
        "manifest_sha256": "ab" * 32,
        "bucket": "civic-public",
        "prefix": f"{source}/releases/{release_id}/",
        "uploaded": 9,
        "previous_latest": None,
        "mirror": f"exports/{source}/{release_id}",
        "records": 90,
        "earlier_batches": 0,
        "rows_received_to_date": 100,
        "scrubber": {},
    }


class Ledger:
    """Entries appended in order, one second apart unless told otherwise."""

    def __init__(self) -> None:
        self.rows: list[LedgerRow] = []
        self.clock = T0

    def add(
        self,
        run_id: str,
        step: str,
        payload: Mapping[str, Any],
        source: str | None = "signalements",
        seconds: float = 1,
    ) -> LedgerRow:
        self.clock += timedelta(seconds=seconds)
        dag_id = f"civic_pipeline_{source}" if source else None
        row = LedgerRow(len(self.rows) + 1, self.clock, run_id, dag_id, step, payload)
        self.rows.append(row)
        return row

    def full_run(self, source: str, run_id: str, read: int = 100, quarantined: int = 5) -> None:
        dup = 2
        published, suppressed = read - quarantined - dup - 3, 3
        self.add(run_id, "ingest", ingest_payload(source, run_id, read, quarantined, dup), source)
        self.add(run_id, "scrub", scrub_payload(source, run_id, 0, 60, 6), source, seconds=10)
        self.add(run_id, "scrub", scrub_payload(source, run_id, 1, 40, 14), source, seconds=5)
        self.add(run_id, "anonymize", anonymize_payload(100, 20, published, suppressed), source)
        self.add(run_id, "validate", validate_payload(source, []), source)
        self.add(run_id, "load", {"rows": published}, source)
        books = accounting_payload(source, run_id, read, published, suppressed, quarantined, dup)
        self.add(run_id, "accounting", books, source)
        self.add(run_id, "verify_ledger", {"entries": len(self.rows), "head": None}, source)
        self.add(run_id, "publish", publish_payload(source, f"{run_id}-r1"), source)

    def runs(self) -> LedgerRuns:
        runs = LedgerRuns(SOURCES)
        runs.add(self.rows)
        return runs


def test_a_published_run_gives_its_rows_ratios_and_release() -> None:
    ledger = Ledger()
    ledger.full_run("signalements", RUN, read=100, quarantined=5)
    view = ledger.runs().view("signalements")
    assert view is not None
    last = view.last
    assert last.rows() == {
        "read": 100,
        "quarantined": 5,
        "duplicates": 2,
        "published": 90,
        "suppressed": 3,
    }
    assert last.quarantine_ratio() == pytest.approx(0.05)
    assert last.redaction_ratio() == pytest.approx(0.2)  # 20 of 100 texts
    assert last.residual_pii_blocked() is False
    assert last.logical_date == date(2026, 11, 30)
    assert view.last_success is last
    assert last.release is not None
    assert last.release[0] == f"{RUN}-r1"
    assert last.release[1] == ledger.rows[-1].recorded_at
    assert last.ended_at == ledger.rows[-1].recorded_at


def test_a_run_in_flight_reports_only_what_it_recorded() -> None:
    ledger = Ledger()
    ledger.add(RUN, "ingest", ingest_payload("signalements", RUN, 50, 0, 0))
    ledger.add(RUN, "scrub", scrub_payload("signalements", RUN, 0, 10, 1))
    view = ledger.runs().view("signalements")
    assert view is not None
    assert view.last.rows() == {"read": 50, "quarantined": 0, "duplicates": 0}
    assert view.last.quarantine_ratio() == 0
    assert view.last.redaction_ratio() == pytest.approx(0.1)  # from the scrub entries so far
    assert view.last_success is None


def test_a_run_that_read_nothing_has_ratios_of_zero() -> None:
    ledger = Ledger()
    ledger.add(RUN, "ingest", ingest_payload("signalements", RUN, 0, 0, 0))
    ledger.add(RUN, "anonymize", anonymize_payload(0, 0, 0, 0))
    ledger.add(
        RUN, "publish", {"skipped": "no new submissions in this run; latest release unchanged"}
    )
    view = ledger.runs().view("signalements")
    assert view is not None
    assert view.last.quarantine_ratio() == 0
    assert view.last.redaction_ratio() == 0
    assert view.last.release is None


def test_residual_personal_data_is_told_from_other_failed_checks() -> None:
    source = "signalements"
    pii = suite_check(source, "curated", ".no_pii.email")
    other = suite_check(source, "curated", ".required")
    failing_pii = CheckResult(pii, "expect_column_values_to_not_match_regex", "", False, "x", 1, 10)
    failing_other = CheckResult(other, "expect_column_values_to_not_be_null", "", False, "x", 2, 10)
    identifier = CheckResult(
        "table.no_direct_identifier", "gate:no_direct_identifier_column", "", False
    )
    assert residual_pii_failures(validate_payload(source, [failing_other])) == 0
    assert residual_pii_failures(validate_payload(source, [failing_pii, failing_other])) == 1
    assert residual_pii_failures(validate_payload(source, [identifier])) == 1
    assert residual_pii_failures({}) == 0

    ledger = Ledger()
    ledger.add(RUN, "ingest", ingest_payload(source, RUN, 10, 0, 0), source)
    ledger.add(RUN, "validate", validate_payload(source, [failing_pii]), source)
    view = ledger.runs().view(source)
    assert view is not None
    assert view.last.residual_pii_blocked() is True
    assert "published" not in view.last.rows()  # stopped before its books


def test_entries_without_a_dag_find_their_source() -> None:
    sources = frozenset(SOURCES)

    def row(step: str, payload: dict, dag_id: str | None = None) -> LedgerRow:
        return LedgerRow(1, T0, RUN, dag_id, step, payload)

    assert entry_source(row("ingest", ingest_payload("consultation", RUN, 1, 0, 0)), sources) == (
        "consultation"
    )
    assert entry_source(row("scrub", scrub_payload("consultation", RUN, 0, 1, 0)), sources) == (
        "consultation"
    )
    assert entry_source(row("publish", publish_payload("consultation", "r")), sources) == (
        "consultation"
    )
    assert entry_source(row("verify_ledger", {"entries": 3}), sources) is None
    assert entry_source(row("ingest", {}, "civic_pipeline_signalements"), sources) == (
        "signalements"
    )
    # A DAG or payload of a source that is not configured: not the platform's run.
    assert entry_source(row("ingest", {}, "civic_pipeline_test_x"), sources) is None
    assert entry_source(row("ingest", ingest_payload("test_x", RUN, 1, 0, 0)), sources) is None


def test_two_sources_sharing_a_run_id_stay_apart() -> None:
    ledger = Ledger()
    ledger.full_run("signalements", RUN, read=100, quarantined=10)
    ledger.full_run("consultation", RUN, read=40, quarantined=0)
    runs = ledger.runs()
    signalements, consultation = runs.view("signalements"), runs.view("consultation")
    assert signalements is not None
    assert consultation is not None
    assert signalements.last.rows()["read"] == 100
    assert consultation.last.rows()["read"] == 40


def test_stage_runs_without_a_dag_are_attributed_through_the_run() -> None:
    ledger = Ledger()
    ledger.add(RUN, "ingest", ingest_payload("consultation", RUN, 10, 1, 0), source=None)
    ledger.add(RUN, "verify_ledger", {"entries": 1}, source=None)
    ledger.add("other-run", "verify_ledger", {"entries": 2}, source=None)  # no source known
    runs = ledger.runs()
    view = runs.view("consultation")
    assert view is not None
    assert [step for _, step, _ in view.last.events] == ["ingest", "verify_ledger"]
    assert set(runs.runs) == {("consultation", RUN)}


def test_the_last_run_is_the_one_with_the_newest_entry() -> None:
    ledger = Ledger()
    old, new = "scheduled__2026-11-23T00_00_00_00_00", "scheduled__2026-11-30T00_00_00_00_00"
    ledger.full_run("signalements", old, read=100)
    ledger.full_run("signalements", new, read=200)
    view = ledger.runs().view("signalements")
    assert view is not None
    assert view.last.run_id == new
    assert [point.rows_read for point in view.points] == [100, 200]
    # The old run cleared and run again from its ingest: it is now what happens.
    ledger.add(old, "ingest", ingest_payload("signalements", old, 120, 60, 0))
    view = ledger.runs().view("signalements")
    assert view is not None
    assert view.last.run_id == old
    assert view.last.rows()["read"] == 120  # the newest ingest entry wins
    assert view.last.logical_date == date(2026, 11, 23)
    assert view.last_success is not None
    assert view.last_success.run_id == new  # the newest release


def test_a_release_stays_once_a_retried_publish_refuses() -> None:
    ledger = Ledger()
    ledger.full_run("signalements", RUN)
    released_at = ledger.rows[-1].recorded_at
    ledger.add(RUN, "publish", {"refused": "not published: ..."})
    view = ledger.runs().view("signalements")
    assert view is not None
    assert view.last.steps["publish"] == {"refused": "not published: ..."}
    assert view.last.release == (f"{RUN}-r1", released_at)


def test_runs_are_folded_incrementally_as_the_ledger_grows() -> None:
    ledger = Ledger()
    ledger.full_run("signalements", RUN)
    whole = ledger.runs()
    pieces = LedgerRuns(SOURCES)
    pieces.add(ledger.rows[:3])
    pieces.add(ledger.rows[3:])
    assert pieces.last_seq == whole.last_seq == len(ledger.rows)
    assert pieces.view("signalements") == whole.view("signalements")


def test_ledger_stage_durations_measure_from_the_entry_before() -> None:
    ledger = Ledger()
    ledger.full_run("signalements", RUN)
    view = ledger.runs().view("signalements")
    assert view is not None
    durations = ledger_stage_durations(view.last.events)
    assert "ingest" not in durations  # nothing before it on the ledger
    assert durations["scrub"] == 15  # two chunks, 10 s then 5 s after the ingest entry
    assert durations["anonymize"] == 1
    assert durations["publish"] == 1
    # A retried step is measured at its newest attempt.
    events = [(1, "ingest", T0), (2, "load", T0 + timedelta(seconds=4))]
    events += [(3, "accounting", T0 + timedelta(seconds=5)), (4, "load", T0 + timedelta(seconds=9))]
    assert ledger_stage_durations(events) == {"load": 4, "accounting": 1}


def test_a_run_id_without_a_date_is_dated_by_its_first_entry() -> None:
    ledger = Ledger()
    ledger.add("stages-test", "ingest", ingest_payload("signalements", "stages-test", 1, 0, 0))
    view = ledger.runs().view("signalements")
    assert view is not None
    assert view.last.logical_date == ledger.rows[0].recorded_at.date()
