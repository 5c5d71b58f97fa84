"""The runbooks' SQL and scripts (docs/runbooks/), run against the test session's real
PostgreSQL and S3 API server.

- Every ```sql block of every page runs, read-only, in a database of its own provisioned
  as the platform provisions one (the audit ledger by `provision_audit`, the pipeline's and
  warehouse's tables by `ensure_warehouse`), holding ledger entries appended by the real
  appender with the payloads the stages write (the validation report built by the real
  report classes). The blocks an incident depends on must find those entries.
- `withdraw_release.py`: two releases of a source published by the real publisher and
  mirrored; the script's dry run changes nothing; it refuses to withdraw a release that is
  not the latest; applied, `latest` (bucket and mirror) is back on the earlier release,
  verified, and the withdrawn release is gone.
- `encrypt_raw_objects.py`: an object stored without server-side encryption in a bucket
  without default encryption is listed, then encrypted in place with the bucket's default
  restored.
- The README's way into SQL (load `.local/env`, then its `psql` line) reaches the ledger.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from include.audit import append, audit_key_connection, generate_secret, key_from_connection
from include.audit.provision import provision_audit
from include.core.settings import Settings
from include.core.zones import bucket_encryption, list_objects, sse_arguments
from include.publish import (
    build_release,
    current_release,
    mirror_release,
    mirrored_latest,
    publish_release,
    verify_release,
)
from include.publish.s3_release import release_prefix
from include.services.stack import LocalPlatform
from include.validation.report import CheckpointReport, CheckResult, ValidationReport
from include.warehouse.load import ensure_warehouse
from tests.unit.publish.inputs import RUN_A, RUN_B, release_inputs, source

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks"
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.MULTILINE | re.DOTALL)
KEY = key_from_connection(audit_key_connection(generate_secret(), "t1"))
# The run ids and values the pages' examples use.
RUN = "scheduled__2026-11-25T00_00_00_00_00"
DAG = "civic_pipeline_signalements"


def sql_blocks() -> list[tuple[str, str]]:
    return [
        (path.name, block)
        for path in sorted(RUNBOOKS.glob("*.md"))
        for block in SQL_BLOCK.findall(path.read_text(encoding="utf-8"))
    ]


@dataclass(frozen=True)
class Warehouse:
    admin_dsn: str
    pipeline_dsn: str


@pytest.fixture(scope="module")
def warehouse(platform: LocalPlatform, warehouse_dsn: str) -> Iterator[Warehouse]:
    """A database of its own, provisioned like the platform's warehouse, with a ledger
    holding what a failed validation, a refused publication and two releases write."""
    admin = platform.postgres().dsn()
    name = f"runbooks_{uuid.uuid4().hex[:12]}"
    role = str(conninfo_to_dict(warehouse_dsn)["user"])
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                sql.Identifier(name), sql.Identifier(role)
            )
        )
    db = Warehouse(make_conninfo(admin, dbname=name), make_conninfo(warehouse_dsn, dbname=name))
    try:
        provision_audit(admin, name, pipeline_role=role)
        with psycopg.connect(db.pipeline_dsn, autocommit=True) as conn:
            ensure_warehouse(conn)
        _fill_ledger(db.pipeline_dsn)
        yield db
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _fill_ledger(dsn: str) -> None:
    """The entries the pages' queries look for, with the payloads the stages write."""
    email = CheckResult(
        check="description.no_pii.email",
        expectation="expect_column_values_to_not_match_regex",
        description="no value of 'description' contains an e-mail address",
        success=False,
        column="description",
        unexpected_count=2,
        element_count=1000,
        rows=(17, 408),
        values_withheld=True,
    )
    passed = CheckResult("commune.not_null", "expect_column_values_to_not_be_null", "", True)
    report = CheckpointReport(
        "signalements",
        "signalements",
        (ValidationReport("signalements", "curated", "s", "0" * 64, 1000, (email, passed)),),
    )
    entries: list[tuple[str, str, dict[str, Any]]] = [
        (
            "scheduled__2026-11-23T00_00_00_00_00",
            "publish",
            _published("2026-11-23T0000Z-aaaaaaaa", None),
        ),
        (
            "scheduled__2026-11-24T00_00_00_00_00",
            "publish",
            _published("2026-11-24T0000Z-bbbbbbbb", "2026-11-23T0000Z-aaaaaaaa"),
        ),
        (RUN, "validate", report.as_dict()),
        (RUN, "publish", {"refused": "signalements: not published: test refusal"}),
    ]
    for run_id, step, payload in entries:
        append(dsn, run_id, step, payload, KEY, dag_id=DAG)


