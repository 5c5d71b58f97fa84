"""Canonical JSON: exactly one text per value, so the same payload always hashes the same.

Rules: object keys sorted by code point, no whitespace between tokens, non-ASCII
characters written as themselves (UTF-8, not `\\u` escapes), NaN and ±Infinity
refused (JSON has no such numbers), aware datetimes as ISO-8601 in UTC with
microseconds and a `Z`, dates as `YYYY-MM-DD`, dataclasses as objects of their
fields. Values whose JSON form would be a guess are refused, not coerced: naive
datetimes (which zone?), non-string keys (`{1: …}` and `{"1": …}` would collide),
sets (no order), bytes and Decimal (string or number?).

Why not RFC 8785 (JCS) number formatting: the ledger stores the canonical text
verbatim (a `json` column, never re-serialized) and hashes those stored bytes,
so a verifier in any language hashes the text it reads and never has to
reproduce Python's float formatting. Canonical form only has to be stable for
the writer, and Python's shortest round-trip float repr is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any

from include.audit.errors import CanonicalJSONError

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]


def format_timestamp(moment: datetime) -> str:
    """`2026-11-25T09:30:00.000000Z`: UTC, always six fractional digits, so one instant has
    one spelling whatever zone the value arrived in."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CanonicalJSONError(
            f"datetime {moment.isoformat()} has no time zone; pass an aware datetime "
            "(e.g. datetime.now(UTC)) so the ledger records one unambiguous instant"
        )
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of `value`; raises CanonicalJSONError naming the bad path."""
    text = json.dumps(
        _plain(value, "$"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJSONError(
            f"the value contains a lone surrogate ({exc.object[exc.start : exc.end]!r}) that "
            "UTF-8 cannot encode; decode the source text with errors='replace' first"
        ) from None
    return text


def _plain(value: Any, path: str) -> JSONValue:
    """`value` as plain JSON types, or an error naming where the unsupported value sits."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalJSONError(
                f"{path}: {value!r} is not a JSON number; record null or a string instead"
            )
        return value
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        plain: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(
                    f"{path}: key {key!r} is a {type(key).__name__}; JSON object keys must be "
                    "strings (convert it explicitly so two keys cannot collide)"
                )
            plain[key] = _plain(item, f"{path}.{key}")
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if is_dataclass(value) and not isinstance(value, type):
        return _plain({f.name: getattr(value, f.name) for f in fields(value)}, path)
    raise CanonicalJSONError(
        f"{path}: a {type(value).__name__} has no canonical JSON form; convert it to "
        "str, int, float, bool, None, a list or a dict"
    )
