"""The committed Superset assets: generated from the sources, consistent with each other and
with the warehouse tables the loader creates."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.core.source_config import SourceConfig, load_all_sources, parse_source_config
from include.ingest import reasons
from include.superset.assets import (
    ASSETS_DIR,
    DATABASE_FILE,
    render_assets,
    stale_assets,
    write_assets,
)
from include.superset.charts import (
    CHART_HEIGHT,
    DEFAULT_VISIBLE_ROWS,
    GRID_UNIT_PX,
    ROW_PX,
    WRAPPED_ROW_PX,
)
from include.superset.datasets import (
    CELL_LABEL,
    DISPLAYED_COUNT,
    GROUPED_LABEL,
    LABEL_SUFFIX,
    QUARANTINE_REASONS,
    REASON_LABEL,
    RUN_TABLES,
    superset_type,
)
from include.superset.labels import SUPPRESSED_LABEL
from include.superset.sql_labels import label_case, sql_identifier
from include.warehouse.load import WAREHOUSE_SQL
from include.warehouse.pg_tables import aggregate_columns, aggregate_table, curated_columns

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
        # A saved metric by name; an adhoc SQL one (a sort key) names none.
        names.update(item[0] for item in query.get("orderby") or [] if isinstance(item[0], str))
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
        queries = json.loads(chart["query_context"])["queries"]
        # A mixed chart sends one query per axis; every other chart one.
        assert len(queries) == (2 if chart["viz_type"] == "mixed_timeseries" else 1)
        raw = chart["params"].get("query_mode") == "raw"
        for query in queries:
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
            for query in json.loads(chart["query_context"])["queries"]:
                assert query["filters"] == [{"col": "source", "op": "==", "val": source}]
            for key in ("adhoc_filters", "adhoc_filters_b"):  # a mixed chart has two
                if key not in chart["params"]:
                    continue
                (adhoc,) = chart["params"][key]
                assert (adhoc["subject"], adhoc["operator"], adhoc["comparator"]) == (
                    "source",
                    "==",
                    source,
                )
            filtered += 1
    assert filtered == 7 * len(dashboards)


def test_viz_types_are_current_ones(charts: dict[str, dict[str, Any]]) -> None:
    """Legacy names (`line`, `dist_bar`, `pivot_table`...) are gone from Superset 6."""
    used = {chart["viz_type"] for chart in charts.values()}
    assert used == {
        "echarts_timeseries_bar",
        "echarts_timeseries_line",
        "mixed_timeseries",
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


def test_communes_within_their_departements_get_a_drill_down_table(
    configs: dict[str, SourceConfig],
    charts: dict[str, dict[str, Any]],
    datasets: dict[str, dict[str, Any]],
) -> None:
    """An aggregate by département and commune gets a table by département (the analyst
    drills to the communes with « Explorer par », which needs the commune groupable) and a
    table of its cells; no map and no cross-tab of a hundred commune columns. A commune
    alone (no département to drill from) gets no drill-down."""
    by_table: dict[str, list[dict[str, Any]]] = {}
    for chart in charts.values():
        by_table.setdefault(datasets[chart["dataset_uuid"]]["table_name"], []).append(chart)
    drills = {
        table
        for table, placed in by_table.items()
        for chart in placed
        if GROUPED_LABEL in (chart["params"].get("metrics") or [])
    }
    assert drills == {"signalements__par_departement_et_commune"}
    (table,) = drills
    params = {chart["params"]["viz_type"]: chart["params"] for chart in by_table[table]}
    assert set(params) == {"table"}, "no map, no cross-tab for communes within départements"
    modes = sorted(chart["params"]["query_mode"] for chart in by_table[table])
    assert modes == ["aggregate", "raw"]
    (drill,) = (c["params"] for c in by_table[table] if c["params"]["query_mode"] == "aggregate")
    assert drill["groupby"] == ["postcode_departement"]
    assert drill["metrics"] == [GROUPED_LABEL]
    (cells,) = (c["params"] for c in by_table[table] if c["params"]["query_mode"] == "raw")
    assert cells["all_columns"] == ["postcode_departement", "commune", DISPLAYED_COUNT]
    (dataset,) = (d for d in datasets.values() if d["table_name"] == table)
    commune = _columns_by_name(dataset)["commune"]
    assert commune["groupby"] is True
    metric = next(m for m in dataset["metrics"] if m["metric_name"] == GROUPED_LABEL)
    # Suppressed cells never enter the sum; a wholly suppressed group reads the label.
    assert 'CASE WHEN "suppressed" THEN NULL ELSE "count" END' in metric["expression"]
    assert f"= COUNT(*) THEN '{SUPPRESSED_LABEL}'" in metric["expression"]


# -- French labels for coded values --------------------------------------------------------


def _split_part(text: str | None, separator: str, index: int) -> str | None:
    """PostgreSQL's split_part: the index-th piece (from 1), '' past the last one."""
    if text is None:
        return None
    pieces = text.split(separator)
    return pieces[index - 1] if index <= len(pieces) else ""


