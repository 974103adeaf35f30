"""Batch verification of proof bundles and stored records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from .common import Anchor, ApiModel, RequestModel


class VerifyRequest(RequestModel):
    """Bundles (verified as sent) and/or record ids (verified from the node's store)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recordIds": [
                        "0x328e9e5db41878656a4d1e0c2a9b36c1cf0c87cc2d6ab2b7f0f0b5a9a1c1d2e3"
                    ]
                },
                {"bundles": [{"version": 1, "recordId": "0x…", "event": {}, "proof": []}]},
            ]
        }
    )

    bundles: list[dict[str, Any]] = Field(default_factory=list)
    record_ids: list[str] = Field(default_factory=list)


class VerifyResult(ApiModel):
    index: int = Field(description="Position: bundles first, then record ids.")
    source: Literal["bundle", "recordId"]
    record_id: str | None
    status: Literal["verified", "pending", "recalled", "failed"]
    reasons: list[str] = Field(
        description="Why it is not verified: bad_signature, digest_mismatch, leaf_mismatch, "
        "lot_mismatch, proof_mismatch, root_not_anchored, root_revoked, epoch_mismatch, "
        "lot_recalled, producer_not_registered, anchor_mismatch, log_mismatch, "
        "log_unwitnessed, pending, unknown_record, malformed."
    )
    details: list[str]
    anchor: Anchor | None
    signed_by: Literal["producer", "custodial"] | None = Field(
        default=None,
        description="Who signed: producer (its own key) or custodial (the node, with a key "
        "it holds for the producer: a plain EPCIS client's capture). Null if unreadable.",
    )


VERDICT_STATUSES = ("verified", "pending", "recalled", "failed")


class VerifySummary(ApiModel):
    verified: int = 0
    pending: int = 0
    recalled: int = 0
    failed: int = 0


class VerifyResponse(ApiModel):
    results: list[VerifyResult]
    summary: VerifySummary
