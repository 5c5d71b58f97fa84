"""A running Airflow's REST API, as the UI and an operator's scripts call it."""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from typing import Any

from include.services.airflow_runtime import ADMIN_USER
from include.services.stack import LocalPlatform

log = logging.getLogger(__name__)


def request(
    url: str, body: dict[str, Any] | None = None, token: str | None = None, method: str = ""
) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    http = urllib.request.Request(url, data=data, headers=headers, method=method or None)  # noqa: S310 - loopback
    with urllib.request.urlopen(http, timeout=10) as resp:  # noqa: S310
        return json.load(resp)


def eventually(check: Any, timeout: float = 90, every: float = 1) -> Any:
    """Poll `check` until it returns something true or the deadline passes.

    A poll the server does not answer within `request`'s own time-out counts as "not yet":
    on a loaded 2-core machine the API server can be busy for seconds, and one slow answer
    in a long wait is no failure. Any other error still fails at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except TimeoutError:
            if time.monotonic() > deadline:
                raise
            log.warning("the API server did not answer a poll in time; polling on")
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def admin_token(platform: LocalPlatform) -> tuple[str, str]:
    """(API base URL, a bearer token of the UI's admin)."""
    base = f"http://127.0.0.1:{platform.airflow().api_port}"
    password = platform.state.secret("airflow_admin_password")
    token = request(f"{base}/auth/token", {"username": ADMIN_USER, "password": password})
    return base, token["access_token"]
