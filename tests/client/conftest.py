"""A real node process (``vntrace serve``) for the SDK and CLI tests.

One node serves the session: embedded chain, SQLite in a temporary folder, epochs of
0.2 s so records anchor quickly, no rate limit. Tests make their own producers and
lots, so they do not see each other's writes.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from tests.support.serve import CLI as CLI
from tests.support.serve import clean_env as clean_env
from tests.support.serve import free_port as free_port
from tests.support.serve import spawn, stop, wait_ready
from vntrace.client import Client, ProducerSigner
from vntrace.node.demo import season_events


@dataclass
class Node:
    url: str
    data_dir: Path
    admin_token: str

    @property
    def rpc_url(self) -> str:
        return self.url + "/rpc"

    def admin(self) -> Client:
        return Client(self.url, api_key=self.admin_token)

    def auditor(self, label: str = "customs") -> Client:
        """A client holding a fresh auditor key."""
        with self.admin() as admin:
            token = admin.issue_auditor_key(label=label).token
        assert token is not None
        return Client(self.url, api_key=token)


def start_node(
    data: Path, *, epoch_seconds: float = 0.2, port: int | None = None
) -> tuple[Node, subprocess.Popen[bytes]]:
    """``vntrace serve`` on ``data`` (reused across restarts), ready to take requests."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = clean_env(VNTRACE_EPOCH_SECONDS=str(epoch_seconds), VNTRACE_RATE_LIMIT_PER_SECOND="0")
    proc = spawn(data, port, env)
    try:
        wait_ready(url, proc, data)
    except BaseException:
        stop_node(proc)
        raise
    return Node(url, data, (data / "admin-token").read_text().strip()), proc


def stop_node(proc: subprocess.Popen[bytes]) -> None:
    """Stop a node started by :func:`start_node` (SIGINT, then kill after 30 s)."""
    stop(proc)


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node, proc = start_node(tmp_path_factory.mktemp("client-node"))
    try:
        yield node
    finally:
        stop_node(proc)


@dataclass
class Producer:
    """A registered producer: its key, API key and a client and signer for it."""

    key: str
    address: str
    token: str
    client: Client
    signer: ProducerSigner


def make_producer(node: Node, name: str = "HTX Ea Tu") -> Producer:
    account = Account.create()
    key = "0x" + bytes(account.key).hex()
    with node.admin() as admin:
        admin.register_producer(account.address, name)
        token = admin.issue_api_key(account.address, label="tests").token
    assert token is not None
    client = Client(node.url, api_key=token)
    return Producer(key, account.address, token, client, client.signer(key))


@pytest.fixture(scope="session")
def producer(node: Node) -> Iterator[Producer]:
    p = make_producer(node)
    yield p
    p.client.close()


def new_lot() -> str:
    return "T-" + secrets.token_hex(6).upper()


def events(count: int = 6) -> list[dict[str, Any]]:
    """``count`` valid Robusta events (the demo season, repeated as needed)."""
    season = season_events(datetime.now(UTC))
    return [dict(season[i % len(season)]) for i in range(count)]


@dataclass
class AnchoredLot:
    gtin: str
    lot: str
    record_ids: list[str]


def anchored_lot(producer: Producer, count: int = 3) -> AnchoredLot:
    """A new lot with ``count`` events, uploaded and anchored."""
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    signed = producer.signer.sign_many(gtin, lot, events(count))
    written = client.register_lot(gtin, lot, signed)
    client.wait_anchored(written.record_ids, timeout=30)
    return AnchoredLot(gtin, lot, written.record_ids)
