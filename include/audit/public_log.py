"""The public audit log: what a release publishes of the ledger, so anyone can check its history.

Every release carries two small JSON files beside its data:

- `ledger_checkpoint.json`: a signed tree head (a "checkpoint") of the whole ledger
  as verified just before publishing: its size, the RFC 9162 Merkle root over its
  entries (`include.audit.merkle`), an Ed25519 signature by the ledger's key, the
  key's id and its public key. The manifest carries the same checkpoint.
- `ledger_proofs.json`: the release's own ledger entries (those of the run that
  produced it), in full, each with its inclusion proof; the ledger head the manifest
  records (`ledger.head`), with its inclusion proof; and the consistency proof from
  the checkpoint of the release published before it, with a copy of that checkpoint.

What a leaf is: the 32 bytes of the entry's `entry_hash`, so leaf = SHA-256(0x00 ||
entry_hash). The entry hash already commits to every field of the entry but its
signature (`include.audit.entry`), so the tree commits to every entry's content;
anyone can recompute it from the published fields (the payload as its exact stored
text); the tree is built from the `entry_hash` column alone, never loading a payload;
and the entries a release does not publish (other runs, other sources) appear in its
proofs only as hashes, which reveal nothing of them. The signature is left out of the
leaf: it is a function of the hash and the key, and checked on its own.

What is published of an entry: its payload is counts, ids, object keys and the
pipeline's own messages (row counts, quarantine reason codes, suppression counts,
check outcomes), never a submission's value: the stages write no value of the data
into the ledger (include/validation keeps even failing values out). As a second
guard, only entries of the steps listed in PUBLIC_STEPS are published in full; any
other step's entry (`ingest`'s, which names the raw objects as their deliverer named
them) is published as its hash alone (its inclusion still proven).

The checkpoint's signed text is a C2SP tlog-checkpoint body
(https://c2sp.org/tlog-checkpoint): `<origin>\\n<tree size>\\n<base64 root>\\n`, and for
an Ed25519 key the file also gives it as a signed note (golang.org/x/mod/sumdb/note)
with its verifier key, so transparency-log tooling can check it too. The text starts
with the origin then a newline, so it can never be mistaken for an entry signature's
message (`civic-audit-ledger/v1/signature` NUL ...).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from include.audit.chain import Anchor
from include.audit.entry import Entry, signing_message
from include.audit.errors import PublicLogError
from include.audit.keys import ED25519, AuditKey, Ed25519Key
from include.audit.merkle import (
    HASH_SIZE,
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

ORIGIN = "civic-audit-ledger/v1"
CHECKPOINT_NAME = "ledger_checkpoint.json"
PROOFS_NAME = "ledger_proofs.json"
LOG_FORMAT = "civic-audit-log/v1"
# Steps whose payloads are counts, ids and the pipeline's messages by construction. Not
# `ingest`: it names the raw objects a deliverer sent, and a deliverer may name a file after
# the person it is about (`plainte_M_Dupont.json`); its entry is published as its hash.
PUBLIC_STEPS = frozenset(
    {
        "scrub",
        "anonymize",
        "validate",
        "load",
        "accounting",
        "verify_ledger",
        "publish",
        "work_zone",
    }
)
_NOTE_ED25519 = b"\x01"  # the signed-note algorithm byte of an Ed25519 key
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"

ABOUT_CHECKPOINT = (
    "Signed tree head of the platform's audit ledger when this release was published: "
    "RFC 9162 Merkle tree over every ledger entry (leaf = SHA-256(0x00 || entry_hash as 32 "
    "bytes)); signed_text is signed with Ed25519 by the ledger's key. Check it with "
    "`civic audit verify-release <release>` or by hand (README.md)."
)
ABOUT_PROOFS = (
    "This release's own audit ledger entries, in full, with their RFC 9162 inclusion proofs "
    "(hex, deepest first) against the tree head of ledger_checkpoint.json; the manifest's "
    "ledger head with its inclusion proof; and the RFC 9162 consistency proof from the "
    "checkpoint of the release published before this one. entry_hash = SHA-256("
    "'civic-audit-ledger/v1/entry' 0x00 compact-json([prev_hash, seq, recorded_at, run_id, "
    "dag_id, step, key_id]) 0x00 payload)."
)


def entry_leaf(entry_hash: str) -> bytes:
    """The Merkle leaf hash of a ledger entry: SHA-256(0x00 || entry_hash as 32 bytes)."""
    raw = bytes.fromhex(entry_hash)
    if len(raw) != HASH_SIZE:
        raise ValueError(f"entry hash {entry_hash!r} is not 32 bytes of hex")
    return leaf_hash(raw)


def _hex_hash(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise ValueError(f"{what} is not a SHA-256 hash in lower-case hex: {value!r}")
    return bytes.fromhex(value)


def _count(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{what} is not a count: {value!r}")
    return value


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _proof(value: object, what: str) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list of hashes")
    return tuple(_hex_hash(item, f"{what}[{index}]") for index, item in enumerate(value))


@dataclass(frozen=True)
class TreeHead:
    """The ledger's first `size` entries and their Merkle root."""

    size: int
    root: bytes

    def text(self) -> str:
        """The signed text: a C2SP tlog-checkpoint body (origin, size, base64 root)."""
        return f"{ORIGIN}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


