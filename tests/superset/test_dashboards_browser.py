"""Each source's dashboard, opened in headless Chromium as an analyst opens it.

The REST tests (test_assets.py) prove every chart's query returns rows; only a
browser proves the analyst sees them: the front end builds its own queries from
the charts' form data, the plug-ins draw them, and a chart can fail there alone.
The test logs in through the login form, opens `/superset/dashboard/civic-<source>/`
and saves a full-page screenshot to `tests/artifacts/superset-<source>.png` before it
asserts anything, so a failure leaves its evidence. Why each assertion is there:

- the page loaded (HTTP status below 400): a wrong slug or a dashboard the import
  dropped is a 404, not an empty page to screenshot;
- the title is the dashboard's French title from the assets, and Superset's own
  interface runs in French: analysts are French-speaking (issue #6);
- every chart of the dashboard's assets is on the page, by name: a chart dropped
  from the layout, or a layout pointing at a deleted chart, shows no error by itself;
- every chart finished loading (no spinner left): a chart still spinning after the
  generous timeout is a hung query, not a rendered chart;
- no chart shows an error panel (Superset's red alert, e.g. a column missing from the
  warehouse) nor the "no results" placeholder: the pipelines ran, so every chart
  has data to show;
- every chart drew something (painted canvas pixels, SVG shapes, table body rows, or
  a big number with digits): a chart can end without error and still draw nothing;
- one chart per dashboard (`FIGURES_CHECKED`) plotted exactly the warehouse's figures:
  the values in the `/api/v1/chart/data` responses the page drew it from equal the
  same aggregation run in SQL on the warehouse through the read-only role
  (tests/superset/chart_figures.py). Drawing something is not drawing the right thing.

Chromium is Debian's `chromium` package driven by Playwright (never a downloaded
browser); `make browser` installs it. If it is missing the test fails, it does not
skip: CI must run it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from include.dag_helpers import source_names
from include.superset.assets import ASSETS_DIR
from include.superset.client import SupersetClient
from include.superset.sync import SyncResult, sync_assets
from tests.superset.chart_figures import (
    ChartDataRecorder,
    ChartResponse,
    chart_asset,
    grouping,
    plotted_figures,
    warehouse_figures,
)
from tests.superset.conftest import RunningSuperset
from tests.superset.data_fixtures import ReleasedSource

pytestmark = [pytest.mark.superset, pytest.mark.integration, pytest.mark.slow]

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"
# The flags issue #6 asks for, plus no QUIC and no first-run dialogs: nothing leaves loopback.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)
VIEWPORT = {"width": 1600, "height": 1000}
LOGIN_TIMEOUT_MS = 60_000
GRID_TIMEOUT_MS = 60_000
# Generous: on 2 busy cores a cold Superset takes several seconds per chart query.
CHARTS_TIMEOUT_MS = 120_000
# Inspecting reads every canvas's pixels: every half second, not every animation frame.
POLL_MS = 500
# ECharts animates its series for about 1 s after the first frame; the screenshot
# should show the finished drawing.
ANIMATION_MS = 1_500

# One function, used both to wait and to report: every chart of the page and what it shows.
# Only what is inside a chart's slice container counts as drawn; the "no results"
# placeholder (an antd Empty with its own SVG), icons (sort arrows: SVGs under 50 px) and a
# big number without digits (the plug-in's own "Aucune donnée") never do.
INSPECT_CHARTS_JS = """
() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map(chart => {
  const body = chart.querySelector('[data-test="slice-container"]');
  const inBody = selector => body
    ? Array.from(body.querySelectorAll(selector)).filter(el => !el.closest('.ant-empty'))
    : [];
  const painted = canvas => {
    const context = canvas.width && canvas.height ? canvas.getContext('2d') : null;
    if (!context) return 0;
    const alpha = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 3; i < alpha.length; i += 4) if (alpha[i] !== 0) count++;
    return count;
  };
  const drawing = svg => {
    const box = svg.getBoundingClientRect();
    return box.width >= 50 && box.height >= 50;
  };
  const headerLine = body ? body.querySelector('.header-line') : null;
  const bigNumber = headerLine ? headerLine.innerText.trim() : '';
  const empty = (body && body.querySelector('.ant-empty'))
    || (headerLine && !/\\d/.test(bigNumber));
  const state = {
    name: chart.dataset.testChartName || '',
    viz: chart.dataset.testVizType || '',
    loading: chart.querySelectorAll('[data-test="loading-indicator"]').length,
    errors: Array.from(chart.querySelectorAll('.ant-alert-error, .missing-chart-container'))
      .map(el => el.innerText.trim().replace(/\\s+/g, ' ')),
    noResults: empty ? body.innerText.trim().replace(/\\s+/g, ' ') : '',
    canvasPixels: inBody('canvas').reduce((sum, canvas) => sum + painted(canvas), 0),
    svgShapes: inBody('svg').filter(drawing)
      .reduce((sum, svg) => sum + svg.querySelectorAll('path, rect, circle, polygon').length, 0),
    tableRows: inBody('tbody tr').length,
    bigNumber,
  };
  state.drawn = !state.noResults && (state.canvasPixels > 0 || state.svgShapes > 0
    || state.tableRows > 0 || /\\d/.test(state.bigNumber));
  state.settled = state.loading === 0 && (state.errors.length > 0 || !!state.noResults
    || state.drawn);
  return state;
})
"""
SETTLED_JS = f"""
expected => {{
  const charts = ({INSPECT_CHARTS_JS})();
  return charts.length >= expected && charts.every(chart => chart.settled);
}}
"""
# Per dashboard, the chart whose plotted values are compared with the warehouse's: the
# stacked bars of reports (a sum per month and category label) and the consultation's
# cross-tab by gender (each cell's count as displayed, or the secret label).
FIGURES_CHECKED = {
    "signalements": "Signalements par catégorie et par mois",
    "consultation": "Satisfaction vis-à-vis des transports par genre (tableau croisé)",
}
UI_LOCALE_JS = """
() => {
  const app = document.getElementById('app');
  return app && app.dataset.bootstrap ? JSON.parse(app.dataset.bootstrap).common.locale : null;
}
"""


@dataclass(frozen=True)
class DashboardAsset:
    """What the committed assets say a source's dashboard holds."""

    slug: str
    title: str
    chart_names: tuple[str, ...]


