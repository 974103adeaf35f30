"""Store fixtures, parametrised by database URL so the suite can run on PostgreSQL.

Only SQLite runs now. To add PostgreSQL, append a ``"postgresql"`` backend to
``BACKENDS`` whose URL factory creates a fresh, empty database (or schema) per test;
tests that need a SQLite file use the ``sqlite_store`` fixtures instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from vntrace.node.store import Store

from .helpers import World, make_world


def _sqlite_url(tmp_path: Path) -> str:
    return URL.create("sqlite", database=str(tmp_path / "vntrace.db")).render_as_string()


BACKENDS: dict[str, Callable[[Path], str]] = {"sqlite": _sqlite_url}


@pytest.fixture(params=sorted(BACKENDS))
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of each backend."""
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def world(store: Store) -> World:
    return make_world(store)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def sqlite_store(data_dir: Path) -> Iterator[Store]:
    """The embedded default: ``Store.for_data_dir`` (SQLite-only tests)."""
    s = Store.for_data_dir(data_dir)
    try:
        yield s
    finally:
        s.close()
