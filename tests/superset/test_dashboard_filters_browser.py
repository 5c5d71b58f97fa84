"""A native filter of each dashboard, set through the filter bar as an analyst sets it.

The unit tests (tests/unit/test_superset_assets.py) prove the filters are in the assets
and target published columns; only a browser proves they work: the filter bar lists
the values from the warehouse, the analyst picks one and presses « Appliquer les
filtres », and Superset's front end sends every chart in the filter's scope a new
query carrying the filter. The test then checks what matters to the analyst:

- every chart in the filter's scope re-queried with the chosen value (a chart left out
  would show unfiltered figures beside filtered ones, with nothing to tell them apart);
- no chart ends in an error panel or with nothing drawn once filtered;
- the filter's value list reads in French alphabetical order (« Éclairage public »
  between « Bruit » and « Espaces verts », not after « Voirie » as character codes
  would put it): Superset sorts it in the browser, with the browser's French locale;
- one chart's plotted values (from the `/api/v1/chart/data` responses the page drew it
  from) equal the same aggregation, filtered the same way, run in SQL on the warehouse
  through the read-only role: the filter filtered, and on the right column.

The value picked is the one with the largest published count in the filter's own
dataset, so the filtered charts have figures to compare. A screenshot of the filtered
dashboard goes to `tests/artifacts/superset-<source>-filtre.png` before any assertion.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from include.dag_helpers import source_names
from tests.superset.chart_figures import (
    ChartDataRecorder,
    ChartResponse,
    chart_asset,
    committed,
    grouping,
    largest_value,
    plotted_figures,
    warehouse_figures,
)
from tests.superset.conftest import RunningSuperset
from tests.superset.test_dashboards_browser import (
    ARTIFACTS_DIR,
    CHARTS_TIMEOUT_MS,
    FIGURES_CHECKED,
    GRID_TIMEOUT_MS,
    INSPECT_CHARTS_JS,
    POLL_MS,
    browser,  # noqa: F401 - the fixture, shared
    chart_problem,
    chart_uuids,  # noqa: F401 - the fixture, shared
    chromium_path,  # noqa: F401 - the fixture, shared
    dashboard_asset,
    imported_assets,  # noqa: F401 - the fixture, shared
    wait_for_charts,
)

pytestmark = [pytest.mark.superset, pytest.mark.integration, pytest.mark.slow]

# Per dashboard, the filter set (by the column it targets): the category of a report,
# the gender of a respondent. The chart checked against the warehouse is the one the
# dashboard test checks unfiltered (FIGURES_CHECKED).
FILTERED_COLUMN = {"signalements": "category_libelle", "consultation": "gender_libelle"}
APPLY_BUTTON = '[data-test="filter-bar__apply-button"]'
OPTION = ".ant-select-dropdown .ant-select-item-option"
# Labels whose French order differs from their character-code order, per dashboard: the
# list must hold them (or the order check proves nothing) in this order.
ACCENTED_ORDER = {"signalements": ("Bruit", "Éclairage public", "Espaces verts", "Voirie")}


@dataclass(frozen=True)
class FilterAsset:
    """A native filter of the committed dashboard and the charts in its scope."""

    filter_id: str
    title: str
    column: str
    dataset_uuid: str
    in_scope: frozenset[str]  # chart UUIDs


def filter_asset(source: str, column: str) -> FilterAsset:
    """The dashboard's native filter on `column`, its scope resolved to chart UUIDs."""
    slug = dashboard_asset(source).slug
    (dashboard,) = (doc for doc in committed("dashboards").values() if doc["slug"] == slug)
    placed = {
        item["meta"]["chartId"]: item["meta"]["uuid"]
        for item in dashboard["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }
    for native in dashboard["metadata"]["native_filter_configuration"]:
        (target,) = native["targets"]
        if target["column"]["name"] == column:
            excluded = set(native["scope"]["excluded"])
            return FilterAsset(
                native["id"],
                native["name"],
                column,
                target["datasetUuid"],
                frozenset(uuid for chart_id, uuid in placed.items() if chart_id not in excluded),
            )
    raise LookupError(f"{slug}: no native filter on {column!r} in the committed assets")


def carries_filter(response: ChartResponse, column: str, value: str) -> bool:
    """Whether a chart's query holds the native filter `column` IN [value]."""
    return any(
        item.get("col") == column and item.get("op") == "IN" and item.get("val") == [value]
        for item in response.filters
    )


def french_key(label: str) -> tuple[str, str]:
    """French dictionary order, written independently of Superset and of PostgreSQL:
    letters without their accents and case first, the label itself to break ties."""
    decomposed = unicodedata.normalize("NFD", label)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base.replace("œ", "oe").replace("Œ", "Oe").casefold(), label


def choose_value(page: Page, native: FilterAsset, value: str) -> list[str]:
    """Pick `value` in the filter bar's value list of `native`, then apply the filters;
    returns the list's labels in the order it showed them."""
    field = page.locator(".ant-form-item").filter(
        has=page.locator(f'[id="filter-name-{native.filter_id}"]')
    )
    field.locator(".ant-select-selector").click()
    page.locator(OPTION).first.wait_for()
    listed = [text.strip() for text in page.locator(OPTION).all_inner_texts()]
    page.keyboard.type(value)
    option = page.locator(OPTION).filter(has_text=value)
    option.locator(f'text="{value}"').first.click()
    page.keyboard.press("Escape")
    page.locator(APPLY_BUTTON).click()
    return listed


def wait_for_filtered(
    page: Page,
    recorder: ChartDataRecorder,
    wanted: set[int],
    native: FilterAsset,
    value: str,
) -> set[int]:
    """Wait until every chart id in `wanted` re-queried with the filter; the ones missing."""
    waited = 0
    while True:
        answered = {
            r.slice_id for r in recorder.charts() if carries_filter(r, native.column, value)
        }
        missing = wanted - answered
        if not missing or waited >= CHARTS_TIMEOUT_MS:
            return missing
        page.wait_for_timeout(POLL_MS)
        waited += POLL_MS


@pytest.mark.usefixtures("chromium_path", "imported_assets")
@pytest.mark.parametrize("source", source_names())
def test_a_native_filter_filters_every_chart_in_its_scope(
    source: str,
    browser: BrowserContext,  # noqa: F811 - the shared fixture
    superset_server: RunningSuperset,
    chart_uuids: dict[int, str],  # noqa: F811 - the shared fixture
) -> None:
    asset = dashboard_asset(source)
    native = filter_asset(source, FILTERED_COLUMN[source])
    dsn = superset_server.warehouse_readonly.postgres_dsn()
    value = largest_value(dsn, native.dataset_uuid, native.column)
    ids = {uuid: chart_id for chart_id, uuid in chart_uuids.items()}
    wanted = {ids[uuid] for uuid in native.in_scope}
    screenshot = ARTIFACTS_DIR / f"superset-{source}-filtre.png"

    page = browser.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    recorder = ChartDataRecorder(page)
    try:
        page.goto(f"{superset_server.base_url}/superset/dashboard/{asset.slug}/")
        timed_out = wait_for_charts(page, len(asset.chart_names))
        assert timed_out is None, f"{asset.slug}: the dashboard did not settle: {timed_out}"
        recorder.clear()
        try:
            page.wait_for_selector(
                f'[id="filter-name-{native.filter_id}"]', timeout=GRID_TIMEOUT_MS
            )
            listed = choose_value(page, native, value)
        except PlaywrightTimeoutError as exc:
            page.screenshot(path=str(screenshot), full_page=True)
            pytest.fail(
                f"{asset.slug}: could not pick {value!r} in the filter {native.title!r}:"
                f" {str(exc).splitlines()[0]} (screenshot: {screenshot})",
                pytrace=False,
            )
        missing = wait_for_filtered(page, recorder, wanted, native, value)
        settled = wait_for_charts(page, len(asset.chart_names))
        page.screenshot(path=str(screenshot), full_page=True)
        charts: list[dict[str, Any]] = page.evaluate(INSPECT_CHARTS_JS)
        responses = recorder.charts()
    finally:
        page.close()
    context = f"(screenshot: {screenshot}; JavaScript errors: {page_errors or 'none'})"

    assert value in listed, f"{asset.slug}: {native.title!r} does not list {value!r}: {listed}"
    assert listed == sorted(listed, key=french_key), (
        f"{asset.slug}: {native.title!r} lists its values out of French order: {listed} {context}"
    )
    accented = ACCENTED_ORDER.get(source, ())
    assert [label for label in listed if label in accented] == list(accented), (
        f"{asset.slug}: {native.title!r} should list {accented} in this order: {listed}"
    )
    names = {ids[doc_uuid]: name for doc_uuid, name in _chart_names().items() if doc_uuid in ids}
    assert not missing, (
        f"{asset.slug}: after setting {native.title!r} to {value!r}, {len(missing)} of"
        f" {len(wanted)} charts in its scope did not re-query with it:"
        f" {sorted(names[i] for i in missing)}; what they sent:"
        f" {[(r.slice_id, r.filters) for r in responses if r.slice_id in missing]} {context}"
    )
    problems = [problem for problem in map(chart_problem, charts) if problem]
    assert not problems, (
        f"{asset.slug}: filtered on {value!r}, {len(problems)} charts did not render:\n  "
        + "\n  ".join(problems)
        + f"\ntimed out: {settled or 'nothing'} {context}"
    )
    checked = chart_asset(FIGURES_CHECKED[source])
    filtered = [
        r
        for r in responses
        if chart_uuids.get(r.slice_id) == checked["uuid"]
        and carries_filter(r, native.column, value)
    ]
    assert filtered, f"{asset.slug}: {checked['slice_name']!r} never re-queried {context}"
    plotted = plotted_figures(filtered[-1])
    expected = warehouse_figures(
        dsn, checked, grouping(filtered[-1]), where={native.column: [value]}
    )
    assert expected, f"{asset.slug}: the warehouse has no figure for {value!r}"
    assert plotted == expected, (
        f"{asset.slug}: filtered on {native.title} = {value!r}, {checked['slice_name']!r}"
        f" plotted other figures than the warehouse's: only plotted"
        f" {sorted(set(plotted.items()) - set(expected.items()))[:10]}, only in the warehouse"
        f" {sorted(set(expected.items()) - set(plotted.items()))[:10]} {context}"
    )


def _chart_names() -> dict[str, str]:
    return {uuid: str(doc["slice_name"]) for uuid, doc in committed("charts").items()}
