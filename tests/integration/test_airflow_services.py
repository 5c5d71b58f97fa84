"""`make up` / `make down` for Airflow: the four services start healthy, serve the UI's API,
and stop without leaving a process behind."""

from __future__ import annotations

import pytest

from include.services.airflow_runtime import COMPONENTS
from include.services.processes import group_alive, read_pid
from include.services.stack import LocalPlatform
from tests.integration.airflow_api import admin_token, eventually, request

pytestmark = pytest.mark.slow


def test_airflow_services_start_serve_and_stop(platform: LocalPlatform) -> None:
    airflow = platform.airflow()
    platform.start_airflow()
    try:
        pids = airflow.running()
        assert all(pids.values()), pids
        wanted = {"metadatabase", "scheduler", "triggerer", "dag_processor"}
        health = eventually(
            lambda: (h := airflow.health()) and all(h.get(k) == "healthy" for k in wanted) and h
        )
        assert health, f"not all healthy: {airflow.health()}"

        base, token = admin_token(platform)
        dags = eventually(
            lambda: {d["dag_id"] for d in request(f"{base}/api/v2/dags", token=token)["dags"]}
        )
        assert "raw_zone_retention" in dags
        assert request(f"{base}/api/v2/importErrors", token=token)["total_entries"] == 0
    finally:
        stopped = airflow.stop()
    assert stopped == list(COMPONENTS)
    assert all(read_pid(airflow.pid_file(c)) is None for c in COMPONENTS)
    # Every process of each component's group (workers, executors' children) is gone too.
    assert not [c for c, pid in pids.items() if pid and group_alive(pid)]
