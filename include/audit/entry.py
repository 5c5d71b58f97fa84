"""One ledger entry, its hash and its signature: the format a verifier must reproduce.

entry_hash = SHA-256( "civic-audit-ledger/v1/entry" NUL
                      canonical_json([prev_hash, seq, recorded_at, run_id, dag_id, step, key_id])
                      NUL
                      payload )

where `recorded_at` is written `YYYY-MM-DDTHH:MM:SS.ffffffZ` and `payload` is the
entry's canonical JSON text exactly as stored. The header is canonical JSON, which
never contains a raw NUL, so the field boundaries are unambiguous; the leading tag
(domain separation) means no other SHA-256 the platform computes (file checksums,
pseudonyms) can ever be mistaken for an entry hash.

signature = sign( "civic-audit-ledger/v1/signature" NUL entry_hash as 32 raw bytes )

The signature covers the hash, and the hash covers every column but itself and
the signature, so no field can change without breaking one of them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from include.audit.canonical import canonical_json, format_timestamp
from include.audit.keys import AuditKey

GENESIS_HASH = "0" * 64  # the prev_hash of the first entry
ENTRY_DOMAIN = b"civic-audit-ledger/v1/entry\x00"
SIGNATURE_DOMAIN = b"civic-audit-ledger/v1/signature\x00"


@dataclass(frozen=True)
class Draft:
    """Everything an entry says, before it is hashed and signed."""

    seq: int
    recorded_at: datetime
    run_id: str
    dag_id: str | None
    step: str
    payload_json: str
    prev_hash: str
    key_id: str

    def content_hash(self) -> str:
        header = canonical_json(
            [
                self.prev_hash,
                self.seq,
                format_timestamp(self.recorded_at),
                self.run_id,
                self.dag_id,
                self.step,
                self.key_id,
            ]
        )
        message = ENTRY_DOMAIN + header.encode("utf-8") + b"\x00" + self.payload_json.encode()
        return hashlib.sha256(message).hexdigest()

    def seal(self, key: AuditKey) -> Entry:
        """The signed entry; `key` must be the key `key_id` names."""
        if key.key_id != self.key_id:
            raise ValueError(f"draft names key '{self.key_id}' but is sealed with '{key.key_id}'")
        digest = self.content_hash()
        return Entry(**vars(self), entry_hash=digest, signature=key.sign(signing_message(digest)))


@dataclass(frozen=True)
class Entry(Draft):
    """A row of `audit.ledger`."""

    entry_hash: str
    signature: str

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.payload_json)
        return loaded


def signing_message(entry_hash: str) -> bytes:
    return SIGNATURE_DOMAIN + bytes.fromhex(entry_hash)
