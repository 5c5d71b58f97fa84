"""A failed run reaches a ticketing webhook: Airflow's runner, the exporter, Debian's Prometheus
evaluating the repository's rules, Debian's Alertmanager routing to a webhook.

The run fails for a real reason, injected: the S3 server the ingest stage reads is
unreachable (its connection points at a closed port for this one run), so the pipeline's
first stage fails and the run with it. Nothing is written to the raw zone, so no later test
finds data of this one. The receiver is a plain HTTP server standing in for a ticketing
system: it records the bodies Alertmanager POSTs (payload version 4, docs/runbooks/
alert-webhook.md).
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from include.core.connections import S3_CONN_ID, env_var
from include.monitoring.airflow_db import libpq_dsn
from include.monitoring.ledger_runs import DAG_PREFIX
from include.services.processes import free_port
from include.services.stack import METADATA_VAR, LocalPlatform
from tests.dags import pipeline_helpers as helpers
from tests.integration.test_monitoring import forget_scrapes

pytestmark = [pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

SOURCE = "consultation"
DAG_ID = f"{DAG_PREFIX}{SOURCE}"
RUN_DAY = date(2026, 5, 11)  # a date no other test runs this source at
PROJECT = Path(__file__).resolve().parents[2]
# Critical alerts wait 10 s in Alertmanager (deploy/alertmanager/alertmanager.yml) after
# Prometheus's first evaluation; start-up and the first scrapes take a few seconds more.
DELIVERY_TIMEOUT = 120.0


@pytest.fixture
def webhook() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    """A receiver on the loopback: its URL, and the JSON bodies POSTed to it."""
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.put(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:  # keep pytest's output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tickets", received
    finally:
        server.shutdown()
        server.server_close()


def _failed_run_with_s3_down(monkeypatch: pytest.MonkeyPatch) -> Any:
    """One run of the source's DAG while its S3 connection points at a closed port."""
    var = env_var(S3_CONN_ID)
    conn = json.loads(os.environ[var])
    extra = conn.get("extra") or {}
    extra = json.loads(extra) if isinstance(extra, str) else extra
    conn["extra"] = {**extra, "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    with monkeypatch.context() as patched:
        patched.setenv(var, json.dumps(conn))
        midnight = datetime(RUN_DAY.year, RUN_DAY.month, RUN_DAY.day, tzinfo=UTC)
        return helpers.run_pipeline(SOURCE, midnight, retries=0)


def _newest_finished_run(platform: LocalPlatform) -> tuple[str, str]:
    """(run id, state) of the DAG's newest finished run, read in Airflow's database."""
    dsn = libpq_dsn(platform.process_env()[METADATA_VAR])
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = %s AND end_date IS NOT NULL "
            "ORDER BY end_date DESC LIMIT 1",
            (DAG_ID,),
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def _wait_for_alert(received: queue.Queue[dict[str, Any]], alertname: str) -> tuple[dict, dict]:
    """The first POSTed body holding a firing `alertname` for the DAG, and that alert."""
    seen: list[str] = []
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        try:
            body = received.get(timeout=left)
        except queue.Empty:
            break
        for alert in body.get("alerts", []):
            labels = alert.get("labels", {})
            seen.append(f"{labels.get('alertname')}/{labels.get('dag_id') or labels.get('source')}")
            wanted = (labels.get("alertname"), labels.get("dag_id")) == (alertname, DAG_ID)
            if wanted and alert.get("status") == "firing":
                return body, alert
    raise AssertionError(f"no firing {alertname} for {DAG_ID} reached the webhook; saw {seen}")


def test_a_failed_run_reaches_the_webhook_through_alertmanager(
    platform: LocalPlatform,
    webhook: tuple[str, queue.Queue[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = _failed_run_with_s3_down(monkeypatch)
    assert run.state == "failed", helpers.task_states(run)
    assert helpers.task_states(run)["ingest"] == ["failed"]
    assert _newest_finished_run(platform) == (run.run_id, "failed")

    url, received = webhook
    monitoring = LocalPlatform(
        platform.settings.model_copy(update={"alert_webhook_url": url}), platform.environ
    )
    for name in ("exporter", "prometheus", "alertmanager"):
        monitoring.state.ports[name] = free_port()
    try:
        monitoring.start_monitoring(scrape_interval="1s", refresh_seconds=1)
        body, alert = _wait_for_alert(received, "CivicDagRunFailed")
    finally:
        monitoring.stop_monitoring()
        forget_scrapes(monitoring)

    # Alertmanager's webhook payload, as docs/runbooks/alert-webhook.md documents it.
    assert body["version"] == "4"
    assert body["receiver"] == "civic-webhook"
    assert body["status"] == "firing"
    assert body["groupLabels"]["alertname"] == "CivicDagRunFailed"
    assert alert["labels"]["severity"] == "critical"
    assert DAG_ID in alert["annotations"]["summary"]
    runbook = alert["annotations"]["runbook_url"]
    assert (PROJECT / runbook).is_file(), runbook
    # The alert is this run's: nothing finished after it (the exporter reads the newest run).
    assert _newest_finished_run(platform) == (run.run_id, "failed")
