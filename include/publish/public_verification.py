"""Verify a published release as the public can: from its files and a public key alone.

`verify_public_release` reads a release folder (the local mirror, a download) or the
release's URL in the public bucket (plain HTTP(S) GETs of its objects: no credentials,
no S3 API, no database), and checks:

1. every file against the size and SHA-256 `manifest.json` gives (`ManifestEntry.mismatch`,
   the check `load_release` and `verify_release` make);
2. the release's public audit log (`include.audit.public_log.check_release_log`): the
   checkpoint's signature, each inclusion proof, the ledger head, and the consistency
   proof from the previous release's checkpoint, read from that release itself when it
   is given (`previous`) or found beside this one (`../<release id>/`), else from the
   copy this release carries (said to be weaker).

The public key comes from the caller (an auditor's copy, obtained elsewhere); without
one, the key the release carries is used and a note says why that is weaker: whoever
can rewrite the release can replace the key with theirs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from include.audit.checksums import Checksum, checksum_file, checksum_stream
from include.audit.keys import Ed25519Key
from include.audit.public_log import (
    CHECKPOINT_NAME,
    PROOFS_NAME,
    Finding,
    PreviousCheckpoint,
    SignedCheckpoint,
    Verdict,
    check_release_log,
    fingerprint,
)
from include.publish.manifest import MANIFEST_NAME, manifest_entries, parse_manifest
from include.publish.run import RELEASE_ID_PATTERN

JSON_LIMIT = 64 << 20  # a manifest or proofs file larger than this is not one of ours
HTTP_TIMEOUT = 30


class ReleaseUnreadableError(Exception):
    """The location holds no release that can be read (no manifest, unreachable...)."""


class ReleaseLocation(ABC):
    """Where a release's files are read from: a folder or a base URL."""

    where: str

    @abstractmethod
    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when there is no such file."""

    @abstractmethod
    def checksum(self, name: str) -> Checksum | None:
        """The file's size and SHA-256, streamed; None when there is no such file."""

    @abstractmethod
    def sibling(self, release_id: str) -> ReleaseLocation:
        """Another release of the same source, beside this one (`../<release id>/`)."""


@dataclass(frozen=True)
class FolderRelease(ReleaseLocation):
    directory: Path
    where: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", str(self.directory))

    def _path(self, name: str) -> Path:
        return self.directory / name

    def read(self, name: str) -> bytes | None:
        path = self._path(name)
        try:
            if path.stat().st_size > JSON_LIMIT:
                raise ReleaseUnreadableError(f"{path} is larger than {JSON_LIMIT} bytes")
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ReleaseUnreadableError(f"cannot read {path} ({exc})") from None

    def checksum(self, name: str) -> Checksum | None:
        path = self._path(name)
        try:
            return checksum_file(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ReleaseUnreadableError(f"cannot read {path} ({exc})") from None

    def sibling(self, release_id: str) -> ReleaseLocation:
        # resolve(): `exports/<source>/latest` is a link to the release folder.
        return FolderRelease(self.directory.resolve().parent / release_id)


@dataclass(frozen=True)
class UrlRelease(ReleaseLocation):
    base: str  # ends with "/"
    where: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", self.base)

    def _open(self, name: str) -> Any | None:
        url = urllib.parse.urljoin(self.base, urllib.parse.quote(name))
        try:
            return urllib.request.urlopen(url, timeout=HTTP_TIMEOUT)  # noqa: S310 (http/https only)
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 404):  # a public bucket answers 403 for a missing key too
                return None
            raise ReleaseUnreadableError(f"GET {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ReleaseUnreadableError(f"GET {url}: {exc}") from None

    def read(self, name: str) -> bytes | None:
        response = self._open(name)
        if response is None:
            return None
        with response:
            body = bytes(response.read(JSON_LIMIT + 1))
        if len(body) > JSON_LIMIT:
            raise ReleaseUnreadableError(f"{self.base}{name} is larger than {JSON_LIMIT} bytes")
        return body

    def checksum(self, name: str) -> Checksum | None:
        response = self._open(name)
        if response is None:
            return None
        with response:
            return checksum_stream(response)

    def sibling(self, release_id: str) -> ReleaseLocation:
        return UrlRelease(urllib.parse.urljoin(self.base, f"../{urllib.parse.quote(release_id)}/"))


def release_location(text: str) -> ReleaseLocation:
    """A folder path, or an http(s) URL of a release folder (or of its manifest.json)."""
    if text.startswith(("http://", "https://")):
        base = text if text.endswith("/") else text + "/"
        if text.endswith("/" + MANIFEST_NAME):
            base = text.removesuffix(MANIFEST_NAME)
        return UrlRelease(base)
    if "://" in text:
        raise ReleaseUnreadableError(f"{text}: only folders and http(s) URLs can be read")
    path = Path(text)
    return FolderRelease(path.parent if path.name == MANIFEST_NAME else path)


@dataclass(frozen=True)
class PublicReleaseReport:
    """What `verify_public_release` found; `exit_code` is the command's."""

    where: str
    release_id: str
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict == Verdict.FAILED]

    @property
    def exit_code(self) -> int:
        """0 verified, 1 tampered (a check failed), 2 something could not be checked."""
        if self.failed:
            return 1
        return 2 if any(f.verdict == Verdict.UNCHECKED for f in self.findings) else 0


