"""The retention DAG, run by Airflow's own runner (`dag.test()`) against the session's S3 server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from include.settings import Settings
from include.zones import list_objects
from tests.dags.test_dag_integrity import DAGS_DIR


def test_retention_dag_deletes_only_expired_raw_objects(
    platform: Any, s3_client: Any, settings: Settings
) -> None:
    from airflow.models import DagBag

    bucket = settings.raw_bucket
    keep = "consultation/2026-06-01/part-00000.jsonl"  # 180-day retention: kept on 2026-11-25
    expire = "signalements/2026-08-01/part-00000.csv"  # 90-day retention: expired on 2026-11-25
    undated = "signalements/export-manuel.csv"
    for key in (keep, expire, undated):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"x", ServerSideEncryption=settings.sse)

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("raw_zone_retention")
    run = dag.test(logical_date=datetime(2026, 11, 25, tzinfo=UTC))

    assert run.state == "success"
    remaining = {obj.key for obj in list_objects(s3_client, bucket)}
    assert keep in remaining
    assert undated in remaining, "an object without a date partition is never deleted blindly"
    assert expire not in remaining
