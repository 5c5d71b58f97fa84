"""The embedded S3 server keeps the zones across a stop, a kill -9 and a restart, and
`civic services up` never silently puts empty zones in place of ones that held data.

Every test runs real server processes of its own (include/services/s3_persistent_server.py)
on free ports in a temporary folder, never the session's server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from include.core.connections import (
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    Connection,
    env_var,
    parse_connection,
    s3_client,
)
from include.core.settings import Settings
from include.core.zones import ensure_buckets
from include.services.processes import (
    ServiceError,
    free_port,
    port_accepts,
    read_pid,
)
from include.services.s3server import S3Server
from include.services.sealed_file import generate_key
from include.services.stack import (
    METADATA_VAR,
    SUPERSET_METADATA_VAR,
    LocalPlatform,
    LocalState,
    read_env_file,
)

pytestmark = pytest.mark.integration

PROJECT_DIR = Path(__file__).resolve().parents[2]
CIVIC = (sys.executable, "-m", "include.cli.main")
# A body that must never appear in clear in the snapshot file.
SECRET_LINE = b'{"nom": "Camille Marchand", "email": "camille.marchand@example.fr"}\n'
MIB = 1024 * 1024


def make_server(folder: Path, key: str | None = None) -> S3Server:
    return S3Server(
        port=free_port(),
        run_dir=folder / "run",
        data_dir=folder / "s3",
        snapshot_key=key or generate_key(),
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[S3Server]:
    s3 = make_server(tmp_path)
    yield s3
    s3.stop()


def client_for(s3: S3Server) -> Any:
    return s3_client(
        Connection("aws", login="test", password="test", extra={"endpoint_url": s3.endpoint_url})
    )


def wait_for_save(s3: S3Server, objects: int, timeout: float = 15.0) -> float:
    """Seconds until the snapshot's header counts `objects` objects (the background save)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        info = s3.snapshot_info()
        if info is not None and info.objects == objects:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"no snapshot with {objects} objects after {timeout} s")


def object_view(client: Any, bucket: str, key: str) -> dict[str, Any]:
    """Everything the pipeline relies on about an object: bytes, ETag, dates, encryption."""
    head = client.head_object(Bucket=bucket, Key=key)
    fields = ("ETag", "LastModified", "ContentLength", "ServerSideEncryption", "SSEKMSKeyId")
    return {
        "body": client.get_object(Bucket=bucket, Key=key)["Body"].read(),
        "metadata": head["Metadata"],
        **{name: head.get(name) for name in fields},
    }


def listing(client: Any, bucket: str) -> list[tuple[str, str, Any, int]]:
    page = client.list_objects_v2(Bucket=bucket)
    return [(o["Key"], o["ETag"], o["LastModified"], o["Size"]) for o in page.get("Contents", [])]


def bucket_view(client: Any, bucket: str) -> dict[str, Any]:
    """Default encryption, public-access block (private zones only) and listing."""
    try:
        block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except client.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchPublicAccessBlockConfiguration":
            raise
        block = None
    encryption = client.get_bucket_encryption(Bucket=bucket)
    return {
        "encryption": encryption["ServerSideEncryptionConfiguration"],
        "public_access_block": block,
        "objects": listing(client, bucket),
    }


