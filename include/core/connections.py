"""Connection settings for the warehouse and the S3 zones, read the way Airflow reads them.

The single source of truth is the pair of Airflow connections `civic_warehouse`
(postgres) and `civic_s3` (aws), given as `AIRFLOW_CONN_<ID>` environment
variables (JSON or URI form) or any Airflow secrets backend. Inside DAG tasks the
hooks read them; the `civic` command reads the environment variables here so it
starts in a fraction of a second without importing Airflow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

WAREHOUSE_CONN_ID = "civic_warehouse"
S3_CONN_ID = "civic_s3"
# Airflow's metadata database (a SQLAlchemy URL): set by `civic services up`, read by the
# metrics exporter for DAG and task states.
AIRFLOW_METADATA_VAR = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
PSEUDONYM_KEY_CONN_ID = "civic_pseudonym_key"  # password = HMAC key, extra.key_id = its id
# A key connection of this type names a key held by a vault's transit engine instead of
# carrying it (the ledger's: audit/vault_transit_key.py; pseudonyms': vault_pseudonyms.py).
VAULT_CONN_TYPE = "vault"
# The analysts' read-only login on the warehouse (include/sql/analyst_role.sql): what
# Superset's database asset connects as.
WAREHOUSE_READONLY_CONN_ID = "civic_warehouse_readonly"
# Superset's REST API (conn_type http, schema = URL scheme), for the refresh DAG's hook.
SUPERSET_CONN_ID = "civic_superset"


class ConnectionConfigError(RuntimeError):
    """A connection is missing or malformed."""


@dataclass(frozen=True)
class Connection:
    """The subset of an Airflow connection the platform uses."""

    conn_type: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The `AIRFLOW_CONN_*` JSON form, which Airflow parses without ambiguity."""
        body: dict[str, Any] = {"conn_type": self.conn_type}
        for key in ("host", "port", "login", "password", "schema"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        if self.extra:
            body["extra"] = dict(self.extra)
        return json.dumps(body, separators=(",", ":"))

    def postgres_dsn(self) -> str:
        """A libpq URI for psycopg; sslmode and friends come from `extra`."""
        if not self.host:
            raise ConnectionConfigError("postgres connection has no host")
        auth = ""
        if self.login:
            auth = quote(self.login, safe="")
            if self.password:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        port = f":{self.port}" if self.port else ""
        params = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in sorted(self.extra.items()))
        return f"postgresql://{auth}{self.host}{port}/{self.schema or 'postgres'}" + (
            f"?{params}" if params else ""
        )


def parse_connection(value: str, conn_id: str) -> Connection:
    """Parse an `AIRFLOW_CONN_*` value: JSON (`{"conn_type": ...}`) or URI form."""
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConnectionConfigError(f"connection '{conn_id}': invalid JSON: {exc}") from None
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra)
        port = data.get("port")
        return Connection(
            conn_type=data.get("conn_type", ""),
            host=data.get("host"),
            port=int(port) if port else None,
            login=data.get("login"),
            password=data.get("password"),
            schema=data.get("schema"),
            extra=extra,
        )
    parts = urlsplit(text)
    if not parts.scheme:
        raise ConnectionConfigError(
            f"connection '{conn_id}': expected JSON or a URI like scheme://..."
        )
    extra: dict[str, Any] = dict(parse_qsl(parts.query))
    if "__extra__" in extra:
        extra = json.loads(extra["__extra__"])
    return Connection(
        conn_type=parts.scheme.replace("-", "_").replace("postgresql", "postgres"),
        host=unquote(parts.hostname) if parts.hostname else None,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=unquote(parts.path.lstrip("/")) or None,
        extra=extra,
    )


CONNECTION_PREFIX = "AIRFLOW_CONN_"


def env_var(conn_id: str) -> str:
    return f"{CONNECTION_PREFIX}{conn_id.upper()}"


def get_connection(conn_id: str, environ: Mapping[str, str] | None = None) -> Connection:
    env = os.environ if environ is None else environ
    value = env.get(env_var(conn_id))
    if not value:
        raise ConnectionConfigError(
            f"connection '{conn_id}' is not configured: set {env_var(conn_id)} "
            "or run `civic services up` (which writes .local/env)"
        )
    return parse_connection(value, conn_id)


def s3_client(conn: Connection) -> Any:
    """A boto3 S3 client from an aws connection (endpoint_url in extra for MinIO / local S3)."""
    import boto3
    from botocore.config import Config

    extra = dict(conn.extra)
    return boto3.client(
        "s3",
        endpoint_url=extra.get("endpoint_url"),
        region_name=extra.get("region_name", "eu-west-3"),
        aws_access_key_id=conn.login or extra.get("aws_access_key_id"),
        aws_secret_access_key=conn.password or extra.get("aws_secret_access_key"),
        verify=extra.get("verify", True),
        config=Config(
            retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"}
        ),
    )
