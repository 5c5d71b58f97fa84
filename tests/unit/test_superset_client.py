"""The Superset REST client against a small fake Superset on loopback (real HTTP, real sockets).

The fake answers the few endpoints the client uses the way Superset 6.1 does, and
records what it received, so the tests can check the headers Superset insists on
(bearer token, CSRF token, Referer) and the shape of the import upload.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from include.core.connections import Connection, ConnectionConfigError
from include.services.processes import free_port
from include.superset.client import SupersetClient, SupersetError
from include.superset.rison import dumps as rison

TOKEN = "jwt-token"
CSRF = "csrf-token"
Handler = Callable[["Received"], tuple[int, str, str]]


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeSuperset:
    """Routes (method, path) → handler; every request is kept in `received`."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def handle(self, request: Received) -> tuple[int, str, str]:
        self.received.append(request)
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return 404, "application/json", '{"message": "Not found"}'
        return handler(request)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.received]


def _json(status: int, body: Any) -> tuple[int, str, str]:
    return status, "application/json", json.dumps(body)


def _logged_in(fake: FakeSuperset) -> None:
    fake.routes["POST", "/api/v1/security/login"] = lambda r: _json(200, {"access_token": TOKEN})
    fake.routes["GET", "/api/v1/security/csrf_token/"] = lambda r: _json(200, {"result": CSRF})


