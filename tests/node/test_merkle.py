"""The Merkle core against hand-computed vectors, mutations and malformed input."""

from __future__ import annotations

import random

import pytest
import sha3

from vntrace.node.merkle import (
    DuplicateIndexError,
    EmptyMultiproofError,
    EmptyTreeError,
    InvalidHashError,
    InvalidLeafEncodingError,
    InvalidMultiproofError,
    InvalidTreeError,
    LeafIndexError,
    MerkleError,
    StandardMerkleTree,
    get_multiproof,
    hash_pair,
    leaf_hash,
    make_tree,
    pair_leaf_hash,
    process_multiproof,
    verify_multiproof,
    verify_proof,
)

pytestmark = pytest.mark.usefixtures("merkle_engine")

PAIR = ["bytes32", "bytes32"]


def k(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


def rand32(rng: random.Random) -> bytes:
    return rng.randbytes(32)


def pairs(n: int, seed: int = 1) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    return [(rand32(rng), rand32(rng)) for _ in range(n)]


# -- known answers -----------------------------------------------------------------


def test_keccak_is_ethereum_keccak_not_nist_sha3() -> None:
    # keccak256("") as used by Ethereum; NIST SHA3-256("") starts with a7ffc6f8.
    assert k(b"").hex().startswith("c5d2460186f7233c927e7db2dcc703c0")


def test_pair_leaf_is_double_keccak_of_concatenation() -> None:
    a, b = bytes(range(32)), bytes(range(32, 64))
    assert pair_leaf_hash(a, b) == k(k(a + b))
    # The general ABI path must agree with the fast path.
    assert leaf_hash(["0x" + a.hex(), "0x" + b.hex()], PAIR) == k(k(a + b))


def test_three_leaf_tree_by_hand() -> None:
    vals = pairs(3)
    la, lb, lc = (k(k(a + b)) for a, b in vals)
    tree = StandardMerkleTree.of(vals, PAIR, sort_leaves=False)

    # Array layout: [root, n1, leaf0, leaf1, leaf2]: leaf k at len-1-k.
    # n1 = H(tree[3], tree[4]) = H(leaf1, leaf0); root = H(n1, tree[2]) = H(n1, leaf2).
    def h(x: bytes, y: bytes) -> bytes:
        return k(min(x, y) + max(x, y))

    n1 = h(lb, la)
    assert tree.root == h(n1, lc)
    assert tree.get_proof(0) == [lb, lc]
    assert tree.get_proof(2) == [n1]
    assert tree.tree_index(0) == 4 and tree.tree_index(2) == 2


def test_abc_differs_from_abcc() -> None:
    # No duplication of odd leaves (unlike Bitcoin's tree, CVE-2012-2459).
    a, b, c = pairs(3)
    t3 = StandardMerkleTree.of([a, b, c], PAIR, sort_leaves=False)
    t4 = StandardMerkleTree.of([a, b, c, c], PAIR, sort_leaves=False)
    assert t3.root != t4.root
    # And a proof from one never verifies against the other.
    for i in range(3):
        assert not verify_proof(t4.root, t3.leaf_hash_at(i), t3.get_proof(i))


def test_single_leaf_tree_root_is_the_leaf() -> None:
    (v,) = pairs(1)
    tree = StandardMerkleTree.of([v], PAIR)
    assert tree.root == pair_leaf_hash(*v)
    assert tree.get_proof(0) == []
    assert tree.verify(0, [])
    mp = tree.get_multiproof([0])
    assert mp.proof == [] and mp.proof_flags == []
    assert tree.verify_multiproof(mp)


def test_sorted_leaves_follow_hash_order() -> None:
    vals = pairs(9)
    tree = StandardMerkleTree.of(vals, PAIR, sort_leaves=True)
    by_position = sorted(range(9), key=lambda i: -tree.tree_index(i))
    hashes = [tree.leaf_hash_at(i) for i in by_position]
    assert hashes == sorted(hashes)


def test_unsorted_tree_keeps_insertion_order_contiguous() -> None:
    tree = StandardMerkleTree.of(pairs(16), PAIR, sort_leaves=False)
    assert [tree.tree_index(i) for i in range(16)] == list(range(30, 14, -1))


# -- every proof, every size ---------------------------------------------------------


@pytest.mark.parametrize("sort_leaves", [True, False])
def test_every_proof_verifies_for_sizes_1_to_70(sort_leaves: bool) -> None:
    for n in range(1, 71):
        tree = StandardMerkleTree.of(pairs(n, seed=n), PAIR, sort_leaves=sort_leaves)
        for i in range(n):
            proof = tree.get_proof(i)
            assert tree.verify(i, proof)
            assert verify_proof(tree.root, tree.leaf_hash_at(i), proof)


def test_general_encodings_build_and_verify() -> None:
    values = [["0x" + f"{i:040x}", i * 10**18] for i in range(1, 12)]
    tree = StandardMerkleTree.of(values, ["address", "uint256"])
    for i in range(len(values)):
        assert tree.verify(i, tree.get_proof(i))
    assert tree.verify(values[3], tree.get_proof(3))
    assert tree.index_of(values[5]) == 5
    strings = StandardMerkleTree.of([["a"], ["b"], ["ü"]], ["string"])
    assert strings.verify(2, strings.get_proof(2))


# -- mutations must fail -------------------------------------------------------------


def test_every_flipped_byte_in_a_proof_fails() -> None:
    tree = StandardMerkleTree.of(pairs(37), PAIR, sort_leaves=False)
    leaf = tree.leaf_hash_at(11)
    proof = tree.get_proof(11)
    for e in range(len(proof)):
        for byte in range(32):
            mutated = list(proof)
            node = bytearray(mutated[e])
            node[byte] ^= 0x01
            mutated[e] = bytes(node)
            assert not verify_proof(tree.root, leaf, mutated)
    for byte in range(32):
        bad_leaf = bytearray(leaf)
        bad_leaf[byte] ^= 0x80
        assert not verify_proof(tree.root, bytes(bad_leaf), proof)


def test_reordered_missing_or_extra_proof_elements_fail() -> None:
    tree = StandardMerkleTree.of(pairs(64), PAIR, sort_leaves=False)
    leaf, proof = tree.leaf_hash_at(5), tree.get_proof(5)
    assert len(proof) == 6
    for i in range(len(proof) - 1):
        swapped = list(proof)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        assert not verify_proof(tree.root, leaf, swapped)
    for i in range(len(proof)):
        assert not verify_proof(tree.root, leaf, proof[:i] + proof[i + 1 :])
    assert not verify_proof(tree.root, leaf, [*proof, proof[0]])
    assert not verify_proof(tree.root, leaf, [])


def test_other_leaf_with_same_proof_fails() -> None:
    tree = StandardMerkleTree.of(pairs(10), PAIR)
    assert not tree.verify(3, tree.get_proof(4))


def test_internal_node_is_not_accepted_as_a_value() -> None:
    # Leaves are double-hashed, so a 64-byte internal pair can't pose as a value.
    tree = StandardMerkleTree.of(pairs(4), PAIR, sort_leaves=False)
    left, right = tree.tree[3], tree.tree[4]
    assert not tree.verify((left, right), tree.get_proof(0)[1:])
    assert not tree.verify((right, left), tree.get_proof(0)[1:])


# -- multiproofs ---------------------------------------------------------------------


@pytest.mark.parametrize("sort_leaves", [True, False])
def test_random_multiproofs_verify(sort_leaves: bool) -> None:
    rng = random.Random(7)
    for n in (1, 2, 3, 5, 8, 13, 33, 100):
        tree = StandardMerkleTree.of(pairs(n, seed=n), PAIR, sort_leaves=sort_leaves)
        for _ in range(10):
            idx = rng.sample(range(n), rng.randint(1, n))
            mp = tree.get_multiproof(idx)
            assert sorted(map(tuple, mp.leaves)) == sorted(tuple(tree.at(i)) for i in idx)
            assert tree.verify_multiproof(mp)
            assert verify_multiproof(tree.root, mp.leaf_hashes, mp.proof, mp.proof_flags)


def test_contiguous_multiproof_is_compact() -> None:
    tree = StandardMerkleTree.of(pairs(1024), PAIR, sort_leaves=False)
    mp = tree.get_multiproof(list(range(256, 320)))  # 64 aligned adjacent leaves
    assert len(mp.proof) == 4  # just the siblings of the 64-leaf subtree's path
    scattered = tree.get_multiproof(list(range(0, 1024, 16)))
    assert len(scattered.proof) > 200


def test_multiproof_mutations_never_verify() -> None:
    tree = StandardMerkleTree.of(pairs(40), PAIR, sort_leaves=False)
    mp = tree.get_multiproof([3, 4, 5, 17, 30])
    leaves, proof, flags = mp.leaf_hashes, mp.proof, mp.proof_flags

    def outcome(lv: list[bytes], pr: list[bytes], fl: list[bool]) -> bool:
        try:
            return verify_multiproof(tree.root, lv, pr, fl)
        except MerkleError:
            return False

    assert outcome(leaves, proof, flags)
    for i in range(len(flags)):
        fl = list(flags)
        fl[i] = not fl[i]
        assert not outcome(leaves, proof, fl)
    for i in range(len(proof)):
        for byte in (0, 17, 31):
            pr = list(proof)
            node = bytearray(pr[i])
            node[byte] ^= 0xFF
            pr[i] = bytes(node)
            assert not outcome(leaves, pr, flags)
        assert not outcome(leaves, proof[:i] + proof[i + 1 :], flags)
    for i in range(len(leaves)):
        lv = list(leaves)
        lv[i] = k(lv[i])
        assert not outcome(lv, proof, flags)
    assert not outcome(list(reversed(leaves)), proof, flags)
    assert not outcome(leaves[1:], [*proof, leaves[0]], flags)


def test_multiproof_that_leaves_proof_unconsumed_is_rejected() -> None:
    tree = StandardMerkleTree.of(pairs(8), PAIR, sort_leaves=False)
    mp = tree.get_multiproof([0, 1])
    with pytest.raises(InvalidMultiproofError):
        process_multiproof(mp.leaf_hashes, [*mp.proof, mp.proof[0]], mp.proof_flags)
    with pytest.raises(InvalidMultiproofError):
        process_multiproof(mp.leaf_hashes, mp.proof, [*mp.proof_flags, False])


def test_empty_multiproof_is_rejected() -> None:
    tree = StandardMerkleTree.of(pairs(8), PAIR)
    with pytest.raises(EmptyMultiproofError):
        tree.get_multiproof([])
    # OZ's JS returns {leaves: [], proof: [root]} for []: it proves nothing, so refuse it.
    with pytest.raises(EmptyMultiproofError):
        verify_multiproof(tree.root, [], [tree.root], [])


def test_cve_2023_34459_forged_multiproof_is_rejected() -> None:
    # Before OZ 4.9.2 a tree with a zero node just under the root let anyone prove any
    # leaf: leaves=[L], proof=[X, junk], flags=[True, False] read an unwritten (zero)
    # hash and returned H(0, X) == root. The strict queue refuses the missing operand.
    rng = random.Random(3)
    x, junk, forged_leaf = rand32(rng), rand32(rng), rand32(rng)
    root = hash_pair(bytes(32), x)
    with pytest.raises(InvalidMultiproofError):
        verify_multiproof(root, [forged_leaf], [x, junk], [True, False])
    with pytest.raises(InvalidMultiproofError):
        verify_multiproof(root, [forged_leaf, bytes(32)], [x], [True, True])


def test_duplicate_multiproof_index_is_rejected() -> None:
    tree = StandardMerkleTree.of(pairs(8), PAIR)
    with pytest.raises(DuplicateIndexError):
        tree.get_multiproof([2, 2])
    with pytest.raises(DuplicateIndexError):
        get_multiproof(make_tree([pair_leaf_hash(*p) for p in pairs(4)]), [4, 4])


# -- malformed input ------------------------------------------------------------------


def test_malformed_nodes_raise_typed_errors() -> None:
    tree = StandardMerkleTree.of(pairs(4), PAIR)
    leaf, proof = tree.leaf_hash_at(0), tree.get_proof(0)
    with pytest.raises(InvalidHashError):
        verify_proof(tree.root[:31], leaf, proof)
    with pytest.raises(InvalidHashError):
        verify_proof(tree.root, leaf + b"\x00", proof)
    with pytest.raises(InvalidHashError):
        verify_proof(tree.root, leaf, [proof[0][:16]])
    with pytest.raises(InvalidHashError):
        verify_proof("0x" + "zz" * 32, leaf, proof)
    with pytest.raises(InvalidHashError):
        verify_proof(tree.root.hex(), leaf, proof)  # missing 0x
    with pytest.raises(InvalidHashError):
        verify_proof(tree.root, leaf, "0x" + "00" * 32)  # a string is not a list
    # Hex forms are accepted where well-formed.
    assert verify_proof("0x" + tree.root.hex(), "0x" + leaf.hex(), ["0x" + p.hex() for p in proof])


def test_index_out_of_range_raises() -> None:
    tree = StandardMerkleTree.of(pairs(5), PAIR)
    for bad in (-1, 5, 100):
        with pytest.raises(LeafIndexError):
            tree.get_proof(bad)
        with pytest.raises(LeafIndexError):
            tree.get_multiproof([0, bad])
    with pytest.raises(LeafIndexError):
        tree.get_proof(True)  # type: ignore[arg-type]
    with pytest.raises(IndexError):  # also an IndexError, for generic callers
        tree.at(5)


def test_bad_values_and_empty_trees_raise() -> None:
    with pytest.raises(EmptyTreeError):
        StandardMerkleTree.of([], PAIR)
    with pytest.raises(EmptyTreeError):
        make_tree([])
    with pytest.raises(InvalidLeafEncodingError):
        StandardMerkleTree.of([(b"\x01" * 32, b"\x02" * 31)], PAIR)
    with pytest.raises(InvalidLeafEncodingError):
        StandardMerkleTree.of([["0x" + "11" * 20, "not-a-number"]], ["address", "uint256"])
    with pytest.raises(InvalidLeafEncodingError):
        StandardMerkleTree.of([[1, 2]], ["uint256"])
    with pytest.raises(InvalidLeafEncodingError):
        leaf_hash(["0xzz"], ["bytes32"])


# -- dumps ---------------------------------------------------------------------------


@pytest.mark.parametrize("sort_leaves", [True, False])
def test_dump_load_roundtrip(sort_leaves: bool) -> None:
    tree = StandardMerkleTree.of(pairs(21), PAIR, sort_leaves=sort_leaves)
    loaded = StandardMerkleTree.load(tree.dump())
    assert loaded.root == tree.root
    assert loaded.dump() == tree.dump()
    for i in range(21):
        assert loaded.get_proof(i) == tree.get_proof(i)
    general = StandardMerkleTree.of(
        [["0x" + "ab" * 20, 10**30], ["0x" + "cd" * 20, 1]], ["address", "uint256"]
    )
    assert StandardMerkleTree.load(general.dump()).root == general.root


def test_load_rejects_tampered_dumps() -> None:
    good = StandardMerkleTree.of(pairs(6), PAIR, sort_leaves=False).dump()

    def tampered(edit) -> dict:  # type: ignore[no-untyped-def]
        import copy

        d = copy.deepcopy(good)
        edit(d)
        return d

    def flip(h: str) -> str:
        return h[:-1] + ("0" if h[-1] != "0" else "1")

    cases = [
        lambda d: d.update(format="standard-v2"),
        lambda d: d.pop("leafEncoding"),
        lambda d: d["tree"].__setitem__(0, flip(d["tree"][0])),
        lambda d: d["tree"].__setitem__(7, flip(d["tree"][7])),
        lambda d: d["tree"].__setitem__(3, d["tree"][3][:-2]),
        lambda d: d["tree"].pop(),
        lambda d: d["values"][2]["value"].__setitem__(0, flip(d["values"][2]["value"][0])),
        lambda d: d["values"][2].__setitem__("treeIndex", d["values"][3]["treeIndex"]),
        lambda d: d["values"][2].__setitem__("treeIndex", 0),
        lambda d: d["values"].pop(),
        lambda d: d["values"][0].__setitem__("value", ["0x12"]),
    ]
    for edit in cases:
        with pytest.raises(InvalidTreeError):
            StandardMerkleTree.load(tampered(edit))
    with pytest.raises(InvalidTreeError):
        StandardMerkleTree.load([])  # type: ignore[arg-type]
