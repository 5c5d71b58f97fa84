"""The committed assets in a real Superset: they import (twice), their datasets follow the
warehouse tables, and every chart's query returns rows once the pipelines have run."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql

from include.core.source_config import load_all_sources
from include.services.superset_runtime import SUPERSET_VENV
from include.superset.assets import ASSETS_DIR
from include.superset.charts import RELEASES_LAYER, map_annotation_sources
from include.superset.client import SupersetClient
from include.superset.datasets import CELL_LABEL, QUARANTINE_RATE, REDACTED_SHARE, ROWS_RECEIVED
from include.superset.labels import SUPPRESSED_LABEL
from include.superset.sync import SyncResult, check_charts, sync_assets
from tests.superset.conftest import RunningSuperset
from tests.superset.data_fixtures import ReleasedSource, column_added

pytestmark = [pytest.mark.superset, pytest.mark.integration, pytest.mark.slow]


def _committed(folder: str) -> list[dict[str, Any]]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ASSETS_DIR / folder).rglob("*.yaml"))
    ]


@dataclass(frozen=True)
class Synced:
    first: SyncResult
    second: SyncResult
    seconds: tuple[float, float]


@pytest.fixture(scope="module")
def client(superset_server: RunningSuperset) -> Iterator[SupersetClient]:
    with SupersetClient(
        superset_server.base_url, superset_server.username, superset_server.password
    ) as api:
        yield api


@pytest.fixture(scope="module")
def synced(client: SupersetClient, superset_server: RunningSuperset) -> Synced:
    """The bundle imported and refreshed twice in a row (the second must change nothing)."""
    results, seconds = [], []
    for _ in range(2):
        started = time.monotonic()
        results.append(sync_assets(client, superset_server.warehouse_readonly))
        seconds.append(time.monotonic() - started)
    return Synced(results[0], results[1], (seconds[0], seconds[1]))


def test_bundle_imports_twice_into_one_set_of_objects(
    synced: Synced, client: SupersetClient
) -> None:
    expected = {
        "datasets": len(_committed("datasets")),
        "charts": len(_committed("charts")),
        "dashboards": len(_committed("dashboards")),
    }
    for result in (synced.first, synced.second):
        counts = result.as_dict()
        assert {key: counts[key] for key in expected} == expected
        assert result.refreshed == expected["datasets"]
    listed = {
        "datasets": client.datasets(),
        "charts": client.charts(),
        "dashboards": client.dashboards(),
    }
    for kind, objects in listed.items():
        seen = Counter(str(item["uuid"]) for item in objects)
        committed = {str(doc["uuid"]) for doc in _committed(kind)}
        assert {uuid: seen[uuid] for uuid in committed} == dict.fromkeys(committed, 1), kind


def _warehouse_columns(dsn: str, schema: str, table: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        ).fetchall()
    return [(name, data_type.upper()) for name, data_type in rows]


def _superset_datasets(client: SupersetClient) -> dict[str, dict[str, Any]]:
    """Committed dataset UUID → the dataset as Superset holds it now (with its columns)."""
    ids = {str(item["uuid"]): item["id"] for item in client.datasets()}
    return {
        str(doc["uuid"]): client.dataset(ids[str(doc["uuid"])]) for doc in _committed("datasets")
    }


def test_every_datasets_columns_match_its_warehouse_table(
    synced: Synced, client: SupersetClient, warehouse_dsn: str
) -> None:
    held = _superset_datasets(client)
    for doc in _committed("datasets"):
        dataset = held[str(doc["uuid"])]
        table = _warehouse_columns(warehouse_dsn, doc["schema"], doc["table_name"])
        assert table, f"{doc['schema']}.{doc['table_name']} is missing from the warehouse"
        physical = [
            (column["column_name"], column["type"])
            for column in dataset["columns"]
            if not column["expression"]
        ]
        assert sorted(physical) == sorted(table), doc["table_name"]
        # The refresh kept what the import put: calculated columns and French names.
        by_name = {column["column_name"]: column for column in dataset["columns"]}
        for column in doc["columns"]:
            kept = by_name[column["column_name"]]
            assert kept["verbose_name"] == column["verbose_name"]
            assert (kept["expression"] or None) == column["expression"]


def test_every_chart_returns_rows_once_the_sources_are_released(
    released_sources: dict[str, ReleasedSource], synced: Synced, client: SupersetClient
) -> None:
    check = check_charts(client)
    assert check.failures == {}
    assert check.waiting == []
    names = sorted(doc["slice_name"] for doc in _committed("charts"))
    assert sorted(check.rows) == names
    assert all(rows > 0 for rows in check.rows.values()), check.rows


def _chart_id(client: SupersetClient, slice_name: str) -> int:
    committed = next(doc for doc in _committed("charts") if doc["slice_name"] == slice_name)
    return next(c["id"] for c in client.charts() if str(c["uuid"]) == str(committed["uuid"]))


def test_suppressed_cells_read_secret_statistique_never_zero(
    released_sources: dict[str, ReleasedSource],
    synced: Synced,
    client: SupersetClient,
    warehouse_dsn: str,
) -> None:
    """Each suppressed cell of the table is one « secret statistique » cell of its cross-tab."""
    checked = 0
    for doc in _committed("charts"):
        if doc["viz_type"] != "pivot_table_v2":
            continue
        table = next(d for d in _committed("datasets") if d["uuid"] == doc["dataset_uuid"])
        with psycopg.connect(warehouse_dsn) as conn:
            (suppressed,) = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE suppressed").format(
                    sql.Identifier(table["schema"], table["table_name"])
                )
            ).fetchone()
        cells = [row[CELL_LABEL] for row in client.chart_data(_chart_id(client, doc["slice_name"]))]
        assert cells.count(SUPPRESSED_LABEL) == suppressed, doc["slice_name"]
        assert "0" not in cells, doc["slice_name"]
        assert None not in cells, doc["slice_name"]
        checked += suppressed
    assert checked > 0, "the samples should leave some cells under the threshold"


def _relabelled_codes() -> dict[str, str]:
    """Every coded value whose French label reads differently, with its label."""
    codes = {}
    for config in load_all_sources().values():
        for aggregate in config.aggregates:
            for dimension in aggregate.dimensions:
                labels = config.dimension_labels(dimension)
                codes.update({code: label for code, label in labels.items() if code != label})
    return codes


def test_charts_show_french_labels_never_the_codes(
    released_sources: dict[str, ReleasedSource], synced: Synced, client: SupersetClient
) -> None:
    """What an analyst reads in legends, axes and headers: « Propreté », not `proprete`."""
    codes = _relabelled_codes()
    assert codes, "the source configs label their coded values"
    shown: set[str] = set()
    for doc in _committed("charts"):
        for row in client.chart_data(_chart_id(client, doc["slice_name"])):
            shown.update(value for value in row.values() if isinstance(value, str))
    assert not shown & set(codes), sorted(shown & set(codes))
    assert shown & set(codes.values()), "no chart shows any label"


@pytest.fixture
def added_column(
    warehouse_dsn: str, client: SupersetClient, superset_server: RunningSuperset
) -> Iterator[tuple[str, str]]:
    table = "consultation__velo_par_age"
    resync = partial(sync_assets, client, superset_server.warehouse_readonly)
    with column_added(warehouse_dsn, table, "colonne_de_test", resync) as column:
        yield table, column


def _columns_of(client: SupersetClient, table: str) -> set[str]:
    dataset_id = next(d["id"] for d in client.datasets() if d["table_name"] == table)
    return {column["column_name"] for column in client.dataset(dataset_id)["columns"]}


def test_a_new_warehouse_column_appears_after_a_sync(
    synced: Synced,
    client: SupersetClient,
    superset_server: RunningSuperset,
    added_column: tuple[str, str],
    warehouse_dsn: str,
) -> None:
    table, column = added_column
    assert column not in _columns_of(client, table)
    sync_assets(client, superset_server.warehouse_readonly)
    assert column in _columns_of(client, table)
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(
                sql.Identifier("aggregates", table), sql.Identifier(column)
            )
        )
    sync_assets(client, superset_server.warehouse_readonly)
    assert column not in _columns_of(client, table)


def test_the_database_uses_the_read_only_role(
    synced: Synced, client: SupersetClient, superset_server: RunningSuperset
) -> None:
    (committed,) = _committed("databases")
    databases = client.session.get(
        f"{client.base_url}/api/v1/database/", timeout=client.timeout
    ).json()["result"]
    (database,) = [d for d in databases if d["database_name"] == committed["database_name"]]
    detail = client.session.get(
        f"{client.base_url}/api/v1/database/{database['id']}/connection", timeout=client.timeout
    ).json()["result"]
    login = superset_server.warehouse_readonly.login
    assert detail["sqlalchemy_uri"].startswith(f"postgresql://{login}:XXXXXXXXXX@")
    assert detail["allow_dml"] is False


def test_viz_types_exist_in_the_installed_superset() -> None:
    """Superset 6 removed the legacy charts: every viz type used is in its frontend registry."""
    bundles = "\n".join(
        path.read_text(errors="ignore")
        for path in SUPERSET_VENV.glob("lib/python*/site-packages/superset/static/assets/*.js")
    )
    used = {doc["viz_type"] for doc in _committed("charts")}
    missing = sorted(viz for viz in used if f'="{viz}"' not in bundles)
    assert missing == [], f"viz types unknown to the installed Superset: {missing}"


def test_query_contexts_run_as_saved(
    released_sources: dict[str, ReleasedSource], synced: Synced, client: SupersetClient
) -> None:
    """The saved query context is the bundle's, datasource ids filled in by the import."""
    ids = {str(chart["uuid"]): chart["id"] for chart in client.charts()}
    for doc in _committed("charts"):
        saved = client.chart_query_context(_chart_id(client, doc["slice_name"]))
        # Annotation layers name their source chart by UUID in the bundle, by id once synced.
        committed = map_annotation_sources(json.loads(doc["query_context"]), ids.__getitem__)
        assert saved["queries"] == committed["queries"], doc["slice_name"]
        assert saved["datasource"]["type"] == "table"


