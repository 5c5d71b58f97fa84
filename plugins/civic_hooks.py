"""Airflow glue for the platform: turn Airflow connections into the pipeline's context.

The logic in `include/` never imports Airflow; this module is the one place that
reads connections the Airflow way (`BaseHook.get_connection`, which honours every
secrets backend: environment variables, Vault, AWS Secrets Manager...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseHook, conf

from include.audit import AUDIT_KEY_CONN_ID
from include.core.connections import (
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    Connection,
)
from include.core.settings import load_settings
from include.core.source_config import load_all_sources
from include.pipeline.context import PipelineContext
from include.pipeline.scrub_share import scrub_processes, tasks_at_once_here, usable_cores


def civic_connection(conn_id: str) -> Connection:
    """An Airflow connection as the platform's plain `Connection` value."""
    airflow_conn = BaseHook.get_connection(conn_id)
    return Connection(
        conn_type=airflow_conn.conn_type or "",
        host=airflow_conn.host,
        port=airflow_conn.port,
        login=airflow_conn.login,
        password=airflow_conn.password,
        schema=airflow_conn.schema,
        extra=airflow_conn.extra_dejson,
    )


def pipeline_context(source: str, context: Mapping[str, Any]) -> PipelineContext:
    """The stages' context for `source` in the running task (`get_current_context()`)."""
    dag_run = context["dag_run"]
    return PipelineContext.from_connections(
        settings=load_settings(),
        config=load_all_sources()[source],
        run_id=dag_run.run_id,
        # The run's own reference time (never the wall clock): releases are dated by it.
        run_date=context.get("logical_date") or dag_run.run_after,
        warehouse=civic_connection(WAREHOUSE_CONN_ID),
        s3=civic_connection(S3_CONN_ID),
        audit_key=civic_connection(AUDIT_KEY_CONN_ID),
        pseudonym_key=civic_connection(PSEUDONYM_KEY_CONN_ID),
        dag_id=dag_run.dag_id,
    )


def scrub_processes_here() -> int:
    """Worker processes for the running scrub task: this host's usable cores shared by the
    scrub tasks the configured executor may run beside it (`include.pipeline.scrub_share`)."""
    at_once = tasks_at_once_here(
        conf.get("core", "executor"), conf.getint("celery", "worker_concurrency", fallback=1)
    )
    return scrub_processes(usable_cores(), at_once)