def _evaluate(expression: str, rows: list[dict[str, str]]) -> list[str]:
    """Run a calculated column's SQL over `rows`, in SQLite with PostgreSQL's split_part:
    the expressions use nothing else beyond standard CASE, || and string literals."""
    connection = sqlite3.connect(":memory:")
    connection.create_function("split_part", 3, _split_part, deterministic=True)
    names = list(rows[0])
    connection.execute(f"CREATE TABLE t ({', '.join(map(sql_identifier, names))})")
    placeholders = ", ".join("?" for _ in names)
    insert = f"INSERT INTO t VALUES ({placeholders})"  # noqa: S608 (placeholders only)
    connection.executemany(insert, [tuple(row[name] for name in names) for row in rows])
    # The generator's own SQL is what is under test: running it is the point.
    select = f"SELECT {expression} FROM t ORDER BY rowid"  # noqa: S608
    return [value for (value,) in connection.execute(select)]


def _columns_by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {column["column_name"]: column for column in doc["columns"]}


def _labelled_dimensions(configs: dict[str, SourceConfig]) -> list[tuple[str, str, dict[str, str]]]:
    """(aggregate table, dimension column, labels) of every coded aggregate dimension."""
    return [
        (aggregate_table(config, aggregate.name), dimension.column, labels)
        for config in configs.values()
        for aggregate in config.aggregates
        for dimension in aggregate.dimensions
        if (labels := config.dimension_labels(dimension))
    ]


def test_shipped_category_dimensions_are_labelled(configs: dict[str, SourceConfig]) -> None:
    """Every category an aggregate counts by has its French labels (none left as codes)."""
    labelled = {(table, column) for table, column, _ in _labelled_dimensions(configs)}
    categories = {
        (aggregate_table(config, aggregate.name), dimension.column)
        for config in configs.values()
        for aggregate in config.aggregates
        for dimension in aggregate.dimensions
        if config.field(dimension.field).allowed
    }
    assert categories
    assert categories <= labelled


def test_label_columns_show_each_code_as_its_french_label(
    configs: dict[str, SourceConfig], datasets: dict[str, dict[str, Any]]
) -> None:
    by_table = {doc["table_name"]: doc for doc in datasets.values()}
    for table, column, labels in _labelled_dimensions(configs):
        columns = _columns_by_name(by_table[table])
        label = columns[column + LABEL_SUFFIX]
        assert label["verbose_name"] == columns[column]["verbose_name"].removesuffix(" (code)")
        codes = [*labels, "(non renseigné)", "code_sans_libelle"]
        shown = _evaluate(label["expression"], [{column: code} for code in codes])
        assert shown == [*labels.values(), "(non renseigné)", "code_sans_libelle"], table


