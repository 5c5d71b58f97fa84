"""A running Airflow's REST API, as the UI and an operator's scripts call it."""

from __future__ import annotations

import logging
import time
from typing import Any

from include.services.airflow_rest import request
from include.services.airflow_runtime import ADMIN_USER
from include.services.stack import LocalPlatform

log = logging.getLogger(__name__)


def eventually(check: Any, timeout: float = 90, every: float = 1) -> Any:
    """Poll `check` until it returns something true or the deadline passes.

    A poll the server does not answer within `request`'s own time-out counts as "not yet":
    on a loaded 2-core machine the API server can be busy for seconds, and one slow answer
    in a long wait is no failure. Any other error still fails at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except TimeoutError:
            if time.monotonic() > deadline:
                raise
            log.warning("the API server did not answer a poll in time; polling on")
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def admin_token(platform: LocalPlatform) -> tuple[str, str]:
    """(API base URL, a bearer token of the UI's admin)."""
    base = f"http://127.0.0.1:{platform.airflow().api_port}"
    password = platform.state.secret("airflow_admin_password")
    token = request(f"{base}/auth/token", {"username": ADMIN_USER, "password": password})
    return base, token["access_token"]


def run_through_api(
    platform: LocalPlatform, dag_id: str, run_id: str, timeout: float = 600
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Unpause `dag_id`, trigger run `run_id`, wait until every run of it has finished.

    Returns (runs, task instances of every run). The unpause may schedule a run of its
    own, which then takes the delivery first and leaves the triggered one nothing to do:
    callers check every run, and the stages across them."""
    base, token = admin_token(platform)
    dags_url = f"{base}/api/v2/dags"
    assert eventually(
        lambda: dag_id in {d["dag_id"] for d in request(dags_url, token=token)["dags"]}, 120
    ), "the dag-processor did not parse the pipeline"
    request(f"{dags_url}/{dag_id}", {"is_paused": False}, token, method="PATCH")
    request(f"{dags_url}/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": None}, token)
    runs_url = f"{dags_url}/{dag_id}/dagRuns"

    def finished() -> list[dict[str, Any]]:
        runs = request(runs_url, token=token)["dag_runs"]
        done = [r for r in runs if r["state"] in ("success", "failed")]
        return runs if run_id in {r["dag_run_id"] for r in done} and done == runs else []

    runs = eventually(finished, timeout=timeout, every=5)
    assert runs, request(runs_url, token=token)["dag_runs"]
    instances = [
        ti
        for run in runs
        for ti in request(f"{runs_url}/{run['dag_run_id']}/taskInstances", token=token)[
            "task_instances"
        ]
    ]
    return runs, instances


def failed_task_logs(platform: LocalPlatform, instances: list[dict[str, Any]]) -> str:
    """The end of each failed task instance's log, for an assertion's message."""
    logs = platform.settings.airflow_home / "logs"
    report = []
    for ti in instances:
        if ti["state"] != "failed":
            continue
        pattern = (
            f"dag_id={ti['dag_id']}/run_id={ti['dag_run_id']}/task_id={ti['task_id']}/**/*.log"
        )
        for path in sorted(logs.glob(pattern)):
            lines = path.read_text(errors="replace").splitlines()
            tail = [line for line in lines if '"level":"error"' in line] or lines[-10:]
            report.append(f"--- {path.relative_to(logs)}\n" + "\n".join(tail))
    return "\n".join(report) or "no failed task instance logged"
