"""RFC 9162 (RFC 6962) Merkle tree hashing and proofs over SHA-256, as C2SP assumes.

Pure functions over a sequence of *leaf hashes* (``leaf_hash(data)``), so the log keeps
only 32 bytes per leaf and any size's root or proof is computed on demand. Section
numbers are RFC 9162's: 2.1.1 (hash), 2.1.3 (inclusion), 2.1.4 (consistency). This is
a different tree from the OpenZeppelin keccak trees of epochs (vntrace.node.merkle).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() (RFC 9162 2.1.1): the root of the empty tree."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) without recursion: fold perfect subtrees left to right."""
    if hi == lo:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees
    for i in range(lo, hi):
        h, height = hashes[i], 0
        while stack and stack[-1][0] == height:
            h = node_hash(stack.pop()[1], h)
            height += 1
        stack.append((height, h))
    h = stack.pop()[1]
    while stack:
        h = node_hash(stack.pop()[1], h)
    return h


def root_of(hashes: Sequence[bytes], size: int | None = None) -> bytes:
    """The root of the tree of the first ``size`` leaf hashes (default: all)."""
    n = len(hashes) if size is None else size
    if not 0 <= n <= len(hashes):
        raise ProofError(f"tree size {n} is not between 0 and {len(hashes)}")
    return _mth(hashes, 0, n)


def inclusion_proof(hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 2.1.3.1), leaf-side first."""
    n = len(hashes) if size is None else size
    if not 0 <= index < n <= len(hashes):
        raise ProofError(f"leaf {index} is not in a tree of size {n}")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(_mth(hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(hashes, lo, lo + k))
            lo, m = lo + k, m - k
    return path[::-1]


def consistency_proof(hashes: Sequence[bytes], old: int, size: int | None = None) -> list[bytes]:
    """PROOF(old, D[0:size]) (RFC 9162 2.1.4.1); empty when old is 0 or equals size."""
    n = len(hashes) if size is None else size
    if not 0 <= old <= n <= len(hashes):
        raise ProofError(f"no consistency proof from size {old} to size {n}")
    if old in (0, n):
        return []
    path: list[bytes] = []
    lo, hi, m, whole = 0, n, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            path.append(_mth(hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(hashes, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        path.append(_mth(hashes, lo, hi))
    return path[::-1]


def _check_hashes(proof: Sequence[bytes]) -> None:
    for h in proof:
        if not isinstance(h, bytes | bytearray) or len(h) != 32:
            raise ProofError("proof hashes must be 32 bytes each")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``leaf`` (a leaf hash) is at ``index`` (2.1.3.2)."""
    _check_hashes([leaf, root, *proof])
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    old: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless tree ``old`` is a prefix of tree ``size`` (2.1.4.2)."""
    _check_hashes(proof)
    if not 0 <= old <= size:
        raise ProofError(f"old size {old} is above new size {size}")
    if old == 0:
        # As transparency-dev/merkle: nothing to prove, so refuse rather than pass.
        # (tlog-witness handles "old 0" itself: there the proof must be empty.)
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if old == size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != root:
            raise ProofError("same size, different roots")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old root is a node of the proof
        path.insert(0, old_root)
    fn, sn = old - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root or sr != root:
        raise ProofError("consistency proof does not lead to both roots")
