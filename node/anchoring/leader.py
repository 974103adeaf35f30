"""Exactly one active anchorer among node processes that share one database.

Every gateway process takes intake and serves verification; only one of them may run
the anchoring pipeline, because the operator account's nonces and the contract's
sequential epochs make two concurrent anchorers waste transactions at best. No
home-made clustering: the database that already holds the state arbitrates.

- **PostgreSQL**: a *session-level* advisory lock (``pg_try_advisory_lock``) held on a
  dedicated connection, outside the store's pool. Whoever holds it anchors; the others
  retry every few seconds. If the holder dies (kill -9, crash, host gone), the server
  closes its session and the lock is free at once, so another process takes over on
  its next attempt. The holder re-checks before every pipeline step that the lock is
  still granted to its session (``pg_locks``); a lost connection means it stops
  anchoring immediately and goes back to trying. TCP keepalives and
  ``tcp_user_timeout`` bound how long a half-open connection can go unnoticed.
- **SQLite** (one machine): an exclusive ``flock`` on ``<database>.anchorer.lock``
  next to the database file, released by the kernel when the process dies, so two
  ``vntrace serve`` on one data folder still anchor one at a time.

The lock keeps the anchorer single; correctness does not rest on it alone. A stale
holder that has not yet noticed its loss can at most finish its current step, and the
store (sealers serialised, epoch rows locked before they are anchored) and the chain
(one nonce, sequential epochs per operator) make that step idempotent: the new leader
resumes the same stored transaction or adopts the anchor from the chain.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from vntrace.node.store import Store

log = logging.getLogger("vntrace.anchoring")

__all__ = [
    "ANCHORER_LOCK_KEY",
    "FileLeaderLock",
    "Leadership",
    "PostgresLeaderLock",
    "leadership_for",
]

#: The advisory lock key of the anchorer ("vntranch"); advisory locks are per database,
#: so one key serves every node database on a shared server.
ANCHORER_LOCK_KEY = 0x766E_7472_616E_6368

# For the lock's own connection: notice a dead peer in seconds, not hours, and never
# let a check hang on a silent network (tcp_user_timeout bounds unacknowledged sends).
_LOCK_CONNECT_ARGS = {
    "connect_timeout": 5,
    "application_name": "vntrace-anchorer",
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


class Leadership(Protocol):
    """A lock that says whether this process is the active anchorer."""

    @property
    def held(self) -> bool:
        """Whether this process believed it held the lock at the last call."""
        ...

    def try_acquire(self) -> bool:
        """Take the lock if free, without waiting; True if this process now holds it.

        Raises only for trouble reaching the lock (the caller backs off and retries).
        """
        ...

    def still_held(self) -> bool:
        """Re-check a held lock; False (and the lock dropped) if it was lost."""
        ...

    def release(self) -> None:
        """Give the lock up (idempotent); another process may take it at once."""
        ...

    def describe(self) -> str:
        """Where the lock lives, for logs and health output."""
        ...


class PostgresLeaderLock:
    """A session advisory lock on a dedicated PostgreSQL connection."""

    def __init__(self, url: str | URL, key: int = ANCHORER_LOCK_KEY) -> None:
        self.key = key
        u = make_url(url)
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        args = {k: v for k, v in _LOCK_CONNECT_ARGS.items() if k not in u.query}
        # NullPool: the connection is ours alone and truly closed when dropped, so a
        # released or lost lock never lingers in a pool.
        self._engine: Engine = create_engine(
            u, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=args
        )
        self._conn: Connection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def describe(self) -> str:
        db = self._engine.url.database
        return f"PostgreSQL advisory lock {self.key:#x} on database {db!r}"

    def try_acquire(self) -> bool:
        if self._held:
            return self.still_held()
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            got = self._conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
            ).scalar_one()
        except exc.SQLAlchemyError:
            self._drop_connection()
            raise
        self._held = bool(got)
        return self._held

    def still_held(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            # The lock as the server sees it: granted to *this* session. A bigint key
            # shows as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
            granted = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid::bigint = :hi "
                    "AND objid::bigint = :lo AND objsubid = 1"
                ),
                {"hi": self.key >> 32, "lo": self.key & 0xFFFF_FFFF},
            ).scalar_one()
        except exc.SQLAlchemyError as e:
            log.warning("anchorer lock connection failed (%s): leadership lost", _brief(e))
            self._drop_connection()
            return False
        if granted != 1:
            log.warning("anchorer lock is no longer held by this session: leadership lost")
            self._drop_connection()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None and self._held:
            with contextlib.suppress(exc.SQLAlchemyError):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._drop_connection()
        self._engine.dispose()

    def _drop_connection(self) -> None:
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(exc.SQLAlchemyError):
                conn.invalidate()  # closes the socket; the server frees the lock
            with contextlib.suppress(exc.SQLAlchemyError):
                conn.close()


class FileLeaderLock:
    """An exclusive ``flock`` on a file beside the SQLite database (one machine)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def describe(self) -> str:
        return f"file lock {self.path}"

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return self.still_held()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        # For operators: who holds it (the lock itself is the flock, not this text).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {time.time():.3f}\n".encode(), 0)
        self._fd = fd
        return True

    def still_held(self) -> bool:
        if self._fd is None:
            return False
        try:
            same = os.fstat(self._fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            same = False
        if not same:  # the file was deleted or replaced: another process could lock anew
            log.warning("anchorer lock file %s was removed: leadership lost", self.path)
            self.release()
            return False
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def leadership_for(store: Store) -> Leadership:
    """The anchorer lock that fits the store's database (see the module docstring)."""
    url = store.engine.url
    if store.dialect == "postgresql":
        return PostgresLeaderLock(url)
    if store.dialect == "sqlite" and url.database:
        db = Path(url.database)
        return FileLeaderLock(db.with_name(db.name + ".anchorer.lock"))
    raise ValueError(f"no anchorer lock for a {store.dialect} store")


def _brief(e: exc.SQLAlchemyError) -> str:
    orig = getattr(e, "orig", None)
    return str(orig if orig is not None else e).splitlines()[0]
