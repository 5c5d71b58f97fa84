"""Validate one raw record against its source schema and coerce it to typed values.

WHY: everything after the ingest (PII scrub, k-anonymity, aggregates) trusts the
types and ranges declared in `sources/<source>.yaml`; a row that does not fit is
quarantined here with one stable reason instead of failing a later stage.

Decisions, in one place:
- Missing means absent, null, or a string of whitespace only. CSV has no null, so
  an empty CSV cell is missing. The record's id field is always required (it is
  what duplicates are detected by), whatever the YAML says.
- Values are never trimmed or re-cased: " F " is not the category "F". A form that
  lets such values through is a form to fix, and guessing would hide it.
- JSON is allowed to carry numbers as strings ("24" for an integer field): many
  form tools export every answer as a string, and the string must still be a plain
  decimal number, exactly as in CSV. A JSON float is an integer only if it has no
  fractional part (24.0). Booleans are never numbers. A string field must be a JSON
  string: a postcode exported as the number 1000 lost its leading zero.
- Integers and numbers are ASCII decimals ("4,5", "5/5", "trente" are wrong types);
  integers must fit 64 bits. Booleans: true/false/1/0 (any case) or JSON booleans.
- Dates and timestamps are ISO 8601. A timestamp without an offset is local time in
  Europe/Paris (these sources are French city forms); every timestamp is stored in
  UTC. An impossible date ("31/02/2026", "hier", "2026-04-31") is `bad_date`.
- A field of a postcode_fr hierarchy must be exactly five ASCII digits: the
  generalization (postcode → département → région) reads its prefix.
- A string with a `pattern` must match it whole (`bad_format`); one with a
  `vocabulary` must be one of its words, e.g. the name of a French commune
  (`not_allowed`): whatever else a person typed there is never published.
- No text may contain NUL (PostgreSQL text cannot hold it) or lone surrogates (JSON
  "\\udc80" escapes are valid JSON but not UTF-8 text: `invalid_utf8`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from include.core.communes_fr import commune_matches_postcode, commune_names, is_commune
from include.core.geo_fr import PostcodeError, departement_code
from include.core.source_config import CommuneFr, FieldSpec, FieldType, PostcodeFr, SourceConfig
from include.ingest import reasons
from include.ingest.errors import RowRejectedError

NAIVE_TIMEZONE = ZoneInfo("Europe/Paris")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_POSTCODE = re.compile(r"\d{5}", re.ASCII)
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})

Coercer = Callable[[Any], Any]


class _FieldError(Exception):
    """A field-level problem; the validator adds the field name to the code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _bounds(spec: FieldSpec) -> tuple[float, float]:
    low = -math.inf if spec.minimum is None else spec.minimum
    return low, math.inf if spec.maximum is None else spec.maximum


def _bounded(convert: Coercer, spec: FieldSpec) -> Coercer:
    """`convert`, then the field's minimum/maximum check."""
    low, high = _bounds(spec)

    def coerce(value: Any) -> Any:
        number = convert(value)
        if number < low or number > high:
            raise _FieldError(reasons.OUT_OF_RANGE)
        return number

    return coerce


def _to_integer(value: Any) -> int:
    kind = type(value)
    if kind is int:
        number = value
    elif kind is str and _INTEGER.fullmatch(value):
        try:
            number = int(value)
        except ValueError:  # more digits than Python parses: far beyond 64 bits anyway
            raise _FieldError(reasons.OUT_OF_RANGE) from None
    elif kind is float and value.is_integer():
        number = int(value)
    else:
        raise _FieldError(reasons.WRONG_TYPE)
    if not INT64_MIN <= number <= INT64_MAX:
        raise _FieldError(reasons.OUT_OF_RANGE)
    return number


def _to_number(value: Any) -> float:
    kind = type(value)
    if kind is str and not _NUMBER.fullmatch(value):
        raise _FieldError(reasons.WRONG_TYPE)
    if kind not in (int, float, str):
        raise _FieldError(reasons.WRONG_TYPE)
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        raise _FieldError(reasons.OUT_OF_RANGE) from None
    if math.isnan(number):
        raise _FieldError(reasons.WRONG_TYPE)
    if math.isinf(number):
        raise _FieldError(reasons.OUT_OF_RANGE)
    return number


def _to_boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if type(value) is str:
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _FieldError(reasons.WRONG_TYPE)


def _to_date(value: Any) -> date:
    if type(value) is not str:
        raise _FieldError(reasons.WRONG_TYPE)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _FieldError(reasons.BAD_DATE) from None


