"""The ledger in PostgreSQL: create it, append to it, read it, verify it.

Appends are serialized by a transaction-level advisory lock: the appender locks,
reads the head, and inserts the next entry in one transaction, so two tasks
appending at once queue instead of forking the chain. (A table lock would need
UPDATE/DELETE privileges the pipeline must not have; an advisory lock needs
none.) The table's UNIQUE(prev_hash) and its insert trigger back this up for
any writer that skips the lock.

Verification streams the table through a server-side cursor inside one
read-only REPEATABLE READ transaction: a consistent snapshot, fetched in
batches, so memory stays flat for millions of entries.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import TupleRow

from include.audit.canonical import canonical_json
from include.audit.chain import Anchor, VerifyResult, check_chain
from include.audit.entry import GENESIS_HASH, Draft, Entry
from include.audit.errors import AuditKeyError, LedgerError
from include.audit.keys import AuditKey
from include.audit.merkle import MerkleTree
from include.audit.public_log import entry_leaf

LEDGER_TABLE = "audit.ledger"
DDL_PATH = Path(__file__).resolve().parent.parent / "sql" / "audit.sql"
VERIFY_BATCH = 5000

log = logging.getLogger(__name__)

# One bigint for pg_advisory_xact_lock. Advisory locks are per database, so every
# appender to this database's ledger meets on it, and nothing else uses it.
_APPEND_LOCK = int.from_bytes(
    hashlib.sha256(b"civic-audit-ledger/v1/append-lock").digest()[:8], "big", signed=True
)
# Entry's fields as the SELECT list, in field order (payload as its exact stored text).
_COLUMNS = sql.SQL(", ").join(
    sql.SQL("payload::text") if f.name == "payload_json" else sql.Identifier(f.name)
    for f in fields(Entry)
)
_SELECT_ALL = sql.SQL("SELECT {} FROM audit.ledger ORDER BY seq").format(_COLUMNS)
_SELECT_LAST = sql.SQL("SELECT {} FROM audit.ledger ORDER BY seq DESC LIMIT %s").format(_COLUMNS)
_SELECT_LAST_OF_RUN = sql.SQL(
    "SELECT {} FROM audit.ledger WHERE run_id = %s ORDER BY seq DESC LIMIT %s"
).format(_COLUMNS)
_SELECT_HASHES = "SELECT seq, entry_hash FROM audit.ledger WHERE seq <= %s ORDER BY seq"
_SELECT_RUN_UPTO = sql.SQL(
    "SELECT {} FROM audit.ledger WHERE run_id = %s AND dag_id IS NOT DISTINCT FROM %s "
    "AND seq <= %s ORDER BY seq"
).format(_COLUMNS)
_HEAD = (
    "SELECT h.seq, h.entry_hash, clock_timestamp() FROM (SELECT 1) AS one LEFT JOIN LATERAL "
    "(SELECT seq, entry_hash FROM audit.ledger ORDER BY seq DESC LIMIT 1) AS h ON true"
)
_INSERT = (
    "INSERT INTO audit.ledger (seq, recorded_at, run_id, dag_id, step, payload, prev_hash, "
    "key_id, entry_hash, signature) VALUES (%s, %s, %s, %s, %s, %s::json, %s, %s, %s, %s)"
)


def ledger_ddl() -> str:
    return DDL_PATH.read_text(encoding="utf-8")


@dataclass(frozen=True)
class LedgerState:
    """Who owns the ledger, who is connected, and whether this call created it."""

    owner: str
    connected_as: str
    created: bool

    @property
    def separate_owner(self) -> bool:
        """True when the pipeline cannot switch the guards off (see include/sql/audit.sql)."""
        return self.owner != self.connected_as


@contextmanager
def _ledger_errors(database: str) -> Iterator[None]:
    """PostgreSQL errors about the ledger, as messages that say what to do."""
    try:
        yield
    except pg_errors.UndefinedTable:
        raise LedgerError(
            f"{LEDGER_TABLE} does not exist in database '{database}': run `civic services up` "
            "(which provisions it) or include.audit.ensure_ledger(dsn)"
        ) from None
    except pg_errors.InsufficientPrivilege as exc:
        raise LedgerError(
            f"{LEDGER_TABLE} in database '{database}': {exc.diag.message_primary}; the pipeline "
            "role needs SELECT and INSERT on it (include.audit.provision_audit grants them)"
        ) from None


def ensure_ledger(dsn: str) -> LedgerState:
    """Make sure the ledger exists and this role can append to it; create it if missing.

    Creating it here makes the connecting role its owner (the fallback for a
    PostgreSQL where the platform has no superuser); a warning says so, because
    an owner can switch the guards off. Prefer `provision_audit`.
    """
    with psycopg.connect(dsn) as conn:
        user, database = conn.info.user, conn.info.dbname
        created = False
        if conn.execute("SELECT to_regclass(%s)", (LEDGER_TABLE,)).fetchone() == (None,):
            with _ledger_errors(database):
                conn.execute(ledger_ddl())
            created = True
        row = conn.execute(
            "SELECT pg_get_userbyid(relowner), has_table_privilege(%s, 'SELECT'), "
            "has_table_privilege(%s, 'INSERT') FROM pg_class WHERE oid = %s::regclass",
            (LEDGER_TABLE, LEDGER_TABLE, LEDGER_TABLE),
        ).fetchone()
    owner, can_select, can_insert = row or ("", False, False)
    if not (can_select and can_insert):
        raise LedgerError(
            f"role '{user}' cannot append to {LEDGER_TABLE} in '{database}' (owned by '{owner}'): "
            "grant it SELECT and INSERT, e.g. with include.audit.provision_audit"
        )
    if owner == user:
        log.warning(
            "%s in database '%s' is owned by the pipeline role '%s', which could switch its "
            "guards off; run include.audit.provision_audit as a superuser to give it a "
            "separate owner",
            LEDGER_TABLE,
            database,
            user,
        )
    return LedgerState(owner=owner, connected_as=user, created=created)


def append(
    target: psycopg.Connection[Any] | str,
    run_id: str,
    step: str,
    payload: Mapping[str, Any],
    key: AuditKey,
    *,
    dag_id: str | None = None,
) -> Entry:
    """Append one signed entry and return it.

    `target` is a DSN or an open connection. The entry is committed before this
    returns, except when the connection is inside a transaction: then the entry
    joins it (as a savepoint) and commits or rolls back with it, so a load and
    its ledger entry land together. The ledger lock is held until that
    transaction ends; keep it short.
    """
    if not key.can_sign:
        raise AuditKeyError(f"audit key '{key.key_id}' is verify-only and cannot sign entries")
    if not isinstance(payload, Mapping):
        raise LedgerError(f"a ledger payload must be a mapping, got {type(payload).__name__}")
    payload_json = canonical_json(payload)
    if isinstance(target, str):
        with psycopg.connect(target) as conn:
            return _append(conn, run_id, step, payload_json, key, dag_id)
    return _append(target, run_id, step, payload_json, key, dag_id)


def _append(
    conn: psycopg.Connection[Any],
    run_id: str,
    step: str,
    payload_json: str,
    key: AuditKey,
    dag_id: str | None,
) -> Entry:
    with _ledger_errors(conn.info.dbname), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_APPEND_LOCK,))
        # A new statement, so under READ COMMITTED it sees the head the previous holder
        # of the lock committed.
        head = conn.execute(_HEAD).fetchone()
        assert head is not None  # the outer SELECT always yields one row
        head_seq, head_hash, now = head
        entry = Draft(
            seq=(head_seq or 0) + 1,
            recorded_at=now,
            run_id=run_id,
            dag_id=dag_id,
            step=step,
            payload_json=payload_json,
            prev_hash=head_hash or GENESIS_HASH,
            key_id=key.key_id,
        ).seal(key)
        conn.execute(
            _INSERT,
            (
                entry.seq,
                entry.recorded_at,
                entry.run_id,
                entry.dag_id,
                entry.step,
                entry.payload_json,
                entry.prev_hash,
                entry.key_id,
                entry.entry_hash,
                entry.signature,
            ),
        )
    return entry


def _entries(rows: Iterable[TupleRow]) -> Iterator[Entry]:
    for row in rows:
        yield Entry(*row)


def verify(
    dsn: str, keys: AuditKey | Iterable[AuditKey], *, anchor: Anchor | None = None
) -> VerifyResult:
    """Recompute the whole chain and every signature; the first broken entry, if any."""
    with psycopg.connect(dsn) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with _ledger_errors(conn.info.dbname), conn.cursor(name="audit_verify") as cursor:
            cursor.itersize = VERIFY_BATCH
            cursor.execute(_SELECT_ALL)
            return check_chain(_entries(cursor), keys, anchor)


def last_entries(dsn: str, count: int, run_id: str | None = None) -> list[Entry]:
    """The newest `count` entries (of one run, if given), oldest first."""
    with psycopg.connect(dsn) as conn, _ledger_errors(conn.info.dbname):
        if run_id is None:
            rows = conn.execute(_SELECT_LAST, (count,)).fetchall()
        else:
            rows = conn.execute(_SELECT_LAST_OF_RUN, (run_id, count)).fetchall()
    return list(reversed(list(_entries(rows))))


def ledger_tree(
    dsn: str, size: int, run_id: str, dag_id: str | None
) -> tuple[MerkleTree, list[Entry]]:
    """The Merkle tree of the ledger's first `size` entries, and the entries among them of
    one run (`run_id`, `dag_id`): what a release's public log is built from.

    One read-only REPEATABLE READ snapshot, so the tree and the run's entries agree. The
    hashes are streamed through a server-side cursor and only they are kept (about 66
    bytes per entry, `include.audit.merkle`); payloads are read for the run's few entries
    only. Raises LedgerError when entries are missing: the ledger changed since it was
    verified, and nothing may be published over it.
    """
    with psycopg.connect(dsn) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with _ledger_errors(conn.info.dbname), conn.transaction():
            tree = MerkleTree()
            with conn.cursor(name="audit_tree") as cursor:
                cursor.itersize = VERIFY_BATCH
                cursor.execute(_SELECT_HASHES, (size,))
                for seq, entry_hash in cursor:
                    if seq != tree.size + 1:
                        break
                    tree.append(entry_leaf(entry_hash))
            if tree.size != size:
                raise LedgerError(
                    f"{LEDGER_TABLE} no longer holds entries 1..{size} as verified (entry "
                    f"{tree.size + 1} is missing): it changed since it was verified; run "
                    "`civic audit verify` and treat this as an incident"
                )
            rows = conn.execute(_SELECT_RUN_UPTO, (run_id, dag_id, size)).fetchall()
    return tree, list(_entries(rows))
