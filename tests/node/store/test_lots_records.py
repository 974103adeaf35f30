"""Lots and records: create-or-get, recall, idempotent intake in one transaction."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from vntrace.node.store import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RecordStatus,
    StoreError,
)

from .helpers import World, lot_key_of

GTIN = "08930000000017"


def test_create_or_get_lot(world: World) -> None:
    s, p = world.store, world.producer
    key = lot_key_of(GTIN, "L-1")
    lot, created = s.create_or_get_lot(key, GTIN, "L-1", p.id)
    assert created
    assert (lot.lot_key, lot.gtin, lot.lot_number, lot.producer_id) == (key, GTIN, "L-1", p.id)
    again, created = s.create_or_get_lot(key, GTIN, "L-1", p.id)
    assert (again, created) == (lot, False)
    assert s.get_lot(key) == lot
    assert s.get_lot(bytes(32)) is None


def test_lot_belongs_to_its_first_producer(world: World) -> None:
    s = world.store
    other = s.add_producer(b"\x02" * 20, "someone else")
    key = lot_key_of(GTIN, "L-1")
    s.create_or_get_lot(key, GTIN, "L-1", world.producer.id)
    with pytest.raises(ConflictError):
        s.create_or_get_lot(key, GTIN, "L-1", other.id)
    with pytest.raises(ConflictError):
        s.create_or_get_lot(key, GTIN, "L-2", world.producer.id)


def test_list_lots(world: World) -> None:
    a, b = world.lot("A"), world.lot("B")
    other = world.store.add_producer(b"\x03" * 20, "other")
    c = world.lot("C", producer=other)
    assert world.store.list_lots() == [a, b, c]
    assert world.store.list_lots(producer_id=other.id) == [c]
    assert world.store.list_lots(after_id=a.id, limit=1) == [b]


def test_recall_is_idempotent_and_records_the_chain_tx(world: World) -> None:
    s = world.store
    lot = world.lot("A")
    with pytest.raises(ConflictError):
        s.mark_recall_onchain(lot.lot_key, b"\x01" * 32)
    first = s.recall_lot(lot.lot_key, "aflatoxin above limit")
    assert first.recalled_at is not None and first.recall_reason == "aflatoxin above limit"
    again = s.recall_lot(lot.lot_key, "another reason")
    assert (again.recalled_at, again.recall_reason) == (first.recalled_at, first.recall_reason)
    tx = b"\x0a" * 32
    assert s.mark_recall_onchain(lot.lot_key, tx).recall_tx_hash == tx
    assert s.mark_recall_onchain(lot.lot_key, tx).recall_tx_hash == tx
    with pytest.raises(ConflictError):
        s.mark_recall_onchain(lot.lot_key, b"\x0b" * 32)
    with pytest.raises(NotFoundError):
        s.recall_lot(bytes(32), "x")
    other = world.lot("B")
    assert s.recall_lot(other.lot_key, "r", tx_hash=tx[:31] + b"\x01").recall_tx_hash is not None


def test_add_records_returns_rows_in_order(world: World) -> None:
    s = world.store
    a, b = world.lot("A"), world.lot("B")
    new = [world.record(a, 0), world.record(b, 1), world.record(a, 2)]
    rows = s.add_records(new)
    assert [r.leaf for r in rows] == [n.leaf for n in new]
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    for r, n in zip(rows, new, strict=True):
        assert (r.digest, r.salt, r.event_json, r.signature) == (
            n.digest,
            n.salt,
            n.event_json,
            n.signature,
        )
        assert r.status is RecordStatus.PENDING and r.epoch is None and r.leaf_index is None
        assert r.lot_key == (a.lot_key if n.lot_id == a.id else b.lot_key)
        assert s.get_record(r.leaf) == r
    assert s.get_record(bytes(32)) is None
    assert s.add_records([]) == []


def test_duplicate_leaves_return_the_existing_row(world: World) -> None:
    s = world.store
    lot = world.lot("A")
    x, y = world.record(lot, 0), world.record(lot, 1)
    [rx] = s.add_records([x])
    # Same leaf again (in the same batch and across batches), even with another signature.
    resent = dataclasses.replace(x, signature=b"\x99" * 65)
    rows = s.add_records([resent, y, y])
    assert rows[0] == rx
    assert rows[1] == rows[2]
    assert s.pending_count() == 2
    assert [r.leaf for r in s.list_records_by_lot(lot.lot_key)] == [x.leaf, y.leaf]


def test_batch_is_one_transaction(world: World) -> None:
    s = world.store
    lot = world.lot("A")
    good = world.record(lot, 0)
    bad = dataclasses.replace(world.record(lot, 1), lot_id=9999)  # foreign key violation
    with pytest.raises(StoreError):
        s.add_records([good, bad])
    assert s.get_record(good.leaf) is None
    assert s.pending_count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("leaf", b"\x00" * 31),
        ("digest", b"\x00" * 33),
        ("salt", b""),
        ("signature", b"\x00" * 64),
        ("event_json", "{}"),
        ("received_at", datetime(2025, 1, 1)),  # naive
    ],
)
def test_record_shapes_are_checked(world: World, field: str, value: object) -> None:
    rec = dataclasses.replace(world.record(world.lot("A")), **{field: value})
    with pytest.raises(InvalidInputError):
        world.store.add_records([rec])


def test_list_by_lot_pending_count_and_oldest(world: World) -> None:
    s = world.store
    a, b = world.lot("A"), world.lot("B")
    assert s.pending_count() == 0 and s.oldest_pending_received_at() is None
    t0 = datetime(2025, 5, 1, 6, 0, tzinfo=UTC)
    first = dataclasses.replace(world.record(a, 0), received_at=t0)
    rows = s.add_records([first, world.record(b, 1), world.record(a, 2), world.record(a, 3)])
    assert rows[0].received_at == t0
    assert s.pending_count() == 4
    assert s.oldest_pending_received_at() == t0
    by_a = s.list_records_by_lot(a.lot_key)
    assert [r.id for r in by_a] == [rows[0].id, rows[2].id, rows[3].id]
    assert s.list_records_by_lot(a.lot_key, after_id=rows[0].id, limit=1) == [rows[2]]
    assert s.list_records_by_lot(bytes(32)) == []
