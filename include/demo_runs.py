"""Run every DAG of the project once through Airflow's own runner (`airflow dags test`).

Used by `civic demo`: each DAG run executes its real tasks against the
configured connections and records its state in Airflow's metadata database,
so the runs also appear in the UI after `make up`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from include.services.airflow_runtime import airflow_bin
from include.services.processes import ServiceError

_FINISHED = re.compile(r"DagRun Finished: dag_id=(?P<dag>[\w.-]+),.*?state=(?P<state>\w+)")


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    state: str
    seconds: float
    log: Path


def _airflow_json(env: Mapping[str, str], *args: str) -> list[dict]:
    result = subprocess.run(
        [str(airflow_bin()), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise ServiceError(f"airflow {' '.join(args)} failed: {tail}")
    # Airflow prints warnings (graphviz...) on stdout before the JSON document.
    listing = next((line for line in result.stdout.splitlines() if line.startswith("[")), "[]")
    return json.loads(listing)


def dag_ids(env: Mapping[str, str]) -> list[str]:
    """Every DAG of the project, parsed now (Airflow 3 lists DAGs from its database)."""
    _airflow_json(env, "dags", "reserialize")
    errors = _airflow_json(env, "dags", "list-import-errors", "--output", "json")
    if errors:
        where = "; ".join(
            f"{e.get('filename')}: {str(e.get('error')).strip()[-300:]}" for e in errors
        )
        raise ServiceError(f"DAG files failed to import: {where}")
    ids = [row["dag_id"] for row in _airflow_json(env, "dags", "list", "--output", "json")]
    if not ids:
        raise ServiceError("Airflow found no DAG in dags/")
    # The pipelines first: maintenance DAGs (retention...) then see their results.
    return sorted(ids, key=lambda dag_id: (not dag_id.startswith("civic_pipeline_"), dag_id))


def run_dag(dag_id: str, env: Mapping[str, str], day: date, log_dir: Path) -> DagRunResult:
    """`airflow dags test DAG DATE`; the state is read from Airflow's own closing line."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{dag_id}.log"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(
            [str(airflow_bin()), "dags", "test", dag_id, day.isoformat()],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    states = [m["state"] for m in _FINISHED.finditer(log.read_text()) if m["dag"] == dag_id]
    state = states[-1] if states else "unknown"
    if proc.returncode != 0 and state == "success":
        state = f"exit {proc.returncode}"
    return DagRunResult(dag_id, state, time.monotonic() - started, log)


def run_all_dags(
    env: Mapping[str, str], day: date, console: Console, skip: Mapping[str, str] | None = None
) -> list[DagRunResult]:
    """Run every DAG but those in `skip` (DAG id → why), which are listed as skipped."""
    skip = skip or {}
    log_dir = Path(env["AIRFLOW_HOME"]) / "demo-runs"
    results = []
    ids = dag_ids(env)
    for dag_id in ids:
        if dag_id not in skip:
            with console.status(f"running DAG {dag_id} through Airflow"):
                results.append(run_dag(dag_id, env, day, log_dir))
    table = Table(title=f"DAG runs (logical date {day})", title_justify="left")
    for column in ("DAG", "state", "seconds", "log"):
        table.add_column(column)
    for run in results:
        colour = "green" if run.state == "success" else "red"
        table.add_row(run.dag_id, f"[{colour}]{run.state}[/]", f"{run.seconds:.1f}", str(run.log))
    for dag_id in ids:
        if dag_id in skip:
            table.add_row(dag_id, "[yellow]skipped[/]", "-", skip[dag_id])
    console.print(table)
    return results
