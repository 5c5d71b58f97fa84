"""A Merkle tree over the audit ledger, exactly as RFC 9162 (Certificate Transparency v2) §2.1 says.

WHY a Merkle tree on top of the hash chain: the chain lets whoever holds the whole
ledger check it, but the public holds only what releases publish. A signed tree head
(size + root) plus short proofs lets anyone check, from a release's files alone, that
its own entries are in the ledger (inclusion, §2.1.3) and that the ledger behind it
extends, unchanged, the one the previous release committed to (consistency, §2.1.4):
an entry rewritten, removed or reordered anywhere before the previous tree head breaks
the proof, whoever holds the signing key.

Hashing (§2.1.1), SHA-256 throughout:

    MTH({})      = SHA-256()                                   (the empty string)
    leaf hash    = SHA-256(0x00 || leaf data)
    MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k = largest power of 2 < n

The prefixes keep a leaf from ever passing for an inner node (second preimages).
What a leaf's data is, for the ledger, is the public log's choice
(`include.audit.public_log`): the 32 bytes of the entry's `entry_hash`.

Memory: `MerkleTree` keeps every complete subtree's hash, level by level, in one
bytearray per level: 32 bytes per leaf plus 32 per inner node, about 66 bytes per
ledger entry with the arrays' slack (measured: 6.6 MB for 100,000 entries, built in
0.3 s; 69 MB for a million). The ledger gets a handful of entries per stage per run,
so a list of hashes is small, and keeping the inner nodes makes every proof O(log n)
hashes (20 inclusion proofs and a consistency proof over a million entries: 0.3 ms)
instead of re-hashing the tree for each of a release's proofs. The verification
functions need no tree at all: a proof and the hashes it is checked against.

Standard library only, so an auditor can read and run this file on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify; the message says which step failed."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below `size` (size ≥ 2): where MTH splits."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_power_of_two(size: int) -> bool:
    return size > 0 and size & (size - 1) == 0


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")


class MerkleTree:
    """An append-only list of leaf hashes and the hash of every complete subtree.

    `levels[j]` holds, 32 bytes each, the hashes of the aligned subtrees of 2**j
    leaves completed so far; any subtree the RFC's recursion needs is either one of
    them or a right edge made of O(log n) of them. Earlier tree sizes stay
    answerable (`root(size)`, proofs `size=`), which is what a consistency proof and
    a rerun of an old release need.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        for leaf in leaf_hashes:
            self.append(leaf)

    @classmethod
    def from_data(cls, leaves: Iterable[bytes]) -> MerkleTree:
        """The tree whose leaves are `leaf_hash(data)` of each item."""
        return cls(leaf_hash(data) for data in leaves)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash (already `leaf_hash`-ed); completes the subtrees it closes."""
        _check_hash(leaf, "a leaf hash")
        self._levels[0] += leaf
        level, count = 0, self.size
        while count % 2 == 0:  # this leaf completed a pair at `level`: hash it one level up
            if level + 1 == len(self._levels):
                self._levels.append(bytearray())
            pair = self._levels[level][-2 * HASH_SIZE :]
            self._levels[level + 1] += node_hash(pair[:HASH_SIZE], pair[HASH_SIZE:])
            level, count = level + 1, count // 2

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is outside a tree of {self.size}")
        return self._node(0, index)

    def _node(self, level: int, index: int) -> bytes:
        start = index * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return size

    def _hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC's recursion reaches (end > start)."""
        count = end - start
        if _is_power_of_two(count) and start % count == 0:  # a complete, stored subtree
            level = count.bit_length() - 1
            return self._node(level, start >> level)
        k = _split(count)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all); EMPTY_ROOT for none."""
        size = self._size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[size]): the audit path, deepest sibling first."""
        size = self._size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        path = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
                path.append(self._hash(start + k, end))
                end = start + k
            else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
                path.append(self._hash(start, start + k))
                start += k
        return path[::-1]

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old_size, D[size]); empty when old_size is 0 or size."""
        size = self._size(size)
        if not 0 <= old_size <= size:
            raise ValueError(f"an earlier tree of {old_size} cannot precede a tree of {size}")
        if old_size in (0, size):
            return []
        proof = []
        start, end, m, whole = 0, size, old_size, True  # SUBPROOF(m, D[start:end], whole)
        while m != end - start:
            k = _split(end - start)
            if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
                proof.append(self._hash(start + k, end))
                end = start + k
            else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
                proof.append(self._hash(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
            proof.append(self._hash(start, end))
        return proof[::-1]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise ProofError unless `proof` puts `leaf` at `index` of the
    tree of `size` leaves whose root is `root`."""
    _check_hash(leaf, "the leaf hash")
    _check_hash(root, "the root hash")
    for position, value in enumerate(proof):
        _check_hash(value, f"proof element {position}")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for value in proof:
        if sn == 0:
            raise ProofError(f"the proof has more elements than a tree of {size} needs")
        if fn & 1 or fn == sn:
            r = node_hash(value, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, value)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the proof has fewer elements than a tree of {size} needs")
    if r != root:
        raise ProofError(
            f"the proof leads to root {r.hex()}, not {root.hex()}: the leaf, its index or "
            "the proof was changed"
        )


def verify_consistency(
    old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless the tree of `size` leaves with `root`
    extends, unchanged, the tree of `old_size` leaves with `old_root`."""
    _check_hash(old_root, "the earlier root hash")
    _check_hash(root, "the root hash")
    for position, value in enumerate(proof):
        _check_hash(value, f"proof element {position}")
    if old_size > size:
        raise ProofError(f"the tree shrank from {old_size} to {size} leaves: history was cut")
    if old_size == size:
        if proof:
            raise ProofError("trees of the same size need an empty proof")
        if old_root != root:
            raise ProofError(
                f"two different roots for the same {size} leaves: the history was rewritten"
            )
        return
    if old_size == 0:  # every tree extends the empty one
        if proof:
            raise ProofError("a tree extends the empty tree with an empty proof")
        if old_root != EMPTY_ROOT:
            raise ProofError("the root of an empty tree is SHA-256 of nothing")
        return
    if not proof:
        raise ProofError(f"an empty proof cannot show that {size} leaves extend {old_size}")
    path = [old_root, *proof] if _is_power_of_two(old_size) else list(proof)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for value in path[1:]:
        if sn == 0:
            raise ProofError(f"the proof has more elements than {old_size} → {size} needs")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(value, fr), node_hash(value, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, value)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the proof has fewer elements than {old_size} → {size} needs")
    if fr != old_root:
        raise ProofError(
            f"the proof does not rebuild the earlier root of {old_size} leaves: its first "
            f"{old_size} leaves are not those the earlier tree head signed (rewritten history)"
        )
    if sr != root:
        raise ProofError(f"the proof does not lead to the root of {size} leaves")
