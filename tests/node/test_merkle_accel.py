"""The C accelerator computes exactly what the pure-Python engine computes."""

from __future__ import annotations

import random

import pytest
import sha3

from vntrace.node.merkle import accel, core
from vntrace.node.merkle.parallel import hash_pair_leaves

if not accel.available():
    pytest.skip("the C accelerator is not built in this install", allow_module_level=True)

from vntrace.node.merkle import _accel


def test_keccak256_matches_pysha3_for_every_length_across_block_boundaries() -> None:
    rng = random.Random(11)
    for n in range(0, 420):
        data = rng.randbytes(n)
        assert _accel.keccak256(data) == sha3.keccak_256(data).digest(), n
    assert _accel.keccak256(bytearray(b"abc")) == sha3.keccak_256(b"abc").digest()


def test_tree_and_leaves_match_the_pure_engine() -> None:
    rng = random.Random(5)
    for n in (1, 2, 3, 7, 64, 65, 1000):
        pairs = [(rng.randbytes(32), rng.randbytes(32)) for _ in range(n)]
        prev = accel.set_enabled(False)
        try:
            pure_leaves = hash_pair_leaves(pairs, workers=1)
            pure_tree = core.make_tree(pure_leaves)
        finally:
            accel.set_enabled(prev)
        assert hash_pair_leaves(pairs, workers=1) == pure_leaves
        assert hash_pair_leaves(pairs, workers=2) == pure_leaves
        assert core.make_tree(pure_leaves) == pure_tree
        idx = len(pure_tree) - 1 - rng.randrange(n)
        proof = core.get_proof(pure_tree, idx)
        assert _accel.process_proof(pure_tree[idx], proof) == pure_tree[0]


def test_accelerator_rejects_malformed_input() -> None:
    with pytest.raises(ValueError):
        _accel.pair_leaves(b"\x00" * 63)
    with pytest.raises(ValueError):
        _accel.build_tree(b"")
    with pytest.raises(ValueError):
        _accel.build_tree(b"\x00" * 33)
    with pytest.raises(ValueError):
        _accel.process_proof(b"\x00" * 32, [b"\x00" * 31])
    with pytest.raises(ValueError):
        _accel.process_proof(b"\x00" * 31, [])
    with pytest.raises(TypeError):
        _accel.process_proof(b"\x00" * 32, 5)


def test_switch_reports_state() -> None:
    assert accel.enabled()
    assert accel.set_enabled(False) is True
    try:
        assert accel.get() is None
    finally:
        accel.set_enabled(True)
