"""The embedded services as `civic services up` leaves them: roles, buckets, env file."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from include.core.connections import (
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    env_var,
    parse_connection,
)
from include.core.settings import Settings
from include.core.zones import PUBLIC_READ_SID, bucket_encryption, sse_arguments
from include.services.stack import METADATA_VAR, LocalPlatform, read_env_file, user_overrides


def test_env_file_is_private_and_complete(platform: LocalPlatform, settings: Settings) -> None:
    assert settings.env_file.stat().st_mode & 0o077 == 0, ".local/env holds secrets"
    env = read_env_file(settings.env_file)
    assert env["AIRFLOW_HOME"] == str(settings.airflow_home)
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert len(parse_connection(env[env_var(PSEUDONYM_KEY_CONN_ID)], "k").password or "") >= 32
    assert env[METADATA_VAR].startswith("postgresql+psycopg://airflow:")
    assert (
        parse_connection(env[env_var(WAREHOUSE_CONN_ID)], WAREHOUSE_CONN_ID).login
        == "civic_pipeline"
    )
    assert (
        parse_connection(env[env_var(S3_CONN_ID)], S3_CONN_ID)
        .extra["endpoint_url"]
        .startswith("http://127.0.0.1:")
    )


def test_every_zone_bucket_encrypts_by_default(s3_client: Any, settings: Settings) -> None:
    for bucket in (settings.raw_bucket, settings.work_bucket, settings.public_bucket):
        assert bucket_encryption(s3_client, bucket) == settings.sse


def _anonymous_get(url: str) -> int:
    """The HTTP status of an unsigned GET, as a citizen's browser or curl sends it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_anyone_reads_the_public_zone_and_nothing_else(s3_client: Any, settings: Settings) -> None:
    key = f"zz-test/anonymous-read-{uuid.uuid4().hex}.txt"
    statuses = {}
    for bucket in (settings.raw_bucket, settings.work_bucket, settings.public_bucket):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"x", **sse_arguments(settings))
        try:
            statuses[bucket] = _anonymous_get(f"{s3_client.meta.endpoint_url}/{bucket}/{key}")
        finally:
            s3_client.delete_object(Bucket=bucket, Key=key)
    assert statuses == {settings.raw_bucket: 403, settings.work_bucket: 403,
                        settings.public_bucket: 200}  # fmt: skip
    # What makes the public zone readable, and all it grants: reading objects.
    (statement,) = json.loads(s3_client.get_bucket_policy(Bucket=settings.public_bucket)["Policy"])[
        "Statement"
    ]
    assert statement["Sid"] == PUBLIC_READ_SID
    assert (statement["Effect"], statement["Principal"]) == ("Allow", "*")
    assert statement["Action"] in ("s3:GetObject", ["s3:GetObject"])
    assert statement["Resource"] in (f"arn:aws:s3:::{settings.public_bucket}/*",
                                     [f"arn:aws:s3:::{settings.public_bucket}/*"])  # fmt: skip
    for bucket in (settings.raw_bucket, settings.work_bucket):
        block = s3_client.get_public_access_block(Bucket=bucket)
        assert all(block["PublicAccessBlockConfiguration"].values()), bucket


def test_roles_are_least_privilege(platform: LocalPlatform, warehouse_dsn: str) -> None:
    with psycopg.connect(warehouse_dsn) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False)
    # The pipeline's role cannot even connect to Airflow's metadata database.
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(make_conninfo(warehouse_dsn, dbname="airflow")).close()


def test_wrong_password_is_refused(platform: LocalPlatform, warehouse_dsn: str) -> None:
    conn = parse_connection(platform.process_env()[env_var(WAREHOUSE_CONN_ID)], WAREHOUSE_CONN_ID)
    bad = warehouse_dsn.replace(f":{conn.password}@", ":not-the-password@")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad).close()


def test_second_up_reuses_everything(platform: LocalPlatform) -> None:
    before = platform.postgres().data_dir.stat().st_ino, dict(platform.state.ports)
    platform.up()
    assert platform.postgres().data_dir.stat().st_ino == before[0]
    assert platform.state.ports == before[1]
    assert all(row.state == "running" for row in platform.status()[:2])


def test_user_connection_replaces_the_embedded_service(settings: Settings) -> None:
    external = '{"conn_type":"aws","extra":{"endpoint_url":"https://minio.example.org"}}'
    written = read_env_file(settings.env_file)
    overrides = user_overrides(
        {env_var(S3_CONN_ID): external, **{k: written[k] for k in written}}, written
    )
    assert overrides == {}, "values .local/env wrote are not user overrides"
    stack = LocalPlatform(settings, environ={env_var(S3_CONN_ID): external})
    assert not stack.embedded_s3_needed
    assert stack.embedded_postgres_needed
    s3_row = next(row for row in stack.status() if row.name == "s3")
    assert (s3_row.address, s3_row.state) == ("https://minio.example.org", "external")
