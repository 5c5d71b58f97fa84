"""Ingest stage: raw zone → validated, deduplicated Parquet chunks in the work zone.

Airflow-independent: a DAG task calls `ingest_run(client, dsn, settings, config,
run_id)` and pushes `IngestResult.to_xcom()` (keys and counts, never data); a later
task calls `check_accounting(...)` once published and suppressed rows are known.
See `run` for the order of checks, `validation` for the typing rules, `state` for
what PostgreSQL keeps, `reasons` for the quarantine codes. The work zone's objects
are written as the ingest writes its chunks (`S3Sink`, `parquet_bytes`), by every
stage that writes there (`include.pipeline.workzone`).
"""

from include.ingest.accounting import Accounting, check_accounting
from include.ingest.chunks import parquet_bytes
from include.ingest.errors import AccountingError, IngestError
from include.ingest.result import IngestResult
from include.ingest.run import ingest_run
from include.ingest.state import DateRange
from include.ingest.store import S3Sink

__all__ = [
    "Accounting",
    "AccountingError",
    "DateRange",
    "IngestError",
    "IngestResult",
    "S3Sink",
    "check_accounting",
    "ingest_run",
    "parquet_bytes",
]
