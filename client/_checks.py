"""The pure half of independent verification: offline checks, then verdicts from facts.

A *job* (one bundle, or one lot's provenance) is checked offline when it is built,
says which registry facts it needs (:class:`~._facts.Needs`), and turns a
:class:`~._facts.Snapshot` of those facts into a :class:`VerificationResult`. The I/O in
between lives in :mod:`vntrace.client.verify`, once blocking and once async, so both
reach the same verdict from the same code. Nothing here trusts the gateway's own
``status`` fields: verdicts come from recomputed hashes and the registry's answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from vntrace.node.bundles import (
    OfflineCheck,
    Reason,
    chain_findings,
    check_bundle_offline,
    check_lot_multiproof,
    verdict_status,
)
from vntrace.node.records import RecordError, as_bytes32, lot_key, normalize_gtin, validate_lot

from ._facts import Finding, Needs, Pins, Snapshot
from .chain import AnchorFacts, ProducerFacts, RecallFacts, checksum, receipt_problem
from .errors import ChainReadError
from .results import ChainAnchor, VerificationResult


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


def _producer_finding(facts: ProducerFacts | None) -> bool | None:
    return None if facts is None else facts.active


def _producer_detail(facts: ProducerFacts | None) -> str | None:
    if facts is None or facts.active:
        return None
    if facts.registered:
        return f"producer {facts.address} is registered but deactivated"
    return f"producer {facts.address} was never registered in the registry"


def _anchor_claims(
    claimed: Any,
    chain_id: int,
    registry: str,
    root: bytes,
    facts: AnchorFacts | None,
    snap: Snapshot,
) -> tuple[list[Finding], str | None, int | None]:
    """Check the gateway's anchor object against the chain; returns findings and the
    claimed (tx hash, block number) when they hold up."""
    if claimed is None:
        return [], None, None
    if not isinstance(claimed, dict):
        return [(Reason.ANCHOR_MISMATCH, "the anchor is not an object")], None, None
    out: list[Finding] = []
    if claimed.get("chainId") is not None and claimed.get("chainId") != chain_id:
        out.append((Reason.ANCHOR_MISMATCH, f"the anchor names chain {claimed.get('chainId')}"))
    contract = claimed.get("contract")
    if contract is not None and str(contract).lower() != registry.lower():
        out.append((Reason.ANCHOR_MISMATCH, f"the anchor names contract {contract}"))
    stamp = claimed.get("blockTimestamp")
    if facts is not None and stamp is not None and stamp != facts.timestamp:
        out.append(
            (
                Reason.ANCHOR_MISMATCH,
                f"the anchor claims time {stamp}; the registry says {facts.timestamp}",
            )
        )
    block = claimed.get("blockNumber")
    block = block if isinstance(block, int) else None
    tx = _valid_tx(claimed)
    if claimed.get("txHash") is not None and tx is None:
        out.append((Reason.ANCHOR_MISMATCH, "the anchor's txHash is not a transaction hash"))
    elif tx is not None and tx in snap.receipts:
        problem = receipt_problem(snap.receipts[tx], registry, root, block)
        if problem:
            out.append((Reason.ANCHOR_MISMATCH, problem))
        else:
            return out, tx, block  # the receipt confirmed the claimed block
    # A block number no receipt confirmed is the gateway's word: never report it.
    return out, tx, None


def _valid_tx(claimed: Any) -> str | None:
    if isinstance(claimed, dict):
        tx = claimed.get("txHash")
        if isinstance(tx, str) and len(tx) == 66 and tx.startswith("0x"):
            try:
                bytes.fromhex(tx[2:])
            except ValueError:
                return None
            return tx.lower()
    return None


def claimed_needs(bundles: Iterable[Any], pins: Pins) -> dict[tuple[int, str], Needs]:
    """What the bundles *say* they will need from the chain (their root, lot key,
    producer and anchor transaction as written), unchecked: only to read the chain while
    their offline checks run. Whatever the checked jobs need beyond it is read after
    (:func:`~.verify.verification`), so a bundle that lies here costs a second round,
    never a wrong verdict."""
    groups: dict[tuple[int, str], Needs] = {}
    for bundle in bundles:
        if not isinstance(bundle, dict):
            continue
        try:
            chain_id = int(bundle["chainId"])
            registry = checksum(str(bundle["registry"]), "registry")
            root = as_bytes32(bundle["root"], "root")
            key = as_bytes32(bundle["lotKey"], "lotKey")
        except (KeyError, TypeError, ValueError, RecordError, ChainReadError):
            continue
        if pins.findings(chain_id, registry):
            continue
        needs = groups.get((chain_id, registry))
        if needs is None:
            needs = groups[chain_id, registry] = Needs(chain_id, registry)
        needs.roots.add(root)
        needs.lots.add(key)
        with suppress(KeyError, ChainReadError):
            needs.producers.add(checksum(str(bundle["producer"]), "producer"))
        tx = _valid_tx(bundle.get("anchor"))
        if tx:
            needs.receipts.add(tx)
    return groups


class BundleJob:
    """One proof bundle: offline checks at construction, chain facts in :meth:`finish`."""

    def __init__(self, bundle: Any, pins: Pins, record_id: str | None = None) -> None:
        self.bundle = bundle if isinstance(bundle, dict) else {}
        if not isinstance(bundle, dict):
            self.check = OfflineCheck(reasons=(Reason.MALFORMED,), details=("not a JSON object",))
        else:
            self.check = check_bundle_offline(bundle, custodian_known=pins.custodian_known)
        self.findings: list[Finding] = list(
            zip(self.check.reasons, self.check.details, strict=True)
        )
        self.needs: Needs | None = None
        self.chain_id: int | None = None
        self.registry: str | None = None
        self.producer: str | None = None
        self.cosigners: tuple[str, ...] = ()
        if Reason.MALFORMED in self.check.reasons:
            return
        try:
            self.chain_id = int(self.bundle["chainId"])
            self.registry = checksum(str(self.bundle["registry"]), "registry")
        except (ChainReadError, ValueError, TypeError):
            self.findings.append((Reason.MALFORMED, "chainId or registry is not valid"))
            return
        # The recomputed leaf was compared with the claimed one offline; here the ids are
        # compared with the claimed leaf, so one altered field is not reported thrice.
        claimed_leaf = str(self.bundle.get("leaf", "")).lower()
        claimed_id = self.bundle.get("recordId")
        if claimed_id is not None and str(claimed_id).lower() != claimed_leaf:
            self.findings.append((Reason.LEAF_MISMATCH, "recordId is not the bundle's leaf"))
        if record_id is not None and record_id.lower() != claimed_leaf:
            self.findings.append(
                (Reason.LEAF_MISMATCH, f"asked for record {record_id}, got {claimed_leaf}")
            )
        pinned = pins.findings(self.chain_id, self.registry)
        self.findings += pinned
        if pins.log is not None and self.check.root is not None:
            found, self.cosigners = pins.log.check(self.bundle.get("log"), self.bundle)
            self.findings += found
        if pinned or self.check.root is None:
            return  # pending, or not a registry we trust: nothing to ask the chain
        assert self.check.lot_key is not None
        self.needs = Needs(self.chain_id, self.registry, roots={self.check.root})
        self.needs.lots.add(self.check.lot_key)
        if self.check.producer:
            try:
                self.producer = checksum(self.check.producer, "producer")
                self.needs.producers.add(self.producer)
            except ChainReadError:
                pass  # already reported as bad_signature by the offline check
        tx = _valid_tx(self.bundle.get("anchor"))
        if tx:
            self.needs.receipts.add(tx)

    def finish(self, snap: Snapshot | None) -> VerificationResult:
        findings = list(self.findings)
        anchor: ChainAnchor | None = None
        recall: RecallFacts | None = None
        if self.needs is not None and snap is not None:
            if snap.problem:
                findings.append((Reason.CHAIN_MISMATCH, snap.problem))
            else:
                anchor, recall = self._chain(snap, findings)
        return _result(
            findings,
            record_id=_hex(self.check.leaf) or _str(self.bundle.get("recordId")),
            gtin=_str(self.bundle.get("gtin")),
            lot=_str(self.bundle.get("lot")),
            lot_key=_hex(self.check.lot_key),
            producer=self.check.producer,
            chain_id=self.chain_id,
            registry=self.registry,
            anchor=anchor,
            recall=recall,
            cosigners=self.cosigners,
            signed_by=self.check.signed_by,
        )

    def _chain(
        self, snap: Snapshot, findings: list[Finding]
    ) -> tuple[ChainAnchor | None, RecallFacts | None]:
        assert self.check.root is not None and self.check.lot_key is not None
        assert self.chain_id is not None and self.registry is not None
        facts = snap.anchors.get(self.check.root)
        producer = snap.producers.get(self.producer or "")
        recall = snap.recalls.get(self.check.lot_key)
        chain = chain_findings(
            self.check,
            facts,
            producer_active=_producer_finding(producer),
            recalled=recall is not None,
            anchor_claimed=self.bundle.get("anchor") is not None,
        )
        findings += _explain(chain, producer, recall)
        claims, tx, block = _anchor_claims(
            self.bundle.get("anchor"), self.chain_id, self.registry, self.check.root, facts, snap
        )
        findings += claims
        anchor = None
        if facts is not None:
            anchor = _chain_anchor(facts, self.chain_id, self.registry, tx, block, bool(claims))
        return anchor, recall


def _chain_anchor(
    facts: AnchorFacts, chain_id: int, registry: str, tx: str | None, block: int | None, bad: bool
) -> ChainAnchor:
    return ChainAnchor(
        chain_id=chain_id,
        registry=registry,
        root=facts.root,
        epoch=facts.epoch,
        anchorer=facts.anchorer,
        record_count=facts.record_count,
        timestamp=facts.timestamp,
        revoked=facts.revoked,
        tx_hash=None if bad else tx,
        block_number=None if bad else block,
    )


def _explain(
    findings: list[Finding], producer: ProducerFacts | None, recall: RecallFacts | None
) -> list[Finding]:
    """Sharpen the shared detail strings with what the registry said."""
    out: list[Finding] = []
    for reason, detail in findings:
        if reason is Reason.PRODUCER_NOT_REGISTERED:
            detail = _producer_detail(producer) or detail
        elif reason is Reason.LOT_RECALLED and recall is not None:
            detail = f"the lot was recalled on chain at {recall.timestamp}: {recall.reason}"
        out.append((reason, detail))
    return out


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    out = []
    for f in findings:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def _result(findings: list[Finding], **fields: Any) -> VerificationResult:
    findings = _dedupe(findings)
    reasons = tuple(r.value for r, _ in findings)
    return VerificationResult(
        status=verdict_status(r for r, _ in findings),
        reasons=reasons,
        details=tuple(d for _, d in findings),
        **fields,
    )


class ProvenanceJob:
    """A lot's provenance: every record checked offline, every epoch's multiproof
    recomputed, then each root, the lot's recall and the producer read from the chain."""

    def __init__(
        self,
        provenance: Any,
        pins: Pins,
        gtin: str | None = None,
        lot: str | None = None,
    ) -> None:
        self.doc = provenance if isinstance(provenance, dict) else {}
        self.lot_findings: list[Finding] = []
        self.records: list[_RecordState] = []
        self.epochs: dict[int, _Epoch] = {}
        self.needs: Needs | None = None
        self.chain_id: int | None = None
        self.registry: str | None = None
        self.key: bytes | None = None
        self.producer: str | None = None
        self.gtin: str | None = _str(self.doc.get("gtin"))
        self.lot: str | None = _str(self.doc.get("lot"))
        self.pins = pins
        try:
            self._parse(gtin, lot)
        except (KeyError, TypeError, ValueError, RecordError, ChainReadError) as exc:
            what = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
            self.lot_findings.append((Reason.MALFORMED, f"provenance: {what}"))
            self.needs = None
            return
        if any(r is Reason.CHAIN_MISMATCH for r, _ in self.lot_findings):
            self.needs = None

    def _parse(self, gtin: str | None, lot: str | None) -> None:
        doc = self.doc
        self.gtin, self.lot = normalize_gtin(str(doc["gtin"])), validate_lot(str(doc["lot"]))
        if (
            gtin is not None
            and lot is not None
            and (normalize_gtin(gtin), lot)
            != (
                self.gtin,
                self.lot,
            )
        ):
            self.lot_findings.append(
                (Reason.LOT_MISMATCH, f"asked for lot {lot} of {gtin}, got lot {self.lot}")
            )
        self.key = lot_key(self.gtin, self.lot)
        if as_bytes32(doc["lotKey"], "lotKey") != self.key:
            self.lot_findings.append(
                (Reason.LOT_MISMATCH, "lotKey is not keccak256 of the lot's Digital Link path")
            )
        self.chain_id = int(doc["chainId"])
        self.registry = checksum(str(doc["registry"]), "registry")
        producer = doc["producer"]
        address = producer.get("address") if isinstance(producer, dict) else producer
        self.producer = checksum(str(address), "producer")
        self.lot_findings += self.pins.findings(self.chain_id, self.registry)
        records = doc["records"]
        multiproofs = doc.get("multiproofs") or []
        if not isinstance(records, list) or not isinstance(multiproofs, list):
            raise TypeError("records and multiproofs must be lists")
        for mp in multiproofs:
            epoch = _Epoch.parse(mp)
            if epoch.number in self.epochs:
                raise ValueError(f"two multiproofs for epoch {epoch.number}")
            self.epochs[epoch.number] = epoch
            if self.pins.log is not None:
                claims = {
                    "epoch": epoch.number,
                    "root": mp["root"],
                    "chainId": self.chain_id,
                    "registry": self.registry,
                    "anchor": epoch.anchor,
                }
                epoch.log_findings, epoch.cosigners = self.pins.log.check(mp.get("log"), claims)
        for item in records:
            self.records.append(self._record(item))
        for epoch in self.epochs.values():
            self.lot_findings += epoch.check(self.records)
        for rec in self.records:
            if rec.epoch is not None and rec.epoch not in self.epochs:
                rec.proof_findings.append(
                    (Reason.PROOF_MISMATCH, f"no multiproof for epoch {rec.epoch}")
                )
        self.needs = Needs(self.chain_id, self.registry, lots={self.key})
        self.needs.producers.add(self.producer)
        for epoch in self.epochs.values():
            self.needs.roots.add(epoch.root)
            if epoch.tx:
                self.needs.receipts.add(epoch.tx)

    def _record(self, item: Any) -> _RecordState:
        if not isinstance(item, dict):
            return _RecordState(None, [(Reason.MALFORMED, "a record is not an object")], None)
        try:
            claimed = as_bytes32(item.get("recordId"), "recordId")
        except RecordError:
            claimed = None
        pseudo = {
            "gtin": self.gtin,
            "lot": self.lot,
            "lotKey": self.doc["lotKey"],
            "event": item.get("event"),
            "salt": item.get("salt"),
            "digest": item.get("digest"),
            "leaf": item.get("recordId"),
            "producer": self.producer,
            "signature": item.get("signature"),
            "chainId": self.chain_id,
            "registry": self.registry,
        }
        if "signer" in item:  # signed by the node for the producer (docs/epcis.md §6)
            pseudo["signer"] = item["signer"]
        check = check_bundle_offline(pseudo, custodian_known=self.pins.custodian_known)
        findings = [
            (r, d)
            for r, d in zip(check.reasons, check.details, strict=True)
            if r is not Reason.PENDING
        ]
        epoch = item.get("epoch")
        return _RecordState(check, findings, epoch if isinstance(epoch, int) else None, claimed)

    def finish(self, snap: Snapshot | None) -> VerificationResult:
        lot_findings = list(self.lot_findings)
        recall: RecallFacts | None = None
        producer: ProducerFacts | None = None
        if self.needs is not None and snap is not None and snap.problem:
            lot_findings.append((Reason.CHAIN_MISMATCH, snap.problem))
        # Why the chain was not asked, repeated on each record it leaves unchecked.
        unchecked = [f for f in lot_findings if f[0] is Reason.CHAIN_MISMATCH]
        chain_ok = self.needs is not None and snap is not None and not snap.problem
        if chain_ok:
            assert snap is not None and self.key is not None
            recall = snap.recalls.get(self.key)
            producer = snap.producers.get(self.producer or "")
            if self.doc.get("recall") and recall is None:  # err on the buyer's side
                lot_findings.append(
                    (
                        Reason.LOT_RECALLED,
                        "the node reports a recall the registry does not hold yet",
                    )
                )
        results = [
            self._record_result(r, snap if chain_ok else None, recall, producer, unchecked)
            for r in self.records
        ]
        if not self.records and not lot_findings:
            lot_findings.append((Reason.PENDING, "the lot has no records yet"))
        all_findings = lot_findings + [
            (Reason(reason), detail)
            for res in results
            for reason, detail in zip(res.reasons, res.details, strict=True)
        ]
        if any(r is Reason.MALFORMED for r, _ in lot_findings):
            all_findings = lot_findings
        return _result(
            all_findings,
            gtin=self.gtin,
            lot=self.lot,
            lot_key=_hex(self.key),
            producer=self.producer,
            chain_id=self.chain_id,
            registry=self.registry,
            recall=recall,
            records=tuple(results),
            cosigners=self._lot_cosigners(),
        )

    def _lot_cosigners(self) -> tuple[str, ...]:
        """The witnesses that cosigned every anchored epoch of the lot."""
        sets = [set(e.cosigners) for e in self.epochs.values()]
        return tuple(sorted(set.intersection(*sets))) if sets else ()

    def _record_result(
        self,
        rec: _RecordState,
        snap: Snapshot | None,
        recall: RecallFacts | None,
        producer: ProducerFacts | None,
        unchecked: list[Finding],
    ) -> VerificationResult:
        findings = list(rec.findings)
        anchor: ChainAnchor | None = None
        cosigners: tuple[str, ...] = ()
        check = rec.check
        malformed = check is None or any(r is Reason.MALFORMED for r, _ in findings)
        if rec.epoch is None:
            findings.append((Reason.PENDING, "the record is not anchored yet"))
        elif not malformed:
            epoch = self.epochs.get(rec.epoch)
            findings += rec.proof_findings
            if epoch is not None:
                findings += epoch.log_findings
                cosigners = epoch.cosigners
            if snap is None and not rec.proof_findings:
                findings += unchecked
            if epoch is not None and snap is not None and not rec.proof_findings:
                assert check is not None and self.chain_id is not None and self.registry
                facts = snap.anchors.get(epoch.root)
                scoped = OfflineCheck(
                    lot_key=check.lot_key,
                    leaf=check.leaf,
                    root=epoch.root,
                    epoch=epoch.number,
                    producer=self.producer,
                )
                chain = chain_findings(
                    scoped,
                    facts,
                    producer_active=_producer_finding(producer),
                    recalled=recall is not None,
                    anchor_claimed=epoch.anchor is not None,
                )
                findings += _explain(chain, producer, recall)
                claims, tx, block = _anchor_claims(
                    epoch.anchor, self.chain_id, self.registry, epoch.root, facts, snap
                )
                findings += claims
                if facts is not None:
                    anchor = _chain_anchor(
                        facts, self.chain_id, self.registry, tx, block, bool(claims)
                    )
        leaf = _hex(check.leaf) if check is not None else None
        return _result(
            findings,
            record_id=leaf,
            gtin=self.gtin,
            lot=self.lot,
            lot_key=_hex(self.key),
            producer=self.producer,
            chain_id=self.chain_id,
            registry=self.registry,
            anchor=anchor,
            recall=recall,
            cosigners=cosigners,
            signed_by=check.signed_by if check is not None else None,
        )


