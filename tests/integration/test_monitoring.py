"""The monitoring end to end: a real pipeline run, the exporter, Debian's Prometheus and
Alertmanager started as `civic services up --monitoring` starts them, and Prometheus's
HTTP API asked what it scraped.

Against the test session's PostgreSQL (warehouse, ledger, Airflow's metadata) and S3
server: one run of the `signalements` DAG by Airflow's own runner, then every figure
Prometheus holds is compared with what the ledger (read here with SQL, not through the
exporter's code), Airflow's metadata database and the raw bucket say. Prometheus
scrapes every second here (15 s by default), and the exporter re-verifies the ledger
and re-lists the raw zone every second (30 s by default).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
import requests

from include.audit import key_from_connection, verify
from include.core.connections import get_connection
from include.core.settings import Settings
from include.core.source_config import load_all_sources
from include.monitoring.airflow_db import libpq_dsn
from include.monitoring.ledger_runs import DAG_PREFIX
from include.sample.writer import write_sample
from include.services.processes import free_port
from include.services.stack import METADATA_VAR, LocalPlatform
from tests.dags import pipeline_helpers as helpers
from tests.monitoring_contract import CONTRACT_METRICS, EXPORTER_JOB, TARGET_LABELS

pytestmark = [pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

SOURCE = "signalements"
DAG_ID = f"{DAG_PREFIX}{SOURCE}"
# A Monday of its own (no other test runs this source at this date), after the
# end-to-end tests' dates, so their runs are this run's history.
RUN_DAY, SEED, ROWS = date(2026, 8, 3), 81_001, 300
WAIT = 60.0
_RUN_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})T")


@dataclass(frozen=True)
class Monitored:
    platform: LocalPlatform
    run_id: str  # as the ledger writes it
    airflow_run_id: str
    succeeded: bool
    prometheus: str  # base URL
    alertmanager: str
    exporter: str


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@pytest.fixture(scope="module")
def monitored(platform: LocalPlatform, s3_client: Any, settings: Settings) -> Iterator[Monitored]:
    """One run of the source's DAG, then the monitoring started over the session's services."""
    config = load_all_sources()[SOURCE]
    write_sample(s3_client, settings.raw_bucket, config, ROWS, SEED, RUN_DAY, settings.sse)
    # No retries: a run the publish stage refuses (its suppression audit depends on every
    # record the shared session holds to date) fails at once, and the exporter must then
    # show a failed run; the tests below check whichever way it went.
    run = helpers.run_pipeline(SOURCE, _midnight(RUN_DAY), retries=0)
    assert run.state in ("success", "failed")
    states = helpers.task_states(run)
    assert states["accounting"] == ["success"], states  # its books are on the ledger
    for name in ("exporter", "prometheus", "alertmanager"):
        platform.state.ports[name] = free_port()
    try:
        platform.start_monitoring(scrape_interval="1s", refresh_seconds=1)
        yield Monitored(
            platform,
            helpers.stage_run_id(run),
            run.run_id,
            run.state == "success",
            platform.prometheus().url,
            platform.alertmanager().url,
            platform.exporter().url,
        )
    finally:
        platform.stop_monitoring()
        forget_scrapes(platform)


def forget_scrapes(platform: LocalPlatform) -> None:
    """Delete what Prometheus and Alertmanager stored: the next test's Prometheus would
    otherwise answer queries with this one's series (another exporter port, another
    instance label) for its 5-minute lookback."""
    for data_dir in (platform.prometheus().data_dir, platform.alertmanager().data_dir):
        shutil.rmtree(data_dir, ignore_errors=True)


# -- reading Prometheus ---------------------------------------------------------------------


def query(base: str, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Instant query: labels (without __name__) → value."""
    response = requests.get(f"{base}/api/v1/query", params={"query": promql}, timeout=10)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    return {
        tuple(sorted((k, v) for k, v in item["metric"].items() if k != "__name__")): float(
            item["value"][1]
        )
        for item in body["data"]["result"]
    }


def one(base: str, promql: str) -> float:
    result = query(base, promql)
    assert len(result) == 1, (promql, result)
    return next(iter(result.values()))


