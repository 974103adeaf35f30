"""build_signed_record: the one builder the SDK's EPCIS signer and the node's custodial
signer share; its records must be the ones prepare/sign and the verifier agree on."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

import pytest
from eth_account import Account

from vntrace.node.profile import Profile
from vntrace.node.records import (
    RecordIntegrityError,
    RecordSigner,
    SignatureError,
    SignedRecord,
    build_signed_record,
    canonicalize,
    digest_canonical,
    lot_key,
    prepare_record,
    record_leaf,
    sign_record,
    verify_record,
)

from .conftest import CHAIN_ID, GTIN, KEY, LOT, NOW, REGISTRY, sample_event

SALT = bytes(range(32))
ACCOUNT = Account.from_key(KEY)


def _build(
    event: dict[str, Any], *, registry: str = REGISTRY, sign: RecordSigner | None = None
) -> SignedRecord:
    return build_signed_record(
        GTIN,
        LOT,
        event,
        SALT,
        producer=ACCOUNT.address,
        chain_id=CHAIN_ID,
        registry=registry,
        sign=sign or partial(sign_record, KEY),
    )


def test_the_record_is_the_one_prepare_and_sign_make(robusta: Profile) -> None:
    event = sample_event("drying")  # no private fields: prepare_record signs it as given
    expected = prepare_record(robusta, GTIN, LOT, event, SALT, now=NOW).sign(
        KEY, CHAIN_ID, REGISTRY
    )
    built = _build(event)
    assert built == expected
    assert built.canonical == canonicalize(event)
    assert built.digest == digest_canonical(SALT, canonicalize(event))
    assert built.leaf == record_leaf(lot_key(GTIN, LOT), built.digest)
    assert verify_record(built, robusta, now=NOW) == built


def test_sign_gets_the_chain_the_registry_as_given_and_the_lot_key_and_digest() -> None:
    calls: list[tuple[int, str, bytes, bytes]] = []

    def sign(chain_id: int, registry: str, key: bytes, digest: bytes) -> bytes:
        calls.append((chain_id, registry, key, digest))
        return sign_record(KEY, chain_id, registry, key, digest)

    lower = REGISTRY.lower()
    built = _build(sample_event("drying"), registry=lower, sign=sign)
    assert calls == [(CHAIN_ID, lower, built.lot_key, built.digest)]
    assert built.registry == REGISTRY  # EIP-55, whatever form was given
    verify_record(built)


def test_a_signature_by_another_key_does_not_verify() -> None:
    other = partial(sign_record, "0x" + "22" * 32)
    built = _build(sample_event("drying"), sign=other)
    with pytest.raises(SignatureError):
        verify_record(built)


def test_the_event_is_what_is_digested() -> None:
    event = sample_event("drying")
    built = _build(event)
    edited = {**event, "moisturePercent": 13}
    assert _build(edited).digest != built.digest
    with pytest.raises(RecordIntegrityError):
        verify_record(dataclasses.replace(built, event=edited))
