"""EIP-712 producer signatures: equality with eth-account, replay and malleability."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

from vntrace.node.records import (
    SignatureError,
    domain_separator,
    lot_key,
    private_key_address,
    record_hash,
    record_typed_data,
    recover_record_signer,
    sign_record,
    to_checksum_address,
    verify_record_signature,
)
from vntrace.node.records.signing import SECP256K1_N, address_bytes

from .conftest import CHAIN_ID, KEY, REGISTRY

ACCOUNT = Account.from_key(KEY)
LOT = lot_key("08936099000015", "EA-2024/11")
DIGEST = bytes.fromhex("648b1de35c1101879489221c30df0c384a7f3c6055ce503c5c487c344b95f1b8")


def test_hash_equals_eth_account_encode_typed_data() -> None:
    for chain_id, registry in ((CHAIN_ID, REGISTRY), (1, "0x" + "00" * 19 + "01")):
        for _ in range(5):
            lot, digest = os.urandom(32), os.urandom(32)
            typed = record_typed_data(chain_id, registry, lot, digest)
            assert _hash_eip191_message(encode_typed_data(full_message=typed)) == record_hash(
                chain_id, registry, lot, digest
            )


def test_hash_equals_eth_account_with_split_arguments() -> None:
    typed = record_typed_data(CHAIN_ID, REGISTRY, LOT, DIGEST)
    signable = encode_typed_data(
        typed["domain"], {"Record": typed["types"]["Record"]}, {"lot": LOT, "digest": DIGEST}
    )
    assert _hash_eip191_message(signable) == record_hash(CHAIN_ID, REGISTRY, LOT, DIGEST)


def test_domain_separator_known_answer() -> None:
    # keccak256(abi.encode(typeHash, keccak("vntrace"), keccak("1"), chainId, registry))
    import eth_abi
    import sha3

    k = lambda b: sha3.keccak_256(b).digest()  # noqa: E731
    expected = k(
        eth_abi.encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                k(
                    b"EIP712Domain(string name,string version,uint256 chainId,address "
                    b"verifyingContract)"
                ),
                k(b"vntrace"),
                k(b"1"),
                CHAIN_ID,
                REGISTRY,
            ],
        )
    )
    assert domain_separator(CHAIN_ID, REGISTRY) == expected


def test_signature_is_byte_identical_to_eth_account() -> None:
    signable = encode_typed_data(full_message=record_typed_data(CHAIN_ID, REGISTRY, LOT, DIGEST))
    theirs = Account.sign_message(signable, KEY).signature
    assert sign_record(KEY, CHAIN_ID, REGISTRY, LOT, DIGEST) == bytes(theirs)
    assert sign_record(ACCOUNT, CHAIN_ID, REGISTRY, LOT, DIGEST) == bytes(theirs)
    assert sign_record("0x" + KEY.hex(), CHAIN_ID, REGISTRY, LOT, DIGEST) == bytes(theirs)


def test_roundtrip_and_eth_account_recovers_our_signature() -> None:
    sig = sign_record(ACCOUNT, CHAIN_ID, REGISTRY, LOT, DIGEST)
    assert len(sig) == 65 and sig[64] in (27, 28)
    assert recover_record_signer(CHAIN_ID, REGISTRY, LOT, DIGEST, sig) == ACCOUNT.address
    assert recover_record_signer(CHAIN_ID, REGISTRY, LOT, DIGEST, "0x" + sig.hex()) == (
        ACCOUNT.address
    )
    signable = encode_typed_data(full_message=record_typed_data(CHAIN_ID, REGISTRY, LOT, DIGEST))
    assert Account.recover_message(signable, signature=sig) == ACCOUNT.address
    assert verify_record_signature(CHAIN_ID, REGISTRY, LOT, DIGEST, sig, ACCOUNT.address) == (
        ACCOUNT.address
    )
    assert private_key_address(KEY) == ACCOUNT.address


def test_signatures_are_low_s() -> None:
    for _ in range(30):
        key = os.urandom(32)
        sig = sign_record(key, CHAIN_ID, REGISTRY, LOT, os.urandom(32))
        assert int.from_bytes(sig[32:64], "big") <= SECP256K1_N // 2


def test_wrong_producer() -> None:
    sig = sign_record(KEY, CHAIN_ID, REGISTRY, LOT, DIGEST)
    other = Account.create().address
    with pytest.raises(SignatureError, match="not by the claimed producer"):
        verify_record_signature(CHAIN_ID, REGISTRY, LOT, DIGEST, sig, other)


def test_forged_signature_recovers_to_someone_else() -> None:
    sig = bytearray(sign_record(KEY, CHAIN_ID, REGISTRY, LOT, DIGEST))
    sig[10] ^= 0x01
    try:
        signer = recover_record_signer(CHAIN_ID, REGISTRY, LOT, DIGEST, bytes(sig))
    except SignatureError:
        return  # r is no longer an x coordinate on the curve
    assert signer != ACCOUNT.address


@pytest.mark.parametrize(
    "context",
    [
        {"chain_id": 1},  # another chain
        {"registry": "0x" + "11" * 20},  # another deployment: no replay
        {"lot": lot_key("08936099000015", "EA-2024/12")},  # another lot
        {"digest": bytes(32)},  # another record
    ],
)
def test_signature_binds_chain_registry_lot_and_digest(context: dict[str, object]) -> None:
    sig = sign_record(KEY, CHAIN_ID, REGISTRY, LOT, DIGEST)
    args = {"chain_id": CHAIN_ID, "registry": REGISTRY, "lot": LOT, "digest": DIGEST} | context
    signer = recover_record_signer(
        args["chain_id"],
        args["registry"],
        args["lot"],
        args["digest"],
        sig,  # type: ignore[arg-type]
    )
    assert signer != ACCOUNT.address


def test_high_s_twin_is_refused() -> None:
    sig = sign_record(KEY, CHAIN_ID, REGISTRY, LOT, DIGEST)
    s = int.from_bytes(sig[32:64], "big")
    twin = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    # The twin is a valid ECDSA signature by the same key (eth-account accepts it) ...
    signable = encode_typed_data(full_message=record_typed_data(CHAIN_ID, REGISTRY, LOT, DIGEST))
    assert Account.recover_message(signable, signature=twin) == ACCOUNT.address
    # ... but one record must have one signature.
    with pytest.raises(SignatureError, match="malleable"):
        recover_record_signer(CHAIN_ID, REGISTRY, LOT, DIGEST, twin)


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda s: s[:64], "65 bytes"),
        (lambda s: s + b"\x00", "65 bytes"),
        (lambda s: s[:64] + b"\x00", "v must be 27 or 28"),
        (lambda s: s[:64] + b"\x01", "v must be 27 or 28"),
        (lambda s: s[:64] + b"\x25", "v must be 27 or 28"),
        (lambda s: bytes(32) + s[32:], "r is out of range"),
        (lambda s: s[:32] + bytes(32) + s[64:], "s is out of range"),
        (lambda s: SECP256K1_N.to_bytes(32, "big") + s[32:], "r is out of range"),
        (lambda s: s.hex(), "0x followed by 130 hex"),
        (lambda s: "0x" + "zz" * 65, "not hexadecimal"),
        (lambda s: 12345, "must be bytes or hex"),
    ],
)
def test_malformed_signatures(mutate: object, why: str) -> None:
    sig = sign_record(KEY, CHAIN_ID, REGISTRY, LOT, DIGEST)
    with pytest.raises(SignatureError, match=why):
        recover_record_signer(CHAIN_ID, REGISTRY, LOT, DIGEST, mutate(sig))  # type: ignore[operator]


def test_unrecoverable_signature() -> None:
    # r = 5 is not the x coordinate of a curve point with this recovery id.
    sig = (5).to_bytes(32, "big") + (7).to_bytes(32, "big") + b"\x1b"
    with pytest.raises(SignatureError, match="does not recover"):
        recover_record_signer(CHAIN_ID, REGISTRY, LOT, DIGEST, sig)


def test_addresses_and_chain_ids() -> None:
    assert to_checksum_address(address_bytes(REGISTRY.lower())) == REGISTRY
    assert to_checksum_address(bytearray(address_bytes(REGISTRY))) == REGISTRY
    with pytest.raises(SignatureError, match="20 bytes"):
        to_checksum_address(b"\x00" * 19)
    assert address_bytes(REGISTRY.upper().replace("0X", "0x")) == address_bytes(REGISTRY)
    with pytest.raises(SignatureError, match="EIP-55"):
        address_bytes(REGISTRY[:3] + REGISTRY[3].swapcase() + REGISTRY[4:])  # one case flipped
    with pytest.raises(SignatureError, match="40 hex"):
        address_bytes("0x1234")
    for bad in (0, -1, True, 2**256, "1"):
        with pytest.raises(SignatureError, match="chain id"):
            record_hash(bad, REGISTRY, LOT, DIGEST)  # type: ignore[arg-type]
    with pytest.raises(SignatureError, match="private key"):
        sign_record(bytes(32), CHAIN_ID, REGISTRY, LOT, DIGEST)
