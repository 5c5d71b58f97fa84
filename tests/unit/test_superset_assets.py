"""The committed Superset assets: generated from the sources, consistent with each other and
with the warehouse tables the loader creates."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.load import WAREHOUSE_SQL, aggregate_columns, aggregate_table, curated_columns
from include.source_config import SourceConfig, load_all_sources, parse_source_config
from include.superset.assets import (
    ASSETS_DIR,
    DATABASE_FILE,
    render_assets,
    stale_assets,
    write_assets,
)
from include.superset.datasets import (
    CELL_LABEL,
    DISPLAYED_COUNT,
    RUN_TABLES,
    superset_type,
)
from include.superset.labels import SUPPRESSED_LABEL

GRID_WIDTH = 12


def _load(folder: str) -> dict[str, dict[str, Any]]:
    return {
        path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ASSETS_DIR / folder).rglob("*.yaml"))
    }


@pytest.fixture(scope="module")
def configs() -> dict[str, SourceConfig]:
    return load_all_sources()


@pytest.fixture(scope="module")
def datasets() -> dict[str, dict[str, Any]]:
    """Committed datasets by UUID."""
    return {str(doc["uuid"]): doc for doc in _load("datasets").values()}


@pytest.fixture(scope="module")
def charts() -> dict[str, dict[str, Any]]:
    """Committed charts by UUID."""
    return {str(doc["uuid"]): doc for doc in _load("charts").values()}


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict[str, Any]]:
    return _load("dashboards")


def _position_charts(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in dashboard["position"].values() if _is(item, "CHART")]


def _is(item: Any, kind: str) -> bool:
    return isinstance(item, dict) and item.get("type") == kind


def test_committed_assets_are_the_generators_output(configs: dict[str, SourceConfig]) -> None:
    stale = stale_assets(configs.values())
    assert stale == [], f"run `python -m include.superset write`; stale: {stale}"


def test_write_then_check_round_trips(configs: dict[str, SourceConfig], tmp_path: Path) -> None:
    leftover = tmp_path / "charts" / "removed_chart.yaml"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("slice_name: gone\n")
    changed = write_assets(configs.values(), tmp_path)
    assert changed["charts/removed_chart.yaml"] == "removed"
    assert not leftover.exists()
    assert stale_assets(configs.values(), tmp_path) == []
    assert write_assets(configs.values(), tmp_path) == {}


def test_metadata_declares_an_assets_bundle() -> None:
    metadata = yaml.safe_load((ASSETS_DIR / "metadata.yaml").read_text())
    assert metadata == {"version": "1.0.0", "type": "assets"}


def test_uuids_are_unique_across_the_bundle() -> None:
    uuids = Counter(str(doc["uuid"]) for doc in _load(".").values() if "uuid" in doc)
    assert [uuid for uuid, seen in uuids.items() if seen > 1] == []
    assert len(uuids) == len(_load(".")) - 1  # every file but metadata.yaml


def test_one_read_only_database_with_a_masked_password() -> None:
    (database,) = _load("databases").values()
    assert database["database_name"] == "Entrepôt civique (lecture seule)"
    assert ":XXXXXXXXXX@" in database["sqlalchemy_uri"]
    assert database["allow_dml"] is False
    assert database["allow_csv_upload"] is False
    assert (ASSETS_DIR / DATABASE_FILE).is_file()


def test_every_dataset_belongs_to_the_database(datasets: dict[str, dict[str, Any]]) -> None:
    (database,) = _load("databases").values()
    assert {doc["database_uuid"] for doc in datasets.values()} == {database["uuid"]}


def _physical(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["column_name"], c["type"]) for c in doc["columns"] if c["expression"] is None]


def _create_table_columns(sql: str, table: str) -> list[tuple[str, str]]:
    """(column, type) of `CREATE TABLE ... aggregates.<table> (...)` in warehouse.sql."""
    match = re.search(rf"CREATE TABLE IF NOT EXISTS aggregates\.{table} \((.*?)\n\);", sql, re.S)
    assert match, f"no CREATE TABLE for aggregates.{table} in {WAREHOUSE_SQL}"
    columns = []
    for line in match.group(1).splitlines():
        words = line.strip().rstrip(",").split()
        if words and words[0].upper() not in ("PRIMARY", "CHECK", "UNIQUE", "CONSTRAINT"):
            columns.append((words[0], words[1]))
    return columns


def test_physical_datasets_match_the_loaders_tables(
    configs: dict[str, SourceConfig], datasets: dict[str, dict[str, Any]]
) -> None:
    """Every warehouse table the analysts may read has a dataset with exactly its columns."""
    expected: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for config in configs.values():
        expected["curated", config.name] = curated_columns(config)
        for aggregate in config.aggregates:
            table = aggregate_table(config, aggregate.name)
            expected["aggregates", table] = aggregate_columns(aggregate)
    sql = WAREHOUSE_SQL.read_text()
    for table in RUN_TABLES:
        expected["aggregates", table] = _create_table_columns(sql, table)
    found = {(doc["schema"], doc["table_name"]): _physical(doc) for doc in datasets.values()}
    assert set(found) == set(expected)
    for key, columns in expected.items():
        assert found[key] == [(name, superset_type(pg)) for name, pg in columns], key
    assert all(doc["sql"] is None for doc in datasets.values()), "no virtual dataset"


def test_column_names_are_unique_and_all_have_french_labels(
    datasets: dict[str, dict[str, Any]],
) -> None:
    for doc in datasets.values():
        metric_names = {metric["metric_name"] for metric in doc["metrics"]}
        column_names = [column["column_name"] for column in doc["columns"]]
        assert len(set(column_names)) == len(column_names), doc["table_name"]
        assert len(metric_names) == len(doc["metrics"]), doc["table_name"]
        for item in doc["columns"] + doc["metrics"]:
            assert item["verbose_name"], (doc["table_name"], item)
            assert item["description"], (doc["table_name"], item)
        assert doc["description"]


def test_verbose_names_come_from_the_source_descriptions(
    configs: dict[str, SourceConfig], datasets: dict[str, dict[str, Any]]
) -> None:
    by_table = {(doc["schema"], doc["table_name"]): doc for doc in datasets.values()}
    curated = {c["column_name"]: c for c in by_table["curated", "consultation"]["columns"]}
    assert curated["q_transports"]["verbose_name"] == (
        "Satisfaction vis-à-vis des transports en commun"
    )
    assert "(1 = pas du tout, 5 = tout à fait)" in curated["q_transports"]["description"]
    assert curated["age"]["description"].startswith("Âge du répondant ; généralisé")
    agg = by_table["aggregates", "signalements__par_categorie_et_mois"]["columns"]
    month = next(c for c in agg if c["column_name"] == "submitted_at_month")
    assert month["verbose_name"] == "Date et heure du dépôt (mois)"
    pseudonym = next(
        c
        for c in by_table["curated", "signalements"]["columns"]
        if c["column_name"] == "reporter_email_pseudonym"
    )
    assert pseudonym["verbose_name"] == "Pseudonyme – Courriel du déclarant"


def _referenced_names(chart: dict[str, Any]) -> set[str]:
    """Every column or metric a chart's query names (adhoc SQL axes by their expression)."""
    names: set[str] = set()
    for query in json.loads(chart["query_context"])["queries"]:
        for column in query["columns"]:
            names.add(column if isinstance(column, str) else column["sqlExpression"])
        names.update(query.get("metrics") or [])
        names.update(item[0] for item in query.get("orderby") or [])
        names.update(item["col"] for item in query["filters"])
    params = chart["params"]
    for key in ("groupby", "all_columns", "groupbyRows", "groupbyColumns", "metrics"):
        names.update(params.get(key) or [])
    for key in ("x_axis", "entity", "metric"):
        if params.get(key):
            names.add(params[key])
    names.update(item["subject"] for item in params.get("adhoc_filters") or [])
    return names


