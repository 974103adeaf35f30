"""Store fixtures, parametrised by backend: every portable test runs on SQLite and PostgreSQL.

``BACKENDS`` maps a backend name to a factory of fresh, empty databases: a SQLite file
in the test's temporary folder, or a new database on the session's PostgreSQL server
(a private throwaway cluster, or ``VNTRACE_TEST_POSTGRES_URL``; see
``tests/support/postgres.py``): a new schema of a shared test database, reached through
the URL's ``search_path`` and dropped after the test (1 ms instead of 250 ms for a new
database, which is what the multi-process tests use). Tests that need the SQLite file
itself (WAL, bytes on disk, file locks) use the ``sqlite_store``/``data_dir`` fixtures.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.support.postgres import PostgresServer, require_server, stop_shared
from vntrace.node.store import Store

from .helpers import World, make_world

UrlFactory = Callable[[pytest.FixtureRequest, Path], str]


def _sqlite_url(_request: pytest.FixtureRequest, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return URL.create("sqlite", database=str(folder / "vntrace.db")).render_as_string()


def _postgres_url(request: pytest.FixtureRequest, _folder: Path) -> str:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_schema("store")
    request.addfinalizer(lambda: server.drop_schema(url))
    return url


BACKENDS: dict[str, UrlFactory] = {"sqlite": _sqlite_url, "postgresql": _postgres_url}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skips, saying why, if none can run here)."""
    yield require_server()
    stop_shared()


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_store_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], str]:
    """Make another empty database of this test's backend (for tests needing two)."""
    counter = itertools.count()
    return lambda: BACKENDS[backend](request, tmp_path / f"db{next(counter)}")


@pytest.fixture
def store_url(new_store_url: Callable[[], str]) -> str:
    """A URL of an empty database of each backend."""
    return new_store_url()


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
