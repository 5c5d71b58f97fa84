"""The analysts' charts, derived from each source's aggregates, plus the quality charts.

Rules, so that a new aggregate in `sources/<source>.yaml` gets its charts without code:

* every aggregate gets a *cells table* showing each published cell, with suppressed
  cells written « secret statistique » (never 0, never blank): a cross-tab
  (`pivot_table_v2`) for two dimensions, a sorted table (`table`) for one;
* an aggregate with a date dimension also gets stacked bars over time
  (`echarts_timeseries_bar`, the date labels as a category axis in label order);
* an aggregate with a `postcode:departement` dimension also gets a map of France
  (`country_map`, on the dataset's ISO-code calculated column);
* an aggregate of communes within their départements (`postcode:departement` and the
  commune placed by that postcode) gets instead a table by département from which the
  analyst drills to its communes (Superset's « Explorer par »), and a table of its cells
  rather than a cross-tab;
* coded dimensions (categories) are shown by their French labels (the dataset's
  `<column>_libelle` calculated column), in axes, legends and table headers;
* counts read as French integers: `,d` (« 1 234 » with Superset's French d3 locale) and
  no axis tick between two integers;
* a cross-tab whose columns are many (or not known in advance) spans the dashboard's
  whole width, and every table is as tall as the rows it is expected to show.

Each source also gets the quality charts from the run-level tables, filtered to the
source. A chart carries its `params` (what the browser renders from) and the
`query_context` the frontend would build from them: Superset only stores a query
context when a chart is saved from its UI, and `GET /api/v1/chart/<id>/data/` (used
to check every chart) needs one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from include.core.source_config import (
    Aggregate,
    DateLevels,
    Dimension,
    FieldType,
    Grouping,
    HierarchyFile,
    NumericBands,
    SourceConfig,
)
from include.superset.datasets import (
    AGGREGATES_SCHEMA,
    CELL_LABEL,
    DISPLAYED_COUNT,
    GROUPED_LABEL,
    ISO_SUFFIX,
    PUBLISHED_COUNT,
    PUBLISHED_NUMBER,
    PUBLISHED_SUM_SQL,
    QUARANTINE_RATE,
    QUARANTINE_REASONS,
    QUARANTINED_ROWS,
    REASON_LABEL,
    REDACTED_SHARE,
    RELEASES,
    ROWS_RECEIVED,
    RUN_INDICATORS,
    commune_drill,
    departement_dimension,
    display_column,
)
from include.superset.labels import SUPPRESSED_LABEL, dimension_label
from include.warehouse.pg_tables import aggregate_table

ROW_LIMIT = 10_000
SOURCE_COLUMN = "source"
GRID_WIDTH = 12  # columns of a dashboard row
HALF_WIDTH = GRID_WIDTH // 2
CHART_HEIGHT = 50  # grid units of 8 px
GRID_UNIT_PX = 8
# Counts: integers with French digit grouping (Superset's d3 locale, superset_config.py).
COUNT_FORMAT = ",d"
# Dates as a French reader writes them, in the French month names of the d3 locale.
DATE_FORMAT = "%-d %b %Y"
TABLE_DATE_FORMAT = "%d/%m/%Y"
# Long axis labels in a font every browser has (see `_bar_options`).
LABEL_FONT = "Helvetica, Arial, sans-serif"
# A cross-tab with more columns than this (or an unknown number) gets the whole width.
HALF_WIDTH_PIVOT_COLUMNS = 6
# Rows a table of unknown length shows before it scrolls (a year of months).
DEFAULT_VISIBLE_ROWS = 12
# What a table needs besides its rows (chart title, headers; search and pages for a
# table), and one row, in pixels, measured on Superset 6.1's screenshots: a half-width
# cross-tab writes « secret statistique » on two lines.
PIVOT_CHROME_PX = 200
TABLE_CHROME_PX = 200
ROW_PX = 30
WRAPPED_ROW_PX = 44
TABLE_PAGE_ROWS = 10
_RUN_FIGURES = [
    "run_date",
    "rows_read",
    "rows_quarantined",
    "rows_duplicate",
    "rows_published",
    "rows_suppressed",
    "texts",
    "texts_redacted",
]


@dataclass(frozen=True)
class Chart:
    """One chart: what Superset stores (params, query) and where the dashboard puts it."""

    key: str  # stable, unique: the chart's UUID derives from it
    title: str
    description: str
    viz_type: str
    dataset: str  # Dataset.key
    params: dict[str, Any]
    queries: list[dict[str, Any]]
    width: int = HALF_WIDTH  # of the dashboard grid's 12 columns
    height: int = CHART_HEIGHT  # grid units of 8 px

    def query_context(self) -> dict[str, Any]:
        """The query context Superset's frontend would save (datasource set on import)."""
        return {
            "force": False,
            "queries": self.queries,
            "form_data": self.params,
            "result_format": "json",
            "result_type": "full",
        }


