"""A real node on a temporary data folder (embedded chain, SQLite) behind the real app.

One node serves the whole session (opening one costs a second); every test makes its
own producers and lots, so tests do not see each other's writes. Anchoring runs only
when a test calls ``node.anchor_now()``, so statuses are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vntrace.api import create_app
from vntrace.node.config import Settings
from vntrace.node.service import TraceNode

from .helpers import Producer, register_producer, signed_events


@dataclass
class Gateway:
    client: TestClient
    node: TraceNode
    admin: dict[str, str]
    info: dict[str, Any]

    @property
    def gtin(self) -> str:
        return self.info["gtins"][0]

    def producer(self, name: str = "Coop") -> Producer:
        return register_producer(self.client, self.admin, name)

    def events(self, producer: Producer, lot: str, count: int = 3, **kw: Any) -> list[dict]:
        return signed_events(
            self.node.profile, self.info, producer.account, self.gtin, lot, count, **kw
        )

    def lot_with_events(self, producer: Producer, lot: str, count: int = 3) -> dict[str, Any]:
        body = {"gtin": self.gtin, "lot": lot, "events": self.events(producer, lot, count)}
        r = self.client.post("/v1/lots", json=body, headers=producer.headers)
        assert r.status_code == 201, r.text
        return r.json()


def open_gateway(data_dir: Path, **settings: Any) -> Iterator[Gateway]:
    settings.setdefault("rate_limit_per_second", 0)
    app = create_app(Settings(data_dir=data_dir, **settings), start_anchoring=False)
    with TestClient(app) as client:
        token = (data_dir / "admin-token").read_text().strip()
        info = client.get("/v1/info").json()
        yield Gateway(client, app.state.node, {"Authorization": f"Bearer {token}"}, info)


@pytest.fixture(scope="session")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from open_gateway(tmp_path_factory.mktemp("gateway"))


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with tiny limits, to hit each of them cheaply."""
    yield from open_gateway(
        tmp_path_factory.mktemp("small"),
        max_body_bytes=2048,
        max_batch_body_bytes=64 * 1024,
        max_events_per_request=3,
        max_verify_items=3,
    )


@pytest.fixture
def producer(gw: Gateway) -> Producer:
    return gw.producer()
