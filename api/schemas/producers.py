"""Producers and their API keys (administrator only)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from vntrace.node.records.signing import to_checksum_address
from vntrace.node.store.types import ApiKeyRow, ProducerRow

from .common import Address, ApiModel, RequestModel


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


class ProducerCreate(RequestModel):
    """A producer to register on the node and in the on-chain registry."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "address": "0x3f06eE5085B3aC315aFbFeC6DdEFb5d394E2755b",
                    "name": "HTX Nông nghiệp Ea Tu",
                    "metadataUri": "https://example.org/ea-tu",
                }
            ]
        }
    )

    address: Address
    name: str = Field(min_length=1, max_length=200)
    metadata_uri: str | None = Field(default=None, max_length=2048)


class ProducerOut(ApiModel):
    address: str
    name: str
    metadata_uri: str | None
    active: bool
    registered_onchain: bool
    onchain_tx_hash: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: ProducerRow) -> ProducerOut:
        return cls(
            address=to_checksum_address(row.address),
            name=row.name,
            metadata_uri=row.metadata_uri,
            active=row.active,
            registered_onchain=row.registered_onchain,
            onchain_tx_hash=_hex(row.onchain_tx_hash),
            created_at=row.created_at,
        )


class ProducerList(ApiModel):
    items: list[ProducerOut]


class ApiKeyCreate(RequestModel):
    """A new API key for a producer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"label": "warehouse scanner"}]})

    label: str | None = Field(default=None, max_length=200)


class ApiKeyOut(ApiModel):
    key_id: str
    role: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> ApiKeyOut:
        return cls(
            key_id=row.key_id,
            role=row.role.value,
            label=row.label,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


class ApiKeyIssued(ApiKeyOut):
    token: str = Field(description="The bearer token; shown once, only its hash is stored.")
    producer: str


class ApiKeyList(ApiModel):
    items: list[ApiKeyOut]
