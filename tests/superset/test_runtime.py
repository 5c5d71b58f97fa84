"""Superset as a service of the platform, and the read-only role it reads the warehouse with.

The tests of what `services up` provisions (the environment file, the role) need only the
session's PostgreSQL, so they are not marked `superset` and run in `make test-fast` too;
the others need the real Superset server.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.errors import InsufficientPrivilege

from include.core.connections import (
    SUPERSET_CONN_ID,
    WAREHOUSE_CONN_ID,
    WAREHOUSE_READONLY_CONN_ID,
    env_var,
    parse_connection,
)
from include.services.processes import group_alive
from include.services.provision import ANALYST_ROLE
from include.services.stack import LocalPlatform, read_env_file
from include.services.superset_runtime import ADMIN_USER, CONFIG_FILE
from tests.superset.conftest import RunningSuperset

PUBLISHED_SCHEMAS = ("curated", "aggregates")


def _post_json(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, {}


# -- what `up` writes for Superset ---------------------------------------------------------


def test_env_file_carries_superset_and_its_connections(platform: LocalPlatform) -> None:
    env = read_env_file(platform.settings.env_file)
    assert env["SUPERSET_CONFIG_PATH"] == str(CONFIG_FILE)
    assert env["SUPERSET_HOME"] == str(platform.settings.local_dir / "superset")
    assert len(env["SUPERSET_SECRET_KEY"]) >= 32
    assert env["CIVIC_SUPERSET_METADATA_URI"].startswith("postgresql+psycopg2://superset:")
    superset = parse_connection(env[env_var(SUPERSET_CONN_ID)], SUPERSET_CONN_ID)
    assert (superset.conn_type, superset.host, superset.schema) == ("http", "127.0.0.1", "http")
    assert (superset.port, superset.login) == (platform.superset().port, ADMIN_USER)
    assert superset.password
    warehouse = parse_connection(env[env_var(WAREHOUSE_CONN_ID)], WAREHOUSE_CONN_ID)
    readonly = parse_connection(env[env_var(WAREHOUSE_READONLY_CONN_ID)], "readonly")
    assert (readonly.login, readonly.schema) == (ANALYST_ROLE, warehouse.schema)
    assert (readonly.host, readonly.port) == (warehouse.host, warehouse.port)
    assert readonly.password not in (None, warehouse.password)


# -- the server ----------------------------------------------------------------------------


@pytest.mark.superset
def test_health_answers_ok(superset_server: RunningSuperset) -> None:
    with urllib.request.urlopen(f"{superset_server.base_url}/health", timeout=10) as resp:  # noqa: S310
        assert resp.read() == b"OK"


@pytest.mark.superset
def test_status_reports_superset_healthy(
    platform: LocalPlatform, superset_server: RunningSuperset
) -> None:
    row = next(row for row in platform.status() if row.name == "superset")
    assert (row.address, row.state) == (superset_server.base_url, "healthy")
    assert row.detail == f"pid {platform.superset().running()}"


@pytest.mark.superset
def test_admin_logs_in_with_the_platform_password(superset_server: RunningSuperset) -> None:
    login = f"{superset_server.base_url}/api/v1/security/login"
    body = {"username": superset_server.username, "provider": "db", "refresh": False}
    status, answer = _post_json(login, {**body, "password": superset_server.password})
    assert status == 200
    assert answer.get("access_token")
    assert _post_json(login, {**body, "password": superset_server.password + "x"})[0] == 401


@pytest.mark.superset
def test_pages_are_french_and_load_nothing_from_outside(superset_server: RunningSuperset) -> None:
    with urllib.request.urlopen(f"{superset_server.base_url}/login/", timeout=10) as resp:  # noqa: S310
        page = resp.read().decode()
        policy = resp.headers["Content-Security-Policy"]
        cookie = resp.headers["Set-Cookie"]
    assert "&#34;locale&#34;: &#34;fr&#34;" in page
    assert "https:" not in policy
    assert "default-src 'self'" in policy
    assert cookie.startswith("civic_superset_session=")
    assert "HttpOnly" in cookie


@pytest.mark.superset
def test_stop_ends_every_process_and_a_second_start_skips_the_set_up(
    platform: LocalPlatform, superset_server: RunningSuperset
) -> None:
    server = platform.superset()
    pid = server.running()
    assert pid is not None
    group = _process_group(pid)
    assert len(group) >= 2, f"gunicorn's master and worker expected, found {group}"
    # The very call `civic services down` makes for Superset (LocalPlatform.down).
    assert server.stop()
    assert not group_alive(pid)
    assert server.running() is None
    assert not server.healthy()

    started = time.monotonic()
    assert platform.start_superset() is False, "the set-up ran again though nothing changed"
    assert server.healthy()
    assert time.monotonic() - started < 60


def _process_group(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


# -- the analysts' read-only role ----------------------------------------------------------


@pytest.fixture(scope="module")
def analyst_dsn(platform: LocalPlatform) -> str:
    return platform.readonly_warehouse().postgres_dsn()


@pytest.fixture(scope="module")
def published_tables(warehouse_dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2",
            (list(PUBLISHED_SCHEMAS),),
        ).fetchall()
    assert {schema for schema, _ in rows} == set(PUBLISHED_SCHEMAS), "ensure_tables made none"
    return rows


@pytest.fixture
def analyst(analyst_dsn: str) -> Iterator[psycopg.Connection]:
    """The role's connection with read-only transactions switched off, so that each refusal
    below is its missing privilege, not merely the read-only default."""
    with psycopg.connect(analyst_dsn, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        yield conn


def test_analyst_is_a_plain_login_with_read_only_defaults(analyst_dsn: str) -> None:
    with psycopg.connect(analyst_dsn) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (ANALYST_ROLE,)
        attributes = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        assert attributes == (False, False, False, False)
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)


def test_analyst_reads_every_published_table(
    analyst: psycopg.Connection, published_tables: list[tuple[str, str]]
) -> None:
    for schema, table in published_tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        assert analyst.execute(query).fetchone() is not None


@pytest.mark.parametrize("schema", PUBLISHED_SCHEMAS)
def test_analyst_reads_tables_the_pipeline_creates_later(
    schema: str, warehouse_dsn: str, analyst: psycopg.Connection
) -> None:
    table = sql.Identifier(schema, f"later_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(warehouse_dsn, autocommit=True) as pipeline:
        pipeline.execute(sql.SQL("CREATE TABLE {} (n int)").format(table))
        pipeline.execute(sql.SQL("INSERT INTO {} VALUES (7)").format(table))
        try:
            assert analyst.execute(sql.SQL("SELECT n FROM {}").format(table)).fetchall() == [(7,)]
        finally:
            pipeline.execute(sql.SQL("DROP TABLE {}").format(table))


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM audit.ledger",
        "SELECT * FROM pipeline.loaded_runs",
        "CREATE TABLE curated.intrus (n int)",
        "CREATE TABLE aggregates.intrus (n int)",
        "CREATE TABLE public.intrus (n int)",
        "CREATE SCHEMA intrus",
        "CREATE TEMPORARY TABLE intrus (n int)",
    ],
)
def test_analyst_is_refused_outside_reading_published_tables(
    analyst: psycopg.Connection, statement: str
) -> None:
    with pytest.raises(InsufficientPrivilege):
        analyst.execute(statement)


def test_analyst_cannot_read_tables_in_public(
    warehouse_dsn: str, analyst: psycopg.Connection
) -> None:
    table = sql.Identifier("public", f"probe_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(warehouse_dsn, autocommit=True) as pipeline:
        pipeline.execute(sql.SQL("CREATE TABLE {} (n int)").format(table))
        try:
            with pytest.raises(InsufficientPrivilege):
                analyst.execute(sql.SQL("SELECT * FROM {}").format(table))
        finally:
            pipeline.execute(sql.SQL("DROP TABLE {}").format(table))


@pytest.mark.parametrize(
    "template",
    [
        "INSERT INTO {table} DEFAULT VALUES",
        "UPDATE {table} SET {column} = {column}",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
        "DROP TABLE {table}",
        "ALTER TABLE {table} ADD COLUMN intrus int",
    ],
)
def test_analyst_cannot_change_any_published_table(
    analyst: psycopg.Connection, published_tables: list[tuple[str, str]], template: str
) -> None:
    for schema, table in published_tables:
        column = analyst.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position LIMIT 1",
            (schema, table),
        ).fetchone()
        assert column is not None
        statement = sql.SQL(template).format(
            table=sql.Identifier(schema, table), column=sql.Identifier(column[0])
        )
        with pytest.raises(InsufficientPrivilege):
            analyst.execute(statement)


@pytest.mark.parametrize("database", ["airflow", "superset"])
def test_analyst_cannot_connect_to_other_databases(analyst_dsn: str, database: str) -> None:
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(make_conninfo(analyst_dsn, dbname=database)).close()
