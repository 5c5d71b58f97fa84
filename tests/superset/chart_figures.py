"""What a dashboard's charts plotted, and the same figures computed on the warehouse.

WHY both sides: a chart that draws *something* can still draw the wrong thing (a filter
not applied, a label mapped to another code, a metric summing the wrong column). The
browser tests therefore read the figures the page itself received — the
`/api/v1/chart/data` responses its charts were drawn from — and compare them with the
same aggregation written in SQL and run on the warehouse through the read-only role,
using the calculated columns' and metrics' SQL from the committed dataset assets (the
same text Superset compiles), so a label or a metric is computed the same way on both
sides while grouping, filtering and summing are done by PostgreSQL alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from email import policy as email_policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import yaml
from playwright.sync_api import Page, Response
from psycopg import sql

from include.superset.assets import ASSETS_DIR

CHART_DATA_PATH = "/api/v1/chart/data"
# Legacy plug-ins (the country map) still query through this endpoint, form data in a form.
LEGACY_DATA_PATH = "/superset/explore_json/"
# A figure: the chart's grouping values (x-axis value, then series or row/column labels).
Figures = dict[tuple[str, ...], Any]


def committed(folder: str) -> dict[str, dict[str, Any]]:
    """The committed assets of `folder` by UUID."""
    docs = (
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ASSETS_DIR / folder).rglob("*.yaml"))
    )
    return {str(doc["uuid"]): doc for doc in docs}


def chart_asset(key_title: str) -> dict[str, Any]:
    """The committed chart whose title is `key_title`."""
    matches = [doc for doc in committed("charts").values() if doc["slice_name"] == key_title]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} committed charts are titled {key_title!r}")
    return matches[0]


@dataclass(frozen=True)
class ChartResponse:
    """One chart-data request the page made, and what it got back."""

    slice_id: int
    query: dict[str, Any]  # the request's first query object ({} for a legacy chart)
    rows: list[dict[str, Any]]  # the response's first result's rows ([] for a legacy chart)
    filters: list[dict[str, Any]]  # the simple filters the request carries ({col, op, val})


class ChartDataRecorder:
    """Every chart-data response of a page, read after the fact: `/api/v1/chart/data`,
    and `/superset/explore_json/` for the legacy plug-ins (its filters only).

    The listener only keeps the response objects: reading a body from inside a
    Playwright event handler of the sync API can deadlock it.
    """

    def __init__(self, page: Page) -> None:
        self._responses: list[Response] = []
        page.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        if response.request.method == "POST" and (
            CHART_DATA_PATH in response.url or LEGACY_DATA_PATH in response.url
        ):
            self._responses.append(response)

    def clear(self) -> None:
        self._responses.clear()

    def charts(self) -> list[ChartResponse]:
        """The responses of the dashboard's charts (not the filters' value lists), in order."""
        found = []
        for response in list(self._responses):
            if response.status >= 400:
                continue
            if LEGACY_DATA_PATH in response.url:
                found += _legacy(response)
                continue
            body = json.loads(response.request.post_data or "{}")
            slice_id = (body.get("form_data") or {}).get("slice_id")
            if slice_id is None:
                continue
            query = body["queries"][0]
            result = response.json()["result"][0]
            found.append(
                ChartResponse(int(slice_id), query, result["data"], query.get("filters", []))
            )
        return found


def _form_field(response: Response, name: str) -> str | None:
    """A field of a request's form body: multipart (Superset's client posts a FormData)
    or URL-encoded; else the same field in the URL."""
    body = response.request.post_data_buffer or b""
    content_type = response.request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=email_policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == name:
                return bytes(part.get_payload(decode=True)).decode("utf-8")
    fields = parse_qs(body.decode("utf-8")) if "urlencoded" in content_type else {}
    values = fields.get(name) or parse_qs(urlsplit(response.url).query).get(name)
    return values[0] if values else None


def _legacy(response: Response) -> list[ChartResponse]:
    """A legacy plug-in's request: its form data (the body's, the URL holding only the
    chart id), filters in its `extra_form_data`, where the dashboard puts native filters
    and cross-filters."""
    text = _form_field(response, "form_data")
    form_data = json.loads(text) if text else {}
    if form_data.get("slice_id") is None:
        return []
    filters = (form_data.get("extra_form_data") or {}).get("filters", [])
    return [ChartResponse(int(form_data["slice_id"]), {}, [], filters)]


def _number(value: Any) -> Any:
    """JSON and PostgreSQL numbers compared as numbers (SUM is a Decimal or an int)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _column_name(column: Any) -> str:
    """A query column's name: a plain name, or the label of an x-axis column object."""
    return column if isinstance(column, str) else str(column["label"])


