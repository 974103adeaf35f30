"""The registry's state that verification needs, kept current from its events.

Verification checks each root, lot and producer against this cache instead of calling
the chain per record (an ``eth_call`` costs about 10 ms on the embedded chain). The
cache follows ``RootAnchored``, ``RootRevoked``, ``LotRecalled`` and the producer
events (``ProducerRegistered``, ``ProducerDeactivated``, ``ProducerReactivated``) from
the block after the last one it saw, so it replays the registry's own state changes;
:meth:`AnchoredRoots.refresh` is cheap when nothing happened, and a verification batch
calls it once before it reads the cache. A root the cache has not seen yet triggers a
refresh, so a brand-new anchor never reads as "not anchored".
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

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


_HEX40 = re.compile(r"[0-9a-fA-F]{40}")

# The producer events and the active flag each one leaves (ProducerBook.sol).
_PRODUCER_ACTIVE = {
    "ProducerRegistered": True,
    "ProducerDeactivated": False,
    "ProducerReactivated": True,
}


def _address_key(address: object) -> str | None:
    """``0x`` + 40 lower-case hex digits, or ``None`` when it is not an address."""
    if isinstance(address, bytes | bytearray):
        return "0x" + bytes(address).hex() if len(address) == 20 else None
    return _address_text_key(address) if isinstance(address, str) else None


@lru_cache(maxsize=4096)
def _address_text_key(address: str) -> str | None:
    if len(address) == 42 and address[:2] in ("0x", "0X") and _HEX40.fullmatch(address[2:]):
        return "0x" + address[2:].lower()
    return None


class AnchoredRoots:
    """Thread-safe cache of anchored roots, recalls and producers, fed by chain events."""

    def __init__(self, chain: ChainBackend) -> None:
        self.chain = chain
        self._roots: dict[bytes, RootState] = {}
        self._recalled: set[bytes] = set()
        self._producers: dict[str, bool] = {}  # lower-case 0x address -> active
        self._next_block = 0
        self._lock = threading.Lock()
        self._last_started = float("-inf")

    def refresh(self) -> int:
        """Apply events since the last refresh; returns how many were applied.

        Concurrent callers share one read: a caller that waited for the lock while a
        refresh ran that *started after it arrived* takes that refresh's result, which
        already saw everything on chain when the caller asked (32 concurrent verifies:
        one head read instead of 32, which counts when the chain is another process).
        """
        arrived = time.monotonic()
        with self._lock:
            if self._last_started >= arrived:
                return 0
            started = time.monotonic()
            head = self.chain.block_number()
            if head < self._next_block:
                self._last_started = started
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
                elif event.name == "LotRecalled":
                    self._recalled.add(bytes(event.args["lotKey"]))
                elif event.name in _PRODUCER_ACTIVE:
                    address = _address_key(event.args["producer"])
                    if address is not None:
                        self._producers[address] = _PRODUCER_ACTIVE[event.name]
            self._next_block = head + 1
            self._last_started = started  # only a refresh that succeeded is shared
            return len(events)

    def get(self, root: bytes) -> RootState | None:
        """The root's state, refreshing from the chain when it is not cached yet."""
        state = self._roots.get(root)
        if state is None:
            self.refresh()
            state = self._roots.get(root)
        return state

    def is_recalled(self, lot_key: bytes) -> bool:
        """Whether the registry holds a recall of the lot (as of the last refresh)."""
        return bytes(lot_key) in self._recalled

    def is_active_producer(self, address: str | bytes) -> bool:
        """Whether ``address`` is a registered, active producer (as of the last refresh)."""
        key = _address_key(address)
        return key is not None and self._producers.get(key, False)

    def is_valid(self, root: bytes) -> bool:
        """Anchored and not revoked."""
        state = self.get(root)
        return state is not None and not state.revoked

    def __len__(self) -> int:
        return len(self._roots)
