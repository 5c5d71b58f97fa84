"""Entry hashes and signatures follow the documented format, and every field counts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from include.audit.entry import GENESIS_HASH, Draft
from include.audit.keys import HmacKey

KEY = HmacKey("a1", b"k" * 32)
DRAFT = Draft(
    seq=7,
    recorded_at=datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC),
    run_id="scheduled__2026-11-25T09:00:00+00:00",
    dag_id="civic_pipeline",
    step="scrub",
    payload_json='{"counts":{"rows":1200},"source":"signalements"}',
    prev_hash="ab" * 32,
    key_id="a1",
)


def test_hash_is_the_documented_encoding() -> None:
    """Restated from include/audit/entry.py's docstring: a verifier in another language
    reproduces exactly this, so the format must never drift silently."""
    header = json.dumps(
        [
            "ab" * 32,
            7,
            "2026-11-25T09:30:00.123456Z",
            "scheduled__2026-11-25T09:00:00+00:00",
            "civic_pipeline",
            "scrub",
            "a1",
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    message = (
        b"civic-audit-ledger/v1/entry\x00"
        + header.encode()
        + b"\x00"
        + b'{"counts":{"rows":1200},"source":"signalements"}'
    )
    assert DRAFT.content_hash() == hashlib.sha256(message).hexdigest()


def test_signature_signs_the_domain_separated_hash() -> None:
    entry = DRAFT.seal(KEY)
    expected = KEY.sign(b"civic-audit-ledger/v1/signature\x00" + bytes.fromhex(entry.entry_hash))
    assert entry.signature == expected
    assert entry.signature != KEY.sign(bytes.fromhex(entry.entry_hash)), "domain tag is signed"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 8),
        ("recorded_at", DRAFT.recorded_at + timedelta(microseconds=1)),
        ("run_id", "manual__2026-11-25"),
        ("dag_id", None),
        ("step", "load"),
        ("payload_json", '{"counts":{"rows":1201},"source":"signalements"}'),
        ("prev_hash", GENESIS_HASH),
        ("key_id", "a2"),
    ],
)
def test_every_field_is_covered(field: str, value: Any) -> None:
    assert dataclasses.replace(DRAFT, **{field: value}).content_hash() != DRAFT.content_hash()


def test_field_boundaries_are_unambiguous() -> None:
    one = dataclasses.replace(DRAFT, run_id="ab", step="c")
    two = dataclasses.replace(DRAFT, run_id="a", step="bc")
    assert one.content_hash() != two.content_hash()
    empty_dag = dataclasses.replace(DRAFT, dag_id="")
    assert empty_dag.content_hash() != dataclasses.replace(DRAFT, dag_id=None).content_hash()


def test_one_instant_one_hash_whatever_its_zone() -> None:
    paris = DRAFT.recorded_at.astimezone(timezone(timedelta(hours=1)))
    assert dataclasses.replace(DRAFT, recorded_at=paris).content_hash() == DRAFT.content_hash()


def test_seal_refuses_a_key_the_draft_does_not_name() -> None:
    with pytest.raises(ValueError, match="names key 'a1' but is sealed with 'b1'"):
        DRAFT.seal(HmacKey("b1", b"k" * 32))


def test_sealed_entry_keeps_the_draft_and_parses_its_payload() -> None:
    entry = DRAFT.seal(KEY)
    assert entry.payload == {"counts": {"rows": 1200}, "source": "signalements"}
    assert entry.entry_hash == DRAFT.content_hash()
    assert {f.name: getattr(entry, f.name) for f in dataclasses.fields(Draft)} == vars(DRAFT)