def _pivot(response: ChartResponse) -> dict[str, Any] | None:
    steps = response.query.get("post_processing") or []
    return next((step for step in steps if step and step.get("operation") == "pivot"), None)


def grouping(response: ChartResponse) -> list[str]:
    """The columns a chart's figures are keyed by, in `plotted_figures`' order."""
    pivot = _pivot(response)
    if pivot is not None:
        return [*pivot["options"]["index"], *pivot["options"]["columns"]]
    return [_column_name(column) for column in response.query["columns"]]


def plotted_figures(response: ChartResponse) -> Figures:
    """The figures a chart drew, keyed by `grouping(response)`'s values, nulls (nothing
    drawn) left out.

    A chart whose query pivots its rows (ECharts bars: one column per series after the
    x-axis, one series column) gives (x value, series) → value; any other gives its
    columns' values → its single metric's value.
    """
    figures: Figures = {}
    pivot = _pivot(response)
    if pivot is not None:
        (index,) = pivot["options"]["index"]
        if len(pivot["options"]["columns"]) > 1:
            raise ValueError("series over several columns: their names are joined, not keyed")
        for row in response.rows:
            for series, value in row.items():
                if series != index and value is not None:
                    figures[(str(row[index]), series)] = _number(value)
        return figures
    (metric,) = response.query["metrics"]
    columns = grouping(response)
    for row in response.rows:
        if row[metric] is not None:
            figures[tuple(str(row[column]) for column in columns)] = _number(row[metric])
    return figures


def _dataset(uuid: str) -> dict[str, Any]:
    return committed("datasets")[uuid]


def _column_sql(dataset: dict[str, Any], name: str) -> sql.Composable:
    """A dataset column as SQL: a calculated column's expression, or the stored column."""
    column = next(c for c in dataset["columns"] if c["column_name"] == name)
    if column.get("expression"):
        return sql.SQL("(" + column["expression"] + ")")  # the committed asset's own SQL
    return sql.Identifier(name)


def _metric_sql(dataset: dict[str, Any], name: str) -> sql.Composable:
    metric = next(m for m in dataset["metrics"] if m["metric_name"] == name)
    return sql.SQL(metric["expression"])  # the committed asset's own SQL


def warehouse_figures(
    dsn: str,
    chart: dict[str, Any],
    groups: list[str],
    *,
    where: dict[str, list[str]] | None = None,
) -> Figures:
    """The committed chart's figures computed on the warehouse: its dataset's table grouped
    by `groups` (dataset columns, as the page's query keyed them), the chart's metric, and
    `where` (dataset column → values kept), nulls (nothing to draw) left out."""
    dataset = _dataset(chart["dataset_uuid"])
    (metric,) = json.loads(chart["query_context"])["queries"][0]["metrics"]
    conditions = [
        sql.SQL("{} = ANY(%s)").format(_column_sql(dataset, column)) for column in (where or {})
    ]
    statement = sql.SQL(
        "SELECT {groups}, {metric} FROM {table} {where} GROUP BY {positions}"
    ).format(
        groups=sql.SQL(", ").join(
            sql.SQL("({})::text").format(_column_sql(dataset, name)) for name in groups
        ),
        metric=_metric_sql(dataset, metric),
        table=sql.Identifier(dataset["schema"], dataset["table_name"]),
        where=sql.SQL("WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL(""),
        positions=sql.SQL(", ").join(sql.Literal(i) for i in range(1, len(groups) + 1)),
    )
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(statement, [list(values) for values in (where or {}).values()])
        return {tuple(row[:-1]): _number(row[-1]) for row in rows.fetchall() if row[-1] is not None}


def largest_value(dsn: str, dataset_uuid: str, column: str) -> str:
    """The value of `column` with the largest published count in the dataset's table:
    a filter value that leaves the filtered charts with figures to compare."""
    dataset = _dataset(dataset_uuid)
    statement = sql.SQL(
        'SELECT ({column})::text FROM {table} GROUP BY 1 ORDER BY SUM("count") DESC NULLS LAST,'
        " 1 LIMIT 1"
    ).format(
        column=_column_sql(dataset, column),
        table=sql.Identifier(dataset["schema"], dataset["table_name"]),
    )
    with psycopg.connect(dsn) as conn:
        row = conn.execute(statement).fetchone()
    if row is None:
        raise LookupError(f"{dataset['table_name']} is empty: no value of {column} to filter on")
    return str(row[0])
