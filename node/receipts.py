"""Signed intake receipts: evidence a producer holds that the node accepted a record.

For every acknowledged record the node signs, with its Ed25519 identity, the record's
leaf and lot key, when it was received and the anchoring deadline it promises. The
signed bytes are the RFC 8785 canonical JSON of the receipt without its signature, so
any JSON library can re-create them (signed and checked by :mod:`vntrace.node.statements`,
as custodians statements are). If the record is never anchored, or anchored after
the deadline, the producer shows the receipt and the chain's silence to a regulator.
Pure: used by the node to sign and by the SDK and ``vntrace audit`` to check.

Two forms, both checked by :func:`verify_receipt`:

- **v1**, one Ed25519 signature per record over JCS of the receipt without
  ``signature`` (receipts issued before batch receipts; still valid forever);
- **v2**, one signature per intake request: the receipts' bodies are the leaves of a
  Merkle tree (OpenZeppelin layout, as the epoch trees: leaf
  ``keccak256(keccak256(JCS(body)))``, nodes keccak256 of the sorted pair), and the node
  signs JCS of ``{"v": 2, "nodeId", "batchRoot", "batchSize"}`` once. Each record's
  receipt carries its body, ``batch: {root, size, proof}`` and that one signature, so it
  is still checked on its own, record by record, by anyone holding the node's key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vntrace.node.identity import NodeIdentity
from vntrace.node.merkle import MerkleError, keccak256, make_tree, process_proof, to_node
from vntrace.node.merkle import get_proof as tree_proof
from vntrace.node.records import canonicalize
from vntrace.node.statements import (
    fields_jcs,
    require_fields,
    sign_statement,
    verify_statement_signature,
)

RECEIPT_VERSION = 1
BATCH_RECEIPT_VERSION = 2
_FIELDS = ("v", "nodeId", "leaf", "lotKey", "receivedAt", "anchorDeadline", "chainId", "registry")


class ReceiptError(ValueError):
    """A receipt is malformed, or its signature does not verify."""


def _time(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signing_bytes(receipt: Mapping[str, Any]) -> bytes:
    """What the node signs: JCS of the receipt's fields, without ``signature``."""
    return fields_jcs(receipt, _FIELDS, ReceiptError, "receipt")


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
    receipt["signature"] = sign_statement(identity, signing_bytes(receipt))
    return receipt


@dataclass(frozen=True, slots=True)
class ReceiptEntry:
    """One acknowledged record of an intake request, for :func:`issue_batch_receipts`."""

    leaf: bytes
    lot_key: bytes
    received_at: datetime
    anchor_deadline: datetime


def _receipt_leaf(body: Mapping[str, Any]) -> bytes:
    return keccak256(keccak256(canonicalize({f: body[f] for f in _FIELDS})))


def _batch_statement(node_id: str, root: bytes, size: int) -> bytes:
    return canonicalize(
        {"v": BATCH_RECEIPT_VERSION, "nodeId": node_id, "batchRoot": "0x" + root.hex(),
         "batchSize": size}
    )  # fmt: skip


def issue_batch_receipts(
    identity: NodeIdentity, entries: Sequence[ReceiptEntry], *, chain_id: int, registry: str
) -> list[dict[str, Any]]:
    """v2 receipts for one intake request: one signature, one inclusion proof each.

    Identical entries (a record repeated in the request) share one leaf.
    """
    if not entries:
        return []
    bodies = [
        {
            "v": BATCH_RECEIPT_VERSION,
            "nodeId": identity.node_id,
            "leaf": "0x" + e.leaf.hex(),
            "lotKey": "0x" + e.lot_key.hex(),
            "receivedAt": _time(e.received_at),
            "anchorDeadline": _time(e.anchor_deadline),
            "chainId": chain_id,
            "registry": registry,
        }
        for e in entries
    ]
    hashes = [_receipt_leaf(b) for b in bodies]
    unique = list(dict.fromkeys(hashes))
    position = {h: i for i, h in enumerate(unique)}
    tree = make_tree(unique)
    root = tree[0]
    signature = sign_statement(identity, _batch_statement(identity.node_id, root, len(unique)))
    out = []
    for body, h in zip(bodies, hashes, strict=True):
        proof = tree_proof(tree, len(tree) - 1 - position[h])
        batch = {"root": "0x" + root.hex(), "size": len(unique)}
        batch["proof"] = ["0x" + p.hex() for p in proof]
        out.append({**body, "batch": batch, "signature": signature})
    return out


def verify_receipt(receipt: dict[str, Any], public_key: bytes) -> None:
    """Raise :class:`ReceiptError` unless ``receipt`` was signed by ``public_key``.

    Checks v1 (its own signature) and v2 (inclusion in the signed batch) alike.
    """
    if not isinstance(receipt, dict):
        raise ReceiptError("a receipt is a JSON object")
    verify_statement_signature(receipt, public_key, _message, ReceiptError, "receipt")


def _message(receipt: Mapping[str, Any]) -> bytes:
    """The signed bytes of a receipt: its batch statement (v2) or its own JCS (v1)."""
    if receipt.get("v") == BATCH_RECEIPT_VERSION:
        return _batch_message(receipt)
    return signing_bytes(receipt)


def _batch_message(receipt: Mapping[str, Any]) -> bytes:
    """The signed batch statement a v2 receipt proves membership of, or ReceiptError."""
    require_fields(receipt, (*_FIELDS, "batch"), ReceiptError, "receipt")
    batch = receipt["batch"]
    try:
        root = to_node(batch["root"])
        size = batch["size"]
        proof = [to_node(p) for p in batch["proof"]]
        if type(size) is not int or not size >= 1 or len(proof) > 64:
            raise ReceiptError("batch size or proof is out of range")
        implied = process_proof(_receipt_leaf(receipt), proof)
    except (KeyError, TypeError, MerkleError) as exc:
        raise ReceiptError(f"receipt batch is malformed: {exc}") from exc
    if implied != root:
        raise ReceiptError("the receipt is not in the batch its signature covers")
    return _batch_statement(str(receipt["nodeId"]), root, size)


__all__ = [
    "BATCH_RECEIPT_VERSION",
    "RECEIPT_VERSION",
    "ReceiptEntry",
    "ReceiptError",
    "issue_batch_receipts",
    "issue_receipt",
    "signing_bytes",
    "verify_receipt",
]
