"""Epochs: sealed Merkle roots and where they were anchored."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from vntrace.node.records.signing import to_checksum_address
from vntrace.node.store.types import EpochRow

from .common import Anchor, ApiModel


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


class EpochOut(ApiModel):
    number: int
    root: str
    record_count: int
    status: str = Field(description="sealed | sent | anchored")
    sealed_at: datetime
    anchored_at: datetime | None
    anchor: Anchor | None

    @classmethod
    def of(cls, row: EpochRow, registry: str) -> EpochOut:
        anchor = None
        if row.tx_hash is not None:
            anchor = Anchor(
                chain_id=row.chain_id,
                contract=to_checksum_address(row.contract) if row.contract else registry,
                tx_hash=_hex(row.tx_hash),
                block_number=row.block_number,
                block_timestamp=row.block_timestamp,
            )
        return cls(
            number=row.number,
            root=_hex(row.root) or "",
            record_count=row.record_count,
            status=row.status.value,
            sealed_at=row.sealed_at,
            anchored_at=row.anchored_at,
            anchor=anchor,
        )


class EpochList(ApiModel):
    items: list[EpochOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page.")
