"""Idempotency keys and the key-value node state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vntrace.node.store import InvalidInputError, Store

from .helpers import World

H1, H2 = b"\x01" * 32, b"\x02" * 32


def test_idempotency_first_write_wins(world: World) -> None:
    s, pid = world.store, world.producer.id
    assert s.get_idempotency(pid, "req-1") is None
    row = s.put_idempotency(pid, "req-1", H1, '{"leaf": "0x01"}', 201)
    assert (row.request_hash, row.response, row.status_code) == (H1, '{"leaf": "0x01"}', 201)
    assert s.get_idempotency(pid, "req-1") == row
    # A second put with the same key returns the first response; the caller compares hashes.
    again = s.put_idempotency(pid, "req-1", H2, "{}", 500)
    assert again == row
    other = s.add_producer(b"\x05" * 20, "other")
    assert s.put_idempotency(other.id, "req-1", H2, "{}", 200).request_hash == H2
    with pytest.raises(InvalidInputError):
        s.put_idempotency(pid, "", H1, "{}", 200)
    with pytest.raises(InvalidInputError):
        s.put_idempotency(pid, "k", b"short", "{}", 200)


def test_purge_idempotency(store_url: str) -> None:
    now = [datetime(2025, 1, 1, tzinfo=UTC)]
    with Store.open(store_url, clock=lambda: now[0]) as s:
        p = s.add_producer(b"\x06" * 20, "p")
        s.put_idempotency(p.id, "old", H1, "{}", 200)
        now[0] += timedelta(days=2)
        s.put_idempotency(p.id, "new", H1, "{}", 200)
        assert s.purge_idempotency(now[0] - timedelta(days=1)) == 1
        assert s.get_idempotency(p.id, "old") is None
        assert s.get_idempotency(p.id, "new") is not None


def test_state_kv(store: Store) -> None:
    assert store.get_state("anchored_roots.last_block") is None
    store.set_state("anchored_roots.last_block", "100")
    store.set_state("anchored_roots.last_block", "117")
    store.set_state("other", "x")
    assert store.get_state("anchored_roots.last_block") == "117"
    assert store.get_state("other") == "x"
