"""The audit ledger in the session's real PostgreSQL: appends, guards, tampering, concurrency.

Each test gets a database of its own (created by the superuser, owned by the
pipeline role like `civic`), so tampering in one test touches nothing else and
`civic` stays as the other tests expect it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import hvac
import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from typer.testing import CliRunner

from include.audit import (
    AUDIT_KEY_CONN_ID,
    AUDIT_OWNER_ROLE,
    Anchor,
    AuditKey,
    Breakage,
    Checksum,
    Ed25519Key,
    Entry,
    HmacKey,
    LedgerError,
    append,
    audit_key_connection,
    ensure_ledger,
    generate_secret,
    key_from_connection,
    last_entries,
    provision_audit,
    verify,
)
from include.audit.keys import verify_only_connection
from include.audit.vault_transit_key import VaultTransitKey
from include.cli.audit import audit_app
from include.core.connections import WAREHOUSE_CONN_ID, Connection, env_var, parse_connection
from include.services.stack import LocalPlatform
from include.services.vault_provision import LEDGER_KEY, TRANSIT_MOUNT, provision_ledger_signer
from include.services.vault_server import VaultServer

SECRET = generate_secret()
KEY = key_from_connection(audit_key_connection(SECRET, "t1"))


@dataclass(frozen=True)
class LedgerDatabase:
    name: str
    admin_dsn: str  # the superuser, connected to this database
    pipeline_dsn: str  # civic_pipeline, connected to this database
    pipeline_role: str


@pytest.fixture
def database(platform: LocalPlatform, warehouse_dsn: str) -> Iterator[LedgerDatabase]:
    """A fresh database owned by the pipeline role, without any ledger yet."""
    admin = platform.postgres().dsn()
    name = f"audit_test_{uuid.uuid4().hex[:12]}"
    role = conninfo_to_dict(warehouse_dsn)["user"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                sql.Identifier(name), sql.Identifier(str(role))
            )
        )
    try:
        yield LedgerDatabase(
            name,
            make_conninfo(admin, dbname=name),
            make_conninfo(warehouse_dsn, dbname=name),
            str(role),
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def ledger(platform: LocalPlatform, database: LedgerDatabase) -> LedgerDatabase:
    """The database with its ledger provisioned as `civic services up` will do it."""
    provision_audit(platform.postgres().dsn(), database.name, pipeline_role=database.pipeline_role)
    return database


def fill(db: LedgerDatabase, count: int, key: AuditKey = KEY) -> list[Entry]:
    return [
        append(
            db.pipeline_dsn,
            f"scheduled__2026-11-{20 + i // 2:02d}",
            ("ingest", "scrub")[i % 2],
            {"source": "signalements", "counts": {"rows": 1000 + i, "quarantined": i}},
            key,
            dag_id="civic_pipeline",
        )
        for i in range(count)
    ]


def tamper(db: LedgerDatabase, statement: str, *params: Any) -> None:
    """What an intruder with superuser rights can do: switch the guard off, change, switch on."""
    with psycopg.connect(db.admin_dsn) as conn:
        conn.execute("ALTER TABLE audit.ledger DISABLE TRIGGER ledger_append_only")
        conn.execute(statement, params)
        conn.execute("ALTER TABLE audit.ledger ENABLE ALWAYS TRIGGER ledger_append_only")


def test_provisioned_ledger_has_its_own_owner(
    platform: LocalPlatform, ledger: LedgerDatabase
) -> None:
    with psycopg.connect(ledger.admin_dsn) as conn:
        owner = conn.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'audit.ledger'::regclass"
        ).fetchone()
        privileges = {
            privilege: conn.execute(
                "SELECT has_table_privilege(%s, 'audit.ledger', %s)",
                (ledger.pipeline_role, privilege),
            ).fetchone()
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
        }
    assert owner == (AUDIT_OWNER_ROLE,)
    assert privileges == {
        "SELECT": (True,),
        "INSERT": (True,),
        "UPDATE": (False,),
        "DELETE": (False,),
        "TRUNCATE": (False,),
        "TRIGGER": (False,),
    }
    state = ensure_ledger(ledger.pipeline_dsn)
    assert (state.owner, state.created, state.separate_owner) == (AUDIT_OWNER_ROLE, False, True)
    fill(ledger, 2)
    provision_audit(platform.postgres().dsn(), ledger.name, pipeline_role=ledger.pipeline_role)
    assert verify(ledger.pipeline_dsn, KEY).count == 2, "provisioning again keeps the entries"


def test_append_and_verify_round_trip(ledger: LedgerDatabase) -> None:
    checksum = Checksum("0f" * 32, 4096)
    payload = {
        "inputs": {"s3://civic-raw/signalements/2026-11-25/part-00000.csv": checksum},
        "checks": {"k_anonymity": {"k": 5, "passed": True}, "suppression_rate": 0.0125},
        "note": "Relevé des trottoirs abîmés à Saint-Étienne",
        "big": 1e20,
        "window_start": datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
    }
    first = append(ledger.pipeline_dsn, "run-1", "ingest", payload, KEY, dag_id="civic_pipeline")
    second = append(ledger.pipeline_dsn, "run-1", "release", {"rows": 42}, KEY)
    third = append(ledger.pipeline_dsn, "run-2", "ingest", {"rows": 7}, KEY)

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    result = verify(ledger.pipeline_dsn, KEY)
    assert result.intact
    assert (result.count, result.head) == (3, Anchor(3, third.entry_hash))
    assert last_entries(ledger.pipeline_dsn, 10) == [first, second, third]
    assert last_entries(ledger.pipeline_dsn, 1, run_id="run-1") == [second]
    assert first.payload["inputs"]["s3://civic-raw/signalements/2026-11-25/part-00000.csv"] == {
        "sha256": "0f" * 32,
        "size": 4096,
    }
    assert first.payload["big"] == 1e20, "json (not jsonb) keeps the hashed text as written"


def test_the_pipeline_cannot_change_remove_or_unguard_entries(ledger: LedgerDatabase) -> None:
    fill(ledger, 2)
    with psycopg.connect(ledger.pipeline_dsn, autocommit=True) as conn:
        for statement in (
            "UPDATE audit.ledger SET step = 'x' WHERE seq = 1",
            "DELETE FROM audit.ledger WHERE seq = 2",
            "TRUNCATE audit.ledger",
            "ALTER TABLE audit.ledger DISABLE TRIGGER ledger_append_only",
            "DROP TABLE audit.ledger",
            "DROP SCHEMA audit CASCADE",
        ):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                conn.execute(statement)
    assert verify(ledger.pipeline_dsn, KEY).count == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit.ledger SET step = 'x' WHERE seq = 1",
        "DELETE FROM audit.ledger WHERE seq = 2",
        "TRUNCATE audit.ledger",
    ],
)
@pytest.mark.parametrize("replication_role", ["origin", "replica"])
def test_trigger_refuses_changes_even_from_a_superuser(
    ledger: LedgerDatabase, statement: str, replication_role: str
) -> None:
    fill(ledger, 2)
    verb = statement.split()[0]
    with psycopg.connect(ledger.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET session_replication_role = {}").format(sql.SQL(replication_role)))
        with pytest.raises(pg_errors.RaiseException, match=f"append-only: {verb} refused"):
            conn.execute(statement)
    assert verify(ledger.pipeline_dsn, KEY).count == 2


def test_an_insert_that_does_not_extend_the_chain_is_refused(ledger: LedgerDatabase) -> None:
    (entry,) = fill(ledger, 1)
    forged = replace(entry, seq=2, prev_hash="ab" * 32)
    with (
        psycopg.connect(ledger.pipeline_dsn) as conn,
        pytest.raises(pg_errors.RaiseException, match="entry 2 does not extend the chain"),
    ):
        conn.execute(
            "INSERT INTO audit.ledger (seq, recorded_at, run_id, step, payload, prev_hash, "
            "entry_hash, signature, key_id) VALUES (%s, now(), 'r', 's', '{}', %s, %s, %s, %s)",
            (forged.seq, forged.prev_hash, forged.entry_hash, forged.signature, forged.key_id),
        )


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("UPDATE audit.ledger SET payload = '{\"rows\":0}' WHERE seq = %s", Breakage.HASH_MISMATCH),
        ("UPDATE audit.ledger SET run_id = 'autre-run' WHERE seq = %s", Breakage.HASH_MISMATCH),
        (
            "UPDATE audit.ledger SET recorded_at = recorded_at - interval '1 day' WHERE seq = %s",
            Breakage.HASH_MISMATCH,
        ),
        (
            "UPDATE audit.ledger SET signature = repeat('0', 64) WHERE seq = %s",
            Breakage.BAD_SIGNATURE,
        ),
    ],
    ids=["payload", "run_id", "recorded_at", "signature"],
)
def test_a_tampered_row_fails_verify_and_is_named(
    ledger: LedgerDatabase, statement: str, kind: Breakage
) -> None:
    fill(ledger, 5)
    tamper(ledger, statement, 3)
    result = verify(ledger.pipeline_dsn, KEY)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind, result.count) == (3, kind, 2)


def test_a_rehashed_row_fails_on_its_signature(ledger: LedgerDatabase) -> None:
    """Changing a row and fixing its hash needs the key, which the database never holds."""
    entries = fill(ledger, 4)
    changed = replace(entries[1], payload_json='{"rows":0}')
    tamper(
        ledger,
        "UPDATE audit.ledger SET payload = %s::json, entry_hash = %s WHERE seq = 2",
        changed.payload_json,
        changed.content_hash(),
    )
    result = verify(ledger.pipeline_dsn, KEY)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (2, Breakage.BAD_SIGNATURE)


def test_a_deleted_middle_row_is_named(ledger: LedgerDatabase) -> None:
    fill(ledger, 5)
    tamper(ledger, "DELETE FROM audit.ledger WHERE seq = %s", 3)
    result = verify(ledger.pipeline_dsn, KEY)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (3, Breakage.MISSING)
    assert "entry 3 is missing" in result.problem.detail


def test_a_cut_end_is_caught_by_an_anchor(ledger: LedgerDatabase) -> None:
    fill(ledger, 4)
    head = verify(ledger.pipeline_dsn, KEY).head
    assert head is not None
    tamper(ledger, "DELETE FROM audit.ledger WHERE seq = %s", 4)
    assert verify(ledger.pipeline_dsn, KEY).intact, "the shortened chain is valid on its own"
    result = verify(ledger.pipeline_dsn, KEY, anchor=head)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (4, Breakage.TRUNCATED)


def test_a_wrong_key_is_detected_and_a_verify_only_key_suffices(ledger: LedgerDatabase) -> None:
    fill(ledger, 3)
    wrong = verify(ledger.pipeline_dsn, Ed25519Key.from_seed("t1", generate_secret()))
    assert wrong.problem is not None
    assert (wrong.problem.seq, wrong.problem.kind) == (1, Breakage.BAD_SIGNATURE)
    hmac = verify(ledger.pipeline_dsn, HmacKey("t1", b"x" * 32))
    assert hmac.problem is not None
    assert hmac.problem.kind == Breakage.BAD_SIGNATURE
    assert isinstance(KEY, Ed25519Key)
    auditor = key_from_connection(verify_only_connection(KEY))
    assert verify(ledger.pipeline_dsn, auditor).count == 3


def test_concurrent_appends_keep_one_chain(ledger: LedgerDatabase) -> None:
    threads, per_thread = 4, 8
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            with psycopg.connect(ledger.pipeline_dsn, autocommit=True) as conn:
                start.wait()
                for i in range(per_thread):
                    append(conn, f"run-{number}", f"step-{i}", {"worker": number, "i": i}, KEY)
        except BaseException as exc:  # reported to the main thread below
            failures.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert not failures, failures
    result = verify(ledger.pipeline_dsn, KEY)
    assert result.intact
    assert result.count == threads * per_thread
    entries = last_entries(ledger.pipeline_dsn, threads * per_thread)
    assert [e.seq for e in entries] == list(range(1, threads * per_thread + 1))
    assert sorted((e.payload["worker"], e.payload["i"]) for e in entries) == [
        (n, i) for n in range(threads) for i in range(per_thread)
    ]


def test_an_entry_commits_or_rolls_back_with_the_callers_transaction(
    ledger: LedgerDatabase,
) -> None:
    with psycopg.connect(ledger.pipeline_dsn) as conn:
        conn.execute("CREATE TABLE loaded (n int)")
        conn.execute("INSERT INTO loaded VALUES (1)")
        append(conn, "run-1", "load", {"rows": 1}, KEY)
        conn.rollback()
        assert verify(ledger.pipeline_dsn, KEY).count == 0, "rolled back with the load"
        conn.execute("CREATE TABLE loaded (n int)")
        append(conn, "run-1", "load", {"rows": 1}, KEY)
        assert verify(ledger.pipeline_dsn, KEY).count == 0, "not visible before the commit"
        conn.commit()
    after = append(ledger.pipeline_dsn, "run-1", "release", {"rows": 1}, KEY)
    assert after.seq == 2, "a rolled-back append leaves no hole"
    with psycopg.connect(ledger.pipeline_dsn) as idle:
        append(idle, "run-1", "verify", {}, KEY)
        assert verify(ledger.pipeline_dsn, KEY).count == 3, "no transaction open: committed"


def test_without_a_superuser_the_pipeline_creates_then_hands_over(
    platform: LocalPlatform, database: LedgerDatabase
) -> None:
    with pytest.raises(LedgerError, match=r"does not exist .*`civic services up`"):
        append(database.pipeline_dsn, "run-1", "ingest", {}, KEY)
    with pytest.raises(LedgerError, match="does not exist"):
        verify(database.pipeline_dsn, KEY)
    state = ensure_ledger(database.pipeline_dsn)
    assert (state.created, state.owner, state.separate_owner) == (
        True,
        database.pipeline_role,
        False,
    )
    assert not ensure_ledger(database.pipeline_dsn).created
    fill(database, 2)
    with (
        psycopg.connect(database.pipeline_dsn) as conn,
        pytest.raises(pg_errors.InsufficientPrivilege),
    ):
        conn.execute("DELETE FROM audit.ledger")  # even its owner gave DELETE up

    provision_audit(platform.postgres().dsn(), database.name, pipeline_role=database.pipeline_role)
    assert ensure_ledger(database.pipeline_dsn).owner == AUDIT_OWNER_ROLE
    fill(database, 1)
    assert verify(database.pipeline_dsn, KEY).count == 3


# -- the command --------------------------------------------------------------------------


def run_cli(
    platform: LocalPlatform, db: LedgerDatabase, *args: str, key: Connection | None = None
) -> Any:
    """`civic audit ...` as a user runs it, pointed at this test's database."""
    conninfo = conninfo_to_dict(db.pipeline_dsn)
    warehouse = Connection(
        "postgres",
        str(conninfo["host"]),
        int(str(conninfo["port"])),
        str(conninfo["user"]),
        str(conninfo["password"]),
        db.name,
    )
    env = {
        "CIVIC_LOCAL_DIR": str(platform.settings.local_dir),
        env_var(WAREHOUSE_CONN_ID): warehouse.to_json(),
        env_var(AUDIT_KEY_CONN_ID): (key or audit_key_connection(SECRET, "t1")).to_json(),
        "COLUMNS": "200",
    }
    return CliRunner().invoke(audit_app, list(args), env=env)


