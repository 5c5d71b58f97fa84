"""A source's pipeline through Airflow's CeleryExecutor: Redis broker, two Celery workers.

Runs on a platform of its own (its own PostgreSQL, S3 server, Redis and Airflow in a
temporary folder, as `civic services up --executor celery --airflow` starts them), so
that the session's LocalExecutor platform is left as it is. The run is triggered and
watched through Airflow's REST API, as an operator would; every task instance of it
must have gone through a Celery worker.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from include.core.connections import S3_CONN_ID, get_connection, s3_client
from include.core.source_config import load_all_sources
from include.sample.writer import write_sample
from include.services.stack import LocalPlatform
from tests.integration.airflow_api import run_through_api
from tests.own_platform import own_platform

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

SOURCE = "signalements"
DAG_ID = f"civic_pipeline_{SOURCE}"
RUN_ID = "through_celery"
_RECEIVED = re.compile(r"Task execute_workload\[[0-9a-f-]+\] received")


@pytest.fixture
def celery_platform() -> Iterator[LocalPlatform]:
    with own_platform("civic-celery-", executor="celery") as stack:
        stack.up()
        stack.start_airflow()
        yield stack


def test_a_pipeline_runs_through_celery_workers(celery_platform: LocalPlatform) -> None:
    env = celery_platform.process_env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:")
    airflow = celery_platform.airflow()
    workers = [c for c in airflow.components if c.startswith("celery-worker-")]
    assert len(workers) == 2
    assert all(airflow.running().values()), airflow.running()
    assert celery_platform.redis().responds()

    settings = celery_platform.settings
    write_sample(
        s3_client(get_connection(S3_CONN_ID, env)),
        settings.raw_bucket,
        load_all_sources()[SOURCE],
        rows=300,
        seed=7,
        day=datetime.now(UTC).date(),
        sse=settings.sse,
        kms_key_id=settings.kms_key_id,
    )
    runs, instances = run_through_api(celery_platform, DAG_ID, RUN_ID)
    states = {(ti["dag_run_id"], ti["task_id"]): ti["state"] for ti in instances}
    assert {r["state"] for r in runs} == {"success"}, states
    done = {ti["task_id"] for ti in instances if ti["state"] == "success"}
    assert {"ingest", "scrub", "anonymize", "validate", "load", "publish"} <= done, states
    # Each of them was a workload a Celery worker received from the broker.
    received = sum(
        len(_RECEIVED.findall(airflow.log_file(worker).read_text())) for worker in workers
    )
    assert received >= sum(ti["state"] == "success" for ti in instances)
    assert os.environ.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor"  # session untouched