def _serve(fake: FakeSuperset, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Received(
                self.command,
                parts.path,
                parse_qs(parts.query),
                dict(self.headers.items()),
                self.rfile.read(length),
            )
            status, content_type, body = fake.handle(request)
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._any()

        def do_POST(self) -> None:
            self._any()

        def do_PUT(self) -> None:
            self._any()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def fake() -> Iterator[tuple[FakeSuperset, str]]:
    superset = FakeSuperset()
    _logged_in(superset)
    server = _serve(superset, free_port())
    yield superset, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _form_parts(request: Received) -> dict[str, Message]:
    """The parts of a multipart/form-data body, by field name."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = message_from_bytes(head + request.body)
    return {
        str(part.get_param("name", header="content-disposition")): part
        for part in message.get_payload()
    }


def _client(url: str, **kwargs: Any) -> SupersetClient:
    return SupersetClient(url, "admin", "pw", timeout=5, login_retry_delay=0.05, **kwargs)


def test_import_sends_the_bundle_and_passwords_with_token_csrf_and_referer(
    fake: tuple[FakeSuperset, str],
) -> None:
    superset, url = fake
    superset.routes["POST", "/api/v1/assets/import/"] = lambda r: _json(200, {"message": "OK"})
    with _client(url) as client:
        client.import_assets(b"PK-zip-bytes", {"databases/db.yaml": "secret"})
    login, csrf, upload = superset.received
    assert json.loads(login.body) == {
        "username": "admin",
        "password": "pw",
        "provider": "db",
        "refresh": False,
    }
    assert csrf.headers["Authorization"] == f"Bearer {TOKEN}"
    assert upload.headers["Authorization"] == f"Bearer {TOKEN}"
    assert upload.headers["X-CSRFToken"] == CSRF
    assert upload.headers["Referer"] == url + "/"
    form = _form_parts(upload)
    assert form["bundle"].get_payload(decode=True) == b"PK-zip-bytes"
    assert form["bundle"].get_filename() == "bundle.zip"
    passwords = form["passwords"].get_payload(decode=True)
    assert json.loads(passwords) == {"databases/db.yaml": "secret"}


def test_login_happens_once_per_client(fake: tuple[FakeSuperset, str]) -> None:
    superset, url = fake
    superset.routes["PUT", "/api/v1/dataset/7/refresh"] = lambda r: _json(200, {"message": "OK"})
    with _client(url) as client:
        client.refresh_dataset(7)
        client.refresh_dataset(7)
    assert superset.paths().count("POST /api/v1/security/login") == 1


def test_an_html_500_becomes_an_error_naming_the_call_and_what_superset_said(
    fake: tuple[FakeSuperset, str],
) -> None:
    superset, url = fake
    page = "<html><head><style>body {}</style></head><body><h1>500</h1>\n<p>Oops</p>" + ("x" * 2000)
    superset.routes["POST", "/api/v1/assets/import/"] = lambda r: (500, "text/html", page)
    with _client(url) as client, pytest.raises(SupersetError) as caught:
        client.import_assets(b"zip", {})
    error = caught.value
    assert (error.method, error.endpoint, error.status) == ("POST", "/api/v1/assets/import/", 500)
    assert "<" not in error.text
    assert error.text.startswith("body {} 500 Oops")
    assert len(error.text) <= 601 + len(" (the reason is in Superset's server log)")
    assert error.text.endswith("(the reason is in Superset's server log)")
    assert "POST /api/v1/assets/import/ failed (HTTP 500)" in str(error)


def test_lists_are_read_page_by_page(fake: tuple[FakeSuperset, str]) -> None:
    superset, url = fake
    total = 230

    def page(request: Received) -> tuple[int, str, str]:
        number = int(request.query["q"][0].split("page:")[1].split(",")[0])
        ids = range(number * 100, min(total, (number + 1) * 100))
        return _json(200, {"count": total, "result": [{"id": i, "uuid": f"u{i}"} for i in ids]})

    superset.routes["GET", "/api/v1/dataset/"] = page
    with _client(url) as client:
        datasets = client.datasets()
    assert [d["id"] for d in datasets] == list(range(total))
    queries = [r.query["q"][0] for r in superset.received if r.path == "/api/v1/dataset/"]
    assert queries == [
        rison({"columns": ["id", "uuid", "schema", "table_name"], "page": n, "page_size": 100})
        for n in range(3)
    ]


def test_chart_data_returns_the_first_querys_rows(fake: tuple[FakeSuperset, str]) -> None:
    superset, url = fake
    rows = [{"commune": "Lyon", "effectif_affiche": "secret statistique"}]
    superset.routes["GET", "/api/v1/chart/3/data/"] = lambda r: _json(
        200, {"result": [{"data": rows, "rowcount": 1}]}
    )
    with _client(url) as client:
        assert client.chart_data(3) == rows


def test_a_chart_without_saved_query_context_is_an_error(fake: tuple[FakeSuperset, str]) -> None:
    superset, url = fake
    superset.routes["GET", "/api/v1/chart/4"] = lambda r: _json(
        200, {"result": {"slice_name": "Carte", "query_context": None}}
    )
    with _client(url) as client, pytest.raises(SupersetError, match="'Carte' has no saved query"):
        client.chart_query_context(4)


def test_a_refused_login_is_not_retried(fake: tuple[FakeSuperset, str]) -> None:
    superset, url = fake
    superset.routes["POST", "/api/v1/security/login"] = lambda r: _json(
        401, {"message": "Not authorized"}
    )
    with _client(url) as client, pytest.raises(SupersetError, match="HTTP 401"):
        client.datasets()
    assert superset.paths() == ["POST /api/v1/security/login"]


def test_login_waits_for_a_superset_that_is_still_starting() -> None:
    superset = FakeSuperset()
    _logged_in(superset)
    superset.routes["PUT", "/api/v1/dataset/1/refresh"] = lambda r: _json(200, {"message": "OK"})
    port = free_port()
    started: list[ThreadingHTTPServer] = []
    timer = threading.Timer(0.3, lambda: started.append(_serve(superset, port)))
    timer.start()
    try:
        with _client(f"http://127.0.0.1:{port}", login_attempts=100) as client:
            client.refresh_dataset(1)
    finally:
        timer.join()
        for server in started:
            server.shutdown()
            server.server_close()
    assert superset.paths()[-1] == "PUT /api/v1/dataset/1/refresh"


def test_login_gives_up_on_an_unreachable_superset() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with _client(url, login_attempts=3) as client, pytest.raises(SupersetError) as caught:
        client.login()
    assert caught.value.status is None
    assert "after 3 attempts" in str(caught.value)
    assert "civic services status" in str(caught.value)


def test_other_calls_are_not_retried(fake: tuple[FakeSuperset, str]) -> None:
    superset, url = fake
    calls: list[int] = []

    def failing(request: Received) -> tuple[int, str, str]:
        calls.append(1)
        return _json(422, {"message": "table does not exist"})

    superset.routes["PUT", "/api/v1/dataset/9/refresh"] = failing
    with _client(url) as client, pytest.raises(SupersetError, match="table does not exist"):
        client.refresh_dataset(9)
    assert calls == [1]


def test_client_from_the_superset_connection() -> None:
    conn = Connection("http", "127.0.0.1", 8088, "admin", "pw", "http")
    client = SupersetClient.from_connection(conn, timeout=7)
    assert (client.base_url, client.username, client.timeout) == (
        "http://127.0.0.1:8088",
        "admin",
        7,
    )
    with pytest.raises(ConnectionConfigError, match="schema http or https"):
        SupersetClient.from_connection(Connection("http", "h", 1, "admin", "pw", "ftp"))
    with pytest.raises(ConnectionConfigError, match="a host"):
        SupersetClient.from_connection(Connection("http", None, 1, "admin", "pw", "https"))


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ({"page": 0, "page_size": 100}, "(page:0,page_size:100)"),
        ({"columns": ["id", "uuid"]}, "(columns:!(id,uuid))"),
        ("it's ok!", "'it!'s ok!!'"),
        ("", "''"),
        ("-1", "'-1'"),
        ([True, False, None], "!(!t,!f,!n)"),
    ],
)
def test_rison(value: Any, encoded: str) -> None:
    assert rison(value) == encoded
