"""Bounded input: what one raw object, and one line of it, may cost the reader.

The limits here are small so that each case runs in milliseconds; the same code runs
with the defaults of `Settings` (the gzip bomb of the issue, with its memory measured
in a process of its own, is in tests/integration/test_ingest.py).
"""

from __future__ import annotations

import csv
import gzip
import io
import tracemalloc
from contextlib import AbstractContextManager, nullcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.core.settings import MIB, Settings, SettingsError, load_settings
from include.ingest.errors import ObjectRejectedError
from include.ingest.readers import (
    EXCERPT_BYTES,
    Format,
    ObjectFormat,
    RawRecord,
    Readable,
    ReadLimits,
    check_object,
    iter_records,
    open_stream,
)

SMALL = ReadLimits(object_bytes=64 * 1024, line_bytes=1024)
JSONL_GZ = ObjectFormat(Format.JSONL, gzip=True)


def _records(body: bytes, kind: Format, compressed: bool, limits: ReadLimits) -> list[RawRecord]:
    stream = open_stream(io.BytesIO(body), compressed, limits)
    return list(iter_records(stream, kind, limits.line_bytes))


def _bomb(expanded_mib: int) -> bytes:
    """A gzip of `expanded_mib` MiB without a line break: one member per MiB, ~1 kB each."""
    return gzip.compress(b"a" * MIB, compresslevel=9, mtime=0) * expanded_mib


def _opener(body: bytes) -> AbstractContextManager[Readable]:
    return nullcontext(io.BytesIO(body))


def _never_opened() -> AbstractContextManager[Readable]:
    raise AssertionError("an uncompressed object's size is known: it must not be read")


def _delivered(stream: io.BufferedReader) -> tuple[int, ObjectRejectedError | None]:
    """Bytes the stream gives, in small reads, before it ends or refuses to go on (read1:
    `read` would drop what it had buffered when the refusal comes in the same call)."""
    total = 0
    try:
        while chunk := stream.read1(1000):
            total += len(chunk)
    except ObjectRejectedError as exc:
        return total, exc
    return total, None


# -- Per object ----------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [False, True])
def test_an_object_gives_exactly_its_first_limit_bytes_then_is_refused(compressed: bool) -> None:
    data = b"x" * (SMALL.object_bytes + 1)
    body = gzip.compress(data, mtime=0) if compressed else data
    total, refused = _delivered(open_stream(io.BytesIO(body), compressed, SMALL))
    assert total == SMALL.object_bytes
    assert refused is not None
    assert refused.reason == "object_too_large"
    assert "more than 65,536 bytes once decompressed" in refused.detail
    assert "CIVIC_MAX_OBJECT_BYTES" in refused.detail

    whole = body[:-1] if not compressed else gzip.compress(data[:-1], mtime=0)
    assert _delivered(open_stream(io.BytesIO(whole), compressed, SMALL)) == (len(data) - 1, None)


def test_a_gzip_bomb_costs_the_limit_not_its_size() -> None:
    bomb = _bomb(64)  # 64 MiB once expanded, 67 kB stored
    tracemalloc.start()
    try:
        total, refused = _delivered(open_stream(io.BytesIO(bomb), True, SMALL))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (total, refused and refused.reason) == (SMALL.object_bytes, "object_too_large")
    assert peak < 4 * MIB, f"reading a bomb up to a 64 kB limit took {peak:,} bytes"


def test_the_check_reads_a_gzip_through_and_judges_a_plain_object_by_its_size() -> None:
    bomb = _bomb(4)
    refused = check_object(JSONL_GZ, len(bomb), SMALL, lambda: _opener(bomb))
    assert refused is not None
    assert refused.reason == "object_too_large"
    assert refused.detail.startswith(f"a gzip of {len(bomb):,} bytes: more than 65,536 bytes")

    fine = gzip.compress(b'{"a": 1}\n' * 1000, mtime=0)
    assert check_object(JSONL_GZ, len(fine), SMALL, lambda: _opener(fine)) is None

    plain = ObjectFormat(Format.CSV, gzip=False)
    assert check_object(plain, SMALL.object_bytes, SMALL, _never_opened) is None
    refused = check_object(plain, SMALL.object_bytes + 1, SMALL, _never_opened)
    assert refused is not None
    assert refused.reason == "object_too_large"
    assert refused.detail.startswith("65,537 bytes, more than the limit of 65,536")


def _damaged_crc(body: bytes) -> bytes:
    trailer = bytearray(body[-8:])
    trailer[0] ^= 0xFF
    return body[:-8] + bytes(trailer)


