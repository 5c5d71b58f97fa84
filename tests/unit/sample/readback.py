"""Read sample objects back the way a consumer would (shared by unit and S3 tests)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

# Sample rows include a 200 kB text on purpose; the csv module's default limit is 128 kB.
_FIELD_LIMIT = 1 << 20


def parse_object(key: str, body: bytes, columns: list[str]) -> tuple[list[dict[str, Any]], int]:
    """Rows of one object (CSV values as strings), and how many had undecodable bytes."""
    data = gzip.decompress(body) if key.endswith(".gz") else body
    text = data.decode("utf-8", errors="replace")
    if ".jsonl" in key:
        rows = [json.loads(line) for line in text.splitlines() if line]
    else:
        csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        assert header == columns, header
        rows = [dict(zip(header, values, strict=True)) for values in reader]
    broken = sum("\ufffd" in json.dumps(row, ensure_ascii=False) for row in rows)
    return rows, broken


def as_csv_values(row: dict[str, Any], columns: list[str]) -> dict[str, str]:
    """What a row becomes once written to CSV: strings, missing or null as ""."""
    return {name: "" if row.get(name) is None else str(row[name]) for name in columns}
