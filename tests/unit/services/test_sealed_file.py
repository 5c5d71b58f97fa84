"""Sealed files: what was written comes back whole, and any change, cut or other key is refused."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from include.services.sealed_file import (
    CHUNK_BYTES,
    MAGIC,
    SealedFileError,
    generate_key,
    open_sealed,
    read_header,
    write_sealed,
)

# Three full chunks and a bit: the chunk boundaries are exercised.
PAYLOAD = os.urandom(3 * CHUNK_BYTES + 12345)


def seal(path: Path, key: str, payload: bytes = PAYLOAD) -> None:
    def produce(out: IO[bytes]) -> None:
        for start in range(0, len(payload), 100_000):  # uneven writes, as pickle makes them
            out.write(payload[start : start + 100_000])

    assert write_sealed(path, key, {"saved_at": "2026-12-03T10:00:00+00:00"}, produce) == len(
        payload
    )


def unseal(path: Path, key: str) -> bytes:
    with open_sealed(path, key) as (_header, stream):
        return stream.read()


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[Path, str]:
    path, key = tmp_path / "state", generate_key()
    seal(path, key)
    return path, key


def test_round_trip_and_plaintext_header(sealed: tuple[Path, str]) -> None:
    path, key = sealed
    assert unseal(path, key) == PAYLOAD
    assert read_header(path)["saved_at"] == "2026-12-03T10:00:00+00:00"
    assert path.stat().st_mode & 0o077 == 0
    assert PAYLOAD[:64] not in path.read_bytes()
    assert list(path.parent.iterdir()) == [path], "no temporary file left behind"


def test_empty_payload_round_trips(tmp_path: Path) -> None:
    key = generate_key()
    seal(tmp_path / "empty", key, b"")
    assert unseal(tmp_path / "empty", key) == b""


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda data: data[:-1], "ends inside chunk"),
        (lambda data: data[: len(data) - (CHUNK_BYTES // 2)], "ends inside chunk"),
        (lambda data: data + b"\x00" * 8, "data follows the end"),
        (lambda data: data[:200] + bytes([data[200] ^ 1]) + data[201:], "fails authentication"),
        (lambda data: data.replace(b"2026-12-03T10", b"2026-12-04T10", 1), "fails authentication"),
    ],
    ids=["last byte cut", "last chunk cut", "bytes appended", "byte flipped", "header edited"],
)
def test_any_damage_is_refused(
    sealed: tuple[Path, str], damage: Callable[[bytes], bytes], reason: str
) -> None:
    path, key = sealed
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SealedFileError, match=reason):
        unseal(path, key)


def test_a_dropped_whole_chunk_is_refused(sealed: tuple[Path, str]) -> None:
    path, key = sealed
    data = path.read_bytes()
    header_end = len(MAGIC) + 4 + int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    chunk = 4 + CHUNK_BYTES + 16
    # Remove the second chunk: the third then sits at the wrong position.
    path.write_bytes(data[: header_end + chunk] + data[header_end + 2 * chunk :])
    with pytest.raises(SealedFileError, match="chunk 1 fails authentication"):
        unseal(path, key)


def test_another_key_is_refused(sealed: tuple[Path, str]) -> None:
    path, _key = sealed
    with pytest.raises(SealedFileError, match="another key"):
        unseal(path, generate_key())
    with pytest.raises(SealedFileError, match="not 32 bytes"):
        unseal(path, "not-a-key")


def test_a_failed_save_keeps_the_previous_file(sealed: tuple[Path, str]) -> None:
    path, key = sealed

    def fail_midway(out: IO[bytes]) -> None:
        out.write(b"x" * (2 * CHUNK_BYTES))
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_sealed(path, key, {}, fail_midway)
    assert unseal(path, key) == PAYLOAD
    assert list(path.parent.iterdir()) == [path]
