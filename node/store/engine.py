"""Engines and transactions: SQLite pragmas, explicit BEGIN, retries, error mapping.

SQLite: Python's ``sqlite3`` (before 3.12's ``autocommit``) only opens a transaction
before DML, so SELECTs would run outside it and DDL would autocommit. The store turns
that off (``isolation_level = None``) and emits BEGIN itself from SQLAlchemy's
``begin`` event: ``BEGIN IMMEDIATE`` for write transactions (the write lock is taken
up front, so a transaction never fails halfway when upgrading from read to write) and
a plain ``BEGIN`` for reads (a consistent WAL snapshot that never blocks writers).

PostgreSQL (psycopg 3): write transactions run at the default READ COMMITTED (each
statement sees what committed before it; intake is insert-on-conflict, sealing takes a
transaction advisory lock), read transactions at REPEATABLE READ READ ONLY, so a
method that reads several tables sees one snapshot, as a SQLite read does. Both are
set on the driver connection (psycopg sends them with its BEGIN: no extra round trip).
Connections get a connect timeout, TCP keepalives and ``application_name=vntrace``
unless the URL says otherwise, and the pool pings a connection before lending it.
Serialization failures, deadlocks, lock timeouts, dropped connections and a server
that is starting or shutting down are retried as a whole transaction.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.sql.dml import Insert

from .errors import (
    ConflictError,
    InvalidInputError,
    StoreError,
    StoreUnavailableError,
)

__all__ = [
    "SUPPORTED_BACKENDS",
    "RetryPolicy",
    "create_store_engine",
    "insert_ignore",
    "run_transaction",
    "upsert",
]

T = TypeVar("T")

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_WRITE = "vntrace_write"
# PostgreSQL SQLSTATEs worth retrying as a whole transaction: serialization failure,
# deadlock, lock not available, too many connections, admin/crash shutdown, cannot
# connect now (starting up), and the whole class 08 (connection exceptions).
_PG_TRANSIENT = {"40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03"}
_PG_TRANSIENT_CLASSES = ("08",)
# libpq connection failures carry no SQLSTATE; these say the settings are wrong.
_PG_CONFIG_ERRORS = ("authentication failed", "does not exist", "no pg_hba.conf entry")
# Connection defaults for PostgreSQL; a value given in the URL's query wins.
_PG_CONNECT_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 10,
    "application_name": "vntrace",
    # Notice a dead peer in ~25 s instead of the kernel's 2 hours (half-open sockets).
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries of a whole transaction when the database is busy or unreachable.

    SQLite already waits ``busy_timeout`` inside each attempt, so few attempts suffice.
    """

    attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, attempt: int) -> float:
        cap = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return cap / 2 + random.uniform(0, cap / 2)


def create_store_engine(url: str | URL, *, busy_timeout_ms: int = 5000) -> Engine:
    """An engine for a file SQLite database (WAL, FULL sync) or a PostgreSQL URL."""
    try:
        u = make_url(url)
    except exc.ArgumentError as e:
        raise InvalidInputError(f"not a database URL: {e}") from e
    backend = u.get_backend_name()
    if backend == "sqlite":
        if not u.database or u.database == ":memory:" or u.query.get("mode") == "memory":
            raise InvalidInputError("the store needs a file database (acknowledged = on disk)")
        if not Path(u.database).parent.is_dir():
            raise InvalidInputError(f"no folder for the database file {u.database}")
        engine = create_engine(u)
        event.listen(engine, "connect", _sqlite_on_connect(busy_timeout_ms))
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        if u.drivername == "postgresql":  # a plain libpq-style URL: use psycopg 3
            u = u.set(drivername="postgresql+psycopg")
        if u.get_driver_name() != "psycopg":
            raise InvalidInputError(
                f"PostgreSQL is supported through psycopg 3: use postgresql+psycopg://, "
                f"not {u.drivername}://"
            )
        defaults = {k: v for k, v in _PG_CONNECT_DEFAULTS.items() if k not in u.query}
        try:
            return create_engine(
                u, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=defaults
            )
        except ModuleNotFoundError as e:
            raise InvalidInputError(f"PostgreSQL needs a driver (psycopg): {e}") from e
    raise InvalidInputError(f"unsupported database {backend!r}; use sqlite or postgresql")


def _sqlite_on_connect(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, see module docstring
        cur = dbapi_conn.cursor()
        try:
            # busy_timeout first, so switching to WAL waits for a concurrent opener.
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"SQLite refused WAL mode (got {mode!r})")
            # FULL: every commit fsyncs the WAL, so an acknowledged record survives a power
            # loss, not only a process crash (NORMAL may lose the last commits on power loss).
            cur.execute("PRAGMA synchronous = FULL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    return on_connect


def _sqlite_on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def run_transaction(
    engine: Engine,
    fn: Callable[[Connection], T],
    *,
    write: bool,
    retry: RetryPolicy,
    what: str,
) -> T:
    """Run ``fn`` in one transaction, committed when it returns, rolled back if it raises.

    A busy or unreachable database is retried as a whole transaction; what remains is
    mapped onto :class:`StoreError` so driver exceptions never reach callers.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            with engine.connect() as conn:
                if write:
                    conn.execution_options(**{_WRITE: True})
                elif conn.dialect.name == "postgresql":
                    # One snapshot for the whole read, as SQLite's BEGIN gives; reset
                    # when the connection goes back to the pool.
                    conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                with conn.begin():
                    return fn(conn)
        except StoreError:
            raise
        except exc.IntegrityError as e:
            raise ConflictError(f"{what}: {_brief(e)}") from e
        except exc.DBAPIError as e:
            if not _is_transient(e):
                raise StoreError(f"{what}: {_brief(e)}") from e
            if attempt >= retry.attempts:
                raise StoreUnavailableError(
                    f"{what}: database busy or unreachable after {attempt} attempts: {_brief(e)}"
                ) from e
            retry.sleep(retry.delay(attempt))
        except exc.SQLAlchemyError as e:
            raise StoreError(f"{what}: {e}") from e


def _is_transient(e: exc.DBAPIError) -> bool:
    if e.connection_invalidated:
        return True
    orig = e.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _PG_TRANSIENT or (code and code.startswith(_PG_TRANSIENT_CLASSES)):
        return True
    if isinstance(e, exc.OperationalError):
        msg = str(orig).lower()
        if any(s in msg for s in _PG_CONFIG_ERRORS):
            return False  # a wrong password or database name will not heal by retrying
        return any(
            s in msg for s in ("locked", "busy", "could not connect", "connection", "timeout")
        )
    return False


def _brief(e: exc.DBAPIError) -> str:
    return str(e.orig).splitlines()[0] if e.orig is not None else str(e)


def _dialect_insert(conn: Connection, table: Table) -> Any:
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"no insert-on-conflict for dialect {name!r}")


def insert_ignore(conn: Connection, table: Table, index_elements: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT (index_elements) DO NOTHING`` for the connection's dialect."""
    stmt = _dialect_insert(conn, table)
    return stmt.on_conflict_do_nothing(index_elements=list(index_elements))


def upsert(
    conn: Connection, table: Table, index_elements: Sequence[str], values: dict[str, Any]
) -> Insert:
    """``INSERT ... ON CONFLICT (index_elements) DO UPDATE`` setting the other columns."""
    stmt = _dialect_insert(conn, table).values(**values)
    updates = {k: stmt.excluded[k] for k in values if k not in index_elements}
    return stmt.on_conflict_do_update(index_elements=list(index_elements), set_=updates)