def note_key_hash(name: str, public: Ed25519Key) -> bytes:
    """The 4-byte key hash of a signed note: SHA-256(name "\\n" 0x01 public key)[:4]."""
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + _NOTE_ED25519 + public.public_raw()
    ).digest()[:4]


def note_verifier_key(public: Ed25519Key, name: str = ORIGIN) -> str:
    """`<name>+<key hash>+<base64(0x01 || key)>`: the key as signed-note tools take it."""
    encoded = base64.b64encode(_NOTE_ED25519 + public.public_raw()).decode("ascii")
    return f"{name}+{note_key_hash(name, public).hex()}+{encoded}"


def signed_note(text: str, public: Ed25519Key, signature: bytes, name: str = ORIGIN) -> str:
    """`text` as a signed note: text, blank line, `— <name> base64(key hash || signature)`."""
    blob = base64.b64encode(note_key_hash(name, public) + signature).decode("ascii")
    return f"{text}\n\u2014 {name} {blob}\n"


def fingerprint(public: Ed25519Key) -> str:
    """SHA-256 of the raw public key: what a citizen compares with the published one."""
    return hashlib.sha256(public.public_raw()).hexdigest()


@dataclass(frozen=True)
class SignedCheckpoint:
    """A tree head and the ledger key's signature of its text."""

    head: TreeHead
    key_id: str
    algorithm: str
    signature: str  # hex
    public_key: str | None  # Ed25519, base64url; None for a key with no public part (HMAC)

    @classmethod
    def sign(cls, head: TreeHead, key: AuditKey) -> SignedCheckpoint:
        public = key.public_key()
        return cls(
            head,
            key.key_id,
            key.algorithm,
            key.sign(head.text().encode("utf-8")),
            None if public is None else public.public_b64(),
        )

    def carried_key(self) -> Ed25519Key | None:
        """The public key the checkpoint names (only as good as whoever wrote the file)."""
        if self.public_key is None or self.algorithm != ED25519:
            return None
        return Ed25519Key.from_public(self.key_id, self.public_key)

    def verified_by(self, key: AuditKey) -> bool:
        return key.verify(self.head.text().encode("utf-8"), self.signature)

    def to_json(self) -> dict[str, Any]:
        public = self.carried_key()
        return {
            "origin": ORIGIN,
            "tree_size": self.head.size,
            "root_hash": self.head.root.hex(),
            "signed_text": self.head.text(),
            "signature": {
                "key_id": self.key_id,
                "algorithm": self.algorithm,
                "value": self.signature,
            },
            "public_key": None
            if public is None
            else {
                "ed25519": self.public_key,
                "sha256": fingerprint(public),
                "note_verifier_key": note_verifier_key(public),
            },
            "signed_note": None
            if public is None
            else signed_note(self.head.text(), public, bytes.fromhex(self.signature)),
        }

    @classmethod
    def from_json(cls, value: object, where: str) -> SignedCheckpoint:
        """Read a checkpoint; ValueError, naming the field, when it is malformed or its
        derived fields (text, fingerprint, note) disagree with the rest."""
        data = _mapping(value, f"{where}: the checkpoint")
        if data.get("origin") != ORIGIN:
            raise ValueError(f"{where}: the checkpoint's origin is not {ORIGIN!r}")
        head = TreeHead(
            _count(data.get("tree_size"), f"{where}: tree_size"),
            _hex_hash(data.get("root_hash"), f"{where}: root_hash"),
        )
        signature = _mapping(data.get("signature"), f"{where}: signature")
        value_hex = signature.get("value")
        if not isinstance(value_hex, str) or not re.fullmatch(r"(?:[0-9a-f]{2})+", value_hex):
            raise ValueError(f"{where}: the signature value is not hex")
        public = data.get("public_key")
        public_b64 = None
        if public is not None:
            public_b64 = _mapping(public, f"{where}: public_key").get("ed25519")
            if not isinstance(public_b64, str):
                raise ValueError(f"{where}: public_key has no ed25519 key")
        checkpoint = cls(
            head,
            str(signature.get("key_id", "")),
            str(signature.get("algorithm", "")),
            value_hex,
            public_b64,
        )
        try:
            expected = checkpoint.to_json()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: the checkpoint's key is malformed ({exc})") from None
        for name in ("signed_text", "public_key", "signed_note"):
            if data.get(name) != expected[name]:
                raise ValueError(
                    f"{where}: {name} does not match the tree size, root, key and signature "
                    "the checkpoint gives"
                )
        return checkpoint


