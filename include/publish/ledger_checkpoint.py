"""The ledger head carried from one release to the next.

WHY: the hash chain proves that no entry was altered, but not that none was cut
from its end; only a head kept outside the database can. Each release's manifest
records the head verified just before publishing, and the next publication
verifies the whole ledger against the head of the release `latest` points to
before it writes anything. The public bucket is where that manifest lives; the
local mirror (`exports/<source>/latest/`) stands in when the bucket lost it. When
the ledger says a release was published but neither copy of its manifest can be
read, the check cannot be made and publication stops (fail closed).

The same manifest carries the previous release's signed checkpoint of the ledger
(`include.audit.public_log`): `release_log` builds the new release's public log over
the ledger as verified, proves it extends that checkpoint, and refuses (fail closed)
when it does not: a history rewritten or truncated since the previous release is
never published over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from include.audit.chain import Anchor
from include.audit.keys import AuditKey
from include.audit.ledger import ledger_tree
from include.audit.public_log import (
    PreviousCheckpoint,
    ReleaseLog,
    SignedCheckpoint,
    build_release_log,
)
from include.publish.manifest import MANIFEST_NAME, ledger_anchor, ledger_log, parse_manifest
from include.publish.mirror import LATEST_NAME
from include.publish.s3_release import committed_manifest, current_release, release_prefix


class LedgerCheckpointError(RuntimeError):
    """The previous release's ledger head cannot be found: publication must wait."""


@dataclass(frozen=True)
class Checkpoint:
    """The head the previous release recorded, and where it was read; and that release's
    signed checkpoint of the ledger, if it carries one."""

    anchor: Anchor | None
    where: str
    log: PreviousCheckpoint | None = None


def _checkpoint(manifest: dict[str, Any], where: str) -> Checkpoint:
    signed = ledger_log(manifest, where)
    log = None if signed is None else PreviousCheckpoint(str(manifest["release_id"]), signed[0])
    return Checkpoint(ledger_anchor(manifest, where), where, log)


def _mirrored_manifest(exports_dir: Path, source: str) -> tuple[dict[str, Any], str] | None:
    path = exports_dir / source / LATEST_NAME / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return parse_manifest(raw, str(path)), str(path)


def _published_before(dsn: str, source: str) -> str | None:
    """The newest release of `source` the ledger records, if any."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT payload->>'release_id' FROM audit.ledger WHERE step = 'publish' "
            "AND payload->>'prefix' LIKE %s ORDER BY seq DESC LIMIT 1",
            (f"{source}/releases/%",),
        ).fetchone()
    return None if row is None else str(row[0])


def previous_checkpoint(
    client: Any | None, bucket: str, exports_dir: Path, dsn: str, source: str
) -> Checkpoint:
    """The ledger head recorded by the release `latest` points to (bucket, else mirror).

    `client` None: the local mirror only (an auditor without access to the bucket)."""
    pointer = None if client is None else current_release(client, bucket, source)
    if client is not None and pointer is not None:
        manifest = committed_manifest(client, bucket, source, pointer.release_id)
        if manifest is not None:
            where = f"s3://{bucket}/{release_prefix(source, pointer.release_id)}{MANIFEST_NAME}"
            return _checkpoint(manifest, where)
    mirrored = _mirrored_manifest(exports_dir, source)
    if mirrored is not None:
        return _checkpoint(*mirrored)
    earlier = _published_before(dsn, source)
    if earlier is not None:
        raise LedgerCheckpointError(
            f"{source}: the ledger records release {earlier}, but the manifest `latest` points "
            f"to is in neither s3://{bucket}/{source}/ nor {exports_dir / source}/latest/: the "
            "ledger cannot be checked against the head it published; restore the public zone "
            "(or its mirror) before publishing"
        )
    return Checkpoint(None, "no earlier release")


def release_log(
    dsn: str,
    key: AuditKey,
    head: Anchor,
    run_id: str,
    dag_id: str | None,
    previous: PreviousCheckpoint | None,
    committed: SignedCheckpoint | None = None,
) -> ReleaseLog:
    """The public log of a release whose ledger was verified up to `head`: a checkpoint of
    the ledger's first `head.seq` entries signed with `key`, the run's entries with their
    inclusion proofs, and the consistency proof from `previous` (the checkpoint of the
    release `latest` pointed to). Raises PublicLogError (publish nothing) when the ledger
    does not extend `previous` or no longer holds what was verified; LedgerError when it
    cannot be read."""
    tree, own = ledger_tree(dsn, head.seq, run_id, dag_id)
    return build_release_log(tree, own, key, head, previous, committed)


def newest_release_anchor(
    client: Any | None, bucket: str, exports_dir: Path, dsn: str, sources: Iterable[str]
) -> tuple[Anchor, str] | None:
    """The newest ledger head any source's latest release recorded, and where it was read:
    what a verification of the whole ledger checks so that entries cut from its end show
    (`civic audit verify`, the metrics exporter). Raises LedgerCheckpointError as
    `previous_checkpoint` does."""
    best: tuple[Anchor, str] | None = None
    for source in sources:
        found = previous_checkpoint(client, bucket, exports_dir, dsn, source)
        if found.anchor is not None and (best is None or found.anchor.seq > best[0].seq):
            best = (found.anchor, found.where)
    return best
