"""A small client for Superset's REST API, over one `requests.Session`.

Superset's API needs two things a plain request does not carry: a bearer token
(`POST /api/v1/security/login`, provider `db`) and, on every write, a CSRF token
(`GET /api/v1/security/csrf_token/`) sent as `X-CSRFToken` with a `Referer` from
the same session, whose cookie ties the two together. The session does both once,
at the first call.

Errors: Superset answers a failed import with an HTML 500 that says nothing (the
reason is in its own log), so every failure raises `SupersetError` naming the
method, the endpoint, the status and the start of the response text. Only the login
is retried, and only on connection errors: a Superset still starting refuses
connections for a few seconds, whereas a 4xx or 5xx will not get better by asking again.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests

from include.core.connections import Connection, ConnectionConfigError
from include.superset.rison import dumps as rison

PAGE_SIZE = 100
_TEXT_LIMIT = 600
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


class SupersetError(RuntimeError):
    """A Superset API call failed; the message says which, how, and what Superset said."""

    def __init__(self, method: str, endpoint: str, status: int | None, text: str) -> None:
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.text = text
        where = f"{method} {endpoint}"
        what = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"Superset {where} failed ({what}): {text}")


def _readable(text: str) -> str:
    """A response body as one short line: HTML tags dropped, whitespace collapsed, trimmed."""
    flat = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    return flat if len(flat) <= _TEXT_LIMIT else flat[:_TEXT_LIMIT] + "…"


class SupersetClient:
    """Superset's REST API as the admin user given (login once, CSRF on writes)."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float = 60.0,
        *,
        login_attempts: int = 10,
        login_retry_delay: float = 2.0,
    ) -> None:
        if login_attempts < 1:
            raise ValueError(f"login_attempts must be at least 1, got {login_attempts}")
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self.login_attempts = login_attempts
        self.login_retry_delay = login_retry_delay
        self.session = requests.Session()
        self._logged_in = False

    @classmethod
    def from_connection(cls, connection: Connection, timeout: float = 60.0) -> SupersetClient:
        """A client for the `civic_superset` connection: http(s)://host:port, admin login."""
        scheme = connection.schema or "http"
        if scheme not in ("http", "https") or not connection.host or not connection.login:
            raise ConnectionConfigError(
                "the Superset connection needs schema http or https (the URL scheme), a host"
                f" and a login; got schema={connection.schema!r} host={connection.host!r}"
                f" login={connection.login!r}"
            )
        port = f":{connection.port}" if connection.port else ""
        return cls(
            f"{scheme}://{connection.host}{port}",
            connection.login,
            connection.password or "",
            timeout,
        )

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    # -- transport --------------------------------------------------------------------------

    def _send(self, method: str, endpoint: str, **kwargs: Any) -> requests.Response:
        url = self.base_url + endpoint
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SupersetError(method, endpoint, None, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            # Superset's error page says nothing; its server log has the traceback.
            text = _readable(response.text) + " (the reason is in Superset's server log)"
            raise SupersetError(method, endpoint, response.status_code, text)
        if response.status_code >= 400:
            raise SupersetError(method, endpoint, response.status_code, _readable(response.text))
        return response

    def _json(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        self.login()
        response = self._send(method, endpoint, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise SupersetError(
                method, endpoint, response.status_code, "not JSON: " + _readable(response.text)
            ) from None

    def login(self) -> None:
        """Bearer token and CSRF token, once per client; retried while Superset is unreachable."""
        if self._logged_in:
            return
        body = {
            "username": self.username,
            "password": self._password,
            "provider": "db",
            "refresh": False,
        }
        for attempt in range(1, self.login_attempts + 1):
            try:
                response = self.session.post(
                    self.base_url + "/api/v1/security/login", json=body, timeout=self.timeout
                )
                break
            except requests.ConnectionError as exc:
                if attempt == self.login_attempts:
                    raise SupersetError(
                        "POST",
                        "/api/v1/security/login",
                        None,
                        f"cannot connect to {self.base_url} after {attempt} attempts: {exc};"
                        " is Superset running (`civic services status`)?",
                    ) from exc
                time.sleep(self.login_retry_delay)
        if response.status_code >= 400:
            raise SupersetError(
                "POST", "/api/v1/security/login", response.status_code, _readable(response.text)
            )
        token = response.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self._send("GET", "/api/v1/security/csrf_token/").json()["result"]
        # Flask-WTF checks the Referer of HTTPS requests; Superset's CSRF check wants both.
        self.session.headers.update({"X-CSRFToken": csrf, "Referer": self.base_url + "/"})
        self._logged_in = True

    # -- assets -----------------------------------------------------------------------------

    def import_assets(self, bundle: bytes, passwords: Mapping[str, str]) -> None:
        """Upsert every object of the bundle by UUID (the assets endpoint always overwrites)."""
        self._json(
            "POST",
            "/api/v1/assets/import/",
            files={"bundle": ("bundle.zip", bundle, "application/zip")},
            data={"passwords": json.dumps(dict(passwords))},
        )

    def _list(self, resource: str, columns: list[str]) -> Iterator[dict[str, Any]]:
        page = 0
        while True:
            query = rison({"columns": columns, "page": page, "page_size": PAGE_SIZE})
            body = self._json("GET", f"/api/v1/{resource}/", params={"q": query})
            yield from body["result"]
            page += 1
            if page * PAGE_SIZE >= body["count"]:
                return

    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset: id, uuid, schema, table_name."""
        return list(self._list("dataset", ["id", "uuid", "schema", "table_name"]))

    def charts(self) -> list[dict[str, Any]]:
        """Every chart: id, uuid, slice_name, viz_type."""
        return list(self._list("chart", ["id", "uuid", "slice_name", "viz_type"]))

    def dashboards(self) -> list[dict[str, Any]]:
        """Every dashboard: id, uuid, dashboard_title, slug."""
        return list(self._list("dashboard", ["id", "uuid", "dashboard_title", "slug"]))

    def dataset(self, dataset_id: int) -> dict[str, Any]:
        """One dataset with its columns and metrics."""
        return dict(self._json("GET", f"/api/v1/dataset/{dataset_id}")["result"])

    def update_chart(
        self, chart_id: int, params: Mapping[str, Any], query_context: Mapping[str, Any]
    ) -> None:
        """Replace a chart's params and saved query context."""
        body = {
            "params": json.dumps(params, ensure_ascii=False),
            "query_context": json.dumps(query_context, ensure_ascii=False),
        }
        self._json("PUT", f"/api/v1/chart/{chart_id}", json=body)

    def refresh_dataset(self, dataset_id: int) -> None:
        """Re-read the table's columns from the warehouse (calculated columns are kept)."""
        self._json("PUT", f"/api/v1/dataset/{dataset_id}/refresh")

    # -- data -------------------------------------------------------------------------------

    def chart_params(self, chart_id: int) -> dict[str, Any]:
        """The chart's params (its form data) as Superset holds them."""
        result = self._json("GET", f"/api/v1/chart/{chart_id}")["result"]
        return dict(json.loads(result.get("params") or "{}"))

    def chart_query_context(self, chart_id: int) -> dict[str, Any]:
        """The query context saved with the chart (the bundle's charts all carry one)."""
        result = self._json("GET", f"/api/v1/chart/{chart_id}")["result"]
        if not result.get("query_context"):
            raise SupersetError(
                "GET",
                f"/api/v1/chart/{chart_id}",
                200,
                f"chart '{result.get('slice_name')}' has no saved query context",
            )
        return dict(json.loads(result["query_context"]))

    def chart_data(self, chart_id: int) -> list[dict[str, Any]]:
        """The rows of the chart's first query, run from its saved query context."""
        body = self._json("GET", f"/api/v1/chart/{chart_id}/data/", params={"format": "json"})
        return list(body["result"][0]["data"])

    def query_results(self, query_context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a query context (`POST /api/v1/chart/data`); each query's whole result: its
        rows (`data`), the annotation layers' records (`annotation_data`), ..."""
        body = self._json("POST", "/api/v1/chart/data", json=dict(query_context))
        return list(body["result"])

    def query(self, query_context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a query context; the rows of its first query."""
        return list(self.query_results(query_context)[0]["data"])
