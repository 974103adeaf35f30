"""A minimal OpenZeppelin StandardMerkleTree layout, for testing the registry contract only.

Independent of ``vntrace.node.merkle`` on purpose: the contract tests should not depend on the
node's engine. Layout as in ``@openzeppelin/merkle-tree``: one array, root at 0, children of
``i`` at ``2i+1`` and ``2i+2``, leaf ``k`` (in the given order, i.e. ``sortLeaves: false``) at
``len(tree) - 1 - k``, inner node = keccak256 of the two children sorted bytewise.
"""

from __future__ import annotations

from dataclasses import dataclass

import sha3


def keccak(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


def leaf_hash(lot_key: bytes, digest: bytes) -> bytes:
    """StandardMerkleTree leaf for ``["bytes32","bytes32"]``: keccak(keccak(lot_key || digest))."""
    return keccak(keccak(lot_key + digest))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class MultiProof:
    leaves: list[bytes]
    proof: list[bytes]
    proof_flags: list[bool]


class OzTree:
    """Tree over already-hashed leaves, kept in the given order."""

    def __init__(self, leaves: list[bytes]) -> None:
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

    def proof(self, k: int) -> list[bytes]:
        i = self._index(k)
        out = []
        while i > 0:
            out.append(self.tree[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return out

    def multiproof(self, ks: list[int]) -> MultiProof:
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