@dataclass(slots=True)
class _RecordState:
    check: OfflineCheck | None
    findings: list[Finding]
    epoch: int | None
    claimed: bytes | None = None
    proof_findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class _Epoch:
    number: int
    root: bytes
    leaves: list[bytes]
    proof: list[bytes]
    flags: list[bool]
    anchor: Any
    tx: str | None
    log_findings: list[Finding] = field(default_factory=list)
    cosigners: tuple[str, ...] = ()

    @classmethod
    def parse(cls, mp: Any) -> _Epoch:
        if not isinstance(mp, dict):
            raise TypeError("a multiproof is not an object")
        flags = mp["proofFlags"]
        if not isinstance(flags, list) or not all(isinstance(f, bool) for f in flags):
            raise TypeError("proofFlags must be a list of booleans")
        return cls(
            number=int(mp["epoch"]),
            root=as_bytes32(mp["root"], "root"),
            leaves=[as_bytes32(x, "leaf") for x in mp["leaves"]],
            proof=[as_bytes32(x, "proof node") for x in mp["proof"]],
            flags=flags,
            anchor=mp.get("anchor"),
            tx=_valid_tx(mp.get("anchor")),
        )

    def check(self, records: list[_RecordState]) -> list[Finding]:
        """Recompute the multiproof, tie each record of this epoch to its leaves, and
        return lot-level findings (leaves proven on chain whose records are withheld)."""
        valid = bool(self.leaves) and check_lot_multiproof(
            self.root, list(self.leaves), list(self.proof), list(self.flags)
        )
        covered = set(self.leaves)
        # Shown: every record listed, by its recomputed leaf or its claimed id (a record
        # that fails on its own is reported as such, not as withheld).
        shown = {r.claimed for r in records} | {r.check.leaf for r in records if r.check}
        for rec in records:
            if rec.epoch != self.number or rec.check is None or rec.check.leaf is None:
                continue
            if not valid:
                rec.proof_findings.append(
                    (
                        Reason.PROOF_MISMATCH,
                        f"the multiproof of epoch {self.number} does not lead to its root",
                    )
                )
            elif rec.check.leaf not in covered:
                rec.proof_findings.append(
                    (
                        Reason.PROOF_MISMATCH,
                        f"the record is not among the leaves proven for epoch {self.number}",
                    )
                )
        hidden = covered - shown
        if valid and hidden:
            return [
                (
                    Reason.PROOF_MISMATCH,
                    f"epoch {self.number} anchors {len(hidden)} record(s) of this lot that "
                    "the provenance does not show",
                )
            ]
        return []


__all__ = ["BundleJob", "ProvenanceJob", "claimed_needs"]
