"""EPCIS records: the signed and digested thing is the EPCIS event; old bundles still
verify; the signature envelope of a captured event is not part of what is signed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eth_account import Account

from vntrace.node.bundles import Reason, check_bundle_offline
from vntrace.node.epcis.errors import EpcisError
from vntrace.node.epcis.records import (
    BUNDLE_VERSION_EPCIS,
    SIGNATURE_FIELD,
    SignatureEnvelope,
    attach_signature,
    bundle_epcis_event,
    bundle_profile_event,
    bundle_version,
    prepare_epcis_record,
    split_signature,
    validate_epcis_event,
    verify_epcis_record,
)
from vntrace.node.profile import Profile, default_profile
from vntrace.node.records import (
    RecordIntegrityError,
    SignatureError,
    canonicalize,
    check_disclosure,
    digest_canonical,
    prepare_record,
)

from ..records.conftest import CHAIN_ID, GTIN, KEY, LOT, NOW, REGISTRY, sample_event


@pytest.fixture(scope="module")
def profile() -> Profile:
    return default_profile()


def _bundle(signed: Any, version: int) -> dict[str, Any]:
    return {**signed.to_dict(), "version": version}


def test_sign_and_verify_an_epcis_record(profile: Profile) -> None:
    prepared = prepare_epcis_record(profile, GTIN, LOT, sample_event("shipping"), now=NOW)
    assert prepared.event["type"] == "ObjectEvent"
    assert prepared.digest == digest_canonical(prepared.salt, canonicalize(prepared.event))
    assert "commitment" in prepared.event["vnt:price"]
    assert set(prepared.disclosures) == {"vnt:buyer", "vnt:price"}
    d = prepared.disclosures["vnt:price"]
    assert check_disclosure(prepared.event, "vnt:price", d["value"], d["salt"])
    signed = prepared.sign(KEY, CHAIN_ID, REGISTRY)
    again = verify_epcis_record(
        profile,
        gtin=GTIN,
        lot=LOT,
        event=signed.event,
        salt=signed.salt,
        producer=signed.producer,
        signature=signed.signature,
        chain_id=CHAIN_ID,
        registry=REGISTRY,
        digest=signed.digest,
        leaf=signed.leaf,
        now=NOW,
    )
    assert again.leaf == signed.leaf
    assert again.producer == Account.from_key(KEY).address


def test_bundles_of_both_versions_verify_offline(profile: Profile) -> None:
    v2 = prepare_epcis_record(profile, GTIN, LOT, sample_event("hulling"), now=NOW).sign(
        KEY, CHAIN_ID, REGISTRY
    )
    v1 = prepare_record(profile, GTIN, LOT, sample_event("hulling"), now=NOW).sign(
        KEY, CHAIN_ID, REGISTRY
    )
    for bundle in (_bundle(v2, BUNDLE_VERSION_EPCIS), v1.to_dict()):
        check = check_bundle_offline(bundle)
        assert check.reasons == (Reason.PENDING,)  # only "not anchored yet"
    assert bundle_version(v1.to_dict()) == 1
    assert bundle_version(_bundle(v2, 2)) == 2
    # Both display the same profile event and the same EPCIS meaning.
    assert bundle_profile_event(profile, _bundle(v2, 2)) == sample_event("hulling")
    assert bundle_profile_event(profile, v1.to_dict()) == sample_event("hulling")
    assert bundle_epcis_event(profile, v1.to_dict()) == v2.event
    tampered = _bundle(v2, 2)
    tampered["event"] = {**tampered["event"], "vnt:grade": "R2"}
    assert Reason.DIGEST_MISMATCH in check_bundle_offline(tampered).reasons
    with pytest.raises(EpcisError):
        bundle_version({"version": 7})


def test_signature_envelope_is_not_signed(profile: Profile) -> None:
    signed = prepare_epcis_record(profile, GTIN, LOT, sample_event("recall"), now=NOW).sign(
        KEY, CHAIN_ID, REGISTRY
    )
    captured = attach_signature(signed)
    assert captured[SIGNATURE_FIELD]["signer"] == "producer"
    event, envelope = split_signature(captured)
    assert event == signed.event and envelope is not None
    verify_epcis_record(
        profile,
        gtin=GTIN,
        lot=LOT,
        event=event,
        salt=envelope.salt,
        producer=envelope.producer,
        signature=envelope.signature,
        chain_id=envelope.chain_id,
        registry=envelope.registry,
        now=NOW,
    )
    assert split_signature(signed.event) == (signed.event, None)
    assert SignatureEnvelope.from_dict(envelope.to_dict()) == envelope
    with pytest.raises(EpcisError):
        SignatureEnvelope.from_dict({**envelope.to_dict(), "signer": "someone"})
    with pytest.raises(EpcisError):
        SignatureEnvelope.from_dict({"producer": "0x"})


def test_intake_refuses_edited_or_misfiled_events(profile: Profile) -> None:
    prepared = prepare_epcis_record(profile, GTIN, LOT, sample_event("drying"), now=NOW)
    signed = prepared.sign(KEY, CHAIN_ID, REGISTRY)
    edited = copy.deepcopy(signed.event)
    edited["vnt:moisturePercent"] = 11.0  # eventID is the hash of the original
    with pytest.raises(RecordIntegrityError, match="eventID"):
        validate_epcis_event(profile, edited, now=NOW)
    with pytest.raises(RecordIntegrityError, match="epcClass"):
        validate_epcis_event(profile, signed.event, gtin=GTIN, lot="OTHER-LOT", now=NOW)
    with pytest.raises(SignatureError):
        verify_epcis_record(
            None,
            gtin=GTIN,
            lot=LOT,
            event=signed.event,
            salt=signed.salt,
            producer="0x" + "11" * 20,
            signature=signed.signature,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
        )


def test_intake_refuses_clear_private_values(profile: Profile) -> None:
    from vntrace.node.epcis.errors import DocumentValidationError
    from vntrace.node.epcis.mapping import to_epcis

    clear = to_epcis(profile, GTIN, LOT, sample_event("shipping"))
    with pytest.raises(DocumentValidationError) as info:
        validate_epcis_event(profile, clear, now=NOW)
    assert {p["path"] for p in info.value.to_dicts()} == {"buyer", "price"}


def test_lot_document_mixes_both_record_forms(profile: Profile) -> None:
    from vntrace.node.epcis.records import event_version, lot_document
    from vntrace.node.epcis.validate import epcis_schema_validator

    v1 = prepare_record(profile, GTIN, LOT, sample_event("drying"), now=NOW)
    v2 = prepare_epcis_record(profile, GTIN, LOT, sample_event("hulling"), now=NOW)
    provenance = {
        "gtin": GTIN,
        "lot": LOT,
        "records": [
            {"recordId": "0x" + p.leaf.hex(), "status": "pending", "event": p.event}
            for p in (v1, v2)
        ],
    }
    doc = lot_document(profile, provenance)
    assert [e.message for e in epcis_schema_validator().iter_errors(doc)] == []
    assert [r["version"] for r in doc["vnt:records"]] == [1, 2]
    inner = doc["epcisBody"]["eventList"][1]
    assert {**inner, "@context": v2.event["@context"]} == v2.event  # exactly as signed
    assert doc["vnt:records"][1]["bundle"] == f"/v1/records/0x{v2.leaf.hex()}/bundle"
    assert event_version(v1.event) == 1 and event_version(v2.event) == 2
    with pytest.raises(EpcisError):
        event_version({"type": "Nope"})
