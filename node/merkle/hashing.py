"""Keccak-256 hashing for the OpenZeppelin StandardMerkleTree layout.

The hot path calls ``sha3.keccak_256`` (safe-pysha3) directly: it is several times
faster than eth-hash's default backend (see shared/FACTS.md). The fixed leaf of the
node, ``(bytes32 lot_key, bytes32 digest)``, is ABI-encoded as the plain 64-byte
concatenation, so it needs no ABI encoder per leaf.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sha3

from .errors import InvalidHashError, InvalidLeafEncodingError

_keccak = sha3.keccak_256
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")

PAIR_ENCODING: tuple[str, str] = ("bytes32", "bytes32")
"""The leaf encoding of node records: ``(lot_key, digest)``."""


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not NIST SHA3-256) of ``data``."""
    return _keccak(data).digest()


def hash_pair(a: bytes, b: bytes) -> bytes:
    """Parent of two nodes: keccak256 of the pair sorted bytewise (OZ ``standardNodeHash``)."""
    return _keccak(a + b if a < b else b + a).digest()


def pair_leaf_hash(a: bytes, b: bytes) -> bytes:
    """Leaf of ``(bytes32, bytes32)``: ``keccak256(keccak256(a || b))`` with no ABI encoder."""
    if len(a) != 32 or len(b) != 32:
        raise InvalidLeafEncodingError("bytes32 values must be exactly 32 bytes")
    return _keccak(_keccak(a + b).digest()).digest()


def to_node(value: bytes | bytearray | memoryview | str) -> bytes:
    """Parse one 32-byte tree node given as bytes or as ``0x``-prefixed hex."""
    if isinstance(value, bytes):
        if len(value) != 32:
            raise InvalidHashError(f"tree nodes are 32 bytes, got {len(value)}")
        return value
    if isinstance(value, str):
        if not _HEX32.fullmatch(value):
            raise InvalidHashError(f"not a 0x-prefixed 32-byte hex string: {value[:80]!r}")
        return bytes.fromhex(value[2:])
    if isinstance(value, bytearray | memoryview):
        return to_node(bytes(value))
    raise InvalidHashError(f"tree nodes are bytes or hex strings, got {type(value).__name__}")


def to_nodes(values: Sequence[bytes | str]) -> list[bytes]:
    """Parse a sequence of nodes (a proof, a list of leaves)."""
    if isinstance(values, str | bytes):
        raise InvalidHashError("expected a sequence of nodes, got a single string or bytes")
    return [to_node(v) for v in values]


def to_hex(node: bytes) -> str:
    """``0x``-prefixed lowercase hex, the form OZ dumps use."""
    return "0x" + node.hex()


_DEC_INT = re.compile(r"-?[0-9]+")
_HEX_INT = re.compile(r"-?0x[0-9a-fA-F]+")


def _split_tuple(abi_type: str) -> list[str]:
    """Component types of ``(t1,t2,...)`` (nested tuples and arrays kept whole)."""
    inner, parts, depth, start = abi_type[1:-1], [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    if inner:
        parts.append(inner[start:])
    return parts


def _parse_int(abi_type: str, value: str) -> int:
    text = value.strip()
    if _DEC_INT.fullmatch(text):
        return int(text, 10)
    if _HEX_INT.fullmatch(text):
        return int(text, 16)
    raise InvalidLeafEncodingError(f"{abi_type}: not an integer: {value[:80]!r}")


def _normalize_value(abi_type: str, value: Any) -> Any:
    """Coerce a JSON-friendly value (hex strings, decimal strings) to what eth-abi wants."""
    if abi_type.endswith("]"):
        if not isinstance(value, list | tuple):
            raise InvalidLeafEncodingError(f"{abi_type} needs a list, got {type(value).__name__}")
        inner = abi_type[: abi_type.rindex("[")]
        return [_normalize_value(inner, v) for v in value]
    if abi_type.startswith("("):
        parts = _split_tuple(abi_type)
        if not isinstance(value, list | tuple) or len(value) != len(parts):
            raise InvalidLeafEncodingError(f"{abi_type} needs a list of {len(parts)} items")
        return tuple(_normalize_value(t, v) for t, v in zip(parts, value, strict=True))
    if abi_type.startswith(("uint", "int")):
        if isinstance(value, bool):
            raise InvalidLeafEncodingError(f"{abi_type} needs an integer, got a bool")
        if isinstance(value, str):
            return _parse_int(abi_type, value)
        return value
    if abi_type.startswith("bytes") and isinstance(value, str):
        if not value.startswith("0x"):
            raise InvalidLeafEncodingError(f"{abi_type}: hex strings must start with 0x")
        try:
            return bytes.fromhex(value[2:])
        except ValueError as exc:
            raise InvalidLeafEncodingError(f"{abi_type}: bad hex {value[:80]!r}") from exc
    return value


def leaf_hash(value: Sequence[Any], leaf_encoding: Sequence[str]) -> bytes:
    """OZ StandardMerkleTree leaf: ``keccak256(keccak256(abi.encode(types, value)))``."""
    types = list(leaf_encoding)
    if not isinstance(value, list | tuple) or len(value) != len(types):
        raise InvalidLeafEncodingError(
            f"value must be a list of {len(types)} item(s) for encoding {types}"
        )
    if (
        tuple(types) == PAIR_ENCODING
        and isinstance(value[0], bytes)
        and isinstance(value[1], bytes)
    ):
        return pair_leaf_hash(value[0], value[1])
    from eth_abi import encode
    from eth_abi.exceptions import EncodingError

    normalized = [_normalize_value(t, v) for t, v in zip(types, value, strict=True)]
    try:
        encoded = encode(types, normalized)
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidLeafEncodingError(f"value does not fit {types}: {exc}") from exc
    return _keccak(_keccak(encoded).digest()).digest()
