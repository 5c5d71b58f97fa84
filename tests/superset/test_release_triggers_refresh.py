"""A second release, run by Airflow's own scheduler, triggers `superset_refresh` through the
release Asset, and the source's dashboard then shows the new data (issue #6, done-when).

WHY the real scheduler: `dag.test()` runs one DAG in-process and never schedules on Assets,
so it cannot show that a release starts the refresh. Here the four long-running Airflow
components of the session's platform run both DAGs as `make up` does, and the test does
only what an operator does: new data in the raw zone, the pipeline triggered through the
REST API, then a look at the dashboard through Superset's REST API.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import psycopg
import pytest
import requests
import yaml
from psycopg import sql

from include.core.settings import Settings
from include.core.source_config import load_all_sources
from include.dag_helpers import release_asset_uri
from include.pipeline.context import safe_run_id
from include.sample.writer import write_sample
from include.services.airflow_runtime import ADMIN_USER
from include.services.stack import LocalPlatform
from include.superset.assets import ASSETS_DIR
from include.superset.client import SupersetClient
from include.superset.sync import sync_assets
from include.warehouse.pg_tables import RUN_COLUMN, aggregate_table
from tests.superset.conftest import RunningSuperset

pytestmark = [pytest.mark.superset, pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

log = logging.getLogger(__name__)
T = TypeVar("T")

SOURCE = "signalements"
PIPELINE_DAG = f"civic_pipeline_{SOURCE}"
REFRESH_DAG = "superset_refresh"
# A delivery date and seed of their own (data_fixtures.py uses 4-5 May 2026, tests/dags March),
# and few rows: the scrub task loads spaCy on a 2-core machine.
NEW_DAY, NEW_SEED, NEW_ROWS = date(2026, 5, 7), 61_003, 300
EXECUTIONS_CHART = f"{SOURCE}__qualite__executions"  # one row per run: the run's accounting
MONTHLY_CHART = f"{SOURCE}__par_categorie_et_mois__evolution"  # published cells, stacked
MONTHLY_AGGREGATE = "par_categorie_et_mois"
ACCOUNTING = (
    "rows_read",
    "rows_quarantined",
    "rows_duplicate",
    "rows_published",
    "rows_suppressed",
)
STARTUP_TIMEOUT = 180.0  # Airflow healthy and both DAG files parsed again
PIPELINE_TIMEOUT = 900.0  # the whole pipeline run (~65 s alone on 2 cores)
REFRESH_TIMEOUT = 300.0  # from the release to the end of the refresh run (~10 s alone)
POLL_SECONDS = 3.0
LOG_EVERY = 15.0


def _eventually(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `check` until it returns a value; on time-out fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while (value := check()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    return value


def _timestamp(value: str) -> datetime:
    """An ISO timestamp of either API (Airflow says 'Z'; Superset writes its server's naive
    local time, and the server runs on this machine)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)


# -- Airflow's REST API ---------------------------------------------------------------------


