"""The log's leaf: one anchored epoch, encoded in a fixed 153-byte layout.

All integers big-endian, no padding, no length prefixes (every field is fixed size)::

    offset size  field
         0    1  version = 0x01
         1    8  epoch number            (u64)
         9   32  epoch root              (the OZ keccak tree's root)
        41    4  record count            (u32)
        45    8  chain id                (u64)
        53   20  registry contract address
        73   32  anchoring transaction hash
       105    8  block number            (u64)
       113   32  block hash
       145    8  block timestamp         (u64, POSIX seconds)

The RFC 6962 leaf hash is SHA-256(0x00 || these 153 bytes). docs/witness.md repeats
this table; a change is a new version byte, never a silent edit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import LeafError

__all__ = ["LEAF_SIZE", "LEAF_VERSION", "EpochLeaf"]

LEAF_VERSION = 1
_FMT = ">BQ32sIQ20s32sQ32sQ"
LEAF_SIZE = struct.calcsize(_FMT)
assert LEAF_SIZE == 153


@dataclass(frozen=True, slots=True)
class EpochLeaf:
    """What the log commits to about one anchored epoch."""

    epoch: int
    root: bytes
    record_count: int
    chain_id: int
    registry: bytes
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    block_timestamp: int

    def encode(self) -> bytes:
        """The 153 leaf bytes (raises :class:`LeafError` on out-of-range fields)."""
        for name, value, size in (
            ("root", self.root, 32),
            ("registry", self.registry, 20),
            ("tx_hash", self.tx_hash, 32),
            ("block_hash", self.block_hash, 32),
        ):
            if not isinstance(value, bytes) or len(value) != size:
                raise LeafError(f"{name} must be {size} bytes")
        try:
            return struct.pack(
                _FMT,
                LEAF_VERSION,
                self.epoch,
                self.root,
                self.record_count,
                self.chain_id,
                self.registry,
                self.tx_hash,
                self.block_number,
                self.block_hash,
                self.block_timestamp,
            )
        except struct.error as e:
            raise LeafError(f"a leaf field is out of range: {e}") from e

    @classmethod
    def decode(cls, data: bytes) -> EpochLeaf:
        if not isinstance(data, bytes) or len(data) != LEAF_SIZE:
            raise LeafError(f"a leaf is {LEAF_SIZE} bytes")
        version, *fields = struct.unpack(_FMT, data)
        if version != LEAF_VERSION:
            raise LeafError(f"unknown leaf version {version}")
        return cls(*fields)

    def to_json(self) -> dict[str, object]:
        """The leaf's fields in the bundle's spelling (hex with 0x, like ``anchor``)."""
        return {
            "epoch": self.epoch,
            "root": "0x" + self.root.hex(),
            "recordCount": self.record_count,
            "chainId": self.chain_id,
            "contract": "0x" + self.registry.hex(),
            "txHash": "0x" + self.tx_hash.hex(),
            "blockNumber": self.block_number,
            "blockHash": "0x" + self.block_hash.hex(),
            "blockTimestamp": self.block_timestamp,
        }
