"""Pure Merkle operations on the OpenZeppelin layout: bytes in, bytes or a typed error out.

A tree over ``n`` leaves is one list of ``2n - 1`` nodes (a complete binary tree in
array form): node ``i`` has children ``2i + 1`` and ``2i + 2``, leaf ``k`` sits at
``len(tree) - 1 - k``, and a parent is ``keccak256`` of its two children sorted
bytewise. Leaves are never duplicated, so ``[A, B, C]`` and ``[A, B, C, C]`` have
different roots. This mirrors ``@openzeppelin/merkle-tree``'s ``core.ts`` and is
checked against it in the interop tests.

Nothing here touches storage or the network.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import sha3

from . import accel
from .errors import (
    DuplicateIndexError,
    EmptyMultiproofError,
    EmptyTreeError,
    InvalidHashError,
    InvalidMultiproofError,
    InvalidTreeError,
    LeafIndexError,
)
from .hashing import hash_pair, to_node, to_nodes

_keccak = sha3.keccak_256


@dataclass(frozen=True, slots=True)
class RawMultiProof:
    """A multiproof over leaf hashes, in the order OZ's ``processMultiProof`` consumes them."""

    leaves: list[bytes]
    proof: list[bytes]
    proof_flags: list[bool]


def _check_leaves(leaves: Sequence[bytes]) -> None:
    if len(leaves) == 0:
        raise EmptyTreeError("a Merkle tree needs at least one leaf")
    for leaf in leaves:
        if not isinstance(leaf, bytes) or len(leaf) != 32:
            raise InvalidHashError("leaf hashes must be 32-byte values")


def build_levels_into(tree: list[bytes], n_leaves: int) -> None:
    """Fill the internal nodes of ``tree`` whose last ``n_leaves`` slots hold the leaves."""
    k = _keccak
    for i in range(len(tree) - 1 - n_leaves, -1, -1):
        a = tree[2 * i + 1]
        b = tree[2 * i + 2]
        tree[i] = k(a + b if a < b else b + a).digest()


def make_tree(leaves: Sequence[bytes]) -> list[bytes]:
    """Build the node array for leaf hashes given in leaf order (leaf 0 goes last)."""
    _check_leaves(leaves)
    n = len(leaves)
    c = accel.get()
    if c is not None:
        blob = c.build_tree(b"".join(leaves))
        return [blob[i : i + 32] for i in range(0, len(blob), 32)]
    tree: list[bytes] = [b""] * (n - 1)
    tree.extend(reversed(leaves))
    build_levels_into(tree, n)
    return tree


def leaf_tree_index(tree_len: int, leaf_position: int) -> int:
    """Array index of the leaf at ``leaf_position`` in insertion (or sorted) order."""
    return tree_len - 1 - leaf_position


