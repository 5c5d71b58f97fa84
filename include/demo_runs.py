"""Run every DAG of the project once through Airflow's own runner (`airflow dags test`).

Used by `civic demo`: each DAG run executes its real tasks against the
configured connections and records its state in Airflow's metadata database,
so the runs also appear in the UI after `make up`. Before them, the PII scrubber
is measured and its figures recorded (`civic eval scrub` on a small generated
corpus), so that the demo's releases state real figures, as a deployment's do.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from include.anonymization.pii.version import scrubber_version
from include.core.connections import WAREHOUSE_CONN_ID, get_connection
from include.scrubber_evaluations import GENERATOR, latest_evaluations
from include.services.airflow_runtime import airflow_bin
from include.services.processes import ServiceError

_FINISHED = re.compile(r"DagRun Finished: dag_id=(?P<dag>[\w.-]+),.*?state=(?P<state>\w+)")
# Generated texts the demo measures the scrubber on: seconds of work (about 3 s here on
# one process, plus the model's start-up), and every type gets dozens of labelled values.
DEMO_EVAL_TEXTS = 1000


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    state: str
    seconds: float
    log: Path


def airflow_json(env: Mapping[str, str], *args: str) -> list[dict]:
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
    airflow_json(env, "dags", "reserialize")
    errors = airflow_json(env, "dags", "list-import-errors", "--output", "json")
    if errors:
        where = "; ".join(
            f"{e.get('filename')}: {str(e.get('error')).strip()[-300:]}" for e in errors
        )
        raise ServiceError(f"DAG files failed to import: {where}")
    ids = [row["dag_id"] for row in airflow_json(env, "dags", "list", "--output", "json")]
    if not ids:
        raise ServiceError("Airflow found no DAG in dags/")
    # The pipelines first: maintenance DAGs (retention...) then see their results.
    return sorted(ids, key=lambda dag_id: (not dag_id.startswith("civic_pipeline_"), dag_id))


def run_dag(
    dag_id: str,
    env: Mapping[str, str],
    day: date,
    log_dir: Path,
    watch: Callable[[int], AbstractContextManager[object]] | None = None,
    use_executor: bool = False,
) -> DagRunResult:
    """`airflow dags test DAG DATE`; the state is read from Airflow's own closing line.

    `watch`, given the runner's process id, is entered while the run lasts (the scale
    benchmark samples its memory). `use_executor`: tasks run through the configured
    executor (`--use-executor`), each in a process of its own as a deployment runs them,
    instead of one after another inside the runner.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{dag_id}.log"
    started = time.monotonic()
    with (
        log.open("w") as out,
        subprocess.Popen(
            [
                str(airflow_bin()),
                "dags",
                "test",
                dag_id,
                day.isoformat(),
                *(["--use-executor"] if use_executor else []),
            ],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        ) as proc,
        watch(proc.pid) if watch else nullcontext(),
    ):
        proc.wait()
    states = [m["state"] for m in _FINISHED.finditer(log.read_text()) if m["dag"] == dag_id]
    state = states[-1] if states else "unknown"
    if proc.returncode != 0 and state == "success":
        state = f"exit {proc.returncode}"
    return DagRunResult(dag_id, state, time.monotonic() - started, log)


def demo_log_dir(env: Mapping[str, str]) -> Path:
    return Path(env["AIRFLOW_HOME"]) / "demo-runs"


def measure_scrubber(env: Mapping[str, str], console: Console) -> bool:
    """`civic eval scrub` on `DEMO_EVAL_TEXTS` generated texts, recorded in the warehouse;
    True if it was. In a process of its own: the model it loads (~300 MB) is freed before
    the DAGs run. Its output goes to a log; a summary of the figures is printed."""
    log_dir = demo_log_dir(env)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "eval-scrub.log"
    command = ["eval", "scrub", "--n", str(DEMO_EVAL_TEXTS), "--processes", "1"]
    status = f"measuring the PII scrubber on {DEMO_EVAL_TEXTS:,} generated texts"
    with console.status(status), log.open("w") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "include.cli.main", *command],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0:
        console.print(
            f"[red]civic {' '.join(command)} failed (exit {proc.returncode}); the releases will "
            f"say that no evaluation is on record[/] (log: {log})"
        )
        return False
    version = scrubber_version().id
    dsn = get_connection(WAREHOUSE_CONN_ID, env).postgres_dsn()
    evaluation = latest_evaluations(dsn, version)[GENERATOR]
    if evaluation is None or evaluation.scrubber_version != version:
        console.print(f"[red]no evaluation of scrubber {version} recorded[/] (log: {log})")
        return False
    recall = evaluation.figures["recall"]
    lowest = min(recall, key=recall.__getitem__)
    console.print(
        f"PII scrubber {version} on {evaluation.corpus['texts']:,} generated texts: every "
        f"type's recall ≥ {recall[lowest]:.4f} (lowest: {lowest}), precision "
        f"{evaluation.figures['precision']:.4f}; recorded, the releases state it (log: {log})"
    )
    return True


def run_all_dags(
    env: Mapping[str, str], day: date, console: Console, skip: Mapping[str, str] | None = None
) -> list[DagRunResult]:
    """Run every DAG but those in `skip` (DAG id → why), which are listed as skipped."""
    skip = skip or {}
    log_dir = demo_log_dir(env)
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
