"""Fixtures of the multi-process tests: the session's PostgreSQL server (shared with the
store tests; a private throwaway cluster unless VNTRACE_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer, require_server, stop_shared


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skips, saying why, if none can run here)."""
    yield require_server()
    stop_shared()


@pytest.fixture
def pg_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database (advisory locks are per database, so tests never share one)."""
    url = postgres_server.create_database("multinode")
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1].split("?")[0])