@dataclass(frozen=True)
class _Query:
    """A query object as Superset's frontend builds it; None leaves a key out, as it does."""

    columns: list[Any] = field(default_factory=list)
    metrics: list[str] | None = None  # left out: raw rows, no GROUP BY
    orderby: list[list[Any]] | None = None
    filters: list[dict[str, Any]] = field(default_factory=list)
    row_limit: int | None = ROW_LIMIT
    series_columns: list[str] | None = None  # the ECharts axis charts' series
    post_processing: list[dict[str, Any]] | None = None
    time_grain: str | None = None

    def build(self) -> dict[str, Any]:
        extras: dict[str, Any] = {"having": "", "where": ""}
        if self.time_grain:
            extras = {"time_grain_sqla": self.time_grain, **extras}
        optional = {
            "metrics": self.metrics,
            "orderby": self.orderby,
            "row_limit": self.row_limit,
            "series_columns": self.series_columns,
        }
        query: dict[str, Any] = {
            "filters": self.filters,
            "extras": extras,
            "applied_time_extras": {},
            "columns": self.columns,
            **{key: value for key, value in optional.items() if value is not None},
            "annotation_layers": [],
            "series_limit": 0,
            "group_others_when_limit_reached": False,
            "order_desc": True,
            "url_params": {},
            "custom_params": {},
            "custom_form_data": {},
        }
        if self.post_processing is not None:
            query["time_offsets"] = []
            query["post_processing"] = self.post_processing
        return query


