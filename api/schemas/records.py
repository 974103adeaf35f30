"""One record: its status, and its proof bundle (the unit a consumer verifies)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import Anchor, ApiModel, LogSection, PassThroughModel


class RecordOut(ApiModel):
    """Where a record stands: pending, sealed into an epoch, or anchored."""

    record_id: str
    status: str = Field(description="pending | sealed | anchored")
    gtin: str
    lot: str
    lot_key: str
    digital_link: str
    producer: str
    received_at: str
    epoch: int | None
    root: str | None
    anchor: Anchor | None


class ProofBundle(PassThroughModel):
    """Self-contained proof of one record (see DESIGN.md, "Proof bundle").

    Everything but "is this root anchored and not revoked" verifies offline; ``proof``,
    ``root``, ``epoch`` and ``anchor`` are null while the record is pending.
    """

    version: int
    record_id: str
    status: str
    gtin: str
    lot: str
    digital_link: str
    lot_key: str
    event: dict[str, Any]
    salt: str
    digest: str
    leaf: str
    producer: str
    signature: str
    chain_id: int
    registry: str
    received_at: str
    epoch: int | None
    leaf_index: int | None
    proof: list[str] | None
    root: str | None
    anchor: Anchor | None
    log: LogSection | None = Field(
        default=None, description="Set once the epoch is in the witnessed log."
    )
