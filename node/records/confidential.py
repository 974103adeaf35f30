"""Confidential fields: salted commitments in place of values (prices, buyer names).

The signer replaces each private field's value with
``{"commitment": "0x" + hex(keccak256(field_salt || JCS(value)))}`` before digesting, so
the digest, the signature, the chain and the public proof bundle only ever see the
commitment. The value and its salt travel beside the record as a *disclosure*; whoever
is shown one checks it against the signed commitment with :func:`check_disclosure`.
A fresh 32-byte salt per field stops anyone from testing guesses (is the price 2,150
USD/t?) against the commitment. Events without private fields are left unchanged.

Paths are dotted object keys (``"price"``, ``"buyer.name"``); arrays are not addressed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sha3

from .canonical import canonicalize
from .digest import as_bytes32, new_salt
from .errors import ConfidentialFieldError, RecordError
from .validation import is_commitment


def commitment_of(value: Any, salt: bytes) -> str:
    """``"0x" + hex(keccak256(salt || JCS(value)))``: the commitment to one field value."""
    h = sha3.keccak_256(as_bytes32(salt, "field salt"))
    h.update(canonicalize(value))
    return "0x" + h.hexdigest()


def _split(path: str) -> list[str]:
    if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
        raise ConfidentialFieldError(f"bad field path {path!r}: use dotted keys like 'buyer.name'")
    return path.split(".")


def _lookup(event: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = event
    for part in _split(path):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def commit_private_fields(
    event: Mapping[str, Any],
    private_paths: Iterable[str],
    *,
    salts: Mapping[str, bytes] | None = None,
    salt_source: Callable[[], bytes] = new_salt,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Replace each present private field by its commitment.

    Returns ``(committed_event, disclosures)`` with ``disclosures[path] = {"value": ...,
    "salt": "0x..."}``. The input is not modified. Absent paths are skipped; a field that
    already holds a commitment is kept as is (committing twice would hide the value
    behind a commitment to a commitment). ``salts`` fixes a field's salt (for tests and
    known-answer vectors); otherwise each field gets a fresh one from ``salt_source``.
    """
    committed: dict[str, Any] = dict(event)
    disclosures: dict[str, dict[str, Any]] = {}
    for path in dict.fromkeys(private_paths):
        parts = _split(path)
        node: dict[str, Any] = committed
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                break
            if not isinstance(child, Mapping):
                raise ConfidentialFieldError(f"{path}: {part!r} is not an object")
            node[part] = dict(child)  # copy on the way down: the caller's event stays intact
            node = node[part]
        else:
            last = parts[-1]
            if last not in node or is_commitment(node[last]):
                continue
            value = node[last]
            salt = salts[path] if salts is not None and path in salts else salt_source()
            node[last] = {"commitment": commitment_of(value, salt)}
            disclosures[path] = {"value": value, "salt": "0x" + as_bytes32(salt, "salt").hex()}
    return committed, disclosures


def check_disclosure(
    committed_event: Mapping[str, Any], path: str, value: Any, salt: bytes | str
) -> bool:
    """True if ``value`` with ``salt`` opens the commitment at ``path`` of the signed event.

    False for a wrong value, wrong salt, a path that holds no commitment, or a malformed
    salt or value: whatever does not verify.
    """
    try:
        found, held = _lookup(committed_event, path)
        if not found or not is_commitment(held):
            return False
        expected = commitment_of(value, as_bytes32(salt, "field salt"))
    except RecordError:
        return False
    return hmac.compare_digest(expected, held["commitment"])


def open_private_fields(
    committed_event: Mapping[str, Any], disclosures: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The event with disclosed values put back; raise if any disclosure does not verify."""
    opened: dict[str, Any] = dict(committed_event)
    for path, disclosure in disclosures.items():
        if not isinstance(disclosure, Mapping) or set(disclosure) != {"value", "salt"}:
            raise ConfidentialFieldError(f"{path}: a disclosure is {{'value': ..., 'salt': ...}}")
        if not check_disclosure(committed_event, path, disclosure["value"], disclosure["salt"]):
            raise ConfidentialFieldError(f"{path}: disclosed value does not match the commitment")
        parts = _split(path)
        node = opened
        for part in parts[:-1]:
            node[part] = dict(node[part])
            node = node[part]
        node[parts[-1]] = disclosure["value"]
    return opened
