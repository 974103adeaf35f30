"""A lot's whole history: every event, with one multiproof per anchored epoch."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import Anchor, LogSection, PassThroughModel


class ProducerRef(PassThroughModel):
    address: str
    name: str


class RecallInfo(PassThroughModel):
    at: str
    reason: str | None


class ProvenanceRecord(PassThroughModel):
    record_id: str
    status: str
    epoch: int | None
    leaf_index: int | None
    event: dict[str, Any]
    salt: str
    digest: str
    signature: str
    received_at: str


class EpochMultiproof(PassThroughModel):
    """The lot's leaves in one epoch and the OpenZeppelin multiproof tying them to root."""

    epoch: int
    root: str
    status: str
    leaves: list[str]
    proof: list[str]
    proof_flags: list[bool]
    anchor: Anchor | None
    log: LogSection | None = Field(
        default=None, description="Set once the epoch is in the witnessed log."
    )


class Provenance(PassThroughModel):
    gtin: str
    lot: str
    lot_key: str
    digital_link: str
    producer: ProducerRef
    chain_id: int
    registry: str
    recall: RecallInfo | None = Field(description="Set once the lot is recalled.")
    records: list[ProvenanceRecord]
    multiproofs: list[EpochMultiproof]
