"""Chain verification in memory: any single tampering is found, at the entry it touched."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.audit.canonical import canonical_json
from include.audit.chain import Anchor, Breakage, check_chain
from include.audit.entry import GENESIS_HASH, Draft, Entry
from include.audit.errors import LedgerBrokenError
from include.audit.keys import AuditKey, Ed25519Key, HmacKey, generate_secret

KEY = HmacKey("a1", b"s" * 32)
START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _rows(index: int) -> dict[str, object]:
    return {"rows": 100 + index, "commune": "Saint-Étienne"}


def build_chain(
    length: int,
    keys: list[AuditKey] | None = None,
    payload: Callable[[int], dict[str, object]] = _rows,
) -> list[Entry]:
    """`length` entries; entry i is signed by keys[i % len(keys)] (default: KEY)."""
    signers = keys or [KEY]
    chain: list[Entry] = []
    for index in range(length):
        key = signers[index % len(signers)]
        chain.append(
            Draft(
                seq=index + 1,
                recorded_at=START + timedelta(seconds=index),
                run_id=f"run-{index // 3}",
                dag_id="civic_pipeline",
                step=("ingest", "scrub", "release")[index % 3],
                payload_json=canonical_json(payload(index)),
                prev_hash=chain[-1].entry_hash if chain else GENESIS_HASH,
                key_id=key.key_id,
            ).seal(key)
        )
    return chain


def test_intact_chain_reports_count_and_head() -> None:
    chain = build_chain(5)
    result = check_chain(chain, KEY)
    assert result.intact
    assert (result.count, result.head_seq, result.head_hash) == (5, 5, chain[-1].entry_hash)
    assert result.head == Anchor(5, chain[-1].entry_hash)
    result.raise_if_broken()


def test_empty_ledger_is_intact_at_genesis() -> None:
    result = check_chain([], KEY)
    assert (result.intact, result.count, result.head_hash, result.head) == (
        True,
        0,
        GENESIS_HASH,
        None,
    )


def _edit(field: str, value: object) -> Callable[[Entry], Entry]:
    return lambda entry: dataclasses.replace(entry, **{field: value})


def _rehash_without_key(entry: Entry) -> Entry:
    """What someone with write access but no key can do: change content, fix the hash."""
    changed = dataclasses.replace(entry, payload_json='{"rows":0}')
    return dataclasses.replace(changed, entry_hash=changed.content_hash())


TAMPERINGS: dict[str, tuple[Callable[[Entry], Entry], Breakage]] = {
    "payload": (_edit("payload_json", '{"rows":1}'), Breakage.HASH_MISMATCH),
    "run_id": (_edit("run_id", "forged"), Breakage.HASH_MISMATCH),
    "step": (_edit("step", "skipped"), Breakage.HASH_MISMATCH),
    "dag_id": (_edit("dag_id", None), Breakage.HASH_MISMATCH),
    "recorded_at": (_edit("recorded_at", START - timedelta(days=1)), Breakage.HASH_MISMATCH),
    "prev_hash": (_edit("prev_hash", "ff" * 32), Breakage.BROKEN_LINK),
    "entry_hash": (_edit("entry_hash", "ee" * 32), Breakage.HASH_MISMATCH),
    "signature": (_edit("signature", "00" * 32), Breakage.BAD_SIGNATURE),
    "rehashed": (_rehash_without_key, Breakage.BAD_SIGNATURE),
}


@settings(derandomize=True, deadline=None, max_examples=60)
@given(
    length=st.integers(min_value=1, max_value=12),
    position=st.integers(min_value=0, max_value=11),
    tampering=st.sampled_from(sorted(TAMPERINGS)),
)
def test_any_single_tampering_is_named(length: int, position: int, tampering: str) -> None:
    chain = build_chain(length)
    index = position % length
    change, kind = TAMPERINGS[tampering]
    chain[index] = change(chain[index])
    result = check_chain(chain, KEY)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (index + 1, kind)
    assert result.count == index, "every entry before the tampered one verifies"
    with pytest.raises(LedgerBrokenError, match=f"entry {index + 1}: {kind}"):
        result.raise_if_broken()


def test_deleted_entries_are_named_as_missing() -> None:
    chain = build_chain(8)
    problem = check_chain(chain[:3] + chain[4:], KEY).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (4, Breakage.MISSING)
    assert "entry 4 is missing" in problem.detail
    problem = check_chain(chain[:3] + chain[6:], KEY).problem
    assert problem is not None
    assert "entries 4..6 are missing" in problem.detail


def test_reordered_entries_are_named() -> None:
    chain = build_chain(4)
    problem = check_chain([chain[0], chain[1], chain[1], chain[2]], KEY).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (2, Breakage.OUT_OF_ORDER)


def test_renumbered_entries_break_the_hash() -> None:
    """Deleting entry 2 and renumbering the rest to hide the hole still fails at entry 2."""
    chain = build_chain(4)
    renumbered = [chain[0]] + [dataclasses.replace(e, seq=e.seq - 1) for e in chain[2:]]
    problem = check_chain(renumbered, KEY).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (2, Breakage.BROKEN_LINK)


def test_wrong_key_and_unknown_key() -> None:
    chain = build_chain(3)
    wrong = check_chain(chain, HmacKey("a1", b"t" * 32)).problem
    assert wrong is not None
    assert (wrong.seq, wrong.kind) == (1, Breakage.BAD_SIGNATURE)
    unknown = check_chain(chain, HmacKey("z9", b"s" * 32)).problem
    assert unknown is not None
    assert (unknown.seq, unknown.kind) == (1, Breakage.UNKNOWN_KEY)
    assert "'a1'" in unknown.detail
    assert "z9" in unknown.detail


def test_rotated_keys_verify_together() -> None:
    old = HmacKey("a1", b"s" * 32)
    new = Ed25519Key.from_seed("a2", generate_secret())
    chain = build_chain(6, [old, new])
    assert check_chain(chain, [old, new]).intact
    problem = check_chain(chain, old).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (2, Breakage.UNKNOWN_KEY)


def test_anchor_catches_truncation_and_rewriting() -> None:
    chain = build_chain(6)
    anchor = Anchor(5, chain[4].entry_hash)
    assert check_chain(chain, KEY, anchor).intact
    cut = check_chain(chain[:4], KEY, anchor)
    assert check_chain(chain[:4], KEY).intact, "without an anchor a cut end is invisible"
    assert cut.problem is not None
    assert (cut.problem.seq, cut.problem.kind, cut.count) == (5, Breakage.TRUNCATED, 4)
    # Someone holding the key rewrites the ledger from entry 3: only a hash kept elsewhere
    # shows it.
    rewritten = build_chain(6, payload=lambda i: _rows(i) if i < 2 else {"rows": 0})
    assert rewritten[:2] == chain[:2]
    assert check_chain(rewritten, KEY).intact
    problem = check_chain(rewritten, KEY, anchor).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (5, Breakage.ANCHOR_MISMATCH)


def test_anchor_parse() -> None:
    assert Anchor.parse(f" 12:{'0a' * 32}\n") == Anchor(12, "0a" * 32)
    assert str(Anchor(12, "0a" * 32)) == f"12:{'0a' * 32}"
    for bad in ("12", f"0:{'0a' * 32}", f"x:{'0a' * 32}", "3:ABC", f"3:{'0A' * 32}"):
        with pytest.raises(ValueError, match="SEQ:HASH"):
            Anchor.parse(bad)
