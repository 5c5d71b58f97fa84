"""Streamed checksums equal one-shot SHA-256, whatever the chunking."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pytest

from include.audit.canonical import canonical_json
from include.audit.checksums import Checksum, checksum_file, checksum_stream


@pytest.mark.parametrize(
    ("size", "chunk_size"),
    [(0, 1), (1, 1), (4097, 1), (4095, 4096), (4096, 4096), (4097, 4096), (100_000, 1 << 20)],
)
def test_stream_checksum_matches_hashlib(size: int, chunk_size: int) -> None:
    data = random.Random(size).randbytes(size)
    assert checksum_stream(io.BytesIO(data), chunk_size) == Checksum(
        hashlib.sha256(data).hexdigest(), size
    )


def test_stream_checksum_reads_from_the_current_position() -> None:
    stream = io.BytesIO(b"header;body")
    stream.read(7)
    assert checksum_stream(stream) == Checksum(hashlib.sha256(b"body").hexdigest(), 4)


def test_file_checksum_and_payload_form(tmp_path: Path) -> None:
    path = tmp_path / "part-00000.csv"
    path.write_bytes("commune;texte\nLyon;Trottoir abîmé\n".encode())
    checksum = checksum_file(path)
    assert checksum == Checksum(hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
    assert canonical_json({"inputs": {"s3://civic-raw/x.csv": checksum}}) == (
        f'{{"inputs":{{"s3://civic-raw/x.csv":{{"sha256":"{checksum.sha256}",'
        f'"size":{checksum.size}}}}}}}'
    )
