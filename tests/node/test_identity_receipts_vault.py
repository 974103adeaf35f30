"""Node identity, signed receipts and the AES-GCM vault (pure parts)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vntrace.node.identity import KEY_FILE, IdentityError, NodeIdentity, b64url_decode
from vntrace.node.receipts import (
    ReceiptEntry,
    ReceiptError,
    issue_batch_receipts,
    issue_receipt,
    signing_bytes,
    verify_receipt,
)
from vntrace.node.vault import Vault, VaultError, parse_keyring


def test_identity_is_created_once_with_restricted_mode(tmp_path: Path) -> None:
    first = NodeIdentity.load_or_create(tmp_path)
    path = tmp_path / KEY_FILE
    assert oct(path.stat().st_mode)[-3:] == "600"
    again = NodeIdentity.load_or_create(tmp_path)
    assert again.public_key == first.public_key and len(first.public_key) == 32
    assert first.node_id.startswith("vnt-node-")
    assert b64url_decode(first.public_jwk()["x"]) == first.public_key
    path.chmod(0o644)
    with pytest.raises(IdentityError, match="readable by others"):
        NodeIdentity.load_or_create(tmp_path)


def test_identity_can_be_encrypted_with_a_passphrase(tmp_path: Path) -> None:
    ident = NodeIdentity.load_or_create(tmp_path, passphrase="correct horse")
    assert b"ENCRYPTED" in (tmp_path / KEY_FILE).read_bytes()
    assert NodeIdentity.load_or_create(tmp_path, "correct horse").public_key == ident.public_key
    with pytest.raises(IdentityError):
        NodeIdentity.load_or_create(tmp_path, "wrong")
    with pytest.raises(IdentityError):
        NodeIdentity.load_or_create(tmp_path)


def _receipt(ident: NodeIdentity) -> dict:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    return issue_receipt(
        ident,
        leaf=os.urandom(32),
        lot_key=os.urandom(32),
        received_at=now,
        anchor_deadline=now + timedelta(seconds=34),
        chain_id=31337,
        registry="0x" + "ab" * 20,
    )


def test_receipts_verify_and_every_field_is_covered(tmp_path: Path) -> None:
    ident = NodeIdentity.load_or_create(tmp_path)
    receipt = _receipt(ident)
    verify_receipt(receipt, ident.public_key)
    for field in (
        "nodeId",
        "leaf",
        "lotKey",
        "receivedAt",
        "anchorDeadline",
        "chainId",
        "registry",
        "v",
    ):
        forged = dict(receipt)
        forged[field] = 1 if field in ("chainId", "v") and receipt[field] != 1 else "x"
        with pytest.raises(ReceiptError):
            verify_receipt(forged, ident.public_key)
    other = NodeIdentity.load_or_create(tmp_path / "other")
    with pytest.raises(ReceiptError, match="does not verify"):
        verify_receipt(receipt, other.public_key)
    with pytest.raises(ReceiptError, match="missing"):
        signing_bytes({"leaf": receipt["leaf"]})
    with pytest.raises(ReceiptError):
        verify_receipt({**receipt, "signature": "***"}, ident.public_key)


def _batch(ident: NodeIdentity, n: int) -> list[dict]:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    entries = [
        ReceiptEntry(os.urandom(32), b"\x01" * 32, now, now + timedelta(seconds=34))
        for _ in range(n)
    ]
    return issue_batch_receipts(ident, entries, chain_id=31337, registry="0x" + "ab" * 20)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64])
def test_batch_receipts_share_one_signature_and_each_verifies_alone(tmp_path: Path, n: int) -> None:
    ident = NodeIdentity.load_or_create(tmp_path)
    receipts = _batch(ident, n)
    assert len(receipts) == n and len({r["signature"] for r in receipts}) == 1
    assert {r["batch"]["root"] for r in receipts} == {receipts[0]["batch"]["root"]}
    for r in receipts:
        assert r["v"] == 2 and r["batch"]["size"] == n
        verify_receipt(r, ident.public_key)
    other = NodeIdentity.load_or_create(tmp_path / "other")
    with pytest.raises(ReceiptError, match="does not verify"):
        verify_receipt(receipts[0], other.public_key)


def test_batch_receipt_tampering_fails(tmp_path: Path) -> None:
    ident = NodeIdentity.load_or_create(tmp_path)
    receipts = _batch(ident, 5)
    good = receipts[2]
    for field in ("nodeId", "leaf", "lotKey", "receivedAt", "anchorDeadline", "registry"):
        with pytest.raises(ReceiptError):
            verify_receipt({**good, field: "x"}, ident.public_key)
    with pytest.raises(ReceiptError):
        verify_receipt({**good, "chainId": 1}, ident.public_key)
    proof = good["batch"]["proof"]
    mutations = [
        {**good["batch"], "proof": proof[:-1]},  # a step dropped
        {**good["batch"], "proof": [*proof, "0x" + "00" * 32]},  # a step added
        {**good["batch"], "proof": ["0x" + "11" * 32, *proof[1:]]},  # a step changed
        {**good["batch"], "size": 6},  # another batch statement
        {**good["batch"], "size": 0},
        {**good["batch"], "root": receipts[0]["leaf"]},
        {**good["batch"], "proof": "0x00"},
        {"root": good["batch"]["root"]},
    ]
    for batch in mutations:
        with pytest.raises(ReceiptError):
            verify_receipt({**good, "batch": batch}, ident.public_key)
    # another record's body under this batch's proof does not verify
    with pytest.raises(ReceiptError):
        verify_receipt({**good, "leaf": receipts[1]["leaf"]}, ident.public_key)
    without = {k: v for k, v in good.items() if k != "batch"}
    with pytest.raises(ReceiptError, match="missing batch"):
        verify_receipt(without, ident.public_key)


def test_repeated_entries_share_a_leaf(tmp_path: Path) -> None:
    ident = NodeIdentity.load_or_create(tmp_path)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    entry = ReceiptEntry(os.urandom(32), os.urandom(32), now, now + timedelta(seconds=34))
    a, b = issue_batch_receipts(ident, [entry, entry], chain_id=1, registry="0x" + "ab" * 20)
    assert a == b and a["batch"]["size"] == 1
    verify_receipt(a, ident.public_key)
    assert issue_batch_receipts(ident, [], chain_id=1, registry="0x") == []


def test_vault_roundtrip_binding_and_rotation() -> None:
    k1, k2 = os.urandom(32).hex(), os.urandom(32).hex()
    old = Vault.from_spec(f"k1:{k1}")
    blob = old.encrypt(b'{"price":"16740.00"}', b"leaf-1")
    assert b"16740" not in blob and Vault.key_id_of(blob) == "k1"
    assert old.decrypt(blob, b"leaf-1") == b'{"price":"16740.00"}'
    with pytest.raises(VaultError, match="another record"):
        old.decrypt(blob, b"leaf-2")
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(VaultError):
        old.decrypt(bytes(tampered), b"leaf-1")
    rotated = Vault.from_spec(f"k1:{k1},k2:{k2}")
    assert rotated.active == "k2"
    assert rotated.decrypt(blob, b"leaf-1") == b'{"price":"16740.00"}'  # history readable
    assert Vault.key_id_of(rotated.encrypt(b"x", b"a")) == "k2"
    with pytest.raises(VaultError, match="no key"):
        Vault.from_spec(f"k2:{k2}").decrypt(blob, b"leaf-1")


def test_keyring_spec_errors() -> None:
    for spec in ("", "k1:zz", "k1:" + "00" * 16, "bad id!:" + "00" * 32):
        with pytest.raises(VaultError):
            parse_keyring(spec)
