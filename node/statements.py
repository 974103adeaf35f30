"""Statements the node signs with its Ed25519 identity over RFC 8785 JCS.

Intake receipts (:mod:`vntrace.node.receipts`) and custodians statements
(:mod:`vntrace.node.custodians`) are both JSON objects whose signed bytes are the JCS
(RFC 8785) of a fixed set of their fields, the signature travelling beside them as
unpadded base64url (RFC 4648 §5) in ``signature``. One helper signs and checks them
all, so their wire formats cannot drift apart; each caller names its own fields, error
class and wording.

Pure (standard library, rfc8785, cryptography): the node signs, the SDK checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vntrace.node.identity import NodeIdentity, b64url, b64url_decode, verify_ed25519
from vntrace.node.records import canonicalize

__all__ = ["fields_jcs", "require_fields", "sign_statement", "verify_statement_signature"]


def require_fields(
    statement: Mapping[str, Any], fields: Sequence[str], error: type[Exception], what: str
) -> None:
    """Raise ``error("<what> is missing a, b")`` unless every field is present."""
    missing = [f for f in fields if f not in statement]
    if missing:
        raise error(f"{what} is missing {', '.join(missing)}")


def fields_jcs(
    statement: Mapping[str, Any], fields: Sequence[str], error: type[Exception], what: str
) -> bytes:
    """The signed bytes: JCS of ``fields`` of ``statement`` (``signature`` and any other
    field left out), ``error`` if one is missing."""
    require_fields(statement, fields, error, what)
    return canonicalize({f: statement[f] for f in fields})


def sign_statement(identity: NodeIdentity, message: bytes) -> str:
    """The node's Ed25519 signature of ``message``, unpadded base64url."""
    return b64url(identity.sign(message))


def verify_statement_signature(
    statement: Mapping[str, Any],
    public_key: bytes,
    message: Callable[[Mapping[str, Any]], bytes],
    error: type[Exception],
    what: str,
) -> None:
    """Raise ``error`` unless ``statement["signature"]`` is ``public_key``'s signature of
    ``message(statement)``.

    The signature is decoded before ``message`` runs, so a statement without a usable
    signature says so whatever else is wrong with it."""
    try:
        signature = b64url_decode(statement["signature"])
    except (KeyError, ValueError, TypeError) as exc:
        raise error(f"{what} has no valid signature") from exc
    if not verify_ed25519(public_key, message(statement), signature):
        raise error(f"{what} signature does not verify with the node's key")