def _published(release_id: str, previous: str | None) -> dict[str, Any]:
    return {
        "release_id": release_id,
        "manifest_sha256": "1" * 64,
        "bucket": "civic-public",
        "prefix": f"signalements/releases/{release_id}/",
        "previous_latest": previous,
    }


def test_pages_show_sql() -> None:
    pages = {name for name, _ in sql_blocks()}
    assert {"residual-personal-data.md", "withdraw-release.md", "ledger-broken.md"} <= pages


@pytest.mark.parametrize(
    ("page", "block"), sql_blocks(), ids=lambda v: v if v.endswith(".md") else ""
)
def test_sql_runs(warehouse: Warehouse, page: str, block: str) -> None:
    """Each block runs as written (read-only: none of them may change anything), as the
    pipeline's role, which is the role the README's psql line connects as."""
    with psycopg.connect(warehouse.pipeline_dsn) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(block.replace("%", "%%")).fetchall()
        conn.rollback()


# page, a phrase of the block -> what it must find in the ledger filled above
FINDINGS: dict[tuple[str, str], Callable[[list[tuple[Any, ...]]], bool]] = {
    ("residual-personal-data.md", "no_pii"): lambda rows: (
        [r[4:] for r in rows] == [("description.no_pii.email", "description", "2", "1000")]
    ),
    ("withdraw-release.md", "previous_latest"): lambda rows: (
        [(r[3], r[4]) for r in rows]
        == [
            ("2026-11-24T0000Z-bbbbbbbb", "2026-11-23T0000Z-aaaaaaaa"),
            ("2026-11-23T0000Z-aaaaaaaa", None),
        ]
    ),
    ("dag-run-failed.md", "refused"): lambda rows: (
        {(r[2], r[3]) for r in rows} == {(RUN, "validate"), (RUN, "publish")}
    ),
    ("release-stale.md", "outcome"): lambda rows: (
        [r[3] for r in rows][:2]
        == ["signalements: not published: test refusal", "2026-11-24T0000Z-bbbbbbbb"]
    ),
}


@pytest.mark.parametrize("finding", FINDINGS, ids=lambda f: f"{f[0]}:{f[1]}")
def test_sql_finds_the_incident(warehouse: Warehouse, finding: tuple[str, str]) -> None:
    """The queries an incident depends on find its entries: the right JSON paths and
    filters, not only valid SQL."""
    page, phrase = finding
    blocks = [b for name, b in sql_blocks() if name == page and phrase in b]
    assert len(blocks) == 1, f"{page}: {len(blocks)} SQL blocks mention {phrase!r}"
    with psycopg.connect(warehouse.pipeline_dsn) as conn:
        rows = conn.execute(blocks[0].replace("%", "%%")).fetchall()
    assert FINDINGS[finding](rows), rows


# -- the scripts ---------------------------------------------------------------------------


