"""prepare_record -> sign -> verify_signed_record, as the SDK and the node use them."""

from __future__ import annotations

import dataclasses

import pytest
import rfc8785
import sha3
from eth_account import Account
from eth_account.messages import encode_typed_data

from vntrace.node.merkle import StandardMerkleTree, verify_proof
from vntrace.node.profile import Profile
from vntrace.node.records import (
    CanonicalizationError,
    EventValidationError,
    IdentifierError,
    RecordError,
    RecordIntegrityError,
    SignatureError,
    SignedRecord,
    check_disclosure,
    lot_key,
    parse_event_json,
    prepare_record,
    verify_record,
    verify_signed_record,
)

from .conftest import CHAIN_ID, GTIN, KEY, LOT, NOW, REGISTRY, sample_event

ACCOUNT = Account.from_key(KEY)
SALT = bytes(range(32))


def test_prepare_without_private_fields_digests_the_event_as_given(robusta: Profile) -> None:
    event = sample_event("drying")
    rec = prepare_record(robusta, GTIN, LOT, event, SALT, now=NOW)
    assert rec.event == event and rec.disclosures == {}
    assert rec.lot_key == lot_key(GTIN, LOT)
    assert rec.digest == sha3.keccak_256(SALT + rfc8785.dumps(event)).digest()
    assert rec.validated.kind == "drying" and rec.event_time == rec.validated.event_time


def test_prepare_commits_private_fields_before_digesting(robusta: Profile) -> None:
    event = sample_event("shipping")
    rec = prepare_record(robusta, "8936099000015", LOT, event, SALT, now=NOW)
    assert rec.gtin == GTIN
    assert set(rec.disclosures) == {"buyer", "price"}
    assert rec.event["price"].keys() == {"commitment"}
    assert b"Hamburg" not in rec.validated.canonical and b"5150" not in rec.validated.canonical
    assert rec.digest == sha3.keccak_256(SALT + rfc8785.dumps(rec.event)).digest()
    assert rec.validated.committed_fields == ("buyer", "price")
    for path, d in rec.disclosures.items():
        assert check_disclosure(rec.event, path, d["value"], d["salt"])


def test_known_answer_with_fixed_field_salts(robusta: Profile) -> None:
    salts = {"buyer": bytes([1]) * 32, "price": bytes([2]) * 32}
    a = prepare_record(
        robusta, GTIN, LOT, sample_event("shipping"), SALT, now=NOW, field_salts=salts
    )
    b = prepare_record(
        robusta, GTIN, LOT, sample_event("shipping"), SALT, now=NOW, field_salts=salts
    )
    assert a.digest == b.digest and a.leaf == b.leaf


def test_sign_and_verify_roundtrip(robusta: Profile) -> None:
    rec = prepare_record(robusta, GTIN, LOT, sample_event("harvest"), now=NOW)
    signed = rec.sign(ACCOUNT, CHAIN_ID, REGISTRY)
    assert signed.producer == ACCOUNT.address and signed.disclosures == rec.disclosures
    again = verify_record(signed, robusta, now=NOW)
    assert again.leaf == rec.leaf and again.digest == rec.digest
    # JSON transport drops the disclosures and keeps everything needed to verify
    wire = signed.to_dict()
    assert "disclosures" not in wire and wire["lotKey"] == "0x" + rec.lot_key.hex()
    parsed = SignedRecord.from_dict(wire)
    assert verify_record(parsed, robusta, now=NOW).leaf == rec.leaf
    assert verify_record(parsed).leaf == rec.leaf  # without a profile: cryptography only


def test_wallet_signature_via_typed_data(robusta: Profile) -> None:
    rec = prepare_record(robusta, GTIN, LOT, sample_event("recall"), now=NOW)
    sig = Account.sign_message(
        encode_typed_data(full_message=rec.typed_data(CHAIN_ID, REGISTRY)), KEY
    ).signature
    signed = rec.with_signature("0x" + bytes(sig).hex(), ACCOUNT.address, CHAIN_ID, REGISTRY)
    assert signed.signature == bytes(sig)
    with pytest.raises(SignatureError):
        rec.with_signature(sig, Account.create().address, CHAIN_ID, REGISTRY)


