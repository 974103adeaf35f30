"""The Merkle proof engine: OpenZeppelin StandardMerkleTree, in pure Python.

Pure: bytes in, bytes or a typed :class:`MerkleError` out; no storage, no network.
Trees, proofs, multiproofs and dumps are byte-for-byte those of
``@openzeppelin/merkle-tree`` (checked in the interop tests), so every proof verifies
with OpenZeppelin's ``MerkleProof`` on chain and with the JavaScript library.

- :class:`StandardMerkleTree` builds trees from values and a leaf encoding, with a fast
  path for the node's ``(bytes32 lot_key, bytes32 digest)`` leaves.
- :func:`verify_proof` and :func:`verify_multiproof` check proofs over leaf hashes.
- :class:`BatchVerifier` checks many proofs of one root with shared work.
"""

from .batch import BatchVerifier, verify_proofs
from .core import (
    RawMultiProof,
    get_multiproof,
    get_proof,
    make_tree,
    process_multiproof,
    process_proof,
    validate_tree,
    verify_multiproof,
    verify_proof,
)
from .errors import (
    DuplicateIndexError,
    EmptyMultiproofError,
    EmptyTreeError,
    InvalidHashError,
    InvalidLeafEncodingError,
    InvalidMultiproofError,
    InvalidTreeError,
    LeafIndexError,
    MerkleError,
)
from .hashing import PAIR_ENCODING, hash_pair, keccak256, leaf_hash, pair_leaf_hash, to_hex, to_node
from .parallel import hash_pair_leaves
from .standard import MultiProof, StandardMerkleTree


def build_tree(leaf_hashes: list[bytes]) -> list[bytes]:
    """Node array over leaf hashes in the given order (alias of :func:`make_tree`)."""
    return make_tree(leaf_hashes)


__all__ = [
    "PAIR_ENCODING",
    "BatchVerifier",
    "DuplicateIndexError",
    "EmptyMultiproofError",
    "EmptyTreeError",
    "InvalidHashError",
    "InvalidLeafEncodingError",
    "InvalidMultiproofError",
    "InvalidTreeError",
    "LeafIndexError",
    "MerkleError",
    "MultiProof",
    "RawMultiProof",
    "StandardMerkleTree",
    "build_tree",
    "get_multiproof",
    "get_proof",
    "hash_pair",
    "hash_pair_leaves",
    "keccak256",
    "leaf_hash",
    "make_tree",
    "pair_leaf_hash",
    "process_multiproof",
    "process_proof",
    "to_hex",
    "to_node",
    "validate_tree",
    "verify_multiproof",
    "verify_proof",
    "verify_proofs",
]