def test_every_chart_reads_an_existing_dataset_by_existing_names(
    charts: dict[str, dict[str, Any]], datasets: dict[str, dict[str, Any]]
) -> None:
    for chart in charts.values():
        dataset = datasets.get(chart["dataset_uuid"])
        assert dataset is not None, f"{chart['slice_name']}: no dataset {chart['dataset_uuid']}"
        known = {c["column_name"] for c in dataset["columns"]}
        known |= {m["metric_name"] for m in dataset["metrics"]}
        unknown = _referenced_names(chart) - known
        assert not unknown, f"{chart['slice_name']} names {unknown} unknown to its dataset"


def test_every_chart_carries_a_query_context_matching_its_params(
    charts: dict[str, dict[str, Any]],
) -> None:
    """`GET /api/v1/chart/<id>/data/` needs a saved query context; its form data is the params."""
    for chart in charts.values():
        context = json.loads(chart["query_context"])
        assert context["form_data"] == chart["params"], chart["slice_name"]
        assert context["form_data"]["viz_type"] == chart["viz_type"]
        assert context["queries"], chart["slice_name"]


def test_raw_tables_ask_for_rows_and_aggregating_charts_for_metrics(
    charts: dict[str, dict[str, Any]],
) -> None:
    """Superset groups whenever a query has a `metrics` key: a raw table must leave it out."""
    for chart in charts.values():
        (query,) = json.loads(chart["query_context"])["queries"]
        raw = chart["params"].get("query_mode") == "raw"
        assert ("metrics" not in query) is raw, chart["slice_name"]


