"""Typed, immutable results of the chain seam.

Byte strings are ``bytes`` (roots, hashes, lot keys), addresses are checksummed
``str``: the forms the rest of the node stores and compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AnchorInfo",
    "ProducerInfo",
    "RecallInfo",
    "RegistryEvent",
    "SignedTx",
    "TxResult",
]


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """A decoded registry log. ``args`` maps the event's parameter names to values."""

    name: str
    args: Mapping[str, Any]
    block_number: int
    tx_hash: bytes
    log_index: int
    block_hash: bytes = b""

    @property
    def position(self) -> tuple[int, int]:
        """Sort key: logs are ordered by block, then by index within the block."""
        return (self.block_number, self.log_index)


@dataclass(frozen=True, slots=True)
class TxResult:
    """A mined transaction. ``status`` is 1 for success, 0 for a reverted transaction."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    block_timestamp: int
    gas_used: int
    gas_limit: int
    status: int
    effective_gas_price: int = 0
    contract_address: str | None = None
    events: tuple[RegistryEvent, ...] = field(default=())

    @property
    def succeeded(self) -> bool:
        return self.status == 1


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed, not yet sent transaction.

    Crash-safe pipelines store it (:meth:`to_dict`) before sending, so after a
    crash they re-send the very same bytes (same hash, same nonce) instead of
    signing a second transaction.
    """

    raw: bytes
    tx_hash: bytes
    nonce: int
    sender: str
    to: str | None
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    chain_id: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (hex strings for bytes)."""
        return {
            "raw": "0x" + self.raw.hex(),
            "tx_hash": "0x" + self.tx_hash.hex(),
            "nonce": self.nonce,
            "sender": self.sender,
            "to": self.to,
            "gas_limit": self.gas_limit,
            "max_fee_per_gas": self.max_fee_per_gas,
            "max_priority_fee_per_gas": self.max_priority_fee_per_gas,
            "chain_id": self.chain_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignedTx:
        return cls(
            raw=bytes.fromhex(str(data["raw"]).removeprefix("0x")),
            tx_hash=bytes.fromhex(str(data["tx_hash"]).removeprefix("0x")),
            nonce=int(data["nonce"]),
            sender=str(data["sender"]),
            to=None if data.get("to") is None else str(data["to"]),
            gas_limit=int(data["gas_limit"]),
            max_fee_per_gas=int(data["max_fee_per_gas"]),
            max_priority_fee_per_gas=int(data["max_priority_fee_per_gas"]),
            chain_id=int(data["chain_id"]),
        )


@dataclass(frozen=True, slots=True)
class AnchorInfo:
    """The on-chain anchor of an epoch root (``getAnchor``)."""

    root: bytes
    anchorer: str
    epoch: int
    record_count: int
    timestamp: int
    revoked: bool

    @property
    def valid(self) -> bool:
        return not self.revoked


@dataclass(frozen=True, slots=True)
class ProducerInfo:
    """A producer registry entry (``getProducer``)."""

    address: str
    active: bool
    registered_at: int
    metadata_uri: str


@dataclass(frozen=True, slots=True)
class RecallInfo:
    """The recall of a lot (``getRecall``)."""

    lot_key: bytes
    timestamp: int
    recalled_by: str
    reason: str
