"""One call to a running Airflow's REST API (`/api/v2`, `/auth/token`), as JSON.

The standard library's urllib rather than a client package: the platform calls a
handful of endpoints on loopback (tests, benchmarks), and Airflow's own Python client
would be another pinned dependency for that.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def request(
    url: str,
    body: Any = None,
    token: str | None = None,
    method: str = "",
    timeout: float = 10,
) -> Any:
    """`body` sent as JSON (POST unless `method` says otherwise), the JSON answer returned;
    an HTTP error raises urllib's HTTPError, no answer in `timeout` s a TimeoutError."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    http = urllib.request.Request(url, data=data, headers=headers, method=method or None)  # noqa: S310 - loopback
    with urllib.request.urlopen(http, timeout=timeout) as resp:  # noqa: S310
        return json.load(resp)
