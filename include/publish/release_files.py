"""A release as a folder of files, and the check that a folder matches its manifest.

`build_release` writes a release into a staging folder and returns a
`ReleaseFiles`; `publish_release` uploads it and `mirror_release` copies it to
the exports folder. `load_release` re-reads a folder (a staging folder handed
from one task to another, or a mirrored release) and refuses it unless every
file matches the manifest's size and SHA-256 and no other file is present.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from include.audit.checksums import checksum_file
from include.publish.errors import ReleaseVerificationError
from include.publish.manifest import MANIFEST_NAME, ManifestEntry, manifest_entries, parse_manifest
from include.publish.run import check_release_id

REBUILD_HINT = "rebuild the release with build_release and copy it again"

MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")


@dataclass(frozen=True)
class ReleaseFiles:
    """A complete release in a local folder: its content files, then its manifest."""

    source: str
    release_id: str
    directory: Path
    files: tuple[ManifestEntry, ...]
    manifest_sha256: str
    manifest_bytes: int

    @property
    def manifest(self) -> ManifestEntry:
        return ManifestEntry(MANIFEST_NAME, self.manifest_bytes, self.manifest_sha256)

    @property
    def upload_order(self) -> tuple[ManifestEntry, ...]:
        """Content files first, the manifest (the commit marker) last."""
        return (*self.files, self.manifest)

    def path(self, name: str) -> Path:
        return self.directory / name


def load_release(directory: Path) -> ReleaseFiles:
    """The release in `directory`, verified file by file against its manifest."""
    manifest_path = directory / MANIFEST_NAME
    try:
        raw = manifest_path.read_bytes()
    except OSError as exc:
        raise ReleaseVerificationError(
            str(directory), [f"no readable manifest ({exc})"], REBUILD_HINT
        ) from None
    try:
        manifest = parse_manifest(raw, str(manifest_path))
    except ValueError as exc:
        raise ReleaseVerificationError(str(directory), [str(exc)], REBUILD_HINT) from None
    entries = manifest_entries(manifest, str(manifest_path))
    problems = []
    for entry in entries:
        path = directory / entry.path
        if not path.is_file():
            problems.append(f"{entry.path} is missing")
            continue
        problem = entry.mismatch(checksum_file(path))
        if problem:
            problems.append(problem)
    expected = {entry.path for entry in entries} | {MANIFEST_NAME}
    problems += [
        f"{path.name} is not in the manifest"
        for path in sorted(directory.iterdir())
        if path.name not in expected
    ]
    if problems:
        raise ReleaseVerificationError(str(directory), problems, REBUILD_HINT)
    return ReleaseFiles(
        source=str(manifest["source"]),
        release_id=check_release_id(str(manifest["release_id"])),
        directory=directory,
        files=tuple(entries),
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        manifest_bytes=len(raw),
    )