def test_graceful_restart_keeps_objects_and_settings_exactly(
    server: S3Server, tmp_path: Path
) -> None:
    settings = Settings(local_dir=tmp_path, exports_dir=tmp_path / "exports")
    client = client_for(server)
    assert server.start().outcome == "fresh"
    ensure_buckets(client, settings)
    raw, work = settings.raw_bucket, settings.work_bucket
    client.put_object(Bucket=raw, Key="s/2026-12-01/a.jsonl", Body=SECRET_LINE * 50)
    client.put_object(
        Bucket=raw, Key="s/2026-12-01/b.csv", Body=b"x;y\n1;2\n", ServerSideEncryption="AES256"
    )
    client.put_object(
        Bucket=raw,
        Key="s/2026-12-01/c.jsonl.gz",
        Body=os.urandom(7 * MIB),  # above moto's in-memory buffer: its body lives in a file
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId="alias/civic-raw",
        Metadata={"source": "signalements"},
    )
    upload = client.create_multipart_upload(Bucket=work, Key="run/big.parquet")
    parts = [
        client.upload_part(
            Bucket=work, Key="run/big.parquet", UploadId=upload["UploadId"], PartNumber=n, Body=body
        )["ETag"]
        for n, body in ((1, b"p" * (5 * MIB)), (2, b"tail"))
    ]
    client.complete_multipart_upload(
        Bucket=work,
        Key="run/big.parquet",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(parts, 1)]},
    )
    # An upload left unfinished across the restart, and an object deleted before it.
    pending = client.create_multipart_upload(Bucket=work, Key="run/pending.parquet")
    first = client.upload_part(
        Bucket=work,
        Key="run/pending.parquet",
        UploadId=pending["UploadId"],
        PartNumber=1,
        Body=b"q" * (5 * MIB),
    )["ETag"]
    client.put_object(Bucket=raw, Key="s/2026-12-01/deleted.csv", Body=b"gone")
    client.delete_object(Bucket=raw, Key="s/2026-12-01/deleted.csv")

    keys = {raw: [k for k, *_ in listing(client, raw)], work: ["run/big.parquet"]}
    before_objects = {(b, k): object_view(client, b, k) for b, ks in keys.items() for k in ks}
    before_buckets = {b: bucket_view(client, b) for b in (raw, work, settings.public_bucket)}
    assert before_objects[(work, "run/big.parquet")]["ETag"].endswith('-2"')
    assert before_objects[(raw, "s/2026-12-01/b.csv")]["ServerSideEncryption"] == "AES256"
    assert before_buckets[raw]["public_access_block"]["BlockPublicAcls"] is True

    assert server.stop()
    assert not port_accepts(server.port)
    report = server.start()
    assert report is not None
    assert (report.outcome, report.objects) == ("restored", 4)

    after_objects = {(b, k): object_view(client, b, k) for b, ks in keys.items() for k in ks}
    assert after_objects == before_objects
    assert {b: bucket_view(client, b) for b in before_buckets} == before_buckets
    assert listing(client, raw) == before_buckets[raw]["objects"]
    # The unfinished upload goes on where it stopped.
    last = client.upload_part(
        Bucket=work,
        Key="run/pending.parquet",
        UploadId=pending["UploadId"],
        PartNumber=2,
        Body=b"end",
    )["ETag"]
    client.complete_multipart_upload(
        Bucket=work,
        Key="run/pending.parquet",
        UploadId=pending["UploadId"],
        MultipartUpload={
            "Parts": [{"ETag": first, "PartNumber": 1}, {"ETag": last, "PartNumber": 2}]
        },
    )
    body = client.get_object(Bucket=work, Key="run/pending.parquet")["Body"].read()
    assert body == b"q" * (5 * MIB) + b"end"


