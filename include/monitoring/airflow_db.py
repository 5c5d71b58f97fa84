"""Airflow's DAG and task states, read from its metadata database (PostgreSQL).

Read with plain SQL over a read-only connection rather than through Airflow's ORM:
importing Airflow costs seconds and configures it from whatever environment the
exporter has, while the four queries below need only three tables whose columns
are stable across Airflow 3 releases (`dag.is_stale`, `dag_run.state/end_date`,
`task_instance.state/start_date/end_date`; checked on 3.3.2). It is the same
data the Airflow UI shows and what the `airflow-exporter` plugin would read
(see the package docstring for why that plugin is not used).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from include.pipeline.context import safe_run_id

# Airflow 3.3's DagRunState and TaskInstanceState values (airflow/utils/state.py), so that a
# state no run is in is exposed as 0 rather than missing (a rule can then use increase()).
DAG_RUN_STATES = ("queued", "running", "success", "failed")
TASK_STATES = (
    "none",
    "removed",
    "scheduled",
    "queued",
    "running",
    "success",
    "restarting",
    "failed",
    "up_for_retry",
    "up_for_reschedule",
    "upstream_failed",
    "skipped",
    "deferred",
    "awaiting_input",
)
FINISHED = ("success", "failed")
# How many of a DAG's newest runs are searched for the one a ledger run id names.
RUN_SEARCH = 200

_DAGS = "SELECT dag_id FROM dag WHERE NOT is_stale"
_DAG_RUNS = "SELECT dag_id, state, count(*) FROM dag_run GROUP BY dag_id, state"
_TASKS = "SELECT dag_id, coalesce(state, 'none'), count(*) FROM task_instance GROUP BY dag_id, 2"
# The newest finished run of each DAG: the one that finished last (a cleared old run that
# failed again is news).
_LAST_FINISHED = (
    "SELECT dag_id, state FROM (SELECT dag_id, state, row_number() OVER (PARTITION BY dag_id "
    "ORDER BY end_date IS NULL, end_date DESC, id DESC) AS newest FROM dag_run "
    "WHERE state IN ('success', 'failed')) AS finished WHERE newest = 1"
)
_RUN_IDS = "SELECT run_id FROM dag_run WHERE dag_id = %s ORDER BY id DESC LIMIT %s"
_TASK_SPANS = (
    "SELECT task_id, min(start_date), max(end_date) FROM task_instance "
    "WHERE dag_id = %s AND run_id = %s AND start_date IS NOT NULL AND end_date IS NOT NULL "
    "GROUP BY task_id"
)


class AirflowMetadataError(RuntimeError):
    """The metadata database is not one this reader can query."""


def libpq_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+psycopg://…` (Airflow's setting) as a libpq URI for psycopg."""
    scheme, sep, rest = sqlalchemy_url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise AirflowMetadataError(
            f"Airflow's metadata database is {scheme or 'not set'}://…; the exporter reads "
            "DAG and task states from PostgreSQL only (the platform's Airflow uses it)"
        )
    return f"postgresql://{rest}"


@dataclass(frozen=True)
class AirflowStates:
    """Counts by state and the newest finished run's state, per DAG."""

    dags: tuple[str, ...]
    dag_runs: Mapping[tuple[str, str], int]
    task_instances: Mapping[tuple[str, str], int]
    last_finished: Mapping[str, str]


class AirflowMetadata:
    def __init__(self, sqlalchemy_url: str, timeout: float = 5.0) -> None:
        self.dsn = libpq_dsn(sqlalchemy_url)
        self.timeout = timeout

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.dsn, connect_timeout=max(1, int(self.timeout)))
        conn.read_only = True
        return conn

    def states(self) -> AirflowStates:
        with self._connect() as conn:
            dags = [str(row[0]) for row in conn.execute(_DAGS)]
            runs = {(str(d), str(s)): int(n) for d, s, n in conn.execute(_DAG_RUNS)}
            tasks = {(str(d), str(s)): int(n) for d, s, n in conn.execute(_TASKS)}
            last = {str(d): str(s) for d, s in conn.execute(_LAST_FINISHED)}
        # Only DAGs Airflow still has: a deleted DAG's last failure would otherwise alert
        # for ever, with nothing left to rerun.
        return AirflowStates(tuple(sorted(dags)), runs, tasks, last)

    def task_durations(self, dag_id: str, ledger_run_id: str) -> dict[str, float] | None:
        """Seconds per task (first start to last end: a mapped task's chunks together) of
        the DAG run the ledger names `ledger_run_id` (the stages write `safe_run_id`s);
        None when Airflow has no such run."""
        with self._connect() as conn:
            run_ids = [str(row[0]) for row in conn.execute(_RUN_IDS, (dag_id, RUN_SEARCH))]
            run_id = next((r for r in run_ids if safe_run_id(r) == ledger_run_id), None)
            if run_id is None:
                return None
            spans = conn.execute(_TASK_SPANS, (dag_id, run_id)).fetchall()
        return {str(task): _seconds(start, end) for task, start, end in spans}


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())
