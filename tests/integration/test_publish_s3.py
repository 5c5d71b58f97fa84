"""Publishing releases to the test session's real S3 API server (moto), end to end.

A fresh scratch bucket per test (`raw_bucket`) keeps the tests independent; the
bucket's name does not matter to the publisher.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from include.audit import Ed25519Key, append, ensure_ledger, generate_secret, verify
from include.audit.errors import PublicLogError
from include.audit.public_log import PROOFS_NAME, PreviousCheckpoint
from include.cli.audit import audit_app
from include.core.settings import Settings
from include.core.zones import list_objects, sse_arguments
from include.publish import (
    CheckResult,
    PublicationBlockedError,
    ReleaseConflictError,
    ReleaseFiles,
    ReleaseVerificationError,
    RunInfo,
    build_release,
    current_release,
    mirror_release,
    mirrored_latest,
    publish_release,
    verify_release,
)
from include.publish.jsonfile import json_bytes
from include.publish.ledger_checkpoint import previous_checkpoint, release_log
from include.services.stack import LocalPlatform
from tests.unit.publish.inputs import RUN_A, RUN_B, release_inputs, source

pytestmark = pytest.mark.integration

Build = Callable[..., ReleaseFiles]


@pytest.fixture(scope="module")
def inputs() -> dict[str, Any]:
    return release_inputs("consultation")


@pytest.fixture
def build(tmp_path: Path, inputs: dict[str, Any]) -> Build:
    counter = iter(range(100))

    def _build(run: RunInfo, **changes: Any) -> ReleaseFiles:
        staging = tmp_path / f"staging-{next(counter)}"
        return build_release(source("consultation"), run, staging, **{**inputs, **changes})

    return _build


@pytest.fixture
def sse(settings: Settings) -> dict[str, str]:
    return sse_arguments(settings)


def _keys(client: Any, bucket: str, prefix: str = "") -> set[str]:
    return {obj.key for obj in list_objects(client, bucket, prefix)}


def _latest(client: Any, bucket: str) -> str | None:
    pointer = current_release(client, bucket, "consultation")
    return pointer.release_id if pointer else None


@contextmanager
def corrupted_parquet_uploads(client: Any) -> Iterator[mock.MagicMock]:
    """While active, the server stores damaged bytes for Parquet uploads (and is not asked to
    check their checksum), as a faulty disk or proxy would: only the read-back can notice."""
    real_put = client.put_object

    def put(**kwargs: Any) -> Any:
        if kwargs["Key"].endswith(".parquet"):
            kwargs["Body"] = kwargs["Body"].read()[:-10] + b"0123456789"
            kwargs.pop("ChecksumSHA256")
        return real_put(**kwargs)

    with mock.patch.object(client, "put_object", side_effect=put) as patched:
        yield patched


def test_publish_a_then_b_switches_latest_keeps_a_and_mirrors(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str], settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    a, b = build(RUN_A), build(RUN_B)
    exports = tmp_path / "exports"
    assert _latest(s3_client, raw_bucket) is None
    first = publish_release(s3_client, raw_bucket, a, sse)
    mirror_release(a, exports)
    assert (first.previous_latest, first.latest, first.latest_switched) == (
        None, a.release_id, True,
    )  # fmt: skip
    assert len(first.uploaded) == len(a.upload_order)
    assert mirrored_latest(exports, "consultation") == a.release_id

    second = publish_release(s3_client, raw_bucket, b, sse)
    mirror_release(b, exports)
    assert (second.previous_latest, second.latest) == (a.release_id, b.release_id)
    pointer = current_release(s3_client, raw_bucket, "consultation")
    assert pointer is not None
    assert (pointer.release_id, pointer.manifest_sha256) == (b.release_id, b.manifest_sha256)
    assert mirrored_latest(exports, "consultation") == b.release_id
    assert (exports / "consultation" / a.release_id / "manifest.json").is_file()

    verified_a = verify_release(s3_client, raw_bucket, "consultation", a.release_id)
    assert verified_a.files == len(a.files)
    verified = verify_release(
        s3_client, raw_bucket, "consultation", b.release_id,
        expected_manifest_sha256=pointer.manifest_sha256,
    )  # fmt: skip
    assert verified.bytes == sum(entry.bytes for entry in b.files)
    head = s3_client.head_object(
        Bucket=raw_bucket, Key=f"consultation/releases/{b.release_id}/consultation.csv"
    )
    assert head["ServerSideEncryption"] == settings.sse
    assert head["ContentType"] == "text/csv; charset=utf-8"
    assert head["Metadata"]["sha256"] == b.files[0].sha256
    body = s3_client.get_object(Bucket=raw_bucket, Key="consultation/latest.json")["Body"].read()
    assert json.loads(body)["manifest"] == f"consultation/releases/{b.release_id}/manifest.json"


def test_a_corrupted_upload_fails_verification_and_latest_stays_on_a(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str]
) -> None:
    a, b = build(RUN_A), build(RUN_B)
    publish_release(s3_client, raw_bucket, a, sse)
    with corrupted_parquet_uploads(s3_client) as put:
        with pytest.raises(ReleaseVerificationError, match=r"consultation\.parquet holds"):
            publish_release(s3_client, raw_bucket, b, sse)
        assert put.call_count == len(b.files)  # every content file, never the manifest
    assert _latest(s3_client, raw_bucket) == a.release_id
    prefix = f"consultation/releases/{b.release_id}/"
    assert f"{prefix}manifest.json" not in _keys(s3_client, raw_bucket, prefix)
    with pytest.raises(ReleaseVerificationError, match=r"manifest\.json is missing"):
        verify_release(s3_client, raw_bucket, "consultation", b.release_id)

    recovered = publish_release(s3_client, raw_bucket, b, sse)  # the rerun repairs it
    assert (recovered.latest, recovered.latest_switched) == (b.release_id, True)
    verify_release(s3_client, raw_bucket, "consultation", b.release_id)


def test_an_upload_that_fails_beside_the_others_commits_nothing(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str]
) -> None:
    """The files go up side by side: one refused put fails the publication (the puts not yet
    started are dropped), and neither the manifest nor the pointer is written."""
    a, b = build(RUN_A), build(RUN_B)
    publish_release(s3_client, raw_bucket, a, sse)
    real_put = s3_client.put_object

    def put(**kwargs: Any) -> Any:
        if kwargs["Key"].endswith(".csv"):
            raise ConnectionResetError("the connection dropped mid-upload")
        return real_put(**kwargs)

    with (
        mock.patch.object(s3_client, "put_object", side_effect=put),
        pytest.raises(ConnectionResetError),
    ):
        publish_release(s3_client, raw_bucket, b, sse)
    assert _latest(s3_client, raw_bucket) == a.release_id
    prefix = f"consultation/releases/{b.release_id}/"
    assert f"{prefix}manifest.json" not in _keys(s3_client, raw_bucket, prefix)
    assert publish_release(s3_client, raw_bucket, b, sse).latest == b.release_id


def test_rerun_of_b_is_a_no_op(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str]
) -> None:
    a, b = build(RUN_A), build(RUN_B)
    publish_release(s3_client, raw_bucket, a, sse)
    publish_release(s3_client, raw_bucket, b, sse)
    rebuilt = build(RUN_B)  # the same run rebuilds the same bytes
    assert rebuilt.manifest_sha256 == b.manifest_sha256
    with (
        mock.patch.object(s3_client, "put_object", wraps=s3_client.put_object) as put,
        mock.patch.object(s3_client, "delete_object", wraps=s3_client.delete_object) as delete,
    ):
        again = publish_release(s3_client, raw_bucket, rebuilt, sse)
    put.assert_not_called()
    delete.assert_not_called()
    assert again.uploaded == ()
    assert (again.latest, again.latest_switched, again.previous_latest) == (
        b.release_id, False, b.release_id,
    )  # fmt: skip


def test_same_release_with_other_content_is_refused(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str], inputs: dict[str, Any]
) -> None:
    b = build(RUN_B)
    publish_release(s3_client, raw_bucket, b, sse)
    before = {
        obj.key: s3_client.head_object(Bucket=raw_bucket, Key=obj.key)["ETag"]
        for obj in list_objects(s3_client, raw_bucket)
    }
    different = build(RUN_B, records=inputs["records"].iloc[:-1])
    assert different.release_id == b.release_id
    with pytest.raises(ReleaseConflictError, match="never overwritten"):
        publish_release(s3_client, raw_bucket, different, sse)
    after = {
        obj.key: s3_client.head_object(Bucket=raw_bucket, Key=obj.key)["ETag"]
        for obj in list_objects(s3_client, raw_bucket)
    }
    assert after == before
    verify_release(
        s3_client, raw_bucket, "consultation", b.release_id,
        expected_manifest_sha256=b.manifest_sha256,
    )  # fmt: skip


def test_a_failing_expectation_blocks_publication_and_latest_stays(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str], tmp_path: Path
) -> None:
    a = build(RUN_A)
    publish_release(s3_client, raw_bucket, a, sse)
    mirror_release(a, tmp_path / "exports")
    failed = [CheckResult("curated_consultation", False, "expect_column_values_to_be_between")]
    with pytest.raises(PublicationBlockedError, match="curated_consultation"):
        build(RUN_B, checks=failed)
    assert _latest(s3_client, raw_bucket) == a.release_id
    assert _keys(s3_client, raw_bucket, f"consultation/releases/{RUN_B.release_id}/") == set()
    assert mirrored_latest(tmp_path / "exports", "consultation") == a.release_id


def test_leftovers_of_an_interrupted_attempt_are_replaced(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str]
) -> None:
    b = build(RUN_B)
    prefix = f"consultation/releases/{b.release_id}/"
    s3_client.put_object(Bucket=raw_bucket, Key=f"{prefix}old_table.csv", Body=b"x", **sse)
    s3_client.put_object(Bucket=raw_bucket, Key=f"{prefix}consultation.csv", Body=b"x", **sse)
    publish_release(s3_client, raw_bucket, b, sse)
    assert f"{prefix}old_table.csv" not in _keys(s3_client, raw_bucket, prefix)
    verify_release(s3_client, raw_bucket, "consultation", b.release_id)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda prefix: (f"{prefix}README.md", b"# autre"), r"README\.md holds 7 bytes"),
        (lambda prefix: (f"{prefix}extra.csv", b"a,b\r\n"), r"extra\.csv is not in the manifest"),
    ],
)
def test_verify_detects_a_tampered_release_and_publish_does_not_bless_it(
    s3_client: Any,
    raw_bucket: str,
    build: Build,
    sse: dict[str, str],
    tamper: Callable[[str], tuple[str, bytes]],
    problem: str,
) -> None:
    a = build(RUN_A)
    publish_release(s3_client, raw_bucket, a, sse)
    key, body = tamper(f"consultation/releases/{a.release_id}/")
    s3_client.put_object(Bucket=raw_bucket, Key=key, Body=body, **sse)
    with pytest.raises(ReleaseVerificationError, match=problem):
        verify_release(s3_client, raw_bucket, "consultation", a.release_id)
    with pytest.raises(ReleaseVerificationError, match=problem):
        publish_release(s3_client, raw_bucket, a, sse)


def test_a_pointer_switched_by_someone_else_meanwhile_is_not_overwritten(
    s3_client: Any, raw_bucket: str, build: Build, sse: dict[str, str]
) -> None:
    a, b = build(RUN_A), build(RUN_B)
    publish_release(s3_client, raw_bucket, a, sse)
    real_get = s3_client.get_object
    rival = b'{"source": "consultation", "release_id": "rival"}\n'

    def get_then_rival_writes(**kwargs: Any) -> Any:
        response = real_get(**kwargs)
        if kwargs["Key"] == "consultation/latest.json":  # another publisher switches now
            s3_client.put_object(Bucket=raw_bucket, Key=kwargs["Key"], Body=rival, **sse)
        return response

    with (
        mock.patch.object(s3_client, "get_object", side_effect=get_then_rival_writes),
        pytest.raises(ReleaseConflictError, match="changed while release"),
    ):
        publish_release(s3_client, raw_bucket, b, sse)
    stored = s3_client.get_object(Bucket=raw_bucket, Key="consultation/latest.json")["Body"]
    assert stored.read() == rival
    verify_release(s3_client, raw_bucket, "consultation", b.release_id)  # B itself is complete


# -- the public audit log ---------------------------------------------------------------------

DAG = "civic_pipeline_consultation"
RUN_STEPS = ("ingest", "scrub", "anonymize", "validate", "load", "accounting")


@pytest.fixture
def ledger_dsn(platform: LocalPlatform) -> Iterator[str]:
    """A database of its own holding an empty ledger: this test's entries, signed with a
    key of its own, never meet the session's ledger."""
    admin = platform.postgres().dsn()
    name = f"public_log_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    dsn = make_conninfo(admin, dbname=name)
    try:
        ensure_ledger(dsn)
        yield dsn
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _run(dsn: str, key: Ed25519Key, run_id: str, dag_id: str = DAG) -> None:
    for step in RUN_STEPS:
        append(dsn, run_id, step, {"rows_read": 120, "quarantined": {"invalid_json": 2}}, key,
               dag_id=dag_id)  # fmt: skip


