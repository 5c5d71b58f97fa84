"""The retention DAG, run by Airflow's own runner (`dag.test()`) against the session's services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from include.core.settings import Settings
from include.core.zones import list_objects
from include.ingest.keys import ingested_prefix, quarantine_prefix
from include.ingest.state import ensure_schema
from tests.dags.test_dag_integrity import DAGS_DIR

AS_OF = datetime(2026, 11, 25, tzinfo=UTC)


def _run_results(run: Any, task_id: str) -> dict[str, dict[str, Any]]:
    """Source → what the mapped task returned for it in `run` (its XCom)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(
        run_id=run.run_id, dag_ids=run.dag_id, task_ids=task_id, key="return_value"
    )
    with create_session() as session:
        values = [XComModel.deserialize_value(row) for row in session.scalars(query)]
    return {value["source"]: value for value in values}


@pytest.fixture
def old_signalements_run(warehouse_dsn: str, settings: Settings) -> Iterator[str]:
    """A signalements run claimed on 2026-06-01 (90-day retention: expired on 2026-11-25).

    Only its `pipeline.ingest_runs` row: a real ingest would claim the session's shared raw
    bucket, which other tests fill for their own runs.
    """
    run_id = f"scheduled__2026-06-01T00_00_00_00_00_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        ensure_schema(conn)
        conn.execute(
            "INSERT INTO pipeline.ingest_runs (source, run_id, bucket, claimed_at) "
            "VALUES ('signalements', %s, %s, '2026-06-01T09:00:00+00')",
            (run_id, settings.raw_bucket),
        )
    yield run_id
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM pipeline.ingest_runs WHERE source = 'signalements' AND run_id = %s",
            (run_id,),
        )


def test_retention_dag_deletes_only_expired_personal_data(
    platform: Any, s3_client: Any, settings: Settings, old_signalements_run: str
) -> None:
    from airflow.models import DagBag

    bucket = settings.raw_bucket
    keep = "consultation/2026-06-01/part-00000.jsonl"  # 180-day retention: kept on 2026-11-25
    expire = "signalements/2026-08-01/part-00000.csv"  # 90-day retention: expired on 2026-11-25
    undated = "signalements/export-manuel.csv"
    for key in (keep, expire, undated):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"x", ServerSideEncryption=settings.sse)
    work, run_id = settings.work_bucket, old_signalements_run
    quarantined = quarantine_prefix("signalements", run_id) + "rows-00000.jsonl"
    ingested = ingested_prefix("signalements", run_id) + "part-00000.parquet"
    scrubbed = ingested.replace("/ingested/", "/scrubbed/")
    for key in (quarantined, ingested, scrubbed):
        s3_client.put_object(Bucket=work, Key=key, Body=b"xy", ServerSideEncryption=settings.sse)

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("raw_zone_retention")
    run = dag.test(logical_date=AS_OF)

    assert run.state == "success"
    remaining = {obj.key for obj in list_objects(s3_client, bucket)}
    assert keep in remaining
    assert undated in remaining, "an object without a date partition is never deleted blindly"
    assert expire not in remaining
    work_left = {obj.key for obj in list_objects(s3_client, work, "quarantine/signalements/")}
    work_left |= {obj.key for obj in list_objects(s3_client, work, "runs/signalements/")}
    assert quarantined not in work_left
    assert ingested not in work_left
    assert scrubbed not in work_left, "aggregates come from the record store, not these"
    purged = _run_results(run, "enforce_work_zone")["signalements"]
    assert purged["runs_purged"] == [run_id]
    assert purged["deleted"] == {"quarantine": 1, "ingested": 1, "scrubbed": 1}
    assert purged["bytes_deleted"] == 6
    assert _run_results(run, "enforce")["signalements"]["deleted"] >= 1