def _to_datetime(value: Any) -> datetime:
    if type(value) is not str:
        raise _FieldError(reasons.WRONG_TYPE)
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=NAIVE_TIMEZONE)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _FieldError(reasons.BAD_DATE) from None


def _to_text(value: Any) -> str:
    if type(value) is not str:
        raise _FieldError(reasons.WRONG_TYPE)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RowRejectedError(reasons.INVALID_UTF8) from None
    if "\x00" in value:
        raise _FieldError(reasons.BAD_FORMAT)
    return value


def _coercer(spec: FieldSpec) -> Coercer:
    """One function per field, built once, so the per-row loop does no dispatch on specs."""
    kind = spec.type
    if kind is FieldType.INTEGER:
        return _bounded(_to_integer, spec)
    if kind is FieldType.NUMBER:
        return _bounded(_to_number, spec)
    if kind is FieldType.BOOLEAN:
        return _to_boolean
    if kind is FieldType.DATE:
        return _to_date
    if kind is FieldType.DATETIME:
        return _to_datetime
    if kind is FieldType.CATEGORY:
        allowed = frozenset(spec.allowed or ())

        def category(value: Any) -> str:
            text = _to_text(value)
            if text not in allowed:
                raise _FieldError(reasons.NOT_ALLOWED)
            return text

        return category
    shape = _POSTCODE if isinstance(spec.hierarchy, PostcodeFr) else None
    if spec.pattern is not None:
        shape = re.compile(spec.pattern)
    known = is_commune if spec.vocabulary == "communes_fr" else None
    if known is not None:
        commune_names()  # a missing list stops here, before the first row, with its fix
    max_length = spec.max_length

    def string(value: Any) -> str:
        text = _to_text(value)
        if max_length is not None and len(text) > max_length:
            raise _FieldError(reasons.TOO_LONG)
        if shape is not None and not shape.fullmatch(text):
            raise _FieldError(reasons.BAD_FORMAT)
        if known is not None and not known(text):
            raise _FieldError(reasons.NOT_ALLOWED)
        return text

    return string


@functools.lru_cache(maxsize=1 << 16)
def _commune_agrees(commune: str, postcode: str) -> bool:
    """Whether the postcode serves the commune or lies in its département. Cached: the same
    few thousand pairs recur over a delivery, and this ran once per record."""
    try:
        departement: str | None = departement_code(postcode)
    except PostcodeError:
        departement = None
    return commune_matches_postcode(commune, postcode, departement)


def _check_commune(commune: str, postcode: str, field: str) -> None:
    """Reject a commune that its record's postcode neither serves nor lies beside."""
    if not _commune_agrees(commune, postcode):
        raise RowRejectedError(reasons.field_reason(reasons.INCONSISTENT, field))


class RowValidator:
    """Turns a parsed record (JSON object or CSV row by column name) into typed values.

    `validate` returns the values in the configuration's field order (None for a
    missing optional field) or raises `RowRejectedError` with the row's primary reason.
    Fields the configuration does not declare are ignored: they have no privacy role,
    so they must not travel further than the raw zone.
    """

    def __init__(self, config: SourceConfig) -> None:
        self.columns = [spec.name for spec in config.fields]
        self.id_index = self.columns.index(config.id_field)
        self._rules = [
            (spec.name, spec.required or spec.name == config.id_field, _coercer(spec))
            for spec in config.fields
        ]
        # A commune placed by its record's postcode (`commune_fr`) must agree with it.
        self._communes = [
            (
                self.columns.index(spec.name),
                self.columns.index(spec.hierarchy.postcode_field),
                spec.name,
            )
            for spec in config.fields
            if isinstance(spec.hierarchy, CommuneFr)
        ]

    def validate(self, record: Mapping[str, Any]) -> list[Any]:
        values: list[Any] = []
        get = record.get
        for name, required, coerce in self._rules:
            value = get(name)
            # Missing: absent, null, or whitespace only (inlined: this loop is the hot path).
            if value is None or (value.__class__ is str and (not value or value.isspace())):
                if required:
                    raise RowRejectedError(reasons.field_reason(reasons.MISSING_REQUIRED, name))
                values.append(None)
                continue
            try:
                values.append(coerce(value))
            except _FieldError as exc:
                raise RowRejectedError(reasons.field_reason(exc.code, name)) from None
        for commune, postcode, name in self._communes:
            if values[commune] is not None and values[postcode] is not None:
                _check_commune(values[commune], values[postcode], name)
        return values
