"""Verifying many proofs of one root with shared work.

Proofs of leaves in the same tree share their upper path: once a node has been shown
to link to the root, a later proof that reaches that node need not hash any further.
:class:`BatchVerifier` remembers every verified node together with the rest of the
proof above it, and only accepts a shortcut when the remaining proof elements are
exactly that verified suffix (otherwise it keeps hashing), so its verdicts equal
:func:`verify_proof`'s one by one, including for proofs with extra or altered elements
above the shared node and for trees with repeated leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sha3

from .errors import InvalidHashError
from .hashing import to_node, to_nodes


class BatchVerifier:
    """Check many single proofs against one root, hashing each shared node once."""

    __slots__ = ("_known", "root")

    def __init__(self, root: bytes | str) -> None:
        self.root = to_node(root)
        # node -> (the proof it was verified with, position of the node in that proof)
        self._known: dict[bytes, tuple[tuple[bytes, ...], int]] = {self.root: ((), 0)}

    def verify(self, leaf: bytes, proof: Sequence[bytes]) -> bool:
        """Same verdict as ``verify_proof(root, leaf, proof)``, usually with fewer hashes."""
        if type(leaf) is not bytes or len(leaf) != 32:
            leaf = to_node(leaf)
        nodes = tuple(proof)
        for s in nodes:
            if type(s) is not bytes or len(s) != 32:
                nodes = tuple(to_nodes(proof))
                break
        known = self._known
        k = sha3.keccak_256
        n = len(nodes)
        h = leaf
        path: list[bytes] = []
        ok = False
        j = 0
        while True:
            hit = known.get(h)
            # Shortcut only when what remains equals the suffix verified before; a
            # node hash can recur (duplicate leaves), so on a mismatch keep hashing.
            if hit is not None and len(hit[0]) - hit[1] == n - j and hit[0][hit[1] :] == nodes[j:]:
                ok = True
                break
            if j == n:
                break
            path.append(h)
            s = nodes[j]
            h = k(h + s if h < s else s + h).digest()
            j += 1
        if ok:
            for pos, node in enumerate(path):
                known.setdefault(node, (nodes, pos))
        return ok

    def verify_many(self, items: Iterable[tuple[bytes, Sequence[bytes]]]) -> list[bool]:
        """Verdicts for ``(leaf, proof)`` pairs, in order."""
        return [self.verify(leaf, proof) for leaf, proof in items]


def verify_proofs(
    root: bytes | str, leaves: Sequence[bytes], proofs: Sequence[Sequence[bytes]]
) -> list[bool]:
    """Verdicts for many single proofs of one root (see :class:`BatchVerifier`)."""
    if len(leaves) != len(proofs):
        raise InvalidHashError(f"{len(leaves)} leaves but {len(proofs)} proofs")
    verifier = BatchVerifier(root)
    return [verifier.verify(leaf, proof) for leaf, proof in zip(leaves, proofs, strict=True)]