@dataclass
class AirflowApi:
    """Airflow's public REST API (v2) as the UI's admin, with a JWT from `/auth/token`."""

    base_url: str
    password: str = field(repr=False)
    started: datetime = field(default_factory=lambda: datetime.now().astimezone())
    unpaused: list[str] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)

    def login(self) -> None:
        response = self.session.post(
            f"{self.base_url}/auth/token",
            json={"username": ADMIN_USER, "password": self.password},
            timeout=30,
        )
        assert response.ok, (
            f"Airflow login as {ADMIN_USER}: HTTP {response.status_code}: {response.text}"
        )
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.base_url}{path}", timeout=30, **kwargs)
        assert response.ok, f"Airflow {method} {path}: HTTP {response.status_code}: {response.text}"
        return response.json()

    def set_paused(self, dag_id: str, paused: bool) -> None:
        body = self.call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": paused})
        assert body["is_paused"] is paused, body
        if not paused:
            self.unpaused.append(dag_id)

    def runs(self, dag_id: str, **filters: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns", params=filters)["dag_runs"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self.call("GET", path)["task_instances"])

    def upstream_events(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/upstreamAssetEvents"
        return list(self.call("GET", path)["asset_events"])

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        path += "/xcomEntries/return_value"
        return self.call("GET", path, params={"deserialize": "true"})["value"]


@pytest.fixture
def airflow(platform: LocalPlatform) -> Iterator[AirflowApi]:
    """api-server, scheduler, dag-processor and triggerer of the session's platform, with the
    session's environment; afterwards the DAGs the test unpaused are paused again (a later
    scheduler of this session must not run them on its own) and every component is stopped."""
    services = platform.airflow()
    api = AirflowApi(
        f"http://127.0.0.1:{services.api_port}", platform.state.secret("airflow_admin_password")
    )
    try:
        api.started = datetime.now().astimezone()
        platform.start_airflow()
        wanted = ("metadatabase", "scheduler", "dag_processor", "triggerer")
        _eventually(
            lambda: True if all(services.health().get(c) == "healthy" for c in wanted) else None,
            STARTUP_TIMEOUT,
            f"Airflow healthy (see {services.run_dir}/airflow-*.log); now {services.health()}",
        )
        api.login()
        log.info(
            "Airflow healthy in %.0f s", (datetime.now().astimezone() - api.started).total_seconds()
        )
        yield api
    finally:
        try:
            for dag_id in api.unpaused:
                api.set_paused(dag_id, True)
        finally:
            services.stop()


def _parsed_since(api: AirflowApi, dag_id: str, since: datetime) -> dict[str, Any] | None:
    """The DAG as the API shows it, once this session's dag-processor has parsed its file."""
    response = api.session.get(f"{api.base_url}/api/v2/dags/{dag_id}", timeout=30)
    if response.status_code == 404:
        return None
    assert response.ok, f"GET dag {dag_id}: HTTP {response.status_code}: {response.text}"
    dag = dict(response.json())
    parsed = dag.get("last_parsed_time")
    return dag if parsed and _timestamp(parsed) >= since else None


# -- what the dashboard shows ---------------------------------------------------------------


def _asset_uuid(kind: str, name: str) -> str:
    document = yaml.safe_load((ASSETS_DIR / kind / f"{name}.yaml").read_text(encoding="utf-8"))
    return str(document["uuid"])


def _chart_rows(superset: SupersetClient, name: str) -> list[dict[str, Any]]:
    """The rows the chart committed as `superset/assets/charts/<name>.yaml` shows now."""
    uuid = _asset_uuid("charts", name)
    chart_id = next(c["id"] for c in superset.charts() if str(c["uuid"]) == uuid)
    return superset.chart_data(chart_id)


def _dashboard_datasets(superset: SupersetClient, dashboard_id: int) -> list[int]:
    """The ids of the datasets the dashboard's charts draw on."""
    superset.login()
    response = superset.session.get(
        f"{superset.base_url}/api/v1/dashboard/{dashboard_id}/datasets", timeout=superset.timeout
    )
    assert response.ok, f"datasets of dashboard {dashboard_id}: HTTP {response.status_code}"
    return [int(dataset["id"]) for dataset in response.json()["result"]]


def _run_figures(rows: list[dict[str, Any]]) -> Counter[tuple[int, ...]]:
    """The executions chart as a multiset of per-run accounting figures."""
    return Counter(tuple(int(row[name]) for name in ACCOUNTING) for row in rows)


def _published_total(rows: list[dict[str, Any]]) -> int:
    """Everything the monthly chart draws: the sum of its (pivoted) published cells."""
    return sum(
        int(value)
        for row in rows
        for key, value in row.items()
        if key != "submitted_at_month" and value is not None and value == value  # NaN: no cell
    )


@dataclass(frozen=True)
class Dashboard:
    runs: Counter[tuple[int, ...]]
    published_total: int

    @classmethod
    def read(cls, superset: SupersetClient) -> Dashboard:
        return cls(
            _run_figures(_chart_rows(superset, EXECUTIONS_CHART)),
            _published_total(_chart_rows(superset, MONTHLY_CHART)),
        )


def _warehouse_cells(dsn: str) -> tuple[int, set[str]]:
    """The monthly aggregate as the pipeline loaded it: published total, run ids it carries."""
    table = sql.Identifier(
        "aggregates", aggregate_table(load_all_sources()[SOURCE], MONTHLY_AGGREGATE)
    )
    with psycopg.connect(dsn) as conn:
        total = conn.execute(
            sql.SQL("SELECT coalesce(sum(count), 0) FROM {} WHERE NOT suppressed").format(table)
        ).fetchone()
        runs = conn.execute(
            sql.SQL("SELECT DISTINCT {} FROM {}").format(sql.Identifier(RUN_COLUMN), table)
        ).fetchall()
    assert total is not None
    return int(total[0]), {str(row[0]) for row in runs}


# -- waiting on the scheduler ---------------------------------------------------------------


@dataclass
class Progress:
    """Polls both DAGs and logs where they stand every LOG_EVERY seconds."""

    api: AirflowApi
    pipeline_run_id: str
    last_logged: float = 0.0

    def states(self, dag_id: str, run_id: str) -> dict[str, str]:
        return {
            ti["task_id"] + ("" if ti["map_index"] < 0 else f"[{ti['map_index']}]"): str(
                ti["state"]
            )
            for ti in self.api.task_instances(dag_id, run_id)
        }

    def pipeline_done(self) -> dict[str, Any] | None:
        run = self.api.run(PIPELINE_DAG, self.pipeline_run_id)
        self._log(
            f"{PIPELINE_DAG} {run['state']}: {self.states(PIPELINE_DAG, self.pipeline_run_id)}"
        )
        if run["state"] == "failed":
            pytest.fail(
                f"{PIPELINE_DAG} run {self.pipeline_run_id} failed: "
                f"{self.states(PIPELINE_DAG, self.pipeline_run_id)}; task logs under the session's"
                " AIRFLOW_HOME/logs"
            )
        return run if run["state"] == "success" else None

    def refresh_done(self) -> dict[str, Any] | None:
        """The asset-triggered refresh run that consumed this release's event, once it ended."""
        for run in self.api.runs(REFRESH_DAG, run_type="asset_triggered"):
            events = self.api.upstream_events(REFRESH_DAG, run["dag_run_id"])
            if not any(e.get("source_run_id") == self.pipeline_run_id for e in events):
                continue
            self._log(
                f"{REFRESH_DAG} {run['state']}: {self.states(REFRESH_DAG, run['dag_run_id'])}"
            )
            if run["state"] == "failed":
                pytest.fail(
                    f"{REFRESH_DAG} run {run['dag_run_id']} failed: "
                    f"{self.states(REFRESH_DAG, run['dag_run_id'])}"
                )
            return dict(run, consumed=events) if run["state"] == "success" else None
        self._log(f"{REFRESH_DAG}: no asset-triggered run for {self.pipeline_run_id} yet")
        return None

    def _log(self, message: str) -> None:
        if time.monotonic() - self.last_logged >= LOG_EVERY:
            log.info(message)
            self.last_logged = time.monotonic()


# -- the test -------------------------------------------------------------------------------


@pytest.mark.usefixtures("released_sources")  # both sources released once: the dashboards' data
def test_a_release_triggers_the_refresh_and_the_dashboard_shows_it(
    superset_server: RunningSuperset,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    airflow: AirflowApi,
) -> None:
    with SupersetClient(
        superset_server.base_url, superset_server.username, superset_server.password
    ) as superset:
        # The first release on the dashboards, as `make up` leaves them.
        sync_assets(superset, superset_server.warehouse_readonly)
        before = Dashboard.read(superset)
        assert before.runs, f"the dashboard shows no run of {SOURCE} before the second release"

        sample = write_sample(
            s3_client,
            settings.raw_bucket,
            load_all_sources()[SOURCE],
            NEW_ROWS,
            NEW_SEED,
            NEW_DAY,
            settings.sse,
        )

        for dag_id in (PIPELINE_DAG, REFRESH_DAG):
            _eventually(
                lambda dag_id=dag_id: _parsed_since(airflow, dag_id, airflow.started),
                STARTUP_TIMEOUT,
                f"{dag_id} parsed by the dag-processor",
            )
        errors = airflow.call("GET", "/api/v2/importErrors")
        assert errors["total_entries"] == 0, errors
        airflow.set_paused(REFRESH_DAG, False)
        # The run takes the interval the scheduler would run next on its own (whatever the
        # clock says when the test runs): unpausing the daily DAG then adds no scheduled run
        # that would ingest whatever else the session's raw zone holds, since the scheduler
        # skips an interval that already has a run. The run itself takes only the new day.
        pipeline = airflow.call("GET", f"/api/v2/dags/{PIPELINE_DAG}")
        logical_date = pipeline["next_dagrun_logical_date"]
        assert logical_date, f"{PIPELINE_DAG} has no next interval: {pipeline}"
        run_id = f"second_release__{NEW_DAY.isoformat()}"
        triggered = airflow.call(
            "POST",
            f"/api/v2/dags/{PIPELINE_DAG}/dagRuns",
            json={
                "dag_run_id": run_id,
                "logical_date": logical_date,
                "conf": {"from_date": NEW_DAY.isoformat(), "to_date": NEW_DAY.isoformat()},
            },
        )
        assert triggered["dag_run_id"] == run_id, triggered
        airflow.set_paused(PIPELINE_DAG, False)
        log.info("triggered %s run %s (logical date %s)", PIPELINE_DAG, run_id, logical_date)

        progress = Progress(airflow, run_id)
        _eventually(
            progress.pipeline_done, PIPELINE_TIMEOUT, f"{PIPELINE_DAG} run {run_id} success"
        )
        log.info("%s run %s succeeded", PIPELINE_DAG, run_id)
        refresh = _eventually(
            progress.refresh_done,
            REFRESH_TIMEOUT,
            f"a successful asset-triggered {REFRESH_DAG} run consuming {run_id}'s release",
        )
        log.info("%s run %s succeeded", REFRESH_DAG, refresh["dag_run_id"])

        after = Dashboard.read(superset)
        log.info("dashboard before the release: %s; after: %s", before, after)
        dashboard_uuid = _asset_uuid("dashboards", SOURCE)
        dashboard_id = next(
            d["id"] for d in superset.dashboards() if str(d["uuid"]) == dashboard_uuid
        )
        dataset_ids = _dashboard_datasets(superset, dashboard_id)
        changed = {
            dataset_id: _timestamp(superset.dataset(dataset_id)["changed_on"])
            for dataset_id in dataset_ids
        }

    # The release's event, from the pipeline's publish task, is what started the refresh.
    ours = [e for e in refresh["consumed"] if e["source_run_id"] == run_id]
    assert [(e["uri"], e["source_dag_id"], e["source_task_id"]) for e in ours] == [
        (release_asset_uri(SOURCE), PIPELINE_DAG, "publish")
    ]
    publish = next(
        ti for ti in airflow.task_instances(PIPELINE_DAG, run_id) if ti["task_id"] == "publish"
    )
    released_at = _timestamp(publish["end_date"])
    assert _timestamp(refresh["start_date"]) >= released_at

    # The dashboard's run table gained exactly the new run, with the run's own accounting.
    accounting = airflow.xcom(PIPELINE_DAG, run_id, "accounting")
    figures = tuple(int(accounting[name]) for name in ACCOUNTING)
    assert accounting["balanced"] is True, accounting
    assert figures[0] == sample.rows == NEW_ROWS, (figures, sample)
    assert after.runs - before.runs == Counter([figures]), (before.runs, after.runs)
    assert before.runs - after.runs == Counter(), "a run of the first release left the dashboard"

    # The monthly chart draws the second release's cells, all of them. (Not more than the
    # first: the second release is protected with the first one, so a cell that gained
    # only a few submissions is hidden, lest the two releases be subtracted.)
    total, cell_runs = _warehouse_cells(warehouse_dsn)
    assert cell_runs == {safe_run_id(run_id)}, cell_runs
    assert after.published_total == total
    assert after.published_total != before.published_total, (before, after)

    # Every dataset the dashboard draws on was re-imported and refreshed after the release.
    synced = airflow.xcom(REFRESH_DAG, refresh["dag_run_id"], "import_and_refresh")
    assert synced["refreshed"] == synced["datasets"] >= len(dataset_ids), synced
    stale = {dataset_id: at for dataset_id, at in changed.items() if at < released_at}
    assert not stale, f"datasets not refreshed since the release at {released_at}: {stale}"
