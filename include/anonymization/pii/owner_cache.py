"""Files of compiled regular expressions kept between processes, trusted only if they are ours.

A scrub process compiles the same regular expressions as the previous one; the
compiled form is kept in the virtualenv (`cache_dir`) by `french_token_match`
and `pattern_cache`. What such a file holds decides what gets redacted, so it
is read only when nobody else could have written it, as ssh treats its keys: a
regular file (a link is not followed), owned by this user, readable and
writable by its owner only, with the SHA-256 of its content in front of it (a
torn or damaged write reads as absent). Whoever can write it could as well edit
spaCy or Presidio in the same virtualenv. Files are written whole to a
temporary file and renamed, so that concurrent processes only ever read a
complete one.

Why the virtualenv (`<venv>/var/cache/civic/`): what is cached is a product of
that virtualenv's interpreter and libraries, so it is made, shared by every
process (Airflow tasks, `civic` commands, tests whatever their
`CIVIC_LOCAL_DIR`) and deleted together with them; the project's `.local/`
holds service state and secrets and is often a temporary folder. Outside a
virtualenv there is no cache.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from pathlib import Path

_DIGEST_SIZE = hashlib.sha256().digest_size


class UnusableCacheError(ValueError):
    """The cache file is absent, not ours, damaged, or made for another interpreter."""


def cache_dir() -> Path | None:
    """`<venv>/var/cache/civic`, or None outside a virtualenv."""
    if sys.prefix == sys.base_prefix:
        return None
    return Path(sys.prefix) / "var" / "cache" / "civic"


def write_owned(path: Path, payload: bytes) -> None:
    """Write `payload` (after its SHA-256) to `path` atomically, for this user's eyes only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(hashlib.sha256(payload).digest())
            out.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_owned(path: Path) -> bytes:
    """The payload written by `write_owned`, once every check of the module doc passed."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise UnusableCacheError(f"cannot open {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise UnusableCacheError(f"{path} is not a regular file")
        if status.st_uid != os.geteuid():
            raise UnusableCacheError(f"{path} belongs to uid {status.st_uid}, not to this user")
        if status.st_mode & 0o077:
            raise UnusableCacheError(
                f"{path} is open to other users (mode {stat.filemode(status.st_mode)}); "
                "it must be readable and writable by its owner only"
            )
        content = file.read()
    digest, payload = content[:_DIGEST_SIZE], content[_DIGEST_SIZE:]
    if hashlib.sha256(payload).digest() != digest:
        raise UnusableCacheError(f"{path} is damaged (its SHA-256 does not match its content)")
    return payload


def text_digest(text: str) -> str:
    """The SHA-256 of a pattern's text, stored beside it and checked on reading."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
