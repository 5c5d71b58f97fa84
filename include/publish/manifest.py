"""The release manifest: what a release contains and how it was protected.

`manifest.json` is the release's table of contents and its commit marker: it is
written last, and a release counts as published (in S3 and in the local mirror)
only once it is present. For every file it gives the byte size and SHA-256
(what `verify_release` checks) and, for data files, the rows and the schema
(column → Table Schema type). For every table it gives the privacy facts: for
record-level tables the quasi-identifiers, sensitive fields, withheld fields,
k and l required and achieved (measured on the published rows) and the
suppressed record count; for aggregates the suppressed cells by reason. It also
names the run (id, pipeline version, date) and the checks that gated it, and the
audit ledger's head as verified before publishing (`ledger.head`, `SEQ:HASH`): the
next release checks that this entry is still there, unchanged, so entries cut from
the ledger's end cannot go unnoticed, and anyone can check it with
`civic audit verify --anchor`. Beside the head, `ledger` carries the release's signed
checkpoint of the whole ledger (`checkpoint`: tree size, RFC 9162 Merkle root,
signature, key), the previous release's (`previous_checkpoint`), and names the files
that prove them (`files`: `ledger_checkpoint.json`, `ledger_proofs.json`; see
`include.audit.public_log`): with `civic audit verify-release` anyone can check that
the history behind the release was neither rewritten nor truncated. And it states the
PII scrubber that redacted the free text: its version and its last measured figures
(`scrubber`, see `scrubber_statement`).

The manifest holds no timestamp of its own: it is a function of the inputs, so
a rerun rebuilds the same bytes and its SHA-256 identifies the release content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from include.audit.chain import Anchor
from include.audit.checksums import Checksum
from include.audit.public_log import PreviousCheckpoint, ReleaseLog, SignedCheckpoint
from include.core.source_config import SourceConfig
from include.publish.jsonfile import JSON
from include.publish.run import RunInfo, check_release_id
from include.publish.scrubber_statement import ScrubberStatement

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$")


@dataclass(frozen=True)
class CheckResult:
    """One gate the pipeline ran before publishing (an expectation suite, an audit...)."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class ManifestEntry:
    """What one file of a release must be."""

    path: str
    bytes: int
    sha256: str

    def mismatch(self, found: Checksum, verb: str = "has") -> str | None:
        """Why a file (`has`) or an object (`holds`) with checksum `found` is not this
        entry's file, or None if it is."""
        if (found.size, found.sha256) == (self.bytes, self.sha256):
            return None
        return (
            f"{self.path} {verb} {found.size} bytes, sha256 {found.sha256[:12]}…, expected "
            f"{self.bytes} bytes, sha256 {self.sha256[:12]}…"
        )


def build_manifest(
    config: SourceConfig,
    run: RunInfo,
    *,
    tables: Sequence[Mapping[str, JSON]],
    files: Sequence[Mapping[str, JSON]],
    checks: Sequence[CheckResult],
    scrubber: ScrubberStatement,
    risk_report: Mapping[str, JSON] | None = None,
    ledger: Anchor | None = None,
    log: ReleaseLog | None = None,
) -> dict[str, JSON]:
    if log is not None and log.head != ledger:
        raise ValueError(
            f"the public log ends at ledger entry {log.head}, not at the head {ledger} the "
            "release records"
        )
    ledger_entry: dict[str, JSON] | None = None
    if ledger is not None:
        ledger_entry = {"head": str(ledger), **(log.manifest_entry() if log else {})}
    return {
        "manifest_version": MANIFEST_VERSION,
        "source": config.name,
        "title": config.title,
        "release_id": run.release_id,
        "run": {
            "run_id": run.run_id,
            "pipeline_version": run.pipeline_version,
            "run_date": f"{run.run_date_utc:%Y-%m-%dT%H:%M:%SZ}",
        },
        "licence": "etalab-2.0",
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in checks],
        "ledger": ledger_entry,
        "scrubber": scrubber.manifest_entry(),
        "risk_report": None if risk_report is None else dict(risk_report),
        "tables": [dict(table) for table in tables],
        "files": [dict(entry) for entry in files],
    }


def parse_manifest(raw: bytes, where: str) -> dict[str, Any]:
    """Read a manifest and check the parts verification relies on; ValueError otherwise."""
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{where}: not a JSON manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("manifest_version") != MANIFEST_VERSION:
        raise ValueError(f"{where}: not a release manifest of version {MANIFEST_VERSION}")
    for key in ("source", "release_id", "files"):
        if key not in manifest:
            raise ValueError(f"{where}: the manifest has no '{key}'")
    check_release_id(str(manifest["release_id"]))
    manifest_entries(manifest, where)
    return manifest


def manifest_entries(manifest: Mapping[str, Any], where: str) -> list[ManifestEntry]:
    """The manifest's files; names are checked so they cannot point outside the release."""
    entries = []
    for item in manifest["files"]:
        try:
            entry = ManifestEntry(str(item["path"]), int(item["bytes"]), str(item["sha256"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: malformed file entry {item!r}") from None
        if not SAFE_FILE_NAME.match(entry.path) or entry.path == MANIFEST_NAME:
            raise ValueError(f"{where}: file name {entry.path!r} is not allowed in a release")
        entries.append(entry)
    return entries


def scrubber_statement(manifest: Mapping[str, Any], where: str) -> ScrubberStatement | None:
    """The scrubber statement a manifest carries, or None (a manifest older than it)."""
    entry = manifest.get("scrubber")
    return None if entry is None else ScrubberStatement.from_manifest(entry, where)


def ledger_anchor(manifest: Mapping[str, Any], where: str) -> Anchor | None:
    """The ledger head a manifest recorded, or None (a first release, or an older manifest)."""
    ledger = manifest.get("ledger")
    if ledger is None:
        return None
    try:
        return Anchor.parse(str(ledger["head"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: its ledger head is not SEQ:HASH ({exc})") from None


def ledger_log(
    manifest: Mapping[str, Any], where: str
) -> tuple[SignedCheckpoint, PreviousCheckpoint | None] | None:
    """The signed checkpoint a manifest carries and the previous one it proves consistency
    from, or None (a manifest older than the public log, or one without a ledger head)."""
    ledger = manifest.get("ledger")
    if not isinstance(ledger, Mapping) or ledger.get("checkpoint") is None:
        return None
    checkpoint = SignedCheckpoint.from_json(ledger["checkpoint"], where)
    previous = ledger.get("previous_checkpoint")
    return checkpoint, None if previous is None else PreviousCheckpoint.from_json(previous, where)
