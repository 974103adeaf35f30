"""``StandardMerkleTree``: OpenZeppelin's StandardMerkleTree, in Python, byte for byte.

Values are ABI-encoded with their ``leaf_encoding`` and double-hashed into leaves;
``sort_leaves=True`` orders leaves by hash as OZ does by default, ``False`` keeps
insertion order (what the node uses, so a lot's records sit side by side and verify
with one compact multiproof). ``dump()`` writes OZ's ``standard-v1`` format and
``load()`` reads it back, re-checking every value and every node.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import core
from .errors import InvalidLeafEncodingError, InvalidTreeError, LeafIndexError, MerkleError
from .hashing import PAIR_ENCODING, leaf_hash, to_hex, to_node
from .parallel import hash_pair_leaves
from .static import static_leaf_hashes, static_writers

DUMP_FORMAT = "standard-v1"


@dataclass(frozen=True, slots=True)
class MultiProof:
    """A multiproof with its values, ready for OZ's ``multiProofVerify``.

    ``leaves`` are the proven values and ``leaf_hashes`` their leaf hashes, both in the
    order the proof consumes them (descending tree index).
    """

    leaves: list[Any]
    leaf_hashes: list[bytes]
    proof: list[bytes]
    proof_flags: list[bool]

    def to_json(self) -> dict[str, Any]:
        """JSON form with hex nodes, as ``@openzeppelin/merkle-tree`` returns it."""
        return {
            "leaves": [_json_value(v) for v in self.leaves],
            "proof": [to_hex(p) for p in self.proof],
            "proofFlags": list(self.proof_flags),
        }


def _json_value(value: Any) -> Any:
    """A value as it appears in a dump: bytes as 0x-hex, ints as decimal strings."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _is_pair_fast_path(values: Sequence[Sequence[Any]], encoding: tuple[str, ...]) -> bool:
    if encoding != PAIR_ENCODING or not values:
        return False
    first = values[0]
    return isinstance(first, tuple | list) and len(first) == 2 and isinstance(first[0], bytes)


