"""Node identity, signed receipts and the AES-GCM vault (pure parts)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vntrace.node.identity import KEY_FILE, IdentityError, NodeIdentity, b64url_decode
from vntrace.node.receipts import ReceiptError, issue_receipt, signing_bytes, verify_receipt
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
