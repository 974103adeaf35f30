"""The node's signed statement of which custodial keys sign for a producer.

A plain EPCIS client (no vntrace SDK, no Ethereum key) captures through a secp256k1
key the node holds for its producer (docs/epcis.md §6). A record signed that way
recovers to the *custodian*, not to the producer, so a verifier needs to know that
this custodian signs for that producer. The node says so in a statement signed with
its Ed25519 identity (the key that signs intake receipts, published in the node's
identity document and in the registry's anchorer metadata):

``{"v": 1, "type": "vntrace-custodians", "producer", "custodians": [addresses], "node",
"chainId", "registry", "issuedAt", "signature"}``; the signed bytes are RFC 8785 JCS of
the statement without ``signature`` (as receipts, through :mod:`vntrace.node.statements`),
the signature unpadded base64url.
Revoked custodians are left out: their signatures are no longer vouched for.

Pure: the node issues, the SDK checks (:func:`verify_statement`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from vntrace.node.identity import NodeIdentity
from vntrace.node.records import RecordError
from vntrace.node.records.signing import address_bytes, to_checksum_address
from vntrace.node.statements import fields_jcs, sign_statement, verify_statement_signature

STATEMENT_VERSION = 1
STATEMENT_TYPE = "vntrace-custodians"
_FIELDS = ("v", "type", "producer", "custodians", "node", "chainId", "registry", "issuedAt")
_WHAT = "custodians statement"


class StatementError(ValueError):
    """A custodians statement is malformed, or its signature does not verify."""


def signing_bytes(statement: Mapping[str, Any]) -> bytes:
    """What the node signs: JCS of the statement's fields, without ``signature``."""
    return fields_jcs(statement, _FIELDS, StatementError, _WHAT)


def issue_statement(
    identity: NodeIdentity,
    *,
    producer: str,
    custodians: Sequence[str],
    chain_id: int,
    registry: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """A signed statement that ``custodians`` sign records for ``producer``."""
    statement: dict[str, Any] = {
        "v": STATEMENT_VERSION,
        "type": STATEMENT_TYPE,
        "producer": producer,
        "custodians": list(custodians),
        "node": identity.node_id,
        "chainId": chain_id,
        "registry": registry,
        "issuedAt": issued_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    statement["signature"] = sign_statement(identity, signing_bytes(statement))
    return statement


def verify_statement(
    statement: Any,
    public_key: bytes,
    *,
    producer: str | None = None,
    chain_id: int | None = None,
    registry: str | None = None,
) -> frozenset[str]:
    """The custodians (lower-case ``0x`` addresses) a statement signed by
    ``public_key`` vouches for; :class:`StatementError` if it is not such a statement,
    or is about another producer, chain or registry than the ones given."""
    if not isinstance(statement, dict):
        raise StatementError("a custodians statement is a JSON object")
    if statement.get("v") != STATEMENT_VERSION or statement.get("type") != STATEMENT_TYPE:
        raise StatementError("not a vntrace custodians statement (v 1)")
    verify_statement_signature(statement, public_key, signing_bytes, StatementError, _WHAT)
    custodians = statement["custodians"]
    if not isinstance(custodians, list):
        raise StatementError("custodians must be a list of addresses")
    try:
        named = to_checksum_address(address_bytes(str(statement["producer"]), "producer"))
        found = frozenset(address_bytes(str(c), "custodian") for c in custodians)
    except RecordError as exc:
        raise StatementError(f"custodians statement: {exc}") from exc
    if producer is not None and address_bytes(producer, "producer") != address_bytes(named):
        raise StatementError(f"the statement is about producer {named}, not {producer}")
    if chain_id is not None and statement["chainId"] != chain_id:
        raise StatementError(f"the statement is for chain {statement['chainId']}")
    if registry is not None and str(statement["registry"]).lower() != registry.lower():
        raise StatementError(f"the statement is for registry {statement['registry']}")
    return frozenset("0x" + a.hex() for a in found)


__all__ = [
    "STATEMENT_TYPE",
    "STATEMENT_VERSION",
    "StatementError",
    "issue_statement",
    "signing_bytes",
    "verify_statement",
]
