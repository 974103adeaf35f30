"""What only PostgreSQL has: isolation levels, dropped connections, real deadlocks, URLs."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from tests.support.anvil import free_port
from tests.support.postgres import PostgresServer
from vntrace.node.store import (
    InvalidInputError,
    RetryPolicy,
    Store,
    StoreError,
    StoreUnavailableError,
)
from vntrace.node.store.engine import create_store_engine, run_transaction


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_schema("pgonly")
    yield url
    postgres_server.drop_schema(url)


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    with Store.open(pg_url) as s:
        yield s


def test_reads_see_one_snapshot_and_writes_read_committed(pg_store: Store) -> None:
    def show(conn: Connection) -> tuple[str, str]:
        iso = conn.execute(text("SHOW transaction_isolation")).scalar_one()
        ro = conn.execute(text("SHOW transaction_read_only")).scalar_one()
        return iso, ro

    assert pg_store._read(show, "t") == ("repeatable read", "on")
    assert pg_store._write(show, "t") == ("read committed", "off")
    assert pg_store._read(show, "t") == ("repeatable read", "on")  # reset by the pool


def test_connections_are_named_and_keepalive(pg_store: Store) -> None:
    def settings(conn: Connection) -> tuple[str, int]:
        name = conn.execute(text("SHOW application_name")).scalar_one()
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return name, pid

    name, _pid = pg_store._read(settings, "t")
    assert name == "vntrace"


def test_url_options_win_over_the_defaults(pg_url: str) -> None:
    url = make_url(pg_url).update_query_dict({"application_name": "gateway-2"})
    with Store.open(url) as s:
        assert s._read(lambda c: c.execute(text("SHOW application_name")).scalar_one(), "t") == (
            "gateway-2"
        )


def test_a_plain_postgresql_url_uses_psycopg_and_other_drivers_are_refused(pg_url: str) -> None:
    plain = make_url(pg_url).set(drivername="postgresql")
    with Store.open(plain) as s:
        assert s.engine.dialect.driver == "psycopg"
        assert s.schema_version() >= 1
    with pytest.raises(InvalidInputError, match="psycopg"):
        Store.open(make_url(pg_url).set(drivername="postgresql+psycopg2"))


def test_killed_server_connections_are_replaced(pg_store: Store, pg_url: str) -> None:
    """A server restart or a failover kills every pooled connection: the next call
    still works (pre-ping at checkout, and a whole-transaction retry)."""
    pg_store.set_state("k", "1")
    admin = create_store_engine(pg_url)
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'vntrace' AND pid <> pg_backend_pid() "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        assert killed >= 1
    finally:
        admin.dispose()
    assert pg_store.get_state("k") == "1"
    pg_store.set_state("k", "2")
    assert pg_store.get_state("k") == "2"


def test_a_real_deadlock_is_retried_not_reported(pg_store: Store) -> None:
    pg_store.set_state("a", "0")
    pg_store.set_state("b", "0")
    both_locked_first = threading.Barrier(2, timeout=10)
    attempts = {"ab": 0, "ba": 0}
    retry = RetryPolicy(attempts=5, base_delay=0.01)

    def swap(order: str) -> str:
        def tx(conn: Connection) -> str:
            attempts[order] += 1
            first, second = order
            conn.execute(text("UPDATE kv SET value = value || '+' WHERE key = :k"), {"k": first})
            if attempts[order] == 1:
                both_locked_first.wait()  # each holds its first row: one will deadlock
            conn.execute(text("UPDATE kv SET value = value || '+' WHERE key = :k"), {"k": second})
            return order

        return run_transaction(pg_store.engine, tx, write=True, retry=retry, what="swap")

    results: dict[str, str] = {}
    threads = [
        threading.Thread(target=lambda o=o: results.__setitem__(o, swap(o))) for o in ("ab", "ba")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"ab": "ab", "ba": "ba"}
    assert attempts["ab"] + attempts["ba"] == 3  # exactly one was chosen as the victim
    assert pg_store.get_state("a") == pg_store.get_state("b") == "0++"


def test_bytes_and_times_round_trip(pg_store: Store) -> None:
    p = pg_store.add_producer(bytes(range(20)), "Coop")
    assert p.address == bytes(range(20)) and isinstance(p.address, bytes)
    assert p.created_at.tzinfo is not None and p.created_at.utcoffset().total_seconds() == 0


def test_wrong_settings_are_reported_not_retried(pg_url: str) -> None:
    """A missing database is a configuration error, not "busy or unreachable"."""
    calls: list[float] = []
    retry = RetryPolicy(attempts=3, sleep=calls.append)
    missing = make_url(pg_url).set(database="no_such_database")
    with pytest.raises(StoreError) as info:
        Store.open(missing, retry=retry)
    assert not isinstance(info.value, StoreUnavailableError)
    assert "does not exist" in str(info.value) and calls == []


def test_an_unreachable_server_is_retried_then_unavailable(pg_url: str) -> None:
    calls: list[float] = []
    retry = RetryPolicy(attempts=3, sleep=calls.append)
    closed = make_url(pg_url).set(port=free_port())
    with pytest.raises(StoreUnavailableError):
        Store.open(closed, retry=retry)
    assert len(calls) == 2  # three attempts, two waits
