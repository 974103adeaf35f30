"""Database rows -> typed dataclasses (and the column lists the queries select)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from .clock import from_ms, opt_from_ms
from .schema import api_keys, epochs, lots, records
from .types import (
    ApiKeyRow,
    EpochRow,
    EpochStatus,
    IdempotencyRow,
    LotRow,
    OutboxRow,
    ProducerRow,
    RecordRow,
    RecordStatus,
    Role,
    TxStatus,
)

Row = Any  # sqlalchemy.Row; attribute access by column name


def _b(v: Any) -> bytes:
    return bytes(v)  # PostgreSQL drivers may hand back memoryview


def _ob(v: Any) -> bytes | None:
    return None if v is None else bytes(v)


def producer(r: Row) -> ProducerRow:
    return ProducerRow(
        id=r.id,
        address=_b(r.address),
        name=r.name,
        metadata_uri=r.metadata_uri,
        active=bool(r.active),
        registered_onchain=bool(r.registered_onchain),
        onchain_tx_hash=_ob(r.onchain_tx_hash),
        created_at=from_ms(r.created_at),
    )


API_KEY_COLUMNS = [c for c in api_keys.c if c.name != "key_hash"]


def api_key(r: Row) -> ApiKeyRow:
    return ApiKeyRow(
        id=r.id,
        key_id=r.key_id,
        role=Role(r.role),
        producer_id=r.producer_id,
        label=r.label,
        created_at=from_ms(r.created_at),
        revoked_at=opt_from_ms(r.revoked_at),
    )


def lot(r: Row) -> LotRow:
    return LotRow(
        id=r.id,
        lot_key=_b(r.lot_key),
        gtin=r.gtin,
        lot_number=r.lot_number,
        producer_id=r.producer_id,
        created_at=from_ms(r.created_at),
        recalled_at=opt_from_ms(r.recalled_at),
        recall_reason=r.recall_reason,
        recall_tx_hash=_ob(r.recall_tx_hash),
    )


def select_records() -> Select[Any]:
    """Records joined with their lot key (every RecordRow carries it for proof bundles)."""
    return select(records, lots.c.lot_key).join_from(records, lots, records.c.lot_id == lots.c.id)


def record(r: Row) -> RecordRow:
    return RecordRow(
        id=r.id,
        leaf=_b(r.leaf),
        lot_id=r.lot_id,
        lot_key=_b(r.lot_key),
        producer_id=r.producer_id,
        digest=_b(r.digest),
        salt=_b(r.salt),
        event_json=_b(r.event_json),
        signature=_b(r.signature),
        received_at=from_ms(r.received_at),
        status=RecordStatus(r.status),
        epoch=r.epoch,
        leaf_index=r.leaf_index,
        custodian=_ob(r.custodian),
    )


EPOCH_COLUMNS = [c for c in epochs.c if c.name != "tree"]


def epoch(r: Row) -> EpochRow:
    return EpochRow(
        number=r.number,
        root=_b(r.root),
        record_count=r.record_count,
        status=EpochStatus(r.status),
        sealed_at=from_ms(r.sealed_at),
        anchored_at=opt_from_ms(r.anchored_at),
        tx_hash=_ob(r.tx_hash),
        block_number=r.block_number,
        block_timestamp=r.block_timestamp,
        chain_id=r.chain_id,
        contract=_ob(r.contract),
    )


def outbox_row(r: Row) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        epoch=r.epoch,
        raw_tx=_b(r.raw_tx),
        tx_hash=_b(r.tx_hash),
        nonce=r.nonce,
        status=TxStatus(r.status),
        attempts=r.attempts,
        last_error=r.last_error,
        created_at=from_ms(r.created_at),
        updated_at=from_ms(r.updated_at),
    )


def idempotency(r: Row) -> IdempotencyRow:
    return IdempotencyRow(
        producer_id=r.producer_id,
        key=r.key,
        request_hash=_b(r.request_hash),
        response=r.response,
        status_code=r.status_code,
        created_at=from_ms(r.created_at),
    )


__all__ = [
    "API_KEY_COLUMNS",
    "EPOCH_COLUMNS",
    "api_key",
    "epoch",
    "idempotency",
    "lot",
    "outbox_row",
    "producer",
    "record",
    "select_records",
]
