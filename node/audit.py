"""Auditing a node against its own receipts: anchored in time, late, or never.

A producer keeps the signed receipt of every record the node acknowledged. The audit
checks each receipt's signature with the node's published key, asks the node for the
record's proof, checks that proof locally and the root's anchoring time on chain:

- ``in_time``: anchored (proof valid, root on chain, not revoked) by the deadline;
- ``late``: anchored, but after the deadline the node promised;
- ``never``: the deadline passed and there is no valid proof to an anchored root
  (the node lost, dropped or withheld the record);
- ``pending``: not anchored yet, deadline not passed;
- ``invalid_receipt``: the receipt was not signed by this node's key.

Nothing the node says is taken on trust: its bundle is only a hint of where to look.
The I/O (fetching bundles, reading the chain) is passed in, so the SDK's HTTP client,
a JSON-RPC reader or the node itself can drive the same logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vntrace.node.merkle import MerkleError, process_proof
from vntrace.node.receipts import ReceiptError, verify_receipt
from vntrace.node.records import RecordError, as_bytes32


@dataclass(frozen=True, slots=True)
class RootAnchor:
    """What the chain says about a root: anchored at ``timestamp`` (unix s), revoked?"""

    timestamp: int
    revoked: bool


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """The audit's finding for one receipt."""

    record_id: str
    status: str
    deadline: str | None
    anchored_at: datetime | None = None
    detail: str = ""


BundleFinder = Callable[[str], dict[str, Any] | None]
RootReader = Callable[[bytes], RootAnchor | None]


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def audit_receipts(
    receipts: Iterable[dict[str, Any]],
    node_public_key: bytes,
    find_bundle: BundleFinder,
    read_root: RootReader,
    *,
    now: datetime | None = None,
) -> list[AuditEntry]:
    """One :class:`AuditEntry` per receipt, in order."""
    now = now or datetime.now(UTC)
    out: list[AuditEntry] = []
    for receipt in receipts:
        rid = str(receipt.get("leaf", "")) if isinstance(receipt, dict) else ""
        try:
            verify_receipt(receipt, node_public_key)
            deadline = _parse_time(receipt["anchorDeadline"])
            leaf = as_bytes32(receipt["leaf"], "leaf")
        except (ReceiptError, RecordError, KeyError, ValueError) as exc:
            out.append(AuditEntry(rid, "invalid_receipt", None, detail=str(exc)))
            continue
        anchored_at, why = _anchored_at(leaf, find_bundle(rid), read_root)
        deadline_text = receipt["anchorDeadline"]
        if anchored_at is None:
            status = "never" if now > deadline else "pending"
            out.append(AuditEntry(rid, status, deadline_text, detail=why))
        elif anchored_at <= deadline:
            out.append(AuditEntry(rid, "in_time", deadline_text, anchored_at))
        else:
            late = (anchored_at - deadline).total_seconds()
            out.append(AuditEntry(rid, "late", deadline_text, anchored_at, f"{late:.0f} s after"))
    return out


def _anchored_at(
    leaf: bytes, bundle: dict[str, Any] | None, read_root: RootReader
) -> tuple[datetime | None, str]:
    if not bundle:
        return None, "the node has no such record"
    try:
        if as_bytes32(bundle.get("leaf", ""), "leaf") != leaf:
            return None, "the node's bundle is for another record"
        root_raw, proof = bundle.get("root"), bundle.get("proof")
        if root_raw is None or proof is None:
            return None, "the node has not anchored it"
        root = as_bytes32(root_raw, "root")
        if process_proof(leaf, list(proof)) != root:
            return None, "the node's proof does not lead to its root"
    except (RecordError, MerkleError, TypeError, ValueError) as exc:
        return None, f"malformed bundle: {exc}"
    anchor = read_root(root)
    if anchor is None:
        return None, "the root is not anchored on chain"
    if anchor.revoked:
        return None, "the root was revoked on chain"
    return datetime.fromtimestamp(anchor.timestamp, UTC), ""
