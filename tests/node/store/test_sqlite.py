"""The embedded SQLite default: WAL and FULL sync, secrets at rest, locking.

The crash tests (SIGKILL at chosen points) run on every backend: ``test_crashes.py``.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from vntrace.node.store import (
    DB_FILENAME,
    InvalidInputError,
    RetryPolicy,
    Store,
    StoreUnavailableError,
)
from vntrace.node.store import keys as store_keys

from .helpers import make_world


def _db_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob(DB_FILENAME + "*")))


def test_wal_full_sync_and_foreign_keys(sqlite_store: Store, data_dir: Path) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    raw = sqlite3.connect(data_dir / DB_FILENAME)  # WAL is a property of the file
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    assert (data_dir / (DB_FILENAME + "-wal")).exists()


def test_for_data_dir_creates_the_folder_and_refuses_files(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    with Store.for_data_dir(nested) as s:
        assert s.dialect == "sqlite"
    assert (nested / DB_FILENAME).exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInputError):
        Store.for_data_dir(tmp_path / "file")


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "mysql://x/y", "not a url", "sqlite:////no/dir/x.db"]
)
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(InvalidInputError):
        Store.open(url)


def test_api_key_secrets_are_not_stored_in_clear(sqlite_store: Store, data_dir: Path) -> None:
    p = sqlite_store.add_producer(b"\x01" * 20, "p")
    issued = [sqlite_store.create_api_key("producer", p.id), sqlite_store.create_api_key("admin")]
    blob = _db_bytes(data_dir)
    for k in issued:
        _, secret = store_keys.parse_token(k.token)  # type: ignore[misc]
        assert secret.encode() not in blob
        assert k.token.encode() not in blob
        assert hashlib.sha256(secret.encode()).digest() in blob  # the scan does see the rows
        assert k.key.key_id.encode() in blob


def test_a_locked_database_is_unavailable_not_a_driver_error(data_dir: Path) -> None:
    Store.for_data_dir(data_dir).close()
    sleeps: list[float] = []
    retry = RetryPolicy(attempts=3, base_delay=0.001, sleep=sleeps.append)
    holder = sqlite3.connect(data_dir / DB_FILENAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with Store.for_data_dir(data_dir, busy_timeout_ms=20, retry=retry) as s:
            with pytest.raises(StoreUnavailableError):
                s.add_producer(b"\x01" * 20, "p")
            assert len(sleeps) == 2
            assert s.list_producers() == []  # WAL: readers are not blocked by the writer
    finally:
        holder.rollback()
        holder.close()


def test_a_writer_waits_for_the_lock_instead_of_failing(
    sqlite_store: Store, data_dir: Path
) -> None:
    holder = sqlite3.connect(data_dir / DB_FILENAME, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.2, holder.rollback)
    started = time.monotonic()
    release.start()
    try:
        sqlite_store.add_producer(b"\x01" * 20, "p")  # waits within busy_timeout
        assert time.monotonic() - started >= 0.15
    finally:
        release.join()
        holder.close()
    assert len(sqlite_store.list_producers()) == 1


def test_concurrent_intake_from_threads(sqlite_store: Store) -> None:
    world = make_world(sqlite_store)
    lot = world.lot("A")
    batches = [[world.record(lot, i * 100 + j) for j in range(20)] for i in range(8)]
    errors: list[BaseException] = []

    def add(batch: list) -> None:
        try:
            sqlite_store.add_records(batch)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sqlite_store.pending_count() == 160


def test_integrity_check_reports_broken_invariants(sqlite_store: Store) -> None:
    world = make_world(sqlite_store)
    lot = world.lot("A")
    sqlite_store.add_records([world.record(lot, i) for i in range(3)])
    sqlite_store.seal_epoch(10)
    with sqlite_store.engine.connect() as conn:
        conn.execute(text("UPDATE records SET status = 'anchored' WHERE id = 1"))
        conn.commit()
    assert sqlite_store.check_integrity() == ["epoch 1 is sealed but 1 records anchored"]
