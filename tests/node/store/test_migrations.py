"""Migrations: from empty, re-run, refusing newer or unknown history, one transaction each."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, inspect, text

from vntrace.node.store import LATEST_VERSION, Migration, SchemaVersionError, Store, migrate
from vntrace.node.store import schema as current
from vntrace.node.store.engine import create_store_engine
from vntrace.node.store.migrations import MIGRATIONS, schema_migrations

TABLES = {t.name for t in current.metadata.sorted_tables}


def _describe(insp, table: str) -> dict[str, object]:
    cols = {
        c["name"]: (c["nullable"], type(c["type"]).__mro__[0].__name__)
        for c in insp.get_columns(table)
    }
    return {
        "columns": cols,
        "pk": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
        "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
        "indexes": sorted(
            (tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)
        ),
        "fks": sorted(
            (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
            for f in insp.get_foreign_keys(table)
        ),
        "checks": sorted(c["name"] for c in insp.get_check_constraints(table)),
    }


def test_migrating_an_empty_database_gives_the_current_schema(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        assert migrate(engine) == [m.version for m in MIGRATIONS]
        assert set(inspect(engine).get_table_names()) == TABLES | {"schema_migrations"}
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version, applied_at FROM schema_migrations")).all()
        assert [v for v, _ in rows] == list(range(1, LATEST_VERSION + 1))
        assert all(applied_at > 0 for _, applied_at in rows)
    finally:
        engine.dispose()


def test_migrated_shape_matches_schema_py(new_store_url: Callable[[], str]) -> None:
    """Drift check: migrations applied from empty == tables created from schema.py."""
    a = create_store_engine(new_store_url())
    b = create_store_engine(new_store_url())
    try:
        migrate(a)
        with b.begin() as conn:
            current.metadata.create_all(conn)
        ia, ib = inspect(a), inspect(b)
        for table in sorted(TABLES):
            assert _describe(ia, table) == _describe(ib, table), table
    finally:
        a.dispose()
        b.dispose()


def test_rerun_is_a_no_op(store_url: str) -> None:
    with Store.open(store_url) as s:
        assert s.schema_version() == LATEST_VERSION
    with Store.open(store_url) as s:
        assert s.schema_version() == LATEST_VERSION
        assert migrate(s.engine) == []
        with s.engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM schema_migrations")).scalar_one()
        assert n == LATEST_VERSION


def _record_version(store_url: str, version: int) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                schema_migrations.insert().values(version=version, name="future", applied_at=0)
            )
    finally:
        engine.dispose()


def test_refuses_a_database_from_a_newer_version(store_url: str) -> None:
    Store.open(store_url).close()
    _record_version(store_url, LATEST_VERSION + 1)
    with pytest.raises(SchemaVersionError, match="newer"):
        Store.open(store_url)


def test_refuses_an_unknown_history(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            schema_migrations.create(conn)
        _record_version(store_url, 2)  # 2 without 1
        with pytest.raises(SchemaVersionError):
            migrate(engine)
    finally:
        engine.dispose()


NEXT = len(MIGRATIONS) + 1


def test_each_migration_is_its_own_transaction(store_url: str) -> None:
    def broken(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE half_done (x INTEGER)"))
        raise RuntimeError("the next migration failed halfway")

    engine = create_store_engine(store_url)
    try:
        with pytest.raises(RuntimeError, match="halfway"):
            migrate(engine, migrations=[*MIGRATIONS, Migration(NEXT, "broken", broken)])
        names = inspect(engine).get_table_names()
        assert "half_done" not in names  # rolled back with its failed migration
        assert set(names) >= TABLES  # the earlier migrations stayed committed
        with engine.connect() as conn:
            version = conn.execute(text("SELECT max(version) FROM schema_migrations")).scalar()
            assert version == NEXT - 1

        def fixed(conn: Connection) -> None:
            conn.execute(text("CREATE TABLE half_done (x INTEGER)"))

        assert migrate(engine, migrations=[*MIGRATIONS, Migration(NEXT, "fixed", fixed)]) == [NEXT]
    finally:
        engine.dispose()


def test_migrations_must_be_numbered_in_order(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with pytest.raises(ValueError):
            migrate(engine, migrations=[Migration(NEXT, "x", lambda c: None)])
    finally:
        engine.dispose()


def test_open_without_migrations_leaves_the_database_empty(store_url: str) -> None:
    with Store.open(store_url, run_migrations=False) as s:
        assert s.schema_version() == 0