def test_kill_9_after_the_save_window_keeps_what_was_written(server: S3Server) -> None:
    client = client_for(server)
    server.start()
    client.create_bucket(
        Bucket="zone", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    written = {f"k{n}": SECRET_LINE * n for n in range(1, 21)}
    for key, body in written.items():
        client.put_object(Bucket="zone", Key=key, Body=body, ServerSideEncryption="AES256")
    before = {key: object_view(client, "zone", key) for key in written}

    waited = wait_for_save(server, len(written))
    # The background save comes within the 2 s window (plus a loaded machine's slack).
    assert waited < server.save_interval_s + 3
    pid = read_pid(server.pid_file)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    # The leader shows as a zombie while its threads still die: wait for the port to close.
    deadline = time.monotonic() + 10
    while port_accepts(server.port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_accepts(server.port)

    assert server.start().outcome == "restored"
    assert {key: object_view(client, "zone", key) for key in written} == before


def test_snapshot_is_sealed_and_a_wrong_key_never_starts_empty(
    server: S3Server, tmp_path: Path
) -> None:
    client = client_for(server)
    server.start()
    client.create_bucket(
        Bucket="civic-raw-secret", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    client.put_object(Bucket="civic-raw-secret", Key="camille.jsonl", Body=SECRET_LINE * 100)
    server.stop()

    sealed = server.snapshot_path.read_bytes()
    assert server.snapshot_path.stat().st_mode & 0o077 == 0
    for clear in (b"Camille Marchand", b"camille.marchand", b"civic-raw-secret", b"camille.jsonl"):
        assert clear not in sealed
    assert "moto, persisted to" in server.persistence()

    # Another key (state.json lost or replaced): the server refuses and keeps the file.
    other = make_server(tmp_path, key=generate_key())
    with pytest.raises(
        ServiceError, match=r"cannot restore the S3 snapshot .*fails authentication"
    ):
        other.start()
    assert not port_accepts(other.port)
    assert server.snapshot_path.read_bytes() == sealed

    # A damaged file (one flipped byte in a chunk) is refused as well.
    damaged = bytearray(sealed)
    damaged[-100] ^= 0x01
    server.snapshot_path.write_bytes(bytes(damaged))
    with pytest.raises(ServiceError, match="fails authentication"):
        server.start()
    server.snapshot_path.write_bytes(sealed)

    # Asked to, it moves the unreadable file aside and starts with nothing.
    report = other.start(set_aside_unreadable=True)
    assert report is not None
    assert report.outcome == "set-aside"
    assert report.set_aside_to is not None
    assert Path(report.set_aside_to).read_bytes() == sealed
    assert client_for(other).list_buckets()["Buckets"] == []
    other.stop()


@pytest.fixture
def own_checkout(platform: LocalPlatform) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A `.local/` of its own whose databases are the session's (no second PostgreSQL):
    `civic services up` there starts only the S3 server and writes the zones."""
    local_dir = Path(tempfile.mkdtemp(prefix="civic-s3-persistence-"))
    settings = Settings(local_dir=local_dir, exports_dir=local_dir / "exports")
    session_env = platform.process_env()
    environ = {
        var: session_env[var]
        for var in (env_var(WAREHOUSE_CONN_ID), METADATA_VAR, SUPERSET_METADATA_VAR)
    }
    # Airflow's metadata database is the session's, already migrated by this Airflow.
    (local_dir / "airflow").mkdir(parents=True)
    for marker in platform.settings.airflow_home.glob(".migrated-*"):
        shutil.copy(marker, local_dir / "airflow" / marker.name)
    ports = {name: free_port() for name in ("postgres", "s3", "airflow", "superset")}
    LocalState(ports=ports).save(local_dir / "state.json")
    try:
        yield settings, environ
    finally:
        LocalPlatform(settings, environ).down()
        shutil.rmtree(local_dir, ignore_errors=True)


def civic_up(
    settings: Settings, environ: dict[str, str], *flags: str
) -> subprocess.CompletedProcess[str]:
    """`civic services up` as a user runs it, in a process of its own."""
    # .local/env written by the previous `up` repeats the database variables, and a value
    # equal to the file's does not count as the user's (stack.user_overrides): start each
    # `up` as a user with their own databases does the first time.
    settings.env_file.unlink(missing_ok=True)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CIVIC_"))}
    env = {
        **keep,
        **environ,
        "CIVIC_LOCAL_DIR": str(settings.local_dir),
        "CIVIC_EXPORTS_DIR": str(settings.exports_dir),
    }
    return subprocess.run(
        [*CIVIC, "services", "up", *flags],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_up_refuses_lost_zones_unless_forced(own_checkout: tuple[Settings, dict[str, str]]) -> None:
    settings, environ = own_checkout
    first = civic_up(settings, environ)
    assert first.returncode == 0, first.stderr
    stack = LocalPlatform(settings, environ)
    s3 = stack.s3_server()
    client = s3_client(
        parse_connection(read_env_file(settings.env_file)[env_var(S3_CONN_ID)], S3_CONN_ID)
    )
    client.put_object(Bucket=settings.raw_bucket, Key="s/2026-12-03/a.jsonl", Body=SECRET_LINE)
    wait_for_save(s3, 1)
    assert "s3" in stack.down()
    s3.snapshot_path.unlink()  # the snapshot is lost

    refused = civic_up(settings, environ)
    assert refused.returncode == 1
    message = " ".join(refused.stderr.split())
    assert "S3 zones lost" in message
    assert (
        "came up without civic-public, civic-raw, civic-work (1 object at the last save" in message
    )
    assert f"no snapshot at {s3.snapshot_path}" in message
    assert "civic services up --force" in message
    assert "Traceback" not in refused.stderr
    assert not port_accepts(s3.port), "the empty server is not left running"
    assert not s3.snapshot_path.exists(), "nothing was saved over the lost zones"

    forced = civic_up(settings, environ, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "started with empty zones" in " ".join(forced.stdout.split())
    record = json.loads((settings.local_dir / "state.json").read_text())["s3_zones"]
    assert [reset["lost"] for reset in record["resets"]] == [
        sorted([settings.raw_bucket, settings.work_bucket, settings.public_bucket])
    ]
    assert "no snapshot at" in record["resets"][0]["reason"]
    assert client.list_objects_v2(Bucket=settings.raw_bucket).get("KeyCount") == 0

    # From now on a restart is routine again: the new (empty) zones come back.
    assert "s3" in LocalPlatform(settings, environ).down()
    again = civic_up(settings, environ)
    assert again.returncode == 0, again.stderr
    assert "started with empty zones" not in again.stdout
