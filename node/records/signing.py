"""Producer signatures: EIP-712 typed data ``Record(bytes32 lot, bytes32 digest)``.

Domain ``{name: "vntrace", version: "1", chainId, verifyingContract: registry}``: the
chain id and the registry address bind a signature to one deployment, so a record
signed for a test network cannot be replayed on the production registry.

The EIP-712 hash is computed here with safe-pysha3 (the domain separator cached per
chain id and registry) and recovered with libsecp256k1 through coincurve; a test pins
the hash to eth-account's ``encode_typed_data``. This is the verification hot path:
eth-account's generic typed-data encoder costs far more than the recovery itself.
Signatures are 65 bytes ``r || s || v`` with ``v`` in {27, 28} and low ``s`` (EIP-2):
a high-``s`` twin of a valid signature is refused, so every record has one signature.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import sha3

from .digest import as_bytes32
from .errors import SignatureError

try:  # libsecp256k1: fast; eth-keys is the fallback (and uses coincurve itself when present)
    import coincurve as _coincurve
except ImportError:  # pragma: no cover - coincurve is a dependency of the distribution
    _coincurve = None

DOMAIN_NAME = "vntrace"
DOMAIN_VERSION = "1"
EIP712_DOMAIN_TYPE = (
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
RECORD_TYPE = "Record(bytes32 lot,bytes32 digest)"

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2


def _keccak(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


_DOMAIN_TYPEHASH = _keccak(EIP712_DOMAIN_TYPE.encode())
_RECORD_TYPEHASH = _keccak(RECORD_TYPE.encode())
_NAME_HASH = _keccak(DOMAIN_NAME.encode())
_VERSION_HASH = _keccak(DOMAIN_VERSION.encode())


class _HasKey(Protocol):
    key: bytes


def to_checksum_address(address: bytes) -> str:
    """EIP-55 mixed-case form of a 20-byte address (cached: a node sees few producers)."""
    if not isinstance(address, bytes | bytearray) or len(address) != 20:
        raise SignatureError("an address is 20 bytes")
    return _checksum(bytes(address))


@lru_cache(maxsize=4096)
def _checksum(address: bytes) -> str:
    hex_addr = address.hex()
    digest = sha3.keccak_256(hex_addr.encode("ascii")).hexdigest()
    return "0x" + "".join(
        ch.upper() if nibble in "89abcdef" else ch
        for ch, nibble in zip(hex_addr, digest[:40], strict=True)
    )


def address_bytes(address: str | bytes, what: str = "address") -> bytes:
    """20 bytes of an address given as bytes or ``0x`` hex.

    All-lowercase and all-uppercase hex are accepted; mixed case must be a valid EIP-55
    checksum, since a wrong checksum means a mistyped address.
    """
    if isinstance(address, bytes | bytearray):
        if len(address) != 20:
            raise SignatureError(f"{what} must be 20 bytes, got {len(address)}")
        return bytes(address)
    if not isinstance(address, str):
        raise SignatureError(f"{what} must be a 0x-hex string or 20 bytes")
    return _parse_address(address, what)


@lru_cache(maxsize=4096)
def _parse_address(address: str, what: str) -> bytes:
    if len(address) != 42 or not address.startswith("0x"):
        raise SignatureError(f"{what} must be 0x followed by 40 hex digits: {address[:50]!r}")
    body = address[2:]
    try:
        raw = bytes.fromhex(body)
    except ValueError as exc:
        raise SignatureError(f"{what} is not hexadecimal: {address!r}") from exc
    if body != body.lower() and body != body.upper() and to_checksum_address(raw) != address:
        raise SignatureError(f"{what} {address} fails its EIP-55 checksum")
    return raw


def _chain_id(chain_id: int) -> int:
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 < chain_id < 2**256:
        raise SignatureError(f"chain id must be a positive uint256, got {chain_id!r}")
    return chain_id


@lru_cache(maxsize=64)
def _domain_separator(chain_id: int, registry: bytes) -> bytes:
    return _keccak(
        _DOMAIN_TYPEHASH
        + _NAME_HASH
        + _VERSION_HASH
        + chain_id.to_bytes(32, "big")
        + registry.rjust(32, b"\0")
    )


def domain_separator(chain_id: int, registry: str | bytes) -> bytes:
    """EIP-712 domain separator of the registry at ``registry`` on chain ``chain_id``."""
    return _domain_separator(_chain_id(chain_id), address_bytes(registry, "registry"))


def record_hash(
    chain_id: int, registry: str | bytes, lot_key: bytes | str, digest: bytes | str
) -> bytes:
    """The 32 bytes a producer signs: ``keccak256(0x1901 || domainSeparator || structHash)``."""
    struct_hash = _keccak(
        _RECORD_TYPEHASH + as_bytes32(lot_key, "lot key") + as_bytes32(digest, "digest")
    )
    return _keccak(b"\x19\x01" + domain_separator(chain_id, registry) + struct_hash)


def record_typed_data(
    chain_id: int, registry: str | bytes, lot_key: bytes | str, digest: bytes | str
) -> dict[str, Any]:
    """The EIP-712 message as wallets take it (``eth_signTypedData_v4``, eth-account)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Record": [
                {"name": "lot", "type": "bytes32"},
                {"name": "digest", "type": "bytes32"},
            ],
        },
        "primaryType": "Record",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": _chain_id(chain_id),
            "verifyingContract": to_checksum_address(address_bytes(registry, "registry")),
        },
        "message": {
            "lot": "0x" + as_bytes32(lot_key, "lot key").hex(),
            "digest": "0x" + as_bytes32(digest, "digest").hex(),
        },
    }


