"""Migration 6 on SQLite and PostgreSQL: custodial keys (one active per producer,
unique addresses, revocation) and the custodian a record was signed by."""

from __future__ import annotations

import dataclasses

import pytest

from vntrace.node.store import ConflictError, InvalidInputError, NotFoundError, Store, StoreError

from .helpers import World


def test_one_active_key_per_producer_and_revocation(store: Store, world: World) -> None:
    pid = world.producer.id
    address = world.rng.randbytes(20)
    row, created = store.add_custodial_key(pid, address, b"sealed-1", "k1")
    assert created and row.address == address and row.revoked_at is None
    again, created = store.add_custodial_key(pid, world.rng.randbytes(20), b"sealed-2", "k1")
    assert not created and again == row
    assert store.active_custodial_key(pid) == row
    revoked = store.revoke_custodial_key(address)
    assert revoked.revoked_at is not None
    assert store.revoke_custodial_key(address).revoked_at == revoked.revoked_at  # idempotent
    assert store.active_custodial_key(pid) is None
    newer, created = store.add_custodial_key(pid, world.rng.randbytes(20), b"sealed-3", "k2")
    assert created and store.active_custodial_key(pid) == newer
    assert [k.address for k in store.list_custodial_keys(pid)] == [address, newer.address]
    found = store.custodial_keys_by_address([address, newer.address, b"\0" * 20])
    assert set(found) == {address, newer.address} and found[address].producer_id == pid


def test_addresses_are_unique_and_checked(store: Store, world: World) -> None:
    other = store.add_producer(world.rng.randbytes(20), "Other")
    address = world.rng.randbytes(20)
    store.add_custodial_key(world.producer.id, address, b"s", "k1")
    with pytest.raises((ConflictError, StoreError)):
        store.add_custodial_key(other.id, address, b"s", "k1")
    with pytest.raises(InvalidInputError):
        store.add_custodial_key(other.id, b"short", b"s", "k1")
    with pytest.raises(InvalidInputError):
        store.add_custodial_key(other.id, world.rng.randbytes(20), b"s", "")
    with pytest.raises(NotFoundError):
        store.add_custodial_key(10_000, world.rng.randbytes(20), b"s", "k1")
    with pytest.raises(NotFoundError):
        store.revoke_custodial_key(world.rng.randbytes(20))


def test_records_keep_their_custodian(store: Store, world: World) -> None:
    lot = world.lot("L-CUST")
    custodian = world.rng.randbytes(20)
    own = world.record(lot, 0)
    theirs = dataclasses.replace(world.record(lot, 1), custodian=custodian)
    rows = store.add_records([own, theirs])
    assert [r.custodian for r in rows] == [None, custodian]
    assert store.get_record(theirs.leaf).custodian == custodian
    listed = store.list_records_by_lot(lot.lot_key)
    assert [r.custodian for r in listed] == [None, custodian]
    with pytest.raises(InvalidInputError):
        store.add_records([dataclasses.replace(world.record(lot, 2), custodian=b"\1")])


def test_intake_signatures_name_who_signed(store: Store, world: World) -> None:
    """Verification's narrow read: digest, signature and signer (custodian, else the
    producer), for stored leaves only."""
    lot = world.lot("L-SIG")
    custodian = world.rng.randbytes(20)
    own = world.record(lot, 0)
    theirs = dataclasses.replace(world.record(lot, 1), custodian=custodian)
    store.add_records([own, theirs])
    producer = store.get_producer(own.producer_id)
    assert producer is not None
    facts = store.intake_signatures([own.leaf, theirs.leaf, bytes(32), own.leaf])
    assert set(facts) == {own.leaf, theirs.leaf}
    assert facts[own.leaf] == (own.digest, own.signature, producer.address)
    assert facts[theirs.leaf] == (theirs.digest, theirs.signature, custodian)
    assert store.intake_signatures([]) == {}