def _day(value: Any) -> date:
    """A temporal value as Superset's JSON results give it: epoch milliseconds."""
    return datetime.fromtimestamp(int(value) / 1000, UTC).date()


def test_the_weekly_view_marks_each_release_and_sums_each_week(
    released_sources: dict[str, ReleasedSource],
    synced: Synced,
    client: SupersetClient,
    warehouse_dsn: str,
) -> None:
    """What the weekly chart draws equals the warehouse: lines received per week, the two
    rates per week, and one release mark per release of the source at its data's date."""
    for source, released in released_sources.items():
        context = client.chart_query_context(_chart_id(client, f"Semaine après semaine ({source})"))
        bars, rates = client.query_results(context)
        with psycopg.connect(warehouse_dsn) as conn:
            releases = conn.execute(
                "SELECT release_id, run_date FROM aggregates.versions_publiees WHERE source = %s",
                (source,),
            ).fetchall()
            weeks = conn.execute(
                "SELECT date_trunc('week', run_date)::date, sum(rows_read),"
                " sum(rows_quarantined)::float8 / nullif(sum(rows_read), 0),"
                " sum(texts_redacted)::float8 / nullif(sum(texts), 0)"
                " FROM aggregates.indicateurs_execution WHERE source = %s GROUP BY 1",
                (source,),
            ).fetchall()
        assert released.release_id in {release for release, _ in releases}
        for result in (bars, rates):
            marks = result["annotation_data"][RELEASES_LAYER]["records"]
            assert sorted((m["release_id"], _day(m["run_date"])) for m in marks) == sorted(
                releases
            ), source
        assert {_day(r["run_date"]): r[ROWS_RECEIVED] for r in bars["data"]} == {
            week: received for week, received, _, _ in weeks
        }
        drawn = {
            _day(r["run_date"]): (r[QUARANTINE_RATE], r[REDACTED_SHARE]) for r in rates["data"]
        }
        assert drawn.keys() == {week for week, *_ in weeks}
        for week, _, quarantine, redacted in weeks:
            assert drawn[week] == pytest.approx((quarantine, redacted)), (source, week)
