"""The Merkle tree is RFC 9162's, bit for bit: published test vectors, then properties.

The vectors are those of the Go reference implementation, transparency-dev/merkle
(https://github.com/transparency-dev/merkle): `rfc6962/rfc6962_test.go`
(TestRFC6962Hasher: empty root, empty leaf, leaf "L123456", node of "N123" and "N456")
and `proof/verify_test.go` (the 8 leaves, the roots of their first 1..8, the
inclusion and consistency proofs, and the corruptions its verifier must refuse). Every
other test could pass against a self-consistent tree nobody else can check; these would
fail if a prefix, the split rule or a proof order drifted from the standard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from include.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# transparency-dev/merkle rfc6962/rfc6962_test.go, TestRFC6962Hasher.
HASHER_VECTORS = [
    ("empty root", EMPTY_ROOT, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (
        "empty leaf",
        leaf_hash(b""),
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    ),
    (
        "leaf L123456",
        leaf_hash(b"L123456"),
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56",
    ),
    (
        "node N123 N456",
        node_hash(b"N123", b"N456"),
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb",
    ),
]

# transparency-dev/merkle proof/verify_test.go: `leaves` and `roots` (roots[i] is the root
# of the first i + 1 leaves).
LEAVES = [h(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip
ROOTS = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# `inclusionProofs` (leaf numbers there are 1-based; here the 0-based index).
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]  # fmt: skip
# `consistencyProofs`.
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def refused(check: Callable[..., None], *args: object) -> bool:
    """True if `check(*args)` raises ProofError."""
    try:
        check(*args)
    except ProofError:
        return True
    return False


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 §2.1.1 writes it, recursively, with no stored levels."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


@pytest.mark.parametrize(
    ("name", "got", "want"), HASHER_VECTORS, ids=[v[0] for v in HASHER_VECTORS]
)
def test_hashing_matches_the_reference_vectors(name: str, got: bytes, want: str) -> None:
    assert got.hex() == want


def test_leaf_and_node_prefixes_keep_them_apart() -> None:
    left, right = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(left, right) != leaf_hash(left + right)  # no second preimage
    assert node_hash(left, right) != node_hash(right, left)  # order matters


def test_roots_of_every_prefix_match_the_reference_vectors() -> None:
    tree = MerkleTree.from_data(LEAVES)
    assert tree.root(0) == EMPTY_ROOT
    assert [tree.root(size) for size in range(1, 9)] == ROOTS
    assert tree.root() == ROOTS[-1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, proof: list[str]
) -> None:
    tree = MerkleTree.from_data(LEAVES)
    assert [p.hex() for p in tree.inclusion_proof(index, size)] == proof
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), list(map(h, proof)), ROOTS[size - 1])


@pytest.mark.parametrize(("old", "size", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(
    old: int, size: int, proof: list[str]
) -> None:
    tree = MerkleTree.from_data(LEAVES)
    assert [p.hex() for p in tree.consistency_proof(old, size)] == proof
    verify_consistency(old, size, ROOTS[old - 1], ROOTS[size - 1], list(map(h, proof)))


def _inclusion_corruptions(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> list[tuple[str, tuple]]:
    """verify_test.go's corruptInclusionProof: each must be refused."""
    probes = [
        ("index - 1", (index - 1, size, leaf, proof, root)),
        ("index + 1", (index + 1, size, leaf, proof, root)),
        ("index ^ 2", (index ^ 2, size, leaf, proof, root)),
        ("size * 2", (index, size * 2, leaf, proof, root)),
        ("size / 2", (index, size // 2, leaf, proof, root)),
        ("wrong leaf", (index, size, leaf_hash(b"WrongLeaf"), proof, root)),
        ("empty root", (index, size, leaf, proof, EMPTY_ROOT)),
        ("random root", (index, size, leaf, proof, SOME_HASH)),
        ("trailing root", (index, size, leaf, [*proof, root], root)),
        ("preceding root", (index, size, leaf, [root, *proof], root)),
    ]
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((f"proof[{i}] bit 3", (index, size, leaf, flipped, root)))
    if proof:
        probes.append(("removed component", (index, size, leaf, proof[:-1], root)))
    if len(proof) > 1:
        probes.append(
            ("inserted component", (index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root))
        )
    return [(name, args) for name, args in probes if args[0] >= 0]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION[:4])
def test_corrupted_inclusion_proofs_are_refused(index: int, size: int, proof: list[str]) -> None:
    good = (index, size, leaf_hash(LEAVES[index]), list(map(h, proof)), ROOTS[size - 1])
    accepted = [
        name for name, args in _inclusion_corruptions(*good) if not refused(verify_inclusion, *args)
    ]
    assert accepted == []


@pytest.mark.parametrize(("old", "size", "proof"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_are_refused(old: int, size: int, proof: list[str]) -> None:
    """verify_test.go's corruptConsistencyProof: each must be refused."""
    r1, r2, p = ROOTS[old - 1], ROOTS[size - 1], list(map(h, proof))
    probes = [
        (old - 1, size, r1, r2, p),
        (old + 1, size, r1, r2, p),
        (old ^ 2, size, r1, r2, p),
        (old, size * 2, r1, r2, p),
        (old, size // 2, r1, r2, p),
        (old, size, SOME_HASH, r2, p),
        (old, size, r1, SOME_HASH, p),
        (old, size, r2, r1, p),
        (old, size, r1, r2, []),
        (old, size, r1, r2, [*p, r1]),
        (old, size, r1, r2, [*p, r2]),
        (old, size, r1, r2, [r1, *p]),
        (old, size, r1, r2, [r2, *p]),
        (old, size, r1, r2, [p[0], *p]),
        (old, size, r1, r2, p[:-1]),
    ]
    for i in range(len(p)):
        flipped = [*p]
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((old, size, r1, r2, flipped))
    accepted = [n for n, probe in enumerate(probes) if not refused(verify_consistency, *probe)]
    assert accepted == []


def test_edge_sizes_follow_the_rfc() -> None:
    tree = MerkleTree.from_data(LEAVES)
    assert tree.consistency_proof(0) == []
    assert tree.consistency_proof(8) == []
    verify_consistency(0, 8, EMPTY_ROOT, ROOTS[-1], [])
    verify_consistency(8, 8, ROOTS[-1], ROOTS[-1], [])
    with pytest.raises(ProofError, match="shrank"):
        verify_consistency(8, 7, ROOTS[-1], ROOTS[-2], [])
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(8, 8, ROOTS[-1], ROOTS[-2], [])
    with pytest.raises(ProofError):
        verify_inclusion(0, 0, leaf_hash(b""), [], EMPTY_ROOT)
    with pytest.raises(ValueError, match="not in a tree"):
        tree.inclusion_proof(8)
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(0, 1, b"short", [], ROOTS[0])


histories = st.lists(st.binary(max_size=6), min_size=1, max_size=160)


@settings(max_examples=150, deadline=None)
@given(histories, st.data())
def test_every_proof_verifies_and_roots_match_the_rfc_definition(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree.from_data(leaves)
    size = data.draw(st.integers(1, len(leaves)), "size")
    index = data.draw(st.integers(0, size - 1), "index")
    old = data.draw(st.integers(0, size), "old size")
    root = reference_root(leaves[:size])
    assert tree.root(size) == root
    verify_inclusion(index, size, leaf_hash(leaves[index]), tree.inclusion_proof(index, size), root)
    proof = tree.consistency_proof(old, size)
    verify_consistency(old, size, reference_root(leaves[:old]), root, proof)


def _edited(leaves: list[bytes], data: st.DataObject, old: int) -> list[bytes]:
    """The history rewritten somewhere in its first `old` leaves, then grown again: an
    edit, a reorder or a truncation, drawn by hypothesis; never the same first leaves."""
    kind = data.draw(
        st.sampled_from(["edit", "truncate", *(["reorder"] if old >= 2 else [])]), "kind"
    )
    changed = list(leaves)
    if kind == "edit":
        at = data.draw(st.integers(0, old - 1), "at")
        changed[at] = data.draw(st.binary(max_size=6).filter(lambda b: b != leaves[at]), "to")
    elif kind == "reorder":
        i, j = data.draw(st.lists(st.integers(0, old - 1), min_size=2, max_size=2, unique=True))
        assume(leaves[i] != leaves[j])
        changed[i], changed[j] = changed[j], changed[i]
    else:
        cut = data.draw(st.integers(0, old - 1), "cut at")
        changed = changed[:cut]
    changed += data.draw(st.lists(st.binary(max_size=6), max_size=40), "appended")
    assume(changed[:old] != leaves[:old])
    return changed


@settings(max_examples=200, deadline=None)
@given(histories, st.data())
def test_any_rewrite_of_the_signed_history_breaks_the_proofs(
    leaves: list[bytes], data: st.DataObject
) -> None:
    """A checkpoint of the first `old` leaves was published. Whatever the log holder then
    does to those leaves, the honest checks of the next tree head fail: the consistency
    proof it can produce, and the old proofs of the leaves that changed."""
    old = data.draw(st.integers(1, len(leaves)), "old size")
    old_tree = MerkleTree.from_data(leaves[:old])
    old_root = old_tree.root()
    changed = _edited(leaves, data, old)
    new_tree = MerkleTree.from_data(changed)
    proof = [] if new_tree.size < old else new_tree.consistency_proof(old)
    assert refused(verify_consistency, old, new_tree.size, old_root, new_tree.root(), proof)
    # The leaf the old checkpoint proved at a changed place no longer proves into the new tree.
    moved = next(i for i in range(old) if i >= len(changed) or changed[i] != leaves[i])
    if moved < new_tree.size:
        assert refused(
            verify_inclusion,
            moved,
            new_tree.size,
            leaf_hash(leaves[moved]),
            new_tree.inclusion_proof(moved),
            new_tree.root(),
        )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=6), min_size=2, max_size=160), st.data())
def test_any_single_bit_of_a_proof_matters(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.from_data(leaves)
    size = data.draw(st.integers(2, len(leaves)), "size")
    index = data.draw(st.integers(0, size - 1), "index")
    proof = tree.inclusion_proof(index, size)
    at = data.draw(st.integers(0, len(proof) - 1), "element")
    bit = data.draw(st.integers(0, 255), "bit")
    flipped = [*proof]
    flipped[at] = bytes(
        b ^ (1 << (bit % 8)) if n == bit // 8 else b for n, b in enumerate(proof[at])
    )
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(leaves[index]), flipped, tree.root(size))
    old = data.draw(st.integers(1, size - 1), "old")
    consistency = tree.consistency_proof(old, size)
    at = data.draw(st.integers(0, len(consistency) - 1), "consistency element")
    broken = [*consistency]
    broken[at] = bytes([broken[at][0] ^ 1]) + broken[at][1:]
    with pytest.raises(ProofError):
        verify_consistency(old, size, tree.root(old), tree.root(size), broken)


def test_appending_keeps_earlier_heads_answerable() -> None:
    """A tree grown leaf by leaf answers for every earlier size as one built at that size."""
    grown = MerkleTree()
    for count, data in enumerate(LEAVES * 5, start=1):
        grown.append(leaf_hash(data))
        assert grown.root() == reference_root((LEAVES * 5)[:count])
    for size in range(1, grown.size + 1):
        assert grown.root(size) == MerkleTree.from_data((LEAVES * 5)[:size]).root()
