"""One real ``vntrace serve`` (uvicorn over loopback HTTP) for the security suites.

Embedded chain, SQLite in a temporary folder, epochs of 0.2 s, no rate limit. Tests make
their own producers and lots and never assume an empty store.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.reliability.serve import (
    EventSigner,
    HttpProducer,
    ServeProcess,
    register_producer,
)


@dataclass
class Node:
    """The running server, an HTTP client for it, and what producers need to sign."""

    server: ServeProcess
    http: httpx.Client
    info: dict[str, Any]
    signer: EventSigner

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def admin(self) -> dict[str, str]:
        return self.server.admin_headers()

    @property
    def gtin(self) -> str:
        return self.signer.gtin

    def producer(self, name: str = "Coop") -> HttpProducer:
        return register_producer(self.http, self.admin, name)

    def records(self) -> int:
        """How many records the store holds (read by a second connection; WAL)."""
        db = self.server.data_dir / "vntrace.db"
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
            return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])

    def wait_anchored(self, ids: list[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for rid in ids:
            while self.http.get(f"/v1/records/{rid}").json().get("status") != "anchored":
                assert time.monotonic() < deadline, f"{rid} not anchored in {timeout} s"
                time.sleep(0.1)


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    server = ServeProcess(
        tmp_path_factory.mktemp("security") / "node",
        env={"VNTRACE_EPOCH_SECONDS": "0.2", "VNTRACE_RATE_LIMIT_PER_SECOND": "0"},
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            info = http.get("/v1/info").json()
            yield Node(server, http, info, EventSigner(info))
    finally:
        code = server.stop()
        assert code == 0, server.log_tail()
        logged = server.access_statuses()
        assert not [s for s in logged if s >= 500], f"the server answered 5xx: {logged}"
