"""Save moto's S3 state to a sealed snapshot file and load it back, byte for byte.

moto keeps buckets and objects in Python objects (`moto.s3.models`), so the
state is saved by pickling every account's S3 backend: bucket settings
(default encryption, public-access block, policies, tags), every object version
with its ETag, LastModified, server-side-encryption fields and metadata, and
unfinished multipart uploads all come back as they were.

Object bodies are not pickled in place (moto's own `FakeKey.__getstate__` would
read each one into memory, and the pickler's memo would keep them all until the
end: a second full copy of the zone). Each body is a reference in the pickle,
streamed after it from its buffer in 1 MiB pieces, and read back straight into
a fresh buffer. Memory during a save or a load stays at one piece plus the
object graph without bodies.

The caller must keep every request out while a save runs (the server's gate
does): the pickle and the bodies must describe one moment.

Unpickling runs code named in the file; it only ever sees bytes that
authenticated under the platform's key (`sealed_file`), i.e. bytes this
platform wrote.
"""

from __future__ import annotations

import copyreg
import pickle
import struct
import tempfile
import threading
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

from moto.s3.models import FakeBucket, FakeKey, S3Backend, s3_backends
from moto.settings import get_s3_default_key_buffer_size

from include.services.s3server import SnapshotInfo
from include.services.sealed_file import open_sealed, write_sealed

PIECE_BYTES = 1024 * 1024
_SIZE = struct.Struct(">Q")
_BODY = "body"


def _restore_key_state(key: FakeKey, state: dict[str, Any]) -> None:
    """Set a loaded key's attributes; its body buffer is filled once the pickle is read."""
    key.__dict__.update(state)
    key.lock = threading.Lock()


class _BackendPickler(pickle.Pickler):
    """Pickles the backends with every object body left out, as a numbered reference."""

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.bodies: list[Any] = []

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, FakeKey):
            state = {name: value for name, value in obj.__dict__.items() if name != "lock"}
            return copyreg.__newobj__, (type(obj),), state, None, None, _restore_key_state
        return NotImplemented

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, tempfile.SpooledTemporaryFile):
            self.bodies.append(obj)
            return (_BODY, len(self.bodies) - 1)
        return None


class _BackendUnpickler(pickle.Unpickler):
    """Gives each body reference an empty buffer, filled from the stream afterwards."""

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)
        self.bodies: list[Any] = []

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and pid == (_BODY, len(self.bodies))):
            raise pickle.UnpicklingError(f"unexpected body reference {pid!r}")
        # Owned by the key from now on, closed by moto when the key is deleted (as it does).
        buffer = tempfile.SpooledTemporaryFile(max_size=get_s3_default_key_buffer_size())  # noqa: SIM115
        self.bodies.append(buffer)
        return buffer


def _live_backends() -> dict[tuple[str, str], S3Backend]:
    return {
        (account, partition): backend
        for account, per_account in list(s3_backends.items())
        for partition, backend in list(per_account.items())
    }


def _buckets(backend: S3Backend) -> list[FakeBucket]:
    return [*backend.buckets.values(), *backend.table_buckets.values()]


def _counts(backends: dict[tuple[str, str], S3Backend]) -> dict[str, int]:
    buckets = objects = body_bytes = 0
    for backend in backends.values():
        for bucket in _buckets(backend):
            buckets += 1
            objects += len(bucket.keys)
            for _name, versions in bucket.keys.iterlists():
                body_bytes += sum(v.size for v in versions if isinstance(v, FakeKey))
    return {"buckets": buckets, "objects": objects, "body_bytes": body_bytes}


def _write_body(out: IO[bytes], buffer: Any) -> None:
    try:
        size = buffer.seek(0, 2)
        buffer.seek(0)
    except ValueError:  # closed: the key was deleted, moto keeps it only as a reference
        out.write(_SIZE.pack(0))
        return
    out.write(_SIZE.pack(size))
    while piece := buffer.read(PIECE_BYTES):
        out.write(piece)


def _read_size(source: IO[bytes], path: Path) -> int:
    raw = source.read(_SIZE.size)
    if len(raw) != _SIZE.size:
        raise pickle.UnpicklingError(f"{path}: the object bodies end early")
    return int(_SIZE.unpack(raw)[0])


def _read_body(source: IO[bytes], buffer: Any, path: Path) -> None:
    size = _read_size(source, path)
    while size:
        piece = source.read(min(size, PIECE_BYTES))
        if not piece:
            raise pickle.UnpicklingError(f"{path}: an object body ends early")
        buffer.write(piece)
        size -= len(piece)


def save_backends(path: Path, key: str) -> SnapshotInfo:
    """Seal every S3 backend of this process to `path` (atomically replaced)."""
    backends = _live_backends()
    saved_at = datetime.now(UTC)
    counts = _counts(backends)

    def produce(out: IO[bytes]) -> None:
        pickler = _BackendPickler(out)
        pickler.dump(backends)
        out.write(_SIZE.pack(len(pickler.bodies)))
        for buffer in pickler.bodies:
            _write_body(out, buffer)

    metadata = {"saved_at": saved_at.isoformat(), "moto": version("moto"), **counts}
    write_sealed(path, key, metadata, produce)
    return SnapshotInfo.from_header(metadata, path.stat().st_size)


def restore_backends(path: Path, key: str) -> SnapshotInfo:
    """Load `path` into this process's (empty) S3 backends.

    Raises SealedFileError (missing, damaged, other key) or another exception from
    pickle or moto (e.g. a snapshot from an incompatible moto version) with nothing
    installed: the backends are only replaced once the whole file has loaded.
    """
    with open_sealed(path, key) as (header, source):
        unpickler = _BackendUnpickler(source)
        backends: dict[tuple[str, str], S3Backend] = unpickler.load()
        count = _read_size(source, path)
        if count != len(unpickler.bodies):
            raise pickle.UnpicklingError(
                f"{path}: {count} object bodies announced for {len(unpickler.bodies)} objects"
            )
        for buffer in unpickler.bodies:
            _read_body(source, buffer, path)
    for (account, partition), backend in backends.items():
        # AccountSpecificBackend is a dict that creates a backend on first lookup; put the
        # loaded one in its place, and make the buckets findable by name as creation does.
        dict.__setitem__(s3_backends[account], partition, backend)
        for bucket in _buckets(backend):
            s3_backends.bucket_accounts[bucket.name] = (partition, account)
    return SnapshotInfo.from_header(header, path.stat().st_size)