def eventually(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """`check()` once it returns without failing an assertion; its last failure otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, requests.RequestException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# -- reading the ledger and Airflow's database directly ----------------------------------------


def fetch(dsn: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def run_entries(dsn: str, run_id: str) -> dict[str, tuple[dict[str, Any], datetime]]:
    """Step → (newest payload, its time) of the run's entries of this source's DAG."""
    rows = fetch(
        dsn,
        "SELECT step, payload, recorded_at FROM audit.ledger WHERE run_id = %s AND dag_id = %s "
        "ORDER BY seq",
        run_id,
        DAG_ID,
    )
    return {step: (payload, at) for step, payload, at in rows}


def other_runs(dsn: str, run_id: str) -> list[tuple[str, date, int, int]]:
    """(run id, logical date, rows read, rows quarantined) of the source's other runs, from
    each run's newest ingest entry (of the source's DAG, or naming the source when written
    outside Airflow), oldest run first. The logical date is the one in the run id, else
    the day of the run's first ingest entry."""
    rows = fetch(
        dsn,
        "SELECT run_id, max(seq), (array_agg(payload::text ORDER BY seq DESC))[1], "
        "min(recorded_at) FROM audit.ledger WHERE step = 'ingest' AND run_id <> %s "
        "AND (dag_id = %s OR (dag_id IS NULL AND payload->>'source' = %s)) GROUP BY run_id",
        run_id,
        DAG_ID,
        SOURCE,
    )
    out = []
    for other, _, text, first in sorted(rows, key=lambda row: row[1]):
        payload = json.loads(text)
        match = _RUN_DATE.search(other)
        day = date.fromisoformat(match.group(1)) if match else first.astimezone(UTC).date()
        quarantined = sum(int(n) for n in payload.get("quarantined", {}).values())
        out.append((str(other), day, int(payload["rows_read"]), quarantined))
    return out


def test_prometheus_scrapes_the_exporter_and_itself(monitored: Monitored) -> None:
    def targets_up() -> dict:
        up = {
            dict(labels)["job"]: value
            for labels, value in query(monitored.prometheus, "up").items()
        }
        assert up == {"civic": 1, "prometheus": 1, "alertmanager": 1}
        return up

    eventually(targets_up, "every target up")

    def alertmanager_registered() -> None:  # Prometheus discovers it on its own schedule
        found = requests.get(f"{monitored.prometheus}/api/v1/alertmanagers", timeout=5).json()
        active = [am["url"] for am in found["data"]["activeAlertmanagers"]]
        assert active == [f"{monitored.alertmanager}/api/v2/alerts"]

    eventually(alertmanager_registered, "Alertmanager registered")


def test_the_exporter_serves_the_contract_s_names_and_labels(monitored: Monitored) -> None:
    """Every metric of the contract the rules and dashboards are written against is served,
    each with exactly its labels. A baseline's median and MAD are absent while it has no
    run, and the release times until a first release: only those may be missing."""
    base = monitored.prometheus
    eventually(lambda: one(base, f'civic_ledger_verified{{job="{EXPORTER_JOB}"}}'), "a scrape")
    served: dict[str, set[frozenset[str]]] = {}
    for name in CONTRACT_METRICS:
        for labels in query(base, f'{{__name__="{name}", job="{EXPORTER_JOB}"}}'):
            served.setdefault(name, set()).add(frozenset(k for k, _ in labels) - TARGET_LABELS)
    wrong = {name: sets for name, sets in served.items() if sets != {CONTRACT_METRICS[name]}}
    assert wrong == {}
    may_be_missing = set()
    for prefix in ("civic_quarantine_ratio_baseline", "civic_volume_same_weekday"):
        if one(base, f'{prefix}_runs{{source="{SOURCE}"}}') == 0:
            may_be_missing |= {f"{prefix}_median", f"{prefix}_mad"}
    if not query(base, "civic_last_release_timestamp_seconds"):
        may_be_missing |= {
            "civic_last_release_timestamp_seconds",
            "civic_last_success_timestamp_seconds",
        }
    assert set(CONTRACT_METRICS) - set(served) <= may_be_missing


