"""``TableStore``: the transactions of the log's and EPCIS's tables are the store's own
(same retries, same error types and messages), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, exc, text

from vntrace.node.epcis.store import EpcisStore
from vntrace.node.epcis.subscription_store import SubscriptionStore
from vntrace.node.store import ConflictError, RetryPolicy, Store, StoreUnavailableError
from vntrace.node.store.base import TableStore
from vntrace.node.tlog.errors import TlogError
from vntrace.node.tlog.store import LogStore, StoredLeaf

from .helpers import make_world


class Counter(TableStore):
    """A table store of the ``kv`` table, to drive the runner directly."""

    def put(self, key: str, fail: int = 0) -> int:
        attempts = []

        def tx(conn: Connection) -> int:
            attempts.append(1)
            conn.execute(
                text("INSERT INTO kv (key, value, updated_at) VALUES (:k, 'v', 0)"), {"k": key}
            )
            if len(attempts) <= fail:
                raise exc.OperationalError("INSERT", {}, Exception("database is locked"))
            return len(attempts)

        return self._tx(tx, write=True, what="put counter")

    def has(self, key: str) -> bool:
        stmt = text("SELECT count(*) FROM kv WHERE key = :k")
        return self._tx(
            lambda c: bool(c.execute(stmt, {"k": key}).scalar_one()), write=False, what="has"
        )


def test_every_feature_store_is_a_table_store() -> None:
    for cls in (EpcisStore, SubscriptionStore, LogStore):
        assert issubclass(cls, TableStore)


def test_retries_with_the_given_policy_and_rolls_back_each_attempt(store: Store) -> None:
    slept: list[float] = []
    s = Counter(store.engine, RetryPolicy(attempts=3, base_delay=0.001, sleep=slept.append))
    assert s.put("a", fail=2) == 3  # two busy attempts, both rolled back, then committed
    assert len(slept) == 2 and s.has("a")
    with pytest.raises(StoreUnavailableError) as info:
        s.put("b", fail=5)
    assert str(info.value).startswith("put counter: database busy or unreachable after 3")
    assert not s.has("b")
    assert Counter(store.engine)._retry == RetryPolicy()  # the store's default policy


def test_errors_keep_their_types_and_messages(store: Store) -> None:
    world = make_world(store)
    epcis = EpcisStore(store.engine)
    epcis.create_capture("cap_1", world.producer.id, 1)
    with pytest.raises(ConflictError, match=r"^create capture: "):
        epcis.create_capture("cap_1", world.producer.id, 2)
    log = LogStore(store.engine)
    with pytest.raises(TlogError, match="cannot append at 3: the log has 0 leaves"):
        log.append(3, [StoredLeaf(3, 4, b"x", b"h")])  # the tree's own error, not mapped
    assert log.size() == 0
