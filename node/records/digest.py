"""Record digest and Merkle leaf (see "Hashing and proofs" in shared/DESIGN.md).

``digest = keccak256(salt || JCS(event))``: the 32-byte random salt keeps events with
guessable contents (a small farm's harvest date and weight) from being confirmed by
brute force from the public digest. ``leaf = keccak256(keccak256(lot_key || digest))``,
the OpenZeppelin StandardMerkleTree leaf of ``(bytes32, bytes32)``.
"""

from __future__ import annotations

import secrets
from typing import Any

import sha3

from vntrace.node.merkle import pair_leaf_hash

from .canonical import canonicalize
from .errors import RecordError

SALT_BYTES = 32


def new_salt() -> bytes:
    """32 bytes from the OS CSPRNG (:mod:`secrets`), never reused across records."""
    return secrets.token_bytes(SALT_BYTES)


def as_bytes32(value: bytes | bytearray | str, what: str = "value") -> bytes:
    """Accept 32 raw bytes or ``0x`` + 64 hex digits (the JSON form); return bytes."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str):
        if not value.startswith(("0x", "0X")) or len(value) != 66:
            raise RecordError(f"{what} must be 0x followed by 64 hex digits")
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError as exc:
            raise RecordError(f"{what} is not hexadecimal") from exc
    else:
        raise RecordError(f"{what} must be bytes or a 0x-hex string, not {type(value).__name__}")
    if len(raw) != 32:
        raise RecordError(f"{what} must be 32 bytes, got {len(raw)}")
    return raw


def digest_canonical(salt: bytes, canonical_event: bytes) -> bytes:
    """``keccak256(salt || canonical_event)`` for an already canonical event."""
    h = sha3.keccak_256(salt)
    h.update(canonical_event)
    return h.digest()


def record_digest(salt: bytes | str, event: Any) -> bytes:
    """``keccak256(salt || JCS(event))``; ``salt`` is 32 bytes (or its 0x-hex form)."""
    return digest_canonical(as_bytes32(salt, "salt"), canonicalize(event))


def record_leaf(lot_key: bytes | str, digest: bytes | str) -> bytes:
    """The Merkle leaf of a record: ``keccak256(keccak256(lot_key || digest))``."""
    return pair_leaf_hash(as_bytes32(lot_key, "lot key"), as_bytes32(digest, "digest"))
