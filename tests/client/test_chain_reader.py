"""The SDK's JSON-RPC reader: big reads go as batches the server takes, errors say why."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from vntrace.client.chain import MAX_BATCH_CALLS, AsyncChainReader, ChainReader, RpcCall
from vntrace.client.errors import ChainReadError

from .conftest import Node


def test_a_read_over_the_servers_batch_limit_goes_as_several_batches(node: Node) -> None:
    calls = [RpcCall("eth_chainId")] * (2 * MAX_BATCH_CALLS + 50)  # the node takes 100
    with ChainReader(node.rpc_url) as reader:
        answers = reader.execute(calls)
        assert len(answers) == len(calls) and len(set(answers)) == 1
        assert reader._batches  # still batching: the limit was never hit

    async def run() -> list[object]:
        async with AsyncChainReader(node.rpc_url) as reader:
            return await reader.execute(calls)

    assert asyncio.run(run()) == answers


def test_a_gateway_refusal_names_its_status_and_detail() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        problem = {"type": "about:blank", "status": 429, "detail": "slow down: 50 requests/s"}
        return httpx.Response(429, json=problem, headers={"Retry-After": "1"})

    reader = ChainReader("http://node/rpc", transport=httpx.MockTransport(limited))
    with pytest.raises(ChainReadError, match=r"answered HTTP 429: slow down"):
        reader.execute([RpcCall("eth_chainId"), RpcCall("eth_blockNumber")])


def test_a_jsonrpc_error_sent_with_an_http_error_status_is_still_read() -> None:
    def strict(request: httpx.Request) -> httpx.Response:
        body = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}}
        return httpx.Response(400, json=body)

    reader = ChainReader("http://node/rpc", transport=httpx.MockTransport(strict))
    with pytest.raises(ChainReadError, match="no such method"):
        reader.execute([RpcCall("eth_foo")])
