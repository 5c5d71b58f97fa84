"""Streaming JSON Lines and CSV readers: one bad row never spoils its neighbours."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.ingest.errors import ObjectRejectedError
from include.ingest.readers import (
    Format,
    ObjectFormat,
    RawRecord,
    detect_format,
    iter_records,
    open_stream,
)
from tests.unit.ingest.memory import LIMITS


def _read(data: bytes, kind: Format, compressed: bool = False) -> list[RawRecord]:
    body = gzip.compress(data, mtime=0) if compressed else data
    stream = open_stream(io.BytesIO(body), compressed, LIMITS)
    return list(iter_records(stream, kind, LIMITS.line_bytes))


def _summary(records: list[RawRecord]) -> list[tuple[int, str | None, dict[str, object]]]:
    return [(r.line, r.reason, dict(r.fields)) for r in records]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("consultation/2026-03-26/sample-1-part-00001.jsonl", ObjectFormat(Format.JSONL, False)),
        ("consultation/2026-03-26/sample-1-part-00002.csv.gz", ObjectFormat(Format.CSV, True)),
        ("signalements/2026-03-26/export.NDJSON.GZ", ObjectFormat(Format.JSONL, True)),
        ("signalements/2026-03-26/Export Mairie.CSV", ObjectFormat(Format.CSV, False)),
        ("signalements/2026-03-26/export.xlsx", None),
        ("signalements/2026-03-26/jsonl", None),
        ("signalements/2026-03-26/data.gz", None),
    ],
)
def test_format_comes_from_the_name(key: str, expected: ObjectFormat | None) -> None:
    assert detect_format(key) == expected


@pytest.mark.parametrize("compressed", [False, True])
def test_jsonl_bad_lines_are_rejected_one_by_one(compressed: bool) -> None:
    data = (
        b'\xef\xbb\xbf{"a": 1}\r\n'  # BOM and CRLF of a Windows export
        b"\n"  # blank lines are not records
        b'{"a": "caf\xe9"}\n'  # Windows-1252 inside a UTF-8 file
        b"{not json\n"
        b"[1, 2]\n"
        b"   \n" + b"[" * 100_000 + b"\n"  # nesting deep enough to exhaust recursion
        b'{"a": "d\xc3\xa9j\xc3\xa0"}'  # last line without a newline
    )
    records = _read(data, Format.JSONL, compressed)
    assert _summary(records) == [
        (1, None, {"a": 1}),
        (3, "invalid_utf8", {}),
        (4, "invalid_json", {}),
        (5, "not_an_object", {}),
        (7, "invalid_json", {}),
        (8, None, {"a": "déjà"}),
    ]
    assert records[1].raw == b'{"a": "caf\xe9"}'  # exact bytes, never a guessed decoding
    assert records[2].raw == "{not json"


def test_csv_records_span_lines_and_keep_their_start_line_and_raw_text() -> None:
    data = b'\xef\xbb\xbfid,text,n\r\n1,"deux\r\nlignes, et ""guillemets""",3\r\n\r\n2,simple,4\r\n'
    records = _read(data, Format.CSV)
    assert _summary(records) == [
        (2, None, {"id": "1", "text": 'deux\r\nlignes, et "guillemets"', "n": "3"}),
        (5, None, {"id": "2", "text": "simple", "n": "4"}),
    ]
    assert records[0].raw == '1,"deux\r\nlignes, et ""guillemets""",3'


def test_csv_undecodable_row_is_quarantined_alone_with_its_bytes() -> None:
    bad = b'2,"caf\xe9\r\nsur deux lignes",5'
    data = b"id,text,n\r\n1,ok,4\r\n" + bad + b"\r\n3,\xc3\xa9t\xc3\xa9,6\r\n"
    records = _read(data, Format.CSV, compressed=True)
    assert _summary(records) == [
        (2, None, {"id": "1", "text": "ok", "n": "4"}),
        (3, "invalid_utf8", {}),
        (5, None, {"id": "3", "text": "été", "n": "6"}),
    ]
    assert records[1].raw == bad


def test_csv_wrong_width_and_broken_quoting_are_quarantined_and_reading_goes_on() -> None:
    data = (
        b"id,text\r\n"
        b"1,a,extra\r\n"
        b'2,"closed"then more\r\n'  # strict quoting: text after a closing quote
        b"3,b\r\n"
        b'4,"never closed\r\n'
    )
    records = _read(data, Format.CSV)
    assert _summary(records) == [
        (2, "wrong_column_count", {}),
        (3, "invalid_csv", {}),
        (4, None, {"id": "3", "text": "b"}),
        (5, "invalid_csv", {}),
    ]
    assert records[-1].raw == '4,"never closed'


def test_csv_fields_of_200_kb_are_read() -> None:
    text = "é" * 200_000
    data = f'id,text\r\n1,"{text}"\r\n'.encode()
    assert _summary(_read(data, Format.CSV)) == [(2, None, {"id": "1", "text": text})]


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (b"id,text,id\r\n", "columns named twice: ['id']"),
        (b"id,t\xe9l\xe9phone\r\n", "the header is not UTF-8"),
        (b'id,"text\r\n', "the header does not parse"),
    ],
)
def test_an_unusable_csv_header_rejects_the_object(header: bytes, detail: str) -> None:
    with pytest.raises(ObjectRejectedError) as caught:
        _read(header + b"1,a\r\n", Format.CSV)
    assert caught.value.reason == "bad_csv_header"
    assert detail in caught.value.detail


@pytest.mark.parametrize("kind", list(Format))
def test_empty_objects_have_no_records(kind: Format) -> None:
    assert _read(b"", kind) == []
    assert _read(b"", kind, compressed=True) == []


def test_a_corrupt_gzip_gives_every_row_before_the_damage_then_rejects_the_object() -> None:
    lines = b"".join(json.dumps({"i": i}).encode() + b"\n" for i in range(20_000))
    body = gzip.compress(lines, mtime=0)
    truncated = body[: len(body) // 2]
    records = iter_records(open_stream(io.BytesIO(truncated), True, LIMITS), Format.JSONL, 100)
    read = []
    with pytest.raises(ObjectRejectedError) as caught:
        read.extend(records)
    assert caught.value.reason == "unreadable_object"
    # Every line that decompressed whole before the damage, however the stream is buffered.
    readable = zlib.decompressobj(wbits=31).decompress(truncated)
    assert [r.fields["i"] for r in read] == list(range(readable.count(b"\n")))


_CELL = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)


@settings(derandomize=True, deadline=None, max_examples=150)
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), max_size=8))
def test_csv_round_trip_of_any_text(rows: list[list[str]]) -> None:
    """Whatever csv.writer writes (quotes, commas, CR, LF), the reader returns: the same
    fields, the record's exact text, and the line where it starts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["a", "b", "c"])
    expected = []
    line = 2
    for row in rows:
        start = buffer.tell()
        writer.writerow(row)
        text = buffer.getvalue()[start:]
        expected.append((line, text.removesuffix("\r\n"), dict(zip("abc", row, strict=True))))
        line += text.count("\n")
    records = _read(buffer.getvalue().encode(), Format.CSV)
    assert [(r.line, r.raw, dict(r.fields)) for r in records] == expected
