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

from include.core.source_config import SourceConfig
from include.superset.charts import GRID_WIDTH, Chart, aggregate_charts, quality_charts
from include.superset.labels import SUPPRESSED_LABEL

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


def metadata() -> dict[str, Any]:
    """The dashboard's `json_metadata`: no native filter, no auto-refresh.

    No dashboard `color_scheme`: the dashboard would hand it to every chart, and the map
    then colours départements by name (categorical) instead of by count (sequential).
    """
    return {
        "refresh_frequency": 0,
        "cross_filters_enabled": False,
        "native_filter_configuration": [],
        "expanded_slices": {},
        "label_colors": {},
        "shared_label_colors": [],
        "timed_refresh_immune_slices": [],
        "default_filters": "{}",
        "chart_configuration": {},
        "global_chart_configuration": {},
    }
