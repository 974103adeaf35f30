"""Encryption at rest for confidential field values: AES-256-GCM with key ids.

Private fields reach the chain and the public views only as salted commitments; the
values and their salts are kept by the node so an authorised reader (an auditor, the
producer) can have them and check them against the commitments. They are stored
encrypted: each blob is ``kid || nonce || ciphertext+tag`` with a fresh 96-bit nonce,
and the record's leaf as associated data, so a blob moved onto another record fails to
decrypt. Keys are named by a short id; new blobs use the active key, old blobs keep
naming theirs, so a key is rotated by adding a new active key without re-encrypting
history at once (re-encrypt later, then drop the old key).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_NONCE = 12


class VaultError(Exception):
    """A key is missing or malformed, or a blob does not decrypt (tampered or misplaced)."""


def parse_keyring(spec: str) -> tuple[dict[str, bytes], str]:
    """Keys from ``"kid1:hex64,kid2:hex64"``; the last one listed is active."""
    keys: dict[str, bytes] = {}
    active = ""
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        kid, _, hexkey = item.partition(":")
        if not _KID.fullmatch(kid):
            raise VaultError(f"bad key id {kid!r} (1-32 of A-Z a-z 0-9 _ -)")
        try:
            key = bytes.fromhex(hexkey)
        except ValueError as exc:
            raise VaultError(f"key {kid}: not hex") from exc
        if len(key) != 32:
            raise VaultError(f"key {kid}: AES-256 needs 32 bytes, got {len(key)}")
        keys[kid] = key
        active = kid
    if not keys:
        raise VaultError("no encryption keys given")
    return keys, active


class Vault:
    """Encrypts and decrypts small blobs under a keyring with one active key."""

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if active not in keys:
            raise VaultError(f"active key {active!r} is not in the keyring")
        for kid, key in keys.items():
            if not _KID.fullmatch(kid) or len(key) != 32:
                raise VaultError(f"bad key {kid!r}")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active

    @classmethod
    def from_spec(cls, spec: str) -> Vault:
        keys, active = parse_keyring(spec)
        return cls(keys, active)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def encrypt(self, plaintext: bytes, associated: bytes) -> bytes:
        kid = self.active.encode()
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self.active].encrypt(nonce, plaintext, kid + b"|" + associated)
        return bytes([len(kid)]) + kid + nonce + sealed

    def decrypt(self, blob: bytes, associated: bytes) -> bytes:
        if len(blob) < 2:
            raise VaultError("blob too short")
        n = blob[0]
        kid = blob[1 : 1 + n]
        body = blob[1 + n :]
        aes = self._keys.get(kid.decode(errors="replace"))
        if aes is None:
            raise VaultError(f"no key {kid.decode(errors='replace')!r} in the keyring")
        if len(body) < _NONCE + 16:
            raise VaultError("blob too short")
        try:
            return aes.decrypt(body[:_NONCE], body[_NONCE:], kid + b"|" + associated)
        except InvalidTag as exc:
            raise VaultError("blob does not decrypt: tampered, or stored on another record") from (
                exc
            )

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        """Which key a blob was sealed with (for rotation)."""
        return blob[1 : 1 + blob[0]].decode(errors="replace")
