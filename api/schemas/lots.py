"""Lots, their signed events, and recalls (producers write, anyone reads)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from vntrace.node.service import Acknowledgement

from .common import ApiModel, Hex32, RequestModel, Signature

_EVENT_EXAMPLE: dict[str, Any] = {
    "event": {
        "kind": "hulling",
        "eventTime": "2026-11-08T08:00:00Z",
        "inputQuantity": {"value": 6800, "unit": "KGM"},
        "outputQuantity": {"value": 3700, "unit": "KGM"},
        "grade": "R1 S18",
    },
    "salt": "0x" + "5a" * 32,
    "signature": "0x" + "11" * 64 + "1b",
}


class SignedEvent(RequestModel):
    """One event as the producer signed it (private fields already committed)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_EXAMPLE]})

    event: dict[str, Any] = Field(description="The event, valid under the node's profile.")
    salt: Hex32 = Field(description="The 32 random bytes hashed before the event.")
    signature: Signature = Field(
        description="EIP-712 Record(bytes32 lot, bytes32 digest) by the producer's key."
    )
    disclosures: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description="Private fields opened for the node to keep sealed: "
        '{path: {"value": ..., "salt": "0x.."}}; each must open the event\'s commitment.',
    )


class LotCreate(RequestModel):
    """A lot of the product, optionally with its first events."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"gtin": "08936099000015", "lot": "EA-2026-001", "events": [_EVENT_EXAMPLE]}
            ]
        }
    )

    gtin: str = Field(min_length=1, max_length=14, description="GTIN-8/12/13/14 of the product.")
    lot: str = Field(min_length=1, max_length=20, description="Lot number (GS1 AI 10).")
    events: list[SignedEvent] = Field(default_factory=list)


class EventsAppend(RequestModel):
    """Signed events to append to a lot, all stored or none."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"events": [_EVENT_EXAMPLE]}]})

    events: list[SignedEvent] = Field(min_length=1)


class RecordAck(ApiModel):
    """The node's answer for one accepted record."""

    record_id: str
    status: str
    duplicate: bool = Field(description="True when this exact record was already stored.")
    received_at: datetime
    anchor_deadline: datetime = Field(description="When the node promises it is anchored.")
    receipt: dict[str, Any] | None = Field(
        default=None,
        description="The intake receipt, signed by the node's Ed25519 key "
        "(see /.well-known/vntrace-node.json): keep it to audit the node.",
    )

    @classmethod
    def of(cls, ack: Acknowledgement) -> RecordAck:
        return cls(
            record_id=ack.record_id,
            status=ack.status,
            duplicate=ack.duplicate,
            received_at=ack.received_at,
            anchor_deadline=ack.anchor_deadline,
            receipt=ack.receipt,
        )


class LotWritten(ApiModel):
    """A lot after a write: its identity and the records just acknowledged."""

    gtin: str
    lot: str
    lot_key: str
    digital_link: str
    producer: str
    created: bool = Field(description="True when this request created the lot.")
    record_ids: list[str]
    records: list[RecordAck]


class RecallCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "moisture above 13% found at import"}]}
    )

    reason: str = Field(min_length=1, max_length=500)


class RecallOut(ApiModel):
    gtin: str
    lot: str
    lot_key: str
    recalled_at: datetime
    reason: str | None
    onchain_tx_hash: str | None = Field(description="None while the chain has not taken it.")
