"""
### Personal-data retention, raw and work zones — *Durée de conservation des données*

Keeps personal data no longer than each source's `retention_days`
(`sources/<source>.yaml`), two mapped tasks per source, side by side:

- **enforce** — deletes raw submissions older than the retention from the
  encrypted raw zone (by their `<source>/<YYYY-MM-DD>/` delivery partition).
  Objects stored without server-side encryption or outside a date partition are
  listed in the task's result for the operators; they are never read here.
- **enforce_work_zone** — deletes the work zone's copies of the same personal
  data for runs claimed before the retention's cutoff (the run's date is
  `pipeline.ingest_runs.claimed_at`): quarantined raw lines
  (`quarantine/<source>/<run>/`), pre-scrub chunks (`runs/<source>/<run>/ingested/`)
  and scrubbed chunks (`runs/<source>/<run>/scrubbed/`). No later run needs them:
  aggregates are computed from the private record store in PostgreSQL. Work-zone
  runs without an ingest record are listed in the result, never deleted. The
  result counts objects and bytes deleted.

The reference date is the end of the run's data interval, so a rerun of the
same run deletes exactly the same objects, and nothing more.

Connections: `civic_s3` (aws), `civic_warehouse` (postgres, read only here).
Settings: `CIVIC_RAW_BUCKET`, `CIVIC_WORK_BUCKET`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import dag, get_current_context, task

from include.dag_helpers import source_names


def _as_of(source: str) -> date:
    """The run's own reference day, never the wall clock: reruns behave the same."""
    context = get_current_context()
    context["source"] = source  # type: ignore[typeddict-unknown-key]
    return (context.get("data_interval_end") or context["run_after"]).date()


def _s3_client() -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id="civic_s3").get_conn()


@dag(
    dag_id="raw_zone_retention",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["civic", "raw-zone", "work-zone", "retention", "rgpd"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "owner": "civic-platform"},
)
def raw_zone_retention() -> None:
    @task(map_index_template="{{ source }}")
    def enforce(source: str) -> dict:
        from include.core.settings import load_settings
        from include.core.source_config import load_all_sources
        from include.retention.raw_zone import enforce_retention

        as_of = _as_of(source)
        report = enforce_retention(
            _s3_client(), load_settings().raw_bucket, load_all_sources()[source], as_of
        )
        return report.as_dict()

    @task(map_index_template="{{ source }}")
    def enforce_work_zone(source: str) -> dict:
        from civic_hooks import civic_connection

        from include.core.connections import WAREHOUSE_CONN_ID
        from include.core.settings import load_settings
        from include.core.source_config import load_all_sources
        from include.retention.work_zone import enforce_work_zone_retention

        as_of = _as_of(source)
        report = enforce_work_zone_retention(
            _s3_client(),
            load_settings().work_bucket,
            civic_connection(WAREHOUSE_CONN_ID).postgres_dsn(),
            load_all_sources()[source],
            as_of,
        )
        return report.as_dict()

    enforce.expand(source=source_names())
    enforce_work_zone.expand(source=source_names())


raw_zone_retention()