def _source_filter(config: SourceConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(adhoc filter for params, filter for the query): the run-level tables hold all sources."""
    adhoc = {
        "clause": "WHERE",
        "expressionType": "SIMPLE",
        "subject": SOURCE_COLUMN,
        "operator": "==",
        "comparator": config.name,
        "filterOptionName": f"filter_source_{config.name}",
        "isExtra": False,
        "isNew": False,
        "sqlExpression": None,
    }
    return [adhoc], [{"col": SOURCE_COLUMN, "op": "==", "val": config.name}]


def _base_axis(column: str) -> dict[str, Any]:
    return {
        "columnType": "BASE_AXIS",
        "sqlExpression": column,
        "label": column,
        "expressionType": "SQL",
        "isColumnReference": True,
    }


def _bar_options(horizontal: bool) -> str:
    """ECharts options for count bars (Superset's `echart_options`, an object literal).

    The count axis keeps to whole numbers: without `minInterval` a small count gets
    ticks at 0.5, 1.5... Horizontal bars carry long labels (quarantine reasons) on their
    category axis, drawn in a locally installed font: ECharts sizes the axis from its
    first measure of each label, taken before the dashboard's web font (Inter) has
    loaded and cached ever after, so the longest label was cut at the chart's edge.
    """
    if not horizontal:
        return json.dumps({"yAxis": {"minInterval": 1}})
    # Superset swaps the axes of horizontal bars after building them.
    return json.dumps(
        {"xAxis": {"minInterval": 1}, "yAxis": {"axisLabel": {"fontFamily": LABEL_FONT}}}
    )


def _bars(
    *,
    key: str,
    title: str,
    description: str,
    dataset: str,
    x_axis: str,
    metric: str,
    groupby: list[str],
    extra_params: dict[str, Any],
    filters: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], []),
    width: int = HALF_WIDTH,
) -> Chart:
    """Bars of a count over a category axis (`x_axis`), one stacked series per `groupby` value."""
    adhoc, query_filters = filters
    horizontal = extra_params.get("orientation") == "horizontal"
    params = {
        "viz_type": "echarts_timeseries_bar",
        "x_axis": x_axis,
        "x_axis_sort_asc": True,
        "metrics": [metric],
        "groupby": groupby,
        "adhoc_filters": adhoc,
        "row_limit": ROW_LIMIT,
        "order_desc": True,
        "stack": "Stack" if groupby else None,
        "orientation": "vertical",
        "show_legend": bool(groupby),
        "legendOrientation": "top",
        "legendType": "scroll",
        "rich_tooltip": True,
        "color_scheme": "supersetColors",
        "y_axis_format": COUNT_FORMAT,
        "echart_options": _bar_options(horizontal),
        "truncateXAxis": True,
        "show_empty_columns": True,
        **extra_params,
    }
    pivot = {
        "operation": "pivot",
        "options": {
            "index": [x_axis],
            "columns": groupby,
            "aggregates": {metric: {"operator": "mean"}},
            "drop_missing_columns": False,
        },
    }
    post = [pivot, {"operation": "flatten"}]
    if groupby:
        rename = {"columns": {metric: None}, "level": 0, "inplace": True}
        post.insert(1, {"operation": "rename", "options": rename})
    query = _Query(
        columns=[_base_axis(x_axis), *groupby],
        metrics=[metric],
        orderby=[[metric, False]],
        filters=query_filters,
        series_columns=groupby,
        post_processing=post,
    )
    return Chart(
        key,
        title,
        description,
        "echarts_timeseries_bar",
        dataset,
        params,
        [query.build()],
        width=width,
    )


def _dataset_key(config: SourceConfig, aggregate: Aggregate) -> str:
    return f"{AGGREGATES_SCHEMA}.{aggregate_table(config, aggregate.name)}"


def _suppression_note(config: SourceConfig) -> str:
    return (
        f"Les cellules de moins de {config.min_cell_count} (et celles masquées pour qu'on ne"
        f" puisse pas les déduire) sont affichées « {SUPPRESSED_LABEL} »."
    )


def _expected_values(config: SourceConfig, dimension: Dimension) -> int | None:
    """How many values a dimension column may hold, when the config says so (categories,
    groups, small integer ranges, bands of a bounded number), counting the « (non
    renseigné) » of an optional field; None for dates, places and free values."""
    spec = config.field(dimension.field)
    hierarchy = spec.hierarchy
    count: int | None = None
    if dimension.level is None:
        if spec.allowed:
            count = len(spec.allowed)
        elif (
            spec.type is FieldType.INTEGER and spec.minimum is not None and spec.maximum is not None
        ):
            count = int(spec.maximum) - int(spec.minimum) + 1
    elif isinstance(hierarchy, Grouping):
        count = len(set(hierarchy.levels[int(dimension.level) - 1].values()))
    elif isinstance(hierarchy, HierarchyFile):
        count = len({path[int(dimension.level) - 1] for path in hierarchy.table.paths.values()})
    elif (
        isinstance(hierarchy, NumericBands)
        and spec.minimum is not None
        and spec.maximum is not None
    ):
        band = int(dimension.level)
        count = int(spec.maximum) // band - int(spec.minimum) // band + 1
    if count is None:
        return None
    return count if spec.required else count + 1


def _table_height(rows: int | None, chrome_px: int, row_px: int = ROW_PX) -> int:
    """Grid units that show `rows` rows (at most a screenful) without scrolling."""
    visible = min(rows or DEFAULT_VISIBLE_ROWS, DEFAULT_VISIBLE_ROWS)
    return max(CHART_HEIGHT, math.ceil((chrome_px + visible * row_px) / GRID_UNIT_PX))


def cells_chart(config: SourceConfig, aggregate: Aggregate) -> Chart:
    """Every cell of the aggregate, suppressed ones written « secret statistique »."""
    dataset = _dataset_key(config, aggregate)
    key = f"{config.name}/{aggregate.name}/cellules"
    nested = commune_drill(config, aggregate)
    if len(aggregate.dimensions) == 1 or nested is not None:
        # One row per cell: communes within their départements are too many columns for a
        # cross-tab (and a commune belongs to one département: the cross-tab would be empty
        # but for one cell per column); each département's communes then follow each other.
        dimensions = list(nested or aggregate.dimensions)
        dimension = dimensions[-1]
        # Published cells first, largest first (a suppressed cell's count is NULL).
        order = [
            *([[nested[0].column, True]] if nested else []),
            ["suppressed", True],
            [PUBLISHED_NUMBER, False],
        ]
        params = {
            "viz_type": "table",
            "query_mode": "raw",
            "all_columns": [*(display_column(config, d) for d in dimensions), DISPLAYED_COUNT],
            "order_by_cols": [f'["{column}", {str(asc).lower()}]' for column, asc in order],
            "adhoc_filters": [],
            "row_limit": ROW_LIMIT,
            "server_pagination": False,
            "include_search": True,
            "page_length": TABLE_PAGE_ROWS,
            "table_timestamp_format": TABLE_DATE_FORMAT,
        }
        query = _Query(columns=params["all_columns"], orderby=order, post_processing=[])
        rows = _expected_values(config, dimension) if not nested else None
        return Chart(
            key,
            f"{aggregate.title} (tableau)",
            (
                "Une ligne par valeur, les plus grands effectifs publiés d'abord. "
                if not nested
                else "Une ligne par commune, département par département, les plus grands"
                " effectifs publiés d'abord. "
            )
            + _suppression_note(config),
            "table",
            dataset,
            params,
            [query.build()],
            height=_table_height(min(rows or TABLE_PAGE_ROWS, TABLE_PAGE_ROWS), TABLE_CHROME_PX),
        )
    rows, cols = _pivot_axes(config, aggregate)
    row_column, col_column = display_column(config, rows), display_column(config, cols)
    params = {
        "viz_type": "pivot_table_v2",
        "groupbyRows": [row_column],
        "groupbyColumns": [col_column],
        "metrics": [CELL_LABEL],
        "aggregateFunction": "List Unique Values",
        "metricsLayout": "COLUMNS",
        "rowOrder": "key_a_to_z",
        "colOrder": "key_a_to_z",
        "rowTotals": False,
        "colTotals": False,
        "combineMetric": False,
        "transposePivot": False,
        "valueFormat": COUNT_FORMAT,
        "adhoc_filters": [],
        "row_limit": ROW_LIMIT,
        "order_desc": True,
    }
    query = _Query(
        columns=[col_column, row_column], metrics=[CELL_LABEL], orderby=[[CELL_LABEL, False]]
    )
    row_title = dimension_label(config, rows)[0]
    col_title = dimension_label(config, cols)[0]
    columns = _expected_values(config, cols)
    wide = columns is None or columns > HALF_WIDTH_PIVOT_COLUMNS
    return Chart(
        key,
        f"{aggregate.title} (tableau croisé)",
        f"En lignes : {row_title} ; en colonnes : {col_title}. " + _suppression_note(config),
        "pivot_table_v2",
        dataset,
        params,
        [query.build()],
        width=GRID_WIDTH if wide else HALF_WIDTH,
        height=_table_height(
            _expected_values(config, rows), PIVOT_CHROME_PX, ROW_PX if wide else WRAPPED_ROW_PX
        ),
    )


def _date_dimension(config: SourceConfig, aggregate: Aggregate) -> Dimension | None:
    for dimension in aggregate.dimensions:
        if isinstance(config.field(dimension.field).hierarchy, DateLevels) and dimension.level:
            return dimension
    return None


def _pivot_axes(config: SourceConfig, aggregate: Aggregate) -> tuple[Dimension, Dimension]:
    """(rows, columns) of a cross-tab: dates and places read best down the rows."""
    departement = departement_dimension(config, aggregate)
    long_axis = _date_dimension(config, aggregate) or next(
        (d for d in aggregate.dimensions if d.column == departement), None
    )
    rows = long_axis or aggregate.dimensions[0]
    return rows, next(dimension for dimension in aggregate.dimensions if dimension != rows)


def timeline_chart(config: SourceConfig, aggregate: Aggregate) -> Chart | None:
    """Stacked bars over time, one colour per value of the other dimension."""
    date = _date_dimension(config, aggregate)
    if date is None:
        return None
    others = [display_column(config, d) for d in aggregate.dimensions if d != date]
    date_title = dimension_label(config, date)[0]
    return _bars(
        key=f"{config.name}/{aggregate.name}/evolution",
        title=aggregate.title,
        description=(
            f"Effectifs publiés par {date_title.lower()}. Les cellules au secret statistique"
            " ne sont pas dessinées (le tableau de la même statistique les signale)."
        ),
        dataset=_dataset_key(config, aggregate),
        x_axis=date.column,
        metric=PUBLISHED_COUNT,
        groupby=others,
        extra_params={"x_axis_title": date_title, "x_axis_title_margin": 30},
    )


def map_chart(config: SourceConfig, aggregate: Aggregate) -> Chart | None:
    """A map of France by département (the sum of the published cells of each)."""
    departement = departement_dimension(config, aggregate)
    if departement is None:
        return None
    entity = departement + ISO_SUFFIX
    params = {
        "viz_type": "country_map",
        "select_country": "france",
        "entity": entity,
        "metric": PUBLISHED_COUNT,
        "number_format": ",d",
        "linear_color_scheme": "superset_seq_1",
        "adhoc_filters": [],
        "row_limit": ROW_LIMIT,
    }
    query = _Query(columns=[entity], metrics=[PUBLISHED_COUNT], orderby=[[PUBLISHED_COUNT, False]])
    return Chart(
        f"{config.name}/{aggregate.name}/carte",
        f"{aggregate.title} (carte)",
        "Somme des effectifs publiés de chaque département ; les cellules au secret"
        " statistique n'y sont pas comptées (le tableau de la même statistique les signale).",
        "country_map",
        _dataset_key(config, aggregate),
        params,
        [query.build()],
    )


def drill_chart(config: SourceConfig, aggregate: Aggregate) -> Chart | None:
    """A table by département from which the analyst drills to its communes.

    Superset's « Explorer par » (Drill by: right-click on a département, then the commune
    column) re-runs this chart grouped by commune, filtered on that département, in a
    window of its own. The table holds one cell per (département, commune), so the
    commune rows are the release's cells one by one: each reads its published count or
    « secret statistique » (`GROUPED_LABEL`), never 0 and never a count computed below
    what the release publishes. A département reads the sum of its published communes
    and how many are suppressed. A table rather than bars: its rows are text, so the
    secret label shows where a bar would simply be missing.
    """
    nested = commune_drill(config, aggregate)
    if nested is None:
        return None
    departement, commune = nested
    row = display_column(config, departement)
    commune_title = dimension_label(config, commune)[0]
    # Largest published sum first, wholly suppressed groups last: a plain SUM is NULL for
    # them, which PostgreSQL puts first in a descending order. Used to sort, never shown.
    sort_by = {
        "expressionType": "SQL",
        "sqlExpression": f"COALESCE({PUBLISHED_SUM_SQL}, -1)",
        "label": "Effectif publié (ordre des lignes)",
        "hasCustomLabel": True,
        "optionName": "metric_ordre_effectif_publie",
    }
    params = {
        "viz_type": "table",
        "query_mode": "aggregate",
        "groupby": [row],
        "metrics": [GROUPED_LABEL],
        "all_columns": [],
        "percent_metrics": [],
        # The label is text: sort by the published count it starts with.
        "timeseries_limit_metric": sort_by,
        "order_desc": True,
        "adhoc_filters": [],
        "row_limit": ROW_LIMIT,
        "server_pagination": False,
        "include_search": True,
        "page_length": 0,  # every département: the analyst right-clicks the one wanted
        "show_totals": False,
        "table_timestamp_format": TABLE_DATE_FORMAT,
    }
    query = _Query(
        columns=[row],
        metrics=[GROUPED_LABEL],
        orderby=[[sort_by, False]],
        post_processing=[],
    )
    return Chart(
        f"{config.name}/{aggregate.name}/exploration",
        f"{aggregate.title} (exploration)",
        "Une ligne par département : la somme des effectifs publiés de ses communes, et le"
        " nombre de communes au secret statistique."
        f" Clic droit sur une ligne, « Explorer par », « {commune_title} » : ses communes,"
        " chacune telle que la version la publie. " + _suppression_note(config),
        "table",
        _dataset_key(config, aggregate),
        params,
        [query.build()],
        height=_table_height(None, TABLE_CHROME_PX),
    )


def aggregate_charts(config: SourceConfig, aggregate: Aggregate) -> list[Chart]:
    """The aggregate's visual (if its dimensions call for one), then its cells table.

    Communes within their départements get the drill-down table instead of a map: the
    aggregate by category and département already maps the départements, and this one
    would map only the sum of the communes it publishes.
    """
    if commune_drill(config, aggregate) is not None:
        visuals = [drill_chart(config, aggregate)]
    else:
        visuals = [timeline_chart(config, aggregate), map_chart(config, aggregate)]
    return [chart for chart in visuals if chart is not None] + [cells_chart(config, aggregate)]


def _big_number(config: SourceConfig, name: str, title: str, metric: str, text: str) -> Chart:
    adhoc, filters = _source_filter(config)
    params = {
        "viz_type": "big_number_total",
        "metric": metric,
        "adhoc_filters": adhoc,
        "header_font_size": 0.4,
        "subheader_font_size": 0.15,
        "y_axis_format": ".1%",
        "time_format": "smart_date",
    }
    query = _Query(metrics=[metric], filters=filters, row_limit=None)
    return Chart(
        f"{config.name}/qualite/{name}",
        f"{title} ({config.name})",
        text,
        "big_number_total",
        f"{AGGREGATES_SCHEMA}.{RUN_INDICATORS}",
        params,
        [query.build()],
        width=3,
    )


# The releases drawn on the weekly view: an event annotation layer whose source is the
# releases table chart. In the assets, `value` names that chart by its key; the bundle
# writes its UUID and `include.superset.sync` puts its id in once imported (Superset
# looks annotation charts up by id only).
RELEASES_LAYER = "Versions publiées"
WEEK = "P1W"


def releases_layer(releases_chart_key: str) -> dict[str, Any]:
    return {
        "name": RELEASES_LAYER,
        "annotationType": "EVENT",
        "sourceType": "table",
        "value": releases_chart_key,
        "overrides": {"time_range": None},
        "show": True,
        "showLabel": True,
        "showMarkers": False,
        "hideLine": False,
        "timeColumn": "run_date",
        "titleColumn": "release_id",
        "descriptionColumns": ["published_at"],
        "intervalEndColumn": "",
        "color": None,
        "opacity": "",
        "style": "dashed",
        "width": 2,
    }


def map_annotation_sources(document: Any, source: Callable[[Any], Any]) -> Any:
    """`document` (a chart's params or query context) with the `value` of each annotation
    layer drawn from a chart replaced by `source(value)`: key → UUID when the assets are
    written, UUID → id once Superset has imported them."""
    if isinstance(document, dict):
        if document.get("sourceType") == "table" and "value" in document:
            return {**document, "value": source(document["value"])}
        return {key: map_annotation_sources(value, source) for key, value in document.items()}
    if isinstance(document, list):
        return [map_annotation_sources(item, source) for item in document]
    return document


def _run_date_query(metrics: list[str], filters: list[dict[str, Any]], grain: str) -> _Query:
    """Metrics of the run-level tables over time, one point per `grain` of `run_date`."""
    return _Query(
        columns=[{**_base_axis("run_date"), "timeGrain": grain}],
        metrics=metrics,
        orderby=[[metrics[0], False]],
        filters=filters,
        series_columns=[],
        time_grain=grain,
        post_processing=[
            {
                "operation": "pivot",
                "options": {
                    "index": ["run_date"],
                    "columns": [],
                    "aggregates": {metric: {"operator": "mean"} for metric in metrics},
                    "drop_missing_columns": False,
                },
            },
            {"operation": "flatten"},
        ],
    )


def _over_run_dates(grain: str, metrics: list[str], adhoc: list[dict[str, Any]]) -> dict[str, Any]:
    """The params every chart of the run-level figures over `run_date` shares."""
    return {
        "x_axis": "run_date",
        "time_grain_sqla": grain,
        "metrics": metrics,
        "groupby": [],
        "adhoc_filters": adhoc,
        "row_limit": ROW_LIMIT,
        "order_desc": True,
        "show_legend": True,
        "legendOrientation": "top",
        "legendType": "scroll",
        "rich_tooltip": True,
        "x_axis_time_format": DATE_FORMAT,
        "tooltipTimeFormat": DATE_FORMAT,
        "color_scheme": "supersetColors",
    }


def _run_table(
    columns: list[str], adhoc: list[dict[str, Any]], filters: list[dict[str, Any]]
) -> tuple[dict[str, Any], _Query]:
    """A table of a run-level table's rows, the latest `run_date` first."""
    params = {
        "viz_type": "table",
        "query_mode": "raw",
        "all_columns": columns,
        "order_by_cols": ['["run_date", false]'],
        "adhoc_filters": adhoc,
        "row_limit": 1000,
        "server_pagination": False,
        "page_length": TABLE_PAGE_ROWS,
        "table_timestamp_format": TABLE_DATE_FORMAT,
    }
    query = _Query(
        columns=columns,
        orderby=[["run_date", False]],
        filters=filters,
        row_limit=1000,
        post_processing=[],
    )
    return params, query


def time_view_charts(config: SourceConfig) -> list[Chart]:
    """The source's story week by week: submissions received as bars, quarantine and
    redaction rates as lines on a second axis, each release a dashed line at the date of
    the data it holds; then the table of those releases, which the lines are drawn from."""
    adhoc, filters = _source_filter(config)
    releases_key = f"{config.name}/qualite/versions"
    layer = releases_layer(releases_key)
    rates = [QUARANTINE_RATE, REDACTED_SHARE]
    params = {
        "viz_type": "mixed_timeseries",
        **_over_run_dates(WEEK, [ROWS_RECEIVED], adhoc),
        "metrics_b": rates,
        "groupby_b": [],
        "adhoc_filters_b": adhoc,
        "row_limit_b": ROW_LIMIT,
        "order_desc_b": True,
        "seriesType": "bar",
        "seriesTypeB": "line",
        "yAxisIndex": 0,
        "yAxisIndexB": 1,
        "markerEnabledB": True,
        "y_axis_format": COUNT_FORMAT,
        "y_axis_format_secondary": ".1%",
        "annotation_layers": [layer],
    }
    queries = [
        _run_date_query([ROWS_RECEIVED], filters, WEEK),
        _run_date_query(rates, filters, WEEK),
    ]
    built = [{**query.build(), "annotation_layers": [layer]} for query in queries]
    releases_params, releases_query = _run_table(
        ["run_date", "release_id", "published_at"], adhoc, filters
    )
    return [
        Chart(
            f"{config.name}/qualite/semaines",
            f"Semaine après semaine ({config.name})",
            "Lignes reçues chaque semaine (barres), taux de quarantaine et part des textes"
            " expurgés (courbes, axe de droite) ; chaque version publiée est une ligne"
            " pointillée à la date des données qu'elle contient.",
            "mixed_timeseries",
            f"{AGGREGATES_SCHEMA}.{RUN_INDICATORS}",
            params,
            built,
            width=GRID_WIDTH,
        ),
        Chart(
            releases_key,
            f"Versions publiées ({config.name})",
            "Chaque version publiée : la date des données qu'elle contient, son identifiant"
            " et le moment de sa publication.",
            "table",
            f"{AGGREGATES_SCHEMA}.{RELEASES}",
            releases_params,
            [releases_query.build()],
        ),
    ]


def quality_charts(config: SourceConfig) -> list[Chart]:
    """Quarantine rate, share of redacted texts, their trend, reasons, and the runs' figures."""
    adhoc, filters = _source_filter(config)
    indicators = f"{AGGREGATES_SCHEMA}.{RUN_INDICATORS}"
    trend_params = {
        "viz_type": "echarts_timeseries_line",
        **_over_run_dates("P1D", [QUARANTINE_RATE, REDACTED_SHARE], adhoc),
        "markerEnabled": True,
        "y_axis_format": ".1%",
    }
    trend_query = _run_date_query([QUARANTINE_RATE, REDACTED_SHARE], filters, "P1D")
    runs_params, runs_query = _run_table(_RUN_FIGURES, adhoc, filters)
    runs_params["column_config"] = {
        figure: {"d3NumberFormat": COUNT_FORMAT} for figure in _RUN_FIGURES[1:]
    }
    return [
        _big_number(
            config,
            "taux_quarantaine",
            "Taux de quarantaine",
            QUARANTINE_RATE,
            "Part des lignes reçues mises en quarantaine (format, type ou valeur refusés),"
            " toutes exécutions confondues.",
        ),
        _big_number(
            config,
            "textes_expurges",
            "Part des textes expurgés",
            REDACTED_SHARE,
            "Part des textes libres où au moins une donnée personnelle (nom, courriel,"
            " téléphone, adresse...) a été masquée avant publication.",
        ),
        Chart(
            f"{config.name}/qualite/evolution",
            f"Qualité par exécution ({config.name})",
            "Taux de quarantaine et part des textes expurgés, exécution par exécution.",
            "echarts_timeseries_line",
            indicators,
            trend_params,
            [trend_query.build()],
        ),
        _bars(
            key=f"{config.name}/qualite/motifs",
            title=f"Lignes en quarantaine par motif ({config.name})",
            description="Lignes refusées à l'entrée, par motif (le champ concerné et ce qui"
            " n'allait pas), toutes exécutions confondues.",
            dataset=f"{AGGREGATES_SCHEMA}.{QUARANTINE_REASONS}",
            x_axis=REASON_LABEL,
            metric=QUARANTINED_ROWS,
            groupby=[],
            extra_params={"orientation": "horizontal"},
            filters=(adhoc, filters),
            width=GRID_WIDTH,
        ),
        Chart(
            f"{config.name}/qualite/executions",
            f"Chiffres par exécution ({config.name})",
            "Lignes reçues, mises en quarantaine, doublons, publiées, supprimées par le"
            " k-anonymat ; textes libres examinés et expurgés.",
            "table",
            indicators,
            runs_params,
            [runs_query.build()],
            width=GRID_WIDTH,
        ),
    ]