def test_record_level_labels_cover_the_groups_k_anonymity_may_publish(
    configs: dict[str, SourceConfig], datasets: dict[str, dict[str, Any]]
) -> None:
    curated = next(
        doc
        for doc in datasets.values()
        if (doc["schema"], doc["table_name"]) == ("curated", "consultation")
    )
    occupation = _columns_by_name(curated)["occupation" + LABEL_SUFFIX]
    shown = _evaluate(
        occupation["expression"], [{"occupation": v} for v in ("employe", "salaries", "*")]
    )
    assert shown == ["Employés", "Salariés", "*"]


def test_label_sql_escapes_quotes() -> None:
    labels = {"a": "Artisans, commerçants, chefs d'entreprise", "b'": 'Dit "b" ; DROP TABLE t'}
    expression = label_case('col"x', labels)
    assert "'Artisans, commerçants, chefs d''entreprise'" in expression
    assert "WHEN 'b''' THEN" in expression
    shown = _evaluate(expression, [{'col"x': code} for code in ("a", "b'", "c")])
    assert shown == [*labels.values(), "c"]


def test_charts_show_labels_never_codes(
    configs: dict[str, SourceConfig],
    charts: dict[str, dict[str, Any]],
    datasets: dict[str, dict[str, Any]],
) -> None:
    """Axes, legends, pivot headers and table columns of a coded dimension are its labels."""
    coded = {(table, column) for table, column, _ in _labelled_dimensions(configs)}
    checked = 0
    for chart in charts.values():
        table = datasets[chart["dataset_uuid"]]["table_name"]
        names = _referenced_names(chart)
        for column in [c for t, c in coded if t == table]:
            if chart["viz_type"] == "country_map":
                continue  # the map reads départements only
            assert column not in names, f"{chart['slice_name']} shows the codes of {column}"
            assert column + LABEL_SUFFIX in names, chart["slice_name"]
            checked += 1
    assert checked >= len(coded)


def test_a_field_without_labels_is_charted_by_its_codes(configs: dict[str, SourceConfig]) -> None:
    data = configs["signalements"].model_dump(by_alias=True, mode="json")
    category = next(spec for spec in data["fields"] if spec["name"] == "category")
    category["labels"] = {}
    files = render_assets([parse_source_config(data, "test"), configs["consultation"]])
    dataset = yaml.safe_load(
        files[
            "datasets/entrepot_civique_lecture_seule/"
            "aggregates__signalements__par_categorie_et_mois.yaml"
        ]
    )
    assert "category" + LABEL_SUFFIX not in _columns_by_name(dataset)
    assert _columns_by_name(dataset)["category"]["verbose_name"] == "Catégorie du problème signalé"
    chart = yaml.safe_load(files["charts/signalements__par_categorie_et_mois__cellules.yaml"])
    assert chart["params"]["groupbyColumns"] == ["category"]


def test_a_grouped_dimension_reads_its_group_labels(configs: dict[str, SourceConfig]) -> None:
    """`occupation:1` counts groups: their labels are the grouping's, or the codes if none."""
    data = configs["consultation"].model_dump(by_alias=True, mode="json")
    data["aggregates"].append(
        {"name": "transports_par_groupe", "title": "Transports par groupe",
         "dimensions": [{"field": "occupation", "level": "1"}, {"field": "q_transports"}]}
    )  # fmt: skip
    path = (
        "datasets/entrepot_civique_lecture_seule/"
        "aggregates__consultation__transports_par_groupe.yaml"
    )
    files = render_assets([parse_source_config(data, "test")])
    label = _columns_by_name(yaml.safe_load(files[path]))["occupation_1" + LABEL_SUFFIX]
    shown = _evaluate(label["expression"], [{"occupation_1": g} for g in ("salaries", "inactifs")])
    assert shown == ["Salariés", "Retraités ou sans emploi"]
    occupation = next(spec for spec in data["fields"] if spec["name"] == "occupation")
    occupation["hierarchy"]["labels"] = []
    files = render_assets([parse_source_config(data, "test")])
    assert "occupation_1" + LABEL_SUFFIX not in _columns_by_name(yaml.safe_load(files[path]))


