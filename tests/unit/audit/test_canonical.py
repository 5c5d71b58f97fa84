"""Canonical JSON: one text per value, and a refusal for anything ambiguous."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.audit.canonical import canonical_json, format_timestamp
from include.audit.errors import CanonicalJSONError

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(json_values)
def test_round_trip_is_a_fixed_point(value: Any) -> None:
    text = canonical_json(value)
    assert json.loads(text) == value
    assert canonical_json(json.loads(text)) == text


@settings(derandomize=True, deadline=None, max_examples=200)
@given(st.dictionaries(st.text(max_size=8), st.integers(), min_size=2, max_size=8))
def test_key_order_does_not_matter(mapping: dict[str, int]) -> None:
    reversed_order = dict(reversed(list(mapping.items())))
    assert canonical_json(mapping) == canonical_json(reversed_order)


def test_sorted_keys_no_whitespace_utf8() -> None:
    text = canonical_json({"b": [1, 2.5, None], "a": {"z": True, "é": "déjà vu"}})
    assert text == '{"a":{"z":true,"é":"déjà vu"},"b":[1,2.5,null]}'
    assert "é".encode() in text.encode("utf-8"), "non-ASCII is written as UTF-8, not escaped"


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_refused_with_their_path(number: float) -> None:
    with pytest.raises(CanonicalJSONError, match=r"\$\.checks\[1\]: .* is not a JSON number"):
        canonical_json({"checks": [1.0, number]})


def test_datetimes_are_utc_iso_with_microseconds() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 25, 10, 30, tzinfo=paris)
    assert canonical_json({"at": moment}) == '{"at":"2026-11-25T09:30:00.000000Z"}'
    assert format_timestamp(moment) == format_timestamp(moment.astimezone(UTC))
    assert canonical_json([date(2026, 3, 1)]) == '["2026-03-01"]'


def test_naive_datetime_refused() -> None:
    with pytest.raises(CanonicalJSONError, match="no time zone"):
        canonical_json({"at": datetime(2026, 11, 25, 10, 30)})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "un"}, r"key 1 is a int"),
        ({"s": {1, 2}}, r"\$\.s: a set has no canonical JSON form"),
        ({"b": b"\x00"}, r"\$\.b: a bytes"),
        ({"d": Decimal("1.10")}, r"\$\.d: a Decimal"),
        ({"t": "\ud800"}, r"lone surrogate"),
    ],
)
def test_ambiguous_values_refused(value: Any, message: str) -> None:
    with pytest.raises(CanonicalJSONError, match=message):
        canonical_json(value)


def test_dataclasses_become_objects() -> None:
    @dataclass(frozen=True)
    class Checked:
        name: str
        passed: bool

    assert canonical_json({"checks": [Checked("k_anonymity", True)]}) == (
        '{"checks":[{"name":"k_anonymity","passed":true}]}'
    )
