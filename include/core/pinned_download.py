"""One file out of a registry package, downloaded at a pinned version and hash-checked.

WHY: reference data that the project may use but must not ship (the official list
of communes, Presidio's evaluation set) is published inside packages of the
registries these machines reach (npm, PyPI). Fetching the package at a pinned
version and refusing any download that does not hash to the registry's own digest
gives every clone the same bytes, without Node.js or pip, and without the data in
the repository. The file is written atomically: a half-written one is never read.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from include.core.settings import PROJECT_DIR

# Where such files are kept: outside the repository's tracked files (.gitignore'd).
DOWNLOADS_DIR = PROJECT_DIR / ".local" / "reference"


def check_integrity(payload: bytes, integrity: str, url: str, error: type[Exception]) -> None:
    """Raise `error` unless `payload` hashes to `integrity`, a Subresource Integrity string
    ("sha512-<base64>", as npm's `dist.integrity`; PyPI's hex sha256 converts to one)."""
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, payload).digest()).decode()
    if digest != expected:
        raise error(
            f"{url} does not hash to the pinned {algorithm} ({digest[:16]}…, expected "
            f"{expected[:16]}…): refusing it; check the network path to its registry"
        )


def fetch_member(
    url: str,
    integrity: str,
    member: str,
    target: Path,
    error: type[Exception],
    check: Callable[[bytes], object],
) -> Path:
    """Download the gzipped tarball at `url`, check it, keep its `member` at `target`
    (nothing when `target` exists). `check` must accept the member's bytes (it parses
    them, say): a member it rejects is never kept."""
    (kept,) = fetch_members(url, integrity, [Member(member, target, check)], error)
    return kept


@dataclass(frozen=True)
class Member:
    """A file of a tarball, where to keep it, and what must accept its bytes."""

    name: str
    target: Path
    check: Callable[[bytes], object]


def fetch_members(
    url: str, integrity: str, members: Sequence[Member], error: type[Exception]
) -> list[Path]:
    """`fetch_member` for several members of one tarball, downloaded once (not at all when
    every target exists)."""
    missing = [member for member in members if not member.target.exists()]
    if missing:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (https)
            payload = response.read()
        check_integrity(payload, integrity, url, error)
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as archive:
            contents = [_read_member(archive, member.name, url, error) for member in missing]
        for member, content in zip(missing, contents, strict=True):
            member.check(content)
        for member, content in zip(missing, contents, strict=True):
            _write_atomically(member.target, content)
    return [member.target for member in members]


def _read_member(archive: tarfile.TarFile, name: str, url: str, error: type[Exception]) -> bytes:
    extracted = archive.extractfile(name)
    if extracted is None:
        raise error(f"{url} has no {name}")
    return extracted.read()


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as scratch:
        scratch.write(content)
    os.replace(scratch.name, target)


def read_json(path: Path, error: type[Exception], what: str, command: str, source: str) -> Any:
    """The JSON document at `path`, or `error` saying that `what` is missing and that
    `command` fetches it (from `source`)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(
            f"{what} is missing ({path}): run `{command}` (it downloads {source})"
        ) from None
