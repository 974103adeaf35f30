"""Custodial keys: the node's signed statement of who signs for a producer."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from .common import Address, PassThroughModel


class CustodiansStatement(PassThroughModel):
    """Which custodial keys the node holds, and signs with, for a producer.

    Signed by the node's Ed25519 identity (the key of its receipts, in
    `/.well-known/vntrace-node`): the signature is unpadded base64url over RFC 8785 JCS of
    every field but `signature`. A record whose bundle says `signer.kind: custodial`
    verifies only with a custodian listed here for its producer (docs/epcis.md §6).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "v": 1,
                    "type": "vntrace-custodians",
                    "producer": "0x3f06eE5085B3aC315aFbFeC6DdEFb5d394E2755b",
                    "custodians": ["0x8f3c5b0E0a2E1C2d4F5A6B7C8D9E0F1A2B3C4D5E"],
                    "node": "vnt-node-5c1d2e3f4a5b6c7d8e9f",
                    "chainId": 131277322940537,
                    "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                    "issuedAt": "2026-05-01T08:00:00.000Z",
                    "signature": "…",
                }
            ]
        }
    )

    v: Literal[1]
    type: Literal["vntrace-custodians"]
    producer: Address
    custodians: list[Address] = Field(description="Unrevoked custodial keys, oldest first.")
    node: str = Field(description="The signing node's id (vnt-node-…).")
    chain_id: int
    registry: Address
    issued_at: str
    signature: str = Field(description="Ed25519, unpadded base64url, over JCS of the rest.")
