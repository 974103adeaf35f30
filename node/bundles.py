"""Proof bundles: the self-contained JSON a consumer verifies, and its offline checks.

A bundle carries everything needed to re-derive a record's place on chain: the event
as signed, its salt, the lot identity, digest, leaf, Merkle proof, root, epoch, the
anchor's transaction data, and the producer's address and signature. Everything but
"is this root anchored, not revoked, and the lot not recalled" is checked here,
offline, by pure functions: the node's gateway and the client SDK run the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vntrace.node.merkle import MerkleError, process_proof, verify_multiproof
from vntrace.node.records import (
    RecordError,
    SignatureError,
    as_bytes32,
    canonicalize,
    digest_canonical,
    lot_key,
    record_leaf,
    verify_record_signature,
)

BUNDLE_VERSION = 1


class Reason(StrEnum):
    """Why a record did not verify (stable strings: clients match on them)."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    LOT_MISMATCH = "lot_mismatch"
    DIGEST_MISMATCH = "digest_mismatch"
    LEAF_MISMATCH = "leaf_mismatch"
    PROOF_MISMATCH = "proof_mismatch"
    PENDING = "pending"
    ROOT_NOT_ANCHORED = "root_not_anchored"
    ROOT_REVOKED = "root_revoked"
    EPOCH_MISMATCH = "epoch_mismatch"
    LOT_RECALLED = "lot_recalled"
    PRODUCER_NOT_REGISTERED = "producer_not_registered"
    UNKNOWN_RECORD = "unknown_record"


@dataclass(frozen=True, slots=True)
class OfflineCheck:
    """The result of the offline part: parsed fields, plus what failed."""

    lot_key: bytes | None = None
    leaf: bytes | None = None
    root: bytes | None = None
    epoch: int | None = None
    producer: str | None = None
    reasons: tuple[Reason, ...] = ()
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons


@dataclass(slots=True)
class _Acc:
    reasons: list[Reason] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def fail(self, reason: Reason, detail: str) -> None:
        self.reasons.append(reason)
        self.details.append(detail)


def _b32(value: Any, what: str) -> bytes:
    return as_bytes32(value, what)


ProofChecker = Callable[[bytes, bytes, list[Any]], bool]
"""``(root, leaf, proof) -> bool``; may raise :class:`MerkleError` on malformed nodes."""


def _check_proof(root: bytes, leaf: bytes, proof: list[Any]) -> bool:
    return process_proof(leaf, proof) == root


def check_bundle_offline(
    bundle: dict[str, Any], prove: ProofChecker = _check_proof
) -> OfflineCheck:
    """Check a bundle's signature, digest, leaf and Merkle proof without any network.

    A pending bundle (no root yet) passes the signature and digest checks and reports
    :attr:`Reason.PENDING`. Never raises on bad input: malformed bundles come back with
    :attr:`Reason.MALFORMED` and a detail saying what is wrong.
    """
    acc = _Acc()
    try:
        gtin, lot = str(bundle["gtin"]), str(bundle["lot"])
        event = bundle["event"]
        salt = _b32(bundle["salt"], "salt")
        claimed_lot_key = _b32(bundle["lotKey"], "lotKey")
        claimed_digest = _b32(bundle["digest"], "digest")
        claimed_leaf = _b32(bundle["leaf"], "leaf")
        producer = str(bundle["producer"])
        signature = bundle["signature"]
        chain_id = int(bundle["chainId"])
        registry = str(bundle["registry"])
        proof_raw = bundle.get("proof")
        root_raw = bundle.get("root")
        epoch = bundle.get("epoch")
        if not isinstance(event, dict):
            raise TypeError("event must be a JSON object")
    except (KeyError, TypeError, ValueError) as exc:
        detail = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        return OfflineCheck(reasons=(Reason.MALFORMED,), details=(detail,))

    try:
        key = lot_key(gtin, lot)
    except RecordError as exc:
        return OfflineCheck(reasons=(Reason.MALFORMED,), details=(str(exc),))
    if key != claimed_lot_key:
        acc.fail(Reason.LOT_MISMATCH, "lotKey is not keccak256 of the lot's Digital Link path")
    try:
        digest = digest_canonical(salt, canonicalize(event))
    except RecordError as exc:
        return OfflineCheck(reasons=(Reason.MALFORMED,), details=(f"event: {exc}",))
    if digest != claimed_digest:
        acc.fail(Reason.DIGEST_MISMATCH, "digest is not keccak256(salt || JCS(event))")
    leaf = record_leaf(key, digest)
    if leaf != claimed_leaf:
        acc.fail(Reason.LEAF_MISMATCH, "leaf is not the hash of (lot key, digest)")
    try:
        verify_record_signature(chain_id, registry, key, digest, signature, producer)
    except SignatureError as exc:
        acc.fail(Reason.BAD_SIGNATURE, str(exc))
    except RecordError as exc:
        acc.fail(Reason.MALFORMED, f"signature: {exc}")

    root: bytes | None = None
    if root_raw is None or proof_raw is None:
        acc.fail(Reason.PENDING, "the record is not anchored yet")
    else:
        try:
            root = _b32(root_raw, "root")
            if not isinstance(proof_raw, list):
                raise TypeError("proof must be a list")
            if not prove(root, leaf, proof_raw):
                acc.fail(Reason.PROOF_MISMATCH, "the proof does not lead from the leaf to the root")
        except (MerkleError, RecordError, TypeError) as exc:
            acc.fail(Reason.MALFORMED, f"proof: {exc}")
    return OfflineCheck(
        lot_key=key,
        leaf=leaf,
        root=root,
        epoch=int(epoch) if isinstance(epoch, int) else None,
        producer=producer,
        reasons=tuple(acc.reasons),
        details=tuple(acc.details),
    )


def check_lot_multiproof(
    root: bytes | str, leaves: list[bytes | str], proof: list[bytes | str], flags: list[bool]
) -> bool:
    """True when a lot's records (leaf hashes) are all under ``root`` (never raises)."""
    try:
        return verify_multiproof(root, leaves, proof, flags)
    except MerkleError:
        return False


__all__ = [
    "BUNDLE_VERSION",
    "ProofChecker",
    "OfflineCheck",
    "Reason",
    "check_bundle_offline",
    "check_lot_multiproof",
]
