"""Mirror a release into the local exports folder: `exports/<source>/<release id>/` and
`exports/<source>/latest`.

A release folder appears all at once: it is copied into a hidden
`.incoming-<release id>` folder beside it, verified against its manifest, then
renamed into place (a rename within one file system is atomic). An existing
release folder is never overwritten: with the same manifest the mirror is a
no-op, with another it is a `ReleaseConflictError`.

`latest` is a relative symbolic link to the release folder, switched by
creating a new link under a temporary name and `os.replace`-ing it over the old
one. Why a link rather than a copied folder: rename(2) replaces a link
atomically, so a reader always sees either the old or the new release, whereas
a folder cannot be renamed over a non-empty folder and swapping two folders
leaves a moment with no `latest` at all. The link is relative, so the exports
folder can be moved or served as it is. Like the S3 pointer, it only moves
forward (to a release id that sorts after the current one).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from include.publish.errors import ReleaseConflictError
from include.publish.release_files import ReleaseFiles, load_release
from include.publish.run import check_release_id

LATEST_NAME = "latest"


@dataclass(frozen=True)
class MirroredRelease:
    directory: Path
    copied: bool
    latest: str
    latest_switched: bool


def mirrored_latest(exports_dir: Path, source: str) -> str | None:
    """The release id `exports/<source>/latest` points to, or None if there is none."""
    link = exports_dir / source / LATEST_NAME
    if not link.is_symlink():
        return None
    return check_release_id(os.readlink(link))


def _copy_release(files: ReleaseFiles, target: Path) -> None:
    incoming = target.parent / f".incoming-{files.release_id}"
    if incoming.exists():
        shutil.rmtree(incoming)  # left by an interrupted mirror
    incoming.mkdir(parents=True)
    for entry in files.upload_order:
        shutil.copyfile(files.path(entry.path), incoming / entry.path)
    copied = load_release(incoming)
    if copied.manifest_sha256 != files.manifest_sha256:
        raise ReleaseConflictError(
            f"{incoming}: the copied manifest differs from the built one; the staging folder "
            "changed during the copy"
        )
    os.rename(incoming, target)


def _switch_latest(source_dir: Path, release_id: str) -> tuple[str, bool]:
    link = source_dir / LATEST_NAME
    if link.exists() and not link.is_symlink():
        raise ReleaseConflictError(
            f"{link} is a real folder, not the link the mirror maintains; move it away"
        )
    current = os.readlink(link) if link.is_symlink() else None
    if current is not None and current >= release_id:
        return current, False
    temporary = source_dir / f".{LATEST_NAME}-{release_id}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(release_id, target_is_directory=True)
    os.replace(temporary, link)
    return release_id, True


def mirror_release(files: ReleaseFiles, exports_dir: Path) -> MirroredRelease:
    """Copy a built (and published) release into the exports folder and switch `latest`."""
    source_dir = exports_dir / files.source
    target = source_dir / files.release_id
    if target.exists():
        existing = load_release(target)
        if existing.manifest_sha256 != files.manifest_sha256:
            raise ReleaseConflictError(
                f"{target} already holds release {files.release_id} with other content; a "
                "mirrored release is never overwritten. Find out why the same run produced "
                "different data"
            )
        copied = False
    else:
        _copy_release(files, target)
        copied = True
    latest, switched = _switch_latest(source_dir, files.release_id)
    return MirroredRelease(target, copied, latest, switched)