@dataclass(frozen=True)
class PreviousCheckpoint:
    """The checkpoint of the release published before, and that release's id."""

    release_id: str
    checkpoint: SignedCheckpoint

    def to_json(self) -> dict[str, Any]:
        return {"release_id": self.release_id, **self.checkpoint.to_json()}

    @classmethod
    def from_json(cls, value: object, where: str) -> PreviousCheckpoint:
        data = _mapping(value, f"{where}: the previous checkpoint")
        release_id = data.get("release_id")
        if not isinstance(release_id, str) or not release_id:
            raise ValueError(f"{where}: the previous checkpoint names no release")
        rest = {key: item for key, item in data.items() if key != "release_id"}
        return cls(release_id, SignedCheckpoint.from_json(rest, where))


def _entry_json(entry: Entry, proof: Sequence[bytes]) -> dict[str, Any]:
    common = {"seq": entry.seq, "leaf_index": entry.seq - 1, "step": entry.step}
    tail = {"entry_hash": entry.entry_hash, "inclusion_proof": [p.hex() for p in proof]}
    if entry.step not in PUBLIC_STEPS:
        return {**common, "withheld": "step not among those published in full", **tail}
    return {
        **common,
        "recorded_at": entry.recorded_at.astimezone(UTC).strftime(_TIMESTAMP),
        "run_id": entry.run_id,
        "dag_id": entry.dag_id,
        "key_id": entry.key_id,
        "prev_hash": entry.prev_hash,
        "payload": entry.payload_json,
        **tail,
        "signature": entry.signature,
    }


