"""The ledger head carried from one release to the next.

WHY: the hash chain proves that no entry was altered, but not that none was cut
from its end; only a head kept outside the database can. Each release's manifest
records the head verified just before publishing, and the next publication
verifies the whole ledger against the head of the release `latest` points to
before it writes anything. The public bucket is where that manifest lives; the
local mirror (`exports/<source>/latest/`) stands in when the bucket lost it. When
the ledger says a release was published but neither copy of its manifest can be
read, the check cannot be made and publication stops (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from include.audit.chain import Anchor
from include.publish.manifest import MANIFEST_NAME, ledger_anchor, parse_manifest
from include.publish.mirror import LATEST_NAME
from include.publish.s3_release import committed_manifest, current_release, release_prefix


class LedgerCheckpointError(RuntimeError):
    """The previous release's ledger head cannot be found: publication must wait."""


@dataclass(frozen=True)
class Checkpoint:
    """The head the previous release recorded, and where it was read."""

    anchor: Anchor | None
    where: str


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
            return Checkpoint(ledger_anchor(manifest, where), where)
    mirrored = _mirrored_manifest(exports_dir, source)
    if mirrored is not None:
        return Checkpoint(ledger_anchor(*mirrored), mirrored[1])
    earlier = _published_before(dsn, source)
    if earlier is not None:
        raise LedgerCheckpointError(
            f"{source}: the ledger records release {earlier}, but the manifest `latest` points "
            f"to is in neither s3://{bucket}/{source}/ nor {exports_dir / source}/latest/: the "
            "ledger cannot be checked against the head it published; restore the public zone "
            "(or its mirror) before publishing"
        )
    return Checkpoint(None, "no earlier release")
