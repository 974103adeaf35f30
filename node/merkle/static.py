"""Leaves of fixed-size ABI types without the ABI encoder.

Every static elementary ABI type (``bytes1``…``bytes32``, ``uint8``…``uint256``,
``int8``…``int256``, ``address``, ``bool``) encodes as one 32-byte word, and a tuple of
them as the words side by side (Solidity ABI spec, "Formal Specification of the
Encoding"). So a leaf ``keccak256(keccak256(abi.encode(types, value)))`` over such
types needs no encoder: this module writes the words directly, from ``bytes``, 0x-hex
strings or ints alike, and two-word leaves go through the same pair hasher (C
accelerator, both cores) as the node's own ``(bytes32, bytes32)`` leaves.

A value the word writer is not sure of (a mixed-case address, say, whose checksum
eth-abi checks) goes through :func:`vntrace.node.merkle.hashing.leaf_hash`, so results
and errors are exactly those of the ABI encoder path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import sha3

from .hashing import leaf_hash
from .parallel import hash_pair_blob_leaves, hash_pair_leaves

_keccak = sha3.keccak_256
_ZERO = bytes(32)
_INT = re.compile(r"(u?)int([0-9]{1,3})")
_BYTES = re.compile(r"bytes([0-9]{1,2})")
_DEC_OR_HEX = re.compile(r"-?(?:[0-9]{1,78}|0x[0-9a-fA-F]{1,64})")
_LOWER_OR_UPPER_ADDRESS = re.compile(r"0x(?:[0-9a-f]{40}|[0-9A-F]{40})")

Word = Callable[[Any], bytes | None]
"""Writes one value as its 32-byte ABI word, or ``None`` to leave it to eth-abi."""


class _Unsure(Exception):
    """Raised inside the word writers: this value takes the ABI encoder path."""


def _int_word(bits: int, signed: bool) -> Word:
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)

    def word(value: Any) -> bytes | None:
        if type(value) is str and _DEC_OR_HEX.fullmatch(value):  # OZ dumps: "1000", "0x3e8"
            value = int(value, 16) if "x" in value else int(value, 10)
        elif type(value) is not int:  # bools, padded strings: the encoder path decides
            return None
        if not low <= value <= high:
            return None
        return (value & ((1 << 256) - 1)).to_bytes(32, "big")

    return word


def _bytes_word(size: int) -> Word:
    def word(value: Any) -> bytes | None:
        if type(value) is bytes:
            raw = value
        elif type(value) is str and value.startswith("0x") and len(value) == 2 + 2 * size:
            try:
                raw = bytes.fromhex(value[2:])
            except ValueError:
                return None
        else:
            return None
        if len(raw) != size:
            return None
        return raw + _ZERO[size:]

    return word


def _address_word(value: Any) -> bytes | None:
    if type(value) is str and _LOWER_OR_UPPER_ADDRESS.fullmatch(value):
        return _ZERO[:12] + bytes.fromhex(value[2:])
    if type(value) is bytes and len(value) == 20:
        return _ZERO[:12] + value
    return None


def _bool_word(value: Any) -> bytes | None:
    if type(value) is not bool:
        return None
    return _ZERO[:31] + (b"\x01" if value else b"\x00")


def word_writer(abi_type: str) -> Word | None:
    """The word writer of a static elementary type, or ``None`` for any other type."""
    if abi_type == "address":
        return _address_word
    if abi_type == "bool":
        return _bool_word
    m = _INT.fullmatch(abi_type)
    if m:
        bits = int(m.group(2))
        if 8 <= bits <= 256 and bits % 8 == 0:
            return _int_word(bits, signed=m.group(1) == "")
        return None
    m = _BYTES.fullmatch(abi_type)
    if m and 1 <= int(m.group(1)) <= 32:
        return _bytes_word(int(m.group(1)))
    return None


def static_writers(encoding: Sequence[str]) -> list[Word] | None:
    """Word writers for every type of ``encoding``, or ``None`` if any type is not static."""
    writers = [word_writer(t) for t in encoding]
    if any(w is None for w in writers):
        return None
    return [w for w in writers if w is not None]


def _words(value: Any, writers: list[Word]) -> list[bytes] | None:
    if not isinstance(value, list | tuple) or len(value) != len(writers):
        return None
    out = []
    for writer, item in zip(writers, value, strict=True):
        w = writer(item)
        if w is None:
            return None
        out.append(w)
    return out


def static_leaf_hashes(
    values: Sequence[Any],
    encoding: Sequence[str],
    writers: list[Word],
    *,
    workers: int | None = None,
) -> list[bytes]:
    """OZ leaf hashes of ``values`` under an all-static ``encoding`` (see module doc)."""
    types = tuple(encoding)
    if all(t == "bytes32" for t in types):
        blob = _bulk_hex_words(values, len(types))
        if blob is not None:
            return _hash_word_blob(blob, len(types), workers)
    if len(writers) == 2:
        pairs: list[tuple[bytes, bytes]] = []
        slow: dict[int, bytes] = {}
        for i, value in enumerate(values):
            words = _words(value, writers)
            if words is None:
                slow[i] = leaf_hash(value, types)  # exact encoder semantics, or its error
                pairs.append((_ZERO, _ZERO))
            else:
                pairs.append((words[0], words[1]))
        hashes = hash_pair_leaves(pairs, workers=workers)
        for i, h in slow.items():
            hashes[i] = h
        return hashes
    out = []
    for value in values:
        words = _words(value, writers)
        if words is None:
            out.append(leaf_hash(value, types))
        else:
            out.append(_keccak(_keccak(b"".join(words)).digest()).digest())
    return out


def _bulk_hex_words(values: Sequence[Any], arity: int) -> bytes | None:
    """All values as one blob of 32-byte words when every item is 0x-hex of 32 bytes.

    One ``bytes.fromhex`` over the whole batch instead of one call per item; anything
    else (bytes, short hex, a stray character) returns ``None`` for the per-value path.
    """
    parts: list[str] = []
    try:
        for value in values:
            if len(value) != arity:
                return None
            for item in value:
                if type(item) is not str or len(item) != 66 or item[:2] != "0x":
                    return None
                parts.append(item[2:])
        blob = bytes.fromhex("".join(parts))
    except (TypeError, ValueError):
        return None
    return blob if len(blob) == 32 * arity * len(values) else None  # fromhex skips spaces


def _hash_word_blob(blob: bytes, arity: int, workers: int | None) -> list[bytes]:
    if arity == 2:
        return hash_pair_blob_leaves(blob, workers=workers)
    size = 32 * arity
    view = memoryview(blob)
    return [
        _keccak(_keccak(view[i : i + size]).digest()).digest() for i in range(0, len(blob), size)
    ]
