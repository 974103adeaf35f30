"""What verification returns: a verdict, its reasons, and what the registry said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vntrace.node.bundles import Status

from .chain import RecallFacts
from .errors import VerificationError


@dataclass(frozen=True, slots=True)
class ChainAnchor:
    """Where a root is anchored, as the registry says (plus the transaction it was
    claimed to be anchored in, checked against its receipt)."""

    chain_id: int
    registry: str
    root: str
    epoch: int
    anchorer: str
    record_count: int
    timestamp: int
    revoked: bool
    tx_hash: str | None = None
    block_number: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "registry": self.registry,
            "root": self.root,
            "epoch": self.epoch,
            "anchorer": self.anchorer,
            "recordCount": self.record_count,
            "timestamp": self.timestamp,
            "revoked": self.revoked,
            "txHash": self.tx_hash,
            "blockNumber": self.block_number,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict on a record or a lot, and every reason behind it.

    ``status`` is ``verified``, ``pending``, ``recalled`` or ``failed``; ``reasons``
    are the stable names of the failed checks (see ``vntrace.node.bundles.Reason``),
    each explained by the matching entry of ``details``. ``anchor`` and ``recall``
    are what the *registry* says, never what the gateway claimed. A lot's result
    holds one result per record in ``records``.
    """

    status: Status
    reasons: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    record_id: str | None = None
    gtin: str | None = None
    lot: str | None = None
    lot_key: str | None = None
    producer: str | None = None
    chain_id: int | None = None
    registry: str | None = None
    anchor: ChainAnchor | None = None
    recall: RecallFacts | None = None
    records: tuple[VerificationResult, ...] = ()
    cosigners: tuple[str, ...] = ()
    """The trusted witnesses whose cosignatures verified (with a witness policy; for a
    lot, those that cosigned every anchored epoch)."""
    signed_by: str | None = None
    """A record's signer: ``producer`` (its own key) or ``custodial`` (the node, with a
    key it holds for the producer and vouches for in its signed custodians statement:
    docs/epcis.md §6). ``None`` for a lot, or an unreadable record."""

    @property
    def ok(self) -> bool:
        """True only for ``verified``."""
        return self.status == "verified"

    def raise_for_status(self) -> VerificationResult:
        """Return ``self`` when verified; raise :class:`VerificationError` otherwise."""
        if not self.ok:
            what = self.record_id or (f"lot {self.lot}" if self.lot else "record")
            raise VerificationError(
                f"{what}: {self.status} ({', '.join(self.reasons) or 'no reason'})", self
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON form (camelCase), as ``vntrace verify --json`` prints it."""
        out: dict[str, Any] = {
            "status": self.status,
            "reasons": list(self.reasons),
            "details": list(self.details),
            "recordId": self.record_id,
            "gtin": self.gtin,
            "lot": self.lot,
            "lotKey": self.lot_key,
            "producer": self.producer,
            "chainId": self.chain_id,
            "registry": self.registry,
            "anchor": self.anchor.to_dict() if self.anchor else None,
            "recall": None
            if self.recall is None
            else {
                "lotKey": self.recall.lot_key,
                "timestamp": self.recall.timestamp,
                "recalledBy": self.recall.recalled_by,
                "reason": self.recall.reason,
            },
        }
        if self.signed_by is not None:
            out["signedBy"] = self.signed_by
        if self.cosigners:
            out["cosigners"] = list(self.cosigners)
        if self.records:
            out["records"] = [r.to_dict() for r in self.records]
        return out


__all__ = ["ChainAnchor", "VerificationResult"]
