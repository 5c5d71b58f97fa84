"""Airflow hook for Superset's REST API: the `civic_superset` connection as a client.

Thin on purpose: the client (login, CSRF, import, refresh, chart data) lives in
`include/superset/client.py`, testable without Airflow; this hook only reads the
connection the Airflow way, so every secrets backend works.
"""

from __future__ import annotations

from airflow.sdk import BaseHook
from civic_hooks import civic_connection

from include.core.connections import SUPERSET_CONN_ID
from include.superset.client import SupersetClient


class SupersetHook(BaseHook):
    """Superset's REST API as the admin account of an http connection (schema = URL scheme)."""

    conn_name_attr = "superset_conn_id"
    default_conn_name = SUPERSET_CONN_ID
    conn_type = "http"
    hook_name = "Superset"

    def __init__(self, superset_conn_id: str = default_conn_name, timeout: float = 120.0) -> None:
        super().__init__()
        self.superset_conn_id = superset_conn_id
        self.timeout = timeout

    def get_client(self) -> SupersetClient:
        """A client for the connection's Superset; it logs in at its first call."""
        return SupersetClient.from_connection(
            civic_connection(self.superset_conn_id), timeout=self.timeout
        )

    def get_conn(self) -> SupersetClient:
        return self.get_client()
