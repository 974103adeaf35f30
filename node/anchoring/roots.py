"""The set of anchored, unrevoked roots, kept current from the registry's events.

Verification checks each root once against this cache instead of calling the chain
per record. The cache follows ``RootAnchored`` and ``RootRevoked`` events from the
block after the last one it saw; :meth:`AnchoredRoots.refresh` is cheap when nothing
happened. A root the cache has not seen yet is asked of the chain directly (and then
cached), so a brand-new anchor never reads as "not anchored".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from vntrace.node.chain import ChainBackend


@dataclass(frozen=True, slots=True)
class RootState:
    """What the chain says about one root."""

    root: bytes
    anchorer: str
    epoch: int
    record_count: int
    block_number: int
    revoked: bool


class AnchoredRoots:
    """Thread-safe cache of anchored roots, fed by chain events."""

    def __init__(self, chain: ChainBackend) -> None:
        self.chain = chain
        self._roots: dict[bytes, RootState] = {}
        self._next_block = 0
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Apply events since the last refresh; returns how many were applied."""
        with self._lock:
            head = self.chain.block_number()
            if head < self._next_block:
                return 0
            events = self.chain.events_since(self._next_block, head)
            for event in events:
                if event.name == "RootAnchored":
                    root = bytes(event.args["root"])
                    self._roots[root] = RootState(
                        root=root,
                        anchorer=str(event.args["anchorer"]),
                        epoch=int(event.args["epoch"]),
                        record_count=int(event.args["recordCount"]),
                        block_number=event.block_number,
                        revoked=False,
                    )
                elif event.name == "RootRevoked":
                    root = bytes(event.args["root"])
                    old = self._roots.get(root)
                    if old is not None:
                        self._roots[root] = RootState(
                            old.root,
                            old.anchorer,
                            old.epoch,
                            old.record_count,
                            old.block_number,
                            True,
                        )
            self._next_block = head + 1
            return len(events)

    def get(self, root: bytes) -> RootState | None:
        """The root's state, refreshing from the chain when it is not cached yet."""
        state = self._roots.get(root)
        if state is None:
            self.refresh()
            state = self._roots.get(root)
        return state

    def is_valid(self, root: bytes) -> bool:
        """Anchored and not revoked."""
        state = self.get(root)
        return state is not None and not state.revoked

    def __len__(self) -> int:
        return len(self._roots)
