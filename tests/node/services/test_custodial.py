"""Custodial keys over a real node: one sealed key per producer, a signed statement of
custodians, and EPCIS capture of unsigned events signed by the node for the producer,
never mistaken for the producer's own signature."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from tests.support.epcis import gs1_example
from vntrace.client.epcis import profile_events_document
from vntrace.node.bundles import check_bundle_offline
from vntrace.node.custodians import StatementError, verify_statement
from vntrace.node.demo import season_events
from vntrace.node.epcis.mapping import epcis_document, to_epcis, with_context
from vntrace.node.errors import NotFoundError
from vntrace.node.records import is_commitment, recover_record_signer
from vntrace.node.service import TraceNode
from vntrace.node.services.custodial import CustodialService
from vntrace.node.services.epcis import CaptureRefusedError
from vntrace.node.store.schema import custodial_keys
from vntrace.node.store.types import ProducerRow

from .conftest import NOW


def _lot() -> str:
    return "C-" + secrets.token_hex(5).upper()


@pytest.fixture
def producer(node: TraceNode) -> tuple[LocalAccount, ProducerRow]:
    acct = Account.create()
    return acct, node.producers.register_producer(acct.address, "HTX Krông Năng")


def _plain(node: TraceNode, lot: str) -> bytes:
    """A plain EPCIS client's document: the demo season as EPCIS, no signatures, private
    values (farmer, buyer, price) in clear, no eventIDs."""
    gtin = node.profile.gtins[0]
    events = [to_epcis(node.profile, gtin, lot, e) for e in season_events(NOW)]
    doc = epcis_document(events, node.profile)
    return json.dumps(doc, ensure_ascii=False).encode()


def _bundles(node: TraceNode, acks: list[Any]) -> list[dict[str, Any]]:
    return [node.bundle(a.record_id) for a in acks]


def test_create_is_idempotent_and_the_key_is_sealed(
    node: TraceNode, producer: tuple[LocalAccount, ProducerRow], caplog: pytest.LogCaptureFixture
) -> None:
    _, row = producer
    service = CustodialService(node.context)
    caplog.set_level(logging.DEBUG)
    address, created = service.create(row)
    assert created
    assert service.create(row) == (address, False)
    assert service.custodians(row) == [address]
    with node.store.engine.connect() as conn:
        stored = conn.execute(
            custodial_keys.select().where(custodial_keys.c.producer_id == row.id)
        ).one()
    signer = service.signer(row)
    assert signer is not None and signer.custodian == address
    key = signer._key
    # Sealed at rest: the private key's bytes are nowhere in the row, nor in any log.
    assert key not in bytes(stored.sealed_key) and stored.key_id == node.vault.active
    assert key.hex() not in caplog.text and key.hex() not in repr(signer)
    assert Account.from_key(key).address == address


def test_statement_is_signed_by_the_node_and_names_only_active_custodians(
    node: TraceNode, producer: tuple[LocalAccount, ProducerRow]
) -> None:
    acct, row = producer
    service = CustodialService(node.context)
    first, _ = service.create(row)
    public = node.identity.public_key
    statement = service.statement(row)
    assert statement["producer"] == acct.address and statement["node"] == node.identity.node_id
    assert verify_statement(statement, public, producer=acct.address) == {first.lower()}
    tampered = {**statement, "custodians": [Account.create().address]}
    with pytest.raises(StatementError, match="does not verify"):
        verify_statement(tampered, public)
    with pytest.raises(StatementError, match="about producer"):
        verify_statement(statement, public, producer=Account.create().address)
    # Rotation: revoke, then a new key; the revoked one is no longer vouched for.
    service.revoke(row, first)
    assert service.signer(row) is None
    second, created = service.create(row)
    assert created and second != first
    assert verify_statement(service.statement(row), public) == {second.lower()}
    with pytest.raises(NotFoundError):
        service.revoke(row, Account.create().address)


def test_sign_without_a_key_says_how_to_get_one(
    node: TraceNode, producer: tuple[LocalAccount, ProducerRow]
) -> None:
    _, row = producer
    with pytest.raises(NotFoundError, match="custodial-key"):
        CustodialService(node.context).sign(row, b"\1" * 32, b"\2" * 32)


def test_unsigned_capture_without_a_key_is_refused_per_event(
    node: TraceNode, producer: tuple[LocalAccount, ProducerRow]
) -> None:
    _, row = producer
    with pytest.raises(CaptureRefusedError) as info:
        node.epcis.capture(row, _plain(node, _lot()))
    refused = [e for e in info.value.errors if e["rule"] == "signature"]
    assert [e["index"] for e in refused] == list(range(len(season_events(NOW))))
    assert all("/custodial-key" in e["message"] for e in refused)


def test_plain_capture_is_signed_by_the_node_for_the_producer(
    node: TraceNode, producer: tuple[LocalAccount, ProducerRow]
) -> None:
    acct, row = producer
    custodian, _ = node.custodial.create(row)
    lot = _lot()
    result = node.epcis.capture(row, _plain(node, lot))
    assert len(result.acknowledgements) == len(season_events(NOW))
    node.anchor_now()
    bundles = _bundles(node, result.acknowledgements)
    for bundle in bundles:
        assert bundle["signer"] == {
            "kind": "custodial",
            "custodian": custodian,
            "producer": acct.address,
        }
        assert bundle["producer"] == acct.address
        assert bundle["event"]["eventID"].startswith("ni:///sha-256;")
        signer = recover_record_signer(
            bundle["chainId"],
            bundle["registry"],
            bundle["lotKey"],
            bundle["digest"],
            bundle["signature"],
        )
        assert signer == custodian != acct.address
    # Private values the client sent in clear are commitments in what is anchored, and
    # sealed for auditors.
    shipping = next(b for b in bundles if b["event"].get("vnt:kind") == "shipping")
    assert is_commitment(shipping["event"]["vnt:price"])
    opened = node.disclosures(shipping["recordId"])["vnt:price"]
    assert opened["value"] == {"amount": "16740.00", "currency": "USD"}
    verdicts = node.verify_bundles(bundles)
    assert {(v.status, v.signed_by) for v in verdicts} == {("verified", "custodial")}
    # The page's path (one multiproof per epoch) says the same.
    reading = node.read_lot(node.profile.gtins[0], lot)
    assert {(v.status, v.signed_by) for v in node.verify_lot(reading)} == {
        ("verified", "custodial")
    }
    assert all(r["signer"]["kind"] == "custodial" for r in reading.provenance["records"])
    # A retry by the plain client gives the same records back, not new ones.
    again = node.epcis.capture(row, _plain(node, lot))
    assert [a.record_id for a in again.acknowledgements] == [
        a.record_id for a in result.acknowledgements
    ]
    assert all(a.duplicate for a in again.acknowledgements)


def test_a_custodial_bundle_never_passes_as_the_producers(
    node: TraceNode, producer: tuple[LocalAccount, ProducerRow]
) -> None:
    acct, row = producer
    node.custodial.create(row)
    result = node.epcis.capture(row, _plain(node, _lot()))
    node.anchor_now()
    bundle = _bundles(node, result.acknowledgements[:1])[0]
    unsigned = {k: v for k, v in bundle.items() if k != "signer"}
    other = Account.create()
    node.producers.register_producer(other.address, "Elsewhere")
    other_row = node.producer(other.address)
    other_custodian, _ = node.custodial.create(other_row)
    swapped = {**bundle, "signer": {**bundle["signer"], "custodian": other_custodian}}
    explicit = {**bundle, "signer": {"kind": "producer"}}
    verdicts = node.verify_bundles([unsigned, swapped, explicit])
    assert [v.status for v in verdicts] == ["failed"] * 3
    assert all("bad_signature" in v.reasons for v in verdicts)
    assert [v.signed_by for v in verdicts] == ["producer", "custodial", "producer"]
    # Offline, with nobody vouching for the custodian: bad_signature, even untouched.
    assert "bad_signature" in check_bundle_offline(bundle).reasons
    vouched = check_bundle_offline(bundle, custodian_known=lambda p, c: p == acct.address)
    assert vouched.signed_by == "custodial" and "bad_signature" not in vouched.reasons
    # Revoked: the node no longer vouches for it, on either path.
    node.custodial.revoke(row, bundle["signer"]["custodian"])
    assert "bad_signature" in node.verify_bundles([bundle])[0].reasons
    reading = node.read_lot(bundle["gtin"], bundle["lot"])
    assert all("bad_signature" in v.reasons for v in node.verify_lot(reading))


def test_a_document_may_mix_signed_and_unsigned_events(
    node: TraceNode, producer: tuple[LocalAccount, ProducerRow]
) -> None:
    acct, row = producer
    node.custodial.create(row)
    gtin, lot = node.profile.gtins[0], _lot()
    facts = {"chain_id": node.chain.chain_id, "registry": node.chain.registry_address}
    signed = profile_events_document(node.profile, gtin, lot, season_events(NOW)[:2], acct, **facts)
    plain = gs1_example(node.profile, gtin, lot)
    for event in plain["epcisBody"]["eventList"]:
        event.pop("eventID", None)  # GS1's are illustrative; the node sets the hash ID
    # The signed events keep their own @context (they were signed standalone).
    ours = [with_context(e, signed["@context"]) for e in signed["epcisBody"]["eventList"]]
    doc = {**plain, "epcisBody": {"eventList": ours + plain["epcisBody"]["eventList"]}}
    result = node.epcis.capture(row, json.dumps(doc, ensure_ascii=False).encode())
    node.anchor_now()
    verdicts = node.verify_records([a.record_id for a in result.acknowledgements])
    assert [(v.status, v.signed_by) for v in verdicts] == [
        ("verified", "producer"),
        ("verified", "producer"),
        ("verified", "custodial"),
        ("verified", "custodial"),
    ]