def _manifest(location: ReleaseLocation) -> dict[str, Any]:
    raw = location.read(MANIFEST_NAME)
    if raw is None:
        raise ReleaseUnreadableError(f"{location.where}: no {MANIFEST_NAME}; not a release")
    try:
        return parse_manifest(raw, f"{location.where} {MANIFEST_NAME}")
    except ValueError as exc:
        raise ReleaseUnreadableError(str(exc)) from None


def _json(location: ReleaseLocation, name: str) -> object:
    """A log file's JSON; a missing or unparsable one is a failed check, not unreadable:
    the manifest says the release has it."""
    raw = location.read(name)
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _file_findings(location: ReleaseLocation, manifest: dict[str, Any]) -> list[Finding]:
    entries = manifest_entries(manifest, f"{location.where} {MANIFEST_NAME}")
    failed = []
    for entry in entries:
        found = location.checksum(entry.path)
        problem = f"{entry.path} is missing" if found is None else entry.mismatch(found)
        if problem:
            failed.append(Finding(entry.path, Verdict.FAILED, problem))
    if failed:
        return failed
    return [
        Finding(
            "files",
            Verdict.OK,
            f"{len(entries)} files match the size and SHA-256 {MANIFEST_NAME} gives",
        )
    ]


def _previous_release(
    location: ReleaseLocation, named: str | None
) -> tuple[PreviousCheckpoint, str] | Finding | None:
    """The checkpoint the release at `location` carries, read from it and checked against
    its own manifest; a finding when that cannot be; None when no release is there.
    `named` is the release this one proves consistency from."""
    try:
        manifest = _manifest(location)
    except ReleaseUnreadableError:
        return None
    release_id = str(manifest["release_id"])
    label = "previous checkpoint"
    if named is not None and release_id != named:
        return Finding(
            label,
            Verdict.UNCHECKED,
            f"{location.where} is release {release_id}, but this release proves consistency "
            f"from release {named}: give that one",
        )
    entry = next(
        (e for e in manifest_entries(manifest, location.where) if e.path == CHECKPOINT_NAME),
        None,
    )
    if entry is None:
        verdict = Verdict.NOTE if named is None else Verdict.FAILED
        return Finding(label, verdict, f"release {release_id} ({location.where}) has no checkpoint")
    found = location.checksum(CHECKPOINT_NAME)
    problem = f"{CHECKPOINT_NAME} is missing" if found is None else entry.mismatch(found)
    if problem:
        return Finding(label, Verdict.FAILED, f"release {release_id} ({location.where}): {problem}")
    where = f"{location.where} {CHECKPOINT_NAME}"
    document = _json(location, CHECKPOINT_NAME)
    try:
        if not isinstance(document, dict):
            raise ValueError(f"{where} is not a JSON object")
        checkpoint = SignedCheckpoint.from_json(document.get("checkpoint"), where)
    except ValueError as exc:
        return Finding(label, Verdict.FAILED, str(exc))
    return PreviousCheckpoint(release_id, checkpoint), where


def _consistency_source(proofs: object) -> str | None:
    """The release this one proves consistency from, if it names a well-formed one (the
    name becomes a path or URL: nothing else is followed)."""
    if not isinstance(proofs, dict) or not isinstance(proofs.get("consistency"), dict):
        return None
    release = proofs["consistency"].get("from_release")
    return release if isinstance(release, str) and RELEASE_ID_PATTERN.match(release) else None


def verify_public_release(
    location: ReleaseLocation,
    keys: Sequence[Ed25519Key] = (),
    previous: ReleaseLocation | None = None,
) -> PublicReleaseReport:
    """Check a release from its public files; see the module docstring.

    Raises ReleaseUnreadableError when `location` holds no readable release, or no
    public log (a release older than it), or `previous` cannot be read."""
    manifest = _manifest(location)
    release_id = str(manifest["release_id"])
    findings = _file_findings(location, manifest)
    ledger = manifest.get("ledger")
    if not isinstance(ledger, dict) or ledger.get("checkpoint") is None:
        raise ReleaseUnreadableError(
            f"{location.where}: release {release_id} carries no signed checkpoint of the audit "
            "ledger (published before the public log existed): nothing to verify but its files"
        )
    checkpoint_document = _json(location, CHECKPOINT_NAME)
    proofs_document = _json(location, PROOFS_NAME)
    carried = not keys
    if carried:
        try:
            carried_checkpoint = SignedCheckpoint.from_json(ledger["checkpoint"], MANIFEST_NAME)
        except ValueError as exc:
            return PublicReleaseReport(
                location.where,
                release_id,
                (*findings, Finding("checkpoint", Verdict.FAILED, str(exc))),
            )
        key = carried_checkpoint.carried_key()
        keys = [] if key is None else [key]
        if key is not None:
            findings.append(
                Finding(
                    "public key",
                    Verdict.NOTE,
                    f"the key the release itself carries (sha256 {fingerprint(key)}): weaker, "
                    "since whoever can rewrite the release can replace it; compare this "
                    "fingerprint with the one the platform publishes, or give --public-key",
                )
            )
    named = _consistency_source(proofs_document)
    read = None
    if previous is not None:
        read = _previous_release(previous, named)
        if read is None:
            raise ReleaseUnreadableError(f"{previous.where}: no readable release there")
    elif named is not None:
        read = _previous_release(location.sibling(named), named)
    independent = None
    if isinstance(read, Finding):
        findings.append(read)
    elif read is not None:
        independent = read
    findings += check_release_log(
        manifest,
        checkpoint_document,
        proofs_document,
        keys,
        carried_keys=carried,
        previous=independent,
    )
    return PublicReleaseReport(location.where, release_id, tuple(findings))
