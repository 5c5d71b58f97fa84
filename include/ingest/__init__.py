"""Ingest stage: raw zone → validated, deduplicated Parquet chunks in the work zone.

Airflow-independent: a DAG task calls `ingest_run(client, dsn, settings, config,
run_id)` and pushes `IngestResult.to_xcom()` (keys and counts, never data); a later
task calls `check_accounting(...)` once published and suppressed rows are known.
See `run` for the order of checks, `validation` for the typing rules, `state` for
what PostgreSQL keeps, `reasons` for the quarantine codes.
"""

from include.ingest.accounting import Accounting, check_accounting
from include.ingest.errors import AccountingError, IngestError
from include.ingest.result import IngestResult
from include.ingest.run import ingest_run
from include.ingest.state import DateRange

__all__ = [
    "Accounting",
    "AccountingError",
    "DateRange",
    "IngestError",
    "IngestResult",
    "check_accounting",
    "ingest_run",
]
