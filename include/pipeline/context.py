"""Everything a pipeline stage needs for one source and one run, built once per task.

Connections are resolved by the caller (Airflow hooks in a DAG task, environment
variables in tests and the CLI) and handed in as `include.core.connections.Connection`
values, so the stages never read the environment and never import Airflow.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from include.anonymization.pseudonyms import Pseudonyms, pseudonymizer_from_connection
from include.audit import AuditKey, key_from_connection
from include.core.connections import Connection, s3_client
from include.core.settings import Settings
from include.core.source_config import SourceConfig

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def safe_run_id(run_id: str) -> str:
    """An Airflow run id as a key and folder name: `scheduled__2026-11-25T00_00_00_00_00`."""
    cleaned = _UNSAFE.sub("_", run_id).strip("._")
    if not cleaned:
        raise ValueError(f"run id {run_id!r} has no usable character")
    return cleaned[:200]


def pipeline_version() -> str:
    return importlib.metadata.version("civic-platform")


@dataclass(frozen=True)
class PipelineContext:
    """One source, one run, and the services and keys the stages use."""

    settings: Settings
    config: SourceConfig
    run_id: str  # safe for keys (see safe_run_id)
    run_date: datetime  # the run's logical date: dates the release, never the wall clock
    s3: Any  # boto3 S3 client
    dsn: str  # warehouse, as the pipeline's role
    audit_key: AuditKey
    pseudonymizer: Pseudonyms
    dag_id: str | None = None

    @classmethod
    def from_connections(
        cls,
        *,
        settings: Settings,
        config: SourceConfig,
        run_id: str,
        run_date: datetime,
        warehouse: Connection,
        s3: Connection,
        audit_key: Connection,
        pseudonym_key: Connection,
        dag_id: str | None = None,
    ) -> PipelineContext:
        return cls(
            settings=settings,
            config=config,
            run_id=safe_run_id(run_id),
            run_date=run_date,
            s3=s3_client(s3),
            dsn=warehouse.postgres_dsn(),
            audit_key=key_from_connection(audit_key),
            pseudonymizer=pseudonymizer_from_connection(pseudonym_key),
            dag_id=dag_id,
        )

    @property
    def run_prefix(self) -> str:
        """The run's folder in the private work bucket."""
        return f"runs/{self.config.name}/{self.run_id}/"
