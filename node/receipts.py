"""Signed intake receipts: evidence a producer holds that the node accepted a record.

For every acknowledged record the node signs, with its Ed25519 identity, the record's
leaf and lot key, when it was received and the anchoring deadline it promises. The
signed bytes are the RFC 8785 canonical JSON of the receipt without its signature, so
any JSON library can re-create them. If the record is never anchored, or anchored after
the deadline, the producer shows the receipt and the chain's silence to a regulator.
Pure: used by the node to sign and by the SDK and ``vntrace audit`` to check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vntrace.node.identity import NodeIdentity, b64url, b64url_decode, verify_ed25519
from vntrace.node.records import canonicalize

RECEIPT_VERSION = 1
_FIELDS = ("v", "nodeId", "leaf", "lotKey", "receivedAt", "anchorDeadline", "chainId", "registry")


class ReceiptError(ValueError):
    """A receipt is malformed, or its signature does not verify."""


def _time(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signing_bytes(receipt: dict[str, Any]) -> bytes:
    """What the node signs: JCS of the receipt's fields, without ``signature``."""
    missing = [f for f in _FIELDS if f not in receipt]
    if missing:
        raise ReceiptError(f"receipt is missing {', '.join(missing)}")
    return canonicalize({f: receipt[f] for f in _FIELDS})


def issue_receipt(
    identity: NodeIdentity,
    *,
    leaf: bytes,
    lot_key: bytes,
    received_at: datetime,
    anchor_deadline: datetime,
    chain_id: int,
    registry: str,
) -> dict[str, Any]:
    """A signed receipt for one acknowledged record."""
    receipt: dict[str, Any] = {
        "v": RECEIPT_VERSION,
        "nodeId": identity.node_id,
        "leaf": "0x" + leaf.hex(),
        "lotKey": "0x" + lot_key.hex(),
        "receivedAt": _time(received_at),
        "anchorDeadline": _time(anchor_deadline),
        "chainId": chain_id,
        "registry": registry,
    }
    receipt["signature"] = b64url(identity.sign(signing_bytes(receipt)))
    return receipt


def verify_receipt(receipt: dict[str, Any], public_key: bytes) -> None:
    """Raise :class:`ReceiptError` unless ``receipt`` was signed by ``public_key``."""
    if not isinstance(receipt, dict):
        raise ReceiptError("a receipt is a JSON object")
    try:
        signature = b64url_decode(receipt["signature"])
    except (KeyError, ValueError) as exc:
        raise ReceiptError("receipt has no valid signature") from exc
    if not verify_ed25519(public_key, signing_bytes(receipt), signature):
        raise ReceiptError("receipt signature does not verify with the node's key")


__all__ = ["RECEIPT_VERSION", "ReceiptError", "issue_receipt", "signing_bytes", "verify_receipt"]
