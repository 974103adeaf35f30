"""The tests' one OpenZeppelin Merkle oracle, for ``(bytes32, bytes32)`` leaves.

An oracle, so it shares nothing with ``vntrace.node.merkle``: written from
``@openzeppelin/merkle-tree`` (``core.ts``: ``makeMerkleTree``, ``getProof``,
``getMultiProof``) and OpenZeppelin Contracts 5 ``MerkleProof`` (``processProof``,
``processMultiProof``), and itself checked against the JS library in
``tests/support/test_oz_tree.py``. Pure Python, so the contract and chain tests that use
it need no Node.js.

Layout as in the JS library: one array, root at 0, children of ``i`` at ``2i+1`` and
``2i+2``, leaf ``k`` (in the given order, i.e. ``sortLeaves: false``) at
``len(tree) - 1 - k``, inner node = keccak256 of the two children sorted bytewise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from eth_utils import keccak

ZERO32 = bytes(32)


def leaf_hash(lot_key: bytes, digest: bytes) -> bytes:
    """StandardMerkleTree leaf for ``["bytes32","bytes32"]``: keccak(keccak(lot_key || digest))."""
    return keccak(keccak(lot_key + digest))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OZ ``Hashes.commutativeKeccak256``: the smaller word first."""
    return keccak(a + b if a < b else b + a)


class MultiProof(NamedTuple):
    """What ``getMultiProof`` returns (leaves as hashes); unpacks as a 3-tuple."""

    leaves: list[bytes]
    proof: list[bytes]
    proof_flags: list[bool]


class OzTree:
    """Tree over already-hashed leaves, kept in the given order."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a tree needs at least one leaf")
        n = len(leaves)
        tree: list[bytes] = [b""] * (2 * n - 1)
        for k, leaf in enumerate(leaves):
            tree[len(tree) - 1 - k] = leaf
        for i in range(n - 2, -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        self.tree = tree
        self.leaves = list(leaves)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def _index(self, k: int) -> int:
        if not 0 <= k < len(self.leaves):
            raise IndexError(k)
        return len(self.tree) - 1 - k

    def leaf(self, k: int) -> bytes:
        return self.tree[self._index(k)]

    def proof(self, k: int) -> list[bytes]:
        """Siblings from leaf ``k`` up to the root (``getProof``)."""
        i = self._index(k)
        out = []
        while i > 0:
            out.append(self.tree[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return out

    def multiproof(self, ks: Sequence[int]) -> MultiProof:
        """Same algorithm and output order as OpenZeppelin's ``getMultiProof``."""
        indices = sorted((self._index(k) for k in ks), reverse=True)
        if len(set(indices)) != len(indices):
            raise ValueError("duplicate index")
        stack = list(indices)
        proof: list[bytes] = []
        flags: list[bool] = []
        while stack and stack[0] > 0:
            j = stack.pop(0)
            s = j + 1 if j % 2 else j - 1
            if stack and stack[0] == s:
                flags.append(True)
                stack.pop(0)
            else:
                flags.append(False)
                proof.append(self.tree[s])
            stack.append((j - 1) // 2)
        if not indices:
            proof.append(self.tree[0])
        return MultiProof([self.tree[i] for i in indices], proof, flags)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """OZ ``MerkleProof.processProof``: the root that ``proof`` leads ``leaf`` to."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def process_multiproof(
    leaves: Sequence[bytes], proof: Sequence[bytes], flags: Sequence[bool]
) -> bytes | None:
    """OZ 5 ``MerkleProof.processMultiProof``; ``None`` where the contract reverts.

    Faithful to the Solidity: ``hashes`` is a zero-filled array of ``len(flags)`` words
    (reading one not written yet gives zeros, and then ``proof`` is never used up, so it
    reverts), and reading past ``hashes`` or ``proof`` is a panic. Malformed input is
    ``None``, never a Python exception.
    """
    if len(leaves) + len(proof) != len(flags) + 1:
        return None  # MerkleProofInvalidMultiproof
    if not flags:
        return leaves[0] if leaves else proof[0]
    hashes = [ZERO32] * len(flags)
    leaf_pos = hash_pos = proof_pos = 0

    def take() -> bytes | None:
        nonlocal leaf_pos, hash_pos
        if leaf_pos < len(leaves):
            leaf_pos += 1
            return leaves[leaf_pos - 1]
        if hash_pos >= len(hashes):
            return None  # Panic(0x32)
        hash_pos += 1
        return hashes[hash_pos - 1]

    for i, flag in enumerate(flags):
        a = take()
        if flag:
            b = take()
        elif proof_pos < len(proof):
            b = proof[proof_pos]
            proof_pos += 1
        else:
            return None  # Panic(0x32)
        if a is None or b is None:
            return None
        hashes[i] = hash_pair(a, b)
    return hashes[-1] if proof_pos == len(proof) else None
