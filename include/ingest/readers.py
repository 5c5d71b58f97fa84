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

Nothing an object holds can make the reader's memory grow with it (`ReadLimits`):
- the bytes of an object are counted as they are decompressed, and reading stops
  with `object_too_large` once the limit is reached: a gzip bomb is never expanded
  more than a few kilobytes past it;
- a line (a CSV record, whatever lines it spans) longer than the line limit is read
  to its end without being kept and comes out as one `line_too_long` record holding
  only its first `EXCERPT_BYTES`: one huge paste costs its own row, never the object;
- a `.gz` object that is not a whole gzip stream (empty, truncated, damaged) is
  `unreadable_object`.
Whether an object is usable as a whole is known only once it has been read to its
end, so `check_object` does that before any row is taken (see `run`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any, Protocol

from include.core.settings import Settings
from include.ingest import reasons
from include.ingest.errors import ObjectRejectedError

READ_BUFFER = 1024 * 1024
# What the quarantine keeps of a line over the limit: enough to find the record (its id
# and first fields come first) and see what it is, never the whole line.
EXCERPT_BYTES = 4096
_BOM = b"\xef\xbb\xbf"
_UTF8_MAX_CHAR = 4  # bytes


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


@dataclass(frozen=True)
class ReadLimits:
    """Decompressed bytes one object, and one line (or CSV record) of it, may hold.

    The defaults and why they are what they are: `include.core.settings.Settings`.
    """

    object_bytes: int
    line_bytes: int

    def __post_init__(self) -> None:
        if self.object_bytes < 1 or self.line_bytes < 1:
            raise ValueError(f"read limits must be >= 1 byte, got {self}")

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(settings.max_object_bytes, settings.max_line_bytes)


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: `fields` when it parsed, else the row-level `reason`.

    `size` is set when `raw` is only the first bytes of a record of `size` bytes (a
    line over the limit).
    """

    line: int
    raw: str | bytes
    fields: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    size: int | None = None


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _RawAdapter(io.RawIOBase):
    """Any object with `read(n)` (a botocore StreamingBody) as a raw stream to buffer."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self.size = 0  # bytes read from the source so far

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        self.size += len(data)
        return len(data)


class _BoundedStream(io.RawIOBase):
    """The object's bytes as decompressed, counted; reading past `limit` is refused.

    Every way the bytes can be unusable becomes an `ObjectRejectedError` here, where it
    is found: whoever reads (the check, the line reader) sees one kind of failure, and
    only after every byte before it (exactly `limit` bytes of an object too large, all
    that decompressed before the damage of a gzip), so the rows up to the failure are
    the same however the stream is buffered.
    """

    def __init__(self, stored: _RawAdapter, compressed: bool, limit: int) -> None:
        self._stored = stored
        self._read: Callable[[int], bytes] = stored.read
        if compressed:
            buffered = io.BufferedReader(stored, buffer_size=READ_BUFFER)
            # read1: what one step decompresses, so the bytes before a damage come out
            self._read = gzip.GzipFile(fileobj=buffered, mode="rb").read1
        self._compressed = compressed
        self._limit = limit
        self._over = False
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._over:
            raise self._too_large()
        try:
            data = self._read(min(len(buffer), self._limit - self.size + 1))
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise ObjectRejectedError(
                reasons.UNREADABLE_OBJECT,
                f"not a readable gzip stream after {self.size:,} decompressed bytes: {exc}",
            ) from None
        if not data and self._compressed and not self._stored.size:
            raise ObjectRejectedError(
                reasons.UNREADABLE_OBJECT,
                "the object is empty, which is not a gzip stream (even an empty file "
                "compresses to 20 bytes): upload it again or drop the .gz suffix",
            )
        if self.size + len(data) > self._limit:
            self._over = True
            data = data[: self._limit - self.size]
            if not data:
                raise self._too_large()
        buffer[: len(data)] = data
        self.size += len(data)
        return len(data)

    def _too_large(self) -> ObjectRejectedError:
        return ObjectRejectedError(
            reasons.OBJECT_TOO_LARGE,
            f"more than {self._limit:,} bytes once decompressed (the limit, "
            "CIVIC_MAX_OBJECT_BYTES); reading stopped there. Split the delivery into "
            "smaller objects, or raise the limit if the object is genuine",
        )


def open_stream(body: Readable, compressed: bool, limits: ReadLimits) -> io.BufferedReader:
    """A buffered, line-iterable byte stream over `body`, gunzipped on the fly if asked,
    that raises ObjectRejectedError once it has given `limits.object_bytes`, or when
    the gzip stream is unusable."""
    bounded = _BoundedStream(_RawAdapter(body), compressed, limits.object_bytes)
    return io.BufferedReader(bounded, buffer_size=READ_BUFFER)


def _stored_too_large(size: int, limits: ReadLimits) -> ObjectRejectedError | None:
    """The refusal of an uncompressed object of `size` stored bytes, if over the limit."""
    if size <= limits.object_bytes:
        return None
    return ObjectRejectedError(
        reasons.OBJECT_TOO_LARGE,
        f"{size:,} bytes, more than the limit of {limits.object_bytes:,} "
        "(CIVIC_MAX_OBJECT_BYTES). Split the delivery into smaller objects, or raise the "
        "limit if the object is genuine",
    )


def check_object(
    found: ObjectFormat,
    size: int,
    limits: ReadLimits,
    open_body: Callable[[], AbstractContextManager[Readable]],
) -> ObjectRejectedError | None:
    """Why the object cannot be ingested row by row, or None if it can.

    WHY before any row is taken: rows go to chunks (and their ids to the duplicate
    check) as they are read, so an object found unusable half-way would publish half
    of its rows. An uncompressed object's size is known from its listing. A gzip's
    decompressed size and integrity are known only at its end: it is read through
    once (from `open_body()`), keeping nothing, stopping at the limit. That costs a
    second GET and decompression of gzip objects, bounded by the limit, and never
    parses a row (decompression runs at hundreds of MB/s, parsing far slower).
    """
    if not found.gzip:
        return _stored_too_large(size, limits)
    buffer = bytearray(READ_BUFFER)
    try:
        with open_body() as body, open_stream(body, True, limits) as stream:
            while stream.readinto(buffer):
                pass
    except ObjectRejectedError as exc:
        return ObjectRejectedError(exc.reason, f"a gzip of {size:,} bytes: {exc.detail}")
    return None


@dataclass(frozen=True, slots=True)
class _Overlong:
    """A line longer than the limit, read to its end but not kept."""

    head: bytes  # its first bytes
    size: int  # its length in bytes, line break included
    quotes: int  # how many double quotes it holds (where a CSV record ends depends on it)


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes | _Overlong]:
    """The stream's lines with their line break; a line of more than `limit` bytes
    (line break excluded) comes as an `_Overlong`, read through without ever holding
    more than `limit` + 1 bytes of it."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        head, size, quotes = line[:EXCERPT_BYTES], len(line), line.count(b'"')
        while line and not line.endswith(b"\n"):
            line = stream.readline(READ_BUFFER)
            size += len(line)
            quotes += line.count(b'"')
        yield _Overlong(head, size, quotes)


def _excerpt(data: bytes) -> str | bytes:
    """The first EXCERPT_BYTES of `data`: as text if UTF-8 (a character cut in two at
    the end is left out), else as the bytes themselves."""
    data = data[:EXCERPT_BYTES]
    for cut in range(_UTF8_MAX_CHAR):
        try:
            return data[: len(data) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return data


def _too_long(line: int, head: bytes, size: int) -> RawRecord:
    return RawRecord(line, _excerpt(head), reason=reasons.LINE_TOO_LONG, size=size)


def _without_newline(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\n") else line


def iter_jsonl(stream: IO[bytes], max_line_bytes: int) -> Iterator[RawRecord]:
    """One record per non-blank line; a JSON value that is not an object is refused."""
    for number, line in enumerate(_lines(stream, max_line_bytes), 1):
        if isinstance(line, _Overlong):
            yield _too_long(number, line.head, line.size)
            continue
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


class _RecordTooLong(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """Raised through csv.reader, which then drops the record it was parsing."""

    def __init__(self, head: bytes, size: int) -> None:
        super().__init__(f"a record of {size:,} bytes")
        self.head = head
        self.size = size


def _measure(line: bytes | _Overlong) -> tuple[bytes, int, int]:
    """First bytes, length (line break included) and double quotes of a line."""
    if isinstance(line, _Overlong):
        return line.head, line.size, line.quotes
    return line, len(line), line.count(b'"')


class _RecordLines:
    """Decoded lines fed to csv.reader, remembering those of the record being parsed.

    csv.reader pulls lines only until its record is complete (no look-ahead), so
    after each record `take()` returns exactly that record's text. Lines that are
    not UTF-8 are decoded with surrogateescape, which keeps their bytes recoverable,
    and mark the record as undecodable.

    A record (all its lines) longer than `limit` bytes is never handed to csv.reader:
    its end is found by RFC 4180's rule (a line break ends the record once its double
    quotes pair up, as quotes only open, close or double inside quoted fields), its
    lines are read without being kept, and `_RecordTooLong` is raised through the
    reader. A file that puts bare quotes inside unquoted fields may have such a record
    end elsewhere than csv.reader would have ended it; those records are refused as
    `line_too_long` or `invalid_csv` all the same, never taken as valid.
    """

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._lines = _lines(stream, limit)
        self.limit = limit
        self.count = 0
        self._pending: list[str] = []
        self._size = 0  # bytes of the pending lines
        self._quotes = 0  # double quotes in the pending lines
        self._undecodable = False

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        if self.count == 1 and isinstance(line, bytes) and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if isinstance(line, _Overlong) or self._size + len(_without_newline(line)) > self.limit:
            raise self._skip_record(line)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", errors="surrogateescape")
            self._undecodable = True
        self._pending.append(text)
        self._size += len(line)
        self._quotes += line.count(b'"')
        return text

    def _skip_record(self, line: bytes | _Overlong) -> _RecordTooLong:
        """Read past the rest of the record `line` made too long; what is kept of it."""
        kept = "".join(self._pending).encode("utf-8", errors="surrogateescape")
        head = kept[:EXCERPT_BYTES] + _measure(line)[0][:EXCERPT_BYTES]
        size, quotes = self._size, self._quotes
        while True:
            _, line_size, line_quotes = _measure(line)
            size += line_size
            quotes += line_quotes
            following = next(self._lines, None) if quotes % 2 else None
            if following is None:
                break
            self.count += 1
            line = following
        self.take()
        return _RecordTooLong(head, size)

    def take(self) -> str | bytes:
        """The record's text without its final line break; its bytes if not UTF-8."""
        text = "".join(self._pending)
        text = text[:-1] if text.endswith("\n") else text
        text = text.removesuffix("\r")
        undecodable = self._undecodable
        self._pending.clear()
        self._size = self._quotes = 0
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
    except _RecordTooLong as long:
        raise ObjectRejectedError(
            reasons.BAD_CSV_HEADER,
            f"the header is {long.size:,} bytes long, over the line limit of {lines.limit:,}",
        ) from None
    if isinstance(lines.take(), bytes):
        raise ObjectRejectedError(reasons.BAD_CSV_HEADER, "the header is not UTF-8")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ObjectRejectedError(reasons.BAD_CSV_HEADER, f"columns named twice: {repeated}")
    return header


def iter_csv(stream: IO[bytes], max_line_bytes: int) -> Iterator[RawRecord]:
    """Records of a CSV with a header line; raises ObjectRejectedError for an unusable header."""
    # csv refuses fields over 128 kB by default (real pastes reach 200 kB); records are
    # bounded by the line limit before csv sees them.
    csv.field_size_limit(max(csv.field_size_limit(), max_line_bytes))
    lines = _RecordLines(stream, max_line_bytes)
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
        except _RecordTooLong as long:
            yield _too_long(start, long.head, long.size)
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


def iter_records(stream: IO[bytes], kind: Format, max_line_bytes: int) -> Iterator[RawRecord]:
    """Records of one object from `open_stream`. Raises ObjectRejectedError where the
    object turns out unusable (see `check_object` for why that is checked first)."""
    if kind is Format.JSONL:
        return iter_jsonl(stream, max_line_bytes)
    return iter_csv(stream, max_line_bytes)
