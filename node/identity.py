"""The node's Ed25519 identity: the key that signs intake receipts.

Created on first start in ``<data_dir>/node-identity.pem`` with mode 0600, optionally
encrypted with a passphrase (PKCS#8, ``BestAvailableEncryption``). Its public key is
what a producer checks receipts against: the node serves it in a well-known document
and records it in the registry's anchorer metadata, so a producer can hold the node to
a receipt even if the node later denies ever having seen the record.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import sha3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "node-identity.pem"


class IdentityError(Exception):
    """The identity key is missing, unreadable, too widely readable, or mis-encrypted."""


def b64url(data: bytes) -> str:
    """Unpadded base64url, the JOSE convention for keys and signatures."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url` (raises ``ValueError`` on bad input)."""
    if not isinstance(text, str):
        raise ValueError("expected a base64url string")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def node_id_of(public_key: bytes) -> str:
    """A short stable id: ``vnt-node-`` + the first 10 bytes of keccak256(public key)."""
    return "vnt-node-" + sha3.keccak_256(public_key).digest()[:10].hex()


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """The node's signing key and its public form."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def node_id(self) -> str:
        return node_id_of(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature (64 bytes) over ``message``."""
        return self.private_key.sign(message)

    def public_jwk(self) -> dict[str, str]:
        """The public key as an RFC 8037 OKP JWK."""
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.public_key), "kid": self.node_id}

    def anchorer_metadata(self, chain_id: int, registry: str) -> str:
        """Compact JSON recorded on chain as this node's anchorer metadata."""
        doc = {
            "nodeId": self.node_id,
            "ed25519": b64url(self.public_key),
            "chainId": chain_id,
            "registry": registry,
        }
        return json.dumps(doc, separators=(",", ":"), sort_keys=True)

    @classmethod
    def load_or_create(cls, data_dir: Path, passphrase: str | None = None) -> NodeIdentity:
        """Load ``<data_dir>/node-identity.pem``, creating it (0600) on first start."""
        path = Path(data_dir) / KEY_FILE
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise IdentityError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
            try:
                key = serialization.load_pem_private_key(
                    path.read_bytes(), passphrase.encode() if passphrase else None
                )
            except (ValueError, TypeError) as exc:
                raise IdentityError(f"cannot read {path}: wrong or missing passphrase?") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise IdentityError(f"{path} does not hold an Ed25519 key")
            return cls(key)
        key = Ed25519PrivateKey.generate()
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        return cls(key)


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is the key's Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
