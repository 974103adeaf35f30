"""The chain host: the embedded chain served to the node's own workers, and only to them."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vntrace.node.chain import ConfigurationError, EmbeddedChain
from vntrace.node.chain.host import ChainHost, token_path
from vntrace.node.chain.hosted import HostedChain


@pytest.fixture
def host(tmp_path: Path) -> Iterator[ChainHost]:
    chain = EmbeddedChain(tmp_path / "node", durable=False)
    host = ChainHost(chain, tmp_path / "node").start()
    try:
        yield host
    finally:
        host.stop()
        chain.close()


def call(host: ChainHost, path: str, payload: object, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(host.url + path, json=payload, headers=headers)


def test_only_the_token_holder_is_answered(host: ChainHost) -> None:
    ask = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    assert call(host, "/internal", ask, None).status_code == 401
    assert call(host, "/internal", ask, "x" + host.token).status_code == 401
    assert call(host, "/public", ask, host.token[:-1]).status_code == 401
    ok = call(host, "/internal", ask, host.token)
    assert ok.status_code == 200 and ok.json()["result"] == hex(host.chain.chain_id)
    assert host.url.startswith("http://127.0.0.1:")


def test_token_file_is_private_and_goes_with_the_host(tmp_path: Path, host: ChainHost) -> None:
    path = token_path(tmp_path / "node")
    assert path.read_text() == host.token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    host.stop()
    assert not path.exists()


def test_public_path_refuses_writes_internal_path_takes_them(host: ChainHost) -> None:
    send = {"jsonrpc": "2.0", "id": 7, "method": "eth_sendRawTransaction", "params": ["0x00"]}
    public = call(host, "/public", send, host.token).json()
    assert public["id"] == 7 and public["error"]["code"] == -32601
    internal = call(host, "/internal", send, host.token).json()
    # Reaches the chain, which finds the transaction malformed (not "method not found").
    assert internal["id"] == 7 and internal["error"]["code"] != -32601


def test_bad_requests_get_json_rpc_errors(host: ChainHost) -> None:
    headers = {"Authorization": f"Bearer {host.token}", "Content-Type": "application/json"}
    r = httpx.post(host.url + "/internal", content=b"{not json", headers=headers)
    assert r.json()["error"]["code"] == -32700
    r = call(host, "/internal", {"method": 5}, host.token)
    assert r.json()["error"]["code"] == -32600
    r = call(host, "/internal", {"method": "eth_chainId", "params": {}}, host.token)
    assert r.json()["error"]["code"] == -32602
    assert call(host, "/elsewhere", {}, host.token).status_code == 404


def test_a_worker_sees_the_holders_chain(tmp_path: Path, host: ChainHost) -> None:
    worker = HostedChain(tmp_path / "node", host.url)
    try:
        assert worker.kind == "embedded"
        assert worker.registry_address == host.chain.registry_address
        assert worker.operator_address == host.chain.operator_address
        assert worker.is_anchorer(worker.operator_address)
        answer = worker.handle_jsonrpc({"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber"})
        assert answer["result"] == hex(host.chain.block_number())
    finally:
        worker.close()


def test_a_worker_without_a_running_host_says_so(tmp_path: Path) -> None:
    chain = EmbeddedChain(tmp_path / "node", durable=False)
    chain.close()
    with pytest.raises(ConfigurationError, match="host-token is missing"):
        HostedChain(tmp_path / "node", "http://127.0.0.1:9")