_LINES = b'{"a": 1}\n' * 100
_GZ = gzip.compress(_LINES, mtime=0)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "the object is empty, which is not a gzip stream"),
        (_LINES, "Not a gzipped file"),
        (_GZ[: len(_GZ) // 2], "end-of-stream marker was reached"),
        (_damaged_crc(_GZ), "CRC check failed"),
        (_GZ + b"trailing bytes", "Not a gzipped file"),
    ],
    ids=["empty", "not-gzip", "truncated", "bad-crc", "trailing-garbage"],
)
def test_a_gz_that_is_not_a_whole_gzip_stream_is_unreadable(body: bytes, detail: str) -> None:
    refused = check_object(JSONL_GZ, len(body), SMALL, lambda: _opener(body))
    assert refused is not None
    assert refused.reason == "unreadable_object"
    assert detail in refused.detail
    with pytest.raises(ObjectRejectedError, match=detail):
        _records(body, Format.JSONL, True, SMALL)


def test_an_empty_gzip_stream_is_an_empty_object() -> None:
    empty = gzip.compress(b"", mtime=0)
    assert check_object(JSONL_GZ, len(empty), SMALL, lambda: _opener(empty)) is None
    assert _records(empty, Format.JSONL, True, SMALL) == []


# -- Per line --------------------------------------------------------------------------------


def _line(size: int, fill: str = "x") -> bytes:
    """A JSON object line of exactly `size` bytes, line break excluded."""
    prefix = b'{"t": "'
    return prefix + fill.encode() * (size - len(prefix) - 2) + b'"}'


@pytest.mark.parametrize("compressed", [False, True])
def test_a_line_over_the_limit_is_one_record_with_an_excerpt_and_reading_goes_on(
    compressed: bool,
) -> None:
    limit = SMALL.line_bytes
    data = b"\n".join([_line(limit), _line(limit + 1), _line(50_000), _line(10)]) + b"\n"
    data += _line(limit + 7)  # the last line, without a line break
    body = gzip.compress(data, mtime=0) if compressed else data
    records = _records(body, Format.JSONL, compressed, SMALL)
    assert [(r.line, r.reason, r.size) for r in records] == [
        (1, None, None),
        (2, "line_too_long", limit + 2),  # sizes count the line break, when there is one
        (3, "line_too_long", 50_001),
        (4, None, None),
        (5, "line_too_long", limit + 7),
    ]
    assert records[1].raw == _line(limit + 1)[: limit + 1].decode()
    assert records[2].raw == _line(50_000)[: limit + 1].decode()


def test_an_excerpt_is_at_most_excerpt_bytes_and_never_cuts_a_character() -> None:
    limits = ReadLimits(object_bytes=MIB, line_bytes=3 * EXCERPT_BYTES)
    data = _line(4 * EXCERPT_BYTES, fill="é") + b"\n" + b"\xff" * (4 * EXCERPT_BYTES) + b"\n"
    records = _records(data, Format.JSONL, False, limits)
    assert [r.reason for r in records] == ["line_too_long", "line_too_long"]
    text, undecodable = records[0].raw, records[1].raw
    assert isinstance(text, str)
    assert _line(4 * EXCERPT_BYTES, fill="é").decode().startswith(text)
    assert EXCERPT_BYTES - 2 <= len(text.encode()) <= EXCERPT_BYTES  # "é" is two bytes
    assert undecodable == b"\xff" * EXCERPT_BYTES


def test_a_huge_line_costs_the_line_limit_not_its_size() -> None:
    limits = ReadLimits(object_bytes=256 * MIB, line_bytes=SMALL.line_bytes)
    body = gzip.compress(b"a" * (64 * MIB) + b"\n" + _line(20) + b"\n", mtime=0)
    tracemalloc.start()
    try:
        records = _records(body, Format.JSONL, True, limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(r.line, r.reason, r.size) for r in records] == [
        (1, "line_too_long", 64 * MIB + 1),
        (2, None, None),
    ]
    assert peak < 8 * MIB, f"skipping a 64 MiB line took {peak:,} bytes"


_HEADER = b"id,text,n\r\n"


