"""A tiny, independent OpenZeppelin StandardMerkleTree for ``(bytes32, bytes32)`` leaves.

Written from OZ's ``core.ts`` for the tests only, so the contract's verification is
checked against code that shares nothing with ``vntrace.node.merkle``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils import keccak


def leaf_hash(lot_key: bytes, digest: bytes) -> bytes:
    return keccak(keccak(lot_key + digest))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b if a < b else b + a)


@dataclass
class Tree:
    nodes: list[bytes]
    n_leaves: int

    @classmethod
    def of(cls, leaves: Sequence[bytes]) -> Tree:
        """Tree over leaf hashes in the given order (OZ ``sortLeaves: false``)."""
        n = len(leaves)
        nodes = [b""] * (2 * n - 1)
        for i, leaf in enumerate(leaves):
            nodes[len(nodes) - 1 - i] = leaf
        for i in range(len(nodes) - 1 - n, -1, -1):
            nodes[i] = hash_pair(nodes[2 * i + 1], nodes[2 * i + 2])
        return cls(nodes, n)

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    def leaf(self, i: int) -> bytes:
        return self.nodes[len(self.nodes) - 1 - i]

    def proof(self, i: int) -> list[bytes]:
        j = len(self.nodes) - 1 - i
        out = []
        while j > 0:
            out.append(self.nodes[j + 1 if j % 2 else j - 1])
            j = (j - 1) // 2
        return out

    def multiproof(self, indices: Sequence[int]) -> tuple[list[bytes], list[bytes], list[bool]]:
        positions = sorted((len(self.nodes) - 1 - i for i in indices), reverse=True)
        stack = list(positions)
        proof: list[bytes] = []
        flags: list[bool] = []
        while stack and stack[0] > 0:
            j = stack.pop(0)
            sibling = j + 1 if j % 2 else j - 1
            if stack and stack[0] == sibling:
                flags.append(True)
                stack.pop(0)
            else:
                flags.append(False)
                proof.append(self.nodes[sibling])
            stack.append((j - 1) // 2)
        if not positions:
            proof.append(self.nodes[0])
        return [self.nodes[p] for p in positions], proof, flags


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def process_multiproof(
    leaves: Sequence[bytes], proof: Sequence[bytes], flags: Sequence[bool]
) -> bytes | None:
    """OZ ``processMultiProof``; ``None`` where OZ reverts."""
    if len(leaves) + len(proof) != len(flags) + 1:
        return None
    hashes: list[bytes] = []
    leaf_pos = hash_pos = proof_pos = 0

    def take() -> bytes:
        nonlocal leaf_pos, hash_pos
        if leaf_pos < len(leaves):
            leaf_pos += 1
            return leaves[leaf_pos - 1]
        hash_pos += 1
        return hashes[hash_pos - 1]

    for flag in flags:
        a = take()
        if flag:
            b = take()
        else:
            if proof_pos >= len(proof):
                return None
            b = proof[proof_pos]
            proof_pos += 1
        hashes.append(hash_pair(a, b))
    if flags:
        return hashes[-1] if proof_pos == len(proof) else None
    return leaves[0] if leaves else proof[0]
