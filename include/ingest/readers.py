"""Stream records out of raw objects: JSON Lines or CSV, gzipped or not.

WHY: a raw object may hold millions of rows, so it is read as a byte stream, line
by line, and never held whole in memory. Bytes are decoded per line, not per
file: one row pasted from a Windows-1252 tool must be quarantined as
`invalid_utf8` without poisoning the rest of the object, and its bytes are kept
exactly as they were (no guessed encoding) for the quarantine.

Each record carries where it starts (1-based physical line), its raw text (or raw
bytes when they are not UTF-8) and either its parsed fields or a row-level reason.
CSV follows RFC 4180 (header line, double-quote quoting, fields may span lines);
its records are parsed strictly, so garbage quoting is quarantined, not guessed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any, Protocol

from include.ingest import reasons
from include.ingest.errors import ObjectRejectedError

# The csv module refuses fields over 128 kB by default; real pastes reach 200 kB.
# Fields beyond this limit quarantine their record as `invalid_csv`.
CSV_FIELD_LIMIT = 64 * 1024 * 1024
READ_BUFFER = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


_EXTENSIONS = {"jsonl": Format.JSONL, "ndjson": Format.JSONL, "csv": Format.CSV}


@dataclass(frozen=True)
class ObjectFormat:
    format: Format
    gzip: bool


def detect_format(key: str) -> ObjectFormat | None:
    """From the object name: `.jsonl`, `.ndjson` or `.csv`, optionally `.gz`; else None."""
    name = key.rsplit("/", 1)[-1].lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[: -len(".gz")]
    _, dot, extension = name.rpartition(".")
    found = _EXTENSIONS.get(extension) if dot else None
    return ObjectFormat(found, compressed) if found else None


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: `fields` when it parsed, else the row-level `reason`."""

    line: int
    raw: str | bytes
    fields: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _RawAdapter(io.RawIOBase):
    """Any object with `read(n)` (a botocore StreamingBody) as a raw stream to buffer."""

    def __init__(self, source: Readable) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_stream(body: Readable, compressed: bool) -> IO[bytes]:
    """A buffered, line-iterable byte stream over `body`, gunzipped on the fly if asked."""
    buffered = io.BufferedReader(_RawAdapter(body), buffer_size=READ_BUFFER)
    return gzip.GzipFile(fileobj=buffered, mode="rb") if compressed else buffered


def _without_newline(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\n") else line


def iter_jsonl(stream: IO[bytes]) -> Iterator[RawRecord]:
    """One record per non-blank line; a JSON value that is not an object is refused."""
    for number, line in enumerate(stream, 1):
        if number == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        body = _without_newline(line).removesuffix(b"\r")
        if not body or body.isspace():
            continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            yield RawRecord(number, body, reason=reasons.INVALID_UTF8)
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            yield RawRecord(number, text, reason=reasons.INVALID_JSON)
            continue
        if type(value) is not dict:
            yield RawRecord(number, text, reason=reasons.NOT_AN_OBJECT)
            continue
        yield RawRecord(number, text, value)


class _RecordLines:
    """Decoded lines fed to csv.reader, remembering those of the record being parsed.

    csv.reader pulls lines only until its record is complete (no look-ahead), so
    after each record `take()` returns exactly that record's text. Lines that are
    not UTF-8 are decoded with surrogateescape, which keeps their bytes recoverable,
    and mark the record as undecodable.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines = iter(stream)
        self.count = 0
        self._pending: list[str] = []
        self._undecodable = False

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        if self.count == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", errors="surrogateescape")
            self._undecodable = True
        self._pending.append(text)
        return text

    def take(self) -> str | bytes:
        """The record's text without its final line break; its bytes if not UTF-8."""
        text = "".join(self._pending)
        text = text[:-1] if text.endswith("\n") else text
        text = text.removesuffix("\r")
        undecodable = self._undecodable
        self._pending.clear()
        self._undecodable = False
        return text.encode("utf-8", errors="surrogateescape") if undecodable else text


def _read_header(reader: Any, lines: _RecordLines) -> list[str] | None:
    try:
        header = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise ObjectRejectedError(
            reasons.BAD_CSV_HEADER, f"the header does not parse: {exc}"
        ) from None
    if isinstance(lines.take(), bytes):
        raise ObjectRejectedError(reasons.BAD_CSV_HEADER, "the header is not UTF-8")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ObjectRejectedError(reasons.BAD_CSV_HEADER, f"columns named twice: {repeated}")
    return header


def iter_csv(stream: IO[bytes]) -> Iterator[RawRecord]:
    """Records of a CSV with a header line; raises ObjectRejectedError for an unusable header."""
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    lines = _RecordLines(stream)
    reader = csv.reader(lines, strict=True)
    header = _read_header(reader, lines)
    if header is None:
        return
    width = len(header)
    while True:
        start = lines.count + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield RawRecord(start, lines.take(), reason=reasons.INVALID_CSV)
            continue
        raw = lines.take()
        if not values:  # a blank line
            continue
        if isinstance(raw, bytes):
            yield RawRecord(start, raw, reason=reasons.INVALID_UTF8)
        elif len(values) != width:
            yield RawRecord(start, raw, reason=reasons.WRONG_COLUMN_COUNT)
        else:
            yield RawRecord(start, raw, dict(zip(header, values, strict=True)))


def iter_records(stream: IO[bytes], kind: Format) -> Iterator[RawRecord]:
    """Records of one object; a damaged gzip stream rejects the object where it breaks
    (the records before the damage have been yielded and stay valid)."""
    records = iter_jsonl(stream) if kind is Format.JSONL else iter_csv(stream)
    try:
        yield from records
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ObjectRejectedError(
            reasons.UNREADABLE_OBJECT, f"not a readable gzip stream: {exc}"
        ) from None
