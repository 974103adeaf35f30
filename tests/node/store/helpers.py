"""Builders shared by the store tests (records with real leaves, producers, lots)."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from vntrace.node.merkle import pair_leaf_hash
from vntrace.node.store import LotRow, NewRecord, ProducerRow, Store


def lot_key_of(gtin: str, lot: str) -> bytes:
    # The real key is keccak256 of the Digital Link path; any 32 bytes do for the store.
    return hashlib.sha3_256(f"/01/{gtin}/10/{lot}".encode()).digest()


@dataclass
class World:
    """A store with one producer and helpers to make lots and records."""

    store: Store
    producer: ProducerRow
    rng: random.Random

    def lot(self, name: str, producer: ProducerRow | None = None) -> LotRow:
        p = producer or self.producer
        row, _ = self.store.create_or_get_lot(
            lot_key_of("08930000000017", name), "08930000000017", name, p.id
        )
        return row

    def record(self, lot: LotRow, n: int = 0) -> NewRecord:
        salt = self.rng.randbytes(32)
        event = json.dumps({"type": "harvest", "n": n, "r": self.rng.random()}, sort_keys=True)
        digest = hashlib.sha3_256(salt + event.encode()).digest()
        return NewRecord(
            leaf=pair_leaf_hash(lot.lot_key, digest),
            lot_id=lot.id,
            producer_id=self.producer.id,
            digest=digest,
            salt=salt,
            event_json=event.encode(),
            signature=self.rng.randbytes(65),
        )


def make_world(store: Store, seed: int = 7) -> World:
    rng = random.Random(seed)
    producer = store.add_producer(rng.randbytes(20), "Cau Dat Coffee Cooperative")
    return World(store, producer, rng)


def assert_consistent(store: Store) -> None:
    """No cross-table invariant is broken (see ``Store.check_integrity``)."""
    problems = store.check_integrity()
    assert problems == [], problems
