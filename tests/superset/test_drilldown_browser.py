"""The drill-down from a département to its communes, done in Chromium as an analyst does it.

The reports' source publishes an aggregate by département and commune
(`par_departement_et_commune` in sources/signalements.yaml), protected like every
aggregate; its dashboard chart « ... (exploration) » is a table by département
(include/superset/charts.py, `drill_chart`). The analyst right-clicks a département,
picks « Explorer par » (Superset's Drill by), then the commune column: Superset re-runs
the chart grouped by commune and filtered on that département, in a window of its own.
Only a browser proves this works: the context menu, the column list and the drill's
query all live in Superset's front end. The test then checks what the protection
requires of what the analyst sees:

- the département's row reads the sum of its published communes and how many are
  suppressed, as computed here from the warehouse table's cells;
- the drill's query carried the département as a filter and grouped by commune;
- the drill window lists exactly the département's cells, one row per commune: each
  published cell with its published count, each suppressed cell « secret statistique »
  (never 0, never blank, never missing), and no other figure (nothing computed below
  what the release publishes), in the window and in the chart-data answer it drew from;
- the same query, run in SQL on the warehouse through the read-only role with the
  committed dataset's metric (`chart_figures.warehouse_figures`), gives the same figures.

The data: the session's release (data_fixtures.py) plus a release of this module's own
(`drill_release`, its own delivery date and seed), so that some départements publish
several communes and suppress others. The département drilled is the one with the most
published communes among those that also have a suppressed one. A screenshot with the
drill window open goes to `tests/artifacts/superset-signalements-exploration.png` before
any assertion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
import pytest
from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from psycopg import sql

from include.core.settings import Settings
from tests.superset import chart_figures as figures
from tests.superset import test_dashboards_browser as dashboards
from tests.superset.conftest import RunningSuperset
from tests.superset.data_fixtures import ReleasedSource, release_sample
from tests.superset.test_dashboards_browser import (  # noqa: F401 - the fixtures, shared
    browser,
    chromium_path,
    imported_assets,
)

pytestmark = [pytest.mark.superset, pytest.mark.integration, pytest.mark.slow]

SOURCE = "signalements"
DRILL_CHART = "Signalements par département et par commune (exploration)"
DEPARTEMENT, COMMUNE = "postcode_departement", "commune"
# What a suppressed cell must read, written here rather than imported: the test checks
# the wording the dashboards promise the analysts, not the generator's constant.
SECRET = "secret statistique"
# Superset's French « Drill by » and the containers its drill-by code marks.
DRILL_BY = "Explorer par"
CONTEXT_MENU = '[data-test="chart-context-menu"]'
DRILL_SUBMENU = '[data-test="drill-by-submenu"]'
DRILL_WINDOW_CHART = '[data-test="drill-by-chart"]'
# The drill-by column list opens on hover; see `_hover_open`.
HOVER_ATTEMPTS, SUBMENU_TIMEOUT_MS = 5, 3_000
SCREENSHOT = dashboards.ARTIFACTS_DIR / "superset-signalements-exploration.png"
# A delivery date and seed of their own (data_fixtures.py: 4-5 May 2026; the refresh
# tests: 6-7 May), and enough records that some départements publish several communes.
DRILL_DAY, DRILL_SEED, DRILL_ROWS = date(2026, 5, 8), 61_004, 2_000


@pytest.fixture(scope="module")
def drill_release(
    released_sources: dict[str, ReleasedSource], s3_client: Any, settings: Settings
) -> ReleasedSource:
    """A second release of the reports, on top of the session's: the aggregates then count
    every record to date, enough for départements with published and suppressed communes."""
    return release_sample(s3_client, settings, SOURCE, DRILL_ROWS, DRILL_SEED, DRILL_DAY)


@dataclass(frozen=True)
class Cell:
    """One published cell of the aggregate: its count, or None when suppressed."""

    commune: str
    count: int | None
    suppressed: bool


def warehouse_cells(dsn: str, dataset: dict[str, Any]) -> dict[str, list[Cell]]:
    """The aggregate's cells by département, read as stored (no dataset SQL involved)."""
    statement = sql.SQL("SELECT {}, {}, count, suppressed FROM {}").format(
        sql.Identifier(DEPARTEMENT),
        sql.Identifier(COMMUNE),
        sql.Identifier(dataset["schema"], dataset["table_name"]),
    )
    cells: dict[str, list[Cell]] = {}
    with psycopg.connect(dsn) as conn:
        for departement, commune, count, suppressed in conn.execute(statement):
            cells.setdefault(departement, []).append(Cell(commune, count, suppressed))
    return cells


def french_integer(value: int) -> str:
    """An integer as the dashboards write it: digits grouped by threes, no-break space."""
    return f"{value:,}".replace(",", "\u00a0")


def cell_text(cell: Cell) -> str:
    """What a commune's row must read: its published count, or the secret label."""
    if cell.suppressed:
        return SECRET
    assert cell.count is not None, f"{cell.commune}: a published cell without a count"
    return french_integer(cell.count)


