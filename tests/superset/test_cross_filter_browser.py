"""A cross-filter on the reports dashboard, emitted by clicking a chart as an analyst does.

The dashboard assets enable cross-filtering (`cross_filters_enabled`, every chart in the
global scope: include/superset/dashboards.py), but only a browser proves it works: the
click lands in a plug-in, the plug-in emits a data mask, and Superset's front end sends
it to the charts in scope, which re-query. The chart clicked is the cross-tab « par
catégorie et par mois »: in Superset 6.1 the pivot table (`pivot_table_v2`) emits, on a
click on a column header cell, `{col: <column>, op: "IN", val: [<label>]}` (its
`clickColumnHeaderCallback` in the installed static assets), and a header cell is DOM,
unlike an ECharts bar drawn on a canvas. The test then checks what matters to the analyst:

- every chart in the cross-filter's scope whose dataset holds the column re-queried with
  it (Superset applies a cross-filter to the charts "that use the same dataset or contain
  the same column name"): a chart left out would show unfiltered figures beside filtered
  ones, with nothing to tell them apart;
- the cross-filter shows in the filter bar's « Filtres croisés » section, with the
  emitting chart and the value: the analyst must see why the figures changed, and where
  to remove the filter;
- no chart ends in an error panel or with nothing drawn once cross-filtered;
- the stacked bars (`FIGURES_CHECKED`) plotted, cross-filtered, the same aggregation run
  in SQL on the warehouse with the same filter: the cross-filter filtered, on the right
  column.

The label clicked is the category with the largest published count, so the filtered
charts have figures to compare. A screenshot goes to
`tests/artifacts/superset-signalements-filtre-croise.png` before any assertion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.superset import chart_figures as figures
from tests.superset import test_dashboard_filters_browser as native_filters
from tests.superset import test_dashboards_browser as dashboards
from tests.superset.conftest import RunningSuperset
from tests.superset.test_dashboards_browser import (  # noqa: F401 - the fixtures, shared
    browser,
    chart_uuids,
    chromium_path,
    imported_assets,
)

pytestmark = [pytest.mark.superset, pytest.mark.integration, pytest.mark.slow]

SOURCE = "signalements"
EMITTER = "Signalements par catégorie et par mois (tableau croisé)"
COLUMN = "category_libelle"
SCREENSHOT = dashboards.ARTIFACTS_DIR / "superset-signalements-filtre-croise.png"
# The filter bar's cross-filter section: its French heading (Superset's « Cross-filters »).
CROSS_FILTERS_HEADING = "Filtres croisés"


def cross_filter_scope(source: str, emitter_uuid: str, column: str) -> native_filters.FilterAsset:
    """What the committed dashboard says a cross-filter of `emitter_uuid` on `column`
    reaches, in the shape of a native filter (column, dataset, chart UUIDs in scope) so the
    native filter test's waiting and matching apply to it unchanged.

    The scope is the emitter's own `chart_configuration` entry if it has one, else the
    dashboard's global one, without the emitter itself, narrowed (as Superset narrows it)
    to the charts whose dataset holds a column of that name.
    """
    slug = dashboards.dashboard_asset(source).slug
    charts, datasets = figures.committed("charts"), figures.committed("datasets")
    (dashboard,) = [d for d in figures.committed("dashboards").values() if d["slug"] == slug]
    metadata = dashboard["metadata"]
    if not metadata.get("cross_filters_enabled"):
        raise LookupError(f"{slug}: cross-filtering is not enabled in the committed assets")
    metas = [
        item.get("meta", {}) for item in dashboard["position"].values() if isinstance(item, dict)
    ]
    placed = {meta["uuid"]: meta["chartId"] for meta in metas if "chartId" in meta}
    emitter_id = placed[emitter_uuid]
    own = metadata["chart_configuration"].get(str(emitter_id), {}).get("crossFilters", {})
    excluded = set(own.get("scope", metadata["global_chart_configuration"]["scope"])["excluded"])

    def has_column(uuid: str) -> bool:
        dataset = datasets[str(charts[uuid]["dataset_uuid"])]
        return any(c["column_name"] == column for c in dataset["columns"])

    reached = {uuid for uuid, chart_id in placed.items() if chart_id not in excluded}
    return native_filters.FilterAsset(
        f"cross-filter-{emitter_id}",
        str(charts[emitter_uuid]["slice_name"]),
        column,
        str(charts[emitter_uuid]["dataset_uuid"]),
        frozenset(uuid for uuid in reached - {emitter_uuid} if has_column(uuid)),
    )


def header_cell(page: Page, chart_name: str, label: str) -> Locator:
    """The pivot table's column header cell reading exactly `label`."""
    chart = page.locator(f'[data-test="chart-grid-component"][data-test-chart-name="{chart_name}"]')
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    return chart.locator("th.pvtColLabel").filter(has_text=exact)


def cross_filters_section(page: Page) -> str:
    """The text of the filter bar's cross-filter section (heading, emitter, tags), or ''."""
    heading = page.locator("h4", has_text=CROSS_FILTERS_HEADING)
    if not heading.count():
        return ""
    return heading.first.locator("xpath=../..").inner_text()


def click(cell: Locator) -> str | None:
    """Click the first of `cell`; None, or why it could not be clicked (no such cell)."""
    try:
        cell.first.click(timeout=dashboards.GRID_TIMEOUT_MS)
    except PlaywrightTimeoutError as exc:
        return str(exc).splitlines()[0]
    return None


