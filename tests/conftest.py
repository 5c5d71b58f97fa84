"""Session services for the suite: a real PostgreSQL and a real S3 API server of its own.

The test session starts them on free ports under a temporary folder (never the
demo's `.local/`), provisions them exactly as `civic services up` does, points
Airflow at them through the environment, and stops them at the end. Nothing in
this file imports Airflow: it must see the environment set here first.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from include.core.connections import S3_CONN_ID, WAREHOUSE_CONN_ID, get_connection
from include.core.connections import s3_client as make_s3_client
from include.core.settings import Settings
from include.services.processes import free_port
from include.services.stack import LocalPlatform, LocalState
from include.services.vault_server import VaultServer


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    """The embedded services, started once for the whole session, on ports of their own."""
    # Not pytest's tmp_path: that folder is private to the user, and when the suite runs as
    # root PostgreSQL runs as an unprivileged user who must reach its data folder.
    local_dir = Path(tempfile.mkdtemp(prefix="civic-test-"))
    local_dir.chmod(0o755)
    # Free ports chosen up front: the defaults belong to a demo that may be running.
    services = ("postgres", "s3", "airflow", "superset")
    LocalState(ports={name: free_port() for name in services}).save(local_dir / "state.json")
    settings = Settings(local_dir=local_dir, exports_dir=local_dir / "exports")
    stack = LocalPlatform(settings, environ={})
    saved = dict(os.environ)
    try:
        stack.up()
        os.environ.update(stack.process_env())
        yield stack
    finally:
        # Airflow's in-process engine (DagBag, dag.test) would otherwise meet a stopped server
        # at interpreter exit and print a traceback.
        airflow_settings = sys.modules.get("airflow.settings")
        if airflow_settings is not None:
            airflow_settings.dispose_orm()
        os.environ.clear()
        os.environ.update(saved)
        stack.down()
        shutil.rmtree(local_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(platform: LocalPlatform) -> Settings:
    return platform.settings


@pytest.fixture(scope="session")
def s3_client(platform: LocalPlatform) -> Any:
    return make_s3_client(get_connection(S3_CONN_ID, platform.process_env()))


@pytest.fixture(scope="session")
def warehouse_dsn(platform: LocalPlatform) -> str:
    return get_connection(WAREHOUSE_CONN_ID, platform.process_env()).postgres_dsn()


@pytest.fixture
def raw_bucket(s3_client: Any, settings: Settings) -> Iterator[str]:
    """A fresh, empty bucket with default encryption, for tests that write raw objects."""
    name = f"test-raw-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": s3_client.meta.region_name}
    )
    s3_client.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": settings.sse}}]
        },
    )
    yield name
    paginator = s3_client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=name):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3_client.delete_objects(Bucket=name, Delete={"Objects": keys})
    s3_client.delete_bucket(Bucket=name)


@pytest.fixture
def sources_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "sources"


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[VaultServer]:
    """An OpenBao server of its own (not started: `start(None)` initialises it), stopped after."""
    server = VaultServer(tmp_path / "run", tmp_path / "data", free_port(), free_port())
    try:
        yield server
    finally:
        server.stop()