def departement_text(cells: list[Cell]) -> str:
    """What a département's row must read: the sum of its published communes, and how
    many are suppressed (all of them: the secret label)."""
    hidden = sum(cell.suppressed for cell in cells)
    if hidden == len(cells):
        return SECRET
    total = french_integer(sum(cell.count or 0 for cell in cells if not cell.suppressed))
    if not hidden:
        return total
    return f"{total} (hors {hidden} cellule{'s' if hidden > 1 else ''} au {SECRET})"


def drilled_departement(cells: dict[str, list[Cell]]) -> str:
    """The département with the most published communes among those that also suppress
    one: the drill then shows both kinds of rows."""
    mixed = {
        code: sum(not cell.suppressed for cell in rows)
        for code, rows in cells.items()
        if any(cell.suppressed for cell in rows) and sum(not cell.suppressed for cell in rows) > 1
    }
    if not mixed:
        raise LookupError(
            "no département publishes several communes and suppresses another: the releases"
            f" are too small to test the drill-down ({ {c: len(r) for c, r in cells.items()} })"
        )
    return max(sorted(mixed), key=lambda code: mixed[code])


def table_rows(page: Page, container: str) -> list[list[str]]:
    """The cells' texts of each body row of the table inside `container`."""
    rows = page.locator(f"{container} tbody tr")
    return [
        [text.strip() for text in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def drill_answers(
    recorder: figures.ChartDataRecorder, departement: str
) -> list[figures.ChartResponse]:
    """The chart-data answers grouped by commune and filtered on `departement`."""
    return [
        response
        for response in recorder.charts()
        if response.query.get("columns") == [COMMUNE]
        and {"col": DEPARTEMENT, "op": "==", "val": departement} in response.filters
    ]


@dataclass(frozen=True)
class Drilled:
    """What the browser saw, gathered before any assertion."""

    failed: str | None  # the step that could not be done, and why
    departement_rows: list[list[str]]  # the dashboard chart's rows
    menu: str  # the context menu's text
    columns: str  # the drill-by column list's text
    drill_rows: list[list[str]]  # the drill window's table rows
    answers: list[figures.ChartResponse]  # the drill's chart-data answers
    page_errors: list[str]


def drill(context: BrowserContext, base_url: str, departement: str, commune_title: str) -> Drilled:
    """Open the dashboard, right-click `departement` in the drill chart, « Explorer par »,
    `commune_title`; wait for the drill window's table, save the screenshot, report."""
    asset = dashboards.dashboard_asset(SOURCE)
    page = context.new_page()
    recorder = figures.ChartDataRecorder(page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    chart = f'[data-test="chart-grid-component"][data-test-chart-name="{DRILL_CHART}"]'
    seen: dict[str, Any] = {"departement_rows": [], "menu": "", "columns": "", "drill_rows": []}
    failed = None
    try:
        page.goto(f"{base_url}/superset/dashboard/{asset.slug}/")
        failed = dashboards.wait_for_charts(page, len(asset.chart_names))
        if failed is None:
            seen["departement_rows"] = table_rows(page, chart)
            recorder.clear()
            failed = _open_drill(page, chart, departement, commune_title, seen)
        if failed is None:
            failed = _wait_for_drill(page, recorder, departement)
            seen["drill_rows"] = table_rows(page, DRILL_WINDOW_CHART)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        return Drilled(
            failed=failed,
            answers=drill_answers(recorder, departement),
            page_errors=errors,
            **seen,
        )
    finally:
        page.close()


def _open_drill(
    page: Page, chart: str, departement: str, commune_title: str, seen: dict[str, Any]
) -> str | None:
    """Right-click the département's cell, then « Explorer par » › the commune column."""
    exact = re.compile(rf"^\s*{re.escape(departement)}\s*$")
    step = f"right-click on {departement!r}"
    try:
        page.locator(f"{chart} tbody td").filter(has_text=exact).first.click(
            button="right", timeout=dashboards.GRID_TIMEOUT_MS
        )
        menu = page.locator(CONTEXT_MENU)
        menu.wait_for(timeout=dashboards.GRID_TIMEOUT_MS)
        seen["menu"] = menu.inner_text()
        step = f"« {DRILL_BY} » in the context menu"
        columns = page.locator(DRILL_SUBMENU)
        _hover_open(
            page,
            menu.get_by_text(DRILL_BY, exact=True),
            columns.get_by_text(commune_title, exact=True).first,
        )
        seen["columns"] = columns.inner_text()
        step = f"the column {commune_title!r} in the drill-by list"
        columns.get_by_text(commune_title, exact=True).first.click(
            timeout=dashboards.GRID_TIMEOUT_MS
        )
    except PlaywrightTimeoutError as exc:
        return f"{step}: {str(exc).splitlines()[0]}"
    return None


def _hover_open(page: Page, item: Locator, shown: Locator) -> None:
    """Hover `item` until its submenu shows `shown`. Measured on Superset 6.1 in headless
    Chromium: the first hover over « Explorer par » after the context menu opened never
    opened its column list, a second one (the pointer moved off, then back) always did."""
    for _ in range(HOVER_ATTEMPTS - 1):
        item.hover(timeout=dashboards.GRID_TIMEOUT_MS)
        try:
            shown.wait_for(timeout=SUBMENU_TIMEOUT_MS)
            return
        except PlaywrightTimeoutError:
            box = item.bounding_box()
            if box is not None:
                page.mouse.move(box["x"] + 1, box["y"] - box["height"])
    item.hover(timeout=dashboards.GRID_TIMEOUT_MS)
    shown.wait_for(timeout=dashboards.GRID_TIMEOUT_MS)


def _wait_for_drill(
    page: Page, recorder: figures.ChartDataRecorder, departement: str
) -> str | None:
    """Wait for the drill's answer, then for its table in the drill window."""
    waited = 0
    while not drill_answers(recorder, departement):
        if waited >= dashboards.CHARTS_TIMEOUT_MS:
            return f"no chart-data answer grouped by {COMMUNE} and filtered on {departement!r}"
        page.wait_for_timeout(dashboards.POLL_MS)
        waited += dashboards.POLL_MS
    try:
        page.locator(f"{DRILL_WINDOW_CHART} tbody tr").first.wait_for(
            timeout=dashboards.CHARTS_TIMEOUT_MS
        )
    except PlaywrightTimeoutError as exc:
        return f"the drill window shows no table: {str(exc).splitlines()[0]}"
    page.wait_for_timeout(dashboards.ANIMATION_MS)
    return None


@pytest.mark.usefixtures("chromium_path", "drill_release", "imported_assets")
def test_drilling_from_a_departement_shows_its_communes_as_published(
    browser: BrowserContext,  # noqa: F811 - the shared fixture
    superset_server: RunningSuperset,
) -> None:
    chart = figures.chart_asset(DRILL_CHART)
    dataset = figures.committed("datasets")[str(chart["dataset_uuid"])]
    (commune_column,) = (c for c in dataset["columns"] if c["column_name"] == COMMUNE)
    commune_title = str(commune_column["verbose_name"])
    dsn = superset_server.warehouse_readonly.postgres_dsn()
    cells = warehouse_cells(dsn, dataset)
    departement = drilled_departement(cells)
    expected = {cell.commune: cell_text(cell) for cell in cells[departement]}
    seen = drill(browser, superset_server.base_url, departement, commune_title)
    context = f"(screenshot: {SCREENSHOT}; JavaScript errors: {seen.page_errors or 'none'})"

    assert seen.failed is None, (
        f"drilling from {departement!r} to the communes of {DRILL_CHART!r} failed:"
        f" {seen.failed}; menu {seen.menu!r}, columns {seen.columns!r} {context}"
    )
    shown_departements = {row[0]: row[-1] for row in seen.departement_rows}
    assert shown_departements == {code: departement_text(rows) for code, rows in cells.items()}, (
        f"{DRILL_CHART!r} reads {shown_departements}, not the sums of the published communes"
        f" of the warehouse's cells {context}"
    )
    assert len(seen.answers) == 1, (
        f"{len(seen.answers)} drill queries grouped by {COMMUNE} on {departement!r} {context}"
    )
    # The window, the answer it drew from, and the cells: the same figures, cell by cell.
    shown = {row[0]: row[-1] for row in seen.drill_rows}
    assert len(shown) == len(seen.drill_rows), f"a commune shows twice: {seen.drill_rows}"
    (answer,) = seen.answers
    (metric,) = answer.query["metrics"]
    answered = {str(row[COMMUNE]): row[metric] for row in answer.rows}
    assert shown == expected, (
        f"drilled from {departement!r}, the window shows other communes or figures than the"
        f" release's cells: only shown {sorted(set(shown.items()) - set(expected.items()))},"
        f" only in the warehouse {sorted(set(expected.items()) - set(shown.items()))} {context}"
    )
    assert answered == expected, f"the drill's chart-data answer differs: {answered} {context}"
    suppressed = {cell.commune for cell in cells[departement] if cell.suppressed}
    published = {cell.commune: cell.count for cell in cells[departement] if not cell.suppressed}
    assert suppressed, f"{departement!r}: no suppressed commune to check"
    assert len(published) > 1, f"{departement!r}: fewer than two published communes"
    # Nothing below the release: a suppressed commune reads the secret label, and the only
    # figures in the window are published cells' counts, each on its own commune.
    figures_shown = {
        commune: int(re.sub(r"\D", "", text)) for commune, text in shown.items() if text != SECRET
    }
    assert figures_shown == published, (
        f"figures shown {figures_shown} are not the published cells {published} {context}"
    )
    assert all(shown[commune] == SECRET for commune in suppressed), context
    # The same query in SQL on the warehouse, with the committed dataset's metric.
    computed = figures.warehouse_figures(dsn, chart, [COMMUNE], where={DEPARTEMENT: [departement]})
    assert {key[0]: value for key, value in computed.items()} == shown, (
        f"the dataset's metric run in SQL gives {computed}, the window shows {shown} {context}"
    )
