"""Where a record is verified: verdicts for consumers' bundles and for stored records.

A bundle is checked offline first (digest, leaf, signature, proof: :mod:`vntrace.node.
bundles`), then against the chain: its root anchored and not revoked, its producer
active, its lot not recalled, and every anchor fact it claims (chain, contract,
transaction, block, time) equal to the registry's. Batches share work: proofs under one
root go through one :class:`BatchVerifier`, the registry's roots are read from its
events once per batch (:class:`AnchoredRoots`), not by one call per record, and a
signature the intake already recovered for exactly the same stored record (leaf,
digest, signature bytes, producer, signing domain) is not recovered again. The digest
and leaf are always recomputed from the bundle's own bytes, so a bundle differing from
the stored record in any byte still gets every check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from vntrace.node import bundles
from vntrace.node.anchoring import AnchoredRoots, RootState
from vntrace.node.bundles import Reason
from vntrace.node.chain import ChainError
from vntrace.node.errors import UnavailableError
from vntrace.node.merkle import BatchVerifier
from vntrace.node.records import (
    RecordError,
    as_bytes32,
    digest_canonical,
    lot_key,
    record_leaf,
)
from vntrace.node.records.signing import address_bytes
from vntrace.node.store.errors import StoreError
from vntrace.node.store.types import IntakeSignature

from .context import NodeContext, hex0x, memo_put
from .custodial import registered_custodians
from .models import Verdict
from .provenance import LotReading, ProvenanceService

Outcome = tuple[str, tuple[str, ...], tuple[str, ...]]
"""A verdict's status, reason names and details: what its failed checks decide."""


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _outcome(reasons: list[Reason], details: list[str]) -> Outcome:
    return bundles.verdict_status(reasons), tuple(r.value for r in reasons), tuple(details)


KNOWN_FROM = 8
"""Batches this large ask the store which signatures intake already recovered."""


