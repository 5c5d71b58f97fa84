"""SHA-256 checksums of a step's inputs and outputs, for its ledger entry.

Streams in chunks, so a multi-gigabyte object costs one chunk of memory. Works
on anything with `read(n)`: an open file, a BytesIO, a boto3 `get_object` body.
A `Checksum` is a dataclass, so it goes straight into a payload:
`{"outputs": {"s3://civic-work/…/part-0.parquet": checksum}}`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK_SIZE = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Checksum:
    sha256: str
    size: int


def checksum_stream(stream: Readable, chunk_size: int = CHUNK_SIZE) -> Checksum:
    """SHA-256 and byte count of everything left in `stream`."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
        size += len(chunk)
    return Checksum(digest.hexdigest(), size)


def checksum_file(path: Path) -> Checksum:
    with path.open("rb") as stream:
        return checksum_stream(stream)