def _check_leaf_index(tree: Sequence[bytes], index: int) -> None:
    if not isinstance(index, int) or isinstance(index, bool):
        raise LeafIndexError(f"tree index must be an int, got {type(index).__name__}")
    if not (len(tree) // 2 <= index < len(tree)):
        raise LeafIndexError(f"tree index {index} is not a leaf of a {len(tree)}-node tree")


def get_proof(tree: Sequence[bytes], index: int) -> list[bytes]:
    """Sibling path from the leaf at array index ``index`` up to (not including) the root."""
    _check_leaf_index(tree, index)
    proof: list[bytes] = []
    while index > 0:
        proof.append(tree[index + 1 if index % 2 else index - 1])
        index = (index - 1) // 2
    return proof


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Root implied by ``leaf`` and its sibling path (OZ ``processProof``)."""
    h = to_node(leaf)
    nodes = to_nodes(proof)
    c = accel.get()
    if c is not None:
        return c.process_proof(h, nodes)
    k = _keccak
    for s in nodes:
        h = k(h + s if h < s else s + h).digest()
    return h


def verify_proof(root: bytes | str, leaf: bytes | str, proof: Sequence[bytes | str]) -> bool:
    """True when ``proof`` links ``leaf`` (a leaf hash) to ``root``.

    A well-formed but wrong proof returns ``False``; malformed input (a node that is not
    32 bytes, bad hex) raises :class:`InvalidHashError`.
    """
    return process_proof(to_node(leaf), proof) == to_node(root)


def get_multiproof(tree: Sequence[bytes], indices: Sequence[int]) -> RawMultiProof:
    """Multiproof for the leaves at array ``indices`` (OZ ``getMultiProof``).

    Leaves come back in descending array index order, the order the proof consumes them.
    Proving zero leaves is refused: it would prove nothing.
    """
    if len(indices) == 0:
        raise EmptyMultiproofError("a multiproof needs at least one leaf")
    for i in indices:
        _check_leaf_index(tree, i)
    ordered = sorted(indices, reverse=True)
    for a, b in itertools.pairwise(ordered):
        if a == b:
            raise DuplicateIndexError(f"cannot prove tree index {a} twice")
    stack = deque(ordered)
    proof: list[bytes] = []
    flags: list[bool] = []
    while stack and stack[0] > 0:
        j = stack.popleft()
        s = j + 1 if j % 2 else j - 1
        if stack and stack[0] == s:
            flags.append(True)
            stack.popleft()
        else:
            flags.append(False)
            proof.append(tree[s])
        stack.append((j - 1) // 2)
    return RawMultiProof([tree[i] for i in ordered], proof, flags)


def process_multiproof(
    leaves: Sequence[bytes | str], proof: Sequence[bytes | str], proof_flags: Sequence[bool]
) -> bytes:
    """Root implied by a multiproof (OZ ``processMultiProof``), strictly checked.

    Rejects, with :class:`InvalidMultiproofError`, every shape that OpenZeppelin's
    Solidity verifier before 4.9.2 could be tricked by (CVE-2023-34459): counts that do
    not add up, a flag that asks for a missing operand, a proof left unconsumed.
    """
    leaf_nodes = to_nodes(leaves)
    proof_nodes = to_nodes(proof)
    if len(leaf_nodes) == 0:
        raise EmptyMultiproofError("a multiproof over zero leaves proves nothing")
    flags = list(proof_flags)
    for f in flags:
        if not isinstance(f, bool):
            raise InvalidMultiproofError("proof flags must be booleans")
    if len(leaf_nodes) + len(proof_nodes) != len(flags) + 1:
        raise InvalidMultiproofError(
            f"{len(leaf_nodes)} leaves + {len(proof_nodes)} proof nodes do not fit "
            f"{len(flags)} flags (need leaves + proof = flags + 1)"
        )
    queue = deque(leaf_nodes)
    p = 0
    k = _keccak
    for flag in flags:
        if not queue:
            raise InvalidMultiproofError("multiproof ran out of hashes to combine")
        a = queue.popleft()
        if flag:
            if not queue:
                raise InvalidMultiproofError("a proof flag asks for a hash that does not exist")
            b = queue.popleft()
        else:
            if p >= len(proof_nodes):
                raise InvalidMultiproofError("a proof flag asks for a proof node that is missing")
            b = proof_nodes[p]
            p += 1
        queue.append(k(a + b if a < b else b + a).digest())
    if p != len(proof_nodes) or len(queue) != 1:
        raise InvalidMultiproofError("multiproof did not consume all of its proof")
    return queue[0]


def verify_multiproof(
    root: bytes | str,
    leaves: Sequence[bytes | str],
    proof: Sequence[bytes | str],
    proof_flags: Sequence[bool],
) -> bool:
    """True when the multiproof links every leaf hash in ``leaves`` to ``root``.

    A well-formed multiproof for the wrong leaves returns ``False``; a malformed one
    raises a :class:`~vntrace.node.merkle.errors.MerkleError`.
    """
    return process_multiproof(leaves, proof, proof_flags) == to_node(root)


def validate_tree(tree: Sequence[bytes]) -> None:
    """Check the whole node array: shape, node sizes and every parent hash."""
    if len(tree) == 0:
        raise InvalidTreeError("a tree has at least one node")
    if len(tree) % 2 == 0:
        raise InvalidTreeError(f"a tree has an odd number of nodes, got {len(tree)}")
    for node in tree:
        if not isinstance(node, bytes) or len(node) != 32:
            raise InvalidTreeError("tree nodes must be 32 bytes")
    for i in range(len(tree) // 2):
        if tree[i] != hash_pair(tree[2 * i + 1], tree[2 * i + 2]):
            raise InvalidTreeError(f"node {i} is not the hash of its children")
