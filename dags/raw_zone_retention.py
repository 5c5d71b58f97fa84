"""
### Raw-zone retention — *Durée de conservation des données brutes*

Deletes raw submissions older than each source's `retention_days`
(`sources/<source>.yaml`) from the encrypted raw zone, one mapped task per
source. The reference date is the end of the run's data interval, so a rerun
of the same run deletes exactly the same objects. Objects stored without
server-side encryption or outside a `<source>/<YYYY-MM-DD>/` partition are
listed in the task's result for the operators; they are never read here.

Connections: `civic_s3` (aws). Settings: `CIVIC_RAW_BUCKET`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

from include.dag_helpers import source_names


@dag(
    dag_id="raw_zone_retention",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["civic", "raw-zone", "retention", "rgpd"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "owner": "civic-platform"},
)
def raw_zone_retention() -> None:
    @task(map_index_template="{{ source }}")
    def enforce(source: str) -> dict:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from include.retention import enforce_retention
        from include.settings import load_settings
        from include.source_config import load_all_sources

        context = get_current_context()
        context["source"] = source  # type: ignore[typeddict-unknown-key]
        # The run's own reference time, never the wall clock: reruns behave the same.
        as_of = (context.get("data_interval_end") or context["run_after"]).date()
        client = S3Hook(aws_conn_id="civic_s3").get_conn()
        report = enforce_retention(
            client, load_settings().raw_bucket, load_all_sources()[source], as_of
        )
        return report.as_dict()

    enforce.expand(source=source_names())


raw_zone_retention()