def test_dashboards_place_every_chart_once_in_rows_of_twelve(
    charts: dict[str, dict[str, Any]], dashboards: dict[str, dict[str, Any]]
) -> None:
    placed = Counter(
        item["meta"]["uuid"]
        for dashboard in dashboards.values()
        for item in _position_charts(dashboard)
    )
    assert set(placed) == set(charts), "charts on no dashboard, or unknown charts placed"
    assert max(placed.values()) == 1
    for dashboard in dashboards.values():
        tree = dashboard["position"]
        for row_id in tree["GRID_ID"]["children"]:
            children = [tree[child] for child in tree[row_id]["children"]]
            assert sum(child["meta"]["width"] for child in children) <= GRID_WIDTH
            for child in children:
                assert child["parents"] == ["ROOT_ID", "GRID_ID", row_id]
                if _is(child, "CHART"):
                    # The importer maps chartId through this key: it must be present.
                    assert isinstance(child["meta"]["chartId"], int)
                    chart = charts[child["meta"]["uuid"]]
                    assert child["meta"]["sliceName"] == chart["slice_name"]


def test_one_dashboard_per_source_with_a_french_title(
    configs: dict[str, SourceConfig], dashboards: dict[str, dict[str, Any]]
) -> None:
    assert {doc["slug"] for doc in dashboards.values()} == {f"civic-{s}" for s in configs}
    for config in configs.values():
        dashboard = dashboards[f"{config.name}.yaml"]
        assert dashboard["dashboard_title"] == config.title
        assert dashboard["published"] is True
        intro = next(i for i in dashboard["position"].values() if _is(i, "MARKDOWN"))
        assert f"« {SUPPRESSED_LABEL} »" in intro["meta"]["code"]


def test_every_aggregate_has_a_table_that_shows_suppressed_cells_as_such(
    configs: dict[str, SourceConfig],
    charts: dict[str, dict[str, Any]],
    datasets: dict[str, dict[str, Any]],
) -> None:
    """A suppressed cell reads « secret statistique » somewhere, never 0 and never nothing."""
    shown = {
        datasets[chart["dataset_uuid"]]["table_name"]
        for chart in charts.values()
        if {DISPLAYED_COUNT, CELL_LABEL} & _referenced_names(chart)
    }
    aggregates = {
        aggregate_table(config, aggregate.name)
        for config in configs.values()
        for aggregate in config.aggregates
    }
    assert aggregates <= shown
    by_table = {doc["table_name"]: doc for doc in datasets.values()}
    for table in aggregates:
        column = next(c for c in by_table[table]["columns"] if c["column_name"] == DISPLAYED_COUNT)
        assert f"THEN '{SUPPRESSED_LABEL}'" in column["expression"]


def test_run_level_charts_are_filtered_to_their_dashboards_source(
    charts: dict[str, dict[str, Any]],
    datasets: dict[str, dict[str, Any]],
    dashboards: dict[str, dict[str, Any]],
) -> None:
    """The run-level tables hold every source: each dashboard shows its own source's runs."""
    filtered = 0
    for name, dashboard in dashboards.items():
        source = name.removesuffix(".yaml")
        for item in _position_charts(dashboard):
            chart = charts[item["meta"]["uuid"]]
            if datasets[chart["dataset_uuid"]]["table_name"] not in RUN_TABLES:
                continue
            (query,) = json.loads(chart["query_context"])["queries"]
            assert query["filters"] == [{"col": "source", "op": "==", "val": source}]
            (adhoc,) = chart["params"]["adhoc_filters"]
            assert (adhoc["subject"], adhoc["operator"], adhoc["comparator"]) == (
                "source",
                "==",
                source,
            )
            filtered += 1
    assert filtered == 5 * len(dashboards)


def test_viz_types_are_current_ones(charts: dict[str, dict[str, Any]]) -> None:
    """Legacy names (`line`, `dist_bar`, `pivot_table`...) are gone from Superset 6."""
    used = {chart["viz_type"] for chart in charts.values()}
    assert used == {
        "echarts_timeseries_bar",
        "echarts_timeseries_line",
        "pivot_table_v2",
        "table",
        "country_map",
        "big_number_total",
    }


def test_a_new_aggregate_gets_its_dataset_chart_and_place(configs: dict[str, SourceConfig]) -> None:
    """Configuration as data: a new aggregate in a source file needs no Superset code."""
    data = configs["consultation"].model_dump(by_alias=True, mode="json")
    data["aggregates"].append(
        {"name": "pietons_par_genre", "title": "Piétonnisation par genre",
         "dimensions": [{"field": "gender"}, {"field": "q_pietons"}]}
    )  # fmt: skip
    changed = parse_source_config(data, "test")
    files = render_assets([configs["signalements"], changed])
    dataset = yaml.safe_load(
        files[
            "datasets/entrepot_civique_lecture_seule/aggregates__consultation__pietons_par_genre.yaml"
        ]
    )
    assert [c["column_name"] for c in dataset["columns"]][:3] == ["gender", "q_pietons", "count"]
    chart = yaml.safe_load(files["charts/consultation__pietons_par_genre__cellules.yaml"])
    assert chart["viz_type"] == "pivot_table_v2"
    assert chart["dataset_uuid"] == dataset["uuid"]
    dashboard = yaml.safe_load(files["dashboards/consultation.yaml"])
    assert chart["uuid"] in {i["meta"]["uuid"] for i in _position_charts(dashboard)}