def _reason_rows(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"source": source, "reason": reason} for source, reason in pairs]


def test_quarantine_reasons_read_in_french_with_each_sources_field_names(
    datasets: dict[str, dict[str, Any]], charts: dict[str, dict[str, Any]]
) -> None:
    (doc,) = [d for d in datasets.values() if d["table_name"] == QUARANTINE_REASONS]
    expression = _columns_by_name(doc)[REASON_LABEL]["expression"]
    rows = _reason_rows(
        ("signalements", "missing_required:submitted_at"),
        ("consultation", "missing_required:submitted_at"),
        ("consultation", "wrong_type:q_transports"),
        ("signalements", "not_allowed:category"),
        ("consultation", "invalid_utf8"),
        ("signalements", "unencrypted_object"),
        ("consultation", "too_long:champ_ajoute"),  # a field the config no longer has
        ("signalements", "nouveau_motif"),  # a code added to the ingest later
    )
    assert _evaluate(expression, rows) == [
        "Date et heure du dépôt : champ obligatoire manquant",
        "Date de la réponse : champ obligatoire manquant",
        "Satisfaction vis-à-vis des transports en commun : type incorrect",
        "Catégorie du problème signalé : valeur non autorisée",
        "Encodage invalide",
        "Fichier non chiffré",
        "champ_ajoute : texte trop long",
        "nouveau_motif",
    ]
    motifs = [c for c in charts.values() if c["dataset_uuid"] == doc["uuid"]]
    assert motifs
    assert all(c["params"]["x_axis"] == REASON_LABEL for c in motifs)


def test_every_reason_code_has_a_french_label() -> None:
    codes = {
        value for name, value in vars(reasons).items() if name.isupper() and isinstance(value, str)
    }
    assert codes == set(reasons.REASON_LABELS)
    assert set(reasons.FIELD_REASONS) <= codes
    assert all(label and label == label.strip() for label in reasons.REASON_LABELS.values())


# -- Numbers and dates in French -------------------------------------------------------------


def test_count_axes_show_whole_numbers_in_french(charts: dict[str, dict[str, Any]]) -> None:
    bars = [c for c in charts.values() if c["viz_type"] == "echarts_timeseries_bar"]
    assert bars
    for chart in bars:
        params = chart["params"]
        assert params["y_axis_format"] == ",d", chart["slice_name"]
        value_axis = "xAxis" if params["orientation"] == "horizontal" else "yAxis"
        # Superset parses `echart_options` as an object literal; JSON is one.
        assert json.loads(params["echart_options"])[value_axis]["minInterval"] == 1


def test_dates_read_as_french_dates(charts: dict[str, dict[str, Any]]) -> None:
    for chart in charts.values():
        params = chart["params"]
        if chart["viz_type"] == "echarts_timeseries_line":
            assert params["x_axis_time_format"] == "%-d %b %Y", chart["slice_name"]
        if "table_timestamp_format" in params:
            assert params["table_timestamp_format"] == "%d/%m/%Y", chart["slice_name"]


# -- Layout ----------------------------------------------------------------------------------


def test_rows_are_full_and_their_charts_equally_tall(dashboards: dict[str, dict[str, Any]]) -> None:
    for name, dashboard in dashboards.items():
        tree = dashboard["position"]
        for row_id in tree["GRID_ID"]["children"]:
            children = [tree[child] for child in tree[row_id]["children"]]
            assert sum(child["meta"]["width"] for child in children) == GRID_WIDTH, (name, row_id)
            heights = {child["meta"]["height"] for child in children if _is(child, "CHART")}
            assert len(heights) <= 1, (name, row_id)