@dataclass(frozen=True)
class ReleaseLog:
    """What one release publishes of the ledger (see the module docstring)."""

    checkpoint: SignedCheckpoint
    head: Anchor
    head_proof: tuple[bytes, ...]
    entries: tuple[tuple[Entry, tuple[bytes, ...]], ...]
    previous: PreviousCheckpoint | None
    consistency: tuple[bytes, ...]

    def checkpoint_document(self, source: str, release_id: str) -> dict[str, Any]:
        return {
            "format": LOG_FORMAT,
            "about": ABOUT_CHECKPOINT,
            "source": source,
            "release_id": release_id,
            "ledger_head": str(self.head),
            "checkpoint": self.checkpoint.to_json(),
        }

    def proofs_document(self, source: str, release_id: str) -> dict[str, Any]:
        return {
            "format": LOG_FORMAT,
            "about": ABOUT_PROOFS,
            "source": source,
            "release_id": release_id,
            "tree_size": self.checkpoint.head.size,
            "root_hash": self.checkpoint.head.root.hex(),
            "head": {
                "seq": self.head.seq,
                "leaf_index": self.head.seq - 1,
                "entry_hash": self.head.entry_hash,
                "inclusion_proof": [p.hex() for p in self.head_proof],
            },
            "entries": [_entry_json(entry, proof) for entry, proof in self.entries],
            "consistency": None
            if self.previous is None
            else {
                "from_release": self.previous.release_id,
                "from_tree_size": self.previous.checkpoint.head.size,
                "previous_checkpoint": self.previous.to_json(),
                "proof": [p.hex() for p in self.consistency],
            },
        }

    def manifest_entry(self) -> dict[str, Any]:
        """What the manifest's `ledger` object gains beside its `head`."""
        return {
            "checkpoint": self.checkpoint.to_json(),
            "previous_checkpoint": None if self.previous is None else self.previous.to_json(),
            "files": [CHECKPOINT_NAME, PROOFS_NAME],
        }


def build_release_log(
    tree: MerkleTree,
    own: Iterable[Entry],
    key: AuditKey,
    head: Anchor,
    previous: PreviousCheckpoint | None = None,
    committed: SignedCheckpoint | None = None,
) -> ReleaseLog:
    """The public log of a release whose ledger, as verified, is `tree` ending at `head`.

    `own` are the run's entries (in the tree); `previous` the checkpoint of the release
    published before (the ledger must extend it, unchanged, or PublicLogError: nothing is
    published over a rewritten or truncated history); `committed` the checkpoint a first
    attempt already published for this release, reused as it is when it signs this very
    tree head (a rerun rebuilds the same bytes, even if the key rotated meanwhile).
    """
    if tree.size != head.seq or tree.leaf(head.seq - 1) != entry_leaf(head.entry_hash):
        raise PublicLogError(
            f"the ledger read back does not end at the verified head {head} (it holds "
            f"{tree.size} entries): it changed since it was verified"
        )
    root = tree.root()
    consistency: tuple[bytes, ...] = ()
    if previous is not None:
        old = previous.checkpoint.head
        if old.size > tree.size or tree.root(old.size) != old.root:
            raise PublicLogError(
                f"the ledger's first {old.size} entries no longer hash to the root release "
                f"{previous.release_id} signed ({old.root.hex()[:16]}…): its history was "
                "rewritten or truncated since that release"
            )
        consistency = tuple(tree.consistency_proof(old.size))
    entries = []
    for entry in own:
        if not 1 <= entry.seq <= tree.size or tree.leaf(entry.seq - 1) != entry_leaf(
            entry.content_hash()
        ):
            raise PublicLogError(
                f"entry {entry.seq} of run {entry.run_id} does not hash to leaf {entry.seq - 1} "
                "of the verified ledger"
            )
        entries.append((entry, tuple(tree.inclusion_proof(entry.seq - 1))))
    tree_head = TreeHead(tree.size, root)
    if committed is not None and committed.head != tree_head:
        raise PublicLogError(
            f"this release was already published with a checkpoint of {committed.head.size} "
            f"entries and root {committed.head.root.hex()[:16]}…; the ledger now gives "
            f"{root.hex()[:16]}… for them: it was rewritten since"
        )
    return ReleaseLog(
        checkpoint=committed or SignedCheckpoint.sign(tree_head, key),
        head=head,
        head_proof=tuple(tree.inclusion_proof(head.seq - 1)),
        entries=tuple(entries),
        previous=previous,
        consistency=consistency,
    )


