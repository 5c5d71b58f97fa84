"""Audit ledgers in memory, made as `include.audit.ledger.append` makes them, for the
public-log tests: honest histories, and the rewrites a holder of the signing key could
make of them.

WHY in memory: the public log is checked from files alone; what matters is that the
entries are real sealed entries (same hashing and signatures as the database's), not
where they were stored. The integration tests build the same from PostgreSQL.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from include.audit.canonical import canonical_json
from include.audit.chain import Anchor
from include.audit.entry import GENESIS_HASH, Draft, Entry
from include.audit.keys import AuditKey, Ed25519Key
from include.audit.merkle import MerkleTree
from include.audit.public_log import (
    PreviousCheckpoint,
    ReleaseLog,
    SignedCheckpoint,
    TreeHead,
    build_release_log,
    entry_leaf,
)

KEY = Ed25519Key.from_seed("a1", base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("="))
OTHER_KEY = Ed25519Key.from_seed("a1", base64.urlsafe_b64encode(bytes(32)).decode().rstrip("="))
DAG = "civic_pipeline_consultation"
START = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
RUN_STEPS = ("ingest", "scrub", "scrub", "anonymize", "validate", "load", "accounting")


def _seal(seq: int, prev_hash: str, run_id: str, step: str, payload: dict, key: AuditKey) -> Entry:
    return Draft(
        seq=seq,
        recorded_at=START + timedelta(minutes=seq),
        run_id=run_id,
        dag_id=DAG,
        step=step,
        payload_json=canonical_json(payload),
        prev_hash=prev_hash,
        key_id=key.key_id,
    ).seal(key)


def grow(
    ledger: list[Entry], run_id: str, steps: Sequence[str] = RUN_STEPS, key: AuditKey = KEY
) -> list[Entry]:
    """Append a run's entries (counts, as the stages record) to `ledger`; returns it."""
    for step in steps:
        seq = len(ledger) + 1
        prev = ledger[-1].entry_hash if ledger else GENESIS_HASH
        ledger.append(_seal(seq, prev, run_id, step, {"rows_read": 100 + seq, "step": step}, key))
    return ledger


def head_of(ledger: Sequence[Entry]) -> Anchor:
    return Anchor(ledger[-1].seq, ledger[-1].entry_hash)


def tree_of(ledger: Sequence[Entry]) -> MerkleTree:
    return MerkleTree(entry_leaf(entry.entry_hash) for entry in ledger)


def release_log(
    ledger: Sequence[Entry],
    run_id: str,
    previous: PreviousCheckpoint | None = None,
    key: AuditKey = KEY,
    committed: SignedCheckpoint | None = None,
) -> ReleaseLog:
    """The public log the publish stage builds for `run_id` over the whole `ledger`."""
    own = [entry for entry in ledger if entry.run_id == run_id]
    return build_release_log(tree_of(ledger), own, key, head_of(ledger), previous, committed)


def rewritten(ledger: Sequence[Entry], at: int, payload: dict, key: AuditKey = KEY) -> list[Entry]:
    """The ledger with entry `at` (seq) given another payload and every later entry
    re-chained and re-signed: what an operator holding the key can make verify."""
    out = list(ledger[: at - 1])
    for entry in ledger[at - 1 :]:
        body = payload if entry.seq == at else entry.payload
        prev = out[-1].entry_hash if out else GENESIS_HASH
        out.append(_seal(entry.seq, prev, entry.run_id, entry.step, body, key))
    return out


def truncated(ledger: Sequence[Entry], keep: int) -> list[Entry]:
    """The first `keep` entries: entries cut from the end (a valid chain on its own)."""
    return list(ledger[:keep])


def forged_previous(
    ledger: Sequence[Entry], release_id: str, size: int, key: AuditKey = KEY
) -> PreviousCheckpoint:
    """A copy of a previous release's checkpoint re-made over a rewritten `ledger`: the
    best a key holder can carry to hide the rewrite (it cannot match the real one)."""
    tree = tree_of(ledger)
    return PreviousCheckpoint(
        release_id, SignedCheckpoint.sign(TreeHead(size, tree.root(size)), key)
    )