def test_a_csv_record_over_the_limit_is_skipped_to_its_real_end() -> None:
    """A quoted field whose lines look like records (commas, line breaks) is skipped whole,
    whether one of its lines or all of them together are over the limit."""
    limit = SMALL.line_bytes
    fake_rows = "\r\n".join(f"{i},fake,{i}" for i in range(200))  # ~2 kB of lookalikes
    one_long_line = '9,"' + "y" * 2000 + '""quoted"" and\r\nmore ""quoted""",9'
    data = (
        _HEADER
        + b"1,a,1\r\n"
        + f'2,"{fake_rows}",2\r\n'.encode()
        + b"3,b,3\r\n"
        + one_long_line.encode()
        + b"\r\n4,c,4\r\n"
    )
    records = _records(data, Format.CSV, False, SMALL)
    assert [(r.line, r.reason, dict(r.fields)) for r in records] == [
        (2, None, {"id": "1", "text": "a", "n": "1"}),
        (3, "line_too_long", {}),
        (203, None, {"id": "3", "text": "b", "n": "3"}),
        (204, "line_too_long", {}),
        (206, None, {"id": "4", "text": "c", "n": "4"}),
    ]
    assert records[1].size == len(f'2,"{fake_rows}",2\r\n') > limit
    assert records[3].size == len(one_long_line) + 2
    assert isinstance(records[1].raw, str)
    assert records[1].raw.startswith('2,"0,fake,0\r\n1,fake')


def test_a_csv_header_over_the_limit_rejects_the_object() -> None:
    header = ",".join(f"column_{i}" for i in range(200)).encode() + b"\r\n"
    with pytest.raises(ObjectRejectedError) as caught:
        _records(header + b"1\r\n", Format.CSV, False, SMALL)
    assert caught.value.reason == "bad_csv_header"
    assert f"the header is {len(header):,} bytes long, over the line limit of 1,024" in str(
        caught.value
    )


_CELL = st.text(st.sampled_from(list('ab,"\r\n é')), max_size=40)


@settings(derandomize=True, deadline=None, max_examples=200)
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), max_size=8),
    limit=st.integers(min_value=len(_HEADER), max_value=120),
)
def test_csv_records_over_any_limit_are_refused_and_the_others_read_exactly(
    rows: list[list[str]], limit: int
) -> None:
    """Whatever csv.writer writes, each record over the limit (its bytes without the final
    line break) is one `line_too_long` record starting with its own text, and every other
    record reads as it would without a limit, at the same line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["id", "text", "n"])
    expected = []
    line = 2
    for row in rows:
        start = buffer.tell()
        writer.writerow(row)
        text = buffer.getvalue()[start:]
        size = len(text.encode())
        if size - 1 > limit:
            expected.append((line, "line_too_long", size, text))
        else:
            fields = dict(zip(("id", "text", "n"), row, strict=True))
            expected.append((line, None, fields, text.removesuffix("\r\n")))
        line += text.count("\n")
    limits = ReadLimits(object_bytes=MIB, line_bytes=limit)
    records = _records(buffer.getvalue().encode(), Format.CSV, False, limits)
    assert len(records) == len(expected)
    for record, (line, reason, detail, text) in zip(records, expected, strict=True):
        assert (record.line, record.reason) == (line, reason)
        if reason is None:
            assert (dict(record.fields), record.raw) == (detail, text)
        else:
            assert record.size == detail
            assert isinstance(record.raw, str)
            assert text.startswith(record.raw)


# -- Configuration -----------------------------------------------------------------------------


def test_the_limits_come_from_the_environment_with_sensible_defaults() -> None:
    defaults = Settings()
    assert (defaults.max_object_bytes, defaults.max_line_bytes) == (512 * MIB, MIB)
    configured = load_settings({"CIVIC_MAX_OBJECT_BYTES": "1000", "CIVIC_MAX_LINE_BYTES": "10"})
    assert ReadLimits.from_settings(configured) == ReadLimits(1000, 10)
    assert load_settings(configured.as_environment()) == configured
    with pytest.raises(SettingsError, match="CIVIC_MAX_LINE_BYTES"):
        load_settings({"CIVIC_MAX_LINE_BYTES": "0"})
    with pytest.raises(SettingsError, match="CIVIC_MAX_OBJECT_BYTES"):
        load_settings({"CIVIC_MAX_OBJECT_BYTES": "512MiB"})


def test_the_chunk_size_comes_from_the_environment() -> None:
    assert Settings().chunk_rows == 50_000
    configured = load_settings({"CIVIC_CHUNK_ROWS": "1000"})
    assert configured.chunk_rows == 1000
    assert load_settings(configured.as_environment()) == configured
    with pytest.raises(SettingsError, match="CIVIC_CHUNK_ROWS"):
        load_settings({"CIVIC_CHUNK_ROWS": "0"})
