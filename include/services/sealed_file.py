"""Files encrypted and authenticated as a stream, replaced atomically: snapshots of personal data.

The embedded S3 server's snapshot holds the raw zone as received, so it must not
be readable from a copy of `.local/`. It can also be large (a whole zone), so it
is written and read as a stream of chunks, never held whole in memory twice:

- a per-file key is derived with HKDF-SHA256 from the platform's key and a
  random salt, so that nonces never repeat across files under one key;
- each chunk is sealed with AES-256-GCM, its nonce the chunk's number plus a
  "last chunk" flag, the file's plaintext header as associated data: a
  reordered, dropped, truncated or edited chunk, a changed header or a wrong
  key fails authentication before any of its bytes are handed on;
- the header (format, salt, caller's metadata such as when it was saved) is
  plaintext, so `civic services status` can show it without the key.

`write_sealed` writes a temporary file beside the target, fsyncs it and renames
it over the target: a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import os
import secrets
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"civic-sealed-v1\n"
CHUNK_BYTES = 1024 * 1024
_LENGTH = struct.Struct(">I")
_TAG_BYTES = 16
_SALT_BYTES = 16
_MAX_HEADER_BYTES = 64 * 1024


class SealedFileError(ValueError):
    """A sealed file cannot be read: missing, not one, damaged, or sealed with another key."""


def generate_key() -> str:
    """A new 256-bit key, base64url (how it is kept in the platform's private state)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _key_bytes(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SealedFileError("the snapshot key is not 32 bytes of base64url")
    return raw


def _file_cipher(key: str, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"civic sealed file"
    ).derive(_key_bytes(key))
    return AESGCM(derived)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class _SealingWriter(io.RawIOBase):
    """Buffers writes into chunks and seals each full one; `finish` seals the last."""

    def __init__(self, out: IO[bytes], cipher: AESGCM, aad: bytes) -> None:
        self._out, self._cipher, self._aad = out, cipher, aad
        self._buffer = bytearray()
        self._index = 0
        self.plaintext_bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self.plaintext_bytes += len(view)
        while len(self._buffer) > CHUNK_BYTES:
            self._seal(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(view)

    def finish(self) -> None:
        # Always one last chunk (empty if need be): its flag is what proves the end is there.
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        sealed = self._cipher.encrypt(_nonce(self._index, last), chunk, self._aad)
        self._out.write(_LENGTH.pack(len(sealed)))
        self._out.write(sealed)
        self._index += 1


class _OpeningReader(io.RawIOBase):
    """Reads chunk after chunk, handing on only bytes whose chunk authenticated."""

    def __init__(self, source: BinaryIO, cipher: AESGCM, aad: bytes, path: Path) -> None:
        self._source, self._cipher, self._aad, self._path = source, cipher, aad, path
        self._plain = b""
        self._offset = 0
        self._index = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while self._offset >= len(self._plain):
            if self._ended:
                return 0
            self._next_chunk()
        count = min(len(target), len(self._plain) - self._offset)
        target[:count] = self._plain[self._offset : self._offset + count]
        self._offset += count
        return count

    def _next_chunk(self) -> None:
        length = _exactly(self._source, _LENGTH.size, self._path, self._index)
        (size,) = _LENGTH.unpack(length)
        if not _TAG_BYTES <= size <= CHUNK_BYTES + _TAG_BYTES:
            raise SealedFileError(f"{self._path}: chunk {self._index} has an impossible length")
        sealed = _exactly(self._source, size, self._path, self._index)
        for last in (False, True):
            try:
                self._plain = self._cipher.decrypt(_nonce(self._index, last), sealed, self._aad)
            except InvalidTag:
                continue
            self._ended = last
            break
        else:
            raise SealedFileError(
                f"{self._path}: chunk {self._index} fails authentication "
                "(sealed with another key, or the file was altered)"
            )
        self._offset = 0
        self._index += 1

    def at_end(self) -> bool:
        """True once the last chunk was read and nothing follows it in the file."""
        return self._ended and self._offset >= len(self._plain) and not self._source.read(1)


def _exactly(source: BinaryIO, size: int, path: Path, index: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise SealedFileError(
            f"{path}: ends inside chunk {index} (truncated: a save was cut short or the file "
            "was copied partly)"
        )
    return data


def write_sealed(
    path: Path, key: str, metadata: dict[str, Any], produce: Callable[[IO[bytes]], None]
) -> int:
    """Seal what `produce` writes to the file-like object it is given; return its byte count.

    The file appears at `path` only once complete and on disk (mode 0600).
    """
    salt = secrets.token_bytes(_SALT_BYTES)
    header = json.dumps(
        {"salt": base64.b64encode(salt).decode(), "chunk": CHUNK_BYTES, **metadata},
        sort_keys=True,
    ).encode()
    aad = MAGIC + header
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + _LENGTH.pack(len(header)) + header)
            writer = _SealingWriter(out, _file_cipher(key, salt), aad)
            produce(writer)
            writer.finish()
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return writer.plaintext_bytes


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_header(source: BinaryIO, path: Path) -> bytes:
    if source.read(len(MAGIC)) != MAGIC:
        raise SealedFileError(f"{path} is not a sealed snapshot (wrong format marker)")
    (size,) = _LENGTH.unpack(_exactly(source, _LENGTH.size, path, 0))
    if size > _MAX_HEADER_BYTES:
        raise SealedFileError(f"{path}: header of {size} bytes is not plausible")
    return _exactly(source, size, path, 0)


def read_header(path: Path) -> dict[str, Any]:
    """The file's plaintext metadata (no key needed, nothing checked but the format)."""
    try:
        with path.open("rb") as source:
            return dict(json.loads(_read_header(source, path)))
    except FileNotFoundError:
        raise SealedFileError(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, SealedFileError):
            raise
        raise SealedFileError(f"{path}: unreadable header ({exc})") from None


@contextlib.contextmanager
def open_sealed(path: Path, key: str) -> Iterator[tuple[dict[str, Any], IO[bytes]]]:
    """Yield the header and a readable stream of the authenticated plaintext.

    Raises SealedFileError if the file ends early or has bytes after its last chunk,
    once the caller has read the stream to its end (as a complete restore does).
    """
    try:
        source = path.open("rb")
    except FileNotFoundError:
        raise SealedFileError(f"{path} does not exist") from None
    with source:
        header_bytes = _read_header(source, path)
        try:
            header = dict(json.loads(header_bytes))
            salt = base64.b64decode(header["salt"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SealedFileError(f"{path}: unreadable header ({exc})") from None
        reader = _OpeningReader(source, _file_cipher(key, salt), MAGIC + header_bytes, path)
        stream = io.BufferedReader(reader, buffer_size=CHUNK_BYTES)
        yield header, stream
        if stream.read(1) or not reader.at_end():
            raise SealedFileError(f"{path}: data follows the end of the snapshot")