class StandardMerkleTree:
    """An OZ-compatible Merkle tree over ABI-encoded values."""

    __slots__ = ("_encoding", "_lookup", "_tree", "_tree_index", "_values")

    def __init__(
        self,
        tree: list[bytes],
        values: list[Any],
        tree_index: list[int],
        leaf_encoding: Sequence[str],
    ) -> None:
        """Wrap an already-built tree; use :meth:`of` or :meth:`load` instead."""
        self._tree = tree
        self._values = values
        self._tree_index = tree_index
        self._encoding = tuple(leaf_encoding)
        self._lookup: dict[bytes, int] | None = None

    # -- construction -------------------------------------------------------------

    @classmethod
    def of(
        cls,
        values: Sequence[Sequence[Any]],
        leaf_encoding: Sequence[str],
        sort_leaves: bool = True,
        *,
        workers: int | None = None,
    ) -> StandardMerkleTree:
        """Build a tree from values (OZ ``StandardMerkleTree.of``).

        Fixed-size ABI types (bytesN, uintN, intN, address, bool) take the fast path
        whatever form their values come in (bytes, 0x-hex, ints): no ABI encoder
        (:mod:`.static`), and two-word leaves hash on several cores (``workers``;
        ``None`` picks automatically, ``1`` stays in-process).
        """
        encoding = tuple(leaf_encoding)
        if not encoding:
            raise InvalidLeafEncodingError("leaf_encoding needs at least one ABI type")
        vals = list(values)
        if not vals:
            raise core.EmptyTreeError("a Merkle tree needs at least one leaf")
        writers = static_writers(encoding)
        if _is_pair_fast_path(vals, encoding):
            vals = [_as_pair(v) for v in vals]
            hashes = hash_pair_leaves(vals, workers=workers)
        elif writers is not None:  # fixed-size types: words written directly, no encoder
            vals = [list(v) if isinstance(v, tuple) else v for v in vals]
            hashes = static_leaf_hashes(vals, encoding, writers, workers=workers)
        else:
            vals = [list(v) if isinstance(v, tuple) else v for v in vals]
            hashes = [leaf_hash(v, encoding) for v in vals]
        return cls._from_hashes(vals, hashes, encoding, sort_leaves)

    @classmethod
    def _from_hashes(
        cls,
        values: list[Any],
        hashes: list[bytes],
        encoding: tuple[str, ...],
        sort_leaves: bool,
    ) -> StandardMerkleTree:
        n = len(hashes)
        order: Sequence[int]
        if sort_leaves:
            order = sorted(range(n), key=hashes.__getitem__)
            leaves = [hashes[i] for i in order]
        else:
            order = range(n)
            leaves = hashes
        tree = core.make_tree(leaves)
        size = len(tree)
        tree_index = [0] * n
        for position, value_index in enumerate(order):
            tree_index[value_index] = size - 1 - position
        return cls(tree, values, tree_index, encoding)

    @classmethod
    def load(cls, data: dict[str, Any]) -> StandardMerkleTree:
        """Load an OZ ``standard-v1`` dump, re-checking every value and node."""
        if not isinstance(data, dict):
            raise InvalidTreeError("a dump is a JSON object")
        if data.get("format") != DUMP_FORMAT:
            raise InvalidTreeError(f"unknown dump format {data.get('format')!r}")
        encoding = data.get("leafEncoding")
        if not isinstance(encoding, list) or not all(isinstance(t, str) for t in encoding):
            raise InvalidTreeError("dump has no valid leafEncoding")
        raw_tree, raw_values = data.get("tree"), data.get("values")
        if not isinstance(raw_tree, list) or not isinstance(raw_values, list):
            raise InvalidTreeError("dump needs 'tree' and 'values' lists")
        try:
            tree = [to_node(node) for node in raw_tree]
        except MerkleError as exc:
            raise InvalidTreeError(f"bad tree node: {exc}") from exc
        core.validate_tree(tree)
        n_leaves = (len(tree) + 1) // 2
        if len(raw_values) != n_leaves:
            raise InvalidTreeError(f"{len(raw_values)} values for a tree of {n_leaves} leaves")
        fast = tuple(encoding) == PAIR_ENCODING
        values: list[Any] = []
        tree_index: list[int] = []
        seen: set[int] = set()
        for entry in raw_values:
            if not isinstance(entry, dict) or "value" not in entry or "treeIndex" not in entry:
                raise InvalidTreeError("each dump value needs 'value' and 'treeIndex'")
            idx = entry["treeIndex"]
            if not isinstance(idx, int) or isinstance(idx, bool):
                raise InvalidTreeError("treeIndex must be an integer")
            if not (len(tree) // 2 <= idx < len(tree)) or idx in seen:
                raise InvalidTreeError(f"treeIndex {idx} is not a distinct leaf of the tree")
            seen.add(idx)
            value = entry["value"]
            if fast:
                try:
                    value = _as_pair([to_node(v) for v in value])
                except (MerkleError, TypeError) as exc:
                    raise InvalidTreeError(f"bad bytes32 value: {exc}") from exc
            try:
                expected = leaf_hash(value, encoding)
            except MerkleError as exc:
                raise InvalidTreeError(f"value does not fit the leaf encoding: {exc}") from exc
            if tree[idx] != expected:
                raise InvalidTreeError(f"value at treeIndex {idx} does not hash to its leaf")
            values.append(value)
            tree_index.append(idx)
        return cls(tree, values, tree_index, encoding)

    def dump(self) -> dict[str, Any]:
        """OZ ``standard-v1`` dump (JSON-ready: hex nodes, decimal-string integers)."""
        return {
            "format": DUMP_FORMAT,
            "leafEncoding": list(self._encoding),
            "tree": [to_hex(node) for node in self._tree],
            "values": [
                {"value": _json_value(v), "treeIndex": i}
                for v, i in zip(self._values, self._tree_index, strict=True)
            ],
        }

    # -- reading ------------------------------------------------------------------

    @property
    def root(self) -> bytes:
        """The 32-byte root."""
        return self._tree[0]

    @property
    def leaf_encoding(self) -> tuple[str, ...]:
        """ABI types of each value."""
        return self._encoding

    @property
    def tree(self) -> Sequence[bytes]:
        """The node array (read-only view by convention: do not mutate)."""
        return self._tree

    def __len__(self) -> int:
        return len(self._values)

    def at(self, index: int) -> Any:
        """The value at ``index`` (insertion order)."""
        self._check_index(index)
        return self._values[index]

    def entries(self) -> Iterator[tuple[int, Any]]:
        """``(index, value)`` pairs in insertion order."""
        return enumerate(self._values)

    def tree_index(self, index: int) -> int:
        """Array position of value ``index``'s leaf in :attr:`tree`."""
        self._check_index(index)
        return self._tree_index[index]

    def leaf_hash_at(self, index: int) -> bytes:
        """Leaf hash of value ``index``."""
        return self._tree[self.tree_index(index)]

    def leaf_hash(self, value: Sequence[Any]) -> bytes:
        """Leaf hash of any value under this tree's encoding."""
        return leaf_hash(value, self._encoding)

    def index_of(self, value: Sequence[Any]) -> int:
        """Index of ``value`` in the tree (raises :class:`LeafIndexError` if absent)."""
        if self._lookup is None:
            self._lookup = {self._tree[t]: i for i, t in enumerate(self._tree_index)}
        found = self._lookup.get(self.leaf_hash(value))
        if found is None:
            raise LeafIndexError("value is not in the tree")
        return found

    # -- proofs -------------------------------------------------------------------

    def get_proof(self, index: int) -> list[bytes]:
        """Proof for the value at ``index`` (OZ ``getProof``)."""
        return core.get_proof(self._tree, self.tree_index(index))

    def get_multiproof(self, indices: Sequence[int]) -> MultiProof:
        """Multiproof for the values at ``indices`` (OZ ``getMultiProof``)."""
        tree_indices = [self.tree_index(i) for i in indices]
        raw = core.get_multiproof(self._tree, tree_indices)
        value_at = {self._tree_index[i]: i for i in indices}
        leaves = [self._values[value_at[t]] for t in sorted(tree_indices, reverse=True)]
        return MultiProof(leaves, raw.leaves, raw.proof, raw.proof_flags)

    def verify(self, index_or_value: int | Sequence[Any], proof: Sequence[bytes | str]) -> bool:
        """Check a proof of a value (or of the value at an index) against this root."""
        if isinstance(index_or_value, int) and not isinstance(index_or_value, bool):
            leaf = self.leaf_hash_at(index_or_value)
        else:
            leaf = self.leaf_hash(index_or_value)
        return core.verify_proof(self.root, leaf, proof)

    def verify_multiproof(self, multiproof: MultiProof) -> bool:
        """Check a multiproof of values against this root (leaf hashes are recomputed)."""
        leaves = [self.leaf_hash(v) for v in multiproof.leaves]
        return core.verify_multiproof(self.root, leaves, multiproof.proof, multiproof.proof_flags)

    def _check_index(self, index: int) -> None:
        if not isinstance(index, int) or isinstance(index, bool):
            raise LeafIndexError(f"index must be an int, got {type(index).__name__}")
        if not 0 <= index < len(self._values):
            raise LeafIndexError(f"index {index} out of range for {len(self._values)} values")


def _as_pair(value: Sequence[Any]) -> tuple[bytes, bytes]:
    """A ``(bytes32, bytes32)`` value as two 32-byte ``bytes`` (hex strings accepted)."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidLeafEncodingError("(bytes32, bytes32) values are pairs")
    a, b = value
    if type(a) is bytes and type(b) is bytes and len(a) == 32 and len(b) == 32:
        return (a, b)
    try:
        return (to_node(a), to_node(b))
    except MerkleError as exc:
        raise InvalidLeafEncodingError(f"(bytes32, bytes32) values: {exc}") from exc
