"""Verification of a stream of entries, independent of where they are stored.

Walks the entries in seq order keeping only the previous hash, so memory stays
flat however long the ledger is, and stops at the first entry that fails, naming
it and what is wrong with it. Each entry is checked in this order, so the
reported reason is the most specific one:

1. its seq follows the previous one (a hole means entries were deleted);
2. its prev_hash is the previous entry's hash (the link);
3. its content hashes to its entry_hash (a changed field);
4. its key id is one of the verifying keys, and the signature checks
   (a hash recomputed by someone without the key).

What the chain alone cannot show is entries cut from the end: the shortened
ledger is a valid chain. An `Anchor` (a seq and hash recorded elsewhere, e.g. in
a release manifest) closes that gap: the anchored entry must still be there,
unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from include.audit.entry import GENESIS_HASH, Entry, signing_message
from include.audit.errors import LedgerBrokenError
from include.audit.keys import AuditKey, keyring

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Breakage(StrEnum):
    MISSING = "missing entries"
    OUT_OF_ORDER = "seq out of order"
    BROKEN_LINK = "broken link"
    HASH_MISMATCH = "hash mismatch"
    UNKNOWN_KEY = "unknown key"
    BAD_SIGNATURE = "bad signature"
    ANCHOR_MISMATCH = "anchor mismatch"
    TRUNCATED = "truncated"


@dataclass(frozen=True)
class Problem:
    """The first broken entry: its seq, the kind of breakage, and a sentence about it."""

    seq: int
    kind: Breakage
    detail: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Anchor:
    """An entry known from outside the database: `seq` must exist and hash to `entry_hash`."""

    seq: int
    entry_hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """From `SEQ:HASH`, the form `civic audit verify` prints for the head."""
        match = _ANCHOR.match(text.strip())
        if not match or int(match.group(1)) < 1:
            raise ValueError(
                f"anchor {text!r} must be SEQ:HASH, e.g. 42:{'ab' * 32} (seq ≥ 1, 64 hex digits)"
            )
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.seq}:{self.entry_hash}"


@dataclass(frozen=True)
class VerifyResult:
    """Entries verified before the first problem, the last good entry, and the problem."""

    count: int
    head_seq: int  # 0 for an empty ledger
    head_hash: str  # GENESIS_HASH for an empty ledger
    problem: Problem | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> Anchor | None:
        """The last good entry as an anchor to keep outside the database."""
        return Anchor(self.head_seq, self.head_hash) if self.head_seq else None

    def raise_if_broken(self) -> None:
        """For pipeline tasks: fail, naming the broken entry, unless the ledger is intact."""
        if self.problem is not None:
            raise LedgerBrokenError(
                f"audit ledger broken at {self.problem}; {self.count} entries before it verify. "
                "Treat this as an incident: do not publish, investigate who changed the database"
            )


def check_chain(
    entries: Iterable[Entry],
    keys: AuditKey | Iterable[AuditKey],
    anchor: Anchor | None = None,
) -> VerifyResult:
    """Verify `entries` (in seq order) against `keys`; see the module docstring."""
    ring = keyring(keys)
    count, head_seq, head_hash = 0, 0, GENESIS_HASH
    for entry in entries:
        problem = _entry_problem(entry, head_seq + 1, head_hash, ring, anchor)
        if problem is not None:
            return VerifyResult(count, head_seq, head_hash, problem)
        count, head_seq, head_hash = count + 1, entry.seq, entry.entry_hash
    if anchor is not None and anchor.seq > head_seq:
        problem = Problem(
            anchor.seq,
            Breakage.TRUNCATED,
            f"the anchored entry {anchor} is gone: the ledger ends at entry {head_seq}, "
            "so entries were removed from its end",
        )
        return VerifyResult(count, head_seq, head_hash, problem)
    return VerifyResult(count, head_seq, head_hash)


def _entry_problem(
    entry: Entry,
    expected_seq: int,
    prev_hash: str,
    ring: Mapping[str, AuditKey],
    anchor: Anchor | None,
) -> Problem | None:
    if entry.seq > expected_seq:
        span = (
            f"entry {expected_seq} is"
            if entry.seq == expected_seq + 1
            else f"entries {expected_seq}..{entry.seq - 1} are"
        )
        return Problem(
            expected_seq, Breakage.MISSING, f"{span} missing (the next entry found is {entry.seq})"
        )
    if entry.seq < expected_seq:
        return Problem(
            entry.seq, Breakage.OUT_OF_ORDER, f"found after entry {expected_seq - 1} (duplicate?)"
        )
    if entry.prev_hash != prev_hash:
        return Problem(
            entry.seq,
            Breakage.BROKEN_LINK,
            f"prev_hash {entry.prev_hash} is not the hash of entry {entry.seq - 1} ({prev_hash})",
        )
    digest = entry.content_hash()
    if digest != entry.entry_hash:
        return Problem(
            entry.seq,
            Breakage.HASH_MISMATCH,
            f"its content hashes to {digest}, not the stored {entry.entry_hash}: "
            "a field was changed after the entry was written",
        )
    key = ring.get(entry.key_id)
    if key is None:
        return Problem(
            entry.seq,
            Breakage.UNKNOWN_KEY,
            f"signed with key '{entry.key_id}', not among the verifying keys "
            f"({', '.join(sorted(ring)) or 'none'})",
        )
    if not key.verify(signing_message(digest), entry.signature):
        return Problem(
            entry.seq,
            Breakage.BAD_SIGNATURE,
            f"the signature does not verify with key '{key.key_id}' ({key.algorithm}): "
            "the entry was forged or re-hashed without the key, or the key is wrong",
        )
    if anchor is not None and entry.seq == anchor.seq and entry.entry_hash != anchor.entry_hash:
        return Problem(
            entry.seq,
            Breakage.ANCHOR_MISMATCH,
            f"its hash {entry.entry_hash} differs from the anchored {anchor.entry_hash}: "
            "the ledger was rewritten from this entry on",
        )
    return None