def _private_key_bytes(key: Any) -> bytes:
    if isinstance(key, bytes | bytearray):
        raw = bytes(key)
    elif isinstance(key, str):
        try:
            raw = bytes.fromhex(key[2:] if key.startswith(("0x", "0X")) else key)
        except ValueError as exc:
            raise SignatureError("private key is not hexadecimal") from exc
    elif hasattr(key, "key"):  # eth_account LocalAccount
        return _private_key_bytes(key.key)
    elif hasattr(key, "to_bytes"):  # eth_keys PrivateKey
        return _private_key_bytes(key.to_bytes())
    else:
        raise SignatureError(f"unsupported private key type {type(key).__name__}")
    if len(raw) != 32 or not 0 < int.from_bytes(raw, "big") < SECP256K1_N:
        raise SignatureError("private key must be 32 bytes in the secp256k1 range")
    return raw


def private_key_address(key: Any) -> str:
    """Checksum address of a private key (bytes, hex, LocalAccount or eth-keys key)."""
    raw = _private_key_bytes(key)
    if _coincurve is not None:
        pub = _coincurve.PrivateKey(raw).public_key.format(compressed=False)[1:]
    else:  # pragma: no cover
        from eth_keys import keys

        pub = keys.PrivateKey(raw).public_key.to_bytes()
    return to_checksum_address(_keccak(pub)[-20:])


def sign_record(
    private_key: bytes | str | _HasKey | Any,
    chain_id: int,
    registry: str | bytes,
    lot_key: bytes | str,
    digest: bytes | str,
) -> bytes:
    """Sign ``Record(lot, digest)``: 65 bytes ``r || s || v`` (RFC 6979, low s, v 27/28).

    Byte-for-byte what ``Account.sign_message(encode_typed_data(...), key)`` returns.
    """
    raw = _private_key_bytes(private_key)
    msg = record_hash(chain_id, registry, lot_key, digest)
    if _coincurve is not None:
        sig = _coincurve.PrivateKey(raw).sign_recoverable(msg, hasher=None)
        return sig[:64] + bytes([sig[64] + 27])
    from eth_keys import keys  # pragma: no cover

    s = keys.PrivateKey(raw).sign_msg_hash(msg)  # pragma: no cover
    return s.r.to_bytes(32, "big") + s.s.to_bytes(32, "big") + bytes([s.v + 27])  # pragma: no cover


def signature_bytes(signature: bytes | str) -> bytes:
    """65 signature bytes from bytes or 0x-hex, checked as :func:`parse_signature` does."""
    parse_signature(signature)
    return bytes.fromhex(signature[2:]) if isinstance(signature, str) else bytes(signature)


def parse_signature(signature: bytes | str) -> tuple[int, int, int]:
    """``(r, s, v)`` of a 65-byte signature, refusing malformed and malleable ones."""
    if isinstance(signature, str):
        if not signature.startswith("0x") or len(signature) != 132:
            raise SignatureError("signature must be 0x followed by 130 hex digits (65 bytes)")
        try:
            signature = bytes.fromhex(signature[2:])
        except ValueError as exc:
            raise SignatureError("signature is not hexadecimal") from exc
    if not isinstance(signature, bytes | bytearray):
        raise SignatureError(f"signature must be bytes or hex, not {type(signature).__name__}")
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes (r, s, v), got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise SignatureError(f"signature v must be 27 or 28, got {v}")
    if not 0 < r < SECP256K1_N:
        raise SignatureError("signature r is out of range")
    if not 0 < s < SECP256K1_N:
        raise SignatureError("signature s is out of range")
    if s > SECP256K1_HALF_N:
        raise SignatureError("signature s is in the upper half of the curve order (malleable)")
    return r, s, v


def recover_hash_signer(msg_hash: bytes, signature: bytes | str) -> bytes:
    """20-byte address that signed the 32-byte ``msg_hash``."""
    r, s, v = parse_signature(signature)
    if _coincurve is not None:
        compact = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v - 27])
        try:
            pub = _coincurve.PublicKey.from_signature_and_message(compact, msg_hash, hasher=None)
        except Exception as exc:  # coincurve raises plain Exception on unrecoverable input
            raise SignatureError("signature does not recover to any public key") from exc
        return _keccak(pub.format(compressed=False)[1:])[-20:]
    from eth_keys import keys  # pragma: no cover
    from eth_keys.exceptions import BadSignature  # pragma: no cover

    try:  # pragma: no cover
        sig = keys.Signature(vrs=(v - 27, r, s))
        return sig.recover_public_key_from_msg_hash(msg_hash).to_canonical_address()
    except BadSignature as exc:  # pragma: no cover
        raise SignatureError("signature does not recover to any public key") from exc


def recover_record_signer(
    chain_id: int,
    registry: str | bytes,
    lot_key: bytes | str,
    digest: bytes | str,
    signature: bytes | str,
) -> str:
    """Checksum address of whoever signed ``Record(lot_key, digest)`` for this deployment.

    Any well-formed signature recovers to *some* address: compare the result with the
    registered producer (or use :func:`verify_record_signature`).
    """
    return to_checksum_address(
        recover_hash_signer(record_hash(chain_id, registry, lot_key, digest), signature)
    )


def verify_record_signature(
    chain_id: int,
    registry: str | bytes,
    lot_key: bytes | str,
    digest: bytes | str,
    signature: bytes | str,
    producer: str | bytes,
) -> str:
    """Check the signature is ``producer``'s; return the producer's checksum address."""
    claimed = address_bytes(producer, "producer")
    signer = recover_hash_signer(record_hash(chain_id, registry, lot_key, digest), signature)
    if signer != claimed:
        raise SignatureError(
            f"signature was made by {to_checksum_address(signer)}, "
            f"not by the claimed producer {to_checksum_address(claimed)}"
        )
    return to_checksum_address(claimed)