def test_the_last_run_s_figures_are_the_ledger_s(monitored: Monitored, warehouse_dsn: str) -> None:
    entries = run_entries(warehouse_dsn, monitored.run_id)
    assert {"ingest", "scrub", "anonymize", "validate", "accounting", "publish"} <= set(entries)
    ingest, books = entries["ingest"][0], entries["accounting"][0]
    anonymize = entries["anonymize"][0]
    read = int(ingest["rows_read"])
    quarantined = sum(int(n) for n in ingest["quarantined"].values())
    expected_rows = {
        "read": read,
        "quarantined": quarantined,
        "duplicates": sum(int(n) for n in ingest["duplicates"].values()),
        "published": int(books["rows_published"]),
        "suppressed": int(books["rows_suppressed"]),
    }
    assert read > 0
    assert quarantined > 0  # the sample plants malformed rows
    base = monitored.prometheus
    selector = f'{{source="{SOURCE}"}}'

    def rows_match() -> None:
        got = {
            dict(labels)["kind"]: value
            for labels, value in query(base, f"civic_run_rows{selector}").items()
        }
        assert got == expected_rows

    eventually(rows_match, "the run's rows")
    assert one(base, f"civic_run_quarantine_ratio{selector}") == pytest.approx(quarantined / read)
    texts, redacted = int(anonymize["texts"]), int(anonymize["texts_redacted"])
    assert texts > 0
    assert one(base, f"civic_run_redaction_ratio{selector}") == pytest.approx(redacted / texts)
    assert one(base, f"civic_validation_residual_pii{selector}") == 0
    newest = max(at for _, at in entries.values())
    assert one(base, f"civic_last_run_timestamp_seconds{selector}") == pytest.approx(
        newest.timestamp()
    )
    publish_payload, published_at = entries["publish"]
    assert bool(publish_payload.get("release_id")) == monitored.succeeded, publish_payload
    releases = fetch(
        warehouse_dsn,
        "SELECT run_id, recorded_at FROM audit.ledger WHERE step = 'publish' AND dag_id = %s "
        "AND payload->>'release_id' IS NOT NULL ORDER BY seq DESC LIMIT 1",
        DAG_ID,
    )
    if not releases:
        assert query(base, f"civic_last_release_timestamp_seconds{selector}") == {}
        return
    released_run, released_at = releases[0]
    assert one(base, f"civic_last_release_timestamp_seconds{selector}") == pytest.approx(
        released_at.timestamp()
    )
    (ended,) = fetch(
        warehouse_dsn,
        "SELECT max(recorded_at) FROM audit.ledger WHERE run_id = %s AND dag_id = %s",
        released_run,
        DAG_ID,
    )[0]
    assert one(base, f"civic_last_success_timestamp_seconds{selector}") == pytest.approx(
        ended.timestamp()
    )
    if monitored.succeeded:
        assert released_run == monitored.run_id
        assert released_at == published_at


def test_the_baselines_are_over_the_source_s_earlier_runs(
    monitored: Monitored, warehouse_dsn: str
) -> None:
    base, selector = monitored.prometheus, f'{{source="{SOURCE}"}}'
    eventually(lambda: one(base, f"civic_quarantine_ratio_baseline_runs{selector}"), "baseline")
    earlier = other_runs(warehouse_dsn, monitored.run_id)
    ratios = [q / r for _, _, r, q in earlier if r > 0]
    runs = one(base, f"civic_quarantine_ratio_baseline_runs{selector}")
    assert runs == min(len(ratios), 30)
    if 0 < len(ratios) <= 30:
        middle = statistics.median(ratios)
        assert one(base, f"civic_quarantine_ratio_baseline_median{selector}") == pytest.approx(
            middle
        )
        assert one(base, f"civic_quarantine_ratio_baseline_mad{selector}") == pytest.approx(
            statistics.median(abs(r - middle) for r in ratios)
        )
    elif not ratios:
        assert query(base, f"civic_quarantine_ratio_baseline_median{selector}") == {}
    mondays = sorted(
        (day, read)
        for _, day, read, _ in earlier
        if day < RUN_DAY and day.weekday() == RUN_DAY.weekday()
    )
    volumes = [read for _, read in mondays[-8:]]
    assert one(base, f"civic_volume_same_weekday_runs{selector}") == len(volumes)
    if volumes:
        assert one(base, f"civic_volume_same_weekday_median{selector}") == pytest.approx(
            statistics.median(volumes)
        )


def test_the_ledger_verifies_and_its_entries_are_counted(
    monitored: Monitored, warehouse_dsn: str
) -> None:
    base = monitored.prometheus
    eventually(lambda: one(base, "civic_ledger_verified"), "verification")
    key = key_from_connection(get_connection("civic_audit_key", monitored.platform.process_env()))
    assert verify(warehouse_dsn, key).intact
    assert one(base, "civic_ledger_verified") == 1

    def entries_match() -> None:
        (count,) = fetch(warehouse_dsn, "SELECT count(*) FROM audit.ledger")[0]
        assert one(base, "civic_ledger_entries") == count

    eventually(entries_match, "ledger entries")


