"""`make up` / `make down` for Airflow: the four services start healthy, serve the UI's API,
and stop without leaving a process behind."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from include.services.airflow_runtime import ADMIN_USER, COMPONENTS
from include.services.processes import group_alive, read_pid
from include.services.stack import LocalPlatform

pytestmark = pytest.mark.slow


def _request(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return json.load(resp)


def _eventually(check: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(1)


def test_airflow_services_start_serve_and_stop(platform: LocalPlatform) -> None:
    airflow = platform.airflow()
    platform.start_airflow()
    try:
        pids = airflow.running()
        assert all(pids.values()), pids
        wanted = {"metadatabase", "scheduler", "triggerer", "dag_processor"}
        health = _eventually(
            lambda: (h := airflow.health()) and all(h.get(k) == "healthy" for k in wanted) and h
        )
        assert health, f"not all healthy: {airflow.health()}"

        base = f"http://127.0.0.1:{airflow.api_port}"
        password = platform.state.secret("airflow_admin_password")
        token = _request(f"{base}/auth/token", {"username": ADMIN_USER, "password": password})[
            "access_token"
        ]
        dags = _eventually(
            lambda: {d["dag_id"] for d in _request(f"{base}/api/v2/dags", token=token)["dags"]}
        )
        assert "raw_zone_retention" in dags
        assert _request(f"{base}/api/v2/importErrors", token=token)["total_entries"] == 0
    finally:
        stopped = airflow.stop()
    assert stopped == list(COMPONENTS)
    assert all(read_pid(airflow.pid_file(c)) is None for c in COMPONENTS)
    # Every process of each component's group (workers, executors' children) is gone too.
    assert not [c for c, pid in pids.items() if pid and group_alive(pid)]
