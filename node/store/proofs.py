"""Trees as the store keeps them, and proofs read from them without a rebuild.

An epoch's tree is one blob: the OpenZeppelin node array (``2n - 1`` nodes of 32
bytes, root first, leaf ``k`` at array index ``len - 1 - k``). A sealed tree never
changes, so the store keeps recently used blobs in a small in-process LRU cache keyed
by ``(epoch, root)``: the first proof of an epoch reads its blob once (one row), later
proofs only slice it. (Reading slices with SQL ``substr`` instead was measured at
~200 ms per proof on a 100k-leaf SQLite epoch: SQLite reads the whole overflow chain
for every call.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import overload

from vntrace.node import merkle

from .errors import InvalidInputError, StoreError

__all__ = [
    "NODE",
    "BlobTree",
    "TreeBuilder",
    "TreeCache",
    "check_tree",
    "default_build",
    "order_for_tree",
    "split_tree",
    "tree_size",
]

NODE = 32
TreeBuilder = Callable[[list[bytes]], tuple[bytes, list[bytes]]]
"""``build(leaves) -> (root, nodes)``: leaves in leaf order, nodes in OZ array layout."""


def default_build(leaves: list[bytes]) -> tuple[bytes, list[bytes]]:
    """The node's Merkle engine (``sortLeaves: false``: leaves keep the given order)."""
    nodes = merkle.make_tree(leaves)
    return nodes[0], nodes


def order_for_tree(pending: Sequence[tuple[int, int]]) -> list[int]:
    """Leaf order of ``(record_id, lot_id)`` pairs: grouped by lot, lots in order of
    their first record, records within a lot by id (so a lot's leaves are adjacent and
    its history verifies with one compact multiproof)."""
    groups: dict[int, list[int]] = {}
    for rid, lot_id in sorted(pending):
        groups.setdefault(lot_id, []).append(rid)
    return [rid for ids in groups.values() for rid in ids]


def check_tree(leaves: Sequence[bytes], root: bytes, nodes: Sequence[bytes]) -> None:
    """Cheap shape check of a builder's output before it is stored for good."""
    n = len(leaves)
    if len(nodes) != 2 * n - 1 or not nodes or nodes[0] != root:
        raise InvalidInputError("tree builder returned a node array of the wrong shape")
    if any(not isinstance(x, bytes) or len(x) != NODE for x in nodes):
        raise InvalidInputError("tree builder returned nodes that are not 32 bytes")
    size = len(nodes)
    if any(nodes[size - 1 - k] != leaf for k, leaf in enumerate(leaves)):
        raise InvalidInputError("tree builder did not keep the leaves in the given order")


def tree_size(record_count: int) -> int:
    """Nodes in the array of a tree over ``record_count`` leaves."""
    return 2 * record_count - 1


def split_tree(blob: bytes) -> list[bytes]:
    if len(blob) % NODE:
        raise StoreError("stored tree is not a whole number of 32-byte nodes")
    return [blob[i : i + NODE] for i in range(0, len(blob), NODE)]


class BlobTree(Sequence[bytes]):
    """The node array as a read-only view over the stored blob (no copy, no split)."""

    __slots__ = ("_blob", "_size")

    def __init__(self, blob: bytes) -> None:
        if not blob or len(blob) % NODE:
            raise StoreError("stored tree is not a whole number of 32-byte nodes")
        self._blob = blob
        self._size = len(blob) // NODE

    def __len__(self) -> int:
        return self._size

    @property
    def blob(self) -> bytes:
        return self._blob

    @overload
    def __getitem__(self, i: int) -> bytes: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[bytes]: ...
    def __getitem__(self, i: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._size))]
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError(i)
        return self._blob[i * NODE : (i + 1) * NODE]


class TreeCache:
    """LRU of sealed tree blobs within a byte budget; thread-safe.

    Keyed by ``(epoch, root)`` so a blob can only ever serve the epoch it was read for.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._used = 0
        self._items: OrderedDict[tuple[int, bytes], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, epoch: int, root: bytes) -> bytes | None:
        with self._lock:
            blob = self._items.get((epoch, root))
            if blob is not None:
                self._items.move_to_end((epoch, root))
            return blob

    def put(self, epoch: int, root: bytes, blob: bytes) -> None:
        if len(blob) > self._max:
            return
        with self._lock:
            if (epoch, root) in self._items:
                return
            self._items[(epoch, root)] = blob
            self._used += len(blob)
            while self._used > self._max:
                _, old = self._items.popitem(last=False)
                self._used -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._used = 0