def test_airflow_s_states_are_its_database_s(monitored: Monitored) -> None:
    env = monitored.platform.process_env()
    dsn = libpq_dsn(env[METADATA_VAR])
    runs = dict(
        fetch(dsn, "SELECT state, count(*) FROM dag_run WHERE dag_id = %s GROUP BY state", DAG_ID)
    )
    assert runs.get("success" if monitored.succeeded else "failed", 0) >= 1
    base = monitored.prometheus
    got = {
        dict(labels)["state"]: value
        for labels, value in query(base, f'civic_airflow_dag_runs{{dag_id="{DAG_ID}"}}').items()
    }
    assert {state: got[state] for state in ("queued", "running", "success", "failed")} == {
        state: runs.get(state, 0) for state in ("queued", "running", "success", "failed")
    }
    tasks = dict(
        fetch(
            dsn,
            "SELECT coalesce(state, 'none'), count(*) FROM task_instance WHERE dag_id = %s "
            "GROUP BY 1",
            DAG_ID,
        )
    )
    shown = query(base, f'civic_airflow_task_instances{{dag_id="{DAG_ID}"}}')
    assert {dict(labels)["state"]: v for labels, v in shown.items() if v} == tasks
    failed = one(base, f'civic_airflow_dag_last_run_failed{{dag_id="{DAG_ID}"}}')
    assert failed == (0 if monitored.succeeded else 1)


def test_stage_durations_are_airflow_s_task_times(monitored: Monitored) -> None:
    env = monitored.platform.process_env()
    dsn = libpq_dsn(env[METADATA_VAR])
    spans = fetch(
        dsn,
        "SELECT task_id, extract(epoch FROM max(end_date) - min(start_date)) FROM task_instance "
        "WHERE dag_id = %s AND run_id = %s AND start_date IS NOT NULL AND end_date IS NOT NULL "
        "GROUP BY task_id",
        DAG_ID,
        monitored.airflow_run_id,
    )
    expected = {task: float(seconds) for task, seconds in spans}
    assert {"ingest", "scrub", "anonymize", "validate", "load", "publish"} <= set(expected)
    got = {
        dict(labels)["stage"]: value
        for labels, value in query(
            monitored.prometheus, f'civic_stage_duration_seconds{{source="{SOURCE}"}}'
        ).items()
    }
    assert got.keys() == expected.keys()
    for task, seconds in expected.items():
        assert got[task] == pytest.approx(seconds, abs=1e-3), task


def test_an_unencrypted_raw_object_is_counted_until_it_is_gone(
    monitored: Monitored, s3_client: Any, settings: Settings
) -> None:
    bucket, base = settings.raw_bucket, monitored.prometheus

    def unencrypted_now() -> int:
        keys = [
            item["Key"]
            for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])
        ]
        return sum(
            1
            for key in keys
            if not s3_client.head_object(Bucket=bucket, Key=key).get("ServerSideEncryption")
        )

    before = unencrypted_now()
    eventually(lambda: _equal(one(base, "civic_raw_zone_unencrypted_objects"), before), "raw zone")
    # Outside every source's prefix, so no pipeline run would ever claim it.
    key = f"monitoring-test/clear-{uuid.uuid4().hex}.jsonl"
    saved = s3_client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    s3_client.delete_bucket_encryption(Bucket=bucket)
    try:
        s3_client.put_object(Bucket=bucket, Key=key, Body=b'{"a": 1}\n')
    finally:
        s3_client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=saved)
    try:
        assert "ServerSideEncryption" not in s3_client.head_object(Bucket=bucket, Key=key)
        eventually(
            lambda: _equal(one(base, "civic_raw_zone_unencrypted_objects"), before + 1),
            "the clear object counted",
        )
    finally:
        s3_client.delete_object(Bucket=bucket, Key=key)
    eventually(
        lambda: _equal(one(base, "civic_raw_zone_unencrypted_objects"), before), "counted no more"
    )


def _equal(got: float, expected: float) -> None:
    assert got == expected


def test_services_status_shows_each_part_healthy_with_its_address(monitored: Monitored) -> None:
    rows = {row.name: row for row in monitored.platform.status()}
    assert rows["exporter"].state == "healthy"
    assert rows["exporter"].address == monitored.exporter
    assert rows["prometheus"].state == "healthy"
    assert rows["prometheus"].address == monitored.prometheus
    assert rows["alertmanager"].state == "healthy"
    assert "null receiver" in rows["alertmanager"].detail  # no webhook in the test settings
    assert requests.get(f"{monitored.alertmanager}/-/ready", timeout=5).status_code == 200
