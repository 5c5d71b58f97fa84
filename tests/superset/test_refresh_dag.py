"""The refresh DAG run by Airflow's own runner (`dag.test()`) against the session's Superset:
it puts back what the bundle holds and brings the warehouse's columns in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.superset.assets import ASSETS_DIR
from include.superset.client import SupersetClient
from include.superset.sync import sync_assets
from tests.dags import pipeline_helpers as helpers
from tests.superset.conftest import RunningSuperset
from tests.superset.data_fixtures import ReleasedSource, column_added

pytestmark = [pytest.mark.superset, pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
TABLE, COLUMN = "signalements__par_commune", "colonne_du_dag"


@pytest.fixture
def client(superset_server: RunningSuperset) -> Iterator[SupersetClient]:
    with SupersetClient(
        superset_server.base_url, superset_server.username, superset_server.password
    ) as api:
        yield api


@pytest.fixture
def new_column(
    warehouse_dsn: str, client: SupersetClient, superset_server: RunningSuperset
) -> Iterator[str]:
    resync = partial(sync_assets, client, superset_server.warehouse_readonly)
    with column_added(warehouse_dsn, TABLE, COLUMN, resync) as column:
        yield column


def _refresh_dag() -> Any:
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("superset_refresh")
    assert dag is not None
    for task in dag.tasks:
        task.retries = 0  # a failure must fail the test now, not after retry delays
    return dag


def _a_committed_chart() -> dict[str, Any]:
    path = sorted((ASSETS_DIR / "charts").glob("*.yaml"))[0]
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_refresh_dag_reimports_and_refreshes(
    released_sources: dict[str, ReleasedSource],
    superset_server: RunningSuperset,
    client: SupersetClient,
    new_column: str,
) -> None:
    chart = _a_committed_chart()
    present = {str(c["uuid"]): c["id"] for c in client.charts()}
    if chart["uuid"] in present:  # an earlier sync imported it: remove it by hand
        client.login()
        deleted = client.session.delete(
            f"{client.base_url}/api/v1/chart/{present[chart['uuid']]}", timeout=client.timeout
        )
        assert deleted.status_code == 200, deleted.text
    assert chart["uuid"] not in {str(c["uuid"]) for c in client.charts()}

    when = datetime(2026, 5, 6, tzinfo=UTC)
    run = _refresh_dag().test(logical_date=when, run_after=when)

    states = helpers.task_states(run)
    assert states == {"import_and_refresh": ["success"], "check_charts": ["success"]}
    assert chart["uuid"] in {str(c["uuid"]) for c in client.charts()}, "not re-imported"
    dataset_id = next(d["id"] for d in client.datasets() if d["table_name"] == TABLE)
    columns = {column["column_name"] for column in client.dataset(dataset_id)["columns"]}
    assert new_column in columns, "the dataset was not refreshed"
