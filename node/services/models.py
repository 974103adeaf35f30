"""The values the services take and give: submissions, acknowledgements, verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Submission:
    """One signed record as a producer submits it."""

    event: dict[str, Any]
    salt: str | bytes
    signature: str | bytes
    disclosures: dict[str, dict[str, Any]] | None = None
    """Private fields opened: ``{path: {"value": ..., "salt": "0x.."}}`` (kept sealed)."""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The node's answer for one accepted record."""

    record_id: str
    lot_key: bytes
    received_at: datetime
    status: str
    duplicate: bool
    anchor_deadline: datetime
    receipt: dict[str, Any] | None = None
    """Signed by the node's Ed25519 identity (``vntrace.node.receipts``)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Verification result for one record or bundle."""

    status: str  # verified | pending | recalled | failed
    reasons: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    record_id: str | None = None
    anchor: dict[str, Any] | None = None
    signed_by: str | None = None
    """``producer`` (its own key) or ``custodial`` (the node, with a key it holds for the
    producer: docs/epcis.md §6); ``None`` when the record could not be read."""

    @property
    def ok(self) -> bool:
        return self.status == "verified"
