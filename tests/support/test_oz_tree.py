"""The OZ-tree oracle against ``@openzeppelin/merkle-tree`` itself, so the oracle is no guess.

The contract and chain tests trust ``tests/support/oz_tree.py``; here it must give the JS
library's roots, proofs and multiproofs for every tree shape up to 17 leaves (one Node.js
process for the whole batch), and rebuild the root from each of those multiproofs.
"""

from __future__ import annotations

import random

import pytest

from tests.support.js import run_oz_batch, to_js

from .oz_tree import OzTree, hash_pair, leaf_hash, process_multiproof, process_proof

SIZES = range(1, 18)


def _records(rng: random.Random, n: int) -> list[tuple[bytes, bytes]]:
    return [(rng.randbytes(32), rng.randbytes(32)) for _ in range(n)]


def _subsets(rng: random.Random, n: int) -> list[list[int]]:
    every = list(range(n))
    return [[0], [n - 1], every, rng.sample(every, k=max(1, n // 2)), []]


def _hex(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v[2:]) for v in values]


@pytest.mark.node_js
def test_oracle_matches_openzeppelin_merkle_tree() -> None:
    rng = random.Random(20260401)
    trees = [_records(rng, n) for n in SIZES]
    cases = [(records, _subsets(rng, len(records))) for records in trees]
    requests = [
        {
            "op": "build",
            "values": [to_js(list(r)) for r in records],
            "leafEncoding": ["bytes32", "bytes32"],
            "sortLeaves": False,
            "multiproofs": subsets,
        }
        for records, subsets in cases
    ]
    answers = run_oz_batch(requests)
    for (records, subsets), oz in zip(cases, answers, strict=True):
        tree = OzTree([leaf_hash(*r) for r in records])
        assert tree.root.hex() == oz["root"][2:], len(records)
        for k, oz_proof in enumerate(oz["proofs"]):
            assert tree.proof(k) == _hex(oz_proof), (len(records), k)
            assert process_proof(tree.leaf(k), tree.proof(k)) == tree.root
        for subset, oz_mp in zip(subsets, oz["multiproofs"], strict=True):
            mp = tree.multiproof(subset)
            oz_leaves = [leaf_hash(*_hex(value)) for value in oz_mp["leaves"]]
            assert mp == (oz_leaves, _hex(oz_mp["proof"]), oz_mp["proofFlags"]), subset
            assert process_multiproof(*mp) == tree.root, (len(records), subset)


def test_process_multiproof_follows_the_solidity() -> None:
    """OZ 5's ``processMultiProof`` on odd inputs: a root, or ``None`` where it reverts."""
    a, b, c = (bytes([i]) * 32 for i in (1, 2, 3))
    assert process_multiproof([a], [b], [False]) == hash_pair(a, b)
    assert process_multiproof([a, b], [], [True]) == hash_pair(a, b)
    assert process_multiproof([a], [], []) == a
    assert process_multiproof([], [c], []) == c  # no leaves, no flags: proof[0], as OZ does
    assert process_multiproof([a], [b], []) is None  # lengths do not add up
    # A flag that reads a hash not computed yet (the contract reads a zero word) leaves
    # proof unread, so it reverts; reading past the hashes or the proof panics.
    assert process_multiproof([a], [c], [True]) is None
    assert process_multiproof([a, b], [c], [True, True]) is None
    assert process_multiproof([], [a, b, c], [True, True]) is None
    assert process_multiproof([a, b, c], [], [False, False]) is None
