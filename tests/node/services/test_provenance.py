"""ProvenanceService: records, proof bundles and lot provenance read from the store."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from vntrace.node.bundles import BUNDLE_VERSION, check_lot_multiproof
from vntrace.node.errors import NotFoundError
from vntrace.node.merkle import verify_proof
from vntrace.node.service import TraceNode
from vntrace.node.services import Lookups, NodeContext, ProducerService, ProvenanceService
from vntrace.node.services.provenance import record_key

from .conftest import Signer


@pytest.fixture(scope="module")
def provenance(ctx: NodeContext) -> ProvenanceService:
    return ProvenanceService(ctx, Lookups(ctx.store), ProducerService(ctx))


@pytest.fixture(scope="module")
def acks(node: TraceNode, coop: LocalAccount, sign: Signer) -> list:
    producer = node.producers.producer(coop.address)
    return node.intake.submit(
        producer, node.profile.gtins[0], "LOT-PROV-1", sign(coop, "LOT-PROV-1")
    )


def test_a_pending_bundle_has_no_proof_and_an_anchored_one_verifies(
    provenance: ProvenanceService, node: TraceNode, acks: list
) -> None:
    pending = provenance.bundle(acks[0].record_id)
    assert pending["version"] == BUNDLE_VERSION and pending["status"] == "pending"
    assert pending["proof"] is None and pending["anchor"] is None
    assert node.anchor_now() >= 1
    bundle = provenance.bundle(acks[0].record_id)
    assert bundle["status"] == "anchored" and bundle["anchor"]["blockNumber"] > 0
    assert bundle["anchor"]["contract"] == node.chain.registry_address
    proof = [bytes.fromhex(p[2:]) for p in bundle["proof"]]
    assert verify_proof(bytes.fromhex(bundle["root"][2:]), bytes.fromhex(bundle["leaf"][2:]), proof)


def test_provenance_has_every_record_and_one_multiproof_per_epoch(
    provenance: ProvenanceService, node: TraceNode, acks: list
) -> None:
    node.anchor_now()
    lot = provenance.provenance(node.profile.gtins[0], "LOT-PROV-1")
    assert [r["recordId"] for r in lot["records"]] == [a.record_id for a in acks]
    assert lot["producer"]["name"] == "HTX Ea Tu" and lot["recall"] is None
    covered = [leaf for mp in lot["multiproofs"] for leaf in mp["leaves"]]
    assert sorted(covered) == sorted(a.record_id for a in acks)
    for mp in lot["multiproofs"]:
        assert check_lot_multiproof(mp["root"], mp["leaves"], mp["proof"], mp["proofFlags"])


def test_unknown_records_and_lots_are_not_found(
    provenance: ProvenanceService, node: TraceNode
) -> None:
    for bad in ("0x" + "ab" * 32, "0x12", "0x" + "zz" * 32):
        with pytest.raises(NotFoundError):
            provenance.record(bad)
    with pytest.raises(NotFoundError):
        record_key("not hex at all")
    with pytest.raises(NotFoundError, match="no lot"):
        provenance.provenance(node.profile.gtins[0], "LOT-NEVER")


def test_bundles_in_one_read_equal_bundles_one_by_one(
    provenance: ProvenanceService, node: TraceNode, acks: list
) -> None:
    node.anchor_now()
    ids = [a.record_id for a in acks]
    asked = [*ids, "0x" + "ef" * 32, "not-an-id", ids[0]]
    got = provenance.bundles(asked)
    assert got[: len(ids)] == [provenance.bundle(rid) for rid in ids]
    assert got[len(ids) : len(ids) + 2] == [None, None]
    assert got[-1] == got[0]
