"""Property tests: proofs verify, mutations fail, batch verdicts equal single verdicts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vntrace.node.merkle import (
    BatchVerifier,
    MerkleError,
    StandardMerkleTree,
    hash_pair_leaves,
    process_multiproof,
    verify_multiproof,
    verify_proof,
    verify_proofs,
)
from vntrace.node.merkle.parallel import hash_pair_blob

pytestmark = pytest.mark.usefixtures("merkle_engine")

PAIR = ["bytes32", "bytes32"]
node32 = st.binary(min_size=32, max_size=32)
pair_lists = st.lists(st.tuples(node32, node32), min_size=1, max_size=80)


@settings(max_examples=150, deadline=None)
@given(values=pair_lists, sort_leaves=st.booleans(), data=st.data())
def test_multiproof_of_any_subset_verifies(values, sort_leaves, data) -> None:  # type: ignore[no-untyped-def]
    tree = StandardMerkleTree.of(values, PAIR, sort_leaves=sort_leaves)
    indices = data.draw(
        st.lists(st.integers(0, len(values) - 1), min_size=1, max_size=len(values), unique=True)
    )
    mp = tree.get_multiproof(indices)
    assert tree.verify_multiproof(mp)
    i = data.draw(st.integers(0, len(values) - 1))
    assert tree.verify(i, tree.get_proof(i))


@settings(max_examples=200, deadline=None)
@given(values=pair_lists, data=st.data())
def test_any_single_mutation_of_a_proof_fails(values, data) -> None:  # type: ignore[no-untyped-def]
    tree = StandardMerkleTree.of(values, PAIR, sort_leaves=False)
    i = data.draw(st.integers(0, len(values) - 1))
    leaf, proof = tree.leaf_hash_at(i), tree.get_proof(i)
    kind = data.draw(st.sampled_from(["flip", "drop", "add", "leaf"]))
    if kind == "flip" and proof:
        e = data.draw(st.integers(0, len(proof) - 1))
        b = data.draw(st.integers(0, 31))
        node = bytearray(proof[e])
        node[b] ^= data.draw(st.integers(1, 255))
        proof = [*proof[:e], bytes(node), *proof[e + 1 :]]
    elif kind == "drop" and proof:
        e = data.draw(st.integers(0, len(proof) - 1))
        proof = proof[:e] + proof[e + 1 :]
    elif kind == "leaf":
        leaf = data.draw(node32.filter(lambda x: x != leaf))
    else:
        proof = [*proof, data.draw(node32)]
    assert not verify_proof(tree.root, leaf, proof)


@settings(max_examples=200, deadline=None)
@given(
    leaves=st.lists(node32, min_size=0, max_size=6),
    proof=st.lists(node32, max_size=6),
    flags=st.lists(st.booleans(), max_size=12),
    root=node32,
)
def test_random_multiproofs_never_verify_against_a_random_root(leaves, proof, flags, root) -> None:  # type: ignore[no-untyped-def]
    try:
        computed = process_multiproof(leaves, proof, flags)
    except MerkleError:
        return
    assert verify_multiproof(computed, leaves, proof, flags)
    if computed != root:
        assert not verify_multiproof(root, leaves, proof, flags)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.tuples(node32, node32), min_size=2, max_size=120), data=st.data())
def test_batch_verifier_agrees_with_single_verification(values, data) -> None:  # type: ignore[no-untyped-def]
    tree = StandardMerkleTree.of(values, PAIR, sort_leaves=False)
    items = []
    for _ in range(data.draw(st.integers(1, 40))):
        i = data.draw(st.integers(0, len(values) - 1))
        leaf, proof = tree.leaf_hash_at(i), tree.get_proof(i)
        how = data.draw(st.sampled_from(["ok", "ok", "flip", "extra", "drop", "swap"]))
        if how == "flip" and proof:
            e = data.draw(st.integers(0, len(proof) - 1))
            proof = [*proof[:e], bytes(31) + b"\x01", *proof[e + 1 :]]
        elif how == "extra":
            proof = [*proof, data.draw(node32)]
        elif how == "drop" and proof:
            proof = proof[:-1]
        elif how == "swap" and len(proof) >= 2:
            proof = [proof[1], proof[0], *proof[2:]]
        items.append((leaf, proof))
    expected = [verify_proof(tree.root, leaf, proof) for leaf, proof in items]
    assert BatchVerifier(tree.root).verify_many(items) == expected
    assert verify_proofs(tree.root, [x[0] for x in items], [x[1] for x in items]) == expected


def test_batch_verifier_rejects_verified_prefix_with_forged_suffix() -> None:
    values = [(bytes([i]) * 32, bytes([i + 1]) * 32) for i in range(16)]
    tree = StandardMerkleTree.of(values, PAIR, sort_leaves=False)
    bv = BatchVerifier(tree.root)
    assert bv.verify(tree.leaf_hash_at(0), tree.get_proof(0))
    # Leaf 1 shares leaf 0's parent; a proof whose upper part is junk must still fail.
    proof = tree.get_proof(1)
    assert not bv.verify(tree.leaf_hash_at(1), [proof[0], bytes(32), *proof[2:]])
    assert not bv.verify(tree.leaf_hash_at(1), proof[:1])
    assert bv.verify(tree.leaf_hash_at(1), proof)


def test_parallel_leaf_hashing_matches_inline() -> None:
    values = [(bytes([i % 256]) * 32, i.to_bytes(32, "big")) for i in range(5000)]
    inline = hash_pair_leaves(values, workers=1)
    assert hash_pair_leaves(values, workers=2) == inline
    assert hash_pair_blob(b"".join(a + b for a, b in values[:10])) == b"".join(inline[:10])
    parallel_tree = StandardMerkleTree.of(values, PAIR, sort_leaves=False, workers=2)
    assert (
        parallel_tree.root == StandardMerkleTree.of(values, PAIR, sort_leaves=False, workers=1).root
    )
