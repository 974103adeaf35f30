"""Reading back: a stored record, its proof bundle, and a lot's whole provenance.

A proof bundle is self-contained (shared/DESIGN.md, "Proof bundle"): everything but "is
this root anchored and not revoked" verifies offline. Proofs are read from the stored
epoch trees; nothing is rebuilt per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vntrace.node.bundles import BUNDLE_VERSION
from vntrace.node.epcis.records import BUNDLE_VERSION_EPCIS
from vntrace.node.errors import NotFoundError
from vntrace.node.records import digital_link_uri, parse_stored
from vntrace.node.records.signing import to_checksum_address
from vntrace.node.store.types import EpochRow, LotMultiproof, RecordProof, RecordRow

from .context import Lookups, NodeContext, hex0x
from .producers import ProducerService


def record_key(record_id: str) -> bytes:
    """A record id (the leaf, hex) as bytes; anything else is simply not found."""
    text = record_id.removeprefix("0x")
    if len(text) != 64:
        raise NotFoundError(f"no record {record_id}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise NotFoundError(f"no record {record_id}") from None


def signer_section(producer: str, custodian: bytes) -> dict[str, str]:
    """A custodial record's ``signer``: the node signed it for the producer with the
    custodial key ``custodian`` (records without it are the producer's own)."""
    return {"kind": "custodial", "custodian": to_checksum_address(custodian), "producer": producer}


@dataclass(frozen=True, slots=True)
class LotReading:
    """A lot's provenance together with the stored rows it was made from.

    ``rows[i]`` is ``provenance["records"][i]``; ``multiproofs`` maps each epoch to the
    stored multiproof ``provenance["multiproofs"]`` states. The consumer page verifies the
    lot from these (:meth:`VerificationService.verify_lot`), one multiproof per epoch,
    without building a bundle per record.
    """

    provenance: dict[str, Any]
    rows: tuple[RecordRow, ...]
    multiproofs: dict[int, LotMultiproof]


class ProvenanceService:
    """Serves records, proof bundles and lot provenance from the store."""

    def __init__(self, ctx: NodeContext, lookups: Lookups, producers: ProducerService) -> None:
        self._ctx = ctx
        self._lookups = lookups
        self._producers = producers
        self.log_section: Callable[[int], dict[str, Any] | None] | None = None
        """The witnessed log's section for an epoch (``LogService.bundle_section``),
        added to bundles and provenance epochs when set."""

    @property
    def lookups(self) -> Lookups:
        """The memoised immutable facts this service reads (shared with verification)."""
        return self._lookups

    def record(self, record_id: str) -> RecordRow:
        """A stored record by its id (the leaf hex)."""
        row = self._ctx.store.get_record(record_key(record_id))
        if row is None:
            raise NotFoundError(f"no record {record_id}")
        return row

    def bundle(self, record_id: str) -> dict[str, Any]:
        """The proof bundle of one record (pending records have no proof yet)."""
        row = self.record(record_id)
        return self._bundle(row, self._ctx.store.proof_for(row.leaf))

    def bundles(self, record_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Bundles of many records, read in one store transaction; ``None`` where a
        record id is unknown or malformed (the caller says so per item)."""
        return [None if hit is None else hit[0] for hit in self.stored_bundles(record_ids)]

    def stored_bundles(
        self, record_ids: Sequence[str]
    ) -> list[tuple[dict[str, Any], RecordRow] | None]:
        """:meth:`bundles` with the row each was built from (verification reads what
        intake checked from it instead of asking the store again)."""
        keys: list[bytes | None] = []
        for rid in record_ids:
            try:
                keys.append(record_key(rid))
            except NotFoundError:
                keys.append(None)
        found = self._ctx.store.records_with_proofs([k for k in keys if k is not None])
        sections: dict[int, dict[str, Any] | None] = {}  # one log section per epoch
        out: list[tuple[dict[str, Any], RecordRow] | None] = []
        for key in keys:
            hit = found.get(key) if key is not None else None
            out.append(None if hit is None else (self._bundle(*hit, sections=sections), hit[0]))
        return out

    def _bundle(
        self,
        row: RecordRow,
        proof: RecordProof | None,
        sections: dict[int, dict[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        ctx = self._ctx
        gtin, lot_number = self._lookups.lot_names(row.lot_key)
        event = parse_stored(row.event_json)
        out: dict[str, Any] = {
            "version": BUNDLE_VERSION if "kind" in event else BUNDLE_VERSION_EPCIS,
            "recordId": hex0x(row.leaf),
            "status": row.status.value,
            "gtin": gtin,
            "lot": lot_number,
            "digitalLink": digital_link_uri(ctx.settings.base_url, gtin, lot_number),
            "lotKey": hex0x(row.lot_key),
            "event": event,
            "salt": hex0x(row.salt),
            "digest": hex0x(row.digest),
            "leaf": hex0x(row.leaf),
            "producer": self._lookups.producer_address(row.producer_id),
            "signature": hex0x(row.signature),
            "chainId": ctx.chain.chain_id,
            "registry": ctx.chain.registry_address,
            "receivedAt": row.received_at.isoformat(),
            "epoch": None,
            "leafIndex": None,
            "proof": None,
            "root": None,
            "anchor": None,
        }
        if row.custodian is not None:  # signed by the node for the producer (docs/epcis.md §6)
            out["signer"] = signer_section(out["producer"], row.custodian)
        if proof is not None:
            epoch = proof.epoch
            out.update(
                epoch=epoch.number,
                leafIndex=proof.leaf_index,
                proof=[hex0x(p) for p in proof.proof],
                root=hex0x(epoch.root),
                anchor=self._anchor(epoch),
            )
            section = self._log_section(epoch.number, sections)
            if section is not None:
                out["log"] = section
        return out

    def _log_section(
        self, epoch: int, sections: dict[int, dict[str, Any] | None] | None
    ) -> dict[str, Any] | None:
        """The epoch's log section, derived once per epoch within one ``bundles`` call
        (shared by every record of the epoch; each bundle gets its own copy)."""
        if self.log_section is None:
            return None
        if sections is None:
            return self.log_section(epoch)
        if epoch not in sections:
            sections[epoch] = self.log_section(epoch)
        section = sections[epoch]
        return None if section is None else dict(section)

    def provenance(self, gtin: str, lot: str) -> dict[str, Any]:
        """A lot's events in order, with one multiproof per anchored epoch."""
        return self.read_lot(gtin, lot).provenance

    def read_lot(self, gtin: str, lot: str) -> LotReading:
        """:meth:`provenance`, with the rows and multiproofs behind it."""
        ctx = self._ctx
        gtin14, lot, key = self._producers.lot_identity(gtin, lot)
        lot_row = ctx.store.get_lot(key)
        if lot_row is None:
            raise NotFoundError(f"no lot {lot} of GTIN {gtin14}")
        producer = ctx.store.get_producer(lot_row.producer_id)
        if producer is None:  # the store's foreign key makes this impossible
            raise NotFoundError(f"no producer for lot {lot}")
        records = ctx.store.list_records_by_lot(key, limit=10_000)
        multiproofs = ctx.store.multiproofs_of(records)  # one read, from these rows
        proofs = []
        for number, mp in multiproofs.items():
            ep = mp.epoch
            proofs.append(
                {
                    "epoch": number,
                    "root": hex0x(ep.root),
                    "status": ep.status.value,
                    "leaves": [hex0x(x) for x in mp.leaves],
                    "proof": [hex0x(x) for x in mp.proof],
                    "proofFlags": list(mp.proof_flags),
                    "anchor": self._anchor(ep, own_registry=True),
                }
            )
            section = self.log_section(number) if self.log_section else None
            if section is not None:
                proofs[-1]["log"] = section
        producer_address = to_checksum_address(producer.address)
        provenance = {
            "gtin": gtin14,
            "lot": lot,
            "lotKey": hex0x(key),
            "digitalLink": digital_link_uri(ctx.settings.base_url, gtin14, lot),
            "producer": {
                "address": producer_address,
                "name": producer.name,
            },
            "chainId": ctx.chain.chain_id,
            "registry": ctx.chain.registry_address,
            "recall": None
            if lot_row.recalled_at is None
            else {"at": lot_row.recalled_at.isoformat(), "reason": lot_row.recall_reason},
            "records": [
                {
                    "recordId": hex0x(r.leaf),
                    "status": r.status.value,
                    "epoch": r.epoch,
                    "leafIndex": r.leaf_index,
                    "event": parse_stored(r.event_json),
                    "salt": hex0x(r.salt),
                    "digest": hex0x(r.digest),
                    "signature": hex0x(r.signature),
                    "receivedAt": r.received_at.isoformat(),
                    **(
                        {"signer": signer_section(producer_address, r.custodian)}
                        if r.custodian is not None
                        else {}
                    ),
                }
                for r in records
            ],
            "multiproofs": proofs,
        }
        return LotReading(provenance, tuple(records), multiproofs)

    def bundle_anchor(self, epoch: EpochRow) -> dict[str, Any] | None:
        """The ``anchor`` a bundle of a record in ``epoch`` states."""
        return self._anchor(epoch)

    def _anchor(self, epoch: EpochRow, *, own_registry: bool = False) -> dict[str, Any] | None:
        """The anchor of an epoch as bundles state it, or ``None`` before it is sent."""
        if epoch.tx_hash is None or epoch.block_number is None:
            return None
        chain = self._ctx.chain
        if own_registry or not epoch.contract:
            contract = chain.registry_address
        else:
            contract = to_checksum_address(epoch.contract)
        return {
            "chainId": epoch.chain_id if own_registry else (epoch.chain_id or chain.chain_id),
            "contract": contract,
            "txHash": hex0x(epoch.tx_hash),
            "blockNumber": epoch.block_number,
            "blockTimestamp": epoch.block_timestamp,
        }