def test_cli_verify_reports_head_then_names_the_broken_entry(
    platform: LocalPlatform, ledger: LedgerDatabase
) -> None:
    entries = fill(ledger, 3)
    intact = run_cli(platform, ledger, "verify", "--no-releases")
    assert intact.exit_code == 0, intact.output
    assert "ledger intact: 3 entries" in intact.output
    assert f"head 3:{entries[-1].entry_hash}" in intact.output

    tamper(ledger, "UPDATE audit.ledger SET payload = '{\"rows\":0}' WHERE seq = %s", 2)
    broken = run_cli(platform, ledger, "verify", "--no-releases")
    assert broken.exit_code == 1, broken.output
    assert "ledger BROKEN at entry 2 (hash mismatch)" in broken.output
    assert f"last good: 1:{entries[0].entry_hash}" in broken.output


def test_cli_verify_anchor_and_unchecked_exit_codes(
    platform: LocalPlatform, ledger: LedgerDatabase
) -> None:
    entries = fill(ledger, 2)
    anchored = run_cli(platform, ledger, "verify", "--anchor", f"3:{entries[-1].entry_hash}")
    assert anchored.exit_code == 1
    assert "entry 3 (truncated)" in anchored.output
    assert run_cli(platform, ledger, "verify", "--anchor", "nonsense").exit_code == 2
    bad_key = Connection("generic", password="short", extra={"algorithm": "hmac-sha256"})
    unchecked = run_cli(platform, ledger, "verify", "--no-releases", key=bad_key)
    assert unchecked.exit_code == 2
    assert "at least 32 bytes" in unchecked.output
    assert "Traceback" not in unchecked.output


