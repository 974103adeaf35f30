"""Typed rows and inputs of the store: frozen dataclasses, separate from any API schema.

Bytes stay bytes (addresses 20, hashes 32, signatures 65); times are aware UTC
datetimes, except ``block_timestamp`` which is the chain's own integer seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "ApiKeyRow",
    "CustodialKeyRow",
    "EpochRow",
    "EpochStatus",
    "IdempotencyRow",
    "IssuedApiKey",
    "LotMultiproof",
    "LotRow",
    "NewRecord",
    "OutboxRow",
    "Principal",
    "ProducerRow",
    "RecordProof",
    "RecordRow",
    "RecordStatus",
    "Role",
    "TxStatus",
]


class Role(StrEnum):
    """Who an API key speaks for."""

    ADMIN = "admin"
    PRODUCER = "producer"
    AUDITOR = "auditor"


class RecordStatus(StrEnum):
    PENDING = "pending"
    SEALED = "sealed"
    ANCHORED = "anchored"


class EpochStatus(StrEnum):
    SEALED = "sealed"
    SENT = "sent"
    ANCHORED = "anchored"


class TxStatus(StrEnum):
    """Life of one signed anchor transaction in the outbox."""

    SIGNED = "signed"
    SENT = "sent"
    MINED = "mined"
    CONFIRMED = "confirmed"
    REPLACED = "replaced"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProducerRow:
    id: int
    address: bytes
    name: str
    metadata_uri: str | None
    active: bool
    registered_onchain: bool
    onchain_tx_hash: bytes | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: int
    key_id: str
    role: Role
    producer_id: int | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A new key: ``token`` (``vnt_<key_id>_<secret>``) is shown once and never stored."""

    key: ApiKeyRow
    token: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind an authenticated token. ``producer`` is set for producer keys;
    the caller decides what an inactive producer may still do."""

    key_id: str
    role: Role
    producer: ProducerRow | None


@dataclass(frozen=True, slots=True)
class LotRow:
    id: int
    lot_key: bytes
    gtin: str
    lot_number: str
    producer_id: int
    created_at: datetime
    recalled_at: datetime | None
    recall_reason: str | None
    recall_tx_hash: bytes | None


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A validated record ready to store (``vntrace.node.records`` checks the digest,
    leaf and signature; the store checks only sizes)."""

    leaf: bytes
    lot_id: int
    producer_id: int
    digest: bytes
    salt: bytes
    event_json: bytes
    signature: bytes
    received_at: datetime | None = None
    """Node time of intake; ``None`` lets the store stamp it at commit."""
    sealed_disclosures: bytes | None = None
    """Private field values and salts, sealed by the vault (stored in the same commit)."""
    disclosures_key_id: str | None = None
    custodian: bytes | None = None
    """The custodial key's address that signed it; ``None``: the producer signed it."""


@dataclass(frozen=True, slots=True)
class RecordRow:
    id: int
    """Monotonic intake order."""
    leaf: bytes
    lot_id: int
    lot_key: bytes
    producer_id: int
    digest: bytes
    salt: bytes
    event_json: bytes
    signature: bytes
    received_at: datetime
    status: RecordStatus
    epoch: int | None
    leaf_index: int | None
    """Position in the epoch's leaf order (not the node-array index)."""
    custodian: bytes | None = None
    """The custodial key's address that signed it; ``None``: the producer signed it."""


class IntakeSignature(NamedTuple):
    """What intake checked of a stored record: its digest, the signature's bytes and the
    address that signed them (the custodian of a custodial record, else the producer)."""

    digest: bytes
    signature: bytes
    signer: bytes


@dataclass(frozen=True, slots=True)
class CustodialKeyRow:
    """A key the node holds for a producer (migration 6); ``sealed_key`` is the vault's
    blob of the private key, opened only to sign."""

    id: int
    producer_id: int
    address: bytes
    sealed_key: bytes
    key_id: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class EpochRow:
    number: int
    root: bytes
    record_count: int
    status: EpochStatus
    sealed_at: datetime
    anchored_at: datetime | None
    tx_hash: bytes | None
    block_number: int | None
    block_timestamp: int | None
    chain_id: int | None
    contract: bytes | None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    epoch: int
    raw_tx: bytes
    tx_hash: bytes
    nonce: int
    status: TxStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    producer_id: int
    key: str
    request_hash: bytes
    response: str
    status_code: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RecordProof:
    """Inclusion proof of one record, read from the stored tree."""

    record: RecordRow
    epoch: EpochRow
    leaf_index: int
    proof: list[bytes]


@dataclass(frozen=True, slots=True)
class LotMultiproof:
    """All of a lot's records in one epoch with one OpenZeppelin multiproof.

    ``leaves`` are in the order ``processMultiProof`` consumes them (ascending leaf
    index) and ``records[i]`` is the record of ``leaves[i]``.
    """

    epoch: EpochRow
    records: list[RecordRow]
    leaves: list[bytes]
    proof: list[bytes]
    proof_flags: list[bool]
