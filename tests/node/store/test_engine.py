"""Transactions and error mapping: no driver exception reaches a caller."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from vntrace.node.store import (
    ConflictError,
    InvalidInputError,
    RetryPolicy,
    Store,
    StoreError,
    StoreUnavailableError,
)
from vntrace.node.store.engine import run_transaction

NO_SLEEP = RetryPolicy(attempts=3, base_delay=0.001, sleep=lambda _d: None)


def test_sql_errors_become_store_errors(store: Store) -> None:
    def bad_sql(conn) -> None:
        conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(StoreError) as info:
        run_transaction(store.engine, bad_sql, write=False, retry=NO_SLEEP, what="t")
    assert not isinstance(info.value, StoreUnavailableError)  # not retried as transient
    assert isinstance(info.value.__cause__, exc.DBAPIError)


def test_constraint_violations_become_conflicts(store: Store) -> None:
    def dup(conn) -> None:
        stmt = text("INSERT INTO kv (key, value, updated_at) VALUES ('k', 'v', 0)")
        conn.execute(stmt)
        conn.execute(stmt)

    with pytest.raises(ConflictError):
        run_transaction(store.engine, dup, write=True, retry=NO_SLEEP, what="t")
    assert store.get_state("k") is None  # rolled back as a whole


def test_transient_errors_are_retried_then_reported(store: Store) -> None:
    calls = []

    def flaky(conn) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise exc.OperationalError("BEGIN", {}, Exception("database is locked"))
        return "ok"

    assert run_transaction(store.engine, flaky, write=True, retry=NO_SLEEP, what="t") == "ok"
    calls.clear()

    def always(conn) -> None:
        calls.append(1)
        raise exc.OperationalError("BEGIN", {}, Exception("database is locked"))

    with pytest.raises(StoreUnavailableError):
        run_transaction(store.engine, always, write=True, retry=NO_SLEEP, what="t")
    assert len(calls) == 3


def test_retry_delays_are_bounded() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.1, max_delay=0.5)
    for attempt in range(1, 10):
        cap = min(0.5, 0.1 * 2 ** (attempt - 1))
        assert cap / 2 <= policy.delay(attempt) <= cap


def test_postgresql_url_without_driver_or_server_is_a_store_error() -> None:
    # Without psycopg: InvalidInputError; with it but no server: StoreUnavailableError.
    with pytest.raises((InvalidInputError, StoreUnavailableError)):
        Store.open("postgresql+psycopg://vntrace:x@127.0.0.1:1/vntrace", retry=NO_SLEEP)