def test_wide_cross_tabs_span_the_row_and_show_their_rows(
    charts: dict[str, dict[str, Any]], dashboards: dict[str, dict[str, Any]]
) -> None:
    placed = {
        item["meta"]["uuid"]: item["meta"]
        for dashboard in dashboards.values()
        for item in _position_charts(dashboard)
    }
    pivots = {
        c["slice_name"]: placed[c["uuid"]]
        for c in charts.values()
        if c["viz_type"] == "pivot_table_v2"
    }
    # Eight categories in columns: the whole width, a year of months or départements tall.
    for name in (
        "Signalements par catégorie et par mois (tableau croisé)",
        "Signalements par catégorie et par département (tableau croisé)",
    ):
        assert pivots[name]["width"] == GRID_WIDTH
        assert pivots[name]["height"] * GRID_UNIT_PX >= DEFAULT_VISIBLE_ROWS * ROW_PX
    # Five answers in columns: half the width, every one of the eight occupations shown.
    occupation = pivots[
        "Satisfaction vis-à-vis des transports par situation professionnelle (tableau croisé)"
    ]
    assert occupation["width"] == GRID_WIDTH // 2
    assert occupation["height"] * GRID_UNIT_PX >= 8 * WRAPPED_ROW_PX
    assert all(meta["height"] > CHART_HEIGHT for meta in pivots.values())


# -- Native filters and cross-filters (issue #17) -------------------------------------------

# What each dashboard's filter bar offers, in order: the period, what was reported and
# through which channel, who and where, each at the level the aggregates publish (labels
# where the codes have some).
EXPECTED_FILTER_COLUMNS = {
    "signalements": [
        "submitted_at_month",
        "category_libelle",
        "channel_libelle",
        "postcode_departement",
        "commune",
    ],
    "consultation": ["age_20", "gender_libelle", "occupation_libelle"],
}