def dashboard_asset(source: str) -> DashboardAsset:
    """The dashboard of `source` in superset/assets/, its charts named by their chart files."""
    slug = f"civic-{source}"
    chart_names = {
        str(doc["uuid"]): str(doc["slice_name"])
        for doc in (
            yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in (ASSETS_DIR / "charts").glob("*.yaml")
        )
    }
    for path in sorted((ASSETS_DIR / "dashboards").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc["slug"] == slug:
            layout = doc["position"].values()
            uuids = [item["meta"]["uuid"] for item in layout if _is_chart(item)]
            return DashboardAsset(
                slug, doc["dashboard_title"], tuple(chart_names[u] for u in uuids)
            )
    raise LookupError(
        f"no dashboard with slug {slug!r} in {ASSETS_DIR / 'dashboards'}: regenerate the assets"
        " with `python -m include.superset write`"
    )


def _is_chart(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") == "CHART"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium; missing, the test fails (never skips) and says how to install it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "Debian's `chromium` is not installed, so the dashboards cannot be opened in a"
            " browser. Install it with `make browser` (runs `apt-get install -y"
            " --no-install-recommends chromium`, as root or through sudo).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def imported_assets(
    superset_server: RunningSuperset, released_sources: dict[str, ReleasedSource]
) -> SyncResult:
    """The committed bundle in the session's Superset, datasets refreshed, data released."""
    with SupersetClient(
        superset_server.base_url, superset_server.username, superset_server.password
    ) as client:
        return sync_assets(client, superset_server.warehouse_readonly)


@pytest.fixture(scope="module")
def chart_uuids(superset_server: RunningSuperset, imported_assets: SyncResult) -> dict[int, str]:
    """The imported charts' ids in this Superset → their UUIDs in the assets."""
    with SupersetClient(
        superset_server.base_url, superset_server.username, superset_server.password
    ) as client:
        return {int(chart["id"]): str(chart["uuid"]) for chart in client.charts()}


@pytest.fixture(scope="module")
def browser(
    chromium_path: str,
    superset_server: RunningSuperset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BrowserContext]:
    """One Chromium, with a fresh profile, logged in through Superset's login form."""
    with chromium_context(chromium_path, tmp_path_factory.mktemp("chromium-profile")) as context:
        _log_in(context.new_page(), superset_server)
        yield context


@contextmanager
def chromium_context(chromium_path: str, profile: Path) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, French, on a profile of its own, closed afterwards."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport=VIEWPORT,
            locale="fr-FR",
        )
        try:
            yield context
        finally:
            context.close()


