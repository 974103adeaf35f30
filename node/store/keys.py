"""API key tokens: ``vnt_<key_id>_<secret>``; only SHA-256 of the secret is stored.

Why a plain SHA-256 and not scrypt/argon2: the secret is 256 random bits, so there is
nothing to brute-force offline (slow KDFs protect low-entropy passwords), and a slow
hash on every authenticated request would cost tens of milliseconds of CPU per call
and hand attackers a cheap denial of service. ``key_id`` is public and only locates
the row; the digest comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["DUMMY_HASH", "hash_secret", "make_token", "parse_token", "secrets_match"]

PREFIX = "vnt"
_TOKEN = re.compile(r"vnt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
DUMMY_HASH = bytes(32)
"""Compared against when no key matches, so a miss costs about what a hit costs."""


def make_token() -> tuple[str, str, str]:
    """A fresh ``(key_id, secret, token)``: 64-bit public id, 256-bit secret."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"{PREFIX}_{key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed token, else ``None``."""
    m = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    return (m.group(1), m.group(2)) if m else None


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def secrets_match(stored_hash: bytes, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(secret))
