"""The Ed25519-over-JCS helper that intake receipts and custodians statements share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vntrace.node.identity import NodeIdentity, b64url
from vntrace.node.statements import (
    fields_jcs,
    require_fields,
    sign_statement,
    verify_statement_signature,
)

# RFC 8032 §7.1, TEST 1 (empty message)
SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
FIELDS = ("v", "b", "a")
IDENTITY = NodeIdentity(Ed25519PrivateKey.from_private_bytes(SECRET))


class Bad(ValueError):
    pass


def _jcs(statement: Mapping[str, Any]) -> bytes:
    return fields_jcs(statement, FIELDS, Bad, "test statement")


def _signed(**fields: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"v": 1, "b": [2, 1], "a": "é", **fields}
    statement["signature"] = sign_statement(IDENTITY, _jcs(statement))
    return statement


def test_the_signature_is_ed25519_unpadded_base64url() -> None:
    assert IDENTITY.public_key == PUBLIC
    assert sign_statement(IDENTITY, b"") == b64url(SIGNATURE)
    assert "=" not in sign_statement(IDENTITY, b"")


def test_the_signed_bytes_are_jcs_of_the_named_fields_only() -> None:
    statement = {"b": [2, 1], "v": 1, "a": "é", "signature": "x", "extra": True}
    assert _jcs(statement) == '{"a":"é","b":[2,1],"v":1}'.encode()


def test_a_missing_field_is_named_in_the_callers_error() -> None:
    with pytest.raises(Bad, match=r"^test statement is missing b, a$"):
        _jcs({"v": 1})
    with pytest.raises(Bad, match=r"^test statement is missing batch$"):
        require_fields({"v": 1}, ("v", "batch"), Bad, "test statement")


def test_a_signed_statement_verifies_and_any_edit_does_not() -> None:
    statement = _signed()
    verify_statement_signature(statement, PUBLIC, _jcs, Bad, "test statement")
    for field, value in (("v", 2), ("b", [1, 2]), ("a", "e")):
        with pytest.raises(Bad, match=r"^test statement signature does not verify"):
            verify_statement_signature(
                {**statement, field: value}, PUBLIC, _jcs, Bad, "test statement"
            )
    other = NodeIdentity(Ed25519PrivateKey.generate()).public_key
    with pytest.raises(Bad, match=r"with the node's key$"):
        verify_statement_signature(statement, other, _jcs, Bad, "test statement")


@pytest.mark.parametrize("signature", [None, 7, "not base64!", "missing"])
def test_no_usable_signature_is_reported_before_the_message_is_built(signature: Any) -> None:
    statement: dict[str, Any] = {"v": 1}  # missing fields too: the signature is reported
    if signature != "missing":
        statement["signature"] = signature

    def message(_: Mapping[str, Any]) -> bytes:
        raise AssertionError("message built although the signature is unusable")

    with pytest.raises(Bad, match=r"^test statement has no valid signature$"):
        verify_statement_signature(statement, PUBLIC, message, Bad, "test statement")
