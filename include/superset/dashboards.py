"""One dashboard per source: its statistics first, then the quality of its runs.

The layout is Superset's `position` tree (ROOT → GRID → rows → charts and markdown
blocks, 12 columns wide). Components are packed into rows in order, a new row
whenever the next one no longer fits, so the layout follows the source's
aggregates without hand placement. A row that is not full shares its spare columns
among its components (a half-width chart left alone spans the row instead of
leaving half of it empty), and the charts of a row take the height of the tallest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from include.core.source_config import DateLevels, FieldType, Role, SourceConfig
from include.superset.charts import (
    GRID_WIDTH,
    Chart,
    aggregate_charts,
    quality_charts,
    time_view_charts,
)
from include.superset.datasets import Dataset, display_column
from include.superset.labels import SUPPRESSED_LABEL, dimension_label

MARKDOWN_HEIGHT = 22


@dataclass(frozen=True)
class Markdown:
    text: str
    width: int = GRID_WIDTH
    height: int = MARKDOWN_HEIGHT


@dataclass(frozen=True)
class Dashboard:
    """A source's dashboard: its title, slug and components in reading order."""

    config: SourceConfig
    components: tuple[Chart | Markdown, ...]

    @property
    def key(self) -> str:
        return self.config.name

    @property
    def title(self) -> str:
        return self.config.title

    @property
    def slug(self) -> str:
        return f"civic-{self.config.name}"

    @property
    def charts(self) -> list[Chart]:
        return [item for item in self.components if isinstance(item, Chart)]

    def chart_ids(self) -> dict[str, int]:
        """Chart key → the `chartId` the layout gives it (1, 2... in reading order).

        The importer maps these numbers to the real ids through the layout, in the layout
        and in the native filters' `scope.excluded` alike.
        """
        return {chart.key: number for number, chart in enumerate(self.charts, start=1)}


def _introduction(config: SourceConfig) -> Markdown:
    return Markdown(
        f"## {config.title}\n\n{config.description}\n\n"
        f"**Secret statistique.** Une cellule qui compte moins de {config.min_cell_count}"
        " enregistrements n'est jamais publiée, pas plus que les cellules qui permettraient"
        f" de la retrouver par soustraction : les tableaux l'écrivent « {SUPPRESSED_LABEL} »,"
        " les graphiques ne la dessinent pas. Les données individuelles sont k-anonymes"
        f" (k = {config.k}) et leurs textes libres expurgés de toute donnée personnelle."
    )


def _quality_heading(config: SourceConfig) -> Markdown:
    return Markdown(
        "### Qualité des données\n\n"
        "Lignes mises en quarantaine à l'entrée (jamais perdues : conservées avec leur motif)"
        " et textes libres dont des données personnelles ont été masquées, pour la source"
        f" « {config.name} ».",
        height=14,
    )


def source_dashboard(config: SourceConfig) -> Dashboard:
    components: list[Chart | Markdown] = [_introduction(config)]
    for aggregate in config.aggregates:
        components += aggregate_charts(config, aggregate)
    components.append(_quality_heading(config))
    components += time_view_charts(config)
    components += quality_charts(config)
    return Dashboard(config, tuple(components))


def _rows(components: tuple[Chart | Markdown, ...]) -> list[list[Chart | Markdown]]:
    rows: list[list[Chart | Markdown]] = []
    used = GRID_WIDTH
    for item in components:
        if used + item.width > GRID_WIDTH:
            rows.append([])
            used = 0
        rows[-1].append(item)
        used += item.width
    return rows


def _widths(row: list[Chart | Markdown]) -> list[int]:
    """The row's widths, its spare columns shared out (the remainder to the last)."""
    spare = GRID_WIDTH - sum(item.width for item in row)
    share, remainder = divmod(spare, len(row))
    widths = [item.width + share for item in row]
    widths[-1] += remainder
    return widths


