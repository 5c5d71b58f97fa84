"""Stable reason codes for everything the ingest refuses, quarantines or drops.

WHY: quarantine counts are compared across runs, charted and alerted on, so a reason
is a fixed code, never a free-form message. A row gets exactly ONE primary reason:
row-level problems first (undecodable bytes, unparsable record), then the fields in
the source configuration's order, and for one field: missing, then wrong type or
format, then out of range / not allowed / too long. Field-level codes carry the
field name after a colon (`wrong_type:age`) so that a chart can split them.
"""

from __future__ import annotations

# Row level: the record itself cannot be read.
INVALID_UTF8 = "invalid_utf8"  # bytes that are not UTF-8 (or text not encodable as UTF-8)
INVALID_JSON = "invalid_json"  # a JSON Lines line that does not parse
NOT_AN_OBJECT = "not_an_object"  # a JSON Lines line that parses to a list, a number...
INVALID_CSV = "invalid_csv"  # the csv module rejects the record (e.g. a field over the limit)
WRONG_COLUMN_COUNT = "wrong_column_count"  # a CSV record with more or fewer fields than the header

# Field level, written `<code>:<field>`.
MISSING_REQUIRED = "missing_required"
WRONG_TYPE = "wrong_type"
BAD_DATE = "bad_date"
BAD_FORMAT = "bad_format"  # right type, wrong shape: a postcode that is not 5 digits, a NUL
OUT_OF_RANGE = "out_of_range"
NOT_ALLOWED = "not_allowed"
TOO_LONG = "too_long"

# Object level: the whole object is quarantined (rows unknown, so objects are counted).
UNENCRYPTED_OBJECT = "unencrypted_object"  # stored without SSE: never read
UNSUPPORTED_FORMAT = "unsupported_format"  # not .jsonl/.ndjson/.csv (optionally .gz)
BAD_CSV_HEADER = "bad_csv_header"  # undecodable or repeated column names
UNREADABLE_OBJECT = "unreadable_object"  # corrupt gzip: rows before the damage are kept
OBJECT_CHANGED = "object_changed"  # deleted or rewritten since the run claimed it

# Duplicates are not quarantined (the first occurrence is kept) but are counted by kind.
DUPLICATE_ROW = "duplicate_row"  # same id, same content as a row ingested before
DUPLICATE_ID = "duplicate_id"  # same id, different content: the first one wins


def field_reason(code: str, field: str) -> str:
    """`wrong_type` + `age` → `wrong_type:age`."""
    return f"{code}:{field}"
