"""Numbered schema migrations: a small runner over SQLAlchemy Core DDL.

Why not Alembic: the node migrates itself at start-up from an installed wheel, with
no ``alembic.ini`` or script folder to ship, and the schema is small; a dozen lines of
runner give ordered, transactional, recorded migrations without a new dependency.

Rules the runner enforces:

- ``schema_migrations`` records each applied version and when it was applied;
- each migration runs in its own transaction together with its bookkeeping row, so a
  crash leaves it either applied and recorded or not applied at all (SQLite and
  PostgreSQL both have transactional DDL; the store emits BEGIN itself on SQLite);
- re-running is a no-op; concurrent starters serialise (SQLite write lock, a
  PostgreSQL advisory lock) and the loser sees the version already applied;
- a database with versions this code does not know (newer, or a gap) is refused
  before anything is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    text,
)

from . import (
    m0001_initial,
    m0002_disclosures,
    m0003_tlog,
    m0004_epcis,
    m0005_epcis_subscriptions,
    m0006_custodial,
    m0007_epcis_query,
)
from .clock import Clock, to_ms, utc_now
from .engine import RetryPolicy, run_transaction
from .errors import SchemaVersionError

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "applied_versions", "migrate"]

# Arbitrary constant key for pg_advisory_xact_lock: "vntrace migrations".
_PG_LOCK_KEY = 0x766E_7472_6D67

_meta = MetaData()
schema_migrations = Table(
    "schema_migrations",
    _meta,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(m0001_initial.VERSION, m0001_initial.NAME, m0001_initial.apply),
    Migration(m0002_disclosures.VERSION, m0002_disclosures.NAME, m0002_disclosures.apply),
    Migration(m0003_tlog.VERSION, m0003_tlog.NAME, m0003_tlog.apply),
    Migration(m0004_epcis.VERSION, m0004_epcis.NAME, m0004_epcis.apply),
    Migration(
        m0005_epcis_subscriptions.VERSION,
        m0005_epcis_subscriptions.NAME,
        m0005_epcis_subscriptions.apply,
    ),
    Migration(m0006_custodial.VERSION, m0006_custodial.NAME, m0006_custodial.apply),
    Migration(m0007_epcis_query.VERSION, m0007_epcis_query.NAME, m0007_epcis_query.apply),
)
LATEST_VERSION = MIGRATIONS[-1].version


def applied_versions(conn: Connection) -> list[int]:
    """Versions recorded in ``schema_migrations`` (empty when the table is missing)."""
    if not conn.dialect.has_table(conn, schema_migrations.name):
        return []
    return list(conn.scalars(select(schema_migrations.c.version).order_by("version")))


def _check_known(applied: Sequence[int], known: Sequence[Migration]) -> None:
    versions = [m.version for m in known]
    if list(applied) != versions[: len(applied)]:
        newest = max(applied)
        if newest > versions[-1]:
            raise SchemaVersionError(
                f"database schema version {newest} is newer than this code "
                f"(knows up to {versions[-1]}); upgrade vntrace"
            )
        raise SchemaVersionError(
            f"unknown migration history {list(applied)}; expected a prefix of {versions}"
        )


def migrate(
    engine: Engine,
    *,
    migrations: Sequence[Migration] = MIGRATIONS,
    clock: Clock = utc_now,
    retry: RetryPolicy | None = None,
) -> list[int]:
    """Bring the database to the newest known version; return the versions applied now."""
    retry = retry or RetryPolicy()
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError("migrations must be numbered 1, 2, 3, ... in order")

    def current(conn: Connection) -> list[int]:
        applied = applied_versions(conn)
        _check_known(applied, migrations)
        return applied

    # Fast path in a read transaction: an up-to-date database needs no write lock.
    if run_transaction(engine, current, write=False, retry=retry, what="migrate") == versions:
        return []

    def bootstrap(conn: Connection) -> list[int]:
        _lock(conn)
        schema_migrations.create(conn, checkfirst=True)
        applied = applied_versions(conn)
        _check_known(applied, migrations)
        return applied

    run_transaction(engine, bootstrap, write=True, retry=retry, what="migrate")
    done: list[int] = []
    for m in migrations:

        def step(conn: Connection, m: Migration = m) -> bool:
            _lock(conn)
            applied = applied_versions(conn)  # again: another process may have raced us
            _check_known(applied, migrations)
            if m.version in applied:
                return False
            m.apply(conn)
            conn.execute(
                insert(schema_migrations).values(
                    version=m.version, name=m.name, applied_at=to_ms(clock())
                )
            )
            return True

        if run_transaction(engine, step, write=True, retry=retry, what=f"migration {m.version}"):
            done.append(m.version)
    return done


def _lock(conn: Connection) -> None:
    """Serialise migrators. SQLite: the write transaction (BEGIN IMMEDIATE) already is."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
