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
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from include.core.connections import S3_CONN_ID, get_connection, s3_client
from include.core.settings import Settings
from include.core.source_config import load_all_sources
from include.sample.writer import write_sample
from include.services.processes import free_port
from include.services.stack import LocalPlatform, LocalState
from tests.integration.airflow_api import admin_token, eventually, request

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

SOURCE = "signalements"
DAG_ID = f"civic_pipeline_{SOURCE}"
RUN_ID = "through_celery"
_RECEIVED = re.compile(r"Task execute_workload\[[0-9a-f-]+\] received")


@pytest.fixture
def celery_platform() -> Iterator[LocalPlatform]:
    local_dir = Path(tempfile.mkdtemp(prefix="civic-celery-"))
    local_dir.chmod(0o755)  # PostgreSQL runs as an unprivileged user when tests run as root
    services = ("postgres", "s3", "airflow", "superset", "redis")
    LocalState(ports={name: free_port() for name in services}, executor="celery").save(
        local_dir / "state.json"
    )
    stack = LocalPlatform(
        Settings(local_dir=local_dir, exports_dir=local_dir / "exports"), environ={}
    )
    try:
        stack.up()
        stack.start_airflow()
        yield stack
    finally:
        stack.down()
        shutil.rmtree(local_dir, ignore_errors=True)


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
    base, token = admin_token(celery_platform)
    dags_url = f"{base}/api/v2/dags"
    assert eventually(
        lambda: DAG_ID in {d["dag_id"] for d in request(dags_url, token=token)["dags"]}, 120
    ), "the dag-processor did not parse the pipeline"
    request(f"{dags_url}/{DAG_ID}", {"is_paused": False}, token, method="PATCH")
    request(f"{dags_url}/{DAG_ID}/dagRuns", {"dag_run_id": RUN_ID, "logical_date": None}, token)
    runs_url = f"{dags_url}/{DAG_ID}/dagRuns"

    def finished() -> list[dict]:
        runs = request(runs_url, token=token)["dag_runs"]
        done = [r for r in runs if r["state"] in ("success", "failed")]
        return runs if RUN_ID in {r["dag_run_id"] for r in done} and done == runs else []

    # The unpause may schedule a run of its own, which then takes the delivery first and
    # leaves this one nothing to do: every run must succeed, and between them every stage.
    runs = eventually(finished, timeout=600, every=5)
    assert runs, request(runs_url, token=token)["dag_runs"]
    instances = [
        ti
        for run in runs
        for ti in request(f"{runs_url}/{run['dag_run_id']}/taskInstances", token=token)[
            "task_instances"
        ]
    ]
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
