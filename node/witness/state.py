"""The witness's durable state: SQLite in its data folder, committed before answering.

``synchronous=FULL`` with WAL makes a commit survive a power cut or ``kill -9``; the
check of the old size and the update run in one ``BEGIN IMMEDIATE`` transaction, so
two concurrent requests (even from two processes on one folder) cannot roll the
witness back (tlog-witness, add-checkpoint: the race it describes).

Tables: ``cosigned`` (every checkpoint ever cosigned, per origin and size: a same-size
conflict with any of them is conclusive evidence), ``latest`` (per origin) and
``evidence`` (validly signed checkpoints that were refused, with what they conflict
with).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import WitnessError

T = TypeVar("T")
DB_FILE = "witness.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT NOT NULL, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL, PRIMARY KEY (origin, size));
CREATE TABLE IF NOT EXISTS latest (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, kind TEXT NOT NULL,
    reason TEXT NOT NULL, log_key TEXT NOT NULL, submitted TEXT NOT NULL, conflicting TEXT NOT NULL,
    observed_at INTEGER NOT NULL, UNIQUE (origin, kind, submitted));
"""


@dataclass(frozen=True, slots=True)
class Latest:
    size: int
    root: bytes
    note: str


@dataclass(frozen=True, slots=True)
class Evidence:
    id: int
    origin: str
    kind: str
    reason: str
    log_key: str
    submitted: str
    conflicting: str
    observed_at: int


class WitnessState:
    """Open (and create) ``<data_dir>/witness.sqlite3``."""

    def __init__(self, data_dir: Path) -> None:
        try:
            self._conn = sqlite3.connect(
                Path(data_dir) / DB_FILE, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise WitnessError(f"cannot open the witness state in {data_dir}: {e}") from e
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One serialised write transaction (thread lock + ``BEGIN IMMEDIATE``)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return fn(self._conn)

    @staticmethod
    def latest(conn: sqlite3.Connection, origin: str) -> Latest | None:
        r = conn.execute(
            "SELECT size, root, note FROM latest WHERE origin = ?", (origin,)
        ).fetchone()
        return Latest(int(r[0]), bytes(r[1]), r[2]) if r else None

    @staticmethod
    def cosigned_at_size(conn: sqlite3.Connection, origin: str, size: int) -> Latest | None:
        r = conn.execute(
            "SELECT size, root, note FROM cosigned WHERE origin = ? AND size = ?", (origin, size)
        ).fetchone()
        return Latest(int(r[0]), bytes(r[1]), r[2]) if r else None

    @staticmethod
    def record_cosigned(
        conn: sqlite3.Connection, origin: str, size: int, root: bytes, note: str
    ) -> None:
        now = int(time.time())
        conn.execute(
            "INSERT OR REPLACE INTO cosigned (origin, size, root, note, cosigned_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (origin, size, root, note, now),
        )
        conn.execute(
            "INSERT OR REPLACE INTO latest (origin, size, root, note) VALUES (?, ?, ?, ?)",
            (origin, size, root, note),
        )

    @staticmethod
    def record_evidence(
        conn: sqlite3.Connection,
        origin: str,
        kind: str,
        reason: str,
        log_key: str,
        submitted: str,
        conflicting: str,
    ) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO evidence"
            " (origin, kind, reason, log_key, submitted, conflicting, observed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (origin, kind, reason, log_key, submitted, conflicting, int(time.time())),
        )

    def latest_of(self, origin: str) -> Latest | None:
        return self.read(lambda c: self.latest(c, origin))

    def all_latest(self) -> dict[str, Latest]:
        rows = self.read(
            lambda c: c.execute("SELECT origin, size, root, note FROM latest").fetchall()
        )
        return {o: Latest(int(s), bytes(r), n) for o, s, r, n in rows}

    def evidence(self) -> list[Evidence]:
        rows = self.read(
            lambda c: c.execute(
                "SELECT id, origin, kind, reason, log_key, submitted, conflicting, observed_at"
                " FROM evidence ORDER BY id"
            ).fetchall()
        )
        return [Evidence(*r) for r in rows]