def _verify_release(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(audit_app, ["verify-release", *args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


def test_releases_carry_a_public_log_that_anyone_verifies_over_http(
    s3_client: Any,
    raw_bucket: str,
    build: Build,
    sse: dict[str, str],
    ledger_dsn: str,
    tmp_path: Path,
) -> None:
    """Two releases built from a ledger in PostgreSQL as the publish stage builds them,
    published to the S3 server, then checked by a citizen with plain HTTP GETs of the
    bucket's objects and the ledger's public key only; the history rewritten behind them
    is refused at the next publication, and an object rewritten in the bucket is named."""
    key = Ed25519Key.from_seed("t1", generate_secret())
    public = key.public_key().public_b64()
    _run(ledger_dsn, key, RUN_A.run_id)
    _run(ledger_dsn, key, RUN_A.run_id, dag_id="civic_pipeline_signalements")  # same run id
    head_a = verify(ledger_dsn, key).head
    assert head_a is not None
    log_a = release_log(ledger_dsn, key, head_a, RUN_A.run_id, DAG, None)
    assert [entry.step for entry, _ in log_a.entries] == list(RUN_STEPS)  # this DAG's only
    assert log_a.checkpoint.head.size == head_a.seq == 2 * len(RUN_STEPS)
    a = build(RUN_A, ledger=head_a, log=log_a)
    publish_release(s3_client, raw_bucket, a, sse)

    append(ledger_dsn, RUN_A.run_id, "publish", {"release_id": a.release_id}, key, dag_id=DAG)
    _run(ledger_dsn, key, RUN_B.run_id)
    head_b = verify(ledger_dsn, key).head
    assert head_b is not None
    # What verify_ledger reads before publishing: the checkpoint of the release `latest` is.
    found = previous_checkpoint(
        s3_client, raw_bucket, tmp_path / "exports", ledger_dsn, "consultation"
    )
    assert found.log == PreviousCheckpoint(a.release_id, log_a.checkpoint)
    log_b = release_log(ledger_dsn, key, head_b, RUN_B.run_id, DAG, found.log)
    b = build(RUN_B, ledger=head_b, log=log_b)
    publish_release(s3_client, raw_bucket, b, sse)

    # Readable by anyone, as a public bucket is: the citizen below sends no credentials.
    anyone_reads = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{raw_bucket}/*"}],
    }  # fmt: skip
    s3_client.put_bucket_policy(Bucket=raw_bucket, Policy=json.dumps(anyone_reads))
    base = f"{s3_client.meta.endpoint_url}/{raw_bucket}/consultation/releases/"
    code, out = _verify_release(f"{base}{b.release_id}/", "--public-key", public)
    assert code == 0, out
    assert f"{base}{a.release_id}/ ledger_checkpoint.json" in out  # A read over HTTP, beside B
    assert f"extend, unchanged, the {head_a.seq} release {a.release_id} signed" in out

    # The key holder rewrites an entry A covered and re-seals the chain after it: the
    # chain verifies, but the next release refuses to publish over it.
    with psycopg.connect(ledger_dsn) as conn:
        rows = conn.execute("SELECT seq FROM audit.ledger WHERE seq >= 3 ORDER BY seq").fetchall()
        conn.execute("ALTER TABLE audit.ledger DISABLE TRIGGER USER")
        conn.execute("DELETE FROM audit.ledger WHERE seq >= 3")
        conn.execute("ALTER TABLE audit.ledger ENABLE TRIGGER USER")
    for _ in rows:
        append(ledger_dsn, "rewritten", "ingest", {"rows_read": 0}, key, dag_id=DAG)
    rewritten_head = verify(ledger_dsn, key).head
    assert rewritten_head is not None
    assert rewritten_head.seq == head_b.seq
    with pytest.raises(PublicLogError, match="rewritten or truncated"):
        release_log(ledger_dsn, key, rewritten_head, RUN_B.run_id, DAG, log_b.previous)

    # Someone with write access to the bucket edits a published entry (and its checksum).
    prefix = f"consultation/releases/{b.release_id}/"
    proofs = json.loads(
        s3_client.get_object(Bucket=raw_bucket, Key=prefix + PROOFS_NAME)["Body"].read()
    )
    edited = next(item for item in proofs["entries"] if "payload" in item)  # not ingest's hash
    edited["payload"] = edited["payload"].replace("120", "12")
    body = json_bytes(proofs)
    manifest = json.loads(
        s3_client.get_object(Bucket=raw_bucket, Key=prefix + "manifest.json")["Body"].read()
    )
    for item in manifest["files"]:
        if item["path"] == PROOFS_NAME:
            item["bytes"], item["sha256"] = len(body), hashlib.sha256(body).hexdigest()
    s3_client.put_object(Bucket=raw_bucket, Key=prefix + PROOFS_NAME, Body=body, **sse)
    s3_client.put_object(
        Bucket=raw_bucket, Key=prefix + "manifest.json", Body=json_bytes(manifest), **sse
    )
    code, out = _verify_release(f"{base}{b.release_id}/manifest.json", "--public-key", public)
    assert code == 1, out
    assert f"FAILED entry {edited['seq']}: its published content hashes to" in out
    code, out = _verify_release(f"{base}no-such-release/", "--public-key", public)
    assert code == 2, out