def parse_public_key(text: str, key_id: str = "given") -> Ed25519Key:
    """An Ed25519 public key from what an auditor may hold: 64 hex digits, base64url (as
    `civic audit public-key` and the checkpoint give it), a PEM file, a signed-note
    verifier key, or the connection JSON `civic audit public-key` prints."""
    lines = [line for line in text.strip().splitlines() if not line.lstrip().startswith("#")]
    body = "\n".join(lines).strip()
    raw: bytes | None = None
    if body.startswith("{"):
        try:
            extra = json.loads(body).get("extra", {})
            return Ed25519Key.from_public(str(extra.get("key_id", key_id)), extra["public_key"])
        except (ValueError, KeyError, AttributeError, TypeError):
            raise ValueError("the JSON holds no extra.public_key") from None
    if body.startswith("-----BEGIN PUBLIC KEY-----"):
        loaded = load_pem_public_key(body.encode("ascii"))
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return Ed25519Key(key_id, loaded)
    note_key = re.fullmatch(r"[^\s+]+\+[0-9a-f]{8}\+([A-Za-z0-9+/]{44})", body)
    if note_key:  # a signed-note verifier key: name+hash+base64(0x01 || key)
        decoded = base64.b64decode(note_key.group(1))
        raw = decoded[1:] if decoded[:1] == _NOTE_ED25519 else None
    elif re.fullmatch(r"[0-9a-fA-F]{64}", body):
        raw = bytes.fromhex(body)
    elif re.fullmatch(r"[A-Za-z0-9_\-+/]{43}=?", body):
        standard = body.rstrip("=").replace("-", "+").replace("_", "/") + "="
        try:  # base64url (the platform's form) or standard base64
            raw = base64.b64decode(standard, validate=True)
        except binascii.Error:
            raw = None
    if raw is None or len(raw) != 32:
        raise ValueError(
            "not an Ed25519 public key: give 64 hex digits, 43 base64url characters, a PEM "
            "file, a signed-note verifier key, or what `civic audit public-key` prints"
        )
    return Ed25519Key(key_id, Ed25519PublicKey.from_public_bytes(raw))


class Verdict(StrEnum):
    OK = "ok"
    FAILED = "FAILED"  # tampered: the public files contradict each other or the key
    UNCHECKED = "unchecked"  # could not be checked from what was given
    NOTE = "note"  # said for the record; neither a success nor a failure


@dataclass(frozen=True)
class Finding:
    """One check of a release and its outcome, in a sentence."""

    check: str
    verdict: Verdict
    detail: str


def _signature_finding(
    label: str, checkpoint: SignedCheckpoint, keys: Sequence[Ed25519Key]
) -> Finding:
    if checkpoint.algorithm != ED25519:
        return Finding(
            label,
            Verdict.UNCHECKED,
            f"signed with the {checkpoint.algorithm} key '{checkpoint.key_id}': only the holder "
            "of its secret can check it; ask the platform for an Ed25519 ledger key",
        )
    for key in keys:
        if checkpoint.verified_by(key):
            return Finding(
                label,
                Verdict.OK,
                f"Ed25519 signature of {checkpoint.head.size} entries, root "
                f"{checkpoint.head.root.hex()[:16]}…, by key '{checkpoint.key_id}' "
                f"(sha256 {fingerprint(key)[:16]}…)",
            )
    return Finding(
        label,
        Verdict.FAILED,
        f"the signature of key '{checkpoint.key_id}' does not verify with "
        f"{'the public key' if len(keys) == 1 else 'any of the public keys'} given: the "
        "checkpoint was forged or altered, or signed by another key",
    )