def test_leaf_sits_in_an_openzeppelin_tree(robusta: Profile) -> None:
    recs = [
        prepare_record(robusta, GTIN, LOT, sample_event(k), now=NOW)
        for k in ("harvest", "drying", "hulling")
    ]
    tree = StandardMerkleTree.of(
        [(r.lot_key, r.digest) for r in recs], ["bytes32", "bytes32"], sort_leaves=False
    )
    for i, r in enumerate(recs):
        assert tree.leaf_hash_at(i) == tree.leaf_hash((r.lot_key, r.digest)) == r.leaf
        assert verify_proof(tree.root, r.leaf, tree.get_proof(i))


@pytest.fixture
def signed(robusta: Profile) -> SignedRecord:
    rec = prepare_record(robusta, GTIN, LOT, sample_event("shipping"), now=NOW)
    return rec.sign(KEY, CHAIN_ID, REGISTRY)


def test_tampered_event_fails(robusta: Profile, signed: SignedRecord) -> None:
    event = signed.event | {"destinationCountry": "FR"}
    with pytest.raises(RecordIntegrityError, match="digest does not match"):
        verify_record(dataclasses.replace(signed, event=event), robusta, now=NOW)
    # without the claimed digest the signature no longer matches
    with pytest.raises(SignatureError, match="not by the claimed producer"):
        verify_signed_record(
            robusta,
            gtin=signed.gtin,
            lot=signed.lot,
            event=event,
            salt=signed.salt,
            producer=signed.producer,
            signature=signed.signature,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("change", "error", "why"),
    [
        ({"salt": bytes(32)}, RecordIntegrityError, "digest"),
        ({"lot": "EA-2024/12"}, RecordIntegrityError, "lot key"),
        ({"leaf": bytes(32)}, RecordIntegrityError, "leaf"),
        ({"producer": "0x" + "22" * 20}, SignatureError, "claimed producer"),
        ({"chain_id": 1}, SignatureError, "claimed producer"),
        ({"registry": "0x" + "33" * 20}, SignatureError, "claimed producer"),
        ({"gtin": "08936099000022"}, RecordIntegrityError, "lot key"),
    ],
)
def test_any_changed_part_fails(
    robusta: Profile, signed: SignedRecord, change: dict, error: type, why: str
) -> None:
    with pytest.raises(error, match=why):
        verify_record(dataclasses.replace(signed, **change), robusta, now=NOW)


def test_node_refuses_private_values_in_clear(robusta: Profile) -> None:
    clear = sample_event("shipping")
    rec = prepare_record(robusta, GTIN, LOT, clear, now=NOW)
    sig = rec.sign(KEY, CHAIN_ID, REGISTRY).signature
    # a signer that skipped the commitment: the node must not accept the clear price
    bad = dataclasses.replace(rec, event=clear)
    with pytest.raises(EventValidationError) as info:
        verify_signed_record(
            robusta,
            gtin=GTIN,
            lot=LOT,
            event=bad.event,
            salt=rec.salt,
            producer=ACCOUNT.address,
            signature=sig,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
            now=NOW,
        )
    assert {e.code for e in info.value.errors} == {"not_committed"}


def test_prepare_refuses_bad_input(robusta: Profile) -> None:
    with pytest.raises(IdentifierError, match="not a product of profile robusta-vn"):
        prepare_record(robusta, "08936099001012", LOT, sample_event("recall"), now=NOW)
    with pytest.raises(IdentifierError, match="CSET 82"):
        prepare_record(robusta, GTIN, "LÔ 1", sample_event("recall"), now=NOW)
    with pytest.raises(EventValidationError):
        prepare_record(robusta, GTIN, LOT, sample_event("recall") | {"kind": "x"}, now=NOW)
    with pytest.raises(RecordError, match="salt"):
        prepare_record(robusta, GTIN, LOT, sample_event("recall"), b"short", now=NOW)


def test_event_from_json_text(robusta: Profile) -> None:
    text = '{"kind":"recall","eventTime":"2024-11-20T08:00:00+07:00","reason":"mould"}'
    prepare_record(robusta, GTIN, LOT, parse_event_json(text), now=NOW)
    with pytest.raises(CanonicalizationError, match="duplicate key"):
        parse_event_json(text[:-1] + ',"reason":"none"}')


def test_from_dict_rejects_malformed(signed: SignedRecord) -> None:
    wire = signed.to_dict()
    for key, value, why in [
        ("signature", "0x1234", "130 hex"),
        ("salt", "0x12", "salt"),
        ("gtin", "123", "GTIN"),
    ]:
        with pytest.raises(RecordError, match=why):
            SignedRecord.from_dict(wire | {key: value})
    with pytest.raises(RecordError, match="missing 'leaf'"):
        SignedRecord.from_dict({k: v for k, v in wire.items() if k != "leaf"})