def _filters(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return dashboard["metadata"]["native_filter_configuration"]


def test_each_dashboard_has_the_expected_native_filters_and_cross_filters(
    configs: dict[str, SourceConfig], dashboards: dict[str, dict[str, Any]]
) -> None:
    assert set(EXPECTED_FILTER_COLUMNS) == set(configs)
    for source, columns in EXPECTED_FILTER_COLUMNS.items():
        dashboard = dashboards[f"{source}.yaml"]
        filters = _filters(dashboard)
        assert [f["targets"][0]["column"]["name"] for f in filters] == columns, source
        assert dashboard["metadata"]["cross_filters_enabled"] is True
        ids = [f["id"] for f in filters]
        assert len(set(ids)) == len(ids), f"{source}: filter ids repeat"
        for native in filters:
            assert native["id"].startswith("NATIVE_FILTER-")
            assert native["type"] == "NATIVE_FILTER"
            assert native["filterType"] == "filter_select"
            assert len(native["targets"]) == 1
            # No default: the whole release shows until an analyst picks values.
            assert native["defaultDataMask"]["filterState"] == {}
            assert native["controlValues"]["multiSelect"] is True
            assert native["name"][:1].isupper()


def test_native_filters_target_published_columns_and_scope_the_charts_that_have_them(
    datasets: dict[str, dict[str, Any]],
    charts: dict[str, dict[str, Any]],
    dashboards: dict[str, dict[str, Any]],
) -> None:
    """A filter lists values of an aggregate the release publishes (never the record-level
    table, never below the published level), and is scoped to exactly the dashboard's
    charts whose dataset has its column: the importer maps `excluded` through `chartId`."""
    for name, dashboard in dashboards.items():
        placed = {
            item["meta"]["chartId"]: item["meta"]["uuid"] for item in _position_charts(dashboard)
        }
        for native in _filters(dashboard):
            target = native["targets"][0]
            column = target["column"]["name"]
            dataset = datasets.get(target["datasetUuid"])
            assert dataset is not None, f"{name}: {native['name']} targets an unknown dataset"
            assert dataset["schema"] == "aggregates", f"{name}: {native['name']}"
            assert dataset["table_name"] not in RUN_TABLES
            assert column in _columns_by_name(dataset), f"{name}: {column} not in its dataset"
            excluded = native["scope"]["excluded"]
            assert native["scope"]["rootPath"] == ["ROOT_ID"]
            assert set(excluded) <= set(placed), f"{name}: {native['name']} excludes unknown ids"
            applies = {
                chart_id
                for chart_id, uuid in placed.items()
                if column in _columns_by_name(datasets[charts[uuid]["dataset_uuid"]])
            }
            assert applies, f"{name}: {native['name']} filters no chart"
            assert set(placed) - set(excluded) == applies, f"{name}: {native['name']}"
            # The values come from a dataset one of the filtered charts reads.
            assert target["datasetUuid"] in {
                charts[placed[chart_id]]["dataset_uuid"] for chart_id in applies
            }


def test_filters_follow_the_published_dimensions(configs: dict[str, SourceConfig]) -> None:
    """The reports' channel has a filter because an aggregate publishes it, on its French
    labels, scoped to that aggregate's charts; without the aggregate, no filter (it would
    filter no chart)."""
    data = configs["signalements"].model_dump(by_alias=True, mode="json")
    by_channel = [a for a in data["aggregates"] if "channel" in str(a["dimensions"])]
    assert len(by_channel) == 1, "the sample config publishes the channel in one aggregate"
    data["aggregates"].remove(by_channel[0])
    without = yaml.safe_load(
        render_assets([parse_source_config(data, "test")])["dashboards/signalements.yaml"]
    )
    actual = yaml.safe_load(
        render_assets([configs["signalements"]])["dashboards/signalements.yaml"]
    )
    without_columns = [f["targets"][0]["column"]["name"] for f in _filters(without)]
    columns = [f["targets"][0]["column"]["name"] for f in _filters(actual)]
    assert "channel_libelle" not in without_columns
    # What was reported comes before who and where: the channel right after the category.
    assert columns == [*without_columns[:2], "channel_libelle", *without_columns[2:]]
    channel = _filters(actual)[2]
    assert channel["name"] == "Canal de dépôt"
    # Only the channel aggregate's table has the column: its two charts (bars over the
    # months, cross-tab) are in scope, every other chart out of it.
    placed = len(_position_charts(actual))
    assert len(channel["scope"]["excluded"]) == placed - 2


def test_the_weekly_view_draws_the_releases_from_the_releases_table_chart(
    charts: dict[str, dict[str, Any]], datasets: dict[str, dict[str, Any]]
) -> None:
    """Submissions and rates per week, and each release marked where its data ends: an
    event annotation layer fed by the releases table of the same source (its UUID here,
    its id once imported), declared alike in the params and in every query."""
    weekly = [c for c in charts.values() if c["viz_type"] == "mixed_timeseries"]
    assert len(weekly) == 2
    for chart in weekly:
        params = chart["params"]
        assert params["time_grain_sqla"] == "P1W"
        assert (params["seriesType"], params["seriesTypeB"]) == ("bar", "line")
        assert (params["yAxisIndex"], params["yAxisIndexB"]) == (0, 1)
        (layer,) = params["annotation_layers"]
        assert (layer["annotationType"], layer["sourceType"]) == ("EVENT", "table")
        source_chart = charts[layer["value"]]
        table = datasets[source_chart["dataset_uuid"]]["table_name"]
        assert table == "versions_publiees"
        assert source_chart["params"]["adhoc_filters"] == params["adhoc_filters"]
        columns = source_chart["params"]["all_columns"]
        assert {layer["timeColumn"], layer["titleColumn"], *layer["descriptionColumns"]} <= set(
            columns
        )
        for query in json.loads(chart["query_context"])["queries"]:
            assert query["annotation_layers"] == [layer]
            assert query["extras"]["time_grain_sqla"] == "P1W"