@dataclass(frozen=True)
class CrossFiltered:
    """What the browser saw once the cross-filter was set, gathered before any assertion."""

    unclicked: str | None  # why the header cell could not be clicked
    missing: set[int]  # chart ids in scope that never re-queried with the cross-filter
    settled: str | None  # what did not settle within its timeout, after the click
    section: str  # the filter bar's cross-filter section
    charts: list[dict[str, Any]]  # dashboards.INSPECT_CHARTS_JS
    responses: list[figures.ChartResponse]  # the chart-data answers after the click
    page_errors: list[str]


def click_header(
    chromium: BrowserContext,
    base_url: str,
    scope: native_filters.FilterAsset,
    wanted: set[int],
    value: str,
) -> CrossFiltered:
    """Open the dashboard, click `value`'s header cell in the emitter once every chart
    settled, wait for the charts in scope to re-query, save the screenshot, report."""
    asset = dashboards.dashboard_asset(SOURCE)
    page = chromium.new_page()
    recorder = figures.ChartDataRecorder(page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{base_url}/superset/dashboard/{asset.slug}/")
        first = dashboards.wait_for_charts(page, len(asset.chart_names))
        recorder.clear()
        unclicked = (
            click(header_cell(page, scope.title, value))
            if first is None
            else f"the dashboard did not settle before the click: {first}"
        )
        missing = (
            native_filters.wait_for_filtered(page, recorder, wanted, scope, value)
            if unclicked is None
            else set(wanted)
        )
        settled = dashboards.wait_for_charts(page, len(asset.chart_names))
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        return CrossFiltered(
            unclicked=unclicked,
            missing=missing,
            settled=settled,
            section=cross_filters_section(page),
            charts=page.evaluate(dashboards.INSPECT_CHARTS_JS),
            responses=recorder.charts(),
            page_errors=errors,
        )
    finally:
        page.close()


@pytest.mark.usefixtures("chromium_path", "imported_assets")
def test_clicking_a_category_cross_filters_the_charts_in_scope(
    browser: BrowserContext,  # noqa: F811 - the shared fixture
    superset_server: RunningSuperset,
    chart_uuids: dict[int, str],  # noqa: F811 - the shared fixture
) -> None:
    slug = dashboards.dashboard_asset(SOURCE).slug
    scope = cross_filter_scope(SOURCE, str(figures.chart_asset(EMITTER)["uuid"]), COLUMN)
    dsn = superset_server.warehouse_readonly.postgres_dsn()
    value = figures.largest_value(dsn, scope.dataset_uuid, COLUMN)
    uuids = chart_uuids
    wanted = {chart_id for chart_id, uuid in uuids.items() if uuid in scope.in_scope}
    seen = click_header(browser, superset_server.base_url, scope, wanted, value)
    context = f"(screenshot: {SCREENSHOT}; JavaScript errors: {seen.page_errors or 'none'})"
    titles = {uuid: str(doc["slice_name"]) for uuid, doc in figures.committed("charts").items()}

    assert seen.unclicked is None, (
        f"{slug}: could not click the header cell {value!r} of {EMITTER!r}: {seen.unclicked}"
        f" {context}"
    )
    assert len(wanted) >= 2, f"{slug}: the cross-filter reaches only {wanted}: nothing to test"
    sent = [
        (titles[uuids[r.slice_id]], r.filters) for r in seen.responses if r.slice_id in seen.missing
    ]
    assert not seen.missing, (
        f"{slug}: after clicking {value!r} in {EMITTER!r}, {len(seen.missing)} of {len(wanted)}"
        f" charts in the cross-filter's scope did not re-query with {COLUMN} = {value!r}:"
        f" {sorted(titles[uuids[i]] for i in seen.missing)}; what they sent: {sent} {context}"
    )
    unshown = [text for text in (CROSS_FILTERS_HEADING, EMITTER, value) if text not in seen.section]
    assert not unshown, (
        f"{slug}: the filter bar's « {CROSS_FILTERS_HEADING} » section does not show {unshown}"
        f" of the cross-filter {EMITTER!r} = {value!r}; it reads {seen.section!r} {context}"
    )
    broken = [problem for problem in map(dashboards.chart_problem, seen.charts) if problem]
    assert not broken, (
        f"{slug}: cross-filtered on {value!r}, {len(broken)} charts did not render"
        f" (timed out: {seen.settled or 'nothing'}):\n  " + "\n  ".join(broken) + f"\n{context}"
    )
    checked = figures.chart_asset(dashboards.FIGURES_CHECKED[SOURCE])
    answer = next(
        (
            r
            for r in reversed(seen.responses)
            if uuids.get(r.slice_id) == checked["uuid"]
            and native_filters.carries_filter(r, COLUMN, value)
        ),
        None,
    )
    assert answer is not None, f"{slug}: {checked['slice_name']!r} never re-queried {context}"
    drawn = figures.plotted_figures(answer)
    computed = figures.warehouse_figures(
        dsn, checked, figures.grouping(answer), where={COLUMN: [value]}
    )
    assert computed, f"{slug}: the warehouse has no {checked['slice_name']!r} for {value!r}"
    differences = sorted(set(drawn.items()) ^ set(computed.items()))
    assert drawn == computed, (
        f"{slug}: cross-filtered on {COLUMN} = {value!r}, {checked['slice_name']!r} drew"
        f" {len(drawn)} figures, the warehouse has {len(computed)}; differing (first 10):"
        f" {differences[:10]} (plotted only: {sorted(set(drawn) - set(computed))[:10]})"
        f" {context}"
    )