class VerificationService:
    """Verdicts for bundles and stored records, checked against the chain."""

    def __init__(
        self, ctx: NodeContext, roots: AnchoredRoots, provenance: ProvenanceService
    ) -> None:
        self._ctx = ctx
        self._roots = roots
        self._provenance = provenance
        self._anchor_facts: dict[bytes, tuple[int | None, str | None]] = {}

    def verify_bundles(self, items: Sequence[dict[str, Any]]) -> list[Verdict]:
        """Verify many bundles: offline checks, then each root and lot checked once."""
        return self._verify(items, None)

    def _verify(
        self, items: Sequence[dict[str, Any]], stored: Mapping[bytes, IntakeSignature] | None
    ) -> list[Verdict]:
        """``stored``: what intake checked of these leaves, when the caller read it
        already (``None``: read it here)."""
        try:  # the registry's events since the last batch: then no eth_call per record
            self._roots.refresh()
        except ChainError as exc:
            raise UnavailableError(f"the chain could not be read: {exc}") from exc
        by_root: dict[bytes, BatchVerifier] = {}

        def prove(root: bytes, leaf: bytes, proof: list[Any]) -> bool:
            verifier = by_root.get(root)
            if verifier is None:
                verifier = by_root[root] = BatchVerifier(root)
            return verifier.verify(leaf, proof)

        known = self._known_signatures(items, stored)
        custodians = self._known_custodians(items)
        verdicts: list[Verdict] = []
        for item in items:
            check = bundles.check_bundle_offline(item, prove, known, custodians)
            reasons = list(check.reasons)
            details = list(check.details)
            anchor = item.get("anchor") if isinstance(item, dict) else None
            if check.root is not None and Reason.MALFORMED not in reasons:
                verdicts.append(self._chain_verdict(check, reasons, details, anchor))
            else:
                verdicts.append(_verdict(reasons, details, check, anchor))
        return verdicts

    def _known_custodians(self, items: Sequence[Any]) -> bundles.CustodianKnown:
        """Which custodians the store holds for which producers, for these bundles'
        custodial signer sections (one store read; none read when there are none)."""
        pairs = []
        for item in items:
            section = item.get("signer") if isinstance(item, dict) else None
            if isinstance(section, dict) and section.get("kind") == "custodial":
                pairs.append((str(item.get("producer")), str(section.get("custodian"))))
        if not pairs:
            return lambda _producer, _custodian: False
        try:
            found = registered_custodians(self._ctx.store, pairs)
        except StoreError as exc:  # not an optimisation: without it nothing custodial verifies
            raise UnavailableError(f"the store could not be read: {exc}") from exc
        return lambda producer, custodian: (producer.lower(), custodian.lower()) in found

    def _known_signatures(
        self, items: Sequence[Any], stored: Mapping[bytes, IntakeSignature] | None = None
    ) -> bundles.SignatureKnown:
        """What intake already verified for these bundles' leaves: ``stored``, or what
        :meth:`_intake_signatures` reads."""
        facts = self._intake_signatures(items) if stored is None else stored
        if not facts:
            return lambda *_: False
        chain = self._ctx.chain
        chain_id, registry = chain.chain_id, chain.registry_address.lower()

        def known(
            cid: int, reg: str, leaf: bytes, digest: bytes, signature: Any, signer: str
        ) -> bool:
            fact = facts.get(leaf)
            if fact is None or cid != chain_id or reg.lower() != registry:
                return False
            if fact.digest != digest or not isinstance(signature, str):
                return False
            if signature.lower() != "0x" + fact.signature.hex():
                return False
            # Who intake checked the signature against: the custodian of a custodial
            # record, else the producer. A bundle claiming anyone else gets full checks.
            return "0x" + fact.signer.hex() == signer.lower()

        return known

    def _intake_signatures(self, items: Sequence[Any]) -> Mapping[bytes, IntakeSignature]:
        """What intake checked of these bundles' leaves, in one store read.

        Below :data:`KNOWN_FROM` bundles nothing is read: recovering their signatures
        (~40 µs each) costs less than the read (a transaction, ~150 µs here)."""
        if len(items) < KNOWN_FROM:
            return {}
        leaves = []
        for item in items:
            try:
                leaves.append(as_bytes32(item["leaf"], "leaf"))
            except (KeyError, TypeError, RecordError):
                continue
        try:
            return self._ctx.store.intake_signatures(leaves)
        except StoreError:  # an optimisation only: a store hiccup means full checks
            return {}

    def verify_records(self, record_ids: Sequence[str]) -> list[Verdict]:
        """Verify stored records by id, through the same path as a consumer's bundles."""
        found = self._provenance.stored_bundles(record_ids)  # one read for the whole batch
        unknown = {i for i, hit in enumerate(found) if hit is None}
        lookups = self._provenance.lookups
        stored = {  # what intake checked, from the rows just read: no second read
            row.leaf: IntakeSignature(
                row.digest,
                row.signature,
                row.custodian or address_bytes(lookups.producer_address(row.producer_id)),
            )
            for _, row in filter(None, found)
        }
        verdicts = self._verify([hit[0] if hit else {} for hit in found], stored)
        return [
            Verdict("failed", (Reason.UNKNOWN_RECORD.value,), ("no such record",), rid)
            if i in unknown
            else v
            for i, (rid, v) in enumerate(zip(record_ids, verdicts, strict=True))
        ]

    def verify_lot(self, reading: LotReading) -> list[Verdict]:
        """Verdicts of a lot's stored records, in ``reading.rows`` order, with one
        multiproof per epoch instead of one proof per record (the consumer page's path).

        Each record's digest and leaf are recomputed from its stored bytes, each epoch's
        leaves are proven together against the epoch's root, and each record then gets
        the chain checks a bundle gets (root anchored and not revoked, producer active,
        lot not recalled, anchor facts), judged once per epoch (and producer and lot key,
        the only other facts they depend on) rather than per record. The signature is
        not recovered again, exactly as :meth:`verify_records` does for a stored record.
        Pending records, and every record of an epoch where anything does not add up,
        go through :meth:`verify_records`, so a failure gets the reasons its bundle would.
        """
        rows = reading.rows
        verdicts: list[Verdict | None] = [None] * len(rows)
        slow: list[int] = []
        by_epoch: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            if row.epoch is not None and row.epoch in reading.multiproofs:
                by_epoch[row.epoch].append(i)
            else:
                slow.append(i)
        if by_epoch:
            try:
                self._roots.refresh()
            except ChainError as exc:
                raise UnavailableError(f"the chain could not be read: {exc}") from exc
        lookups = self._provenance.lookups
        keys: dict[bytes, bool] = {}  # lot key -> it is keccak of the lot's names
        vouched = self._row_custodians(rows)
        for number, members in by_epoch.items():
            mp = reading.multiproofs[number]
            if not self._epoch_holds(rows, members, mp, keys):
                slow.extend(members)
                continue
            anchor = self._provenance.bundle_anchor(mp.epoch)
            claimed = anchor if isinstance(anchor, dict) else None
            # The chain facts are the epoch's (root, anchor) and the lot's and producer's:
            # read and judged once per (producer, lot key) of the epoch, not per record.
            outcomes: dict[tuple[str, bytes], Outcome] = {}
            for i in members:
                row = rows[i]
                if row.custodian is not None and row.custodian not in vouched:
                    slow.append(i)  # its bundle's checks say why (bad_signature)
                    continue
                producer = lookups.producer_address(row.producer_id)
                outcome = outcomes.get((producer, row.lot_key))
                if outcome is None:
                    check = bundles.OfflineCheck(
                        lot_key=row.lot_key, root=mp.epoch.root, epoch=number, producer=producer
                    )
                    found = self._chain_findings(check, anchor)
                    outcome = _outcome([r for r, _ in found], [d for _, d in found])
                    outcomes[(producer, row.lot_key)] = outcome
                status, names, why = outcome
                signed_by = "producer" if row.custodian is None else "custodial"
                verdicts[i] = Verdict(status, names, why, hex0x(row.leaf), claimed, signed_by)
        if slow:
            slow.sort()
            for i, verdict in zip(
                slow, self.verify_records([hex0x(rows[i].leaf) for i in slow]), strict=True
            ):
                verdicts[i] = verdict
        return [v for v in verdicts if v is not None]

    def _row_custodians(self, rows: Sequence[Any]) -> set[bytes]:
        """The custodians of these rows that are still keys of the rows' producers."""
        lookups = self._provenance.lookups
        pairs = {
            (lookups.producer_address(r.producer_id), "0x" + r.custodian.hex())
            for r in rows
            if r.custodian is not None
        }
        if not pairs:
            return set()
        try:
            found = registered_custodians(self._ctx.store, pairs)
        except StoreError as exc:
            raise UnavailableError(f"the store could not be read: {exc}") from exc
        return {bytes.fromhex(c[2:]) for _, c in found}

    def _epoch_holds(
        self,
        rows: Sequence[Any],
        members: Sequence[int],
        mp: Any,
        keys: dict[bytes, bool],
    ) -> bool:
        """Every member's stored bytes give its leaf, and the epoch's multiproof proves
        exactly these leaves under the epoch's root."""
        lookups = self._provenance.lookups
        leaves = set()
        for i in members:
            row = rows[i]
            key_ok = keys.get(row.lot_key)
            if key_ok is None:
                try:
                    key_ok = lot_key(*lookups.lot_names(row.lot_key)) == row.lot_key
                except RecordError:
                    key_ok = False
                keys[row.lot_key] = key_ok
            if not key_ok:
                return False
            digest = digest_canonical(row.salt, row.event_json)
            if digest != row.digest or record_leaf(row.lot_key, digest) != row.leaf:
                return False
            leaves.add(row.leaf)
        if leaves != set(mp.leaves) or len(mp.leaves) != len(members):
            return False
        return bundles.check_lot_multiproof(mp.epoch.root, mp.leaves, mp.proof, mp.proof_flags)

    def _chain_verdict(
        self,
        check: bundles.OfflineCheck,
        reasons: list[Reason],
        details: list[str],
        anchor: Any,
    ) -> Verdict:
        for reason, detail in self._chain_findings(check, anchor):
            reasons.append(reason)
            details.append(detail)
        return _verdict(reasons, details, check, anchor)

    def _chain_findings(self, check: bundles.OfflineCheck, anchor: Any) -> list[tuple[Reason, str]]:
        """What the chain says of a record that passed its offline checks: its root
        (anchored, not revoked, of its epoch), producer, lot and claimed anchor. Depends
        on the check's root, epoch, producer and lot key only, never on its leaf."""
        assert check.root is not None and check.lot_key is not None
        roots = self._roots
        try:
            state = roots.get(check.root)
            findings = bundles.chain_findings(
                check,
                state,
                producer_active=roots.is_active_producer(check.producer)
                if check.producer
                else None,
                recalled=roots.is_recalled(check.lot_key),
                anchor_claimed=anchor is not None,
            )
            if state is not None and anchor is not None:
                findings += self._anchor_claims(state, anchor)
        except ChainError as exc:
            raise UnavailableError(f"the chain could not be read: {exc}") from exc
        return findings

    def _anchor_claims(self, state: RootState, anchor: Any) -> list[tuple[Reason, str]]:
        """Compare the anchor a bundle claims (chain, contract, transaction, block, time)
        with the registry's: a verdict must not vouch for an anchor time the chain never
        recorded. The root's block time and transaction are read once per root."""
        if not isinstance(anchor, dict):
            return [(Reason.ANCHOR_MISMATCH, "the anchor is not an object")]
        chain = self._ctx.chain
        facts = self._anchor_facts.get(state.root)
        if facts is None:
            info = chain.get_anchor(state.root)
            tx = next(
                (
                    e.tx_hash
                    for e in chain.events_since(state.block_number, state.block_number)
                    if e.name == "RootAnchored" and bytes(e.args["root"]) == state.root
                ),
                None,
            )
            facts = (info.timestamp if info is not None else None, hex0x(tx))
            memo_put(self._anchor_facts, state.root, facts)
        timestamp, tx_hash = facts
        claims = {
            "chainId": (anchor.get("chainId"), chain.chain_id),
            "contract": (_lower(anchor.get("contract")), chain.registry_address.lower()),
            "txHash": (_lower(anchor.get("txHash")), tx_hash),
            "blockNumber": (anchor.get("blockNumber"), state.block_number),
            "blockTimestamp": (anchor.get("blockTimestamp"), timestamp),
        }
        return [
            (Reason.ANCHOR_MISMATCH, f"the anchor claims {name} {claimed}; the chain says {real}")
            for name, (claimed, real) in claims.items()
            if claimed is not None and (claimed != real or type(claimed) is bool)
        ]


def _verdict(
    reasons: list[Reason], details: list[str], check: bundles.OfflineCheck, anchor: Any
) -> Verdict:
    claimed = anchor if isinstance(anchor, dict) else None
    return Verdict(*_outcome(reasons, details), hex0x(check.leaf), claimed, check.signed_by)