def test_cli_show_and_public_key(platform: LocalPlatform, ledger: LedgerDatabase) -> None:
    fill(ledger, 3)
    shown = run_cli(platform, ledger, "show", "--last", "2")
    assert shown.exit_code == 0, shown.output
    assert "scheduled__2026-11-20" in shown.output
    assert "scheduled__2026-11-21" in shown.output
    lines = [line for line in shown.output.splitlines() if "civic_pipeline" in line]
    assert [line.split("│")[1].strip() for line in lines] == ["2", "3"]

    printed = run_cli(platform, ledger, "public-key")
    assert printed.exit_code == 0, printed.output
    verify_only = printed.output.splitlines()[-1]
    assert SECRET not in printed.output
    auditor = run_cli(
        platform,
        ledger,
        "verify",
        "--no-releases",
        key=parse_connection(verify_only, AUDIT_KEY_CONN_ID),
    )
    assert auditor.exit_code == 0, auditor.output


def test_a_ledger_signed_inside_the_vault_verifies_with_public_keys_across_a_rotation(
    ledger: LedgerDatabase, vault: VaultServer
) -> None:
    keys = vault.start(None)
    root = vault.client(keys.root_token)
    connection = provision_ledger_signer(root, None)
    signer = key_from_connection(connection)
    assert isinstance(signer, VaultTransitKey)
    assert signer.key_id == "civic-ledger.v1"
    before = append(ledger.pipeline_dsn, "run-1", "ingest", {"rows": 3}, signer)

    root.secrets.transit.rotate_key(LEDGER_KEY, mount_point=TRANSIT_MOUNT)
    rotated = key_from_connection(connection)
    after = append(ledger.pipeline_dsn, "run-2", "ingest", {"rows": 4}, rotated)
    assert (before.key_id, after.key_id) == ("civic-ledger.v1", "civic-ledger.v2")

    # The signing key's holder and an auditor with the public keys alone both verify it.
    assert verify(ledger.pipeline_dsn, rotated).intact
    public = [Ed25519Key.from_public(k.key_id, k.public_b64()) for k in _ed25519(rotated)]
    assert verify(ledger.pipeline_dsn, public).intact
    assert not verify(ledger.pipeline_dsn, public[1:]).intact  # v1's entry needs v1's key
    # The signer's login may sign, not export the key nor rotate it.
    signer_client = hvac.Client(url=vault.url)
    signer_client.auth.approle.login(connection.login, connection.password)
    with pytest.raises(hvac.exceptions.Forbidden):
        signer_client.secrets.transit.rotate_key(LEDGER_KEY, mount_point=TRANSIT_MOUNT)
    with pytest.raises((hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest)):
        signer_client.secrets.transit.export_key(
            LEDGER_KEY, "signing-key", mount_point=TRANSIT_MOUNT
        )
    assert provision_ledger_signer(root, None).login == connection.login  # idempotent


def _ed25519(key: AuditKey) -> list[Ed25519Key]:
    keys = []
    for verifying in key.verifying_keys():
        public = verifying.public if isinstance(verifying, VaultTransitKey) else verifying
        assert isinstance(public, Ed25519Key)
        keys.append(public)
    return keys
