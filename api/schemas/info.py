"""What a client needs to know about the node before signing or verifying."""

from __future__ import annotations

from pydantic import Field

from .common import ApiModel


class Limits(ApiModel):
    max_body_bytes: int
    max_batch_body_bytes: int
    max_events_per_request: int
    max_verify_items: int
    rate_limit_per_second: float = Field(description="0 means no rate limit.")
    rate_limit_burst: int


class NodeInfo(ApiModel):
    version: str
    chain_id: int = Field(description="EIP-712 domain chainId.")
    registry: str = Field(description="EIP-712 verifyingContract: the registry contract.")
    operator: str = Field(description="The account that anchors this node's epochs.")
    chain: str = Field(description="embedded | rpc")
    profile: str
    gtins: list[str]
    digital_link_base: str
    epoch_seconds: float
    rpc: str | None = Field(description="Path of the read-only JSON-RPC endpoint, if served.")
    limits: Limits
