"""The parts every service shares, and memoised look-ups of facts that never change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vntrace.node.chain import ChainBackend
from vntrace.node.config import Settings
from vntrace.node.errors import NotFoundError
from vntrace.node.identity import NodeIdentity
from vntrace.node.profile import Profile
from vntrace.node.records.signing import to_checksum_address
from vntrace.node.store import Store
from vntrace.node.vault import Vault

_MEMO_SIZE = 100_000


def memo_put(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Remember ``value``; a full memo starts over (bounded memory, no LRU bookkeeping)."""
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value


def hex0x(data: bytes | None) -> str | None:
    """``0x``-prefixed hex, or ``None``."""
    return None if data is None else "0x" + data.hex()


@dataclass(slots=True)
class NodeContext:
    """One node's shared parts. Services hold this, never each other's internals."""

    settings: Settings
    store: Store
    chain: ChainBackend
    profile: Profile
    identity: NodeIdentity
    vault: Vault


@dataclass(slots=True)
class Lookups:
    """Immutable facts by id (a lot's names, a producer's address), read once each.

    Saves one read transaction per bundle on the hot paths; safe to memoise because a
    lot's GTIN and number and a producer's address never change once stored.
    """

    store: Store
    _lot_names: dict[bytes, tuple[str, str]] = field(default_factory=dict)
    _producers: dict[int, str] = field(default_factory=dict)

    def lot_names(self, key: bytes) -> tuple[str, str]:
        """A lot's GTIN and lot number by lot key."""
        names = self._lot_names.get(key)
        if names is None:
            lot = self.store.get_lot(key)
            if lot is None:
                raise NotFoundError(f"no lot 0x{key.hex()}")
            names = (lot.gtin, lot.lot_number)
            memo_put(self._lot_names, key, names)
        return names

    def producer_address(self, producer_id: int) -> str:
        """A producer's checksum address by id."""
        address = self._producers.get(producer_id)
        if address is None:
            producer = self.store.get_producer(producer_id)
            if producer is None:
                raise NotFoundError(f"no producer {producer_id}")
            address = to_checksum_address(producer.address)
            memo_put(self._producers, producer_id, address)
        return address