def _entry_of(item: Mapping[str, Any], where: str) -> Entry:
    """A published entry back as an `Entry`, its fields checked for type."""
    try:
        recorded_at = datetime.strptime(str(item["recorded_at"]), _TIMESTAMP).replace(tzinfo=UTC)
        strings = ("run_id", "step", "key_id", "prev_hash", "payload", "entry_hash", "signature")
        if not all(isinstance(item[name], str) for name in strings):
            raise TypeError("a field that must be text is not")
        if item["dag_id"] is not None and not isinstance(item["dag_id"], str):
            raise TypeError("dag_id is neither text nor null")
        return Entry(
            seq=_count(item["seq"], "seq"),
            recorded_at=recorded_at,
            run_id=item["run_id"],
            dag_id=item["dag_id"],
            step=item["step"],
            payload_json=item["payload"],
            prev_hash=item["prev_hash"],
            key_id=item["key_id"],
            entry_hash=item["entry_hash"],
            signature=item["signature"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: malformed entry ({exc})") from None


def _entry_signature(
    label: str,
    entry: Entry,
    checkpoint: SignedCheckpoint,
    keys: Sequence[Ed25519Key],
    notes: list[Finding],
) -> list[Finding]:
    """A failure if the entry's signature does not verify with a key that should verify
    it; a note (added to `notes`) if its key is not among those given."""
    if any(key.verify(signing_message(entry.entry_hash), entry.signature) for key in keys):
        return []
    if entry.key_id == checkpoint.key_id and checkpoint.algorithm == ED25519:
        return [
            Finding(
                label, Verdict.FAILED, f"its signature does not verify with key '{entry.key_id}'"
            )
        ]
    notes.append(
        Finding(
            label,
            Verdict.NOTE,
            f"signed with key '{entry.key_id}', whose public key was not given: its signature "
            "was not checked (the inclusion proof still covers its content)",
        )
    )
    return []


def _entry_findings(
    items: Sequence[object],
    tree: TreeHead,
    checkpoint: SignedCheckpoint,
    keys: Sequence[Ed25519Key],
    run_id: object,
) -> list[Finding]:
    failed: list[Finding] = []
    notes: list[Finding] = []
    for index, value in enumerate(items):
        where = f"{PROOFS_NAME} entries[{index}]"
        label = f"entry #{index + 1} of {len(items)}"
        try:
            item = _mapping(value, where)
            proof = _proof(item.get("inclusion_proof"), f"{where}.inclusion_proof")
            if "withheld" in item:
                seq = _count(item.get("seq"), f"{where}.seq")
                digest = _hex_hash(item.get("entry_hash"), f"{where}.entry_hash").hex()
                label = f"entry {seq}"
                notes.append(
                    Finding(
                        label,
                        Verdict.NOTE,
                        f"step {item.get('step')!r}: content withheld; only its hash's inclusion "
                        "is checked",
                    )
                )
            else:
                entry = _entry_of(item, where)
                seq, digest, label = entry.seq, entry.content_hash(), f"entry {entry.seq}"
                if digest != entry.entry_hash:
                    failed.append(
                        Finding(
                            label,
                            Verdict.FAILED,
                            f"its published content hashes to {digest[:16]}…, not its "
                            f"entry_hash {entry.entry_hash[:16]}…: the entry was rewritten",
                        )
                    )
                    continue
                if entry.run_id != run_id:
                    failed.append(
                        Finding(
                            label,
                            Verdict.FAILED,
                            f"it belongs to run {entry.run_id!r}, not to this release's run "
                            f"{run_id!r}",
                        )
                    )
                failed += _entry_signature(label, entry, checkpoint, keys, notes)
            if item.get("leaf_index") != seq - 1:
                raise ValueError(f"{where}: leaf_index is not seq - 1")
            verify_inclusion(seq - 1, tree.size, entry_leaf(digest), proof, tree.root)
        except ProofError as exc:
            failed.append(Finding(label, Verdict.FAILED, f"inclusion proof: {exc}"))
        except ValueError as exc:
            failed.append(Finding(label, Verdict.FAILED, str(exc)))
    if not failed:
        notes.insert(
            0,
            Finding(
                "entries",
                Verdict.OK,
                f"{len(items)} entries of run {run_id!r}: content hashes and inclusion in the "
                f"tree of {tree.size} entries",
            ),
        )
    return failed + notes


def _head_finding(manifest_head: object, value: object, tree: TreeHead) -> Finding:
    try:
        head = _mapping(value, f"{PROOFS_NAME} head")
        seq = _count(head.get("seq"), "head.seq")
        digest = _hex_hash(head.get("entry_hash"), "head.entry_hash")
        if f"{seq}:{digest.hex()}" != manifest_head:
            return Finding(
                "ledger head",
                Verdict.FAILED,
                f"the proven head {seq}:{digest.hex()[:16]}… is not the manifest's "
                f"ledger.head {manifest_head}",
            )
        if seq != tree.size:
            return Finding(
                "ledger head",
                Verdict.FAILED,
                f"the head is entry {seq}, but the checkpoint covers {tree.size} entries",
            )
        proof = _proof(head.get("inclusion_proof"), "head.inclusion_proof")
        verify_inclusion(seq - 1, tree.size, leaf_hash(digest), proof, tree.root)
    except (ProofError, ValueError) as exc:
        return Finding("ledger head", Verdict.FAILED, str(exc))
    return Finding(
        "ledger head",
        Verdict.OK,
        f"the manifest's ledger.head {seq}:{digest.hex()[:16]}… is the tree's last leaf",
    )


def _consistency_findings(
    consistency: object,
    manifest_previous: object,
    tree: TreeHead,
    keys: Sequence[Ed25519Key],
    carried_keys: bool,
    previous: tuple[PreviousCheckpoint, str] | None,
) -> list[Finding]:
    label = "consistency"
    if consistency is None:
        if previous is not None:
            return [
                Finding(
                    label,
                    Verdict.FAILED,
                    f"release {previous[0].release_id} ({previous[1]}) has a checkpoint, but "
                    "this release carries no consistency proof from any earlier checkpoint",
                )
            ]
        return [
            Finding(
                label,
                Verdict.NOTE,
                "no earlier checkpoint: the first release with a public log (or the release "
                "before it predates the public log)",
            )
        ]
    try:
        block = _mapping(consistency, f"{PROOFS_NAME} consistency")
        carried = PreviousCheckpoint.from_json(block.get("previous_checkpoint"), PROOFS_NAME)
        proof = _proof(block.get("proof"), "consistency.proof")
    except ValueError as exc:
        return [Finding(label, Verdict.FAILED, str(exc))]
    findings = []
    if carried.to_json() != manifest_previous:
        findings.append(
            Finding(
                label,
                Verdict.FAILED,
                "the previous checkpoint in ledger_proofs.json differs from the manifest's",
            )
        )
    if previous is None:
        old, source = carried, "the copy this release carries"
        findings.append(
            Finding(
                "previous checkpoint",
                Verdict.NOTE,
                f"release {carried.release_id}'s checkpoint read from the copy this release "
                "carries (weaker: whoever rewrote both could forge it); give --previous, or "
                "keep the previous release beside this one, to read its own",
            )
        )
    else:
        old, source = previous
        if old.release_id != carried.release_id:
            return [
                *findings,
                Finding(
                    label,
                    Verdict.UNCHECKED,
                    f"the previous release given is {old.release_id}, but this release proves "
                    f"consistency from release {carried.release_id}: give that one",
                ),
            ]
        if old.checkpoint != carried.checkpoint:
            findings.append(
                Finding(
                    "previous checkpoint",
                    Verdict.FAILED,
                    f"release {old.release_id}'s own checkpoint ({source}: "
                    f"{old.checkpoint.head.size} entries, root "
                    f"{old.checkpoint.head.root.hex()[:16]}…) differs from the copy this "
                    f"release carries ({carried.checkpoint.head.size} entries, root "
                    f"{carried.checkpoint.head.root.hex()[:16]}…): the copy was forged",
                )
            )
    own_key = old.checkpoint.carried_key() if carried_keys else None
    findings.append(
        _signature_finding(
            f"checkpoint signature of release {old.release_id}",
            old.checkpoint,
            [*keys, *([own_key] if own_key else [])],
        )
    )
    try:
        verify_consistency(
            old.checkpoint.head.size, tree.size, old.checkpoint.head.root, tree.root, proof
        )
    except ProofError as exc:
        findings.append(
            Finding(
                label,
                Verdict.FAILED,
                f"the ledger behind this release does not extend the one release "
                f"{old.release_id} signed ({source}): {exc}",
            )
        )
    else:
        findings.append(
            Finding(
                label,
                Verdict.OK,
                f"the {tree.size} entries extend, unchanged, the {old.checkpoint.head.size} "
                f"release {old.release_id} signed ({source})",
            )
        )
    return findings


def check_release_log(
    manifest: Mapping[str, Any],
    checkpoint_document: object,
    proofs_document: object,
    keys: Sequence[Ed25519Key],
    *,
    carried_keys: bool = False,
    previous: tuple[PreviousCheckpoint, str] | None = None,
) -> list[Finding]:
    """Every check of a release's public log, from its files and public keys alone.

    `keys` are the public keys trusted to sign checkpoints; `carried_keys` says they
    were read from the release itself (then a previous checkpoint may also be checked
    with the key it carries). `previous` is the previous release's checkpoint read from
    that release (and where), if the caller could; else the copy this release carries
    is used, and a note says it is weaker."""
    ledger = manifest.get("ledger")
    ledger = ledger if isinstance(ledger, Mapping) else {}
    try:
        document = _mapping(checkpoint_document, CHECKPOINT_NAME)
        checkpoint = SignedCheckpoint.from_json(document.get("checkpoint"), CHECKPOINT_NAME)
    except ValueError as exc:
        return [Finding("checkpoint", Verdict.FAILED, str(exc))]
    findings = []
    if document.get("checkpoint") != ledger.get("checkpoint"):
        findings.append(
            Finding(
                "checkpoint",
                Verdict.FAILED,
                f"{CHECKPOINT_NAME} differs from the checkpoint manifest.json carries",
            )
        )
    findings.append(_signature_finding("checkpoint signature", checkpoint, keys))
    tree = checkpoint.head
    try:
        proofs = _mapping(proofs_document, PROOFS_NAME)
        if (proofs.get("tree_size"), proofs.get("root_hash")) != (tree.size, tree.root.hex()):
            raise ValueError(
                f"{PROOFS_NAME} proves against another tree head than {CHECKPOINT_NAME}"
            )
        items = proofs.get("entries")
        if not isinstance(items, list):
            raise ValueError(f"{PROOFS_NAME} has no list of entries")
    except ValueError as exc:
        return [*findings, Finding("proofs", Verdict.FAILED, str(exc))]
    findings.append(_head_finding(ledger.get("head"), proofs.get("head"), tree))
    run = manifest.get("run")
    run_id = run.get("run_id") if isinstance(run, Mapping) else None
    findings += _entry_findings(items, tree, checkpoint, keys, run_id)
    findings += _consistency_findings(
        proofs.get("consistency"),
        ledger.get("previous_checkpoint"),
        tree,
        keys,
        carried_keys,
        previous,
    )
    return findings
