"""The anchorer lock: one holder, fail-over when the holder's session dies, and a loop
that steps the pipeline only while it holds the lock (re-checked before every step)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from vntrace.node.anchoring import AnchoringLoop
from vntrace.node.anchoring.leader import (
    ANCHORER_LOCK_KEY,
    FileLeaderLock,
    PostgresLeaderLock,
    leadership_for,
)
from vntrace.node.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _terminate_holder_session(url: str) -> int:
    """End the session holding the anchorer lock, as a network cut or an idle-session
    kill would; the process behind it lives on."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND granted "
                        "AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1 "
                        "AND database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database())"
                    ),
                    {"hi": ANCHORER_LOCK_KEY >> 32, "lo": ANCHORER_LOCK_KEY & 0xFFFF_FFFF},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_one_holder_at_a_time_and_release_hands_over(pg_database: str) -> None:
    a, b = PostgresLeaderLock(pg_database), PostgresLeaderLock(pg_database)
    try:
        assert a.try_acquire() and a.held
        assert not b.try_acquire() and not b.held
        assert a.try_acquire() and a.still_held()  # re-entrant for its holder
        assert not b.try_acquire()
        a.release()
        assert not a.held and not a.still_held()
        assert b.try_acquire() and b.still_held()
        assert not a.try_acquire()
    finally:
        a.release()
        b.release()


def test_a_dead_session_loses_the_lock_and_another_takes_it(pg_database: str) -> None:
    a, b = PostgresLeaderLock(pg_database), PostgresLeaderLock(pg_database)
    try:
        assert a.try_acquire()
        assert _terminate_holder_session(pg_database) == 1
        assert b.try_acquire()  # the server freed it with the session
        assert not a.still_held() and not a.held  # the old holder notices at its check
        assert not a.try_acquire()  # and reconnects as a follower
    finally:
        a.release()
        b.release()


def test_kill_9_of_the_holder_process_frees_the_lock(pg_database: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from vntrace.node.anchoring.leader import PostgresLeaderLock\n"
            "lock = PostgresLeaderLock(sys.argv[1])\n"
            "print(lock.try_acquire(), flush=True)\n"
            "time.sleep(600)\n",
            pg_database,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    other = PostgresLeaderLock(pg_database)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        assert not other.try_acquire()
        holder.kill()
        holder.wait(10)
        killed_at = time.monotonic()
        while not other.try_acquire():
            assert time.monotonic() - killed_at < 5, "the lock outlived its holder"
            time.sleep(0.02)
        print(f"lock free {1000 * (time.monotonic() - killed_at):.0f} ms after kill -9")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        other.release()


def test_the_lock_key_is_a_positive_bigint() -> None:
    assert 0 < ANCHORER_LOCK_KEY < 2**63


def test_file_lock_on_one_machine(tmp_path: Path) -> None:
    path = tmp_path / "vntrace.db.anchorer.lock"
    a, b = FileLeaderLock(path), FileLeaderLock(path)
    try:
        assert a.try_acquire() and a.still_held()
        assert not b.try_acquire()
        a.release()
        assert b.try_acquire()
        path.unlink()  # someone removed the file: a third process could lock a new one
        assert not b.still_held() and not b.held
    finally:
        a.release()
        b.release()


def test_leadership_follows_the_store_backend(tmp_path: Path) -> None:
    with Store.for_data_dir(tmp_path) as s:
        lock = leadership_for(s)
        assert isinstance(lock, FileLeaderLock)
        assert lock.path == tmp_path.resolve() / "vntrace.db.anchorer.lock"


def test_leadership_on_postgresql_is_the_advisory_lock(pg_database: str) -> None:
    with Store.open(pg_database) as s:
        lock = leadership_for(s)
        assert isinstance(lock, PostgresLeaderLock)
        lock.release()


class _CountingPipeline:
    """Stands in for AnchoringPipeline: counts steps."""

    def __init__(self) -> None:
        self.steps = 0

    def step(self) -> list[object]:
        self.steps += 1
        return []


def _wait(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_only_the_leaders_loop_steps_and_a_lost_lock_stops_it(pg_database: str) -> None:
    pa, pb = _CountingPipeline(), _CountingPipeline()
    la, lb = PostgresLeaderLock(pg_database), PostgresLeaderLock(pg_database)
    a = AnchoringLoop(pa, tick=0.01, leadership=la, leader_retry=0.05)  # type: ignore[arg-type]
    b = AnchoringLoop(pb, tick=0.01, leadership=lb, leader_retry=0.05)  # type: ignore[arg-type]
    a.start()
    try:
        _wait(lambda: a.status.is_leader and pa.steps > 3)
        b.start()
        time.sleep(0.3)
        assert not b.status.is_leader and pb.steps == 0
        assert b.status.last_success_at is None  # it anchored nothing (readiness sees that)
        assert b.status.consecutive_failures == 0 and b.status.last_error is None
        assert b.status.leadership is not None and "advisory lock" in b.status.leadership

        a.leader_retry = 5.0  # once it has lost the lock, let b win the next round
        assert _terminate_holder_session(pg_database) == 1  # a's session dies under it
        _wait(lambda: b.status.is_leader and pb.steps > 0)
        _wait(lambda: not a.status.is_leader)
        frozen = pa.steps
        time.sleep(0.3)
        assert pa.steps == frozen, "the old leader kept stepping without the lock"
        assert not a.status.is_leader
    finally:
        a.stop()
        b.stop()
    assert not la.held and not lb.held  # stopping releases the lock


def test_without_a_lock_the_loop_always_leads() -> None:
    p = _CountingPipeline()
    loop = AnchoringLoop(p, tick=0.01)  # type: ignore[arg-type]
    loop.start()
    try:
        _wait(lambda: p.steps > 2)
        assert loop.status.is_leader and loop.status.leadership is None
    finally:
        loop.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_loop_with_its_stores_lock_excludes_another(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The wiring TraceNode uses: the loop's lock comes from its store."""
    if backend == "postgresql":
        url = str(request.getfixturevalue("pg_database"))
    else:
        url = f"sqlite:///{tmp_path}/vntrace.db"
    with Store.open(url) as store:
        p = _CountingPipeline()
        loop = AnchoringLoop(p, tick=0.01, leadership=leadership_for(store))  # type: ignore[arg-type]
        other = leadership_for(store)
        loop.start()
        try:
            _wait(lambda: p.steps > 0)
            assert loop.status.is_leader and not other.try_acquire()
        finally:
            loop.stop()
            other.release()
        assert other.try_acquire()  # stopping the loop released it
        other.release()