def position(dashboard: Dashboard, chart_uuids: dict[str, str]) -> dict[str, Any]:
    """Superset's `position` tree; charts are referenced by UUID (ids are fixed on import)."""
    tree: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": dashboard.title}},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
    }
    chart_number = markdown_number = 0
    for row_number, row in enumerate(_rows(dashboard.components), start=1):
        row_id = f"ROW-{row_number}"
        chart_height = max((item.height for item in row if isinstance(item, Chart)), default=0)
        tree["GRID_ID"]["children"].append(row_id)
        tree[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        parents = ["ROOT_ID", "GRID_ID", row_id]
        for item, width in zip(row, _widths(row), strict=True):
            if isinstance(item, Chart):
                chart_number += 1
                item_id = f"CHART-{chart_number}"
                meta = {
                    # Any number: the importer replaces it with the chart's id, found by UUID.
                    "chartId": chart_number,
                    "uuid": chart_uuids[item.key],
                    "sliceName": item.title,
                    "width": width,
                    "height": chart_height,
                }
                tree[item_id] = {"type": "CHART", "id": item_id, "children": [], "meta": meta}
            else:
                markdown_number += 1
                item_id = f"MARKDOWN-{markdown_number}"
                meta = {"code": item.text, "width": width, "height": item.height}
                tree[item_id] = {"type": "MARKDOWN", "id": item_id, "children": [], "meta": meta}
            tree[item_id]["parents"] = parents
            tree[row_id]["children"].append(item_id)
    return tree


@dataclass(frozen=True)
class NativeFilter:
    """A native filter of the dashboard: one published column, offered as a value list.

    `column` is what the charts group by (the French labels when the codes have any), so
    a value picked in the filter bar and a cross-filter clicked in a chart filter on the
    same column. `dataset` (a Dataset.key) lists the values; `excluded` are the charts
    whose dataset does not publish the column (the quality charts, the other aggregates):
    the filter is not theirs to apply.
    """

    key: str
    title: str
    column: str
    dataset: str
    excluded: tuple[str, ...]  # chart keys

    @property
    def filter_id(self) -> str:
        return f"NATIVE_FILTER-{self.key}"


def _filter_rank(config: SourceConfig, field_name: str) -> int:
    """Period first, then what was reported (categories), then who and where."""
    spec = config.field(field_name)
    if isinstance(spec.hierarchy, DateLevels):
        return 0
    if spec.role is not Role.QUASI_IDENTIFIER:
        return 1
    return 2


def native_filters(dashboard: Dashboard, datasets: dict[str, Dataset]) -> list[NativeFilter]:
    """One filter per dimension the source's aggregates publish that says when, what, who
    or where: a date, a category, or a quasi-identifier (age band, gender, occupation,
    département, commune), at the level the aggregates publish it and never below.

    Answer scales (the consultation's satisfaction levels) are what the charts show, not
    a way to cut them, and get no filter. A field no aggregate publishes gets none either:
    the record-level table may hold it, but no chart counts by it, so such a filter would
    filter nothing the dashboard shows (the reports' channel has its aggregate for that).
    """
    config = dashboard.config
    dimensions = []
    for aggregate in config.aggregates:
        for dimension in aggregate.dimensions:
            spec = config.field(dimension.field)
            if spec.type is FieldType.CATEGORY or spec.role is Role.QUASI_IDENTIFIER:
                dimensions.append(dimension)
    filters: dict[str, NativeFilter] = {}
    for dimension in sorted(dimensions, key=lambda d: _filter_rank(config, d.field)):
        column = display_column(config, dimension)
        if column in filters:
            continue
        having = [
            chart.key
            for chart in dashboard.charts
            if column in {c.name for c in datasets[chart.dataset].columns}
        ]
        filters[column] = NativeFilter(
            key=f"{config.name}-{dimension.column}".replace("_", "-"),
            title=dimension_label(config, dimension)[0],
            column=column,
            dataset=next(chart.dataset for chart in dashboard.charts if chart.key in having),
            excluded=tuple(chart.key for chart in dashboard.charts if chart.key not in having),
        )
    return list(filters.values())


def native_filter_configuration(
    dashboard: Dashboard, filters: list[NativeFilter], dataset_uuids: dict[str, str]
) -> list[dict[str, Any]]:
    """Superset's `native_filter_configuration`: value lists, several values at once, no
    default (the whole release shows until an analyst picks), sorted ascending."""
    ids = dashboard.chart_ids()
    return [
        {
            "id": item.filter_id,
            "name": item.title,
            "filterType": "filter_select",
            "type": "NATIVE_FILTER",
            "description": f"Ne garder que les valeurs choisies de « {item.title} »",
            "targets": [
                {"datasetUuid": dataset_uuids[item.dataset], "column": {"name": item.column}}
            ],
            "controlValues": {
                "enableEmptyFilter": False,
                "defaultToFirstItem": False,
                "multiSelect": True,
                "searchAllOptions": False,
                "inverseSelection": False,
                "sortAscending": True,
            },
            "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            "cascadeParentIds": [],
            "scope": {"rootPath": ["ROOT_ID"], "excluded": [ids[key] for key in item.excluded]},
        }
        for item in filters
    ]


def metadata(native_filter_config: list[dict[str, Any]]) -> dict[str, Any]:
    """The dashboard's `json_metadata`: its native filters, cross-filters, no auto-refresh.

    Cross-filters are on, across the whole dashboard: a click on a bar or a cell filters
    the other charts on the column the chart groups by (the same label columns the native
    filters use); charts whose dataset lacks that column are left as they are by Superset.

    No dashboard `color_scheme`: the dashboard would hand it to every chart, and the map
    then colours départements by name (categorical) instead of by count (sequential).
    """
    return {
        "refresh_frequency": 0,
        "cross_filters_enabled": True,
        "native_filter_configuration": native_filter_config,
        "expanded_slices": {},
        "label_colors": {},
        "shared_label_colors": [],
        "timed_refresh_immune_slices": [],
        "default_filters": "{}",
        "chart_configuration": {},
        "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}},
    }