def _log_in(page: Page, superset: RunningSuperset) -> None:
    page.goto(f"{superset.base_url}/login/")
    page.fill("#username", superset.username)
    page.fill("#password", superset.password)
    page.press("#password", "Enter")
    try:
        page.wait_for_url(lambda url: "/login" not in url, timeout=LOGIN_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(
            f"logging in to {superset.base_url} as {superset.username!r} through the login form"
            f" failed: still on {page.url} after {LOGIN_TIMEOUT_MS // 1000} s",
            pytrace=False,
        )
    finally:
        page.close()


@dataclass(frozen=True)
class DashboardVisit:
    """What the browser saw of one dashboard, gathered before any assertion."""

    status: int | None  # HTTP status of the dashboard page
    timed_out: str | None  # what did not happen within its timeout
    title: str
    locale: str | None
    charts: list[dict[str, Any]]
    page_errors: list[str]
    responses: list[ChartResponse]  # the charts' /api/v1/chart/data answers


def visit_dashboard(
    context: BrowserContext, base_url: str, asset: DashboardAsset, screenshot: Path
) -> DashboardVisit:
    """Open the dashboard, wait until every chart settled, save the screenshot, report."""
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    recorder = ChartDataRecorder(page)
    timed_out = None
    try:
        response = page.goto(f"{base_url}/superset/dashboard/{asset.slug}/")
        status = response.status if response else None
        if status is not None and status < 400:
            timed_out = wait_for_charts(page, len(asset.chart_names))
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
        title_input = page.locator('input[data-test="editable-title-input"]')
        return DashboardVisit(
            status=status,
            timed_out=timed_out,
            title=title_input.input_value() if title_input.count() else "",
            locale=page.evaluate(UI_LOCALE_JS),
            charts=page.evaluate(INSPECT_CHARTS_JS),
            page_errors=page_errors,
            responses=recorder.charts(),
        )
    finally:
        page.close()


def wait_for_charts(page: Page, expected: int) -> str | None:
    """Wait until the grid shows `expected` charts, each settled; None, or what timed out."""
    try:
        page.wait_for_selector('[data-test="grid-content"]', timeout=GRID_TIMEOUT_MS)
        # Superset renders only the rows near the viewport: make the whole page the
        # viewport, so every chart loads and the screenshot shows them all.
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, 1)})
        page.wait_for_function(SETTLED_JS, arg=expected, polling=POLL_MS, timeout=CHARTS_TIMEOUT_MS)
        page.wait_for_timeout(ANIMATION_MS)
        # Still there and settled after the animations: Superset may mount its grid again
        # meanwhile (seen once in CI: every chart settled, then an empty grid was inspected
        # and shot; the same test passed alone right after).
        page.wait_for_function(SETTLED_JS, arg=expected, polling=POLL_MS, timeout=CHARTS_TIMEOUT_MS)
    except PlaywrightTimeoutError as exc:
        return str(exc).splitlines()[0]
    return None


def chart_problem(chart: dict[str, Any]) -> str | None:
    """Why a chart does not count as rendered, or None when it does."""
    where = f"{chart['name']!r} ({chart['viz']})"
    if chart["loading"]:
        return f"{where} is still loading"
    if chart["errors"]:
        return f"{where} shows an error panel: {' | '.join(chart['errors'])}"
    if chart["noResults"]:
        return f"{where} shows no data: {chart['noResults']!r}"
    if not chart["drawn"]:
        return f"{where} drew nothing (no painted canvas, SVG drawing, table row or number)"
    return None


# chromium_path first: a machine without Chromium fails before the services start.
@pytest.mark.usefixtures("chromium_path", "imported_assets")
@pytest.mark.parametrize("source", source_names())
def test_dashboard_renders_every_chart_in_french(
    source: str,
    browser: BrowserContext,
    superset_server: RunningSuperset,
    chart_uuids: dict[int, str],
) -> None:
    asset = dashboard_asset(source)
    screenshot = ARTIFACTS_DIR / f"superset-{source}.png"
    visit = visit_dashboard(browser, superset_server.base_url, asset, screenshot)
    context = f"(screenshot: {screenshot}; JavaScript errors: {visit.page_errors or 'none'})"

    assert visit.status in range(200, 400), (
        f"{asset.slug}: Superset answered HTTP {visit.status}; is the dashboard in the"
        f" imported assets? {context}"
    )
    assert visit.title == asset.title, (
        f"{asset.slug}: the page shows the title {visit.title!r}, not the French title"
        f" {asset.title!r} of the assets {context}"
    )
    assert visit.locale == "fr", (
        f"{asset.slug}: Superset's interface runs in {visit.locale!r}, not French"
        f" (BABEL_DEFAULT_LOCALE in superset/superset_config.py) {context}"
    )
    shown = sorted(chart["name"] for chart in visit.charts)
    assert shown == sorted(asset.chart_names), (
        f"{asset.slug}: the page holds {len(shown)} charts, the assets {len(asset.chart_names)};"
        f" missing {sorted(set(asset.chart_names) - set(shown))},"
        f" unexpected {sorted(set(shown) - set(asset.chart_names))};"
        f" timed out: {visit.timed_out or 'nothing'} {context}"
    )
    problems = [problem for problem in map(chart_problem, visit.charts) if problem]
    assert not problems, (
        f"{asset.slug}: {len(problems)} of {len(shown)} charts did not render:\n  "
        + "\n  ".join(problems)
        + f"\ntimed out: {visit.timed_out or 'nothing'} {context}"
    )
    checked = chart_asset(FIGURES_CHECKED[source])
    answers = [r for r in visit.responses if chart_uuids.get(r.slice_id) == checked["uuid"]]
    assert answers, (
        f"{asset.slug}: the page made no chart-data request for {checked['slice_name']!r} {context}"
    )
    plotted = plotted_figures(answers[-1])
    expected = warehouse_figures(
        superset_server.warehouse_readonly.postgres_dsn(), checked, grouping(answers[-1])
    )
    assert expected, f"{asset.slug}: the warehouse has no figure for {checked['slice_name']!r}"
    assert plotted == expected, (
        f"{asset.slug}: {checked['slice_name']!r} plotted other figures than the warehouse's:"
        f" only plotted {sorted(set(plotted.items()) - set(expected.items()))[:10]},"
        f" only in the warehouse {sorted(set(expected.items()) - set(plotted.items()))[:10]}"
        f" {context}"
    )
