"""Migration 5's tables on SQLite and PostgreSQL: named queries, subscriptions with a
compare-and-set cursor, and the delivery outbox with leases."""

from __future__ import annotations

from vntrace.node.epcis.subscription_store import SubscriptionStore
from vntrace.node.store import Store

from .helpers import World


def _subscription(world: World, sid: str, query: str) -> dict:
    return {
        "subscription_id": sid,
        "query_name": query,
        "producer_id": world.producer.id,
        "dest": "https://hooks.example.com/cb",
        "sealed_token": b"sealed",
        "stream": True,
        "schedule": None,
        "report_if_empty": False,
        "initial_record_time": 0,
        "after_record_id": 0,
        "next_run_at": None,
        "created_at": 1,
    }


def test_named_queries_are_unique_and_delete_cascades(store: Store, world: World) -> None:
    subs = SubscriptionStore(store.engine)
    assert subs.add_query("q1", {"EQ_bizStep": ["shipping"]}, world.producer.id, 10)
    assert not subs.add_query("q1", {}, world.producer.id, 11)
    assert subs.add_query("q2", {}, world.producer.id, 12)
    assert [q.name for q in subs.list_queries("", 10)] == ["q1", "q2"]
    assert [q.name for q in subs.list_queries("q1", 10)] == ["q2"]
    assert subs.get_query("q1").definition == {"EQ_bizStep": ["shipping"]}
    subs.add_subscription(_subscription(world, "s1", "q1"))
    sub = subs.get_subscription("s1")
    assert subs.record_run(sub, after_record_id=5, next_run_at=None, bodies=[(b"{}", 0)], now=20)
    assert subs.delete_query("q1")
    assert subs.get_subscription("s1") is None and subs.deliveries("s1") == []
    assert not subs.delete_query("q1")


def test_a_run_moves_the_cursor_only_from_what_it_read(store: Store, world: World) -> None:
    subs = SubscriptionStore(store.engine)
    subs.add_query("q", {}, world.producer.id, 1)
    subs.add_subscription(_subscription(world, "s", "q"))
    stale = subs.get_subscription("s")
    assert subs.record_run(stale, after_record_id=7, next_run_at=None, bodies=[(b"a", 1)], now=5)
    # A second worker that read the same row queues nothing.
    assert not subs.record_run(
        stale, after_record_id=9, next_run_at=None, bodies=[(b"b", 1)], now=5
    )
    assert subs.get_subscription("s").after_record_id == 7
    assert [d.body for d in subs.deliveries("s")] == [b"a"]


def test_deliveries_are_leased_in_order_per_subscription(store: Store, world: World) -> None:
    subs = SubscriptionStore(store.engine)
    subs.add_query("q", {}, world.producer.id, 1)
    subs.add_subscription(_subscription(world, "s", "q"))
    sub = subs.get_subscription("s")
    subs.record_run(
        sub, after_record_id=1, next_run_at=None, bodies=[(b"1", 1), (b"2", 1)], now=100
    )
    first = subs.claim_deliveries(100, lease_ms=1000, limit=10)
    assert [d.body for d in first] == [b"1"]  # the head only: order is kept
    assert subs.claim_deliveries(100, lease_ms=1000, limit=10) == []  # leased
    subs.failed(first[0], error="HTTP 500", next_attempt_at=150, final=False)
    assert subs.claim_deliveries(120, lease_ms=1000, limit=10) == []  # not yet due
    again = subs.claim_deliveries(150, lease_ms=1000, limit=10)
    assert [(d.body, d.attempts) for d in again] == [(b"1", 1)]
    subs.delivered(again[0], 160)
    assert subs.get_subscription("s").last_notified_at == 160
    assert [d.body for d in subs.claim_deliveries(160, lease_ms=1000, limit=10)] == [b"2"]
    states = [(d.state, d.attempts, d.last_error) for d in subs.deliveries("s")]
    assert states == [("delivered", 2, "HTTP 500"), ("pending", 0, None)]
    assert subs.delete_subscription("s") and subs.deliveries("s") == []


def test_last_record_before(store: Store, world: World) -> None:
    subs = SubscriptionStore(store.engine)
    assert subs.last_record_before(10**15) == 0
    lot = world.lot("L-1")
    rows = store.add_records([world.record(lot, 0), world.record(lot, 1)])
    last = max(r.id for r in rows)
    assert subs.last_record_before(10**15) == last
    assert subs.last_record_before(0) == 0
    assert subs.record_ids([rows[0].leaf]) == {rows[0].leaf: rows[0].id}