def run_script(platform: LocalPlatform, name: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A runbook script as an operator runs it: from the top level, with the platform's
    connections (the test session's `.local/env`) and the settings given."""
    environ = {**os.environ, **platform.process_env(), **env}
    environ["CIVIC_LOCAL_DIR"] = str(platform.settings.local_dir)
    return subprocess.run(
        [sys.executable, str(RUNBOOKS / name)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_withdraw_release(
    platform: LocalPlatform, s3_client: Any, raw_bucket: str, settings: Settings, tmp_path: Path
) -> None:
    inputs = release_inputs("consultation")
    exports = tmp_path / "exports"
    a = build_release(source("consultation"), RUN_A, tmp_path / "a", **inputs)
    b = build_release(source("consultation"), RUN_B, tmp_path / "b", **inputs)
    for files in (a, b):
        publish_release(s3_client, raw_bucket, files, sse_arguments(settings))
        mirror_release(files, exports)
    env = {
        "SOURCE": "consultation",
        "CIVIC_PUBLIC_BUCKET": raw_bucket,
        "CIVIC_EXPORTS_DIR": str(exports),
    }
    before = {o.key for o in list_objects(s3_client, raw_bucket)}

    refused = run_script(platform, "withdraw_release.py", WITHDRAW=a.release_id, APPLY="yes", **env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "withdraws the latest release only" in refused.stderr

    dry = run_script(platform, "withdraw_release.py", WITHDRAW=b.release_id, **env)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"point s3://{raw_bucket}/consultation/latest.json at {a.release_id}" in dry.stdout
    assert {o.key for o in list_objects(s3_client, raw_bucket)} == before
    assert mirrored_latest(exports, "consultation") == b.release_id

    done = run_script(platform, "withdraw_release.py", WITHDRAW=b.release_id, APPLY="yes", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    pointer = current_release(s3_client, raw_bucket, "consultation")
    assert pointer is not None
    assert (pointer.release_id, pointer.manifest_sha256) == (a.release_id, a.manifest_sha256)
    verify_release(
        s3_client, raw_bucket, "consultation", a.release_id,
        expected_manifest_sha256=pointer.manifest_sha256,
    )  # fmt: skip
    assert not list(
        list_objects(s3_client, raw_bucket, release_prefix("consultation", b.release_id))
    )
    assert mirrored_latest(exports, "consultation") == a.release_id
    assert not (exports / "consultation" / b.release_id).exists()
    assert (exports / "consultation" / a.release_id / "manifest.json").is_file()


@pytest.fixture
def plain_bucket(s3_client: Any) -> Iterator[str]:
    """A bucket without default encryption (as after a misconfiguration)."""
    name = f"test-plain-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": s3_client.meta.region_name}
    )
    yield name
    for obj in list_objects(s3_client, name):
        s3_client.delete_object(Bucket=name, Key=obj.key)
    s3_client.delete_bucket(Bucket=name)


def test_encrypt_raw_objects(platform: LocalPlatform, s3_client: Any, plain_bucket: str) -> None:
    key = "signalements/2026-11-25/delivery.jsonl"
    s3_client.put_object(Bucket=plain_bucket, Key=key, Body=b'{"id": "1"}\n')
    if s3_client.head_object(Bucket=plain_bucket, Key=key).get("ServerSideEncryption"):
        pytest.skip("this S3 server encrypts every object: nothing can be stored unencrypted")
    env = {"CIVIC_RAW_BUCKET": plain_bucket}

    listed = run_script(platform, "encrypt_raw_objects.py", **env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert f"unencrypted: {key}" in listed.stdout
    assert "default encryption NONE" in listed.stdout
    assert not s3_client.head_object(Bucket=plain_bucket, Key=key).get("ServerSideEncryption")

    done = run_script(platform, "encrypt_raw_objects.py", APPLY="yes", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    head = s3_client.head_object(Bucket=plain_bucket, Key=key)
    assert head.get("ServerSideEncryption") == platform.settings.sse
    assert bucket_encryption(s3_client, plain_bucket) == platform.settings.sse
    body = s3_client.get_object(Bucket=plain_bucket, Key=key)["Body"].read()
    assert body == b'{"id": "1"}\n'


@pytest.mark.skipif(
    shutil.which("psql") is None, reason="psql (PostgreSQL's client) is not installed"
)
def test_readme_psql_line_reaches_the_ledger(platform: LocalPlatform, tmp_path: Path) -> None:
    """The README's way into SQL, run as written from a checkout whose `.local/` is the test
    session's: the shell block that loads `.local/env`, then its psql line, given a query on
    stdin as an operator would type it."""
    text = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    psql_line = next(line for line in text.splitlines() if line.strip().startswith("psql "))
    (tmp_path / ".local").symlink_to(platform.settings.local_dir)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    script = f"set -eu\nset -a; . .local/env; set +a\n{psql_line.strip()} -At"
    result = subprocess.run(
        ["/bin/bash", "-c", script],
        cwd=tmp_path,
        input="SELECT count(*) >= 0 FROM audit.ledger;\n",
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "t"
