"""Proof bundles: the self-contained JSON a consumer verifies, and its offline checks.

A bundle carries everything needed to re-derive a record's place on chain: the event
as signed, its salt, the lot identity, digest, leaf, Merkle proof, root, epoch, the
anchor's transaction data, and the producer's address and signature. Everything but
"is this root anchored, not revoked, and the lot not recalled" is checked here,
offline, by pure functions: the node's gateway and the client SDK run the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

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
    CHAIN_MISMATCH = "chain_mismatch"
    ANCHOR_MISMATCH = "anchor_mismatch"
    LOG_UNWITNESSED = "log_unwitnessed"
    """The caller's witness policy is not met (no log section, or fewer than k trusted
    cosignatures). A failure: the caller asked for k cosignatures, and a history the
    witnesses refused looks exactly like this. Witnesses cosign within seconds of an
    anchoring, so a fresh epoch can show this briefly."""
    LOG_MISMATCH = "log_mismatch"
    """The log section is wrong: bad log signature or cosignature, failed inclusion
    proof, or a leaf that disagrees with the bundle's epoch, root or anchor."""


Status = Literal["verified", "pending", "recalled", "failed"]
SignedBy = Literal["producer", "custodial"]
"""``producer``: signed with the producer's own key. ``custodial``: signed by the node
with a key it holds for the producer (docs/epcis.md §6)."""

_SOFT = frozenset({Reason.PENDING, Reason.LOT_RECALLED})


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
    signed_by: SignedBy | None = None
    """Who the bundle says signed: ``producer`` (no ``signer`` section) or ``custodial``
    (the node, for the producer); ``None`` when the bundle could not be read."""
    custodian: str | None = None
    """The custodian address of a custodial bundle."""

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


SignatureKnown = Callable[[int, str, bytes, bytes, Any, str], bool]
"""``(chain_id, registry, leaf, digest, signature, signer) -> bool``: True only when
exactly this signature over exactly this record was already checked by exactly this
signer (the node's intake did, and stored it; the signer is the producer, or the
custodian of a custodial bundle). The signature is then not recovered again."""


def _never_known(*_: Any) -> bool:
    return False


CustodianKnown = Callable[[str, str], bool]
"""``(producer, custodian) -> bool``: True only when the caller knows ``custodian`` is a
key the node holds for ``producer`` (the node's store, or the node's signed custodians
statement in the SDK). An unknown custodian makes a custodial bundle ``bad_signature``."""


def _signer_section(bundle: dict[str, Any], producer: str) -> tuple[SignedBy, str | None]:
    """``("producer", None)`` without a ``signer`` section, ``("custodial", custodian)``
    with a well-formed custodial one; TypeError/ValueError otherwise."""
    section = bundle.get("signer")
    if section is None:
        return "producer", None
    if not isinstance(section, dict) or section.get("kind") not in ("producer", "custodial"):
        raise ValueError("signer must be an object with kind producer or custodial")
    if section["kind"] == "producer":
        return "producer", None
    custodian = section.get("custodian")
    if not isinstance(custodian, str):
        raise ValueError("a custodial signer section names its custodian")
    if str(section.get("producer", "")).lower() != producer.lower():
        raise ValueError("the signer section names another producer than the bundle")
    return "custodial", custodian


def check_bundle_offline(
    bundle: dict[str, Any],
    prove: ProofChecker = _check_proof,
    signature_known: SignatureKnown = _never_known,
    custodian_known: CustodianKnown = _never_known,
) -> OfflineCheck:
    """Check a bundle's signature, digest, leaf and Merkle proof without any network.

    A pending bundle (no root yet) passes the signature and digest checks and reports
    :attr:`Reason.PENDING`. Never raises on bad input: malformed bundles come back with
    :attr:`Reason.MALFORMED` and a detail saying what is wrong. The digest and leaf are
    always recomputed from the bundle's own bytes; ``signature_known`` may only spare
    the signature recovery for a (leaf, digest, signature, signer) already verified.

    A bundle with ``"signer": {"kind": "custodial", "custodian", "producer"}`` was signed
    by the node for the producer: its signature must recover to the custodian, and
    ``custodian_known(producer, custodian)`` must vouch for that custodian (by default
    nobody is vouched for: ``bad_signature``). Without a ``signer`` section the
    signature must be the producer's, exactly as before custodial keys.
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
        signed_by, custodian = _signer_section(bundle, producer)
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
    signer = producer if custodian is None else custodian
    try:
        if not (
            leaf == claimed_leaf
            and signature_known(chain_id, registry, leaf, digest, signature, signer)
        ):
            verify_record_signature(chain_id, registry, key, digest, signature, signer)
        if custodian is not None and not custodian_known(producer, custodian):
            acc.fail(
                Reason.BAD_SIGNATURE,
                f"custodian {custodian} is not vouched for as a key the node holds for "
                f"producer {producer} (the node's signed custodians statement must list it)",
            )
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
        signed_by=signed_by,
        custodian=custodian,
    )


class RootFacts(Protocol):
    """What the registry says about an anchored root (``getAnchor``)."""

    @property
    def epoch(self) -> int: ...

    @property
    def revoked(self) -> bool: ...


def chain_findings(
    check: OfflineCheck,
    root: RootFacts | None,
    *,
    producer_active: bool | None,
    recalled: bool,
    anchor_claimed: bool = True,
) -> list[tuple[Reason, str]]:
    """What the registry's answers mean for a bundle that passed its offline checks.

    ``root`` is the anchor of ``check.root`` (``None``: never anchored);
    ``producer_active`` is ``None`` when the bundle names no producer. A root the
    registry does not know is ``pending`` when the bundle does not claim an anchor yet
    (sealed, transaction in flight) and ``root_not_anchored`` when it does: claiming
    less can only make a verdict weaker, never turn it into ``verified``. Pure, so the
    node's batch verification and the SDK's independent one reach the same verdict
    from the same chain facts.
    """
    out: list[tuple[Reason, str]] = []
    if root is None and not anchor_claimed:
        out.append((Reason.PENDING, "the epoch is sealed; its root is not anchored yet"))
    elif root is None:
        out.append((Reason.ROOT_NOT_ANCHORED, "the root is not anchored in the registry"))
    else:
        if root.revoked:
            out.append((Reason.ROOT_REVOKED, "the root was revoked in the registry"))
        if check.epoch is not None and check.epoch != root.epoch:
            out.append((Reason.EPOCH_MISMATCH, f"the root is epoch {root.epoch} on chain"))
    if producer_active is False:
        out.append(
            (
                Reason.PRODUCER_NOT_REGISTERED,
                "the producer is not an active producer in the registry",
            )
        )
    if recalled:
        out.append((Reason.LOT_RECALLED, "the lot was recalled"))
    return out


def verdict_status(reasons: Iterable[Reason | str]) -> Status:
    """The verdict of a set of failed checks.

    ``verified`` when nothing failed; ``failed`` when anything but "pending" or "lot
    recalled" failed; else ``recalled`` when the lot was recalled (it dominates pending
    records of the same lot), else ``pending``.
    """
    found = {Reason(r) for r in reasons}
    if not found:
        return "verified"
    if found - _SOFT:
        return "failed"
    return "recalled" if Reason.LOT_RECALLED in found else "pending"


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
    "CustodianKnown",
    "ProofChecker",
    "SignatureKnown",
    "OfflineCheck",
    "Reason",
    "RootFacts",
    "SignedBy",
    "Status",
    "chain_findings",
    "check_bundle_offline",
    "check_lot_multiproof",
    "verdict_status",
]
