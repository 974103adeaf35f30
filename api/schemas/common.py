"""Base models and shared field types.

Requests refuse unknown fields (a typo fails loudly instead of being ignored); responses
that mirror the node's JSON documents (bundles, provenance) keep fields this version
does not know, so a newer node core never loses data on the way out.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Hex32 = Annotated[
    str,
    Field(pattern=r"^0x[0-9a-fA-F]{64}$", examples=["0x" + "ab" * 32], description="32 bytes"),
]
Signature = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{130}$",
        description="65-byte EIP-712 signature (r, s, v), 0x-hex",
    ),
]
Address = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        examples=["0x3f06eE5085B3aC315aFbFeC6DdEFb5d394E2755b"],
        description="Ethereum address",
    ),
]


class ApiModel(BaseModel):
    """Response base: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True)


class PassThroughModel(ApiModel):
    """A node document: documented fields plus any the core adds later."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="allow")


class RequestModel(BaseModel):
    """Request base: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="forbid")


class Anchor(PassThroughModel):
    """Where an epoch's root was anchored."""

    chain_id: int | None = None
    contract: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    block_timestamp: int | None = None


class LogSection(PassThroughModel):
    """The epoch's place in the witnessed log (docs/witness.md): its 153-byte leaf, the
    RFC 9162 inclusion proof, and the C2SP checkpoint (log signature + cosignatures)."""

    origin: str
    leaf_index: int
    tree_size: int
    leaf: str = Field(description="base64 of the 153-byte epoch leaf")
    inclusion_proof: list[str] = Field(description="base64 SHA-256 hashes, RFC 9162 2.1.3")
    checkpoint: str = Field(description="C2SP tlog-checkpoint signed note, cosignatures included")
